"""Many runs on one instance: every chain that can share a pass runs in lanes.

:func:`run_many` is what experiments call with all the runs they need on one instance (every
B of a calibration, every T of its Metropolis grid, every replica): the runs are grouped by lane
kind (:func:`mcsgd.dynamics.rules.lane_kind`), each group advances in one lane pass
(:class:`~mcsgd.driver.lanes.LaneGroup`) when the layout says so, and each run's
:class:`~mcsgd.driver.result.RunResult` is bit-identical to the one :func:`~mcsgd.driver.loop.run`
returns for it alone (only ``timing`` differs).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from mcsgd._numba import threads_scope
from mcsgd.driver.lanes import LaneGroup, resolve_layout
from mcsgd.driver.loop import LoopState, finish_run, prepare_run, record_loop
from mcsgd.driver.result import RunResult
from mcsgd.dynamics import rules
from mcsgd.dynamics.specs import Dynamics
from mcsgd.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run of :func:`run_many` (arguments as in :func:`mcsgd.driver.run`)."""

    dynamics: Dynamics
    replicas: int = 1
    seed: int = 0
    key: tuple[int, ...] = ()
    init: str | np.ndarray = "random"


def run_many(
    instance,
    specs: Sequence[RunSpec],
    *,
    sweeps: int,
    grid: str | np.ndarray = "log",
    grid_points: int = 40,
    window: float = 0.5,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_updates: float = 2e8,
    layout: str = "auto",
) -> list[RunResult]:
    """Run every spec on ``instance`` (same sweeps, grid and window) and return their results
    in order, each bit-identical to ``run(instance, spec.dynamics, ...)`` alone.

    Runs of one lane kind advance together when :func:`~mcsgd.driver.lanes.resolve_layout`
    picks lanes for all their chains (``layout``: "auto", "scalar" or "lanes"); the others one
    after the other. ``progress(done, total)`` counts chain-sweeps (replicas x sweeps) over all
    runs. ``timing`` of a result in a lane group: ``layout = "lanes"``, ``lanes`` (chains in
    the pass), ``run_s`` its share of the pass (by chains) and ``ns_per_chain_update`` the
    pass's kernel time per chain-update.
    """
    if not specs:
        raise ParameterError("run_many: at least one run is needed")
    t_start = time.perf_counter()
    prepared = [prepare_run(instance, sp.dynamics, sweeps=sweeps, replicas=sp.replicas,
                            seed=sp.seed, key=sp.key, init=sp.init, grid=grid,
                            grid_points=grid_points, window=window, threads=threads)
                for sp in specs]
    runners = [p[0] for p in prepared]
    times = prepared[0][1]
    sweeps = int(times[-1])
    groups: dict[str | None, list[int]] = {}
    for i, r in enumerate(runners):
        groups.setdefault(rules.lane_kind(r.rule, r.ising), []).append(i)
    with threads_scope(threads) as nthreads:
        pass
    total = sum(r.replicas for r in runners) * sweeps
    done = [0]

    def hook(weight: int) -> Callable[[int, int], None] | None:
        if progress is None:
            return None
        base = done[0]
        return lambda d, _t: progress(base + weight * d, total)

    out: list[RunResult | None] = [None] * len(runners)
    kw = dict(grid=grid, grid_points=grid_points, window=window)
    for kind, idxs in groups.items():
        chains = sum(runners[i].replicas for i in idxs)
        if resolve_layout(layout, kind, chains, nthreads) == "lanes":
            group = LaneGroup([runners[i] for i in idxs], threads)
            loop = record_loop(group, times, hook(chains), chunk_updates)
            group.sync()
            for k, i in enumerate(idxs):
                r = runners[i]
                sl = slice(int(group.offsets[k]), int(group.offsets[k + 1]))
                part = LoopState(
                    idx=loop.idx, acc0=loop.acc0[sl], t_prev=loop.t_prev,
                    energy=loop.energy[sl], acceptance=loop.acceptance[sl],
                    overlap=None if loop.overlap is None else loop.overlap[sl],
                    run_s=loop.run_s * r.replicas / chains, prepare_end=loop.prepare_end)
                out[i] = finish_run(r, times, part, t_prep=loop.prepare_end - t_start,
                                    lanes=chains, **kw)
            done[0] += chains * sweeps
        else:
            for i in idxs:
                r = runners[i]
                loop = record_loop(r, times, hook(r.replicas), chunk_updates)
                out[i] = finish_run(r, times, loop, t_prep=loop.prepare_end - t_start, **kw)
                done[0] += r.replicas * sweeps
    return [r for r in out if r is not None]
