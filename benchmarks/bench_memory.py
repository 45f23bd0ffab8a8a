"""Peak memory of an N = 10^6, c = 20 planted 5-colouring: generation, and load + one replica.

Every measurement runs in a fresh subprocess which first imports everything and compiles the
kernels on a tiny instance (numba's cache makes that cheap once warm), records its resident set
RSS0, resets the kernel's high-water mark (``echo 5 > /proc/self/clear_refs``), then does the
measured work and reads ``VmHWM`` from ``/proc/self/status``. Reported:

- ``peak``: VmHWM of the process (interpreter, numpy, numba and compiled code included);
- ``extra``: VmHWM - RSS0, the memory the measured work needed;

each also as a multiple of the CSR arrays' size (indptr + indices bytes).

Usage::

    python benchmarks/bench_memory.py [--n 1000000] [--c 20] [--sweeps 3]
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys

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
from mcsgd.driver import Runner

task, path = sys.argv[1], sys.argv[2]
n, c, sweeps = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
# warm-up: imports, compilation (or cache loading) and the HDF5 machinery on a tiny instance
tiny = problems.planted_coloring(100, 5, c, seed=0)
Runner(tiny, Metropolis(1.0), replicas=1, seed=0).advance(1)
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
csr = inst.indptr.nbytes + inst.indices.nbytes
print(json.dumps({"rss0": rss0, "hwm": status("VmHWM"), "csr": csr, "reset": reset}))
"""


def measure(task: str, path: str, n: int, c: float, sweeps: int) -> dict:
    out = run_python(CHILD, task, path, str(n), str(c), str(sweeps))
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10**6)
    ap.add_argument("--c", type=float, default=20.0)
    ap.add_argument("--sweeps", type=int, default=3)
    a = ap.parse_args(argv)
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
