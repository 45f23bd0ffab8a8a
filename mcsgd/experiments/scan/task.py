"""Running one scan task: instance, checkpointed record loop, atomic result file.

A discrete task builds its instance (instance ``index`` of the instance point and the root seed),
runs :func:`mcsgd.driver.prepare_run` / :func:`~mcsgd.driver.record_loop` /
:func:`~mcsgd.driver.finish_run` with ``seed = root seed`` and ``key = task.key``, and checkpoints
(the chain state incl. RNG rows + observables recorded so far + grid index, in the one checkpoint
layout of :mod:`mcsgd.storage.run`, plus the task id and a checksum) to
``tasks/<id>.ckpt.h5`` at chunk boundaries at most every ``checkpoint_seconds``. A restarted
task loads a valid checkpoint and continues bit-identically. The result file holds exactly what
:meth:`RunResult.save` writes (via :func:`~mcsgd.driver.write_result`) plus the task id, its
parameters, seeds, scan timings, provenance and a content checksum.

A calibration task (``experiment = "calibrate"``) runs
:func:`mcsgd.experiments.calibrate.calibrate` (seed = root seed, ``key = task.key``) and writes
the calibration layout (:mod:`mcsgd.storage.calibration`) plus the task attributes; like a
continuous task it has no intermediate checkpoints (a killed one restarts from scratch).

A continuous task (``experiment = "continuous"``) delegates to
:func:`mcsgd.experiments.continuous.run_task` (entropy = root seed, key = task key); it has no
intermediate checkpoints (a killed one restarts from scratch).
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

from mcsgd.experiments.scan.spec import Task
from mcsgd.experiments.scan.store import TaskLock, UnsafeLockError, check_result
from mcsgd.storage.h5 import (
    DiskFullError,
    atomic_h5_file,
    canonical_json,
    disk_full_reason,
    is_disk_full,
    seal,
    verify_checksum,
    verify_file_bytes,
)
from mcsgd.storage.scan import (
    ckpt_path,
    failed_path,
    read_task_id,
    result_path,
    tasks_dir,
    write_failure,
    write_task_attrs,
)

_INSTANCES: dict[str, Any] = {}
_TERM = {"requested": False}


class Terminated(BaseException):
    """Raised at a chunk boundary after SIGTERM, once the checkpoint is written."""


def install_sigterm_checkpoint() -> None:
    """On SIGTERM (e.g. a SLURM walltime or scancel), checkpoint at the next chunk and exit 143.

    Only for the main thread of a process that runs tasks in-process.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum, frame) -> None:
        _TERM["requested"] = True

    signal.signal(signal.SIGTERM, handler)

ProgressFn = Callable[[str, int, int], None]


def build_instance(inst: dict[str, Any], root_seed: int):
    """The instance of an instance point (cached per process): instance ``index`` of (the
    point's generator parameters, root seed), see :mod:`mcsgd.seeds`.

    Parameters
    ----------
    inst : dict
        Canonical instance point (``problem``, its parameters, ``index``).
    root_seed : int
        Root seed of the scan.
    """
    from mcsgd import problems
    key = canonical_json({"i": inst, "s": root_seed})
    if key in _INSTANCES:
        return _INSTANCES[key]
    obj = problems.from_params(inst, int(root_seed), int(inst["index"]))
    if len(_INSTANCES) >= 4:
        _INSTANCES.pop(next(iter(_INSTANCES)))
    _INSTANCES[key] = obj
    return obj


def execute(
    task: Task,
    out: str,
    *,
    checkpoint_seconds: float = 30.0,
    chunk_updates: float = 2e7,
    threads: int | None = None,
    progress: ProgressFn | None = None,
    layout: str = "auto",
) -> dict[str, Any]:
    """Run ``task`` unless its valid result exists; never raises for task errors.

    Parameters
    ----------
    task : Task
    out : str
        Scan output directory.
    checkpoint_seconds : float
        Minimum wall time between checkpoints (0: at every chunk).
    chunk_updates : float
        Updates (N R sweeps) per kernel call, i.e. checkpoint granularity.
    threads : int, optional
        numba threads for this task.
    progress : callable(task_id, done_sweeps, total_sweeps), optional
    layout : {"auto", "scalar", "lanes"}
        How the chains of a discrete or calibrate task advance (:func:`mcsgd.driver.run`,
        :func:`~mcsgd.experiments.calibrate.calibrate`): speed only, the result (and a
        checkpoint, which resumes in either layout) is the same.

    Returns
    -------
    dict
        ``id``, ``state`` (``done``, ``skipped`` (already done), ``busy`` (locked by another
        process) or ``failed``), ``error`` (failed), ``resumed_at`` (sweep), ``timing``.
    """
    lock = TaskLock(out, task.id)
    try:
        if not lock.acquire():
            return {"id": task.id, "state": "busy"}
    except UnsafeLockError as e:
        err = f"UnsafeLockError: {e}"
        with contextlib.suppress(OSError):
            write_failure(out, task.id, err, "")
        return {"id": task.id, "state": "failed", "error": err}
    if os.environ.get("MCSGD_TEST_CRASH_TASK") == task.id:  # test hook: a worker dies (OOM)
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
    try:
        if check_result(result_path(out, task.id), task) is None:
            return {"id": task.id, "state": "skipped"}
        _remove_stale_temporaries(out, task.id)
        t0 = time.perf_counter()
        try:
            if task.kind == "discrete":
                info = _run_discrete(task, out, checkpoint_seconds, chunk_updates, threads,
                                     progress, layout)
            elif task.kind == "calibrate":
                info = _run_calibrate(task, out, threads, layout)
            else:
                info = _run_continuous(task, out, threads)
        except Exception as e:  # noqa: BLE001 - a task's failure is reported, not raised
            if is_disk_full(e):  # not the task's fault: stop the scan (nothing half-written)
                _remove_stale_temporaries(out, task.id)
                if isinstance(e, DiskFullError):
                    raise
                raise DiskFullError(str(result_path(out, task.id)),
                                    disk_full_reason(e)) from None
            msg = str(e).splitlines()[0] if str(e) else ""
            err = f"{type(e).__name__}: {msg}"
            write_failure(out, task.id, err, traceback.format_exc())
            return {"id": task.id, "state": "failed", "error": err}
        with contextlib.suppress(FileNotFoundError):
            failed_path(out, task.id).unlink()
        info.update({"id": task.id, "state": "done", "wall_s": time.perf_counter() - t0})
        return info
    finally:
        lock.release()


def _remove_stale_temporaries(out: str, tid: str) -> None:
    """Delete temporary files of killed writers of this task (safe: we hold its lock)."""
    for pat in (f".{tid}.h5.tmp-*", f".{tid}.ckpt.h5.tmp-*", f".{tid}.failed.json.tmp-*"):
        for p in tasks_dir(out).glob(pat):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


# ---- discrete --------------------------------------------------------------------------------
def _save_ckpt(path, task: Task, runner, loop) -> None:
    from mcsgd.storage.run import write_checkpoint

    with atomic_h5_file(path, "checkpoint") as f:
        f.attrs["scan_task_id"] = task.id
        write_checkpoint(f, runner.state_dict(), loop.to_dict())
        seal(f)


def _load_ckpt(path, task: Task, runner, k: int, why: list[str] | None = None):
    """A :class:`LoopState` from a valid checkpoint (runner restored), else None.

    A checkpoint is used only if its checksum (over every dataset and attribute) matches; a
    damaged one is deleted and its reason appended to ``why``.
    """
    from mcsgd.driver import LoopState
    from mcsgd.storage.h5 import open_checked
    from mcsgd.storage.run import read_checkpoint

    if not path.exists():
        return None
    try:
        bad = verify_file_bytes(path)
        if bad is not None:
            raise ValueError(bad)
        with open_checked(path, "checkpoint") as f:
            bad = verify_checksum(f)
            if bad is not None:
                raise ValueError(bad)
            if read_task_id(f) != task.id:
                raise ValueError("checkpoint of another task")
            d, loop_d = read_checkpoint(f)
            runner.state.check_dict(d, "checkpoint", runner.dynamics)
            loop = LoopState.from_dict(loop_d)
            loop.check(runner, k)
        runner.load_state_dict(d)
        return loop
    except Exception as e:  # noqa: BLE001 - any damaged checkpoint means: start over
        if why is not None:
            msg = str(e).splitlines()[0] if str(e) else ""
            why.append(f"checkpoint discarded ({type(e).__name__}: {msg})")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return None


def _run_discrete(task, out, checkpoint_seconds, chunk_updates, threads, progress,
                  layout="auto"):
    from mcsgd.driver import finish_run, layout_driver, prepare_run, record_loop, write_result
    from mcsgd.dynamics import from_params
    from mcsgd.storage.h5 import provenance, write_json_attr

    p = task.params
    t0 = time.perf_counter()
    inst = build_instance(p["instance"], task.seed)
    t_inst = time.perf_counter() - t0
    r = p["run"]
    dyn = from_params(p["dynamics"])
    runner, times = prepare_run(
        inst, dyn, sweeps=r["sweeps"], replicas=r["replicas"], seed=task.seed, key=task.key,
        init=r["init"], grid=r["grid"], grid_points=r["grid_points"], window=r["window"],
        threads=threads,
    )
    cp = ckpt_path(out, task.id)
    why: list[str] = []
    state = _load_ckpt(cp, task, runner, len(times), why)
    resumed_at = runner.t if state is not None else None
    driver = layout_driver(runner, layout, threads)  # after the restore: it packs the state
    last: list[float | None] = [None]
    n_ckpt = [0]

    def save(loop) -> None:
        if driver is not runner:
            driver.sync()  # the checkpoint is written from the runner's configurations
        _save_ckpt(cp, task, runner, loop)

    def on_chunk(loop, info) -> None:
        now = time.perf_counter()
        if last[0] is None:  # the clock starts after the kernel is compiled/loaded
            last[0] = loop.prepare_end
        if _TERM["requested"] and runner.t < int(times[-1]):
            save(loop)
            raise Terminated(f"SIGTERM: checkpoint of task {task.id} at sweep {runner.t}")
        if now - last[0] >= checkpoint_seconds and runner.t < int(times[-1]):
            save(loop)
            n_ckpt[0] += 1
            last[0] = time.perf_counter()

    prog = None if progress is None else (lambda d, tot: progress(task.id, d, tot))
    loop = record_loop(driver, times, prog, chunk_updates, state=state, on_chunk=on_chunk)
    if driver is not runner:
        driver.sync()
    res = finish_run(runner, times, loop, t_prep=loop.prepare_end - t0 - t_inst, grid=r["grid"],
                     grid_points=r["grid_points"], window=r["window"],
                     lanes=driver.replicas if driver is not runner else 0)
    t_post = time.perf_counter()
    scan_timing = {"instance_s": t_inst, "checkpoints": n_ckpt[0], "resumed_at": resumed_at}
    with atomic_h5_file(result_path(out, task.id), "run") as f:
        write_result(f, res)
        write_json_attr(f, "provenance", provenance())
        _scan_attrs(f, task, {"instance_seed": int(task.seed),  # instance k of (params, seed)
                              "instance_index": int(p["instance"].get("index", 0))})
        scan_timing["write_s"] = time.perf_counter() - t_post
        scan_timing["wall_s"] = time.perf_counter() - t0
        write_json_attr(f, "scan_timing", scan_timing)
        seal(f)
    with contextlib.suppress(FileNotFoundError):
        cp.unlink()
    info = {"resumed_at": resumed_at, "timing": {**res.timing, **scan_timing}}
    if why:
        info["checkpoint_discarded"] = why[0]
    return info


def _scan_attrs(f, task: Task, seeds: dict[str, Any]) -> None:
    write_task_attrs(f, task.id, task.params, {"root_seed": task.seed,
                                               "spawn_key": list(task.key), **seeds})


# ---- continuous ------------------------------------------------------------------------------
def _run_continuous(task: Task, out: str, threads: int | None) -> dict[str, Any]:
    from mcsgd._numba import threads_scope
    from mcsgd.experiments import continuous as ctasks
    from mcsgd.storage import continuous as layout
    from mcsgd.storage.h5 import write_json_attr

    t0 = time.perf_counter()
    with threads_scope(threads):
        res = ctasks.run_task(task.params["continuous"], task.seed, task.key)
    run_s = time.perf_counter() - t0
    with atomic_h5_file(result_path(out, task.id), "continuous") as f:
        layout.write_body(f, res, task.seed, task.key)
        write_json_attr(f, "timing", {"run_s": run_s})
        _scan_attrs(f, task, {})
        seal(f)
    return {"timing": {"run_s": run_s}}


# ---- calibration -------------------------------------------------------------------------------
def calibrate_task(task: Task, threads: int | None = None, layout: str = "auto"):
    """The :class:`~mcsgd.experiments.calibrate.Calibration` of a ``calibrate`` task:
    :func:`~mcsgd.experiments.calibrate.calibrate` with the task's parameters, seed = root seed
    and run streams keyed by ``task.key`` (``(SCAN, h1, h2)``), in ``layout``."""
    from mcsgd.dynamics import SGD
    from mcsgd.experiments.calibrate import calibrate
    from mcsgd.experiments.scan.spec import calibration_problem

    p, c = task.params, task.params["calibrate"]
    return calibrate(calibration_problem(p["instance"]), [SGD(b) for b in c["B"]],
                     instances=p["instances"], replicas=c["replicas"], sweeps=c["sweeps"],
                     seed=task.seed, mode=c["mode"],
                     T_grid=None if c["T_grid"] == "auto" else c["T_grid"],
                     window=c["window"], grid_points=c["grid_points"], threads=threads,
                     key=tuple(task.key), layout=layout)


def _run_calibrate(task: Task, out: str, threads: int | None,
                   layout: str = "auto") -> dict[str, Any]:
    import dataclasses
    import warnings

    from mcsgd.errors import DisorderErrorWarning
    from mcsgd.storage import calibration as cal_file

    t0 = time.perf_counter()
    with warnings.catch_warnings():  # a scan reports per task, not per warning
        warnings.simplefilter("ignore", DisorderErrorWarning)
        cal = calibrate_task(task, threads, layout)
    run_s = time.perf_counter() - t0
    with atomic_h5_file(result_path(out, task.id), cal_file.KIND) as f:
        cal_file.write_body(f, **{fl.name: getattr(cal, fl.name)
                                  for fl in dataclasses.fields(cal)})
        _scan_attrs(f, task, {"instance_seed": int(task.seed),
                              "instance_index": list(range(task.params["instances"]))})
        seal(f)
    return {"timing": {"run_s": run_s}}
