"""Lane kernels against the scalar kernel: ns per chain-update, speed-up, threads, crossover.

Instance: ``problems.planted_coloring(N, 5, c)`` (q = 5, ER c = 20). Dynamics: Metropolis
T = 0.5 and the SGD-like reference rule B = 0.3 (sequential order). L chains = L replicas of one
dynamics, all starting from one fixed state (a random start advanced ``--warm`` sweeps, so the
acceptance is the stationary one, not the first sweep's):

- **scalar**: ``Runner(inst, dyn, replicas=L, init=s0)`` with the RNG rows of the start state,
  timed ``Runner.advance(S)`` (the scalar kernel, one chain after the other, threads split the
  replicas);
- **lanes**: a :class:`mcsgd.driver.LaneGroup` of that runner; timed the lane kernel
  ``lane_color_sweeps`` alone on the group's state (S sweeps, the group's lane blocks), and
  separately ``LaneGroup.advance(S)`` (what the driver calls: kernel, serial twin for small
  calls, RNG rows and energies copied back; configurations follow lazily) then
  ``LaneGroup.sync()`` (configurations copied back into the runner's rows).

ns per chain-update = time / (S * N * L), as wall time and as process CPU time (the CPU time
does not count the time the shared machine gives to other jobs, so 1-thread numbers stay
comparable under load; with 2 threads it sums both threads, spin-waiting included). Every
configuration is timed once per repetition, repetitions interleaved; reported are medians,
ratios are medians of per-repetition ratios (same repetition, so a load change hits both
sides). The load average is printed beside each table: 2-thread speed-ups need a machine with
a load below about 1 to mean anything.

Sections:

1. the targets: L = 64, N in ``--sizes``, both dynamics, 1 and 2 threads;
2. crossover (``--crossover-n``, Metropolis): L in ``--chains`` (default 4 8 16 32 64 128),
   lanes vs scalar on 1 and 2 threads (the ``auto`` layout's ``LANES_PER_THREAD``);
3. block costs: one block of W lanes (W = 8, 16, 32, 64), 1 thread: ns per site per block,
   beside ``BLOCK_COST`` of ``mcsgd/driver/lanes.py``;
4. memory: a STREAM-like numpy copy (bandwidth) and random 64-byte row reads (the lane
   kernel's access pattern: one row per neighbour) in a numba loop, giving the physical limit
   of a chain-update: c rows / 64 lanes per update.

Usage::

    python benchmarks/bench_lanes.py [--sizes 100000 1000000] [--reps 3] [--quick]
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import time

import numba
import numpy as np
from _common import machine, median

from mcsgd import problems
from mcsgd._numba import threads_scope
from mcsgd.driver import LaneGroup, Runner
from mcsgd.driver.lanes import BLOCK_COST, LANES_PER_THREAD, plan_blocks
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.dynamics.kernels import Recorder
from mcsgd.dynamics.kernels.lanes import lane_color_sweeps
from mcsgd.dynamics.kernels.prefetch import prefetch

DYNAMICS = {"metropolis": Metropolis(0.5), "sgd": SGD(0.3)}
EST_NS = {"scalar": 70.0, "lanes": 10.0}  # rough ns per chain-update, to size the calls


def load1() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


class Start:
    """A fixed start state of L chains: configurations, RNG rows (advanced ``warm`` sweeps)."""

    def __init__(self, inst, dyn, chains: int, warm: int, seed: int = 7) -> None:
        r = Runner(inst, dyn, replicas=chains, seed=seed)
        if warm:  # the lane layout is bit-identical and faster: warm up with it
            g = LaneGroup([r], threads=numba.config.NUMBA_NUM_THREADS)
            g.advance(warm)
            g.sync()  # the runner's configurations follow the lanes lazily
        self.inst, self.dyn, self.chains = inst, dyn, chains
        self.s = r.s.copy()
        self.rng = r.rng.copy()

    def runner(self, threads: int) -> Runner:
        r = Runner(self.inst, self.dyn, replicas=self.chains, init=self.s, threads=threads)
        r.state.rng[:] = self.rng
        return r


class Clock:
    """Wall and process CPU seconds of a block (``with Clock() as c: ...; c.wall, c.cpu``)."""

    def __enter__(self) -> Clock:
        self.w0, self.c0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0


def time_scalar(start: Start, threads: int, sweeps: int) -> Clock:
    """Wall and CPU seconds of ``Runner.advance(sweeps)`` (scalar layout) from the start."""
    r = start.runner(threads)
    r.advance(0)
    with Clock() as c:
        r.advance(sweeps)
    return c


def lane_group(start: Start, threads: int, width: int | None = None) -> LaneGroup:
    g = LaneGroup([start.runner(threads)], threads=threads, width=width)
    g.advance(0, serial=True)  # compile / load both variants
    g.advance(0, serial=False)
    return g


def time_lane_kernel(g: LaneGroup, threads: int, sweeps: int) -> Clock:
    """Wall and CPU seconds of the lane kernel alone (``sweeps`` sweeps of the group's state,
    in the group's lane blocks)."""
    rec = Recorder(np.zeros((g.padded, 0)), 0, 1)
    with threads_scope(threads):
        lane_color_sweeps(g.graph, g.chain, rec, g.instance.q, g.tab, 0, g.t)  # compile
        with Clock() as c:
            lane_color_sweeps(g.graph, g.chain, rec, g.instance.q, g.tab, sweeps, g.t)
    return c


def time_lane_advance(g: LaneGroup, sweeps: int) -> Clock:
    """Wall and CPU seconds of ``LaneGroup.advance(sweeps)`` + ``sync()`` (kernel + copy
    back)."""
    with Clock() as c:
        g.advance(sweeps)
        g.sync()
    return c


def ns(c: Clock, updates: int) -> tuple[float, float]:
    """(wall, CPU) ns per update."""
    return 1e9 * c.wall / updates, 1e9 * c.cpu / updates


def med(xs: list[tuple[float, float]], k: int) -> float:
    """Median of component k (0 wall, 1 CPU)."""
    return median([x[k] for x in xs])


def med_ratio(a: list, b: list, k: int = 0) -> float:
    """Median over repetitions of a[i][k] / b[i][k]."""
    return median([x[k] / y[k] for x, y in zip(a, b, strict=True)])


def cell(xs: list) -> str:
    """'wall (cpu)' medians."""
    return f"{med(xs, 0):.2f} ({med(xs, 1):.2f})"


def nsweeps(kind: str, n: int, chains: int, budget: float) -> int:
    """Sweeps per timed call so that it lasts about ``budget`` seconds."""
    return max(1, round(budget / (EST_NS[kind] * 1e-9 * n * chains)))


def fmt_load(loads: list[float]) -> str:
    return f"load {min(loads):.2f}-{max(loads):.2f} (median {median(loads):.2f})"


# ---- 1. targets --------------------------------------------------------------------------
def targets(sizes, c: float, chains: int, reps: int, warm: int, budget: float) -> None:
    print(f"\n## 1. {chains} lanes vs the scalar kernel ({chains} replicas), planted q = 5, "
          f"ER c = {c:g}; ns per chain-update, wall (CPU time), median of {reps} interleaved "
          "repetitions; ratios: median of per-repetition wall ratios (CPU-time ratio)")
    print("| N | dynamics | scalar 1t | lanes 1t | scalar/lanes 1t | scalar 2t | lanes 2t "
          "| lanes 2t/1t wall | scalar 2t/1t wall | lanes advance + sync 1t | load |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        t0 = time.perf_counter()
        inst = problems.planted_coloring(n, 5, c, seed=1)
        print(f"<!-- N = {n}: instance generated in {time.perf_counter() - t0:.1f} s -->",
              flush=True)
        for name, dyn in DYNAMICS.items():
            start = Start(inst, dyn, chains, warm)
            ss = nsweeps("scalar", n, chains, budget)
            sl = nsweeps("lanes", n, chains, budget)
            upd_s, upd_l = ss * n * chains, sl * n * chains
            res: dict[str, list] = {k: [] for k in ("s1", "s2", "l1", "l2", "a1")}
            loads = []
            for _ in range(reps):
                for th in (1, 2):
                    loads.append(load1())
                    res[f"s{th}"].append(ns(time_scalar(start, th, ss), upd_s))
                    g = lane_group(start, th)
                    res[f"l{th}"].append(ns(time_lane_kernel(g, th, sl), upd_l))
                    if th == 1:
                        g = lane_group(start, th)
                        res["a1"].append(ns(time_lane_advance(g, sl), upd_l))
            print(f"| {n:.0e} | {name} | {cell(res['s1'])} | {cell(res['l1'])} | "
                  f"**{med_ratio(res['s1'], res['l1']):.1f}x** "
                  f"({med_ratio(res['s1'], res['l1'], 1):.1f}x) | {cell(res['s2'])} | "
                  f"{cell(res['l2'])} | {med_ratio(res['l1'], res['l2']):.2f}x | "
                  f"{med_ratio(res['s1'], res['s2']):.2f}x | {cell(res['a1'])} "
                  f"| {fmt_load(loads)} |", flush=True)
            del start


# ---- 2. crossover -----------------------------------------------------------------------
def crossover(n: int, c: float, chain_counts, reps: int, warm: int, budget: float) -> None:
    print(f"\n## 2. crossover, N = {n:.0e}, Metropolis T = 0.5: ns per chain-update, wall "
          f"(CPU time) (LANES_PER_THREAD = {LANES_PER_THREAD}); lane blocks of 1 and 2 threads "
          "from plan_blocks")
    print("| chains | scalar 1t | lanes 1t | scalar/lanes 1t | scalar 2t | lanes 2t "
          "| scalar/lanes 2t wall | blocks 1t / 2t | load |")
    print("|---|---|---|---|---|---|---|---|---|")
    inst = problems.planted_coloring(n, 5, c, seed=1)
    dyn = DYNAMICS["metropolis"]
    for chains in chain_counts:
        start = Start(inst, dyn, chains, warm)
        ss = nsweeps("scalar", n, chains, budget)
        sl = nsweeps("lanes", n, max(chains, 8), budget)
        res: dict[str, list] = {k: [] for k in ("s1", "s2", "l1", "l2")}
        loads = []
        for _ in range(reps):
            for th in (1, 2):
                loads.append(load1())
                res[f"s{th}"].append(ns(time_scalar(start, th, ss), ss * n * chains))
                g = lane_group(start, th)
                res[f"l{th}"].append(ns(time_lane_kernel(g, th, sl), sl * n * chains))
        b1, b2 = (np.diff(plan_blocks(chains, t)).tolist() for t in (1, 2))
        print(f"| {chains} | {cell(res['s1'])} | {cell(res['l1'])} | "
              f"{med_ratio(res['s1'], res['l1']):.2f}x ({med_ratio(res['s1'], res['l1'], 1):.2f}x)"
              f" | {cell(res['s2'])} | {cell(res['l2'])} | "
              f"{med_ratio(res['s2'], res['l2']):.2f}x | {b1} / {b2} | {fmt_load(loads)} |",
              flush=True)


# ---- 3. block costs ---------------------------------------------------------------------
def block_costs(n: int, c: float, reps: int, warm: int, budget: float) -> None:
    print(f"\n## 3. one lane block of W lanes, 1 thread, N = {n:.0e}, Metropolis T = 0.5: "
          "ns per site (= per W chain-updates)")
    print("| W | ns/site wall (CPU) | ns/chain-update wall (CPU) | BLOCK_COST[W] | load |")
    print("|---|---|---|---|---|")
    inst = problems.planted_coloring(n, 5, c, seed=1)
    dyn = DYNAMICS["metropolis"]
    widths = (8, 16, 32, 64)
    groups = {w: lane_group(Start(inst, dyn, w, warm), 1, width=w) for w in widths}
    res: dict[int, list] = {w: [] for w in widths}
    loads = []
    for _ in range(reps):
        for w in widths:
            loads.append(load1())
            sw = nsweeps("lanes", n, 64, budget)
            res[w].append(ns(time_lane_kernel(groups[w], 1, sw), sw * n))
    for w in widths:
        m0, m1 = med(res[w], 0), med(res[w], 1)
        ref = BLOCK_COST.get(w)
        print(f"| {w} | {m0:.1f} ({m1:.1f}) | {m0 / w:.2f} ({m1 / w:.2f}) | "
              f"{'-' if ref is None else f'{ref:g}'} | {fmt_load(loads)} |", flush=True)


# ---- 4. memory limits -------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _gather_rows(s, idx, ahead):  # pragma: no cover - timed
    """Sum the 64-byte rows s[idx[k]] (uint64[N, 8] view), prefetching row idx[k + ahead]
    (ahead = 0: no prefetch)."""
    acc = np.zeros(8, np.uint64)
    m = idx.shape[0]
    for k in range(m):
        if ahead and k + ahead < m:
            prefetch(s, np.uint32(idx[k + ahead]), np.uint64(0))
        row = s[np.uint32(idx[k])]
        for v in range(8):
            acc[v] += row[v]
    return acc


def memory_limits(sizes, c: float, reps: int) -> None:
    print("\n## 4. memory: STREAM-like copy and random 64-byte row reads, 1 thread (wall)")
    nbytes = 256 * 2**20
    a = np.ones(nbytes, np.uint8)
    b = np.empty_like(a)
    np.copyto(b, a)
    ts = []
    for _ in range(max(reps, 3)):
        t = time.perf_counter()
        np.copyto(b, a)
        ts.append(time.perf_counter() - t)
    bw = 2 * nbytes / median(ts) / 1e9  # read + write
    print(f"copy of {nbytes >> 20} MiB: {bw:.1f} GB/s (read + write counted once each; "
          f"load {load1():.2f})")
    del a, b
    print("| N (rows of 64 B) | random row reads: ns per row, plain / prefetched 8 / 32 ahead "
          f"| limit: ns per chain-update (c = {c:g} rows / 64 lanes) | bytes read per "
          "chain-update | load |")
    print("|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for n in sizes:
        s = np.ones((n, 8), np.uint64)
        m = 4 * 10**6
        idx = rng.integers(0, n, m).astype(np.int32)
        best = []
        for ahead in (0, 8, 32):
            _gather_rows(s, idx[:10], ahead)
            ts = []
            for _ in range(max(reps, 3)):
                with Clock() as ck:
                    _gather_rows(s, idx, ahead)
                ts.append(ck.wall)
            best.append(1e9 * median(ts) / m)
        lim = min(best) * c / 64
        print(f"| {n:.0e} | {' / '.join(f'{x:.2f}' for x in best)} | {lim:.2f} | {c * 64 / 64:.0f} "
              f"| {load1():.2f} |", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6])
    ap.add_argument("--c", type=float, default=20.0)
    ap.add_argument("--lanes", type=int, default=64, help="chains of the target section")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warm", type=int, default=3, help="warm-up sweeps of the start state")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds per timed call (about)")
    ap.add_argument("--crossover-n", type=int, default=10**5)
    ap.add_argument("--chains", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128])
    ap.add_argument("--sections", default="1234", help="which sections to run (digits)")
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 1 repetition, short calls, N = 20000 for sections 2-4")
    a = ap.parse_args(argv)
    if a.quick:
        a.reps, a.warm, a.budget = 1, 1, 0.05
        a.crossover_n = min(a.crossover_n, 20000)
        a.chains = [8, 64]
    if numba.config.NUMBA_NUM_THREADS < 2:
        print("warning: numba has fewer than 2 threads; the 2-thread columns use 1")
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  {machine()}")
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    simd = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
    print(f"# SIMD: {simd}; load average at start {os.getloadavg()}")
    if "1" in a.sections:
        targets(a.sizes, a.c, a.lanes, a.reps, a.warm, a.budget)
    if "2" in a.sections:
        crossover(a.crossover_n, a.c, a.chains, a.reps, a.warm, a.budget)
    if "3" in a.sections:
        block_costs(a.crossover_n, a.c, a.reps, a.warm, a.budget)
    if "4" in a.sections:
        msizes = [min(a.crossover_n, 10**5)] if a.quick else sorted({10**5, 10**6, 10**7})
        memory_limits(msizes, a.c, a.reps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
