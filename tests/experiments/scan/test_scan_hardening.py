"""Scans under hostile input and faults (issue 10): injection, integrity, full disk, dead and
orphaned workers, unbounded expansion, read-only status, broken pipes, the local SLURM helper."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mcsgd.cli import main
from mcsgd.errors import ParameterError
from mcsgd.experiments.scan import load_spec

from .test_scan_common import write_spec

ROOT = Path(__file__).resolve().parents[3]

# ---- shell injection through [slurm] / [dask] ----------------------------------------------------
HOSTILE = [
    ("slurm", "job_name", '"x\\ntouch /tmp/pwned\\n#"'),
    ("slurm", "job_name", '"a b"'),
    ("slurm", "job_name", '"$(touch pwned)"'),
    ("slurm", "time", '"01:00:00\\ntouch pwned"'),
    ("slurm", "time", '"1 hour"'),
    ("slurm", "time", '"01:99:00"'),
    ("slurm", "mem_per_cpu", '"1G; touch pwned"'),
    ("slurm", "mem_per_cpu", '"lots"'),
    ("slurm", "partition", '"cpu\\n#SBATCH --x"'),
    ("slurm", "partition", '"cpu`id`"'),
    ("slurm", "extra", '["--account=abc\\ntouch pwned"]'),
    ("slurm", "extra", '["--account=a b"]'),
    ("slurm", "extra", '["-A abc"]'),
    ("slurm", "extra", '["--comment=$(id)"]'),
    ("slurm", "template", '"t\\nx"'),
    ("dask", "memory", '"1GB\\ntouch pwned"'),
    ("dask", "memory", '"much"'),
    ("dask", "walltime", '"1 day"'),
    ("dask", "queue", '"q;id"'),
    ("dask", "interface", '"eth0 && id"'),
    ("dask", "scheduler", '"tcp://h:1\\nx"'),
    ("dask", "job_extra", '["--qos=x y"]'),
]


@pytest.mark.parametrize("table,key,value", HOSTILE)
def test_hostile_slurm_and_dask_values_are_refused_exit_2(tmp_path, capsys, table, key, value):
    """Guards the shell injection through [slurm]/[dask] values: each value that is not what
    SLURM accepts (control characters, shell syntax, bad time/memory formats) is refused at
    load time with exit 2 and a message naming the key path."""
    sp = write_spec(tmp_path / "s.toml", tmp_path / "o")
    with open(sp, "a") as f:
        f.write(f"\n[{table}]\n{key} = {value}\n")
    with pytest.raises(ParameterError, match=rf"^{table}\.{key}(\[0\])?: "):
        load_spec(sp)
    assert main(["scan", "plan", str(sp)]) == 2
    assert f"{table}.{key}" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["30", "90:00", "02:00:00", "2-0", "1-12:30", "7-00:00:00",
                                   "UNLIMITED"])
def test_every_slurm_time_format_is_accepted(tmp_path, value):
    """The time validator accepts SLURM's formats (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM,
    D-HH:MM:SS, UNLIMITED) -- hardening must not refuse valid settings."""
    sp = write_spec(tmp_path / "s.toml", tmp_path / "o")
    with open(sp, "a") as f:
        f.write(f'\n[slurm]\ntime = "{value}"\nmem_per_cpu = "512"\npartition = "a,b-c"\n'
                'extra = ["--account=abc", "--exclusive", "--gres=gpu:1"]\n'
                f'[dask]\nwalltime = "{value}"\nmemory = "2GiB"\n')
    assert load_spec(sp).slurm["time"] == value


def test_rendered_script_runs_nothing_but_the_scan_command(tmp_path, monkeypatch):
    """Guards the injection at render time: a Spec built without the loader (hostile values)
    is refused by render_sbatch; valid but shell-hostile paths (spaces, $(...), quotes,
    backticks in the output directory, working directory) are quoted, so running the rendered
    script executes exactly one command, the scan, with the paths passed literally."""
    from importlib import resources

    from mcsgd.experiments.scan.executors import TEMPLATE_RESOURCE, render_sbatch

    template = resources.files("mcsgd").joinpath(TEMPLATE_RESOURCE).read_text()

    spec = load_spec(write_spec(tmp_path / "s.toml", tmp_path / "o"))
    for key, bad in [("job_name", "x\ntouch /tmp/pwned\n#"), ("time", "1\nid"),
                     ("mem_per_cpu", "1G\nid"), ("partition", "p\nid"),
                     ("extra", ["--a=b\nid"])]:
        hostile = dataclasses.replace(spec, slurm={**spec.slurm, key: bad})
        with pytest.raises(ParameterError, match=f"slurm.{key}"):
            render_sbatch(hostile, 2)
    with pytest.raises(ParameterError, match="^out: "):
        render_sbatch(dataclasses.replace(spec, out=str(tmp_path / "o\ntouch pwned")), 2)
    # valid values, hostile-looking paths: run the script with a stub interpreter
    weird = tmp_path / "w $(touch PWNED) `touch PWNED` 'q' \"d\" ;touch PWNED"
    weird.mkdir()
    out = weird / "out dir"
    stub = weird / "py stub"
    stub.write_text("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGV_FILE\"\n")
    stub.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(stub))
    monkeypatch.chdir(weird)
    tpl = tmp_path / "t.sbatch"
    tpl.write_text(template)
    spec = dataclasses.replace(spec, out=str(out), slurm={
        **spec.slurm, "template": str(tpl), "partition": "a,b", "extra": ["--account=x"]})
    script = render_sbatch(spec, 3)
    sp = tmp_path / "job.sh"
    sp.write_text(script)
    env = {"PATH": "/usr/bin:/bin", "ARGV_FILE": str(tmp_path / "argv"),
           "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_CPUS_PER_TASK": "2"}
    r = subprocess.run(["bash", str(sp)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv == ["-m", "mcsgd.cli", "scan", "run", str(out / "scan.toml"), "--out", str(out),
                    "--executor", "local", "--workers", "1", "--threads", "2", "--shard", "1/3"]
    assert not list(tmp_path.rglob("PWNED")) and not list(Path.cwd().rglob("PWNED"))
    # every #SBATCH line is a single directive; no line outside them but the template's own
    sb = [ln for ln in script.splitlines() if ln.startswith("#SBATCH")]
    assert len(sb) == 8 and all(len(ln.split(None, 1)) == 2 for ln in sb)


# ---- integrity: every byte that is read is verified ----------------------------------------------
FLIPS = 200


def _tiny_task_spec(tmp_path, sweeps: int = 200):
    return load_spec(write_spec(tmp_path / "s.toml", tmp_path / "o", sweeps=sweeps, ckpt=0,
                                chunk=600 * 2 * 7))


def _collected(out: Path, tid: str):
    """What `scan collect` reads of task ``tid`` (None if it is not collected)."""
    import numpy as np

    from mcsgd.experiments.scan import gather

    data = gather(out)
    for row in data["tasks"]:
        if row["id"] == tid:
            ser = {k: np.asarray(v).tobytes() for k, v in row["_series"].items()}
            return json.dumps(row["stationary"], sort_keys=True), json.dumps(row["params"]), ser
    return None


def test_random_bit_flips_in_a_result_are_detected_or_harmless(tmp_path):
    """Guards integrity of everything collect reads: the checksum once covered datasets only,
    so a flipped bit in an attribute (params JSON, w0) left the task 'done' and collect crashed
    or returned other values. 200 seeded single-bit flips anywhere in the file: each is
    detected (task not done, a reason given, not collected) or collect returns exactly the
    original values; never an exception."""
    import random

    from mcsgd.experiments.scan import check_result, run_scan, status

    spec = _tiny_task_spec(tmp_path)
    t = spec.tasks[0]
    run_scan(dataclasses.replace(spec, tasks=[t]), workers=1, quiet=True)
    out = Path(spec.out)
    rp = out / "tasks" / f"{t.id}.h5"
    pristine = rp.read_bytes()
    ref = _collected(out, t.id)
    assert ref is not None
    rnd = random.Random(10)
    detected = harmless = 0
    for _ in range(FLIPS):
        bit = rnd.randrange(8 * len(pristine))
        b = bytearray(pristine)
        b[bit // 8] ^= 1 << (bit % 8)
        rp.write_bytes(bytes(b))
        why = check_result(rp, t)
        got = _collected(out, t.id)
        if why is None:
            assert got == ref, f"bit {bit}: passes the check but collects other values"
            harmless += 1
        else:
            assert got is None, f"bit {bit}: {why} but collected"
            st = status(out)["tasks"][0]
            assert st["state"] == "missing" and "will be recomputed" in st["reason"]
            detected += 1
    assert detected + harmless == FLIPS and detected > 0
    # a detected one is redone, giving the original file's content back
    b = bytearray(pristine)
    pos = pristine.index(b'"replicas"')  # inside the params JSON attribute
    b[pos + 2] ^= 1
    rp.write_bytes(bytes(b))
    assert check_result(rp, t) is not None
    run_scan(dataclasses.replace(spec, tasks=[t]), workers=1, quiet=True)
    assert check_result(rp, t) is None and _collected(out, t.id) == ref


class _Stop(BaseException):
    pass


def _checkpoint(tmp_path):
    from mcsgd.experiments.scan.store import prepare_dir
    from mcsgd.experiments.scan.task import execute
    from mcsgd.storage.scan import ckpt_path

    spec = _tiny_task_spec(tmp_path, sweeps=300)
    t = spec.tasks[0]
    prepare_dir(spec)

    def stop(tid, done, total):
        if done >= 150:
            raise _Stop

    with pytest.raises(_Stop):
        execute(t, spec.out, checkpoint_seconds=0, chunk_updates=600 * 2 * 7, progress=stop)
    cp = ckpt_path(spec.out, t.id)
    assert cp.exists()
    return spec, t, cp


def _fresh_runner(t):
    from mcsgd.driver import prepare_run
    from mcsgd.dynamics import from_params
    from mcsgd.experiments.scan.task import build_instance

    r = t.params["run"]
    runner, times = prepare_run(
        build_instance(t.params["instance"], t.seed), from_params(t.params["dynamics"]),
        sweeps=r["sweeps"], replicas=r["replicas"], seed=t.seed, key=t.key, init=r["init"],
        grid=r["grid"], grid_points=r["grid_points"], window=r["window"])
    return runner, len(times)


def _loaded(cp, t):
    """(runner state, loop arrays) restored from checkpoint ``cp``, or (None, reason)."""
    import numpy as np

    from mcsgd.experiments.scan.task import _load_ckpt

    runner, k = _fresh_runner(t)
    why: list[str] = []
    loop = _load_ckpt(cp, t, runner, k, why)
    if loop is None:
        return None, why
    state = {k_: np.asarray(v).tobytes() for k_, v in runner.state_dict().items()}
    arrays = {k_: np.asarray(v).tobytes() for k_, v in loop.to_dict().items() if v is not None}
    return (state, arrays, loop.idx, loop.t_prev), why


def test_random_bit_flips_in_a_checkpoint_never_resume_into_another_state(tmp_path):
    """Guards checkpoint integrity: checkpoints had no check, so one flipped bit in the stored
    RNG rows resumed silently into a wrong result. 200 seeded single-bit flips anywhere in a
    checkpoint: each is either discarded with a reason or restores exactly the original state."""
    import random

    spec, t, cp = _checkpoint(tmp_path)
    pristine = cp.read_bytes()
    ref, why = _loaded(cp, t)
    assert ref is not None, why
    rnd = random.Random(11)
    discarded = 0
    for _ in range(FLIPS):
        bit = rnd.randrange(8 * len(pristine))
        b = bytearray(pristine)
        b[bit // 8] ^= 1 << (bit % 8)
        cp.write_bytes(bytes(b))
        got, why = _loaded(cp, t)
        if got is None:
            assert why and why[0].startswith("checkpoint discarded"), bit
            discarded += 1
        else:
            assert got == ref, f"bit {bit}: resumes into another state"
    assert discarded > 0


def test_damaged_checkpoint_rng_rows_restart_with_a_reason(tmp_path):
    """Guards the issue's example: a bit flipped in the stored RNG rows of a checkpoint made
    the task resume into a wrong result. Now the checkpoint is discarded (reason in the task's
    info and in `scan status`), the task restarts and ends bit-identical to an uninterrupted
    run."""
    import h5py
    import numpy as np

    from mcsgd.experiments.scan import status
    from mcsgd.experiments.scan.task import execute

    from .test_scan_common import assert_same_payload, task_payload

    spec, t, cp = _checkpoint(tmp_path)
    ref_dir = tmp_path / "ref"
    (ref_dir / "tasks").mkdir(parents=True)
    assert execute(t, str(ref_dir), chunk_updates=600 * 2 * 7)["state"] == "done"
    with h5py.File(cp, "r") as f:
        off = f["runner/rng"].id.get_offset()
        rng = f["runner/rng"][...]
    assert off is not None and rng.dtype.itemsize == 8
    raw = bytearray(cp.read_bytes())
    raw[off + 3] ^= 0x10  # one bit of the first RNG word
    cp.write_bytes(bytes(raw))
    with h5py.File(cp, "r") as f:
        assert not np.array_equal(f["runner/rng"][...], rng)
    assert "damaged checkpoint" in status(spec.out)["tasks"][0]["reason"]
    info = execute(t, spec.out, checkpoint_seconds=0, chunk_updates=600 * 2 * 7)
    assert info["state"] == "done" and info["resumed_at"] is None
    assert "checksum mismatch" in info["checkpoint_discarded"]
    name = f"{t.id}.h5"
    assert_same_payload(task_payload(ref_dir / "tasks" / name),
                        task_payload(Path(spec.out) / "tasks" / name))


# ---- `scan status` is read-only; locks never follow symbolic links ------------------------------
def _unfinished_scan(tmp_path):
    from mcsgd.experiments.scan.store import prepare_dir

    spec = load_spec(write_spec(tmp_path / "s.toml", tmp_path / "o"))
    prepare_dir(spec)
    return spec, Path(spec.out)


def test_status_writes_nothing(tmp_path, monkeypatch, capsys):
    """Guards `scan status` writing: it took (created, truncated, wrote) each unfinished
    task's lock, so it crashed on a read-only directory. Every open for writing is refused
    here, as on a read-only file system; status must still report every task."""
    import errno

    spec, out = _unfinished_scan(tmp_path)
    (out / "tasks" / f"{spec.tasks[1].id}.lock").write_text("")  # an old, free lock
    real_open = os.open
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def ro_open(path, flags, *a, **k):
        if flags & writes:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *a, **k)

    before = sorted(p.name for p in (out / "tasks").iterdir())
    monkeypatch.setattr(os, "open", ro_open)
    assert main(["scan", "status", str(out)]) == 0
    assert "3 missing" in capsys.readouterr().out
    monkeypatch.undo()
    assert sorted(p.name for p in (out / "tasks").iterdir()) == before


def test_status_on_a_read_only_mount(tmp_path):
    """Guards `scan status` on a really read-only directory (a read-only bind mount when
    root can mount, else a directory without write permission): exit 0, every task listed."""
    spec, out = _unfinished_scan(tmp_path)
    (out / "tasks" / f"{spec.tasks[1].id}.lock").write_text("")  # an old, free lock
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "--bind", "-o", "ro", str(out), str(ro)], capture_output=True).returncode == 0
    if mounted:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
        target = ro
    else:
        for p in [out, out / "tasks"]:
            p.chmod(0o555)
        target = out
    try:
        if mounted:
            with pytest.raises(OSError):
                (ro / "probe").write_text("x")
        r = subprocess.run([sys.executable, "-m", "mcsgd.cli", "scan", "status", str(target),
                            "--json"], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["counts"]["missing"] == 3
    finally:
        if mounted:
            subprocess.run(["umount", str(ro)], check=True)
        else:
            for p in [out, out / "tasks"]:
                p.chmod(0o755)


def test_planted_symlink_lock_does_not_clobber_its_target(tmp_path, capsys):
    """Guards lock opens following symbolic links: a lock file planted as a symlink to another
    file made `scan status` (and `scan run`) truncate and overwrite that file. Now status leaves
    the target alone, and run refuses the task with the reason instead of writing through."""
    from mcsgd.experiments.scan import status

    spec, out = _unfinished_scan(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    t = spec.tasks[0]
    (out / "tasks" / f"{t.id}.lock").symlink_to(victim)
    assert main(["scan", "status", str(out)]) == 0
    assert victim.read_text() == "precious\n"
    assert main(["scan", "run", str(tmp_path / "s.toml"), "--workers", "1", "--quiet"]) == 1
    assert victim.read_text() == "precious\n"
    row = next(x for x in status(out)["tasks"] if x["id"] == t.id)
    assert row["state"] == "failed" and "symbolic link" in row["reason"]
    assert status(out)["counts"]["done"] == 2


# ---- a dead worker; workers die with their parent -----------------------------------------------
def _cli(args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "mcsgd.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_dead_worker_fails_its_task_and_the_scan_goes_on(tmp_path):
    """Guards the BrokenProcessPool abort: a worker killed by SIGKILL (as by the OOM killer;
    the test hook MCSGD_TEST_CRASH_TASK makes the worker running that task kill itself) aborted
    the whole scan with a traceback. Now that task is recorded as failed with the reason, the
    pool is restarted and the other tasks finish; a later run completes the scan."""
    from mcsgd.experiments.scan import status

    sp = write_spec(tmp_path / "s.toml", tmp_path / "o")
    spec = load_spec(sp)
    victim = spec.tasks[1].id
    r = _cli(["scan", "run", str(sp), "--workers", "2"], env={"MCSGD_TEST_CRASH_TASK": victim})
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "BrokenProcessPool" not in r.stderr
    st = status(tmp_path / "o")
    assert st["counts"] == {"done": 2, "running": 0, "failed": 1, "missing": 0}
    row = next(x for x in st["tasks"] if x["id"] == victim)
    assert row["state"] == "failed" and "killed by SIGKILL" in row["reason"]
    assert f"{victim} failed: WorkerDied" in r.stderr
    assert _cli(["scan", "run", str(sp), "--workers", "2", "--quiet"]).returncode == 0
    assert status(tmp_path / "o")["counts"]["done"] == 3


def _marked(marker: str) -> list[int]:
    """PIDs of live processes whose environment holds ``marker``."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            env = (d / "environ").read_bytes()
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in env and state != "Z":
            pids.append(int(d.name))
    return pids


def test_kill_9_during_start_up_leaves_no_orphan_worker(tmp_path):
    """Guards orphans: a `scan run` killed while its spawned workers start left workers that
    took a task lock and idled forever (before their initializer set PDEATHSIG). Kill -9 the
    parent 5 times while its workers start: after a grace period no process of those runs is
    alive (found by an environment marker) and no task lock is held."""
    import random
    import signal
    import time
    import uuid

    from mcsgd.experiments.scan import status

    sp = write_spec(tmp_path / "s.toml", tmp_path / "o", instances=2)
    marker = f"MCSGD_ORPHAN_TEST={uuid.uuid4().hex}"
    k, v = marker.split("=")
    rnd = random.Random(3)
    kills = 0
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-m", "mcsgd.cli", "scan", "run", str(sp),
                                 "--workers", "2", "--quiet"], env={**os.environ, k: v},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60 and proc.poll() is None and \
                len([p for p in _marked(marker) if p != proc.pid]) < 2:
            time.sleep(0.01)  # until the workers (and the resource tracker) exist
        time.sleep(rnd.uniform(0.0, 0.4))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 3
    t0 = time.monotonic()
    while _marked(marker) and time.monotonic() - t0 < 30:  # start-up may be slow under load
        time.sleep(0.1)
    left = _marked(marker)
    for pid in left:  # do not leave them behind even when the test fails
        with __import__("contextlib").suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not left, f"orphaned workers: {left}"
    assert status(tmp_path / "o")["counts"]["running"] == 0


# ---- unbounded expansion ----------------------------------------------------------------------
HUGE = """
out = "o"
instances = 10
{extra}
[instance]
problem = "coloring"
n = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
q = 2
c = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]
[run]
sweeps = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
replicas = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
grid_points = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
window = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
init = "random"
[[dynamics]]
dynamics = "metropolis"
T = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
order = ["sequential", "random"]
rule = ["metropolis", "glauber", "metropolis2", "glauber2", "m3"]
"""


def test_a_1e9_task_grid_is_refused_before_expansion(tmp_path, capsys, monkeypatch):
    """Guards unbounded expansion: a grid of 1e9 tasks was built in memory until the machine
    ran out. The tasks are counted first (product of the axes) and a scan above max_tasks is
    refused with exit 2 -- here without building a single point (expand is disabled)."""
    import mcsgd.experiments.scan.spec as spec_mod

    p = tmp_path / "huge.toml"
    p.write_text(HUGE.format(extra=""))
    monkeypatch.setattr(spec_mod, "expand", lambda *a, **k: pytest.fail("expanded"))
    for argv in (["scan", "plan", str(p)], ["scan", "run", str(p)],
                 ["scan", "plan", str(p), "--max-tasks", "1000"]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "expands to 1e+09 tasks" in err and "max_tasks" in err, err
    assert not (tmp_path / "o").exists()
    p.write_text(HUGE.format(extra="max_tasks = 5000"))
    assert main(["scan", "plan", str(p)]) == 2
    assert "max_tasks = 5000" in capsys.readouterr().err
    assert main(["scan", "plan", str(p), "--max-tasks", "0"]) == 2
    assert "--max-tasks" in capsys.readouterr().err


def test_max_tasks_can_be_raised_and_counts_exactly(tmp_path):
    """The limit is overridable (scan-file key, --max-tasks) and the count is exact: a scan of
    exactly max_tasks tasks is accepted, one more is refused."""
    from mcsgd.experiments.scan.spec import check_task_count

    sp = write_spec(tmp_path / "s.toml", tmp_path / "o", instances=2)  # 6 tasks
    assert len(load_spec(sp, max_tasks=6).tasks) == 6
    with pytest.raises(ParameterError, match="expands to 6 tasks, more than max_tasks = 5"):
        load_spec(sp, max_tasks=5)
    check_task_count(10, 10)
    with pytest.raises(ParameterError):
        check_task_count(11, 10)
    # the array elements of a scan started with --max-tasks read DIR/scan.toml: same limit
    from mcsgd.experiments.scan.store import prepare_dir

    sp.write_text("max_tasks = 5\n" + sp.read_text())
    with pytest.raises(ParameterError, match="max_tasks = 5"):
        load_spec(sp)
    prepare_dir(load_spec(sp, max_tasks=6))
    copy = Path(load_spec(sp, max_tasks=6).out) / "scan.toml"
    assert len(load_spec(copy).tasks) == 6


# ---- a full disk ------------------------------------------------------------------------------
def _mount_tmpfs(d: Path, size: str) -> bool:
    return os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(d)],
        capture_output=True).returncode == 0


def _limit_file_size(limit: int):
    def pre() -> None:  # in the child: writes beyond `limit` bytes fail with EFBIG
        import resource
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


@pytest.mark.parametrize("workers,tmpfs", [(1, True), (2, False)])
def test_full_disk_stops_cleanly_and_resumes(tmp_path, workers, tmpfs):
    """Guards the full-disk crash: a 1-worker scan segfaulted (exit 139) inside HDF5 and a
    2-worker one ended with an OSError traceback. Now files are built in memory and written
    with plain writes: the scan stops at the first ENOSPC/EFBIG with one line and exit 74,
    finished results stay valid, nothing is left half-written (no temporaries, no failure
    reports), and after space is freed the same command completes the scan with the same
    results as an undisturbed run. The disk is a 120 kB tmpfs (``tmpfs`` and root may mount
    one), else a file-size limit (RLIMIT_FSIZE: EFBIG) after half the tasks ran."""
    from mcsgd.experiments.scan import check_result, status

    from .test_scan_common import assert_same_scan

    sp = write_spec(tmp_path / "s.toml", tmp_path / "unused", instances=5, sweeps=50)
    spec = load_spec(sp)
    ref = tmp_path / "ref"
    assert main(["scan", "run", str(sp), "--out", str(ref), "--workers", "1", "--quiet"]) == 0
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / "o"
    mounted = tmpfs and _mount_tmpfs(disk, "120k")
    try:
        cmd = ["scan", "run", str(sp), "--out", str(out), "--workers", str(workers)]
        pre = None
        if not mounted:
            assert main(cmd[:5] + ["--shard", "0/2", "--quiet"]) == 0
            pre = _limit_file_size(8000)
        before = {p.name: p.read_bytes() for p in (out / "tasks").glob("*.h5")} \
            if out.exists() else {}
        r = subprocess.run([sys.executable, "-m", "mcsgd.cli", *cmd, "--quiet"],
                           capture_output=True, text=True, timeout=600, preexec_fn=pre)
        assert r.returncode == 74, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mcsgd: error: disk full"), r.stderr
        names = sorted(p.name for p in (out / "tasks").iterdir())
        assert not [n for n in names if ".tmp-" in n or n.endswith(".failed.json")], names
        results = [out / "tasks" / f"{t.id}.h5" for t in spec.tasks]
        finished = [p for p in results if p.exists()]
        assert all(check_result(p, t) is None for p, t in zip(results, spec.tasks, strict=True)
                   if p.exists())
        assert all(before[n] == (out / "tasks" / n).read_bytes() for n in before)
        assert len(finished) < len(spec.tasks)
        if mounted:
            assert finished, "the disk filled before any task finished"
            subprocess.run(["mount", "-o", "remount,size=20m", str(disk)], check=True)
        st = status(out)
        assert st["counts"]["failed"] == 0 and st["counts"]["done"] == len(finished)
        assert main(cmd[:5] + ["--workers", "1", "--quiet"]) == 0
        assert_same_scan(ref, out)
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=True)


# ---- a closed pipe ----------------------------------------------------------------------------
def test_closed_stdout_pipe_gives_no_traceback(tmp_path):
    """Guards `mcsgd scan status DIR | head -1` ending in a broken-pipe traceback: with the
    reading end closed before anything is written, status, plan and example exit 141
    (128 + SIGPIPE) with nothing on stderr (--help: argparse exits 0; nothing on stderr)."""
    from mcsgd.experiments.scan.store import prepare_dir

    sp = write_spec(tmp_path / "s.toml", tmp_path / "o", instances=20)
    prepare_dir(load_spec(sp))
    for argv in (["scan", "status", str(tmp_path / "o")], ["scan", "plan", str(sp)],
                 ["scan", "example"], ["--help"]):
        p = subprocess.Popen([sys.executable, "-m", "mcsgd.cli", *argv], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        p.stdout.close()  # like `| head -1` having exited
        err = p.stderr.read().decode()
        assert p.wait(timeout=120) == (0 if argv == ["--help"] else 141), (argv, err)
        assert err == "", (argv, err)


# ---- runs/slurm/local-cluster.sh refuses foreign state ----------------------------------------
def _cluster(cmd: str, d, env=None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("MCSGD_SLURM_DIR", "SUDO_UID")}
    if d is not None:
        e["MCSGD_SLURM_DIR"] = str(d)
    return subprocess.run(["bash", str(ROOT / "runs/slurm/local-cluster.sh"), cmd],
                          capture_output=True, text=True, env={**e, **(env or {})}, timeout=60)


def test_local_cluster_script_refuses_foreign_state(tmp_path):
    """Guards runs/slurm/local-cluster.sh trusting a fixed /tmp/mcsgd-slurm: it reused a
    munge.key found there and killed pids read from there. Its state directory must now be
    the caller's own, not a symlink, not group/world-writable, without planted symlinks; and
    `stop` signals a pid only if that process is the daemon. (No SLURM is started.)"""
    import signal
    import time

    d = tmp_path / "state"
    d.mkdir(mode=0o700)
    r = _cluster("check", d)
    assert r.returncode == 0, r.stderr
    assert _cluster("check", None).returncode == 1  # no fixed default any more
    d.chmod(0o777)
    assert "group/world-writable" in _cluster("check", d).stderr
    d.chmod(0o700)
    link = tmp_path / "link"
    link.symlink_to(d)
    assert "symbolic link" in _cluster("check", link).stderr
    (d / "munge").mkdir()
    (d / "munge" / "munge.key").symlink_to("/etc/passwd")
    r = _cluster("check", d)
    assert r.returncode == 1 and "munge.key is a symbolic link" in r.stderr
    (d / "munge" / "munge.key").unlink()
    if os.geteuid() == 0:
        os.chown(d, 65534, 65534)
        foreign = d
    else:
        foreign = Path("/")  # root's
    r = _cluster("check", foreign)
    assert r.returncode == 1 and "owned by uid" in r.stderr
    if os.geteuid() == 0:
        os.chown(d, 0, 0)
    # a pid file naming an unrelated process: stop must not kill it
    victim = subprocess.Popen(["sleep", "60"])
    try:
        (d / "slurmd.pid").write_text(f"{victim.pid}\n")
        (d / "munge" / "munged.pid").write_text("1\n")
        r = _cluster("stop", d)
        assert r.returncode == 0, r.stderr
        time.sleep(0.3)
        assert victim.poll() is None, "stop killed a process that is not slurmd"
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()


def test_files_without_the_full_checksum_are_redone(tmp_path):
    """Guards issue 10 (integrity covers everything that is read) against a back door: a result
    file without the user-block checksum, or whose scan_checksum covers datasets only (the
    pre-0.2.0 form), used to be accepted as 'legacy' — so a flipped attribute in such a file
    was read. Both are now refused with a reason (and so recomputed)."""
    import h5py
    import numpy as np

    from mcsgd.storage.h5 import USERBLOCK, verify_checksum, verify_file_bytes

    p = tmp_path / "plain.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("x", data=np.arange(3))
        f.attrs["scan_checksum"] = "0" * 64  # unprefixed: datasets only
    assert "mcsgd < 0.2.0" in verify_file_bytes(p)
    with h5py.File(p, "r") as f:
        assert "mcsgd < 0.2.0" in verify_checksum(f)
    assert USERBLOCK >= 512
