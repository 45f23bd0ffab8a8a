"""The output directory of a scan: file names, manifest, locks, integrity checks, status.

Layout of ``DIR``::

    DIR/scan.json            manifest: scan name, root seed, spec text, tasks (id + params)
    DIR/scan.toml            the scan file as run (used by SLURM array elements)
    DIR/tasks/<id>.h5        result of a task (written as .<id>.h5.tmp-PID, then renamed)
    DIR/tasks/<id>.ckpt.h5   checkpoint of an unfinished task (same atomic writing)
    DIR/tasks/<id>.lock      held (flock) by the process running the task
    DIR/tasks/<id>.failed.json  why the last attempt failed (removed on success)
    DIR/slurm/               rendered sbatch script, job ids, array logs

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
import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

from mcsgd.errors import ParameterError
from mcsgd.experiments.scan.spec import MAX_TASKS_HEADER, SPEC_DIR_HEADER, Spec, Task

MANIFEST = "scan.json"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def tasks_dir(out: str | os.PathLike) -> Path:
    """``DIR/tasks``."""
    return Path(out) / "tasks"


def result_path(out: str | os.PathLike, tid: str) -> Path:
    """Final result file of task ``tid``."""
    return tasks_dir(out) / f"{tid}.h5"


def ckpt_path(out: str | os.PathLike, tid: str) -> Path:
    """Checkpoint file of task ``tid``."""
    return tasks_dir(out) / f"{tid}.ckpt.h5"


def failed_path(out: str | os.PathLike, tid: str) -> Path:
    """Failure report of task ``tid``."""
    return tasks_dir(out) / f"{tid}.failed.json"


def lock_path(out: str | os.PathLike, tid: str) -> Path:
    """Lock file of task ``tid``."""
    return tasks_dir(out) / f"{tid}.lock"


# ---- full disk -----------------------------------------------------------------------------
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_FULL_TEXT = ("No space left on device", "Disk quota exceeded", "File too large",
              "errno = 28,", "errno = 122,", "errno = 27,")


class DiskFullError(Exception):
    """Writing a scan file failed for lack of space (ENOSPC, EDQUOT or EFBIG).

    The scan stops: finished results stay valid, no file is left half-written under a final
    name, and the same command resumes once space is freed (CLI exit code 74).
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path, self.reason = path, reason

    def __str__(self) -> str:
        return (f"disk full: {self.reason} while writing {self.path!r}; finished results are "
                "intact; free space and run the same command again")


def is_disk_full(e: BaseException) -> bool:
    """True if ``e`` (an OSError, or an HDF5 error quoting one) means: no space left."""
    if isinstance(e, DiskFullError):
        return True
    if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
        return True
    return any(t in str(e) for t in _FULL_TEXT)


def disk_full_reason(e: BaseException) -> str:
    """A short reason for a disk-full error."""
    if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
        return os.strerror(e.errno)
    for t in _FULL_TEXT[:3]:
        if t in str(e):
            return t
    return "no space left"


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through ``.NAME.tmp-PID`` (fsync, rename).

    Plain POSIX writes, so a full disk is an ``OSError`` here (never inside HDF5); the
    temporary file is removed on any error and :class:`DiskFullError` raised for a full disk.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if is_disk_full(e):
            raise DiskFullError(str(path), disk_full_reason(e)) from None
        raise


USERBLOCK = 512  # bytes before the HDF5 data; HDF5 ignores them
_RECORD = b"mcsgd-sha256:"  # + 64 hex digits of sha256(file[USERBLOCK:]) + newline
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


@contextlib.contextmanager
def atomic_h5_file(path: str | os.PathLike, kind: str):
    """Like :func:`mcsgd.storage.h5.atomic_h5`, but the HDF5 file is built in memory and written
    with :func:`write_bytes_atomic`: HDF5 never meets a failing write (a full disk made it crash).

    The file starts with a 512-byte user block (ignored by HDF5) holding
    ``mcsgd-sha256:<sha256 of every byte after the user block>``: :func:`verify_file_bytes`
    checks it before HDF5 parses anything (damaged HDF5 metadata can crash the library).
    """
    import io

    import h5py

    from mcsgd.storage.h5 import FORMAT_VERSION

    buf = io.BytesIO()
    with h5py.File(buf, "w", userblock_size=USERBLOCK) as f:
        f.attrs["mcsgd_kind"] = kind
        f.attrs["mcsgd_format"] = FORMAT_VERSION
        yield f
        f.attrs["complete"] = True
    data = bytearray(buf.getvalue())
    rec = _RECORD + hashlib.sha256(memoryview(data)[USERBLOCK:]).hexdigest().encode() + b"\n"
    data[:len(rec)] = rec
    write_bytes_atomic(path, bytes(data))


def verify_file_bytes(path: str | os.PathLike) -> str | None:
    """Why the bytes of an mcsgd scan file do not match its user-block checksum (None: they
    do). A file without the block (written before mcsgd 0.2.0, or foreign) is refused: it is
    redone, never read."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(USERBLOCK)
            if head.startswith(_HDF5_SIGNATURE):
                return "foreign file or written by mcsgd < 0.2.0 (no file checksum)"
            if len(head) < USERBLOCK or not head.startswith(_RECORD):
                return "no file checksum (damaged or foreign file)"
            want = head[len(_RECORD):len(_RECORD) + 64]
            h = hashlib.sha256()
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as e:
        return f"unreadable ({e.strerror})"
    if h.hexdigest().encode() != want:
        return "file checksum mismatch (damaged file)"
    return None


def _atomic_write_text(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode())


def manifest(spec: Spec) -> dict[str, Any]:
    """The manifest object of a spec."""
    return {
        "mcsgd_kind": "scan-manifest",
        "name": spec.name,
        "seed": spec.seed,
        "spec_path": spec.path,
        "spec_text": spec.text,
        "tasks": [{"id": t.id, "params": t.params, "key": list(t.key)} for t in spec.tasks],
    }


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
    text = json.dumps(new, indent=1, sort_keys=True)
    mp = out / MANIFEST
    if old is None or mp.read_text() != text:
        _atomic_write_text(mp, text)
    st = out / "scan.toml"
    orig = spec.path or str(Path.cwd() / "scan.toml")
    limit = "" if spec.max_tasks is None else f"{MAX_TASKS_HEADER}{int(spec.max_tasks)}\n"
    copy = f"{SPEC_DIR_HEADER}{orig}\n{limit}{spec.text}"
    if not st.exists() or st.read_text() != copy:
        _atomic_write_text(st, copy)


def read_manifest(out: str | os.PathLike, missing_ok: bool = False) -> dict[str, Any] | None:
    """Read ``DIR/scan.json`` (:class:`ParameterError` if absent, unless ``missing_ok``)."""
    mp = Path(out) / MANIFEST
    if not mp.is_file():
        if missing_ok:
            return None
        raise ParameterError(f"{str(out)!r} is not a scan output directory (no {MANIFEST})")
    try:
        m = json.loads(mp.read_text())
    except (OSError, ValueError) as e:
        raise ParameterError(f"{str(mp)!r} is not a valid scan manifest: {e}") from None
    if not isinstance(m, dict) or m.get("mcsgd_kind") != "scan-manifest":
        raise ParameterError(f"{str(mp)!r} is not a scan manifest")
    return m


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
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | os.O_NONBLOCK, 0o644)
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
        fd = os.open(lock_path(out, tid), os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK)
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
        fd = os.open(lock_path(out, tid), os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK)
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
CHECKSUM_PREFIX = "v2:"  # checksums over datasets and attributes; unprefixed: datasets only


_UNSEALED = ("scan_checksum", "complete")


def _attr_bytes(v) -> bytes:
    import numpy as np

    if isinstance(v, str):
        return b"s" + v.encode("utf-8", "surrogatepass")
    if isinstance(v, bytes):
        return b"b" + v
    a = np.asarray(v)
    if a.dtype == object:
        return b"o" + repr([_attr_bytes(x) for x in a.ravel()]).encode() + str(a.shape).encode()
    a = np.ascontiguousarray(a)
    return f"a{a.shape}|{a.dtype.str}|".encode() + a.tobytes()


def content_checksum(f) -> str:
    """sha256 over every object of an open HDF5 file, ``"v2:"``-prefixed.

    Covers (sorted by name) every group and dataset, each dataset's shape, dtype and bytes, and
    every attribute of every object (name and value), except the root ``scan_checksum`` itself
    and ``complete`` (set when the file is closed, checked on its own).
    """
    import h5py
    import numpy as np

    objs: list[tuple[str, Any]] = [("", f)]
    f.visititems(lambda n, o: objs.append((n, o)))
    h = hashlib.sha256()
    for n, o in sorted(objs, key=lambda x: x[0]):
        if isinstance(o, h5py.Dataset):
            a = np.ascontiguousarray(o[...])
            h.update(f"{n}|{a.shape}|{a.dtype.str}|".encode())
            h.update(a.tobytes())
        else:
            h.update(f"{n}|group|".encode())
        for k in sorted(o.attrs.keys()):
            if n == "" and k in _UNSEALED:
                continue
            h.update(f"@{n}/{k}|".encode())
            h.update(_attr_bytes(o.attrs[k]))
    return CHECKSUM_PREFIX + h.hexdigest()


def verify_checksum(f) -> str | None:
    """Why the ``scan_checksum`` of an open file does not match its content (None: it does)."""
    ck = f.attrs.get("scan_checksum")
    ck = ck.decode() if isinstance(ck, bytes) else ck
    if not isinstance(ck, str):
        return "no checksum"
    if not ck.startswith(CHECKSUM_PREFIX):
        return "checksum of datasets only (written by mcsgd < 0.2.0)"
    if ck != content_checksum(f):
        return "checksum mismatch (damaged data)"
    return None


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
    import h5py

    p = Path(path)
    if not p.exists():
        return "missing"
    if p.stat().st_size == 0:
        return "empty file"
    bad = verify_file_bytes(p)  # every byte, before HDF5 parses anything
    if bad is not None:
        return bad
    try:
        with h5py.File(p, "r") as f:
            kind = f.attrs.get("mcsgd_kind")
            kind = kind.decode() if isinstance(kind, bytes) else kind
            want = "run" if task.kind == "discrete" else "continuous"
            if kind is None:
                return "foreign file (not written by mcsgd)"
            if kind != want:
                return f"holds an mcsgd {kind!r}, expected {want!r}"
            if not bool(f.attrs.get("complete", False)):
                return "incomplete"
            tid = f.attrs.get("scan_task_id")
            tid = tid.decode() if isinstance(tid, bytes) else tid
            if tid != task.id:
                return f"belongs to task {tid!r}"
            for name, shape in expected_shapes(task).items():
                if name not in f:
                    return f"dataset {name!r} missing"
                got = f[name].shape
                if len(got) != len(shape) or any(s != -1 and s != g
                                                 for s, g in zip(shape, got, strict=True)):
                    return f"dataset {name!r} has shape {got}, expected {shape}"
            bad = verify_checksum(f)
            if bad is not None:
                return bad
    except Exception as e:  # noqa: BLE001 - whatever a damaged file raises: not valid
        return f"unreadable ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
    return None


def task_status(out: str | os.PathLike, task: Task) -> tuple[str, str]:
    """``(state, reason)`` of a task: done / running / failed / missing."""
    rp = result_path(out, task.id)
    why = check_result(rp, task)
    if why is None:
        return "done", ""
    if is_locked(out, task.id):
        return "running", _ckpt_reason(out, task) or "started"
    fp = failed_path(out, task.id)
    if fp.exists():
        try:
            info = json.loads(fp.read_text())
            return "failed", str(info.get("error", "unknown error"))
        except (OSError, ValueError):
            return "failed", "unreadable failure report"
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
