"""The table "BP overlap vs c around c_KS = 16" of docs/bp.md.

    python runs/bp_table.py [--n 100000] [--out runs/out/bp_table.json]

Instances ``problems.planted_coloring(n, 5, c, seed=s)`` (reference ER ensemble, instance 0 of
seed s), T = 0, random schedule, BP seed = instance seed, perturbation 1e-3, tol 1e-6; every
row from the uninformative start, and for seed 1 also from the planted start. Prints the
markdown table (stdout) and writes the rows as JSON. Wall times depend on the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from mcsgd import __version__, problems
from mcsgd.bp import bp

ROWS = [(12, 1), (14, 1), (15, 1), (15, 2), (16, 1), (16, 2), (17, 1), (17, 2), (18, 1), (20, 1)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="nodes (default 100000)")
    ap.add_argument("--out", default="runs/out/bp_table.json", help="JSON output")
    args = ap.parse_args(argv)
    rows = []
    print("| c | seed | overlap (uninformative) | iterations | converged | −f (uninf.) | time [s] "
          "| overlap (planted start) | iterations | −f (planted) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c, s in ROWS:
        inst = problems.planted_coloring(args.n, 5, float(c), seed=s)
        t0 = time.perf_counter()
        r = bp(inst, seed=s, tol=1e-6, perturbation=1e-3)
        wall = time.perf_counter() - t0
        row = {"c": c, "seed": s, "overlap": r.overlap, "iterations": r.iterations,
               "converged": r.converged, "minus_f": -r.bethe_free_energy, "time_s": wall}
        if s == 1:
            p = bp(inst, seed=s, tol=1e-6, perturbation=1e-3, init="planted")
            row.update(planted_overlap=p.overlap, planted_iterations=p.iterations,
                       planted_minus_f=-p.bethe_free_energy)
            tail = (f"{p.overlap:.4f} | {p.iterations} | {-p.bethe_free_energy:.5f}")
        else:
            tail = "– | – | –"
        rows.append(row)
        print(f"| {c} | {s} | {r.overlap:.4f} | {r.iterations} | "
              f"{'yes' if r.converged else 'no'} | {-r.bethe_free_energy:.5f} | {wall:.0f} | "
              f"{tail} |", flush=True)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump({"n": args.n, "q": 5, "version": __version__, "rows": rows}, fh, indent=1)
    print(f"rows: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
