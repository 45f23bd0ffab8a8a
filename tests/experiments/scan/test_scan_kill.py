"""Kill test: ``kill -9`` a running scan at random moments, resume, compare bit for bit."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import h5py

from mcsgd.cli import main
from mcsgd.experiments.scan import check_result, load_spec, status

from .test_scan_common import assert_same_scan, collect_json, summary_payload, write_spec

KILLS = 5


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _calibrated_sweeps(target_s: float = 2.0) -> int:
    """Sweeps for a task of about ``target_s`` kernel seconds at the machine's current speed."""
    from mcsgd import problems
    from mcsgd.driver import run

    inst = problems.coloring(1000, 5, 8.0, seed=1)
    res = run(inst, {"dynamics": "metropolis", "T": 0.5}, sweeps=500, replicas=2)
    per_sweep = res.timing["run_s"] / 500
    return int(min(max(target_s / per_sweep, 2000), 40000))


def test_kill_9_at_random_moments_then_resume_is_bit_identical(tmp_path, capsys):
    # 3 tasks of ~2 s each; a checkpoint at most every 0.1 s (chunks of 24 sweeps)
    sweeps = _calibrated_sweeps()
    spec_p = write_spec(tmp_path / "s.toml", tmp_path / "unused", n=1000, sweeps=sweeps,
                        ckpt=0.1, chunk=1000 * 2 * 24)
    spec = load_spec(spec_p)
    ref, out = tmp_path / "ref", tmp_path / "killed"
    assert main(["scan", "run", str(spec_p), "--out", str(ref), "--workers", "1", "--quiet"]) == 0
    rnd = random.Random(20240601)
    cmd = [sys.executable, "-m", "mcsgd.cli", "scan", "run", str(spec_p), "--out", str(out),
           "--workers", "2", "--quiet"]
    seen_ckpt = 0
    kills = 0
    for _ in range(3 * KILLS):
        if kills == KILLS:
            break
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait until this run has written something (a checkpoint or a result: its workers
        # are up and computing), then a random extra delay
        t0 = time.monotonic()
        start = time.time()
        while time.monotonic() - t0 < 60 and proc.poll() is None:
            if any(p.stat().st_mtime >= start for p in (out / "tasks").glob("*.h5")) \
                    if (out / "tasks").exists() else False:
                break
            time.sleep(0.02)
        time.sleep(rnd.uniform(0.0, 1.0))
        if proc.poll() is not None:  # finished before the kill: start again from nothing
            assert proc.returncode == 0
            for p in (out / "tasks").glob("*.h5"):
                p.unlink()
            continue
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        seen_ckpt += len(list((out / "tasks").glob("*.ckpt.h5")))
        # nothing under a final name is ever invalid
        for t in spec.tasks:
            p = out / "tasks" / f"{t.id}.h5"
            assert not p.exists() or check_result(p, t) is None
    assert kills >= 3, "the scan finished before it could be killed 3 times"
    assert seen_ckpt >= 1, "no kill happened while a task had a checkpoint"
    # workers die with their parent: no task stays locked for long
    t0 = time.monotonic()
    while status(out)["counts"]["running"] and time.monotonic() - t0 < 10:
        time.sleep(0.1)
    assert status(out)["counts"]["running"] == 0
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert status(out)["counts"] == {"done": 3, "running": 0, "failed": 0, "missing": 0}
    assert not list((out / "tasks").glob("*.ckpt.h5"))
    resumed = 0
    for t in spec.tasks:
        with h5py.File(out / "tasks" / f"{t.id}.h5") as f:
            resumed += "null" not in f.attrs["scan_timing"].split('"resumed_at": ')[1][:4]
    assert resumed >= 1, "no task was resumed from a checkpoint"
    with capsys.disabled():
        print(f"\nkill test: {kills} kills, {seen_ckpt} checkpoints seen after kills, "
              f"{resumed}/3 tasks finished from a checkpoint, {sweeps} sweeps per task")
    assert_same_scan(ref, out)
    assert collect_json(capsys, main, ref)["tasks"] == collect_json(capsys, main, out)["tasks"]
    for d in (ref, out):
        assert main(["scan", "collect", str(d), "-o", str(d / "summary.h5")]) == 0
    assert summary_payload(ref / "summary.h5") == summary_payload(out / "summary.h5")
    # temporary files of killed writers are removed when their task is run again
    assert not [p.name for p in (out / "tasks").iterdir() if ".tmp-" in p.name]


def test_sigterm_checkpoints_and_exits_143_then_resumes(tmp_path):
    """SIGTERM (SLURM walltime, scancel) -> checkpoint at the next chunk, exit 143; resume."""
    sweeps = _calibrated_sweeps(1.5)
    spec_p = write_spec(tmp_path / "s.toml", tmp_path / "unused", n=1000, sweeps=sweeps,
                        ckpt=1000.0, chunk=1000 * 2 * 24)
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert main(["scan", "run", str(spec_p), "--out", str(ref), "--workers", "1", "--quiet"]) == 0
    cmd = [sys.executable, "-m", "mcsgd.cli", "scan", "run", str(spec_p), "--out", str(out),
           "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60 and not any(
            p.suffix == ".lock" for p in (out / "tasks").glob("*")) if (out / "tasks").exists() \
            else time.monotonic() - t0 < 60:
        time.sleep(0.02)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "run the same command again" in err
    ckpts = list((out / "tasks").glob("*.ckpt.h5"))
    assert len(ckpts) == 1  # checkpoint_seconds is huge: this one came from SIGTERM
    assert status(out)["counts"]["running"] == 0
    assert subprocess.run(cmd, capture_output=True, timeout=300).returncode == 0
    assert_same_scan(ref, out)
