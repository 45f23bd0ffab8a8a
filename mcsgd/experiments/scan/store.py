"""Bookkeeping of a scan's output directory: preparing it, task locks, integrity, status.

The file layouts (names, manifest, task results, checkpoints, failure reports, summary) live in
:mod:`mcsgd.storage.scan`; the atomic writers and checksums in :mod:`mcsgd.storage.h5`.

A result counts as done only after :func:`check_result`: the sha256 of every byte of the file
matches the record in its user block (checked before HDF5 parses anything), and it is an mcsgd
file of the right kind, ``complete``, whose ``scan_task_id`` matches, with every expected dataset
of the expected shape and a matching checksum over all datasets and attributes. Anything else
(missing, truncated, empty, foreign, stale, damaged) is recomputed. Checkpoints are verified the
same way before they are used.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
import time
from pathlib import Path
from typing import Any

from mcsgd.errors import ParameterError
from mcsgd.experiments.scan.spec import MAX_TASKS_HEADER, SPEC_DIR_HEADER, Spec, Task
from mcsgd.storage.h5 import O_NOFOLLOW_CLOEXEC, verify_checksum, verify_file_bytes
from mcsgd.storage.scan import (
    check_task_file,
    ckpt_path,
    lock_path,
    make_manifest,
    read_failure,
    read_manifest,
    result_path,
    tasks_dir,
    write_manifest,
    write_spec_copy,
)


def manifest(spec: Spec) -> dict[str, Any]:
    """The manifest object of a spec."""
    return make_manifest(spec.name, spec.seed, spec.path, spec.text,
                         ((t.id, t.params, t.key) for t in spec.tasks))


def prepare_dir(spec: Spec) -> None:
    """Create ``DIR`` and write the manifest and spec copy (refuses a directory of another scan).

    A directory holding a manifest whose tasks are not a subset of this scan's raises
    :class:`ParameterError` (use another ``--out``); a subset is an extended scan and is updated.
    """
    out = Path(spec.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"out = {str(out)!r} exists and is not a directory")
    old = read_manifest(out, missing_ok=True)
    new = manifest(spec)
    if old is not None:
        old_ids = {t["id"] for t in old["tasks"]}
        new_ids = {t["id"] for t in new["tasks"]}
        if not old_ids <= new_ids:
            raise ParameterError(
                f"out = {str(out)!r} holds another scan ({len(old_ids - new_ids)} of its "
                f"{len(old_ids)} tasks are not in this one); choose another output directory"
            )
    try:
        tasks_dir(out).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ParameterError(f"out = {str(out)!r} cannot be created: {e.strerror}") from None
    if not os.access(out, os.W_OK):
        raise ParameterError(f"out = {str(out)!r} is not writable")
    write_manifest(out, new)
    orig = spec.path or str(Path.cwd() / "scan.toml")
    limit = "" if spec.max_tasks is None else f"{MAX_TASKS_HEADER}{int(spec.max_tasks)}\n"
    write_spec_copy(out, f"{SPEC_DIR_HEADER}{orig}\n{limit}{spec.text}")


def manifest_tasks(m: dict[str, Any]) -> list[Task]:
    """The tasks of a manifest."""
    return [Task(id=t["id"], params=t["params"], seed=int(m["seed"]), key=tuple(t["key"]))
            for t in m["tasks"]]


# ---- locks -------------------------------------------------------------------------------------
class UnsafeLockError(ParameterError):
    """The lock file of a task is a symbolic link, not a regular file, or has other links."""


class TaskLock:
    """An exclusive, non-blocking ``flock`` on ``DIR/tasks/<id>.lock`` (released on exit/death).

    The file is opened without following symbolic links and never truncated: the holder's
    ``pid host time`` is written over its first 64 bytes.
    """

    def __init__(self, out: str | os.PathLike, tid: str) -> None:
        self.path = lock_path(out, tid)
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Try to take the lock; False if another process holds it.

        Raises :class:`UnsafeLockError` if the lock path is a symbolic link, not a regular
        file, or a file with other hard links (it is never written through).
        """
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | O_NOFOLLOW_CLOEXEC | os.O_NONBLOCK,
                         0o644)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UnsafeLockError(f"lock file {str(self.path)!r} is a symbolic link; "
                                      "remove it") from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            os.close(fd)
            raise UnsafeLockError(f"lock file {str(self.path)!r} is not a regular file with a "
                                  "single link; remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        rec = f"{os.getpid()} {os.uname().nodename} {time.time():.0f}"[:63].ljust(63) + "\n"
        with contextlib.suppress(OSError):  # informative only (e.g. a full disk)
            os.pwrite(fd, rec.encode(), 0)
        self.fd = fd
        return True

    def release(self) -> None:
        """Release the lock (the file stays: removing it would race with other takers)."""
        if self.fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def lock_holder(out: str | os.PathLike, tid: str) -> tuple[int, str] | None:
    """``(pid, host)`` last written into the task's lock file (None if unreadable)."""
    try:
        fd = os.open(lock_path(out, tid), os.O_RDONLY | O_NOFOLLOW_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        parts = os.pread(fd, 256, 0).decode(errors="replace").split()
        return int(parts[0]), parts[1]
    except (OSError, ValueError, IndexError):
        return None
    finally:
        os.close(fd)


def is_locked(out: str | os.PathLike, tid: str) -> bool:
    """True if a live process holds the task's lock.

    Read-only: the lock file is opened read-only without following symbolic links (never
    created or written) and probed with a shared non-blocking ``flock``.
    """
    try:
        fd = os.open(lock_path(out, tid), os.O_RDONLY | O_NOFOLLOW_CLOEXEC | os.O_NONBLOCK)
    except OSError:  # missing, a symbolic link, unreadable: nobody holds it through that path
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as e:
            return e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


# ---- integrity ---------------------------------------------------------------------------------
def expected_shapes(task: Task) -> dict[str, tuple[int, ...]]:
    """Datasets a discrete task's result must hold, with their shapes (-1: any length)."""
    from mcsgd.driver import time_grid

    p = task.params
    if p["experiment"] != "discrete":
        return {}
    r = p["run"]
    k = len(time_grid(r["sweeps"], r["grid_points"], r["grid"]))
    nr = r["replicas"]
    shapes: dict[str, tuple[int, ...]] = {
        "time": (k,), "energy": (nr, k), "acceptance": (nr, k), "window/trace": (nr, -1),
        "final/rng": (nr, 4),
    }
    inst = p["instance"]
    if inst["problem"] != "file":
        shapes["final/state"] = (nr, inst["n"])
        if inst["planted"]:
            shapes["overlap"] = (nr, k)
    return shapes


def check_result(path: str | os.PathLike, task: Task) -> str | None:
    """Why ``path`` is not a valid result of ``task`` (None if it is)."""
    kind = {"discrete": "run", "calibrate": "calibration"}.get(task.kind, "continuous")
    return check_task_file(path, kind, task.id, expected_shapes(task))


def task_status(out: str | os.PathLike, task: Task) -> tuple[str, str]:
    """``(state, reason)`` of a task: done / running / failed / missing."""
    rp = result_path(out, task.id)
    why = check_result(rp, task)
    if why is None:
        return "done", ""
    if is_locked(out, task.id):
        return "running", _ckpt_reason(out, task) or "started"
    err = read_failure(out, task.id)
    if err is not None:
        return "failed", err
    if why != "missing":
        return "missing", f"invalid result file ({why}); will be recomputed"
    return "missing", _ckpt_reason(out, task) or "not started"


def _ckpt_reason(out: str | os.PathLike, task: Task) -> str | None:
    import h5py

    cp = ckpt_path(out, task.id)
    if not cp.exists():
        return None
    bad = verify_file_bytes(cp)
    if bad is not None:
        return f"damaged checkpoint ({bad}; will restart)"
    try:
        with h5py.File(cp, "r") as f:
            bad = verify_checksum(f)
            if bad is not None:
                return f"damaged checkpoint ({bad}; will restart)"
            t = int(f["runner/t"][()])
        total = task.params["run"]["sweeps"]
        return f"checkpoint at sweep {t}/{total} (resumable)"
    except Exception:  # noqa: BLE001 - whatever a damaged file raises
        return "unreadable checkpoint (will restart)"


def status(out: str | os.PathLike) -> dict[str, Any]:
    """Status of every task of the scan in ``out``.

    Returns
    -------
    dict
        ``counts`` (state -> number) and ``tasks`` (list of id, state, reason, label).
    """
    m = read_manifest(out)
    rows = []
    counts = {"done": 0, "running": 0, "failed": 0, "missing": 0}
    for t in manifest_tasks(m):  # type: ignore[arg-type]
        st, why = task_status(out, t)
        counts[st] += 1
        rows.append({"id": t.id, "state": st, "reason": why, "label": t.label()})
    return {"out": str(Path(out).resolve()), "name": m["name"], "total": len(rows),  # type: ignore[index]
            "counts": counts, "tasks": rows}
