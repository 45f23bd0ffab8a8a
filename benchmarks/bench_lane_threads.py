"""Lane kernels on 1 and 2 threads: ns per chain-update of ``LaneGroup.advance`` and the speed-up.

Planted q = 5 colouring, ER c = 20; L replicas of Metropolis (T = 0.5) and of the SGD-like
reference rule (B = 0.3), each in a lane group planned for 1 and for 2 threads (64 lanes on 2
threads: two 32-lane blocks; 128 lanes: two 64-lane blocks), from the same start (2 warm-up
sweeps); medians over interleaved repetitions. Run it on an otherwise idle machine: a second
job on the other core makes the 2-thread number meaningless.

    python benchmarks/bench_lane_threads.py --n 100000 --lanes 64 --sweeps 20 --reps 5
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
from _common import machine

from mcsgd import problems
from mcsgd.driver import LaneGroup, Runner
from mcsgd.dynamics import SGD, Metropolis


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--lanes", type=int, default=64)
    ap.add_argument("--sweeps", type=int, default=10)
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    n, nl = args.n, args.lanes
    print(f"# {machine()}; load average {os.getloadavg()[0]:.1f}")
    inst = problems.planted_coloring(n, 5, 20.0, seed=1)
    print("| lanes | N | dynamics | 1 thread (ns/chain-update) | 2 threads | speed-up |")
    print("|---|---|---|---|---|---|")
    for dyn in (Metropolis(0.5), SGD(0.3)):
        groups = {}
        for th in (1, 2):
            r = Runner(inst, dyn, replicas=nl, seed=1)
            r.set_window(0, 0)
            g = LaneGroup([r], threads=th)
            g.advance(0, serial=False)
            g.advance(2, serial=False)
            groups[th] = g
        res: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.reps):
            for th in (1, 2):
                t = time.perf_counter()
                groups[th].advance(args.sweeps, serial=False)
                res[th].append((time.perf_counter() - t) / (args.sweeps * n * nl) * 1e9)
        m1, m2 = float(np.median(res[1])), float(np.median(res[2]))
        name = "Metropolis T = 0.5" if isinstance(dyn, Metropolis) else "SGD-like B = 0.3"
        print(f"| {nl} | {n:.0e} | {name} | {m1:.2f} | {m2:.2f} | {m1 / m2:.2f}× |", flush=True)
    print(f"# load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
