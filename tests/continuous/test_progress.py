"""Progress of the continuous-SGD engines (issue 12 §2): every engine reports ``(done, total)``
SGD steps every few hundred steps through :class:`mcsgd.continuous.sgd.Ticker`, ends at
``(total, total)``, and the results do not depend on whether anyone listens."""

from __future__ import annotations

import io

import numpy as np
import pytest

from mcsgd.continuous.sgd import PROGRESS_EVERY, Ticker
from mcsgd.experiments.continuous import run_task
from mcsgd.progress import Progress, configure

# sizes just above PROGRESS_EVERY so that periodic calls happen (each run well under 1 s)
TASKS = {
    "fdr": {"model": "quadratic", "eta": 0.05, "B": 4, "steps": 1200, "chains": 2,
            "eta_scan": [0.05, 0.1]},
    "adaptive": {"eta": 0.1, "B": 4, "steps": 1200, "chains": 2, "min_window": 200},
    "linear-fdt": {"eta": 0.05, "B": 4, "steps": 800, "chains": 2, "grid_B": [2, 4]},
    "ivf": {"noise": "isotropic", "steps": 1000, "chains": 2},
    "escape": {"B": [1, 2], "eta": 0.05, "chains": 4, "max_steps": 1500},
    "occupation": {"B": [1, 2], "eta": 0.01, "steps": 600, "chains": 2},
    "temperature": {"model": "quadratic", "B": [1, 4], "eta": 0.02, "steps": 600, "chains": 2},
}


def test_ticker_reports_every_progress_every_steps_and_the_end():
    calls = []
    t = Ticker(lambda d, n: calls.append((d, n)), 2 * PROGRESS_EVERY + 7)
    for _ in range(2 * PROGRESS_EVERY + 7):
        t.advance()
    t.finish()
    total = 2 * PROGRESS_EVERY + 7
    assert calls == [(PROGRESS_EVERY, total), (2 * PROGRESS_EVERY, total), (total, total)]
    Ticker(None, 10).finish()  # no listener: counts only


class _Calls(Progress):
    """A Progress on a pipe that also records every counter update."""

    def __init__(self):
        super().__init__("continuous", stream=io.StringIO(), interval=0.0)
        self.calls: list[tuple[int, int]] = []

    def update(self, done, total=None):
        self.calls.append((done, total))
        super().update(done, total)


@pytest.fixture
def logging_default():
    yield configure(0)
    configure(0)


@pytest.mark.parametrize("exp", sorted(TASKS))
def test_engine_counts_steps_and_results_do_not_change(exp, logging_default):
    params = {"experiment": exp, **TASKS[exp]}
    plain = run_task(params, 3)
    prog = _Calls()
    prog.stage(f"{exp}: running")
    res = run_task(params, 3, progress=prog)
    # bit-identical with and without a listener
    assert res["scalars"] == plain["scalars"]
    assert res["arrays"].keys() == plain["arrays"].keys()
    for k in plain["arrays"]:
        np.testing.assert_array_equal(res["arrays"][k], plain["arrays"][k])
    calls = prog.calls
    assert len(calls) >= 2, calls  # a periodic call and the end (before: no counter at all)
    done = [d for d, _ in calls]
    # never once per step: at most one call per PROGRESS_EVERY steps (+ the end of each run)
    assert len(calls) <= calls[-1][1] // PROGRESS_EVERY + 8, len(calls)
    assert calls[-1][0] == calls[-1][1]  # ends at (total, total)
    assert all(0 <= d <= n for d, n in calls)
    if exp not in ("fdr", "linear-fdt"):  # one counter; fdr/linear-fdt restart it per phase
        assert done == sorted(done)
    # batch-log form (stderr not a terminal): counter lines "label: done/total (pct%), ..."
    out = prog.stream.getvalue()
    assert f"[continuous] {exp}: running: " in out and "(100%)" in out, out
