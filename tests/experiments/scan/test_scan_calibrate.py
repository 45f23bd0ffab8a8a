"""Scans of calibrations (``experiment = "calibrate"``, issue 12 §4).

What must be equal: the result file of a calibration task holds, bit for bit, every table
column, the Metropolis grid (T, energy, energy_err), the recording times and both relaxation
curves of :func:`mcsgd.experiments.calibrate.calibrate` -- the function ``mcsgd calibrate``
runs -- called with the same problem, B list, instances, replicas, sweeps, mode, window,
grid points and seed = the scan's root seed, with the run streams of the task's key
``(SCAN, h1, h2)`` (where ``mcsgd calibrate`` uses ``(CALIBRATION,)``); its instances are
those of ``mcsgd calibrate --seed ROOT`` (same graphs). This holds also for a task that
failed (a killed worker) and was re-run, and a re-run recomputes only the unfinished tasks.
Fails before this feature (``experiment = "calibrate"`` was refused by the loader).
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from mcsgd.dynamics import SGD
from mcsgd.errors import ParameterError
from mcsgd.experiments.calibrate import Calibration, Problem, calibrate
from mcsgd.experiments.scan import run_scan, spec_from_text, status
from mcsgd.experiments.scan import task as task_mod
from mcsgd.experiments.scan.collect import gather
from mcsgd.seeds import SCAN
from mcsgd.storage.scan import result_path, write_summary

SPEC = """
name = "tb"
experiment = "calibrate"
seed = 5
instances = 2
out = "{out}"

[instance]
problem = "coloring"
n = 60
q = 3
c = [4, 6]

[calibrate]
B = [0.8]
replicas = 2
sweeps = 30
grid_points = 8
mode = "equilibrium"

[execution]
workers = 1
"""
_REAL = task_mod.calibrate_task


def _same_calibration(a: Calibration, b: Calibration) -> None:
    assert sorted(a.table) == sorted(b.table)
    for k in a.table:
        x = np.array([np.nan if v is None else v for v in a.table[k]], dtype=float)
        y = np.array([np.nan if v is None else v for v in b.table[k]], dtype=float)
        assert x.tobytes() == y.tobytes(), k
    for k in ("T_grid", "e_mc", "e_mc_err", "times", "curves_sgd", "curves_mc"):
        x, y = np.asarray(getattr(a, k)), np.asarray(getattr(b, k))
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), k


@pytest.mark.filterwarnings("ignore::mcsgd.errors.DisorderErrorWarning")
def test_calibrate_scan_resumes_and_equals_calibrate(tmp_path, monkeypatch):
    spec = spec_from_text(SPEC.format(out=tmp_path / "out"), path=str(tmp_path / "s.toml"))
    assert [t.kind for t in spec.tasks] == ["calibrate", "calibrate"]
    killed = spec.tasks[1].id

    def dies(task, threads=None, layout="auto"):  # the worker of the second task is killed
        if task.id == killed:
            raise RuntimeError("killed (test)")
        return _REAL(task, threads, layout)

    monkeypatch.setattr(task_mod, "calibrate_task", dies)
    run_scan(spec, quiet=True)
    st = status(spec.out)["counts"]
    assert st["done"] == 1 and st["failed"] == 1
    calls: list[str] = []

    def counting(task, threads=None, layout="auto"):
        calls.append(task.id)
        return _REAL(task, threads, layout)

    monkeypatch.setattr(task_mod, "calibrate_task", counting)
    run_scan(spec, quiet=True)
    assert calls == [killed]  # the finished task is not recomputed
    assert status(spec.out)["counts"]["done"] == 2
    for t, c in zip(spec.tasks, (4.0, 6.0), strict=True):
        assert t.key[0] == SCAN
        prob = Problem(problem="coloring", n=60, q=3, c=c, graph="er")
        ref = calibrate(prob, [SGD(0.8)], instances=2, replicas=2, sweeps=30, seed=5,
                        mode="equilibrium", window=0.5, grid_points=8, key=tuple(t.key))
        got = Calibration.load(result_path(spec.out, t.id))
        _same_calibration(got, ref)
        assert got.params == ref.params
        # the instances are those of mcsgd calibrate --seed 5 (and mcsgd generate)
        from mcsgd import problems
        for k in range(2):
            g = problems.from_params({"problem": "coloring", "n": 60, "q": 3, "c": c}, 5, k)
            assert np.array_equal(prob.generate(5, k).indices, g.indices)
    # collect: one row per task, per-B columns as JSON lists, the curves as series
    data = gather(spec.out)
    write_summary(data, tmp_path / "sum.h5")
    with h5py.File(tmp_path / "sum.h5", "r") as f:
        assert [x.decode() for x in f["table/experiment"][()]] == ["calibrate"] * 2
        assert f["table/instance.c"][()].tolist() == [4.0, 6.0]
        t0 = spec.tasks[0].id
        ref = Calibration.load(result_path(spec.out, t0))
        assert f[f"series/{t0}/table_T_eq"][()].tobytes() == \
            np.array(ref.table["T_eq"], dtype=float).tobytes()
        assert f[f"series/{t0}/relaxation_sgd"][()].tobytes() == ref.curves_sgd.tobytes()


def test_b_sets_sweep_as_lists_of_lists(tmp_path):
    text = SPEC.format(out=tmp_path / "o").replace("B = [0.8]", "B = [[0.6, 0.9], [1.0]]")
    spec = spec_from_text(text)
    assert [t.params["calibrate"]["B"] for t in spec.tasks] == [[0.6, 0.9], [1.0]] * 2
    assert len({t.key for t in spec.tasks}) == 4  # independent streams per task


@pytest.mark.parametrize("edit, message", [
    (("B = [0.8]", "B = [0.6, 1.5]"), "calibrate.B[1]: 1.5 is not in (0, 1]"),
    (("B = [0.8]", "window = 0.5"), "calibrate.B: missing"),
    (("sweeps = 30", "sweeps = 2"), "calibrate.sweeps: 2 is not in [4, inf)"),
    (('mode = "equilibrium"', "mode = 'fast'"), "calibrate.mode: 'fast'"),
    (("sweeps = 30", "T_grid = []"), "calibrate.T_grid: must be 'auto' or a non-empty list"),
    (("sweeps = 30", "bogus = 1"), "calibrate.bogus: unknown key"),
    (("replicas = 2", "replicas = 1"), None),
    (("[calibrate]", "[[dynamics]]\ndynamics = 'sgd'\nB = 0.5\n[calibrate]"),
     "dynamics: not used with experiment = 'calibrate'"),
    (('experiment = "calibrate"', 'experiment = "discrete"'),
     "calibrate: only with experiment = 'calibrate'"),
    (("q = 3", "q = 3\nfoo = 1"), "instance.foo: unknown key"),
    (("[execution]", "layout = 'diagonal'\n[execution]"),
     "calibrate.layout: 'diagonal' is not one of 'auto', 'scalar', 'lanes'"),
])
def test_calibrate_scan_errors_name_their_place(tmp_path, edit, message):
    a, b = edit
    text = SPEC.format(out=tmp_path / "o").replace(a, b)
    if message is None:  # instances x replicas = 1 x 1
        text = text.replace("instances = 2", "instances = 1")
        message = "calibrate.replicas: instances x replicas must be >= 2"
    with pytest.raises(ParameterError) as e:
        spec_from_text(text)
    assert message in str(e.value)


def test_mcsgd_calibrate_streams_are_unchanged():
    """``calibrate`` without ``key`` keeps the ``(CALIBRATION, k, role, j)`` streams (the
    golden check pins the numbers of ``mcsgd calibrate``; this pins the default)."""
    import inspect

    from mcsgd.seeds import CALIBRATION

    assert inspect.signature(calibrate).parameters["key"].default == (CALIBRATION,)


def test_example_of_a_calibrate_scan_prints_and_validates(tmp_path, capsys):
    from mcsgd.cli import main
    from mcsgd.experiments.scan import load_spec
    from mcsgd.experiments.scan.spec import CALIBRATE_DEFAULTS

    assert main(["scan", "example", "--experiment", "calibrate"]) == 0
    text = capsys.readouterr().out
    for key in CALIBRATE_DEFAULTS:  # every [calibrate] key is documented
        assert f"\n{key} = " in text
    (tmp_path / "c.toml").write_text(text)
    spec = load_spec(tmp_path / "c.toml")
    assert [t.kind for t in spec.tasks] == ["calibrate"] * 2


@pytest.mark.filterwarnings("ignore::mcsgd.errors.DisorderErrorWarning")
def test_calibrate_layout_keeps_the_tasks_and_their_results(tmp_path):
    """``layout`` in [calibrate] changes how the runs advance, not the tasks (ids, keys,
    parameters) nor their calibrations."""
    text = SPEC.format(out=tmp_path / "{d}").replace("c = [4, 6]", "c = 4")
    base = spec_from_text(text.replace("{d}", "auto"))
    got = {}
    for layout in ("scalar", "lanes"):
        spec = spec_from_text(text.replace("{d}", layout).replace(
            "[execution]", f'layout = "{layout}"\n[execution]'))
        assert spec.layout == layout
        assert [(t.id, t.key, t.params) for t in spec.tasks] == \
            [(t.id, t.key, t.params) for t in base.tasks]
        run_scan(spec, quiet=True)
        got[layout] = Calibration.load(result_path(spec.out, spec.tasks[0].id))
    _same_calibration(got["scalar"], got["lanes"])
