"""The sampler: one dynamics on one instance, advancing a :class:`~mcsgd.driver.state.ChainState`.

A :class:`Runner` owns the instance, the dynamics spec, its :class:`~mcsgd.dynamics.rules.Rule`
(tables) and the chain state, and dispatches each chunk of sweeps to the matching kernel (serial
twin for small calls; results are identical either way).

Seeding (:mod:`mcsgd.seeds`): replica r's initial configuration draws from
``SeedSequence(seed, spawn_key=(INIT, *key, r))`` and its dynamics from
``SeedSequence(seed, spawn_key=(DYNAMICS, *key, r))``, so its trajectory does not depend on R,
on threads or on workers, and no other purpose (instances, BP, ...) shares these streams.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mcsgd._numba import threads_scope
from mcsgd.driver.state import ChainState
from mcsgd.dynamics import kernels, rules
from mcsgd.dynamics.kernels import Chain, FlagWork, Graph, Recorder
from mcsgd.dynamics.measure import overlap
from mcsgd.dynamics.specs import Dynamics
from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.problems.energy import total_energy
from mcsgd.seeds import check_key, dynamics_states, init_states

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

    Attributes
    ----------
    state : ChainState
        The chain state (``s``, ``rng``, ``energy``, ``accepted``, ``t``, ``trace``, ``w0``,
        ``blk`` and ``window_len`` are also readable as attributes of the runner).
    rule : mcsgd.dynamics.rules.Rule
        Tables of the current dynamics.
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
        rng = dynamics_states(self.seed, self.key, self.replicas)
        s = np.empty((self.replicas, n), np.int8)
        if isinstance(init, str):
            check_choice("init", init, ("random", "planted"))
            if init == "planted":
                if instance.planted is None:
                    raise ParameterError(
                        "init = 'planted' needs an instance with a planted solution"
                    )
                s[:] = instance.planted[None, :]
            else:
                # its own stream: the dynamics rows start unused whatever the init
                with threads_scope(self.threads):
                    kernels.init_random(s, init_states(self.seed, self.key, self.replicas),
                                        instance.q, self.ising)
        else:
            arr = np.asarray(init)
            if arr.shape != (self.replicas, n):
                raise ParameterError(f"init array must have shape ({self.replicas}, {n})")
            s[:] = arr
        self.init = init if isinstance(init, str) else "array"
        self.state = ChainState(
            s=s, rng=rng, energy=total_energy(instance, s),
            accepted=np.zeros(self.replicas, np.int64), trace=np.zeros((self.replicas, 0)),
        )
        self.graph = Graph(instance.indptr, instance.indices,
                           instance.couplings if self.ising else _EMPTY_J)
        self._h: np.ndarray | None = None  # cached Ising local fields (derived from s)
        self.rule: rules.Rule | None = None
        self.set_dynamics(dynamics)

    # ---- the chain state, as attributes ------------------------------------------------------
    s = property(lambda self: self.state.s, doc="Configurations int8[R, N].")
    rng = property(lambda self: self.state.rng, doc="xoshiro256** rows uint64[R, 4].")
    energy = property(lambda self: self.state.energy, doc="Total energies int64[R].")
    accepted = property(lambda self: self.state.accepted, doc="Accepted moves int64[R].")
    t = property(lambda self: self.state.t, doc="Sweeps done.")
    trace = property(lambda self: self.state.trace, doc="Window block sums float64[R, nb].")
    w0 = property(lambda self: self.state.w0, doc="Window start (sweeps).")
    blk = property(lambda self: self.state.blk, doc="Sweeps per trace block.")
    window_len = property(lambda self: self.state.window_len, doc="Window length (sweeps).")

    # ---- dynamics and tables ------------------------------------------------------------
    def set_dynamics(self, dynamics: Dynamics) -> None:
        """Switch the dynamics (e.g. along an annealing schedule); tables are rebuilt.

        A switch starts a fresh mini-batch at the next sweep (:mod:`mcsgd.dynamics.rules`):
        the run then continues exactly as a fresh run of the new dynamics started from the
        current configurations and RNG states would.
        """
        rule = rules.build(self.instance, dynamics)
        old = self.rule
        self.dynamics = dynamics
        self.rule = rule
        self.state.epoch0 = self.state.t
        self.state.flags = rules.flag_workspace(
            rule, self.replicas, self.state.flags, None if old is None else old.layout)
        if rule.mode == "heatbath":
            self._counts = np.zeros((self.replicas, self.instance.q), np.int64)

    # ---- measurement window ---------------------------------------------------------------
    def set_window(self, start: int, stop: int) -> None:
        """Record the energy after every sweep t in (start, stop] (summed in blocks)."""
        length = max(int(stop) - int(start), 0)
        st = self.state
        st.w0 = int(start)
        st.blk = max(1, math.ceil(length / MAX_TRACE_BLOCKS))
        nb = math.ceil(length / st.blk) if length else 0
        st.trace = np.zeros((self.replicas, nb))
        st.window_len = length

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
        self.state.t += int(nsweeps)

    def _advance(self, nsweeps: int, serial: bool) -> None:
        st, rule, g = self.state, self.rule, self.graph
        chain = Chain(st.s, st.rng, st.energy, st.accepted)
        rec = Recorder(st.trace, st.w0, st.blk)
        if rule.mode == "table" and ISING_FIELD and rules.uses_fields(rule, self.ising):
            if self._h is None:
                self._h = np.empty(st.s.shape, np.int16)
                kernels.ising_fields(g, st.s, self._h)
            (kernels.ising_field_sweeps_serial if serial else kernels.ising_field_sweeps)(
                g, chain, rec, self._h, rule.thr, rule.use2d, rule.dmax, nsweeps, st.t,
            )
            return
        self._h = None  # the fields no longer follow s
        if rule.mode == "table":
            (kernels.table_sweeps_serial if serial else kernels.table_sweeps)(
                g, chain, rec, self.instance.q, self.ising, rule.thr, rule.use2d, rule.dmax,
                rule.random_order, nsweeps, st.t,
            )
        elif rule.mode == "heatbath":
            (kernels.heatbath_sweeps_serial if serial else kernels.heatbath_sweeps)(
                g, chain, rec, self.instance.q, rule.wtab, rule.random_order, nsweeps, st.t,
                self._counts,
            )
        else:
            (kernels.flag_sweeps_serial if serial else kernels.flag_sweeps)(
                g, chain, rec, FlagWork(rule.eid, *st.flags), self.instance.q, self.ising,
                rule.random_order, rule.tau, st.epoch0, rule.fixed_k, rule.thr_b, nsweeps, st.t,
            )

    # ---- observables --------------------------------------------------------------------
    def energy_density(self) -> np.ndarray:
        """Energy per node float64[R]."""
        return self.state.energy / self.instance.n

    def overlap(self) -> np.ndarray | None:
        """Overlap with the planted solution float64[R] (None without one)."""
        return None if self.instance.planted is None else overlap(self.instance, self.state.s)

    # ---- checkpointing --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """The chain state as a dict (:meth:`ChainState.to_dict`; arrays are references)."""
        return self.state.to_dict()

    def load_state_dict(self, d: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` of a runner with the same instance, replicas and dynamics.

        Raises ParameterError, changing nothing, if an array has another shape or if exactly
        one side has mini-batch flag workspaces (the state was saved under other dynamics).
        """
        self.state.load_dict(d, self.dynamics)
        self._h = None  # derived from s: recomputed at the next advance
