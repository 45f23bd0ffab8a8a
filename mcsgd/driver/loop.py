"""The driver: advance a :class:`~mcsgd.driver.runner.Runner` chunk by chunk, record, checkpoint.

One step of the driver (:func:`steps`) runs one chunk of sweeps (at most ``chunk_updates``
updates, never past the next recording time), records the observables when it reaches a
recording time and yields a :class:`ChunkInfo` (blackjax's ``(State, Info)`` step: the state is
the runner's :class:`~mcsgd.driver.state.ChainState` plus the :class:`LoopState` record, both
mutated in place; the info is what the chunk did). :func:`record_loop` runs the steps and calls
the hooks (``progress`` and ``on_chunk``, e.g. a checkpoint writer). :func:`run` is the one-call
form; with ``checkpoint=PATH`` it writes the state after chunks and resumes from the file.

Chunk boundaries do not change results: a resumed run is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from mcsgd._numba import threads_scope
from mcsgd.driver.lanes import LaneGroup, resolve_layout
from mcsgd.driver.result import RunResult
from mcsgd.driver.runner import Runner
from mcsgd.dynamics import rules
from mcsgd.dynamics.specs import Dynamics, from_params
from mcsgd.errors import ParameterError, check_range


def time_grid(sweeps: int, points: int = 40, kind: str = "log") -> np.ndarray:
    """Recording times int64[K] in sweeps: 0, then ``points`` log- or linearly spaced values up
    to ``sweeps`` (duplicates removed; always includes 0 and ``sweeps``)."""
    check_range("sweeps", sweeps, 1, None, integer=True)
    check_range("points", points, 1, None, integer=True)
    if kind == "log":
        t = np.unique(np.round(np.logspace(0, np.log10(sweeps), int(points))).astype(np.int64))
    elif kind == "linear":
        t = np.unique(np.round(np.linspace(0, sweeps, int(points) + 1)).astype(np.int64))
    else:
        raise ParameterError(f"grid = {kind!r} is not one of 'log', 'linear'")
    t = np.union1d(np.array([0, int(sweeps)], np.int64), t)
    return t[(t >= 0) & (t <= sweeps)]


@dataclasses.dataclass
class LoopState:
    """The record of :func:`record_loop` at a chunk boundary (with the chain state: a checkpoint).

    Attributes
    ----------
    idx : int                   index of the recording time being worked towards
    acc0 : int64[R]             accepted counters at the start of the current interval
    t_prev : int                sweep count at the start of the current interval
    energy, acceptance : float64[R, K]; overlap : float64[R, K] or None
                                observables recorded so far (columns < ``idx`` are final)
    run_s : float               kernel seconds so far
    prepare_end : float         ``perf_counter()`` when the kernel was compiled/loaded
    """

    idx: int
    acc0: np.ndarray
    t_prev: int
    energy: np.ndarray
    acceptance: np.ndarray
    overlap: np.ndarray | None
    run_s: float = 0.0
    prepare_end: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The ``loop/`` part of the checkpoint layout (:mod:`mcsgd.storage.run`)."""
        return {"acc0": self.acc0, "energy": self.energy, "acceptance": self.acceptance,
                "overlap": self.overlap, "idx": self.idx, "t_prev": self.t_prev,
                "run_s": self.run_s}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoopState:
        """Inverse of :meth:`to_dict`."""
        return cls(idx=int(d["idx"]), acc0=d["acc0"], t_prev=int(d["t_prev"]),
                   energy=d["energy"], acceptance=d["acceptance"], overlap=d["overlap"],
                   run_s=float(d["run_s"]))

    def check(self, runner: Runner, k: int, *, finished_ok: bool = False) -> None:
        """Raise ValueError unless this record fits ``runner`` and a grid of ``k`` times."""
        hi = k if finished_ok else k - 1
        if self.energy.shape != (runner.replicas, k) or not 0 <= self.idx <= hi:
            raise ValueError("checkpoint loop state does not match the run")
        if (self.overlap is None) != (runner.instance.planted is None):
            raise ValueError("checkpoint overlap does not match the instance")


@dataclasses.dataclass(frozen=True)
class ChunkInfo:
    """What one chunk did (yielded by :func:`steps`).

    Attributes
    ----------
    t : int          sweeps done after the chunk
    total : int      sweeps of the whole run
    sweeps : int     sweeps of this chunk
    run_s : float    kernel seconds of this chunk
    idx : int        index of the recording time the chunk works towards (its observables are
                     recorded after the chunk that reaches it)
    """

    t: int
    total: int
    sweeps: int
    run_s: float
    idx: int


def _variants(runner: Runner, times: np.ndarray, chunk: int) -> list[bool]:
    """The kernel variants (``serial`` flags) the chunks of :func:`steps` will call.

    A recording interval of L sweeps runs as chunks of ``min(chunk, L)`` sweeps and a last one
    of ``L % chunk``; each chunk size decides its variant (:meth:`Runner.serial`).
    """
    t = runner.t
    sizes = set()
    for stop in np.asarray(times, np.int64).tolist():
        if stop > t:
            length = stop - t
            sizes.add(min(chunk, length))
            if length > chunk and length % chunk:
                sizes.add(length % chunk)
            t = stop
    return sorted({runner.serial(st) for st in sizes}) or [runner.serial(0)]


def new_loop_state(runner: Runner, k: int) -> LoopState:
    """An empty record for a fresh run over ``k`` recording times."""
    r = runner.replicas
    return LoopState(
        idx=0, acc0=runner.accepted.copy(), t_prev=runner.t, energy=np.empty((r, k)),
        acceptance=np.full((r, k), np.nan),
        overlap=np.empty((r, k)) if runner.instance.planted is not None else None,
    )


def steps(runner: Runner, times: np.ndarray, state: LoopState, chunk: int,
          fresh: bool) -> Iterator[ChunkInfo]:
    """Advance ``runner`` through ``times`` one chunk of at most ``chunk`` sweeps per step,
    recording into ``state`` at each recording time; yield a :class:`ChunkInfo` per chunk.

    ``fresh``: ``state`` was just created (else it continues a saved record, whose current
    interval's ``acc0``/``t_prev`` are kept).
    """
    n = runner.instance.n
    k = len(times)
    total = int(times[-1])
    start = state.idx
    for idx in range(start, k):
        t = int(times[idx])
        if fresh or idx != start:
            state.idx, state.acc0, state.t_prev = idx, runner.accepted.copy(), runner.t
        while runner.t < t:
            step = min(chunk, t - runner.t)
            t1 = time.perf_counter()
            runner.advance(step)
            dt = time.perf_counter() - t1
            state.run_s += dt
            yield ChunkInfo(t=runner.t, total=total, sweeps=step, run_s=dt, idx=idx)
        state.energy[:, idx] = runner.energy_density()
        if state.overlap is not None:
            state.overlap[:, idx] = runner.overlap()
        if t > state.t_prev:
            state.acceptance[:, idx] = (runner.accepted - state.acc0) / (n * (t - state.t_prev))
    state.idx = k


def record_loop(
    runner: Runner,
    times: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
    chunk_updates: float = 2e8,
    *,
    state: LoopState | None = None,
    on_chunk: Callable[[LoopState, ChunkInfo], None] | None = None,
) -> LoopState:
    """Advance ``runner`` through ``times`` in chunks, recording observables at each time.

    Parameters
    ----------
    runner : Runner
    times : int64[K]
        Recording times (sweeps), increasing, ``times[0] >= runner.t`` for a fresh start.
    progress : callable(done_sweeps, total_sweeps), optional
    chunk_updates : float
        Upper bound of updates (N R sweeps) per kernel call. Results do not depend on it.
    state : LoopState, optional
        Continue from a saved record (``runner`` restored from the matching chain state).
    on_chunk : callable(LoopState, ChunkInfo), optional
        Called after every chunk (after ``progress``), at a point where the runner's chain
        state and the record together allow a bit-identical resume: e.g. to write a checkpoint.

    Returns
    -------
    LoopState
        With ``idx = K`` and all observables filled.
    """
    k = len(times)
    fresh = state is None
    if state is None:
        state = new_loop_state(runner, k)
    chunk = max(1, int(chunk_updates // max(runner.instance.n * runner.replicas, 1)))
    # compile (first call) or load from the cache every kernel variant (serial twin, parallel)
    # the chunks will use, before the clock of the run starts
    for serial in _variants(runner, times, chunk):
        runner.advance(0, serial=serial)
    state.prepare_end = time.perf_counter()
    for info in steps(runner, times, state, chunk, fresh):
        if progress is not None:
            progress(info.t, info.total)
        if on_chunk is not None:
            on_chunk(state, info)
    return state


def run(
    instance,
    dynamics: Dynamics | dict,
    *,
    sweeps: int,
    replicas: int = 1,
    seed: int = 0,
    key: tuple[int, ...] = (),
    init: str | np.ndarray = "random",
    grid: str | np.ndarray = "log",
    grid_points: int = 40,
    window: float = 0.5,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    chunk_updates: float = 2e8,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_seconds: float = 0.0,
    layout: str = "auto",
) -> RunResult:
    """Run one dynamics on one instance and record observables.

    Parameters
    ----------
    instance : problems.Instance
    dynamics : Metropolis, SGD, or a dict accepted by :func:`mcsgd.dynamics.from_params`
    sweeps : int
        Total sweeps (one sweep = N attempted single-variable updates), >= 1.
    replicas : int
        Independent replicas R (run in parallel over numba threads).
    seed : int; key : tuple of int
        Root seed and spawn-key prefix (:mod:`mcsgd.driver.runner`).
    init : {"random", "planted"} or int8[R, N]
    grid : {"log", "linear"} or int array
        Recording times in sweeps (``grid_points`` points; 0 and ``sweeps`` always included).
    window : float in [0, 1)
        Fraction of the run, at its end, whose every sweep enters the stationary averages
        (default 0.5: the second half).
    threads : int, optional
        numba threads for the kernel calls of this run (default: the process setting, all
        unless changed); the process setting is restored after every call.
    progress : callable(done_sweeps, total_sweeps), optional
    chunk_updates : float
        Upper bound of updates (N R sweeps) between progress calls (and checkpoints).
    checkpoint : path, optional
        HDF5 checkpoint file (layout in :mod:`mcsgd.storage.run`, written atomically). If it
        exists, the run resumes from it (bit-identical to an uninterrupted run); it must have
        been written by a run with the same parameters (``params`` of the result, the
        recording times and the initial configurations), else
        :class:`~mcsgd.errors.ParameterError`. The state is written after a chunk when at
        least ``checkpoint_seconds`` of wall time have passed since the last write (0: after
        every chunk) and at the end, so the file of a finished run reproduces its result.
    layout : {"auto", "scalar", "lanes"}
        Memory layout of the replicas (:mod:`mcsgd.driver.lanes`): one chain after the other
        (``scalar``) or side by side in one pass (``lanes``); ``auto`` picks lanes where they
        pay (:func:`~mcsgd.driver.lanes.resolve_layout`). Results are bit-identical either way;
        ``timing["layout"]`` says which ran.

    Returns
    -------
    RunResult
    """
    t_start = time.perf_counter()
    check_range("checkpoint_seconds", checkpoint_seconds, 0, None)
    runner, times = prepare_run(
        instance, dynamics, sweeps=sweeps, replicas=replicas, seed=seed, key=key, init=init,
        grid=grid, grid_points=grid_points, window=window, threads=threads,
    )
    driver = _driver(runner, layout, threads)
    if checkpoint is None:
        loop = record_loop(driver, times, progress, chunk_updates)
    else:
        params = run_params(instance, runner.dynamics, sweeps, replicas, runner.seed,
                            runner.key, runner.init, grid, grid_points, window)
        # what "custom" grid and "array" init stand for
        params = {**params, "times": times.tolist()}
        if not isinstance(init, str):
            params["init_sha256"] = hashlib.sha256(
                np.ascontiguousarray(init, np.int8).tobytes()).hexdigest()
        state = load_checkpoint(checkpoint, runner, len(times), params)
        if driver is not runner:
            driver.repack()
            driver.always_sync = True  # the checkpoint writer reads runner.s after chunks
        last = [time.perf_counter()]

        def on_chunk(st: LoopState, info: ChunkInfo) -> None:
            if time.perf_counter() - last[0] >= checkpoint_seconds:
                save_checkpoint(checkpoint, runner, st, params)
                last[0] = time.perf_counter()

        loop = record_loop(driver, times, progress, chunk_updates, state=state,
                           on_chunk=on_chunk)
        save_checkpoint(checkpoint, runner, loop, params)
    if driver is not runner:
        driver.sync()
    return finish_run(runner, times, loop, t_prep=loop.prepare_end - t_start, grid=grid,
                      grid_points=grid_points, window=window,
                      lanes=driver.replicas if driver is not runner else 0)


def _driver(runner: Runner, layout: str, threads: int | None) -> Runner | LaneGroup:
    """``runner`` itself (scalar layout) or a :class:`LaneGroup` of it (lanes layout)."""
    with threads_scope(threads) as nthreads:
        pass
    kind = rules.lane_kind(runner.rule, runner.ising)
    if resolve_layout(layout, kind, runner.replicas, nthreads) == "lanes":
        return LaneGroup([runner], threads)
    return runner


def save_checkpoint(path: str | os.PathLike, runner: Runner, loop: LoopState,
                    params: dict[str, Any]) -> None:
    """Write the chain state and the record atomically to ``path`` (``mcsgd_kind =
    "checkpoint"``, root attribute ``params``: the run's parameters)."""
    from mcsgd.storage.h5 import atomic_h5, write_json_attr
    from mcsgd.storage.run import write_checkpoint

    with atomic_h5(path, "checkpoint") as f:
        write_json_attr(f, "params", params)
        write_checkpoint(f, runner.state_dict(), loop.to_dict())


def load_checkpoint(path: str | os.PathLike, runner: Runner, k: int,
                    params: dict[str, Any]) -> LoopState | None:
    """The record of the checkpoint at ``path`` with ``runner`` restored, or None if there is
    no file. Raises ParameterError (changing nothing) if the checkpoint was written by a run
    with other parameters, FileFormatError if it is not a complete checkpoint file."""
    from mcsgd.storage.h5 import open_checked, read_json_attr
    from mcsgd.storage.run import read_checkpoint

    if not os.path.exists(path):
        return None
    with open_checked(path, "checkpoint") as f:
        saved = read_json_attr(f, "params", None)
        chain, loop_d = read_checkpoint(f)
    want = json.loads(json.dumps(params))
    if saved != want:
        diff = sorted(k_ for k_ in set(saved or {}) | set(want)
                      if (saved or {}).get(k_) != want.get(k_))
        raise ParameterError(
            f"checkpoint {os.fspath(path)!r} was written by a run with other parameters "
            f"(differing: {', '.join(diff) or 'params'}); remove it or use another path"
        )
    loop = LoopState.from_dict(loop_d)
    try:
        loop.check(runner, k, finished_ok=True)
    except ValueError as e:
        raise ParameterError(f"checkpoint {os.fspath(path)!r}: {e}") from None
    runner.state.check_dict(chain, "checkpoint", runner.dynamics)
    runner.load_state_dict(chain)
    return loop




def prepare_run(
    instance,
    dynamics: Dynamics | dict,
    *,
    sweeps: int,
    replicas: int = 1,
    seed: int = 0,
    key: tuple[int, ...] = (),
    init: str | np.ndarray = "random",
    grid: str | np.ndarray = "log",
    grid_points: int = 40,
    window: float = 0.5,
    threads: int | None = None,
) -> tuple[Runner, np.ndarray]:
    """Validate the arguments of :func:`run` and build its :class:`Runner` and time grid.

    The first half of :func:`run` (arguments as there); with :func:`record_loop` and
    :func:`finish_run` it lets a caller (e.g. :mod:`mcsgd.experiments.scan`) checkpoint and
    resume a run.

    Returns
    -------
    runner : Runner
        With its measurement window set; its kernel calls run on ``threads`` numba threads
        (scoped to each call: numba's process-wide setting is left as it was).
    times : int64[K]
        Recording times (sweeps).
    """
    check_range("sweeps", sweeps, 1, None, integer=True)
    check_range("window", window, 0, 1, hi_open=True)
    if isinstance(dynamics, dict):
        dynamics = from_params(dynamics)
    if isinstance(grid, str):
        times = time_grid(int(sweeps), grid_points, grid)
    else:
        times = np.unique(np.asarray(grid, np.int64))
        if times.size == 0 or times[0] < 0 or times[-1] > sweeps:
            raise ParameterError(f"grid times must lie in [0, sweeps = {sweeps}]")
        times = np.union1d(np.array([0, sweeps], np.int64), times)
    runner = Runner(instance, dynamics, replicas=replicas, seed=seed, key=key, init=init,
                    threads=threads)
    sweeps = int(sweeps)
    w0 = sweeps - int(round(window * sweeps))
    runner.set_window(w0, sweeps)
    return runner, times


def finish_run(
    runner: Runner,
    times: np.ndarray,
    loop: LoopState,
    *,
    t_prep: float,
    grid: str | np.ndarray = "log",
    grid_points: int = 40,
    window: float = 0.5,
    lanes: int = 0,
) -> RunResult:
    """Assemble the :class:`RunResult` of a finished :func:`record_loop` (end of :func:`run`).

    ``lanes``: number of chains that advanced together in the lanes layout (0: scalar layout);
    ``loop.run_s`` is then this runner's share of the group's kernel time.
    """
    instance = runner.instance
    replicas = runner.replicas
    sweeps = int(times[-1])
    ns = 1e9 * loop.run_s / max(instance.n * replicas * sweeps, 1)
    return RunResult(
        time=times,
        energy=loop.energy,
        overlap=loop.overlap,
        acceptance=loop.acceptance,
        trace=runner.trace,
        w0=runner.w0,
        blk=runner.blk,
        n=instance.n,
        final_state=runner.s,
        final_rng=runner.rng,
        params=run_params(instance, runner.dynamics, sweeps, replicas, runner.seed, runner.key,
                          runner.init, grid, grid_points, window),
        timing={
            "prepare_s": t_prep,
            "run_s": loop.run_s,
            "updates": int(instance.n) * int(replicas) * sweeps,
            "ns_per_update": ns,
            "ns_per_chain_update": ns,
            "layout": "lanes" if lanes else "scalar",
            "lanes": int(lanes),
        },
    )


def run_params(instance, dynamics, sweeps, replicas, seed, key, init, grid, grid_points, window):
    """The ``params`` dict of a run: all that determines it."""
    return {
        "instance": instance.params,
        "problem": instance.problem,
        "n": instance.n,
        "q": instance.q,
        **dynamics.params(),
        "sweeps": int(sweeps),
        "replicas": int(replicas),
        "seed": int(seed),
        "spawn_key": list(key),
        "init": init,
        "grid": grid if isinstance(grid, str) else "custom",
        "grid_points": int(grid_points),
        "window": float(window),
        "rng": "xoshiro256** per replica: initial configuration from SeedSequence(seed, "
               "(INIT, *spawn_key, replica)), dynamics from SeedSequence(seed, "
               "(DYNAMICS, *spawn_key, replica)) (mcsgd.seeds)",
    }
