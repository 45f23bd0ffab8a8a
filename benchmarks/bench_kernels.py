"""ns per attempted update of mcsgd's sweeps against a plain C sweep (gcc -O3) and pure Python.

Planted 5-colouring, c = 20 (ER, the reference ensemble), sequential sweeps, one replica, one
thread. For every size N the script

1. generates the instance, runs a few warm-up Metropolis sweeps from a random start and keeps
   that configuration and RNG state as the common starting point;
2. checks that the C program and numba produce *identical* final configurations and RNG states
   from it (same xoshiro256**, same one-draw-per-update scheme) for Metropolis and SGD-like;
3. times, interleaved over ``--reps`` repetitions, each from the same starting state:
   numba Metropolis, C Metropolis, numba SGD-like (exact table), C SGD-like (table) and numba
   SGD-like with explicit flags (``SGD(B, method="flags")``);
4. prints the median and minimum ns/update and the ratios (median of per-repetition ratios).

A pure Python/numpy Metropolis sweep is timed at ``--python-n`` (10^4) against numba there.

Usage::

    python benchmarks/bench_kernels.py                    # N = 1e5 and 1e6, 7 repetitions
    python benchmarks/bench_kernels.py --sizes 100000 --reps 3 --quick
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
from _common import HERE, build_dir, machine, median

from mcsgd import problems
from mcsgd.driver import Runner
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.problems.energy import total_energy

C_SRC = HERE / "c_sweep.c"


def compile_c() -> Path:
    """Compile ``c_sweep.c`` with gcc -O3 into benchmarks/build (when out of date)."""
    exe = build_dir() / "c_sweep"
    if not exe.exists() or exe.stat().st_mtime < C_SRC.stat().st_mtime:
        cc = shutil.which("gcc") or shutil.which("cc")
        if cc is None:
            sys.exit("bench_kernels: gcc not found")
        cmd = [cc, "-O3", "-std=c99", "-Wall", "-o", str(exe), str(C_SRC)]
        subprocess.run(cmd, check=True)
    return exe


def write_input(path: Path, inst, thr: np.ndarray, mode: int, dmax: int, nsweeps: int,
                s: np.ndarray, rng: np.ndarray) -> None:
    """Write the binary input of c_sweep (layout in c_sweep.c)."""
    thr = np.ascontiguousarray(thr, np.uint64).ravel()
    hdr = np.array([inst.n, inst.indices.shape[0], inst.q, mode, dmax, nsweeps, thr.size],
                   np.int64)
    with open(path, "wb") as f:
        for a in (hdr, thr, inst.indptr.astype(np.int32), inst.indices.astype(np.int32),
                  s.astype(np.int8), rng.astype(np.uint64)):
            f.write(np.ascontiguousarray(a).tobytes())


def run_c(exe: Path, inp: Path, out: Path | None = None) -> tuple[float, int, int]:
    """Run c_sweep; return (ns/update, accepted, energy change)."""
    args = [str(exe), str(inp)] + ([str(out)] if out else [])
    txt = subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()
    return float(txt[1]), int(txt[3]), int(txt[5])


class NumbaCase:
    """A Runner reset to a fixed starting state before every timing."""

    def __init__(self, inst, dyn, s0, rng0):
        self.runner = Runner(inst, dyn, replicas=1, seed=0)
        self.s0, self.rng0 = s0, rng0
        self.e0 = total_energy(inst, s0[None, :])
        self.runner.advance(0)  # compile

    def reset(self):
        r = self.runner
        r.s[0] = self.s0
        r.rng[0] = self.rng0
        r.energy[:] = self.e0
        r.accepted[:] = 0

    def time(self, nsweeps: int) -> float:
        self.reset()
        t = time.perf_counter()
        self.runner.advance(nsweeps)
        dt = time.perf_counter() - t
        return 1e9 * dt / (self.runner.instance.n * nsweeps)


def python_metropolis_sweep(indptr, indices, s, q, thr1, dmax, props, us):
    """One sequential Metropolis sweep in pure Python on numpy arrays (``props`` in 1..q-1)."""
    de = 0
    for i in range(len(s)):
        a = int(s[i])
        b = (a + int(props[i])) % q
        nb = s[indices[indptr[i]:indptr[i + 1]]]
        n_old = int(np.count_nonzero(nb == a))
        n_new = int(np.count_nonzero(nb == b))
        if us[i] < thr1[n_new - n_old + dmax]:
            s[i] = b
            de += n_new - n_old
    return de


def bench_python(n: int, T: float, sweeps: int, reps: int) -> tuple[float, float]:
    """(ns/update of pure Python, ns/update of numba), Metropolis at N = n, interleaved."""
    inst = problems.planted_coloring(n, 5, 20.0, seed=1)
    case = NumbaCase(inst, Metropolis(T), *_start(inst, T))
    thr1 = case.runner.rule.thr[0].tolist()
    dmax = case.runner.rule.dmax
    gen = np.random.default_rng(0)
    py, nb = [], []
    for _ in range(reps):
        s = case.s0.copy()
        t = time.perf_counter()
        for _ in range(sweeps):
            props = gen.integers(1, 5, size=n).tolist()
            us = gen.integers(0, 2**32, size=n).tolist()
            python_metropolis_sweep(inst.indptr, inst.indices, s, 5, thr1, dmax, props, us)
        py.append(1e9 * (time.perf_counter() - t) / (n * sweeps))
        nb.append(case.time(max(1, 2 * 10**7 // n)))
    return median(py), median(nb)


def _start(inst, T: float, warm: int = 5):
    """A common starting configuration and RNG state: ``warm`` Metropolis sweeps at T."""
    r = Runner(inst, Metropolis(T), replicas=1, seed=123)
    r.advance(warm)
    return r.s[0].copy(), r.rng[0].copy()


def check_identical(exe, inst, case: NumbaCase, mode: int, nsweeps: int = 3) -> bool:
    """C and numba give the same final configuration, RNG state and energy change."""
    bd = build_dir()
    r = case.runner
    write_input(bd / "check.bin", inst, r.rule.thr, mode, r.rule.dmax, nsweeps, case.s0,
                case.rng0)
    _, acc_c, de_c = run_c(exe, bd / "check.bin", bd / "check.out")
    raw = np.fromfile(bd / "check.out", np.uint8)
    s_c = raw[: inst.n].view(np.int8)
    rng_c = raw[inst.n:].view(np.uint64)
    case.reset()
    r.advance(nsweeps)
    return (
        np.array_equal(s_c, r.s[0])
        and np.array_equal(rng_c, r.rng[0])
        and de_c == int(r.energy[0] - case.e0[0])
        and acc_c == int(r.accepted[0])
    )


def bench_size(exe, n: int, T: float, B: float, reps: int, updates: float) -> dict:
    inst = problems.planted_coloring(n, 5, 20.0, seed=1)
    s0, rng0 = _start(inst, T)
    nsw = max(2, int(updates // n))
    met = NumbaCase(inst, Metropolis(T), s0, rng0)
    sgd = NumbaCase(inst, SGD(B), s0, rng0)
    flg = NumbaCase(inst, SGD(B, method="flags"), s0, rng0)
    same_m = check_identical(exe, inst, met, 0)
    same_s = check_identical(exe, inst, sgd, 1)
    bd = build_dir()
    for name, case, mode in (("met", met, 0), ("sgd", sgd, 1)):
        rule = case.runner.rule
        write_input(bd / f"{name}_{n}.bin", inst, rule.thr, mode, rule.dmax, nsw, s0, rng0)
    t = {k: [] for k in ("met", "c_met", "sgd", "c_sgd", "flags")}
    for _ in range(reps):
        t["met"].append(met.time(nsw))
        t["c_met"].append(run_c(exe, bd / f"met_{n}.bin")[0])
        t["sgd"].append(sgd.time(nsw))
        t["c_sgd"].append(run_c(exe, bd / f"sgd_{n}.bin")[0])
        t["flags"].append(flg.time(nsw))
    ratio = {
        "met/c": [a / b for a, b in zip(t["met"], t["c_met"], strict=True)],
        "sgd/met": [a / b for a, b in zip(t["sgd"], t["met"], strict=True)],
        "sgd/c_sgd": [a / b for a, b in zip(t["sgd"], t["c_sgd"], strict=True)],
        "flags/met": [a / b for a, b in zip(t["flags"], t["met"], strict=True)],
    }
    acc_m = run_c(exe, bd / f"met_{n}.bin")[1] / (n * nsw)
    acc_s = run_c(exe, bd / f"sgd_{n}.bin")[1] / (n * nsw)
    return {"n": n, "sweeps": nsw, "t": t, "ratio": ratio, "same_met": same_m,
            "same_sgd": same_s, "acc_met": acc_m, "acc_sgd": acc_s}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10**5, 10**6])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--T", type=float, default=0.5, help="Metropolis temperature (default 0.5)")
    ap.add_argument("--B", type=float, default=0.3, help="SGD mini-batch fraction (default 0.3)")
    ap.add_argument("--updates", type=float, default=2e7, help="updates per timing (default 2e7)")
    ap.add_argument("--python-n", type=int, default=10**4)
    ap.add_argument("--quick", action="store_true", help="fewer Python repetitions")
    a = ap.parse_args(argv)
    numba.set_num_threads(1)
    exe = compile_c()
    print(f"# {datetime.date.today()}  {machine()}")
    print(f"# planted 5-colouring, ER c = 20, sequential sweeps, 1 replica, 1 numba thread; "
          f"Metropolis T = {a.T}, SGD-like B = {a.B}; {a.reps} interleaved repetitions")
    print("# ns/update: median (min); ratios: median of per-repetition ratios (min)")
    for n in a.sizes:
        r = bench_size(exe, n, a.T, a.B, a.reps, a.updates)
        t, q = r["t"], r["ratio"]
        print(f"\nN = {n}  ({r['sweeps']} sweeps per timing; acceptance Metropolis "
              f"{r['acc_met']:.3f}, SGD {r['acc_sgd']:.3f})")
        print(f"  identical final state C vs numba: Metropolis {r['same_met']}, "
              f"SGD table {r['same_sgd']}")
        names = {"met": "numba Metropolis", "c_met": "C Metropolis (gcc -O3)",
                 "sgd": "numba SGD-like (table)", "c_sgd": "C SGD-like (table)",
                 "flags": "numba SGD-like (flags)"}
        for k, label in names.items():
            print(f"  {label:<26s} {median(t[k]):7.2f} ns/update  (min {min(t[k]):.2f})")
        for k, label in (("met/c", "Metropolis numba / C      "),
                         ("sgd/met", "SGD table / Metropolis    "),
                         ("flags/met", "SGD flags / Metropolis    "),
                         ("sgd/c_sgd", "SGD table numba / C       ")):
            print(f"  {label} {median(q[k]):6.3f}  (min {min(q[k]):.3f})")
    pyreps = 1 if a.quick else 3
    py, nb = bench_python(a.python_n, a.T, 2, pyreps)
    print(f"\nN = {a.python_n}: pure Python/numpy Metropolis {py:.0f} ns/update, numba "
          f"{nb:.2f} ns/update, Python / numba = {py / nb:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
