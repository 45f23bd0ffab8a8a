"""Fixed costs before the first sweep at large N: load + validate an instance, count its energy.

Generates a planted 5-colouring (ER, c = 20, seed 1) with ``mcsgd generate`` into
``benchmarks/build/`` (or uses ``--file``), warms numba's cache once, then reports the median of
``--reps`` in-process repetitions of:

- ``read_instance``: the HDF5 read alone (:func:`mcsgd.storage.instance.read_instance`);
- ``load + validate``: :func:`mcsgd.problems.load` (read, then every check of
  :meth:`Instance.validate`);
- ``validate``: :meth:`Instance.validate` on arrays already in memory;
- ``total_energy R = 1`` and ``R = 8``: :func:`mcsgd.problems.energy.total_energy` of random
  colourings, with numba's thread count set to ``--threads`` (default: all).

Usage::

    python benchmarks/bench_fixed_costs.py [--n 10000000] [--reps 3] [--threads 2] [--file F]

The N = 10^7 file takes ≈ 2 GiB on disk (removed afterwards unless ``--keep``).
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import ROOT, build_dir, machine, median


def best_of(fn, reps: int) -> float:
    """Median wall seconds of ``reps`` calls of ``fn``."""
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return median(ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10**7)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--file", type=Path, default=None, help="an existing instance file")
    ap.add_argument("--keep", action="store_true", help="keep the generated file")
    a = ap.parse_args(argv)

    from mcsgd._numba import set_threads
    from mcsgd.problems import load
    from mcsgd.problems.energy import total_energy
    from mcsgd.storage.instance import read_instance

    path = a.file
    made = False
    if path is None:
        path = build_dir() / f"fixed_costs_coloring_{a.n}.h5"
        if not path.exists():
            exe = Path(sys.executable).with_name("mcsgd")
            cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "mcsgd"]
            subprocess.run(cmd + ["generate", "coloring", "--n", str(a.n), "--q", "5", "--c",
                                  "20", "--seed", "1", "-o", str(path)], check=True, cwd=ROOT)
            made = not a.keep
    threads = set_threads(a.threads)
    try:
        print(f"# {datetime.date.today()}  {machine()}")
        print(f"# file: {path}  numba threads: {threads}")
        inst = load(path)  # warms numba's cache
        print(f"# {inst!r}")
        _, arrays, _ = read_instance(path)
        rng = np.random.default_rng(0)
        s1 = rng.integers(0, inst.q, (1, inst.n), dtype=np.int8)
        s8 = rng.integers(0, inst.q, (8, inst.n), dtype=np.int8)
        total_energy(inst, s1[:, :10] if inst.n > 10 else s1)  # compile / load from cache
        rows = {
            "read_instance": best_of(lambda: read_instance(path), a.reps),
            "load + validate": best_of(lambda: load(path), a.reps),
            "validate (in memory)": best_of(
                lambda: type(inst)(problem=inst.problem, q=inst.q, indptr=arrays["indptr"],
                                   indices=arrays["indices"], couplings=arrays["couplings"],
                                   planted=arrays["planted"], params=inst.params), a.reps),
            "total_energy R = 1": best_of(lambda: total_energy(inst, s1), a.reps),
            "total_energy R = 8": best_of(lambda: total_energy(inst, s8), a.reps),
        }
        for k, v in rows.items():
            print(f"{v:8.3f} s  {k}")
    finally:
        if made:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
