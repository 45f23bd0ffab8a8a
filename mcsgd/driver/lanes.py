"""The lane layout: the chains of several runners on one instance advanced in one pass.

A :class:`LaneGroup` takes runners that share an instance, a sweep count and a measurement
window (each with its own dynamics, replicas, seed, key and initial state) and advances all
their chains together with the lane kernels (:mod:`mcsgd.dynamics.kernels.lanes`): the
configurations are stored replica-major ``s[i, lane]`` (64-byte aligned rows), every lane keeps
its own xoshiro256** row and its own acceptance table. After every call the runners' own chain
states are brought up to date (configurations, RNG rows, energies, counters, trace, ``t``), so
observables, checkpoints and results are read from the runners as in the scalar layout; they
are bit-identical to it (``tests/dynamics/test_lanes.py``).

The group is driven by :func:`mcsgd.driver.loop.record_loop` like a runner: it has
``instance``, ``replicas`` (all its lanes), ``t``, ``accepted``, ``advance``, ``serial``,
``energy_density`` and ``overlap``.

Lane blocks (:func:`plan_blocks`): lanes are padded to whole blocks of 64, 32 or 8 lanes (the
widths the kernels are compiled for; padding lanes never accept a move and are dropped), and
the blocks are spread over the threads. The choice uses per-block costs measured on the
development machine (``BLOCK_COST``); it changes speed only, never results.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mcsgd._numba import threads_scope
from mcsgd.dynamics import rules
from mcsgd.dynamics.kernels import Graph, Recorder
from mcsgd.dynamics.kernels import lanes as lk
from mcsgd.dynamics.kernels.lanes import LaneChain, lane_ising_fields, lanes_to_rows, rows_to_lanes
from mcsgd.errors import ParameterError

SERIAL_WORK = 200_000  # half-edge visits x lanes below which a call runs on one thread
ALIGN = 64  # bytes: one cache line holds the 64 lanes of a site
# ns per site per block of W lanes, one thread, N = 1e5, c = 20, AVX-512 (docs/performance.md,
# "Crossover"); 16-lane blocks are never planned (slower per site than 32-lane ones)
BLOCK_COST = {64: 130.0, 32: 77.0, 8: 93.0}
LAYOUTS = ("auto", "scalar", "lanes")
LANES_PER_THREAD = 8  # auto layout: lanes from this many chains per thread (measured crossover)
FAST_KINDS = ("color", "ising")  # kinds where sharing the neighbour rows pays


def aligned_empty(shape: tuple[int, ...], dtype, align: int = ALIGN) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an ``align``-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buf = np.empty(nbytes + align, np.uint8)
    off = (-buf.ctypes.data) % align
    return buf[off:off + nbytes].view(dtype).reshape(shape)


def plan_blocks(lanes: int, threads: int) -> np.ndarray:
    """Lane-block boundaries int64[nb + 1] for ``lanes`` chains on ``threads`` threads.

    All blocks have one width W in {64, 32, 8}; their number is a multiple of ``threads`` when
    that does not cost more, so numba's static split of the blocks gives every thread the same
    work. W minimises the estimated wall time ``ceil(nb / threads) * BLOCK_COST[W]``; the last
    boundary (the padded lane count) may exceed ``lanes``.
    """
    if lanes < 1:
        raise ParameterError(f"lanes = {lanes} is not in [1, inf)")
    threads = max(1, int(threads))
    best = None
    for w in (64, 32, 8):
        nb = math.ceil(lanes / w)
        per = math.ceil(nb / threads)
        cost = per * BLOCK_COST[w]
        key = (cost, nb * w)
        if best is None or key < best[0]:
            best = (key, w, nb)
    _, w, nb = best
    return np.arange(nb + 1, dtype=np.int64) * w


def resolve_layout(layout: str, kind: str | None, chains: int, threads: int) -> str:
    """``"scalar"`` or ``"lanes"`` for a group of ``chains`` chains of lane ``kind``.

    ``auto``: lanes for the kinds where sharing pays (sequential colouring and Ising tables) from
    :data:`LANES_PER_THREAD` chains per thread on (below, the scalar kernel's one chain per
    thread is faster: docs/performance.md); ``lanes`` is refused for rules without a lane kernel
    (explicit mini-batch flags).
    """
    if layout not in LAYOUTS:
        raise ParameterError(f"layout = {layout!r} is not one of {', '.join(LAYOUTS)}")
    if layout == "scalar":
        return "scalar"
    if kind is None:
        if layout == "lanes":
            raise ParameterError(
                "layout = 'lanes' has no kernel for this dynamics (explicit mini-batch flags, "
                f"or a degree above {rules.LANE_MAX_DEGREE}); use layout = 'scalar' or 'auto'")
        return "scalar"
    if layout == "lanes":
        return "lanes"
    ok = kind in FAST_KINDS and chains >= LANES_PER_THREAD * max(1, int(threads))
    return "lanes" if ok else "scalar"


class LaneGroup:
    """The chains of ``runners`` (same instance, ``t``, window and lane kind) in one lane state.

    Parameters
    ----------
    runners : sequence of Runner
        Lanes are their replicas in order (runner 0's replicas first).
    threads : int, optional
        numba threads for the kernel calls (default: the process setting); the lane blocks are
        planned for it (:func:`plan_blocks`).
    width : int, optional
        Force one block width (8, 16, 32 or 64 lanes; benchmarks). Speed only.
    """

    def __init__(self, runners: Sequence, threads: int | None = None,
                 width: int | None = None) -> None:
        if not runners:
            raise ParameterError("a lane group needs at least one runner")
        first = runners[0]
        self.runners = list(runners)
        self.instance = first.instance
        self.threads = threads
        self.ising = first.ising
        kinds = {rules.lane_kind(r.rule, r.ising) for r in self.runners}
        if len(kinds) != 1 or None in kinds:
            raise ParameterError(f"runners of one lane group need one lane kind (got {kinds})")
        self.kind = kinds.pop()
        for r in self.runners:
            if r.instance is not self.instance:
                raise ParameterError("runners of one lane group must share their instance")
            if (r.t, r.w0, r.blk, r.trace.shape[1]) != (first.t, first.w0, first.blk,
                                                        first.trace.shape[1]):
                raise ParameterError("runners of one lane group need the same t and window")
        self.offsets = np.cumsum([0] + [r.replicas for r in self.runners])
        self.replicas = int(self.offsets[-1])
        self.t = int(first.t)
        self._h: np.ndarray | None = None
        self._stale = False
        self.always_sync = False  # set by callers that read runner.s after every call
        with threads_scope(threads) as nthreads:
            plan = plan_blocks(self.replicas, nthreads)
        if width is not None:
            if width not in BLOCK_COST and width != 16:
                raise ParameterError(f"width = {width} is not one of 8, 16, 32, 64")
            plan = np.arange(-(-self.replicas // width) + 1, dtype=np.int64) * width
        self.plan = plan
        self._pack()

    # ---- packing ----------------------------------------------------------------------------
    def _pack(self) -> None:
        n = self.instance.n
        w = int(self.plan[1] - self.plan[0])
        nb = len(self.plan) - 1
        lp = nb * w
        self.padded = lp
        s = aligned_empty((nb, n, w), np.int8)
        for lane in range(self.replicas, lp):  # padding lanes: valid, never moved
            s[lane // w, :, lane % w] = 1 if self.ising else 0
        rng = np.zeros((lp, 4), np.uint64)
        rng[self.replicas:] = np.arange(1, 5, dtype=np.uint64)[None, :]
        energy = np.zeros(lp, np.int64)
        accepted = np.zeros(lp, np.int64)
        d = max(self.instance.max_degree, 1)
        if self.kind.startswith("heatbath"):
            tab = np.zeros((lp, d + 1), np.float64)
            tab[self.replicas:, 0] = 1.0  # padding lanes: valid weights (dropped)
        else:
            tab = np.zeros((d + 1, d + 1, lp), np.uint64)  # padding lanes: never accept
        trace = np.zeros((lp, self.runners[0].trace.shape[1]))
        for r, l0 in zip(self.runners, self.offsets[:-1], strict=False):
            st = r.state
            sl = slice(int(l0), int(l0) + r.replicas)
            rows_to_lanes(np.ascontiguousarray(st.s), s, int(l0))
            rng[sl] = st.rng
            energy[sl] = st.energy
            accepted[sl] = st.accepted
            trace[sl] = st.trace
            self._set_table(tab, sl, r.rule)
        self.chain = LaneChain(s, rng, energy, accepted)
        self.tab = tab
        self.trace = trace
        self.graph = Graph(self.instance.indptr, self.instance.indices,
                           self.instance.couplings if self.ising else np.zeros(0, np.int8))
        if self.kind.startswith("heatbath"):
            self._counts = np.zeros((lp, self.instance.q), np.int64)

    @staticmethod
    def _set_table(tab: np.ndarray, sl: slice, rule) -> None:
        """Lanes ``sl`` of the tables: heat-bath weights ``tab[l]``, or thresholds
        ``tab[n_old, n_new, l]`` (lane-minor: lanes at the same counts read nearby lines)."""
        if rule.mode == "heatbath":
            tab[sl] = rule.wtab
        else:
            tab[:, :, sl] = rules.lane_table(rule)[:, :, None]

    def _unpack(self, configurations: bool) -> None:
        ch = self.chain
        for r, l0 in zip(self.runners, self.offsets[:-1], strict=False):
            st = r.state
            sl = slice(int(l0), int(l0) + r.replicas)
            if configurations:
                lanes_to_rows(ch.s, st.s, int(l0))
            st.rng[:] = ch.rng[sl]
            st.energy[:] = ch.energy[sl]
            st.accepted[:] = ch.accepted[sl]
            st.trace[:] = self.trace[sl]
            st.t = self.t
            r._h = None  # the scalar fields no longer follow s
        self._stale = not configurations

    def sync(self) -> None:
        """Bring the runners' configurations up to date (the rest always is after a call)."""
        if self._stale:
            self._unpack(True)

    # ---- the runner interface of record_loop ---------------------------------------------
    @property
    def accepted(self) -> np.ndarray:
        """Accepted moves int64[L] of the real lanes."""
        return self.chain.accepted[:self.replicas]

    def energy_density(self) -> np.ndarray:
        """Energy per node float64[L]."""
        return self.chain.energy[:self.replicas] / self.instance.n

    def overlap(self) -> np.ndarray | None:
        """Overlap with the planted solution float64[L] (None without one)."""
        if self.instance.planted is None:
            return None
        self.sync()
        return np.concatenate([r.overlap() for r in self.runners])

    def serial(self, nsweeps: int) -> bool:
        """Whether ``advance(nsweeps)`` runs the serial twin of its kernel (small calls do:
        waking the thread pool costs more than it saves; results are identical)."""
        work = self.instance.indices.shape[0] * self.replicas * int(nsweeps)
        return work < SERIAL_WORK

    def blocks(self, threads: int | None = None) -> np.ndarray:
        """The lane-block boundaries int64[nb + 1] of this group (planned at construction; the
        argument is accepted for compatibility and ignored)."""
        return self.plan

    def refresh_tables(self) -> None:
        """Re-read every runner's current rule into the per-lane tables (after
        ``runner.set_dynamics``, e.g. along an annealing schedule): the configurations, fields
        and RNG rows stay in the lanes, so this costs only the tables (a :meth:`repack` would
        transpose everything back and forth)."""
        for r, l0 in zip(self.runners, self.offsets[:-1], strict=False):
            if rules.lane_kind(r.rule, r.ising) != self.kind:
                raise ParameterError(
                    f"refresh_tables: a runner's dynamics ({r.dynamics!r}) has another lane "
                    f"kind than the group ({self.kind}); use a new group")
            sl = slice(int(l0), int(l0) + r.replicas)
            self._set_table(self.tab, sl, r.rule)

    def advance(self, nsweeps: int, *, serial: bool | None = None) -> None:
        """Run ``nsweeps`` sweeps on every lane, then update the runners' chain states
        (configurations lazily, at :meth:`sync` or :meth:`overlap`, unless
        ``always_sync``). ``serial``: force the serial twin (True) or the parallel kernel
        (False); default :meth:`serial`. ``nsweeps = 0`` only compiles or loads the kernel."""
        if nsweeps < 0:
            raise ParameterError(f"nsweeps = {nsweeps} is not in [0, inf)")
        ser = self.serial(nsweeps) if serial is None else bool(serial)
        ch, g = self.chain, self.graph
        rec = Recorder(self.trace, self.runners[0].w0, self.runners[0].blk)
        q = self.instance.q
        sfx = "_serial" if ser else ""
        with threads_scope(self.threads):
            if self.kind == "color":
                getattr(lk, "lane_color_sweeps" + sfx)(g, ch, rec, q, self.tab, nsweeps, self.t)
            elif self.kind == "ising":
                if self._h is None:
                    self._h = aligned_empty(ch.s.shape, np.int16)
                    lane_ising_fields(g, ch.s, self._h)
                getattr(lk, "lane_ising_field_sweeps" + sfx)(g, ch, rec, self._h, self.tab,
                                                             nsweeps, self.t)
            elif self.kind == "random":
                getattr(lk, "lane_random_sweeps" + sfx)(g, ch, rec, q, self.ising, self.tab,
                                                        nsweeps, self.t)
            else:
                getattr(lk, "lane_heatbath_sweeps" + sfx)(
                    g, ch, rec, q, self.tab, self.runners[0].rule.random_order, nsweeps,
                    self.t, self._counts)
        self.t += int(nsweeps)
        if nsweeps:
            self._unpack(self.always_sync)

    def repack(self) -> None:
        """Re-read every runner's chain state (after a runner was restored from a checkpoint)."""
        self.t = int(self.runners[0].t)
        self._h = None
        self._stale = False
        self._pack()
