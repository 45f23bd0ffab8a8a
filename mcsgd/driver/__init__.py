"""The run driver: instance + dynamics -> replicas advanced in chunks -> :class:`RunResult`.

A :class:`Runner` holds the whole state of a run (configurations int8[R, N], RNG rows
uint64[R, 4], energies, acceptance counters, measurement-window trace, flag workspaces and the
number of sweeps done). It advances by chunks between recording times; its state can be saved
and restored (``state_dict``/``from_state_dict``), which makes a resumed run bit-identical to an
uninterrupted one. :func:`run` is the one-call form.

Seeding (:mod:`mcsgd.seeds`): replica r's initial configuration draws from
``SeedSequence(seed, spawn_key=(INIT, *key, r))`` and its dynamics from
``SeedSequence(seed, spawn_key=(DYNAMICS, *key, r))``, so its trajectory does not depend on R,
on threads or on workers, and no other purpose (instances, BP, ...) shares these streams.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mcsgd._numba import threads_scope
from mcsgd.dynamics import (
    MAX_TABLE_DEGREE,
    SGD,
    Dynamics,
    Metropolis,
    from_params,
    heatbath_flip_thresholds,
    heatbath_weights,
    kernels,
    metropolis_thresholds,
    sgd_thresholds,
)
from mcsgd.dynamics.measure import overlap, time_grid, total_energy
from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.rng import threshold32
from mcsgd.seeds import check_key, dynamics_states, init_states
from mcsgd.stats import MIN_BATCH_TAU, MIN_BATCHES, batch_means_tau, integrated_autocorr_time

_EMPTY_J = np.zeros(0, np.int8)
MAX_TRACE_BLOCKS = 4096
SERIAL_WORK = 200_000  # half-edge visits below which a call runs on one thread
ISING_FIELD = True  # sequential Ising table dynamics on cached local fields (bit-identical)


class Runner:
    """Replicas of one dynamics on one instance, advanced in chunks.

    Parameters
    ----------
    instance : problems.Instance
    dynamics : Metropolis or SGD
    replicas : int
        Number of independent replicas R >= 1.
    seed : int
        Root seed in [0, 2**64).
    key : tuple of int
        Task key K (words in [0, 2**32); ``()`` for a single run): replica r's streams are
        ``(INIT, *K, r)`` and ``(DYNAMICS, *K, r)`` (:mod:`mcsgd.seeds`).
    init : {"random", "planted"} or int8[R, N] array
        Initial configurations.
    threads : int, optional
        numba threads for this runner's kernel calls, set around each call and restored after
        it (default: the process setting, untouched).
    """

    def __init__(
        self,
        instance,
        dynamics: Dynamics,
        *,
        replicas: int = 1,
        seed: int = 0,
        key: tuple[int, ...] = (),
        init: str | np.ndarray = "random",
        threads: int | None = None,
    ) -> None:
        check_range("replicas", replicas, 1, None, integer=True)
        check_range("seed", seed, 0, 2**64 - 1, integer=True)
        self.threads = threads
        self.instance = instance
        self.replicas = int(replicas)
        self.seed = int(seed)
        for w in key:  # a word >= 2**32 would alias another key inside SeedSequence
            check_range("key word", w, 0, 2**32 - 1, integer=True)
        self.key = check_key(tuple(key), "key")
        self.ising = instance.problem == "ising"
        n = instance.n
        self.rng = dynamics_states(self.seed, self.key, self.replicas)
        self.s = np.empty((self.replicas, n), np.int8)
        if isinstance(init, str):
            check_choice("init", init, ("random", "planted"))
            if init == "planted":
                if instance.planted is None:
                    raise ParameterError(
                        "init = 'planted' needs an instance with a planted solution"
                    )
                self.s[:] = instance.planted[None, :]
            else:
                # its own stream: the dynamics rows start unused whatever the init
                with threads_scope(self.threads):
                    kernels.init_random(self.s, init_states(self.seed, self.key, self.replicas),
                                        instance.q, self.ising)
        else:
            arr = np.asarray(init)
            if arr.shape != (self.replicas, n):
                raise ParameterError(f"init array must have shape ({self.replicas}, {n})")
            self.s[:] = arr
        self.init = init if isinstance(init, str) else "array"
        self.energy = total_energy(instance, self.s)
        self.accepted = np.zeros(self.replicas, np.int64)
        self.t = 0
        self.trace = np.zeros((self.replicas, 0))
        self.w0 = 0
        self.blk = 1
        self._flags: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._flags_layout: tuple[int, str] | None = None
        self._epoch0 = 0  # sweep at which the current dynamics started (mini-batch epochs)
        self._h: np.ndarray | None = None  # cached Ising local fields (derived from s)
        self.set_dynamics(dynamics)

    # ---- dynamics and tables ------------------------------------------------------------
    def set_dynamics(self, dynamics: Dynamics) -> None:
        """Switch the dynamics (e.g. along an annealing schedule); tables are rebuilt.

        A switch starts a fresh mini-batch at the next sweep (docs/dynamics.md, "Switching
        dynamics"): explicit flags are reset, a fixed-size batch is redrawn with exactly
        round(B F) flags, Bernoulli flags are drawn from the new B only, and ``tau``-sweep epochs
        restart at the current sweep. The run then continues exactly as a fresh run of the new
        dynamics started from the current configurations and RNG states would.
        """
        if not isinstance(dynamics, (Metropolis, SGD)):
            raise ParameterError("dynamics must be a Metropolis or SGD instance")
        inst = self.instance
        self.dynamics = dynamics
        self._epoch0 = self.t
        old, old_layout = self._flags, self._flags_layout
        self._flags = None  # flag workspaces exist only while a flag kernel runs
        self._flags_layout = None
        dmax = max(inst.max_degree, 1)
        scale = 2 if self.ising else 1
        self._dmax = dmax
        self._mode = "table"
        if isinstance(dynamics, Metropolis):
            if dynamics.rule == "heatbath" and not self.ising:
                self._mode = "heatbath"
                self._wtab = heatbath_weights(dynamics.T, dmax)
                self._counts = np.zeros((self.replicas, inst.q), np.int64)
            elif dynamics.rule == "heatbath":
                self._thr, self._use2d = heatbath_flip_thresholds(dynamics.T, dmax, scale), False
            else:
                self._thr, self._use2d = metropolis_thresholds(dynamics.T, dmax, scale), False
        else:
            use_table = dynamics.is_reference and dynamics.method != "flags"
            if use_table and dmax > MAX_TABLE_DEGREE:
                if dynamics.method == "table":
                    raise ParameterError(
                        f"method = 'table' needs max degree <= {MAX_TABLE_DEGREE} (got {dmax})"
                    )
                use_table = False
            if use_table:
                self._thr, self._use2d = sgd_thresholds(dynamics.B, dmax), True
            else:
                self._mode = "flags"
                self._setup_flags(dynamics, old, old_layout)

    def _setup_flags(self, d: SGD, old: tuple[np.ndarray, ...] | None,
                     old_layout: tuple[int, str] | None) -> None:
        """Fresh flag workspaces for ``d`` (the buffers of ``old`` are reused if they fit)."""
        inst = self.instance
        if d.flags == "edge":
            eid, m = inst.edge_ids()
            nf = m
        else:
            eid = np.arange(inst.indices.shape[0], dtype=np.int32)
            nf = inst.indices.shape[0]
        self._eid = eid
        self._fixed_k = int(round(d.B * nf)) if d.batch == "fixed" else -1
        self._thr_b = np.uint64(threshold32(np.array([d.B]))[0])
        # a switch starts a fresh mini-batch: no flag set, no Bernoulli flag drawn (stamps 0 <
        # every epoch), the fixed-size permutation back to the identity; so the state after a
        # switch is (s, rng, t) alone, as at the start of a run
        self._flags_layout = (nf, d.batch)
        if old is not None and old_layout == self._flags_layout:
            flags, stamp, perm = old
            flags.fill(0)
            stamp.fill(0)
            perm[:] = np.arange(perm.shape[1], dtype=np.int32)[None, :]
        else:
            flags = np.zeros((self.replicas, nf), np.uint8)
            stamp = np.zeros((self.replicas, nf if d.batch == "bernoulli" else 0), np.int64)
            perm = (
                np.tile(np.arange(nf, dtype=np.int32), (self.replicas, 1))
                if d.batch == "fixed"
                else np.zeros((self.replicas, 0), np.int32)
            )
        self._flags = (flags, stamp, perm)

    # ---- measurement window ---------------------------------------------------------------
    def set_window(self, start: int, stop: int) -> None:
        """Record the energy after every sweep t in (start, stop] (summed in blocks)."""
        length = max(int(stop) - int(start), 0)
        self.w0 = int(start)
        self.blk = max(1, math.ceil(length / MAX_TRACE_BLOCKS))
        nb = math.ceil(length / self.blk) if length else 0
        self.trace = np.zeros((self.replicas, nb))
        self.window_len = length

    # ---- advancing ----------------------------------------------------------------------
    def serial(self, nsweeps: int) -> bool:
        """Whether ``advance(nsweeps)`` runs the serial twin of its kernel (small calls do:
        waking the thread pool costs more than it saves)."""
        work = self.instance.indices.shape[0] * self.replicas * int(nsweeps)
        return self.replicas == 1 or work < SERIAL_WORK

    def warm(self, nsweeps: int) -> None:
        """Compile (or load from the cache) the kernel that ``advance(nsweeps)`` will call, and
        start its thread pool, without advancing: the cost stays out of run timings."""
        check_range("nsweeps", nsweeps, 0, None, integer=True)
        self.advance(0, serial=self.serial(nsweeps))

    def advance(self, nsweeps: int, *, serial: bool | None = None) -> None:
        """Run ``nsweeps`` sweeps on every replica.

        ``serial``: force the serial twin (True) or the parallel kernel (False) of the kernel;
        default :meth:`serial` (results are identical either way). ``nsweeps = 0`` only
        compiles (or loads from the cache) the kernel: without ``serial``, every variant a call
        may use (the serial twin, and the parallel kernel when R > 1; :meth:`warm` picks one).
        """
        if nsweeps < 0:
            raise ParameterError(f"nsweeps = {nsweeps} is not in [0, inf)")
        if serial is not None:
            variants = [bool(serial)]
        elif nsweeps == 0 and self.replicas > 1:
            variants = [True, False]
        else:
            variants = [self.serial(nsweeps)]
        with threads_scope(self.threads):
            for ser in variants:
                self._advance(int(nsweeps), ser)
        self.t += int(nsweeps)

    def _advance(self, nsweeps: int, serial: bool) -> None:
        inst = self.instance
        cpl = inst.couplings if self.ising else _EMPTY_J
        if self._mode == "table" and self._use_field():
            if self._h is None:
                self._h = np.empty(self.s.shape, np.int16)
                kernels.ising_fields(inst.indptr, inst.indices, cpl, self.s, self._h)
            (kernels.ising_field_sweeps_serial if serial else kernels.ising_field_sweeps)(
                inst.indptr, inst.indices, cpl, self.s, self._h, self.rng, self.energy,
                self.accepted, self._thr, self._use2d, self._dmax, int(nsweeps), self.t,
                self.trace, self.w0, self.blk,
            )
        elif self._mode == "table":
            self._h = None  # the fields no longer follow s
            (kernels.table_sweeps_serial if serial else kernels.table_sweeps)(
                inst.indptr, inst.indices, cpl, self.s, self.rng, self.energy, self.accepted,
                inst.q, self.ising, self._thr, self._use2d, self._dmax,
                self.dynamics.order == "random", int(nsweeps), self.t, self.trace, self.w0,
                self.blk,
            )
        elif self._mode == "heatbath":
            self._h = None
            (kernels.heatbath_sweeps_serial if serial else kernels.heatbath_sweeps)(
                inst.indptr, inst.indices, self.s, self.rng, self.energy, self.accepted, inst.q,
                self._wtab, self.dynamics.order == "random", int(nsweeps), self.t, self.trace,
                self.w0, self.blk, self._counts,
            )
        else:
            self._h = None
            flags, stamp, perm = self._flags
            (kernels.flag_sweeps_serial if serial else kernels.flag_sweeps)(
                inst.indptr, inst.indices, cpl, self._eid, self.s, self.rng, self.energy,
                self.accepted, inst.q, self.ising, self.dynamics.order == "random",
                self.dynamics.tau, self._epoch0, self._fixed_k, self._thr_b, flags, stamp, perm,
                int(nsweeps), self.t, self.trace, self.w0, self.blk,
            )

    def _use_field(self) -> bool:
        return (ISING_FIELD and self.ising and self.dynamics.order == "sequential"
                and self._dmax < 16384)

    # ---- observables --------------------------------------------------------------------
    def energy_density(self) -> np.ndarray:
        """Energy per node float64[R]."""
        return self.energy / self.instance.n

    def overlap(self) -> np.ndarray | None:
        """Overlap with the planted solution float64[R] (None without one)."""
        return None if self.instance.planted is None else overlap(self.instance, self.s)

    # ---- checkpointing --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically (arrays are references, not copies).

        ``epoch0`` is the sweep at which the current dynamics started (its mini-batch epochs
        count from there); ``flags``, ``stamp`` and ``perm`` (the mini-batch workspaces) are
        present iff the current dynamics runs on explicit flags.
        """
        d: dict[str, Any] = {
            "s": self.s, "rng": self.rng, "energy": self.energy, "accepted": self.accepted,
            "trace": self.trace, "t": self.t, "w0": self.w0, "blk": self.blk,
            "window_len": getattr(self, "window_len", 0), "epoch0": self._epoch0,
        }
        if self._flags is not None:
            d["flags"], d["stamp"], d["perm"] = self._flags
        return d

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` of a runner with the same instance, replicas and dynamics.

        Raises ParameterError, changing nothing, if an array has another shape or if exactly
        one side has mini-batch flag workspaces (the state was saved under other dynamics).
        A missing ``epoch0`` (states written before it existed, by runs without a switch of
        dynamics) means 0.
        """
        mine = self.state_dict()
        has, want = "flags" in d, self._flags is not None
        if has != want:
            raise ParameterError(
                "state_dict " + ("has" if has else "lacks") + " mini-batch flag workspaces "
                "(flags/stamp/perm) but this runner's dynamics "
                + ("uses none" if has else "needs them")
                + f" ({self.dynamics!r}): the state was saved under other dynamics"
            )
        names = ["s", "rng", "energy", "accepted"] + (["flags", "stamp", "perm"] if want else [])
        for name in names:
            if np.shape(d[name]) != np.shape(mine[name]):
                raise ParameterError(
                    f"state_dict array {name!r} has shape {np.shape(d[name])}, this runner "
                    f"needs {np.shape(mine[name])}"
                )
        self.s[:] = d["s"]
        self._h = None  # derived from s: recomputed at the next advance
        self.rng[:] = d["rng"]
        self.energy[:] = d["energy"]
        self.accepted[:] = d["accepted"]
        self.trace = np.array(d["trace"], dtype=np.float64)
        self.t, self.w0, self.blk = int(d["t"]), int(d["w0"]), int(d["blk"])
        self.window_len = int(d.get("window_len", 0))
        self._epoch0 = int(d.get("epoch0", 0))
        if want:
            for dst, key in zip(self._flags, ("flags", "stamp", "perm"), strict=True):
                dst[...] = d[key]


@dataclasses.dataclass
class RunResult:
    """Output of :func:`run`.

    Attributes
    ----------
    time : int64[K]            recording times (sweeps)
    energy : float64[R, K]     energy density (per node)
    overlap : float64[R, K] or None
    acceptance : float64[R, K] accepted fraction of updates in the interval ending at time[k]
                               (NaN at k = 0)
    trace : float64[R, nb]     sums of the total energy over blocks of ``blk`` sweeps of the
                               measurement window (sweeps ``w0+1 .. sweeps``)
    final_state : int8[R, N]; final_rng : uint64[R, 4]
    params : dict              everything used (instance params, dynamics, sweeps, seeds, ...)
    timing : dict              ``prepare_s``, ``run_s``, ``updates``
    """

    time: np.ndarray
    energy: np.ndarray
    overlap: np.ndarray | None
    acceptance: np.ndarray
    trace: np.ndarray
    w0: int
    blk: int
    n: int
    final_state: np.ndarray
    final_rng: np.ndarray
    params: dict[str, Any]
    timing: dict[str, float]

    @property
    def window_len(self) -> int:
        """Number of sweeps in the measurement window."""
        return int(self.params["sweeps"]) - self.w0

    def stationary(self) -> dict[str, Any]:
        """Mean energy density over every sweep of the measurement window and its standard error.

        The error comes from the spread of the R replica means (R >= 2, ``err_dof`` = R - 1),
        or (R = 1) from batch means of the stored window trace with every batch spanning
        >= 10 tau_int (:func:`~mcsgd.dynamics.measure.batch_means_tau`; ``err_dof`` = batches - 1).
        ``tau_int`` (sweeps) is measured on the trace as stored, in blocks of ``blk`` sweeps
        (replicas averaged); ``window_too_short`` is True when the window holds fewer than
        10 batches of 10 tau_int (for R = 1 the error is then itself uncertain; for R >= 2 the
        error stays valid but the window average rests on few autocorrelation times). Also
        returns per-replica means, ``n_batches`` (R = 1) and the window.
        """
        wl = self.window_len
        if wl <= 0:
            nan = float("nan")
            return {"energy": nan, "energy_err": nan, "replica_means": [], "window": [0, 0],
                    "tau_int": nan, "window_too_short": True, "n_batches": 0, "err_dof": 0}
        per_rep = self.trace.sum(axis=1) / wl / self.n
        r = per_rep.shape[0]
        dens = self.trace_density()
        if r >= 2:
            err = float(per_rep.std(ddof=1) / math.sqrt(r))
            tau_b = integrated_autocorr_time(dens) if dens.shape[1] >= 4 else math.nan
            nbat = (dens.shape[1] // math.ceil(MIN_BATCH_TAU * tau_b)
                    if np.isfinite(tau_b) else 0)
            too_short, dof = bool(nbat < MIN_BATCHES), r - 1
        else:
            bm = batch_means_tau(dens[0])
            err, tau_b, nbat, too_short = bm["err"], bm["tau_int"], bm["n_batches"], \
                bm["too_short"]
            dof = max(nbat - 1, 0)
        return {
            "energy": float(per_rep.mean()),
            "energy_err": err,
            "replica_means": per_rep,
            "window": [self.w0, int(self.params["sweeps"])],
            "tau_int": float(tau_b * self.blk),
            "window_too_short": too_short,
            "n_batches": int(nbat),
            "err_dof": int(dof),
        }

    def trace_density(self) -> np.ndarray:
        """Window energy density per block float64[R, nb] (block sums / block length / N)."""
        lens = np.full(self.trace.shape[1], self.blk, float)
        if lens.size:
            lens[-1] = self.window_len - self.blk * (self.trace.shape[1] - 1)
        return self.trace / lens[None, :] / self.n

    def summary(self) -> dict[str, Any]:
        """The JSON object of ``mcsgd run --json``."""
        st = self.stationary()
        return {
            "params": self.params,
            "time": self.time,
            "energy": self.energy.mean(axis=0),
            "overlap": None if self.overlap is None else self.overlap.mean(axis=0),
            "acceptance": self.acceptance.mean(axis=0),  # NaN (null) at time 0
            "stationary": {
                "energy": st["energy"],
                "energy_err": st["energy_err"],
                "window": st["window"],
                "tau_int": st["tau_int"],
                "window_too_short": st["window_too_short"],
                "err_dof": st["err_dof"],
                "overlap": None if self.overlap is None else float(self.overlap[:, -1].mean()),
            },
            "timing": self.timing,
        }

    def save(self, path) -> None:
        """Write the result to HDF5 atomically (layout in ``docs/formats.md``)."""
        from mcsgd.storage.h5 import atomic_h5, provenance, write_json_attr

        with atomic_h5(path, "run") as f:
            write_result(f, self)
            write_json_attr(f, "provenance", provenance())

    @classmethod
    def load(cls, path) -> RunResult:
        """Read a result written by :meth:`save`."""
        from mcsgd.storage.h5 import open_checked

        with open_checked(path, "run") as f:
            return read_result(f)


def write_result(g, res: RunResult) -> None:
    """Write a :class:`RunResult` into an open HDF5 group."""
    from mcsgd.storage.h5 import write_json_attr

    write_json_attr(g, "params", res.params)
    write_json_attr(g, "timing", res.timing)
    g.attrs["n"] = res.n
    g.attrs["w0"] = res.w0
    g.attrs["blk"] = res.blk
    g.create_dataset("time", data=res.time)
    g.create_dataset("energy", data=res.energy)
    g.create_dataset("acceptance", data=res.acceptance)
    if res.overlap is not None:
        g.create_dataset("overlap", data=res.overlap)
    g.create_dataset("window/trace", data=res.trace)
    g.create_dataset("final/state", data=res.final_state)
    g.create_dataset("final/rng", data=res.final_rng)


def read_result(g) -> RunResult:
    """Read a :class:`RunResult` from an open HDF5 group."""
    from mcsgd.storage.h5 import read_json_attr

    return RunResult(
        time=g["time"][...],
        energy=g["energy"][...],
        overlap=g["overlap"][...] if "overlap" in g else None,
        acceptance=g["acceptance"][...],
        trace=g["window/trace"][...],
        w0=int(g.attrs["w0"]),
        blk=int(g.attrs["blk"]),
        n=int(g.attrs["n"]),
        final_state=g["final/state"][...],
        final_rng=g["final/rng"][...],
        params=read_json_attr(g, "params", {}),
        timing=read_json_attr(g, "timing", {}),
    )


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
        Root seed and spawn-key prefix (module docstring).
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
        Upper bound of updates (N R sweeps) between progress calls.

    Returns
    -------
    RunResult
    """
    t_start = time.perf_counter()
    runner, times = prepare_run(
        instance, dynamics, sweeps=sweeps, replicas=replicas, seed=seed, key=key, init=init,
        grid=grid, grid_points=grid_points, window=window, threads=threads,
    )
    loop = record_loop(runner, times, progress, chunk_updates)
    return finish_run(runner, times, loop, t_prep=loop.prepare_end - t_start, grid=grid,
                      grid_points=grid_points, window=window)


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
    :func:`finish_run` it lets a driver (e.g. :mod:`mcsgd.experiments.scan`) checkpoint and
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
) -> RunResult:
    """Assemble the :class:`RunResult` of a finished :func:`record_loop` (end of :func:`run`)."""
    instance = runner.instance
    replicas = runner.replicas
    sweeps = int(times[-1])
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
            "ns_per_update": 1e9 * loop.run_s / max(instance.n * replicas * sweeps, 1),
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


def _variants(runner: Runner, times: np.ndarray, chunk: int) -> list[bool]:
    """The kernel variants (``serial`` flags) the chunks of :func:`record_loop` will call.

    A recording interval of L sweeps runs as chunks of ``min(chunk, L)`` sweeps and a last one
    of ``L % chunk``; each chunk size decides its variant (:meth:`Runner.serial`).
    """
    t = runner.t
    steps = set()
    for stop in np.asarray(times, np.int64).tolist():
        if stop > t:
            length = stop - t
            steps.add(min(chunk, length))
            if length > chunk and length % chunk:
                steps.add(length % chunk)
            t = stop
    return sorted({runner.serial(st) for st in steps}) or [runner.serial(0)]


@dataclasses.dataclass
class LoopState:
    """Progress of :func:`record_loop` at a chunk boundary (+ ``Runner.state_dict``: a checkpoint).

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

    def arrays(self) -> dict[str, np.ndarray]:
        """The array fields (for saving)."""
        d = {"acc0": self.acc0, "energy": self.energy, "acceptance": self.acceptance}
        if self.overlap is not None:
            d["overlap"] = self.overlap
        return d


def record_loop(
    runner: Runner,
    times: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
    chunk_updates: float = 2e8,
    *,
    state: LoopState | None = None,
    on_chunk: Callable[[LoopState], None] | None = None,
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
        Continue from a saved state (``runner`` restored from the matching ``state_dict``).
    on_chunk : callable(LoopState), optional
        Called after every chunk (a point where ``runner.state_dict()`` and the given state
        together allow a bit-identical resume), e.g. to write a checkpoint.

    Returns
    -------
    LoopState
        With ``idx = K`` and all observables filled.
    """
    r = runner.replicas
    n = runner.instance.n
    k = len(times)
    has_ov = runner.instance.planted is not None
    if state is None:
        state = LoopState(
            idx=0, acc0=runner.accepted.copy(), t_prev=runner.t, energy=np.empty((r, k)),
            acceptance=np.full((r, k), np.nan), overlap=np.empty((r, k)) if has_ov else None,
        )
        fresh = True
    else:
        fresh = False
    chunk = max(1, int(chunk_updates // max(n * r, 1)))
    # compile (first call) or load from the cache every kernel variant (serial twin, parallel)
    # the chunks will use, before the clock of the run starts
    for serial in _variants(runner, times, chunk):
        runner.advance(0, serial=serial)
    state.prepare_end = time.perf_counter()
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
            state.run_s += time.perf_counter() - t1
            if progress is not None:
                progress(runner.t, total)
            if on_chunk is not None:
                on_chunk(state)
        state.energy[:, idx] = runner.energy_density()
        if has_ov:
            state.overlap[:, idx] = runner.overlap()
        if t > state.t_prev:
            state.acceptance[:, idx] = (runner.accepted - state.acc0) / (n * (t - state.t_prev))
    state.idx = k
    return state
