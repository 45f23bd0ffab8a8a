"""Peak memory of an N = 10^6, c = 20 planted 5-colouring: generation, and load + one replica.

Every measurement runs in a fresh subprocess which first imports everything and compiles the
kernels on a tiny instance (numba's cache makes that cheap once warm), records its resident set
RSS0, resets the kernel's high-water mark (``echo 5 > /proc/self/clear_refs``), then does the
measured work and reads ``VmHWM`` from ``/proc/self/status``. Reported:

- ``peak``: VmHWM of the process (interpreter, numpy, numba and compiled code included);
- ``extra``: VmHWM - RSS0, the memory the measured work needed;

each also as a multiple of the CSR arrays' size (indptr + indices bytes).

``--lanes L``: the run is L replicas (random start) of Metropolis T = 0.5 in a
:class:`mcsgd.driver.LaneGroup` (the lane layout, ``s[i, lane]``; 2 threads), ``--sweeps`` lane
sweeps; the child also prints VmHWM and the seconds after each phase (load, runner with its
L row-major configurations and energies, lane group, sweeps). ``--dir`` puts the instance file
elsewhere (N = 10^7, c = 20 is about 1 GiB; ``--keep`` leaves it there, and an existing file is
reused instead of generated again).

Usage::

    python benchmarks/bench_memory.py [--n 1000000] [--c 20] [--sweeps 3] [--lanes 64]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

from _common import build_dir, machine, run_python

CHILD = r"""
import json, sys
import numpy as np

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return -1

from mcsgd import problems
from mcsgd.dynamics import Metropolis
from mcsgd.driver import LaneGroup, Runner
import time

task, path = sys.argv[1], sys.argv[2]
n, c, sweeps, lanes = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
phases = []
t0 = time.perf_counter()

def phase(name):
    phases.append([name, time.perf_counter() - t0, status("VmHWM"), status("VmRSS")])

# warm-up: imports, compilation (or cache loading) and the HDF5 machinery on a tiny instance
tiny = problems.planted_coloring(100, 5, c, seed=0)
Runner(tiny, Metropolis(1.0), replicas=1, seed=0).advance(1)
if lanes:
    LaneGroup([Runner(tiny, Metropolis(1.0), replicas=lanes, seed=0)]).advance(1)
rss0 = status("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    reset = True
except OSError:
    reset = False
if task == "generate":
    inst = problems.planted_coloring(n, 5, c, seed=1)
    if path != "-":
        inst.save(path)
elif task == "run":
    inst = problems.load(path)
    r = Runner(inst, Metropolis(0.5), replicas=1, seed=0)
    r.advance(sweeps)
elif task == "lanes":
    t0 = time.perf_counter()
    inst = problems.load(path)
    phase("load")
    r = Runner(inst, Metropolis(0.5), replicas=lanes, seed=0)
    phase(f"Runner({lanes} replicas)")
    g = LaneGroup([r])
    phase("LaneGroup")
    g.advance(sweeps)
    phase(f"{sweeps} lane sweep(s)")
csr = inst.indptr.nbytes + inst.indices.nbytes
print(json.dumps({"rss0": rss0, "hwm": status("VmHWM"), "csr": csr, "reset": reset,
                  "phases": phases, "indptr": inst.indptr.nbytes,
                  "indices": inst.indices.nbytes}))
"""


def measure(task: str, path: str, n: int, c: float, sweeps: int, lanes: int = 0) -> dict:
    out = run_python(CHILD, task, path, str(n), str(c), str(sweeps), str(lanes))
    return json.loads(out.strip().splitlines()[-1])


def lanes_main(a) -> int:
    """The ``--lanes`` measurement: generate (unless the file exists), then load + lanes."""
    d = (a.dir if a.dir is not None else build_dir()).resolve()  # the child runs in ROOT
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"mem_coloring_{a.n}_{a.c:g}.h5"
    mib, gib = 2.0**20, 2.0**30
    print(f"# {datetime.date.today()}  {machine()}")
    print(f"# planted 5-colouring, ER c = {a.c:g}, N = {a.n}; Metropolis T = 0.5, {a.lanes} "
          f"replicas in lanes, {a.sweeps} lane sweep(s); one fresh subprocess per measurement; "
          f"load average {os.getloadavg()[0]:.2f}")
    if not path.exists():
        t = time.perf_counter()
        gen = measure("generate", str(path), a.n, a.c, a.sweeps)
        print(f"generate + save: peak {gen['hwm'] / gib:.2f} GiB, "
              f"{time.perf_counter() - t:.0f} s wall, file {path.stat().st_size / gib:.2f} GiB")
    try:
        m = measure("lanes", str(path), a.n, a.c, a.sweeps, a.lanes)
    finally:
        if not a.keep and path.exists():
            path.unlink()
    state = a.n * a.lanes
    print(f"CSR: indptr {m['indptr'] / mib:.0f} MiB + indices {m['indices'] / mib:.0f} MiB = "
          f"{m['csr'] / gib:.2f} GiB; lane state int8[N, {a.lanes}] {state / mib:.0f} MiB "
          f"(and the runner's rows int8[{a.lanes}, N] as much again)")
    print("| phase | seconds (cumulative) | VmHWM so far | VmRSS after |")
    print("|---|---|---|---|")
    for name, sec, hwm, rss in m["phases"]:
        print(f"| {name} | {sec:.1f} | {hwm / gib:.2f} GiB | {rss / gib:.2f} GiB |")
    print(f"peak VmHWM {m['hwm'] / gib:.2f} GiB (target 8 GiB: "
          f"{'met' if m['hwm'] <= 8 * gib else 'MISSED'}); process baseline "
          f"{m['rss0'] / mib:.0f} MiB; load average after {os.getloadavg()[0]:.2f}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--c", type=float, default=20.0)
    ap.add_argument("--sweeps", type=int, default=3)
    ap.add_argument("--lanes", type=int, default=0, help="L > 0: the lane-layout run (above)")
    ap.add_argument("--dir", type=Path, default=None, help="where the instance file goes")
    ap.add_argument("--keep", action="store_true", help="keep the instance file")
    a = ap.parse_args(argv)
    if a.lanes:
        return lanes_main(a)
    path = build_dir() / f"mem_coloring_{a.n}_{a.c:g}.h5"
    print(f"# {datetime.date.today()}  {machine()}")
    print(f"# planted 5-colouring, ER c = {a.c:g}, N = {a.n}; Metropolis T = 0.5, 1 replica, "
          f"{a.sweeps} sweeps; one fresh subprocess per measurement")
    gen = measure("generate", str(path), a.n, a.c, a.sweeps)
    run = measure("run", str(path), a.n, a.c, a.sweeps)
    csr = gen["csr"]
    mib = 2.0**20
    print(f"CSR arrays (indptr + indices): {csr / mib:.1f} MiB")
    if not (gen["reset"] and run["reset"]):
        print("warning: could not reset VmHWM; 'extra' includes the warm-up peak")
    for name, m in (("generate + save", gen), ("load HDF5 + run", run)):
        extra = m["hwm"] - m["rss0"]
        print(f"{name:<16s} peak {m['hwm'] / mib:7.1f} MiB = {m['hwm'] / csr:5.2f}x CSR;  "
              f"extra over the warmed-up process {extra / mib:7.1f} MiB = {extra / csr:5.2f}x CSR "
              f"(baseline {m['rss0'] / mib:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
