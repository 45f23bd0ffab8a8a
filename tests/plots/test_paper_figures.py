"""Figures for a paper (issue 12, section 5): ``ax=``, size and style options applied locally,
PDF/SVG by extension (also through ``--plot``), run sizes annotated, relaxation plots with a
sequential colormap over B, error bands, a residual panel and the legend outside the data,
flagged calibration points hollow grey with the reason in the legend, and the FDR figure
against the exact discrete-η value.

Each test fails on the code before this change (no ``ax``/``style``/``figsize`` keywords, no
annotation, no residual panel, no flags, the FDR bar against the continuum value).
"""

from __future__ import annotations

import json
import struct
import types

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import matplotlib  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mcsgd import plots  # noqa: E402
from mcsgd.errors import ParameterError  # noqa: E402

PDF_MAGIC, PNG_MAGIC = b"%PDF-", b"\x89PNG\r\n\x1a\n"


def _cal(flags: bool = True) -> types.SimpleNamespace:
    """A calibration as the plots read it; B = 0.6 and 0.8 flagged, 0.8 has no T_neq."""
    table = {"B": [0.4, 0.6, 0.8], "T0": [1.958, 1.09, 0.621], "T_eq": [2.1, 1.2, 0.7],
             "T_eq_err": [0.1, 0.05, 0.05], "T_neq": [2.2, 1.3, None],
             "T_neq_err": [0.1, 0.1, None]}
    if flags:
        table["flags"] = [[], ["nonstationary"], ["nonstationary", "init_disagree"]]
    return types.SimpleNamespace(
        params={"problem": {"problem": "coloring", "c": 3.0, "q": 3, "graph": "er", "n": 100},
                "instances": 4, "replicas": 2, "sweeps": 200},
        table=table, times=np.array([0, 1, 2, 4, 8, 16]), T_grid=np.array([0.5, 1.0, 2.0, 4.0]),
        curves_mc=np.linspace(1.5, 0.1, 24).reshape(4, 6),
        curves_sgd=np.linspace(1.4, 0.2, 18).reshape(3, 6))


_ROWS = [{"c": 5.0, "B": b, "success_probability": 0.5, "success_ci": [0.2, 0.8],
          "t_rec_median": 12.0, "t_rec_q25": 8.0, "t_rec_q75": 20.0} for b in (0.3, 0.6)]
_REC_PARAMS = {"n": 1000, "q": 5, "instances": 2, "replicas": 3, "sweeps": 50}
_MAP = {
    "params": {"spec": {"problem": {"q": 5}, "experiment": {"n": 20000, "instances": 4,
                                                            "replicas": 2, "sweeps": 9000},
                        "quick": {"n": 2000, "sweeps": 300}}, "quick": True},
    "sgd": [{"c": c, "B": b, "success_probability": 0.5} for c in (4.0, 6.0) for b in (0.2, 0.8)],
    "summary": [{"c": 4.0, "B_window_from_T_adb": [0.2, 0.6],
                 "B_window_from_T_eq": [0.3, None], "B_best": 0.2}],
    "c_KS": 5.0, "bp": [{"c": 4.0, "overlap": 0.1}], "annealing": [],
}
_FDR = {"params": {"experiment": "fdr", "model": "quadratic", "eta": 0.05, "B": 4,
                   "steps": 400, "chains": 4, "dim": 12},
        "scalars": {"fdr2_probe": 4.27, "fdr2_probe_err": 0.02, "fdr2_exact": 4.03,
                    "fdr2_exact_discrete": 4.29},
        "arrays": {"checkpoint_steps": np.array([10, 100, 400]),
                   "ratio_history": np.array([1.2, 1.05, 1.0]),
                   "ratio_uncentred_history": np.array([1.3, 1.1, 1.02])}}

DRAW = {
    "tb": (lambda **kw: plots.plot_tb([_cal()], **kw), 2),
    "relaxation": (lambda **kw: plots.plot_relaxation(_cal(), **kw), 2),
    "recovery": (lambda **kw: plots.plot_recovery(_ROWS, params=_REC_PARAMS, **kw), 2),
    "recovery_map": (lambda **kw: plots.plot_recovery_map(_MAP, **kw), 2),
    "fdr": (lambda **kw: plots.plot_result(_FDR, **kw), 2),
}


def _texts(fig: Figure) -> str:
    from matplotlib.text import Text

    return "\n".join(t.get_text() for t in fig.findobj(Text))


def _drawn(ax) -> int:
    return len(ax.lines) + len(ax.collections) + len(ax.patches)


@pytest.mark.parametrize("name", list(DRAW))
def test_ax_draws_into_the_given_axes(name):
    draw, n = DRAW[name]
    fig = Figure()
    mine = fig.subplots(1, n + 1)  # one spare Axes that must stay empty
    assert draw(ax=mine[0]) is fig
    assert _drawn(mine[0]) > 0
    assert all(_drawn(a) == 0 for a in mine[1:])
    assert draw(ax=list(mine[1:])) is fig  # one Axes per panel: every panel drawn
    assert all(_drawn(a) > 0 for a in mine[1:])
    with pytest.raises(ParameterError, match="panel"):
        draw(ax=list(mine) + list(mine))


@pytest.mark.parametrize("name", list(DRAW))
def test_png_by_extension_with_size_and_dpi(tmp_path, name):
    """figsize and dpi decide the PNG's pixels (PDF and SVG of the discrete figures:
    test_plots.py; of the continuous ones: the CLI test below)."""
    draw, _ = DRAW[name]
    png = tmp_path / "f.png"
    fig = draw(path=str(png), figsize=(4.0, 3.0), dpi=50)
    head = png.read_bytes()
    assert head[:8] == PNG_MAGIC
    assert struct.unpack(">II", head[16:24]) == (200, 150)
    assert tuple(fig.get_size_inches()) == (4.0, 3.0)


@pytest.mark.parametrize("name", list(DRAW))
def test_style_applies_to_this_figure_only(name):
    draw, _ = DRAW[name]
    before = dict(matplotlib.rcParams)
    fig = draw(style={"axes.labelsize": 3.5, "lines.linewidth": 7.0})
    assert dict(matplotlib.rcParams) == before
    sizes = {a.yaxis.label.get_fontsize() for a in fig.axes if a.get_ylabel()}
    assert 3.5 in sizes
    with pytest.raises(ParameterError, match="style"):
        draw(style="no-such-style")


@pytest.mark.parametrize("name, expect", [
    ("tb", ["N = 100", "q = 3", "4 instances × 2 replicas", "200 sweeps"]),
    ("relaxation", ["N = 100", "q = 3", "4 instances × 2 replicas", "200 sweeps"]),
    ("recovery", ["N = 1000", "q = 5", "2 instances × 3 replicas", "50 sweeps"]),
    ("recovery_map", ["N = 2000", "q = 5", "4 instances × 2 replicas", "300 sweeps"]),
    ("fdr", ["4 chains", "400 steps"]),
])
def test_annotation_names_the_run_sizes(name, expect):
    text = _texts(DRAW[name][0]())
    for e in expect:
        assert e in text


def test_relaxation_residual_panel_bands_colormap_and_outside_legend():
    from scipy.interpolate import PchipInterpolator

    cal = _cal(flags=False)
    fig = plots.plot_relaxation(cal)
    main, resid = fig.axes[:2]
    assert resid.get_ylabel() == "e_SGD − e_MC"
    # residual of B = 0.4 is e_SGD - e_MC(T_neq) on t >= 1 (B = 0.8 has no T_neq: no residual)
    want = (cal.curves_sgd[0] - PchipInterpolator(cal.T_grid, cal.curves_mc, axis=0)(2.2))[1:]
    res = [ln.get_ydata() for ln in resid.lines if len(ln.get_ydata()) == 5]
    assert len(res) == 2 and np.allclose(res[0], want)
    # error bands: one per B with a T_neq, in both panels
    assert len(main.collections) == 2 and len(resid.collections) == 2
    # sequential colormap over B: the SGD markers take viridis(norm(B)), low B darkest
    cm = matplotlib.colormaps["viridis"]
    marks = [ln for ln in main.lines if ln.get_linestyle() == "None"]
    cols = [matplotlib.colors.to_rgba(ln.get_color()) for ln in marks]
    assert np.allclose(cols[0], cm(0.0)) and np.allclose(cols[-1], cm(1.0))
    # a colour bar labelled B, and the legend outside every data panel
    assert any("B" in a.get_ylabel() for a in fig.axes if a not in (main, resid))
    fig.draw_without_rendering()
    legend = fig.legends[0].get_window_extent()
    for a in (main, resid):
        assert not legend.overlaps(a.get_window_extent())


def test_flagged_calibration_points_hollow_grey_with_reason():
    fig = plots.plot_tb([_cal()])
    ax = fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    by_label = dict(zip(labels, handles, strict=True))
    assert "flagged: nonstationary" in by_label
    assert "flagged: nonstationary, init_disagree" in by_label
    for lab in ("flagged: nonstationary", "flagged: nonstationary, init_disagree"):
        line = by_label[lab].lines[0]
        assert line.get_markerfacecolor() == "none"
        assert matplotlib.colors.to_hex(line.get_color()) == matplotlib.colors.to_hex("0.6")
    ok = by_label["T_eq (c = 3)"].lines[0]  # the unflagged row stays filled and coloured
    assert ok.get_markerfacecolor() != "none" and list(ok.get_xdata()) == [0.4]
    # without the key nothing is flagged (calibrations written before flags existed)
    _, labels = plots.plot_tb([_cal(flags=False)]).axes[0].get_legend_handles_labels()
    assert not any(lab.startswith("flagged") for lab in labels)
    # relaxation: flagged B drawn hollow with the reason in the legend
    leg = plots.plot_relaxation(_cal()).legends[0]
    assert any("B = 0.6 flagged: nonstationary" == t.get_text() for t in leg.get_texts())


def test_fdr_figure_compares_with_the_exact_discrete_value():
    fig = plots.plot_result(_FDR)
    bars = [p.get_height() for p in fig.axes[1].patches]
    assert bars == pytest.approx([4.27, 4.29])  # not the continuum 4.03
    assert "exact" in fig.axes[1].get_xticklabels()[1].get_text()
    scan = {**_FDR, "scalars": {**_FDR["scalars"], "eta_scan": {
        "rows": [{"eta": e, "fdr2_probe": 4.0 + e, "fdr2_probe_err": 0.02}
                 for e in (0.02, 0.05, 0.1)], "fdr2_exact": 4.03, "fdr2_intercept": 4.0}}}
    ax2 = plots.plot_result(scan).axes[1]
    pts = {(float(ln.get_xdata()[0]), float(ln.get_ydata()[0])) for ln in ax2.lines
           if len(ln.get_xdata()) == 1}
    assert (0.05, 4.29) in pts


@pytest.mark.parametrize("ext, magic", [(".pdf", PDF_MAGIC), (".svg", b"<?xml")])
def test_cli_plot_format_from_extension(tmp_path, capsys, ext, magic):
    from mcsgd.cli import main

    out = tmp_path / f"fdr{ext}"
    assert main(["continuous", "fdr", "--model", "quadratic", "--eta", "0.05", "--B", "4",
                 "--steps", "400", "--chains", "4", "--json", "--plot", str(out)]) == 0
    assert "fdr2_exact_discrete" in json.loads(capsys.readouterr().out)
    data = out.read_bytes()
    assert data[:len(magic)] == magic
    assert data.rstrip().endswith(b"%%EOF" if ext == ".pdf" else b"</svg>")


def test_describe_singular_counts():
    """One instance or one replica reads "1 instance" / "1 replica" (the paper-scale figure
    said "4 instances × 1 replicas")."""
    from mcsgd.plots._figure import describe

    text = describe({"instances": 4, "replicas": 1, "sweeps": 9}) + ","
    assert "4 instances × 1 replica," in text
    assert "1 instance × 2 replicas" in describe({"instances": 1, "replicas": 2})
