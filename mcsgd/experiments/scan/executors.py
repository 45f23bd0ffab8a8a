"""Executors of a scan: local process pool (default), SLURM job array, Dask.

local
    Tasks of the selected shard run in a ``ProcessPoolExecutor`` with the *spawn* start method
    (in the calling process when there is one worker). Each worker sets its numba thread count
    so that workers x threads = cores, and dies with its parent (``PR_SET_PDEATHSIG``, a
    parent-pid check right after it and a watchdog thread), so a ``kill -9`` of the scan, even
    during the workers' start-up, leaves no orphan holding a task. A worker that dies (e.g. the
    OOM killer) fails only its task: the pool is restarted and the other tasks go on. A full
    disk stops the scan (:class:`~mcsgd.storage.h5.DiskFullError`). A task whose lock
    is held by another process (another shard) is retried for ``lock_wait`` seconds, then left
    to it.
slurm
    Renders an sbatch job-array script from a template (``[slurm] template``, else the
    package's ``mcsgd/data/array.sbatch.template``) into ``DIR/slurm/array.sbatch`` and submits
    it with ``sbatch --parsable``; array element i runs ``mcsgd scan run DIR/scan.toml --out DIR
    --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``. Resubmitting continues: finished
    tasks are skipped, checkpointed ones resume.
dask
    Submits one Dask task per scan task to an existing scheduler (``--scheduler``) or to a
    dask-jobqueue ``SLURMCluster`` built from ``[dask]``; every worker is a process with one
    Dask thread and its own numba thread pool, and writes only its task's file.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from mcsgd.errors import ParameterError
from mcsgd.experiments.scan.spec import Spec, Task
from mcsgd.experiments.scan.store import prepare_dir
from mcsgd.storage.scan import result_path

# the default sbatch template ships with the package (one copy, found from any directory)
TEMPLATE_RESOURCE = "data/array.sbatch.template"


def cores() -> int:
    """CPU cores available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


# ---- progress ----------------------------------------------------------------------------------
class TaskProgress:
    """A bar over tasks; its label shows the sweeps of running tasks (:mod:`mcsgd.progress`)."""

    def __init__(self, total: int, quiet: bool) -> None:
        from mcsgd.progress import Progress

        self.bar = Progress("scan", total, quiet=quiet, unit="task")
        self.done = 0
        self.running: dict[str, tuple[int, int]] = {}

    def sweeps(self, tid: str, done: int, total: int) -> None:
        """A task reports ``done`` of ``total`` sweeps."""
        self.running[tid] = (done, total)
        self._show()

    def finished(self, tid: str) -> None:
        """A task ended (done, skipped or failed)."""
        self.running.pop(tid, None)
        self.done += 1
        self._show()

    def _show(self) -> None:
        if self.running:
            parts = [f"{100 * d / max(t, 1):.0f}%" for d, t in self.running.values()]
            self.bar.desc = f"scan (running: {' '.join(parts[:4])})"
        else:
            self.bar.desc = "scan"
        self.bar(self.done)

    def close(self) -> None:
        """End the bar."""
        self.bar.close()


# ---- local -------------------------------------------------------------------------------------
_QUEUE: Any = None
_THREADS: int | None = None


def _die_with(parent: int) -> None:
    """Exit this worker as soon as its parent ``parent`` is gone (kernel signal + watchdog).

    ``PR_SET_PDEATHSIG`` (Linux) kills the worker when the parent dies; a parent that died
    before that call (during the worker's start-up) is caught by the ``getppid`` check right
    after it, and a daemon thread re-checks twice a second (other platforms, or a parent
    thread that exits). The worker's task lock is released by the kernel on exit.
    """
    import signal

    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="mcsgd-parent-watchdog", daemon=True).start()


def _worker_init(threads: int, queue, parent: int | None = None) -> None:
    """Pool initializer: die with the parent, set numba threads, keep the progress queue."""
    global _QUEUE, _THREADS
    _die_with(os.getppid() if parent is None else parent)
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    from mcsgd._numba import set_threads

    set_threads(threads)
    _QUEUE, _THREADS = queue, threads


def _pool_task(task: Task, out: str, ckpt_s: float, chunk: float,
               layout: str = "auto") -> dict[str, Any]:
    from mcsgd.experiments.scan.task import execute

    last = [0.0]

    def prog(tid: str, d: int, tot: int) -> None:
        now = time.monotonic()
        if _QUEUE is not None and (now - last[0] > 0.5 or d >= tot):
            last[0] = now
            with contextlib.suppress(Exception):
                _QUEUE.put_nowait((tid, d, tot))

    return execute(task, out, checkpoint_seconds=ckpt_s, chunk_updates=chunk, threads=_THREADS,
                   progress=prog, layout=layout)


def run_local(spec: Spec, tasks: list[Task], *, workers: int, threads: int | None,
              quiet: bool, lock_wait: float = 10.0,
              pool: bool | None = None) -> list[dict[str, Any]]:
    """Run ``tasks`` locally (module docstring); returns one info dict per task.

    ``pool``: force (True) or avoid (False) the process pool; default: pool iff workers > 1.
    """
    from mcsgd.experiments.scan.task import execute

    ckpt_s = float(spec.execution["checkpoint_seconds"])
    chunk = float(spec.execution["chunk_updates"])
    prog = TaskProgress(len(tasks), quiet)
    results: dict[str, dict[str, Any]] = {}
    pending = list(tasks)
    deadline: float | None = None
    try:
        if pool is False or (pool is None and (workers <= 1 or len(tasks) <= 1)):
            from mcsgd.experiments.scan.task import install_sigterm_checkpoint

            # threads reach every task (discrete runs scope them per kernel call, continuous
            # tasks per task): the caller's numba thread count is left as it is
            install_sigterm_checkpoint()
            while pending:
                busy = []
                for t in pending:
                    info = execute(t, spec.out, checkpoint_seconds=ckpt_s, chunk_updates=chunk,
                                   threads=threads, progress=prog.sweeps, layout=spec.layout)
                    if info["state"] == "busy":
                        busy.append(t)
                        continue
                    results[t.id] = info
                    prog.finished(t.id)
                pending, deadline = _retry(busy, deadline, lock_wait, results, prog)
        else:
            thr = threads or max(1, cores() // workers)
            _run_pool(spec, pending, workers=workers, threads=thr, prog=prog, results=results,
                      ckpt_s=ckpt_s, chunk=chunk, lock_wait=lock_wait)
    finally:
        prog.close()
    return [results[t.id] for t in tasks if t.id in results]


def _run_pool(spec: Spec, pending: list[Task], *, workers: int, threads: int,
              prog: TaskProgress, results: dict[str, dict[str, Any]], ckpt_s: float,
              chunk: float, lock_wait: float) -> None:
    """Run ``pending`` in a spawn process pool; a pool broken by a dead worker is restarted.

    The task whose worker died (identified by the pid in its lock file and the worker's exit
    status) is recorded as failed with the reason; tasks interrupted only because the pool
    was torn down are run again (resuming their checkpoints). A task running in a worker that
    died for an unidentified reason twice is recorded as failed.
    """
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from mcsgd.storage.h5 import DiskFullError

    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    deaths: dict[str, int] = {}
    deadline: float | None = None
    while pending:
        busy: list[Task] = []
        broken: list[Task] = []
        procs: dict[int, Any] = {}
        full: DiskFullError | None = None
        with ProcessPoolExecutor(max_workers=max(1, min(workers, len(pending))), mp_context=ctx,
                                 initializer=_worker_init,
                                 initargs=(threads, q, os.getpid())) as ex:
            futs = {ex.submit(_pool_task, t, spec.out, ckpt_s, chunk, spec.layout): t
                    for t in pending}
            procs = getattr(ex, "_processes", None) or {}  # pid -> Process (CPython)
            while futs and full is None:
                done, _ = wait(list(futs), timeout=0.5, return_when=FIRST_COMPLETED)
                _drain(q, prog)
                for f in done:
                    t = futs.pop(f)
                    try:
                        info = f.result()
                    except BrokenProcessPool:
                        broken.append(t)
                        continue
                    except DiskFullError as e:
                        full = e
                        continue
                    if info["state"] == "busy":
                        busy.append(t)
                        continue
                    results[t.id] = info
                    prog.finished(t.id)
            if full is not None:  # stop: no new task, running ones end (their checkpoints stay)
                ex.shutdown(wait=False, cancel_futures=True)
                for p in list(procs.values()):
                    with contextlib.suppress(Exception):
                        p.terminate()
        if full is not None:
            _remove_temporaries(spec.out, [t for t in pending if t.id not in results])
            raise full
        again = _after_worker_death(spec.out, broken, dict(procs), deaths, results, prog) \
            if broken else []
        pending, deadline = _retry(busy, deadline, lock_wait, results, prog)
        pending = again + pending


def _remove_temporaries(out: str, tasks: list[Task]) -> None:
    """Delete the temporary files of ``tasks`` whose lock is free (their writers are gone)."""
    from mcsgd.experiments.scan.store import TaskLock
    from mcsgd.experiments.scan.task import _remove_stale_temporaries

    for t in tasks:
        lk = TaskLock(out, t.id)
        with contextlib.suppress(Exception):
            if lk.acquire():
                try:
                    _remove_stale_temporaries(out, t.id)
                finally:
                    lk.release()


def _after_worker_death(out: str, broken: list[Task], procs: dict[int, Any],
                        deaths: dict[str, int], results: dict[str, dict[str, Any]],
                        prog: TaskProgress) -> list[Task]:
    """Record the task(s) whose worker died as failed; return the tasks to run again."""
    import signal

    from mcsgd.experiments.scan.store import TaskLock, lock_holder
    from mcsgd.storage.scan import write_failure

    codes: dict[int, int | None] = {}
    for pid, p in procs.items():
        with contextlib.suppress(Exception):
            p.join(timeout=10)
        codes[pid] = getattr(p, "exitcode", None)
    dead = {pid: c for pid, c in codes.items() if c not in (None, 0, -int(signal.SIGTERM))}
    started: dict[str, int] = {}
    for t in broken:
        h = lock_holder(out, t.id)
        if h is not None and h[0] in codes:
            started[t.id] = h[0]
    culprits = {t.id for t in broken if started.get(t.id) in dead}
    if not culprits:  # cause not identified: suspect every task that was running
        suspects = list(started) or [t.id for t in broken]
        for tid in suspects:
            deaths[tid] = deaths.get(tid, 0) + 1
            if deaths[tid] >= (2 if started else 3):
                culprits.add(tid)
    again = []
    for t in broken:
        if t.id not in culprits:
            again.append(t)
            continue
        pid = started.get(t.id)
        c = dead.get(pid) if pid is not None else None
        how = (f"killed by {signal.Signals(-c).name}" if c is not None and c < 0
               and -c in {int(x) for x in signal.Signals} else
               f"exit code {c}" if c is not None else "died twice")
        err = (f"WorkerDied: worker process {pid} {how} while running this task (e.g. the "
               "out-of-memory killer); the other tasks went on")
        lk = TaskLock(out, t.id)
        with contextlib.suppress(Exception):
            if lk.acquire():
                try:
                    write_failure(out, t.id, err, "")
                finally:
                    lk.release()
        results[t.id] = {"id": t.id, "state": "failed", "error": err}
        prog.finished(t.id)
    return again


def _drain(q, prog: TaskProgress) -> None:
    import queue as _q

    while True:
        try:
            tid, d, tot = q.get_nowait()
        except (_q.Empty, OSError, ValueError):
            return
        if tid in prog.running or d < tot:
            prog.sweeps(tid, d, tot)


def _retry(busy, deadline, lock_wait, results, prog):
    if not busy:
        return [], deadline
    now = time.monotonic()
    if deadline is None:
        deadline = now + lock_wait
    if now >= deadline:
        for t in busy:
            results[t.id] = {"id": t.id, "state": "busy"}
            prog.finished(t.id)
        return [], deadline
    time.sleep(0.5)
    return busy, deadline


# ---- slurm -------------------------------------------------------------------------------------
def find_template(spec: Spec) -> tuple[str, str]:
    """``(text, where)`` of the sbatch template: ``[slurm] template`` (relative to the scan
    file), else the package's ``mcsgd/data/array.sbatch.template`` (independent of the current
    directory; ``mcsgd scan template`` prints it for editing)."""
    t = spec.slurm["template"]
    if t:
        p = Path(t)
        if not p.is_absolute() and spec.path:
            p = Path(spec.path).parent / p
        if not p.is_file():
            raise ParameterError(f"slurm.template: {str(p)!r} does not exist")
        return p.read_text(), str(p)
    from importlib import resources

    res = resources.files("mcsgd").joinpath(TEMPLATE_RESOURCE)
    return res.read_text(), f"mcsgd/{TEMPLATE_RESOURCE} (package)"


def render_sbatch(spec: Spec, shards: int) -> str:
    """The sbatch script of the scan's job array (placeholders ``{{name}}`` filled)."""
    from mcsgd.experiments.scan.batch import check_slurm, no_control

    text, _ = find_template(spec)
    s = check_slurm(spec.slurm)  # again: a Spec need not come from load_spec
    out = Path(no_control("out", spec.out))
    no_control("working directory", str(Path.cwd()))
    no_control("python", sys.executable)
    conc = f"%{int(s['concurrency'])}" if s["concurrency"] else ""
    values = {
        "job_name": s["job_name"],
        "array": f"0-{shards - 1}{conc}",
        "shards": str(shards),
        "cpus_per_task": str(int(s["cpus_per_task"])),
        "mem_per_cpu": s["mem_per_cpu"],
        "time": s["time"],
        "partition_line": f"#SBATCH --partition={s['partition']}" if s["partition"] else "",
        "extra_lines": "\n".join(f"#SBATCH {x}" for x in s["extra"]),
        "log_dir": shlex.quote(str(out / "slurm" / "logs")),
        "workdir": shlex.quote(str(Path.cwd())),
        "python": shlex.quote(sys.executable),
        "spec": shlex.quote(str(out / "scan.toml")),
        "out": shlex.quote(str(out)),
    }
    for k, v in values.items():
        text = text.replace("{{" + k + "}}", v)
    if "{{" in text:
        left = text[text.index("{{"):].split("}}")[0] + "}}"
        raise ParameterError(f"slurm template: unknown placeholder {left}")
    return text


def submit_slurm(spec: Spec, *, wait: bool, quiet: bool, poll: float = 2.0) -> dict[str, Any]:
    """Render, submit, and optionally wait for the job array; returns ``job_id`` and ``script``."""
    if shutil.which("sbatch") is None:
        raise ParameterError("--executor slurm: 'sbatch' not found on PATH (is SLURM installed "
                             "and SLURM_CONF set?)")
    n = len(spec.tasks)
    shards = int(spec.slurm["array_size"]) or min(n, 1000)
    shards = max(1, min(shards, n))
    script = render_sbatch(spec, shards)
    sdir = Path(spec.out) / "slurm"
    (sdir / "logs").mkdir(parents=True, exist_ok=True)
    sp = sdir / "array.sbatch"
    sp.write_text(script)
    # array elements must read exactly this scan: the spec copy in DIR (written by prepare_dir)
    r = subprocess.run(["sbatch", "--parsable", str(sp)], capture_output=True, text=True)
    if r.returncode != 0:
        raise ParameterError(f"sbatch failed: {(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    job = r.stdout.strip().split(";")[0]
    with open(sdir / "jobs.txt", "a") as f:
        f.write(f"{job} {time.strftime('%Y-%m-%dT%H:%M:%S')} shards={shards}\n")
    if not quiet:
        print(f"submitted job array {job} ({shards} elements) -> {sp}", file=sys.stderr)
    if wait:
        wait_slurm(job, poll=poll, quiet=quiet)
    return {"job_id": job, "script": str(sp), "shards": shards}


def wait_slurm(job: str, *, poll: float = 2.0, quiet: bool = True,
               timeout: float | None = None) -> None:
    """Poll ``squeue`` until job ``job`` (all array elements) has left the queue."""
    t0 = time.monotonic()
    last = 0.0
    while True:
        r = subprocess.run(["squeue", "-h", "-j", job, "-o", "%i %T"], capture_output=True,
                           text=True)
        lines = [x for x in r.stdout.splitlines() if x.strip()]
        if r.returncode != 0 and "Invalid job id" not in r.stderr:
            raise ParameterError(f"squeue failed: {r.stderr.strip()}")
        if not lines:
            return
        now = time.monotonic()
        if not quiet and now - last > 10:
            print(f"job {job}: {len(lines)} array element(s) queued or running", file=sys.stderr)
            last = now
        if timeout is not None and now - t0 > timeout:
            raise TimeoutError(f"job {job} still in the queue after {timeout} s")
        time.sleep(poll)


# ---- dask --------------------------------------------------------------------------------------
_DASK_LOCK = threading.Lock()


def _dask_task(task: Task, out: str, ckpt_s: float, chunk: float,
               threads: int, layout: str = "auto") -> dict[str, Any]:
    from mcsgd.experiments.scan.task import execute

    with _DASK_LOCK:  # one numba thread pool per process: tasks of a worker run one at a time
        return execute(task, out, checkpoint_seconds=ckpt_s, chunk_updates=chunk,
                       threads=threads, layout=layout)


def run_dask(spec: Spec, tasks: list[Task], *, scheduler: str | None, threads: int | None,
             quiet: bool) -> list[dict[str, Any]]:
    """Run ``tasks`` on Dask (module docstring); returns one info dict per task."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ParameterError("--executor dask needs dask.distributed: "
                             "pip install 'mcsgd[dask]'") from None
    from mcsgd.experiments.scan.batch import check_dask, no_control

    d = check_dask(spec.dask)
    no_control("out", spec.out)
    scheduler = scheduler or d["scheduler"] or None
    cluster = None
    thr = int(threads or d["threads"] or 1)
    if scheduler is None:
        try:
            from dask_jobqueue import SLURMCluster
        except ImportError:
            raise ParameterError("--executor dask without --scheduler starts a SLURMCluster and "
                                 "needs dask-jobqueue: pip install 'mcsgd[dask]'") from None
        if shutil.which("sbatch") is None:
            raise ParameterError("--executor dask without --scheduler needs SLURM ('sbatch' not "
                                 "found); give --scheduler ADDRESS for another Dask cluster")
        procs = int(d["processes"])
        kw: dict[str, Any] = {
            "cores": procs, "processes": procs, "job_cpu": procs * thr, "memory": d["memory"],
            "walltime": d["walltime"], "python": shlex.quote(sys.executable),
            "log_directory": str(Path(spec.out) / "slurm" / "dask"),
            "job_extra_directives": list(d["job_extra"]),
            "job_script_prologue": [f"export NUMBA_NUM_THREADS={thr}"],
        }
        if d["queue"]:
            kw["queue"] = d["queue"]
        if d["interface"]:
            kw["interface"] = d["interface"]
        cluster = SLURMCluster(**kw)
        cluster.scale(jobs=int(d["jobs"]))
        client = Client(cluster)
    else:
        client = Client(scheduler)
    ckpt_s = float(spec.execution["checkpoint_seconds"])
    chunk = float(spec.execution["chunk_updates"])
    prog = TaskProgress(len(tasks), quiet)
    results: dict[str, dict[str, Any]] = {}
    try:
        futs = {client.submit(_dask_task, t, spec.out, ckpt_s, chunk, thr, spec.layout, pure=False,
                              key=f"mcsgd-task-{t.id}"): t for t in tasks}
        for f in as_completed(list(futs)):
            t = futs[f]
            try:
                results[t.id] = f.result()
            except Exception as e:  # noqa: BLE001 - e.g. a lost worker
                results[t.id] = {"id": t.id, "state": "failed",
                                 "error": f"dask: {type(e).__name__}: {e}"}
            prog.finished(t.id)
    finally:
        prog.close()
        client.close()
        if cluster is not None:
            cluster.close()
    return [results[t.id] for t in tasks if t.id in results]


def _check_prerequisites(spec: Spec, executor: str, scheduler: str | None) -> None:
    """Fail early (before anything is written) when an executor cannot work here."""
    if executor == "slurm" and shutil.which("sbatch") is None:
        raise ParameterError("--executor slurm: 'sbatch' not found on PATH (is SLURM installed "
                             "and SLURM_CONF set?)")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ParameterError("--executor dask needs dask.distributed: "
                                 "pip install 'mcsgd[dask]'") from None
        if not (scheduler or spec.dask["scheduler"]):
            try:
                import dask_jobqueue  # noqa: F401
            except ImportError:
                raise ParameterError("--executor dask without --scheduler starts a "
                                     "SLURMCluster and needs dask-jobqueue: "
                                     "pip install 'mcsgd[dask]'") from None
            if shutil.which("sbatch") is None:
                raise ParameterError("--executor dask without --scheduler needs SLURM ('sbatch' "
                                     "not found); give --scheduler ADDRESS for another Dask "
                                     "cluster")


# ---- entry point -------------------------------------------------------------------------------
def run_scan(
    spec: Spec,
    *,
    executor: str = "local",
    workers: int | None = None,
    threads: int | None = None,
    shard: tuple[int, int] = (0, 1),
    scheduler: str | None = None,
    wait: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run (or submit) the tasks of ``spec`` that are not done.

    Parameters
    ----------
    spec : Spec
    executor : {"local", "slurm", "dask"}
    workers : int, optional
        Local worker processes (default ``[execution] workers``, 0 = cores).
    threads : int, optional
        numba threads per worker (default ``[execution] threads``, 0 = cores // workers).
    shard : (i, n)
        Run only shard i of n (round robin over the plan order).
    scheduler : str, optional
        Dask scheduler address.
    wait : bool
        slurm: wait for the job array to finish.
    quiet : bool
        No progress output.

    Returns
    -------
    dict
        ``tasks`` (infos of the tasks run), ``counts`` and, for slurm, ``job_id``.
    """
    from mcsgd.experiments.scan.spec import shard as select
    from mcsgd.experiments.scan.store import check_result

    i, n = shard
    if executor not in ("local", "slurm", "dask"):
        raise ParameterError(f"--executor = {executor!r} is not one of 'local', 'slurm', 'dask'")
    _check_prerequisites(spec, executor, scheduler)
    prepare_dir(spec)
    mine = select(spec.tasks, i, n)
    if executor == "slurm":
        if shard != (0, 1):
            raise ParameterError("--shard applies to --executor local or dask (SLURM array "
                                 "elements choose their own shard)")
        info = submit_slurm(spec, wait=wait, quiet=quiet)
        return {"executor": "slurm", **info}
    todo = [t for t in mine if check_result(result_path(spec.out, t.id), t) is not None]
    thr = threads or int(spec.execution["threads"]) or None
    if executor == "local":
        w = workers or int(spec.execution["workers"]) or cores()
        w = max(1, min(w, len(todo))) if todo else 1
        if thr is None:
            thr = max(1, cores() // w)
        infos = run_local(spec, todo, workers=w, threads=thr, quiet=quiet) if todo else []
    elif executor == "dask":
        infos = run_dask(spec, todo, scheduler=scheduler, threads=thr, quiet=quiet) \
            if todo else []
    else:
        raise ParameterError(f"--executor = {executor!r} is not one of 'local', 'slurm', 'dask'")
    counts: dict[str, int] = {"already_done": len(mine) - len(todo)}
    for x in infos:
        counts[x["state"]] = counts.get(x["state"], 0) + 1
    return {"executor": executor, "shard": [i, n], "n_tasks": len(mine), "counts": counts,
            "tasks": infos}
