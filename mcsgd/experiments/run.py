"""One run of one dynamics on an instance file (``mcsgd run``), callable from Python.

:func:`run_instance_file` validates the values, checks the output path and the memory, loads
the instance, runs the chains through :func:`mcsgd.driver.run` and writes the result; printing
is left to the caller.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcsgd.driver import RunResult
    from mcsgd.dynamics import SGD, Metropolis


def run_instance_file(instance_path: str, dynamics: Metropolis | SGD, *, sweeps: int,
                      replicas: int = 1, seed: int = 0, init: str = "random",
                      grid: str = "log", grid_points: int = 40, window: float = 0.5,
                      threads: int | None = None, output: str | None = None,
                      force: bool = False,
                      progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run ``dynamics`` on the instance in ``instance_path``; write ``output`` if given.

    Every value is checked (:class:`~mcsgd.errors.ParameterError`) before the output path
    (``force`` lets it replace a file that is not a previous run) and the memory; ``progress``
    is called as ``progress(done_sweeps, total_sweeps)``. The result's ``params`` name the
    absolute instance path (``instance_file``).
    """
    from mcsgd import problems
    from mcsgd.driver import run
    from mcsgd.errors import check_range
    from mcsgd.resources import check_run_memory
    from mcsgd.storage.paths import check_output

    check_range("sweeps", sweeps, 1, None, integer=True)
    check_range("replicas", replicas, 1, None, integer=True)
    check_range("seed", seed, 0, None, integer=True)
    check_range("window", window, 0, 1, hi_open=True)
    check_range("grid-points", grid_points, 1, None, integer=True)
    if threads is not None:
        check_range("threads", threads, 1, None, integer=True)
    check_output(output, option="-o", mcsgd_kind="run", inputs=[instance_path], force=force)
    inst = problems.load(instance_path)
    check_run_memory(inst.n, inst.m, replicas, grid_points, dynamics.name == "sgd")
    res = run(inst, dynamics, sweeps=sweeps, replicas=replicas, seed=seed, init=init,
              grid=grid, grid_points=grid_points, window=window, threads=threads,
              progress=progress)
    res.params["instance_file"] = os.path.abspath(instance_path)
    if output:
        res.save(output)
    return res


# per-replica final overlaps are shown when they spread over more than this (e.g. a bimodal set:
# some replicas recovered the planted solution, some did not)
OVERLAP_SPREAD = 0.1


def run_summary(res: RunResult) -> dict[str, Any]:
    """The JSON object of ``mcsgd run --json``: :meth:`RunResult.summary` plus
    ``stationary.replica_overlaps`` (each replica's final overlap; planted instances) and
    ``stationary.overlaps_disagree`` (their spread max - min exceeds :data:`OVERLAP_SPREAD`:
    the mean ``overlap`` then averages distinct outcomes)."""
    summ = res.summary()
    if res.overlap is not None:
        finals = [float(x) for x in res.overlap[:, -1]]
        summ["stationary"]["replica_overlaps"] = finals
        summ["stationary"]["overlaps_disagree"] = bool(
            max(finals) - min(finals) > OVERLAP_SPREAD)
    return summ
