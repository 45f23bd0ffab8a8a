"""``mcsgd calibrate`` in the scalar and the lanes layout: wall time and identical numbers.

Runs the same calibration twice as whole CLI processes (numba cache warmed first by a tiny
calibration), ``--layout scalar`` then ``--layout lanes`` (or interleaved over ``--reps``),
with ``--json``, and checks that every number of the two JSON outputs is equal except the
``timing`` entries. Prints the wall times and their ratio (scalar / lanes).

Issue 13's target: one c, N = 5e4, 11 values of B, 4 instances x 8 replicas, the default T
grid: lanes >= 5x faster, identical numbers. Usage::

    python benchmarks/bench_calibrate_layout.py                     # the issue's set-up
    python benchmarks/bench_calibrate_layout.py --n 2000 --sweeps 40 --B 0.3,0.7   # a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time

from _common import ROOT, machine, median


def strip_timing(x):
    """The JSON value without its timing entries (they differ between runs)."""
    if isinstance(x, dict):
        return {k: strip_timing(v) for k, v in x.items() if k not in ("timing",)}
    if isinstance(x, list):
        return [strip_timing(v) for v in x]
    return x


def calibrate(args: argparse.Namespace, layout: str, extra: list[str] | None = None):
    cmd = [sys.executable, "-m", "mcsgd", "calibrate", "--c", str(args.c), "--n", str(args.n),
           "--B", args.B, "--instances", str(args.instances), "--replicas", str(args.replicas),
           "--sweeps", str(args.sweeps), "--seed", "1", "--layout", layout, "--json",
           "--quiet"] + (extra or [])
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return dt, json.loads(out.stdout), " ".join(cmd[2:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50000)
    ap.add_argument("--c", type=float, default=20.0)
    ap.add_argument("--B", default="0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,0.94,0.98")
    ap.add_argument("--instances", type=int, default=4)
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--sweeps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--reps", type=int, default=1, help="interleaved repetitions (median)")
    args = ap.parse_args()
    print(f"# {datetime.date.today()} {machine()}; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    # warm numba's cache for both layouts (not timed)
    warm = argparse.Namespace(**{**vars(args), "n": 500, "sweeps": 8, "B": "0.5",
                                 "instances": 2, "replicas": 2})
    for lay in ("scalar", "lanes"):
        calibrate(warm, lay)
    ts, tl = [], []
    for _ in range(args.reps):
        dt_s, js, cmd = calibrate(args, "scalar")
        dt_l, jl, _ = calibrate(args, "lanes")
        ts.append(dt_s)
        tl.append(dt_l)
        same = strip_timing(js) == strip_timing(jl)
        print(f"scalar {dt_s:8.1f} s   lanes {dt_l:8.1f} s   ratio {dt_s / dt_l:5.2f}   "
              f"identical numbers: {same}")
        if not same:
            print("ERROR: the two layouts gave different numbers", file=sys.stderr)
            return 1
    print(f"command: {cmd} (and --layout lanes)")
    print(f"median wall: scalar {median(ts):.1f} s, lanes {median(tl):.1f} s, "
          f"ratio {median(ts) / median(tl):.2f} (target >= 5)")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
