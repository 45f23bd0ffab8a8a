"""Golden outputs of the mcsgd CLI at fixed seeds: the guard of the redesign (issue 11).

    python benchmarks/golden.py record benchmarks/golden   # (re)write golden.json + README.md
    python benchmarks/golden.py check benchmarks/golden    # rerun, print differences, exit 1/0

Every invocation runs as ``python -m mcsgd.cli ...`` in a fresh temporary directory (the
package imported is the one on PYTHONPATH, so set PYTHONPATH to the checkout under test).
Per invocation the record holds the command line, the exit code, the JSON stdout (or the
text stdout where the command has no --json) with volatile keys removed, and for every HDF5
output a canonical digest: per dataset sha256 of its bytes + dtype + shape, per attribute its
canonical JSON. Volatile content (timing, provenance, host, dates, git revision, the
temporary directory's path) is removed or replaced before digesting; see VOLATILE_KEYS.

Comparison is exact (bit-identical floats, no tolerance). Outputs marked host-dependent (see
HOST_DEPENDENT_MARK) are compared like the others but are only expected to match on the machine
that recorded them; ``check --skip-host-dependent`` leaves them out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np

FORMAT = 1

# Keys (in JSON stdout, JSON attributes, and HDF5 attribute / dataset names) whose values depend
# on the run's wall clock, machine, date or checkout, never on the seeds: removed before digesting.
VOLATILE_KEYS = {
    "timing",         # prepare_s, run_s, ns_per_update, ...
    "provenance",     # created_utc, git_revision, host, platform, package versions
    "created_utc",
    "git_revision",
    "host",
    "hostname",
    "platform",
    "pid",
    "elapsed",
    "elapsed_s",
    "wall_s",
    "seconds",
    "ns_per_update",
    "started",
    "finished",
    "started_utc",
    "finished_utc",
    "updated_utc",
    "python",
    # Scan task files: scan_checksum is a sha256 over every attribute of the file, including
    # provenance and timing, so it changes on every run; the content it seals is digested
    # here key by key instead. scan_timing holds wall times and the number of checkpoints
    # written (a wall-clock decision, checkpoint_seconds).
    "scan_checksum",
    "scan_timing",
}
# Key names ending like this are timings too (e.g. run_s, prepare_s, bp_s).
VOLATILE_SUFFIXES = ("_s", "_seconds", "_utc", "_time_s")

# Invocations whose name contains HOST_DEPENDENT_MARK (the continuous commands and the
# continuous scan) get their floats from numpy linear algebra and reductions (BLAS, SIMD): their
# bits can depend on the CPU (AVX2 vs AVX-512) and the BLAS build, so they are marked
# host_dependent and compared only on the machine that recorded them. The discrete kernels'
# integer outputs (instances, states, xoshiro states, counts) must match on every machine
# (check --integers-only); their float statistics go through numpy's exp/log, which numpy
# may dispatch to CPU-specific code, so the full record is meant for one machine too.
HOST_DEPENDENT_MARK = "continuous"  # in the invocation name (continuous commands and scans)

EDGES = "# a 6-cycle plus a chord, 0-based\n0 1\n1 2\n2 3\n3 4\n4 5\n5 0\n0 3\n"

SCAN_SPEC = """\
name = "golden"
seed = 7
instances = 1
out = "scan"

[instance]
problem = "coloring"
n = 500
q = 5
c = [8.0, 12.0]
planted = true
graph = "er"

[run]
sweeps = 100
replicas = 1
init = "random"
grid = "log"
grid_points = 10
window = 0.5

[[dynamics]]
dynamics = "metropolis"
T = 0.8

[[dynamics]]
dynamics = "sgd"
B = 0.5

[execution]
workers = 1
threads = 1
"""

CSCAN_SPEC = """\
name = "golden-continuous"
seed = 9
experiment = "continuous"
out = "cscan"

[[continuous]]
experiment = "fdr"
model = "quadratic"
eta = [0.05, 0.1]
B = 4
steps = 1000
chains = 2

[[continuous]]
experiment = "occupation"
B = [4, 8]
eta = 0.05
steps = 1000
chains = 4

[execution]
workers = 1
threads = 1
"""

REC_SPEC = """\
[problem]
q = 5
graph = "er"
shuffle = false

[experiment]
c = [20]
B = [0.9]
T = [0.6]
n = 600
instances = 2
replicas = 1
sweeps = 100
threshold = 0.5
seed = 1
calibration_B = [0.9]
calibration_sweeps = 50
anneal_c = [20]
anneal_T = [1.0, 0.45]
anneal_B = [0.70, 0.96]
quench = 10
bp_c = [16]
bp_n = 1000
out = "rec"
"""

TB_SPEC = """\
[problem]
problem = "coloring"
q = 5
graph = "er"
planted = true
shuffle = false

[experiment]
c = [10]
B = [0.3, 0.7]
n = 1000
instances = 2
replicas = 1
sweeps = 60
seed = 1
mode = "both"
out = "tb"
"""

# Each entry: (name, argv after `python -m mcsgd.cli`, outputs to digest, stdout kind).
# stdout kind: "json" (parsed), "text" (kept verbatim after path scrubbing), "ignore".
# Names are unique and order matters (later commands read earlier files).
T1 = ["--threads", "1"]
T2 = ["--threads", "2"]
INVOCATIONS: list[tuple[str, list[str], list[str], str]] = [
    ("generate-coloring",
     ["generate", "coloring", "--n", "2000", "--q", "5", "--c", "12", "--seed", "3",
      "-o", "col.h5"], ["col.h5"], "text"),
    ("generate-coloring-shuffled-k1",
     ["generate", "coloring", "--n", "1000", "--q", "4", "--c", "6", "--graph", "er-simple",
      "--shuffle", "--seed", "3", "--instance", "1", "-o", "col_shuf.h5"],
     ["col_shuf.h5"], "text"),
    ("generate-coloring-random-regular",
     ["generate", "coloring", "--n", "1000", "--q", "3", "--c", "4", "--random", "--graph",
      "regular", "--seed", "5", "-o", "col_rand.h5"], ["col_rand.h5"], "text"),
    ("generate-ising",
     ["generate", "ising", "--n", "2000", "--d", "3", "--noise", "0.1", "--seed", "4",
      "-o", "ising.h5"], ["ising.h5"], "text"),
    ("generate-ising-spin-glass",
     ["generate", "ising", "--n", "1000", "--d", "4", "--graph", "er", "--spin-glass",
      "--seed", "4", "-o", "sg.h5"], ["sg.h5"], "text"),
    ("generate-from-edges",
     ["generate", "from-edges", "edges.txt", "--q", "3", "-o", "edges.h5"],
     ["edges.h5"], "text"),
    ("run-metropolis",
     ["run", "col.h5", "--dynamics", "metropolis", "--T", "0.8", "--sweeps", "100",
      "--replicas", "2", "--seed", "1", *T2, "--json", "--quiet", "-o", "run_mc.h5"],
     ["run_mc.h5"], "json"),
    ("run-heatbath",
     ["run", "col.h5", "--dynamics", "metropolis", "--rule", "heatbath", "--T", "0.8",
      "--sweeps", "100", "--replicas", "2", "--seed", "1", *T2, "--json", "--quiet",
      "-o", "run_hb.h5"], ["run_hb.h5"], "json"),
    ("run-metropolis-random-order-planted-linear",
     ["run", "col.h5", "--dynamics", "metropolis", "--T", "0.6", "--order", "random",
      "--init", "planted", "--grid", "linear", "--grid-points", "11", "--sweeps", "80",
      "--replicas", "2", "--seed", "2", *T2, "--json", "--quiet", "-o", "run_mc_rand.h5"],
     ["run_mc_rand.h5"], "json"),
    ("run-sgd-reference",
     ["run", "col.h5", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "100", "--replicas",
      "2", "--seed", "1", *T2, "--json", "--quiet", "-o", "run_sgd.h5"],
     ["run_sgd.h5"], "json"),
    ("run-sgd-flags-method",
     ["run", "col.h5", "--dynamics", "sgd", "--B", "0.5", "--method", "flags", "--sweeps",
      "60", "--replicas", "2", "--seed", "1", *T2, "--json", "--quiet",
      "-o", "run_sgd_flags.h5"], ["run_sgd_flags.h5"], "json"),
    ("run-sgd-edge-fixed-tau-random",
     ["run", "col.h5", "--dynamics", "sgd", "--B", "0.7", "--flags", "edge", "--batch",
      "fixed", "--tau", "3", "--order", "random", "--sweeps", "60", "--replicas", "2",
      "--seed", "5", "--window", "0.3", *T2, "--json", "--quiet",
      "-o", "run_sgd_edge.h5"], ["run_sgd_edge.h5"], "json"),
    ("run-ising-metropolis",
     ["run", "ising.h5", "--dynamics", "metropolis", "--T", "1.0", "--sweeps", "100",
      "--replicas", "2", "--seed", "1", *T2, "--json", "--quiet", "-o", "run_ising.h5"],
     ["run_ising.h5"], "json"),
    ("run-ising-sgd",
     ["run", "ising.h5", "--dynamics", "sgd", "--B", "0.6", "--sweeps", "100",
      "--replicas", "2", "--seed", "1", *T2, "--json", "--quiet", "-o", "run_ising_sgd.h5"],
     ["run_ising_sgd.h5"], "json"),
    ("run-threads1-equals-threads2",
     ["run", "col.h5", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "100", "--replicas",
      "2", "--seed", "1", *T1, "--json", "--quiet", "-o", "run_sgd_t1.h5"],
     ["run_sgd_t1.h5"], "json"),
    ("bp-coloring",
     ["bp", "col.h5", "--max-iter", "200", "--seed", "2", "--json", "-o", "bp_col.h5"],
     ["bp_col.h5"], "json"),
    ("bp-ising-parallel-damped-messages",
     ["bp", "ising.h5", "--schedule", "parallel", "--damping", "0.3", "--max-iter", "100",
      "--save-messages", "--seed", "2", "--json", "-o", "bp_ising.h5"],
     ["bp_ising.h5"], "json"),
    ("calibrate-quick",
     ["calibrate", "--c", "10", "--n", "2000", "--B", "0.3,0.7", "--instances", "4",
      "--replicas", "1", "--sweeps", "100", "--seed", "1", *T2, "--json", "--quiet",
      "-o", "cal.h5"], ["cal.h5"], "json"),
    ("calibrate-ising-equilibrium",
     ["calibrate", "--problem", "ising", "--c", "3", "--n", "1000", "--noise", "0.1",
      "--B", "0.5", "--mode", "equilibrium", "--instances", "2", "--replicas", "1",
      "--sweeps", "80", "--seed", "2", *T2, "--json", "--quiet", "-o", "cal_ising.h5"],
     ["cal_ising.h5"], "json"),
    ("recover-B",
     ["recover", "--c", "20", "--B", "0.8,0.9", "--n", "1000", "--instances", "2",
      "--replicas", "1", "--sweeps", "200", "--seed", "1", "--json", "--quiet",
      "-o", "rec_B.h5"], ["rec_B.h5"], "json"),
    ("recover-T",
     ["recover", "--c", "20", "--T", "0.6", "--n", "1000", "--instances", "2",
      "--replicas", "1", "--sweeps", "200", "--seed", "1", "--json", "--quiet",
      "-o", "rec_T.h5"], ["rec_T.h5"], "json"),
    ("recover-anneal-T",
     ["recover", "--c", "20", "--anneal-T", "1.0,0.45", "--n", "1000", "--instances", "2",
      "--replicas", "1", "--sweeps", "200", "--quench", "10", "--seed", "1", "--json",
      "--quiet", "-o", "rec_aT.h5"], ["rec_aT.h5"], "json"),
    ("recover-anneal-B-shuffled",
     ["recover", "--c", "20", "--anneal-B", "0.7,0.96", "--shuffle", "--n", "1000",
      "--instances", "2", "--replicas", "1", "--sweeps", "200", "--seed", "1", "--json",
      "--quiet", "-o", "rec_aB.h5"], ["rec_aB.h5"], "json"),
    ("scan-plan", ["scan", "plan", "scan.toml"], [], "text"),
    ("scan-run",
     ["scan", "run", "scan.toml", "--workers", "1", "--threads", "1", "--json", "--quiet"],
     ["scan"], "json"),
    ("scan-collect", ["scan", "collect", "scan", "-o", "summary.h5"], ["summary.h5"], "text"),
    ("scan-collect-json", ["scan", "collect", "scan", "--json"], [], "json"),
    ("scan-status", ["scan", "status", "scan", "--all", "--json"], [], "json"),
    ("scan-example", ["scan", "example"], [], "text"),
    ("scan-continuous-run",
     ["scan", "run", "cscan.toml", "--workers", "1", "--threads", "1", "--json", "--quiet"],
     ["cscan"], "json"),
    ("scan-continuous-collect", ["scan", "collect", "cscan", "-o", "csummary.h5"],
     ["csummary.h5"], "text"),
    ("reproduce-tb-curve-tiny",
     ["reproduce", "tb-curve", "--spec", "tb.toml", "--out", "tb", *T2, "--quiet"],
     ["tb"], "ignore"),
    ("reproduce-recovery-tiny",
     ["reproduce", "recovery", "--spec", "rec.toml", "--out", "rec", "--quiet"],
     ["rec"], "ignore"),
    ("demo",
     ["demo", "--out", "demo", "--n", "1000", "--c", "10", "--sweeps", "60", "--seed", "1"],
     ["demo"], "text"),
    ("continuous-fdr",
     ["continuous", "fdr", "--model", "quadratic", "--eta", "0.1", "--B", "4", "--steps",
      "2000", "--chains", "4", "--seed", "1", "--json", "-o", "c_fdr.h5"],
     ["c_fdr.h5"], "json"),
    ("continuous-fdr-linreg-momentum",
     ["continuous", "fdr", "--model", "linreg", "--data", "synthetic", "--n-data", "200",
      "--eta", "0.05", "--B", "8", "--momentum", "0.5", "--sampling", "without", "--steps",
      "1000", "--chains", "2", "--seed", "1", "--json", "-o", "c_fdr_lin.h5"],
     ["c_fdr_lin.h5"], "json"),
    ("continuous-adaptive",
     ["continuous", "adaptive", "--model", "quadratic", "--eta", "0.2", "--B", "4",
      "--check-every", "50", "--min-window", "200", "--steps", "2000", "--chains", "2",
      "--seed", "1", "--json", "-o", "c_adapt.h5"], ["c_adapt.h5"], "json"),
    ("continuous-linear-fdt",
     ["continuous", "linear-fdt", "--eta", "0.05", "--B", "8", "--n-data", "200", "--steps",
      "1000", "--chains", "2", "--seed", "1", "--json", "-o", "c_lfdt.h5"],
     ["c_lfdt.h5"], "json"),
    ("continuous-ivf",
     ["continuous", "ivf", "--noise", "hessian", "--eta", "0.05", "--B", "4", "--steps",
      "2000", "--chains", "2", "--seed", "1", "--json", "-o", "c_ivf.h5"],
     ["c_ivf.h5"], "json"),
    ("continuous-escape",
     ["continuous", "escape", "--B", "4,8", "--eta", "0.05", "--chains", "16",
      "--max-steps", "5000", "--seed", "1", "--json", "-o", "c_esc.h5"],
     ["c_esc.h5"], "json"),
    ("continuous-occupation",
     ["continuous", "occupation", "--B", "4,8", "--eta", "0.05", "--steps", "2000",
      "--chains", "8", "--seed", "1", "--json", "-o", "c_occ.h5"], ["c_occ.h5"], "json"),
    ("continuous-temperature",
     ["continuous", "temperature", "--model", "quadratic", "--B", "4,8", "--eta", "0.05",
      "--steps", "2000", "--chains", "2", "--seed", "1", "--json", "-o", "c_temp.h5"],
     ["c_temp.h5"], "json"),
    ("error-exit-code",
     ["run", "col.h5", "--dynamics", "sgd", "--B", "1.5", "--sweeps", "10", "--quiet"],
     [], "ignore"),
]


def _volatile(key: str) -> bool:
    k = key.lower()
    return k in VOLATILE_KEYS or k.endswith(VOLATILE_SUFFIXES)


def _scrub(obj: Any, tmp: str) -> Any:
    """Drop volatile keys recursively; replace the temporary directory's path by '$TMP'."""
    if isinstance(obj, dict):
        return {k: _scrub(v, tmp) for k, v in obj.items() if not _volatile(str(k))}
    if isinstance(obj, list):
        return [_scrub(v, tmp) for v in obj]
    if isinstance(obj, str):
        return _scrub_text(obj, tmp)
    return obj


def _scrub_text(text: str, tmp: str) -> str:
    real = os.path.realpath(tmp)
    for p in sorted({tmp, real}, key=len, reverse=True):
        text = text.replace(p, "$TMP")
    return text


def _canon(obj: Any) -> str:
    """Canonical JSON text (sorted keys; floats by repr, so exact; NaN/Infinity allowed)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _attr_value(value: Any, tmp: str) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return _scrub_text(value, tmp)
        if isinstance(parsed, (dict, list)):
            return {"json": _scrub(parsed, tmp)}
        return _scrub_text(value, tmp)
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSU":
            return {"array": [_attr_value(v, tmp) for v in value.tolist()]}
        return {"array": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return {"scalar": value.item(), "dtype": value.dtype.str}
    return value


def _dataset_digest(ds: h5py.Dataset, tmp: str) -> dict[str, Any]:
    data = ds[()]
    arr = np.asarray(data)
    if arr.dtype.kind in "OSU" or h5py.check_string_dtype(ds.dtype) is not None:
        items = [
            _scrub_text(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v), tmp)
            for v in arr.reshape(-1).tolist()
        ]
        payload = _canon(items).encode()
        dtype = "str"
    else:
        payload = np.ascontiguousarray(arr).tobytes()
        dtype = arr.dtype.str
    return {"sha256": hashlib.sha256(payload).hexdigest(), "dtype": dtype,
            "shape": list(arr.shape)}


def digest_h5(path: Path, tmp: str) -> dict[str, Any]:
    """Canonical digest of one HDF5 file: {'/name': dataset digest, '/name@attr': value}."""
    out: dict[str, Any] = {}

    def attrs(name: str, obj: Any) -> None:
        for k in sorted(obj.attrs.keys()):
            if not _volatile(k):
                out[f"/{name}@{k}" if name else f"/@{k}"] = _attr_value(obj.attrs[k], tmp)

    with h5py.File(path, "r") as f:
        attrs("", f)

        def visit(name: str, obj: Any) -> None:
            if any(_volatile(part) for part in name.split("/")):
                return
            attrs(name, obj)
            if isinstance(obj, h5py.Dataset):
                out[f"/{name}"] = _dataset_digest(obj, tmp)
            else:
                out[f"/{name}/"] = "group"

        f.visititems(visit)
    return out


def _outputs(root: Path, rel: str, tmp: str) -> dict[str, Any]:
    p = root / rel
    if p.is_dir():
        files = sorted(q for q in p.rglob("*.h5") if q.is_file())
        return {str(q.relative_to(root)): digest_h5(q, tmp) for q in files}
    if p.is_file():
        return {rel: digest_h5(p, tmp)}
    return {rel: "MISSING"}


def _prepare(root: Path) -> None:
    (root / "edges.txt").write_text(EDGES)
    (root / "scan.toml").write_text(SCAN_SPEC)
    (root / "tb.toml").write_text(TB_SPEC)
    (root / "cscan.toml").write_text(CSCAN_SPEC)
    (root / "rec.toml").write_text(REC_SPEC)


def run_all(verbose: bool = True) -> dict[str, Any]:
    """Run every invocation in a fresh temporary directory; return {name: record}."""
    env = dict(os.environ)
    env.setdefault("PYTHONHASHSEED", "0")
    env["MPLBACKEND"] = "Agg"
    records: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="mcsgd-golden-") as tmp:
        root = Path(tmp)
        _prepare(root)
        t_all = time.perf_counter()
        for name, argv, outputs, kind in INVOCATIONS:
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "mcsgd.cli", *argv], cwd=root,
                                  env=env, capture_output=True, text=True)
            rec: dict[str, Any] = {"argv": argv, "exit_code": proc.returncode}
            if kind == "json" and proc.returncode == 0:
                try:
                    rec["stdout_json"] = _scrub(json.loads(proc.stdout), tmp)
                except ValueError as exc:
                    rec["stdout_json"] = f"UNPARSABLE: {exc}"
            elif kind == "text":
                rec["stdout_text"] = _scrub_text(proc.stdout, tmp)
            if proc.returncode != 0:
                lines = proc.stderr.strip().splitlines()
                rec["stderr_last_line"] = _scrub_text(lines[-1] if lines else "", tmp)
            rec["outputs"] = {}
            for rel in outputs:
                rec["outputs"].update(_outputs(root, rel, tmp))
            if HOST_DEPENDENT_MARK in name:
                rec["host_dependent"] = True
            records[name] = rec
            if verbose:
                print(f"{time.perf_counter() - t0:6.1f}s  rc={proc.returncode}  {name}",
                      file=sys.stderr)
        if verbose:
            print(f"total {time.perf_counter() - t_all:.1f}s", file=sys.stderr)
    return records


def _flatten(obj: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(obj, dict) and obj:
        out: dict[str, str] = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: _canon(obj)}


def _integers_only(rec: dict[str, Any]) -> dict[str, Any]:
    """The host-independent core of a record: exit code and integer/bool dataset digests."""
    outs = {
        f: {k: v for k, v in d.items()
            if isinstance(v, dict) and "sha256" in v and v["dtype"][-2:-1] in "iub"}
        for f, d in rec.get("outputs", {}).items() if isinstance(d, dict)
    }
    return {"argv": rec["argv"], "exit_code": rec["exit_code"], "outputs": outs}


def compare(golden: dict[str, Any], now: dict[str, Any], skip_host: bool,
            integers_only: bool = False) -> list[str]:
    """Every difference as one line 'invocation: key: golden -> now'."""
    if integers_only:
        golden = {k: _integers_only(v) for k, v in golden.items()}
        now = {k: _integers_only(v) for k, v in now.items()}
    diffs: list[str] = []
    for name in sorted(set(golden) | set(now)):
        g, n = golden.get(name), now.get(name)
        if g is None or n is None:
            diffs.append(f"{name}: {'not in golden' if g is None else 'not run now'}")
            continue
        if skip_host and g.get("host_dependent"):
            continue
        fg, fn = _flatten(g), _flatten(n)
        for key in sorted(set(fg) | set(fn)):
            a, b = fg.get(key, "<absent>"), fn.get(key, "<absent>")
            if a != b:
                diffs.append(f"{name}: {key}: {a[:120]} -> {b[:120]}")
    return diffs


README = """\
# Golden CLI outputs (issue 11, "Guard")

`golden.json` holds the outputs of a fixed list of small `mcsgd` CLI invocations at fixed
seeds (`INVOCATIONS` in `benchmarks/golden.py`, listed below), each run as
`python -m mcsgd.cli ...` in one fresh temporary directory: per invocation the command line,
the exit code, the JSON stdout (text stdout for commands without `--json`), and for each HDF5
output a digest per dataset (sha256 of its bytes, dtype, shape) and per attribute (canonical
JSON; JSON-valued attributes parsed). Comparison is exact: bit-identical or not.

Removed before digesting (they change from run to run, never with the seeds): `timing`
(wall times), `provenance` (date, host, git revision, package versions), the scan task files'
`scan_timing` (wall times and the number of checkpoints, a wall-clock decision) and
`scan_checksum` (a sha256 over all attributes, provenance and timing included; the content it
seals is digested key by key), and the temporary directory's path (replaced by `$TMP`).

Check the current checkout (about 40 s on 2 cores; prints each difference, exit 1 on any):

    PYTHONPATH=$PWD python benchmarks/golden.py check benchmarks/golden

Regenerate (only when an output change is intended; say why in the commit):

    PYTHONPATH=$PWD python benchmarks/golden.py record benchmarks/golden

Determinism: `check` right after `record` (twice) gave 0 differences on the recording
machine. `run-threads1-equals-threads2` repeats `run-sgd-reference` with `--threads 1`; its
outputs equal the `--threads 2` ones (replicas own their RNG streams); the commands without a
`--threads` option (bp, recover, demo, reproduce recovery) gave the same record under
`NUMBA_NUM_THREADS=1` as with 2 threads, so the core count of the host does not matter.

Host dependence. numba compiles the kernels for the host CPU (AVX2 vs AVX-512) and numpy
dispatches some float functions (exp, log, BLAS) to CPU-specific code. Integer outputs
(instances, final states, RNG states, counts) must match on every machine:
`check --integers-only` compares exactly those plus the exit codes. The `continuous ...`
invocations and the continuous scan (numpy linear algebra and reductions) are marked
`host_dependent` in `golden.json`; the float statistics of the discrete commands (energies,
T(B) fits) may in principle differ in the last bits across CPUs too. So compare the full
record on the machine that recorded it (for the redesign: record on main before moving code,
check on the same machine after); on another machine use `--integers-only` or
`--skip-host-dependent`, or re-record there from the pre-redesign commit first.

Recorded on: {host_note}

## Invocations

{invocations}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record", help="run every invocation, write DIR/golden.json")
    r.add_argument("dir", type=Path)
    c = sub.add_parser("check", help="rerun and compare with DIR/golden.json (exit 1 on diff)")
    c.add_argument("dir", type=Path)
    c.add_argument("--skip-host-dependent", action="store_true",
                   help="leave out outputs marked host_dependent (continuous models)")
    c.add_argument("--integers-only", action="store_true",
                   help="compare only exit codes and integer/bool datasets (instances, states, "
                        "RNG states, counts): the part that must match on any CPU")
    args = ap.parse_args(argv)

    records = run_all()
    if args.cmd == "record":
        args.dir.mkdir(parents=True, exist_ok=True)
        doc = {"format": FORMAT, "invocations": records}
        (args.dir / "golden.json").write_text(json.dumps(doc, sort_keys=True, indent=1) + "\n")
        import platform

        import numba
        # cwd="/": with -c the current directory comes first on sys.path, before PYTHONPATH
        pkg = subprocess.run([sys.executable, "-c", "import mcsgd; print(mcsgd.__file__)"],
                             capture_output=True, text=True, cwd="/").stdout.strip()
        rev = subprocess.run(["git", "-C", str(Path(pkg).parent), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True).stdout.strip() or "unknown"
        note = (f"mcsgd checkout at commit {rev}; {platform.machine()}, numpy {np.__version__}, "
                f"numba {numba.__version__}, h5py {h5py.__version__}, "
                f"Python {platform.python_version()}")
        inv = "\n".join(f"- `{n}`: `mcsgd {' '.join(a)}`" for n, a, _, _ in INVOCATIONS)
        (args.dir / "README.md").write_text(README.format(host_note=note, invocations=inv))
        bad = [n for n, rec in records.items()
               if rec["exit_code"] != 0 and not n.startswith("error-")]
        print(f"wrote {args.dir / 'golden.json'}: {len(records)} invocations"
              + (f"; NONZERO EXIT: {', '.join(bad)}" if bad else ""))
        return 1 if bad else 0
    golden = json.loads((args.dir / "golden.json").read_text())["invocations"]
    # Round-trip through JSON so tuples/float formatting compare like the stored file.
    now = json.loads(json.dumps(records, sort_keys=True))
    diffs = compare(golden, now, args.skip_host_dependent, args.integers_only)
    for d in diffs:
        print(d)
    print(f"{len(diffs)} difference(s) over {len(now)} invocations")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
