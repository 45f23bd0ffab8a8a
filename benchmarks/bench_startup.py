"""Start-up time of ``mcsgd run`` with numba's cache warm: process start to the first sweep.

Generates a planted 5-colouring (N = 10^5, c = 20) with ``mcsgd generate``, runs
``mcsgd run inst.h5 --dynamics metropolis --T 1 --sweeps 1 --json`` once to warm numba's cache,
then ``--reps`` more times and reports, per run (median and max):

- ``wall``: wall time of the whole process (upper bound of the time to the first sweep; it also
  includes the one sweep, the observables and the exit);
- ``to first sweep``: wall - ``timing.run_s`` - post-processing is not separable from outside, so
  this is reported as wall - run_s (still an upper bound);
- ``prepare_s``: the run's own clock from entering :func:`mcsgd.driver.run` to the first sweep
  (kernel compilation / cache loading included);

and the heaviest imports of the CLI path (``python -X importtime``).

Usage::

    python benchmarks/bench_startup.py [--reps 5] [--n 100000] [--dynamics sgd]

(``--dynamics sgd`` runs ``--B 0.5`` instead of ``--T 1``.)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT, build_dir, machine, median


def mcsgd_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("mcsgd")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mcsgd")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from mcsgd.cli import main; sys.exit(main())"]


def timed(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    dt = time.perf_counter() - t
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr}")
    return dt, out.stdout


def import_profile(top: int = 10) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) of the slowest imports of the ``run`` path."""
    code = "import mcsgd.cli, mcsgd.cli.core, mcsgd.driver, mcsgd.problems"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True,
                         text=True, cwd=ROOT)
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cum_us, name = line[len("import time:"):].split("|")
        # keep the imports at nesting depth <= 1 (the indentation shows the depth)
        if len(name) - len(name.lstrip()) <= 3:
            rows.append((int(cum_us), name.strip()))
    return sorted(rows, reverse=True)[:top]


STAGES = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy
t1 = time.perf_counter()
import numba
t2 = time.perf_counter()
import scipy.optimize
t3 = time.perf_counter()
from mcsgd import problems
import mcsgd.cli.core
import mcsgd.driver
t4 = time.perf_counter()
inst = problems.load(sys.argv[1])
t5 = time.perf_counter()
from mcsgd.dynamics import Metropolis
r = mcsgd.driver.Runner(inst, Metropolis(1.0), replicas=1, seed=0)
r.advance(0)
t6 = time.perf_counter()
print(json.dumps({"import numpy": t1 - t0, "import numba": t2 - t1,
                  "import scipy.optimize": t3 - t2, "import mcsgd (rest)": t4 - t3,
                  "load + validate instance": t5 - t4, "Runner + kernel from cache": t6 - t5}))
"""


def stages(inst: Path, reps: int) -> dict[str, float]:
    """Median seconds of each start-up stage, measured inside fresh processes."""
    runs = []
    for _ in range(reps):
        _, out = timed([sys.executable, "-c", STAGES, str(inst)])
        runs.append(json.loads(out))
    return {k: median([r[k] for r in runs]) for k in runs[0]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--n", type=int, default=10**5)
    ap.add_argument("--dynamics", choices=("metropolis", "sgd"), default="metropolis",
                    help="metropolis (--T 1) or sgd (--B 0.5)")
    a = ap.parse_args(argv)
    mc = mcsgd_cmd()
    inst = build_dir() / f"startup_coloring_{a.n}.h5"
    if not inst.exists():
        subprocess.run(mc + ["generate", "coloring", "--n", str(a.n), "--q", "5", "--c", "20",
                             "--seed", "1", "-o", str(inst)], check=True, cwd=ROOT)
    param = ["--T", "1"] if a.dynamics == "metropolis" else ["--B", "0.5"]
    cmd = mc + ["run", str(inst), "--dynamics", a.dynamics, *param, "--sweeps", "1",
                "--json", "--threads", "1"]
    env_cache = os.environ.get("MCSGD_NUMBA_CACHE", "1")
    print(f"# {datetime.date.today()}  {machine()}")
    print(f"# command: {' '.join(cmd)}  (MCSGD_NUMBA_CACHE={env_cache})")
    timed(cmd)  # warm numba's cache
    walls, firsts, preps = [], [], []
    for _ in range(a.reps):
        dt, out = timed(cmd)
        tim = json.loads(out)["timing"]
        walls.append(dt)
        firsts.append(dt - tim["run_s"])
        preps.append(tim["prepare_s"])
    for label, xs in (("wall (whole process)", walls), ("wall - run_s", firsts),
                      ("timing.prepare_s", preps)):
        print(f"{label:<22s} median {median(xs):6.3f} s   max {max(xs):6.3f} s")
    t_py, _ = timed([sys.executable, "-c", "pass"])
    t_np, _ = timed([sys.executable, "-c", "import numpy"])
    t_nb, _ = timed([sys.executable, "-c", "import numba"])
    print(f"for scale: python -c pass {t_py:.3f} s, import numpy {t_np:.3f} s, "
          f"import numba {t_nb:.3f} s")
    print("stages inside a fresh process (median):")
    for k, v in stages(inst, a.reps).items():
        print(f"  {v:6.3f} s  {k}")
    print("slowest top-level imports of the run path (cumulative, python -X importtime):")
    for us, name in import_profile():
        print(f"  {us / 1e6:6.3f} s  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
