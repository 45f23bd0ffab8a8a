"""mcsgd.plots: one convention (object-oriented Figure, no pyplot state, no global backend),
every plot function returns its Figure and writes it when given a path (format by extension).

The figures themselves are drawn end to end by the CLI tests (calibrate, recover, continuous
--plot); here the convention, on small hand-made inputs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

from mcsgd import plots  # noqa: E402

# A calibration result as plot_tb / plot_relaxation read it (duck-typed: no experiments import)
_CAL = textwrap.dedent("""
    import types
    import numpy as np
    cal = types.SimpleNamespace(
        params={"problem": {"problem": "coloring", "c": 3.0, "q": 3, "graph": "er", "n": 100}},
        table={"B": [0.4, 0.8], "T0": [1.958, 0.621], "T_eq": [2.1, 0.7],
               "T_eq_err": [0.1, 0.05], "T_neq": [2.2, None], "T_neq_err": [0.1, None]},
        times=np.array([0, 1, 2, 4, 8]), T_grid=np.array([0.5, 1.0, 2.0, 4.0]),
        curves_mc=np.linspace(1.5, 0.1, 20).reshape(4, 5),
        curves_sgd=np.linspace(1.4, 0.2, 10).reshape(2, 5))
""")
_ROWS = [
    {"c": 5.0, "B": 0.3, "success_probability": 0.5, "success_ci": [0.2, 0.8],
     "t_rec_median": 12.0, "t_rec_q25": 8.0, "t_rec_q75": 20.0},
    {"c": 5.0, "B": 0.6, "success_probability": 1.0, "success_ci": [0.7, 1.0],
     "t_rec_median": 30.0, "t_rec_q25": 25.0, "t_rec_q75": 40.0},
]
_MAP = {
    "sgd": [{"c": c, "B": b, "success_probability": 0.5} for c in (4.0, 6.0) for b in (0.2, 0.8)],
    "summary": [{"c": 4.0, "B_window_from_T_adb": [0.2, 0.6],
                 "B_window_from_T_eq": [0.3, None], "B_best": 0.2}],
    "c_KS": 5.0, "bp": [{"c": 4.0, "overlap": 0.1}], "annealing": [],
}


def _cal():
    ns: dict = {}
    exec(_CAL, ns)
    return ns["cal"]


@pytest.mark.parametrize("draw", [
    lambda p: plots.plot_tb([_cal()], p),
    lambda p: plots.plot_relaxation(_cal(), p),
    lambda p: plots.plot_recovery(_ROWS, p),
    lambda p: plots.plot_recovery_map(_MAP, p),
], ids=["tb", "relaxation", "recovery", "recovery_map"])
def test_plot_returns_figure_and_writes_format_by_extension(tmp_path, draw):
    """Fails before the one-convention redesign: the functions returned None, needed a path."""
    assert isinstance(draw(None), Figure)
    assert list(tmp_path.iterdir()) == []
    svg, pdf = tmp_path / "f.svg", tmp_path / "f.pdf"
    assert isinstance(draw(str(svg)), Figure)
    assert isinstance(draw(str(pdf)), Figure)
    assert b"<svg" in svg.read_bytes()[:1000]
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_plots_use_no_pyplot_no_backend_and_no_experiments():
    """Drawing every figure loads neither pyplot nor mcsgd.experiments, and leaves the backend
    alone. Fails before: the discrete figures went through pyplot after matplotlib.use("Agg"),
    and plot_tb imported experiments.calibrate.Problem."""
    code = _CAL + textwrap.dedent(f"""
        import sys
        import matplotlib
        matplotlib.rcParams["backend"] = "svg"
        from mcsgd import plots
        plots.plot_tb([cal])
        plots.plot_relaxation(cal)
        plots.plot_recovery({_ROWS!r})
        plots.plot_recovery_map({_MAP!r})
        print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules,
              any(m.startswith("mcsgd.experiments") for m in sys.modules))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert out == ["svg", "False", "False"]


def test_relaxation_draws_error_bands():
    """With curves_sgd_err every B gets a shaded ±1 s.e. band around its SGD markers, with
    curves_mc_err every drawn Metropolis line (T_neq inside the grid: B = 0.4 only) a hatched
    band, and the legend names both. Fails before: the SGD errors were error bars, the
    Metropolis errors were not drawn."""
    from matplotlib.collections import PolyCollection

    cal = _cal()
    cal.curves_sgd_err = np.full((2, 5), 0.01)
    cal.curves_mc_err = np.full((4, 5), 0.02)
    fig = plots.plot_relaxation(cal)
    polys = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    assert sum(c.get_gid() == "sgd_err" for c in polys) == 2
    assert sum(c.get_gid() == "mc_err" for c in polys) == 1
    labels = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert "SGD ± 1 s.e." in labels and "Metropolis ± 1 s.e." in labels
    # without the attributes (older files): no bands, no legend entries
    fig = plots.plot_relaxation(_cal())
    assert not any(c.get_gid() in ("sgd_err", "mc_err") for c in fig.axes[0].collections)


def test_face_exports_the_plot_functions():
    for name in ("plot_tb", "plot_relaxation", "plot_recovery", "plot_recovery_map",
                 "plot_result", "require_matplotlib"):
        assert callable(getattr(plots, name))
    assert plots.require_matplotlib() is Figure
    assert np.isnan(plots._figure.nan_array([None, 1.0])[0])
