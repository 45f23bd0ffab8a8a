"""Simulated annealing of a +-J Ising spin glass: mcsgd against dwave-samplers, ns per update.

Instance: ``problems.ising(N, 3, graph="regular", planted=False)`` (random 3-regular graph,
J = +-1 uniformly; N = 10^5). Both samplers run the same linear beta schedule
``numpy.linspace(beta0, beta1, sweeps)`` with one sequential Metropolis sweep per beta, one read,
one thread:

- dwave-samplers' ``SimulatedAnnealingSampler().sample_ising(h, J, beta_range=(beta0, beta1),
  beta_schedule_type="linear", num_sweeps=sweeps, num_reads=1, seed=...)`` in its own virtual
  environment ``benchmarks/build/venv-dwave`` (created here with pip; dwave-samplers is *not* a
  dependency of mcsgd). Its energy convention is E = sum J'_ij s_i s_j, so J' = -J.
  Timed: the ``sample_ising`` call (and the sampler's own ``info["timing"]`` when present).
- mcsgd: a :class:`mcsgd.driver.Runner` with ``Runner.set_dynamics(Metropolis(T=1/beta))`` before
  every sweep (no package support needed). Timed: the whole schedule loop (per-sweep Python
  overhead included) and, separately, the kernel calls alone.

``--lanes L`` (e.g. 64): L annealing chains against dwave-samplers with ``num_reads = L``, still one
thread each, ns per spin-update = time / (L * N * sweeps). mcsgd runs the L chains as L replicas
of one runner in a :class:`mcsgd.driver.LaneGroup` (lane kernels, ``s[i, lane]``), every lane on
the same schedule; the new beta reaches the lanes in two ways, both timed over the whole
schedule:

- ``repack``: ``LaneGroup.sync()`` (configurations back into the runner), ``Runner.set_dynamics``
  on the member runner, then ``LaneGroup.repack()`` (re-reads the whole chain state:
  configurations transposed into lanes, local fields recomputed);
- ``tables``: ``Runner.set_dynamics``, then ``LaneGroup.refresh_tables()`` (the per-lane
  tables re-read from the runner's rule in place: what a table-only update costs);

and, as the kernel's own speed, one ``LaneGroup.advance(sweeps)`` at the final beta.

Repetitions are interleaved; the ratio is the median of per-repetition ratios. Both final
energies per spin are printed to show that both really annealed.

Usage::

    python benchmarks/bench_ising_dwave.py [--n 100000] [--sweeps 1000] [--reps 3] [--lanes 64]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
from _common import build_dir, machine, median

from mcsgd import problems
from mcsgd.driver import LaneGroup, Runner
from mcsgd.dynamics import Metropolis

VENV = build_dir() / "venv-dwave"

DWAVE_CHILD = r"""
import importlib.metadata, json, sys, time
import numpy as np
import dimod
from dwave.samplers import SimulatedAnnealingSampler

d = np.load(sys.argv[1])
beta0, beta1 = float(sys.argv[2]), float(sys.argv[3])
sweeps, seed, reads = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
n = int(d["n"])
bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(
    np.zeros(n), (d["u"], d["v"], -d["J"].astype(np.float64)), 0.0, dimod.SPIN)
sampler = SimulatedAnnealingSampler()
t = time.perf_counter()
c = time.process_time()
ss = sampler.sample(bqm, beta_range=(beta0, beta1), beta_schedule_type="linear",
                    num_sweeps=sweeps, num_reads=reads, seed=seed)
dt = time.perf_counter() - t
dc = time.process_time() - c
timing = ss.info.get("timing", {})
samp_ns = timing.get("sampling_ns")
print(json.dumps({"wall_s": dt, "cpu_s": dc,
                  "sampling_s": None if samp_ns is None else samp_ns * 1e-9,
                  "energy": float(ss.first.energy),
                  "mean_energy": float(np.mean(ss.record.energy)),
                  "version": importlib.metadata.version("dwave-samplers")}))
"""


def ensure_venv() -> Path:
    """A python with dwave-samplers: this one if it has it, else the venv's (created on first
    use)."""
    if subprocess.run([sys.executable, "-c", "import dwave.samplers, dimod"],
                      capture_output=True).returncode == 0:
        return Path(sys.executable)
    py = VENV / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", "import dwave.samplers, dimod"],
                                      capture_output=True).returncode == 0:
        return py
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    out = subprocess.run([str(py), "-m", "pip", "install", "dwave-samplers", "numpy"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"pip install dwave-samplers failed:\n{out.stdout}\n{out.stderr}")
    return py


def export(inst, path: Path) -> None:
    """Undirected edges (i < j) with their couplings, as .npz for the dwave child."""
    deg = np.diff(inst.indptr)
    rows = np.repeat(np.arange(inst.n, dtype=np.int64), deg)
    keep = rows < inst.indices
    np.savez(path, n=inst.n, u=rows[keep], v=inst.indices[keep].astype(np.int64),
             J=inst.couplings[keep])


def run_dwave(py: Path, npz: Path, betas, sweeps: int, seed: int, reads: int = 1) -> dict:
    out = subprocess.run([str(py), "-c", DWAVE_CHILD, str(npz), repr(betas[0]), repr(betas[1]),
                          str(sweeps), str(seed), str(reads)], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"dwave child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_mcsgd(inst, betas, sweeps: int, seed: int) -> dict:
    """The linear schedule with one set_dynamics call per sweep."""
    sched = np.linspace(betas[0], betas[1], sweeps)
    r = Runner(inst, Metropolis(1.0 / sched[0]), replicas=1, seed=seed)
    r.advance(0)  # compile / load from cache
    kern = 0.0
    t = time.perf_counter()
    for b in sched:
        r.set_dynamics(Metropolis(1.0 / b))
        t1 = time.perf_counter()
        r.advance(1)
        kern += time.perf_counter() - t1
    wall = time.perf_counter() - t
    return {"wall_s": wall, "kernel_s": kern, "energy": float(r.energy[0])}


def run_lanes(inst, betas, sweeps: int, seed: int, lanes: int, how: str) -> dict:
    """The linear schedule on ``lanes`` chains in one LaneGroup (1 thread); ``how``: "repack"
    or "tables" (module docstring)."""
    sched = np.linspace(betas[0], betas[1], sweeps)
    r = Runner(inst, Metropolis(1.0 / sched[0]), replicas=lanes, seed=seed, threads=1)
    g = LaneGroup([r], threads=1)
    g.advance(0, serial=True)  # compile / load from cache, both variants
    g.advance(0, serial=False)
    kern = 0.0
    t = time.perf_counter()
    c = time.process_time()
    for b in sched:
        if how == "repack":
            g.sync()
        r.set_dynamics(Metropolis(1.0 / b))
        if how == "repack":
            g.repack()
        else:
            g.refresh_tables()
        t1 = time.perf_counter()
        g.advance(1)
        kern += time.perf_counter() - t1
    wall = time.perf_counter() - t
    return {"wall_s": wall, "cpu_s": time.process_time() - c, "kernel_s": kern,
            "energy": float(np.mean(r.energy))}


def run_lanes_fixed(inst, beta: float, sweeps: int, seed: int, lanes: int) -> float:
    """Seconds for one ``LaneGroup.advance(sweeps)`` at fixed beta (the kernel's own speed)."""
    r = Runner(inst, Metropolis(1.0 / beta), replicas=lanes, seed=seed, threads=1)
    g = LaneGroup([r], threads=1)
    g.advance(0, serial=False)
    t = time.perf_counter()
    g.advance(sweeps)
    return time.perf_counter() - t


def lanes_main(a, inst, npz: Path, py: Path | None) -> int:
    """The ``--lanes`` comparison (module docstring)."""
    upd = a.lanes * a.n * a.sweeps
    print(f"# {a.lanes} chains: mcsgd LaneGroup (1 thread) vs dwave-samplers num_reads = "
          f"{a.lanes}; ns per spin-update = time / ({a.lanes} * N * sweeps)")
    res: dict[str, list] = {"repack": [], "tables": [], "fixed": [], "dwave": []}
    loads = []
    for rep in range(a.reps):
        loads.append(os.getloadavg()[0])
        for how in ("repack", "tables"):
            res[how].append(run_lanes(inst, a.beta, a.sweeps, a.seed + rep, a.lanes, how))
        res["fixed"].append(run_lanes_fixed(inst, a.beta[1], a.sweeps, a.seed + rep, a.lanes))
        if py is not None:
            res["dwave"].append(run_dwave(py, npz, a.beta, a.sweeps, a.seed + rep, a.lanes))
        loads.append(os.getloadavg()[0])
    ns = lambda s: 1e9 * s / upd  # noqa: E731
    for how in ("repack", "tables"):
        w = [ns(m["wall_s"]) for m in res[how]]
        k = [ns(m["kernel_s"]) for m in res[how]]
        cpu = [ns(m["cpu_s"]) for m in res[how]]
        print(f"mcsgd lanes ({how:6s}) schedule loop {median(w):7.3f} ns/update "
              f"(min {min(w):.3f}; CPU time {median(cpu):.3f}); advance calls only "
              f"{median(k):.3f}; mean final energy per spin "
              f"{median([m['energy'] / a.n for m in res[how]]):.4f}")
    f = [ns(x) for x in res["fixed"]]
    print(f"mcsgd lanes fixed beta = {a.beta[1]:g}, one advance({a.sweeps}) "
          f"{median(f):7.3f} ns/update")
    if res["dwave"]:
        dw = res["dwave"]
        d_wall = [ns(d["wall_s"]) for d in dw]
        d_cpu = [ns(d["cpu_s"]) for d in dw]
        print(f"dwave-samplers {dw[0]['version']} sample(num_reads={a.lanes}) "
              f"{median(d_wall):7.3f} ns/update (min {min(d_wall):.3f}; CPU time "
              f"{median(d_cpu):.3f}); mean final energy per "
              f"spin {median([d['mean_energy'] / a.n for d in dw]):.4f}")
        for how in ("repack", "tables"):
            ratio = [d["wall_s"] / m["wall_s"] for d, m in zip(dw, res[how], strict=True)]
            rc = [d["cpu_s"] / m["cpu_s"] for d, m in zip(dw, res[how], strict=True)]
            print(f"dwave / mcsgd lanes ({how}) time per update: {median(ratio):.1f}x "
                  f"(min {min(ratio):.1f}x); by CPU time {median(rc):.1f}x")
    print(f"load average during the run: {min(loads):.2f}-{max(loads):.2f}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10**5)
    ap.add_argument("--sweeps", type=int, default=1000)
    ap.add_argument("--beta", type=float, nargs=2, default=[0.1, 4.0], metavar=("B0", "B1"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lanes", type=int, default=0,
                    help="L > 0: L chains in lanes vs dwave num_reads = L")
    ap.add_argument("--no-dwave", action="store_true", help="time mcsgd only")
    a = ap.parse_args(argv)
    numba.set_num_threads(1)
    inst = problems.ising(a.n, 3, graph="regular", planted=False, seed=a.seed)
    npz = build_dir() / f"ising_{a.n}.npz"
    export(inst, npz)
    upd = a.n * a.sweeps
    print(f"# {datetime.date.today()}  {machine()}")
    print(f"# +-J spin glass on a random 3-regular graph, N = {a.n}, linear beta "
          f"{a.beta[0]} -> {a.beta[1]} over {a.sweeps} sweeps, {max(a.lanes, 1)} read(s), "
          f"1 thread, {a.reps} interleaved repetitions")
    try:
        py = None if a.no_dwave else ensure_venv()
    except Exception as e:  # noqa: BLE001 - report any installation failure and go on
        print(f"dwave-samplers unavailable: {e}")
        py = None
    if a.lanes:
        return lanes_main(a, inst, npz, py)
    ms, dw = [], []
    for rep in range(a.reps):
        ms.append(run_mcsgd(inst, a.beta, a.sweeps, a.seed + rep))
        if py is not None:
            dw.append(run_dwave(py, npz, a.beta, a.sweeps, a.seed + rep))
    ns = lambda s: 1e9 * s / upd  # noqa: E731
    m_wall = [ns(m["wall_s"]) for m in ms]
    m_kern = [ns(m["kernel_s"]) for m in ms]
    print(f"mcsgd  (schedule loop, set_dynamics per sweep) {median(m_wall):7.2f} ns/update "
          f"(min {min(m_wall):.2f}); kernel calls only {median(m_kern):.2f} ns/update")
    print(f"mcsgd  final energy per spin {median([m['energy'] / a.n for m in ms]):.4f}")
    if dw:
        d_wall = [ns(d["wall_s"]) for d in dw]
        print(f"dwave-samplers {dw[0]['version']} sample() {median(d_wall):7.2f} ns/update "
              f"(min {min(d_wall):.2f})", end="")
        if dw[0]["sampling_s"] is not None:
            d_samp = [ns(d["sampling_s"]) for d in dw]
            print(f"; its own sampling_ns {median(d_samp):.2f} ns/update")
        else:
            print()
        print(f"dwave  final energy per spin {median([d['energy'] / a.n for d in dw]):.4f}")
        ratio = [d["wall_s"] / m["wall_s"] for d, m in zip(dw, ms, strict=True)]
        print(f"dwave / mcsgd time per update: {median(ratio):.2f}x (min {min(ratio):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
