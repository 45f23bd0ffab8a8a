"""Scans on a real SLURM cluster (job arrays, dask-jobqueue) and on a Dask scheduler.

The ``slurm`` tests need a running cluster (``runs/slurm/local-cluster.sh start`` and
``SLURM_CONF`` exported; ``.ci/run`` does both). Without one they are skipped with the reason,
unless ``MCSGD_REQUIRE_SLURM=1`` (set by CI), where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

from mcsgd.cli import main
from mcsgd.experiments.scan import load_spec, status

from .test_scan_common import assert_same_scan, write_spec

REQUIRED = os.environ.get("MCSGD_REQUIRE_SLURM", "") not in ("", "0")


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"MCSGD_REQUIRE_SLURM is set but {reason}")
    pytest.skip(reason)


def _slurm_problem() -> str | None:
    for b in ("sbatch", "squeue", "sinfo", "scancel"):
        if shutil.which(b) is None:
            return f"SLURM client '{b}' is not installed (see runs/slurm/local-cluster.sh)"
    if not os.environ.get("SLURM_CONF"):
        return ("no SLURM cluster: SLURM_CONF is not set (start one with "
                "'runs/slurm/local-cluster.sh start' and export SLURM_CONF)")
    try:
        r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                           timeout=20)
    except subprocess.TimeoutExpired:
        return "no SLURM cluster: sinfo timed out"
    if r.returncode != 0:
        return f"no SLURM cluster: sinfo failed: {r.stderr.strip()[:200]}"
    if not any(s.strip().rstrip("*") in ("idle", "mixed", "allocated")
               for s in r.stdout.split()):
        return f"SLURM has no usable node (sinfo: {r.stdout.strip()!r})"
    return None


@pytest.fixture(scope="module")
def slurm():
    why = _slurm_problem()
    if why:
        _unavailable(why)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """A tiny scan (6 tasks) and its local, single-worker result."""
    d = tmp_path_factory.mktemp("scan_ref")
    spec_p = write_spec(d / "s.toml", d / "unused", instances=2)
    assert main(["scan", "run", str(spec_p), "--out", str(d / "ref"), "--workers", "1",
                 "--quiet"]) == 0
    return spec_p, d / "ref"


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mcsgd.cli", "scan", *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slurm
def test_slurm_job_array_matches_local(slurm, reference, tmp_path):
    spec_p, ref = reference
    sp = tmp_path / "s.toml"
    sp.write_text(spec_p.read_text() + '\n[slurm]\narray_size = 3\nconcurrency = 2\n'
                  'time = "00:10:00"\n')
    out = tmp_path / "out"
    t0 = time.monotonic()
    r = _cli("run", str(sp), "--out", str(out), "--executor", "slurm", "--wait")
    assert r.returncode == 0, r.stderr
    script = (out / "slurm" / "array.sbatch").read_text()
    assert "--array=0-2%2" in script and "SLURM_ARRAY_TASK_COUNT" in script
    logs = list((out / "slurm" / "logs").glob("*.out"))
    assert len(logs) == 3
    assert_same_scan(ref, out)
    print(f"slurm job array: {time.monotonic() - t0:.1f} s")


@pytest.mark.slurm
def test_slurm_resubmit_after_kill_continues(slurm, tmp_path):
    """scancel (as a walltime kill does) mid-task, resubmit: resumes from checkpoints."""
    from .test_scan_kill import _calibrated_sweeps

    sweeps = _calibrated_sweeps(3.0)
    sp = write_spec(tmp_path / "s.toml", tmp_path / "out", n=1000, sweeps=sweeps, ckpt=0.1,
                    chunk=1000 * 2 * 24)
    with open(sp, "a") as f:
        f.write('\n[slurm]\ntime = "00:10:00"\n')
    ref = tmp_path / "ref"
    assert main(["scan", "run", str(sp), "--out", str(ref), "--workers", "1", "--quiet"]) == 0
    out = tmp_path / "out"
    r = _cli("run", str(sp), "--executor", "slurm", "--json")
    assert r.returncode == 0, r.stderr
    job = [x for x in (out / "slurm" / "jobs.txt").read_text().split()][0]
    t0 = time.monotonic()
    while not list((out / "tasks").glob("*.ckpt.h5")) and time.monotonic() - t0 < 120:
        time.sleep(0.05)
    subprocess.run(["scancel", job], check=True)
    from mcsgd.experiments.scan.executors import wait_slurm

    wait_slurm(job, poll=0.5, timeout=120)
    st = status(out)
    assert st["counts"]["done"] < 3, "the job finished before it was cancelled"
    r = _cli("run", str(sp), "--executor", "slurm", "--wait")
    assert r.returncode == 0, r.stderr
    assert status(out)["counts"]["done"] == 3
    resumed = 0
    for t in load_spec(sp).tasks:
        with h5py.File(out / "tasks" / f"{t.id}.h5") as f:
            resumed += '"resumed_at": null' not in f.attrs["scan_timing"]
    assert resumed >= 1
    assert_same_scan(ref, out)


@pytest.mark.slurm
def test_dask_jobqueue_slurmcluster_matches_local(slurm, reference, tmp_path):
    try:
        import dask_jobqueue  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        _unavailable("dask-jobqueue is not installed (pip install 'mcsgd[dask]')")
    spec_p, ref = reference
    sp = tmp_path / "s.toml"
    sp.write_text(spec_p.read_text() + '\n[dask]\njobs = 2\nprocesses = 1\ninterface = "lo"\n'
                  'walltime = "00:10:00"\n')
    out = tmp_path / "out"
    t0 = time.monotonic()
    r = _cli("run", str(sp), "--out", str(out), "--executor", "dask")
    assert r.returncode == 0, r.stderr
    assert_same_scan(ref, out)
    assert list((out / "slurm" / "dask").glob("*.err"))  # workers ran as SLURM jobs
    print(f"dask-jobqueue: {time.monotonic() - t0:.1f} s")


def test_dask_existing_scheduler_matches_local(reference, tmp_path):
    try:
        from distributed import LocalCluster
    except ImportError:
        _unavailable("dask.distributed is not installed (pip install 'mcsgd[dask]')")
    spec_p, ref = reference
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        assert main(["scan", "run", str(spec_p), "--out", str(out), "--executor", "dask",
                     "--scheduler", cluster.scheduler_address, "--quiet"]) == 0
    assert_same_scan(ref, out)


def test_dask_missing_scheduler_or_slurm_is_a_clear_error(reference, tmp_path, capsys,
                                                          monkeypatch):
    try:
        import distributed  # noqa: F401
    except ImportError:
        _unavailable("dask.distributed is not installed (pip install 'mcsgd[dask]')")
    spec_p, _ = reference
    monkeypatch.setenv("PATH", str(tmp_path))  # no sbatch
    assert main(["scan", "run", str(spec_p), "--out", str(tmp_path / "o"), "--executor",
                 "dask"]) == 2
    assert "needs SLURM" in capsys.readouterr().err
    assert main(["scan", "run", str(spec_p), "--out", str(tmp_path / "o"), "--executor",
                 "slurm"]) == 2
    assert "'sbatch' not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_template_renders_all_settings(tmp_path):
    from mcsgd.experiments.scan.executors import render_sbatch

    sp = write_spec(tmp_path / "s.toml", tmp_path / "o")
    with open(sp, "a") as f:
        f.write('\n[slurm]\npartition = "cpu"\ntime = "02:00:00"\nmem_per_cpu = "2G"\n'
                'cpus_per_task = 4\nconcurrency = 10\nextra = ["--account=abc"]\n')
    text = render_sbatch(load_spec(sp), 5)
    for s in ("--partition=cpu", "--time=02:00:00", "--mem-per-cpu=2G", "--cpus-per-task=4",
              "--array=0-4%10", "#SBATCH --account=abc", str(Path(tmp_path / "o" / "scan.toml")),
              "--shard ${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}"):
        assert s in text, s
    assert "{{" not in text
