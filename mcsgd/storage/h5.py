"""HDF5 helpers shared by every mcsgd file: atomic writes, checksums, provenance, JSON attrs.

Every file mcsgd writes is first written under a temporary name ``.NAME.tmp-PID`` in the same
directory and renamed into place only when complete (``os.replace`` is atomic on POSIX), so a
crash or a ``kill -9`` never leaves a truncated file under the final name and never touches an
existing complete file. Each file carries ``mcsgd_kind`` (what it holds), ``mcsgd_format``
(layout version, :data:`FORMAT_VERSION`) and, last, ``complete = True`` on its root, checked by
the readers (:func:`open_checked`).

Two writers share these conventions:

* :func:`atomic_h5` lets HDF5 write the temporary file on disk (command outputs);
* :func:`atomic_h5_file` builds the file in memory and writes its bytes with
  :func:`write_bytes_atomic` (scan task results and checkpoints): HDF5 never meets a failing
  write, a full disk is :class:`DiskFullError`, and a 512-byte user block (:data:`USERBLOCK`)
  records ``mcsgd-sha256:<hex>``, the sha256 of every byte after it
  (:func:`verify_file_bytes`). Such files are also sealed (:func:`seal`): the root attribute
  ``scan_checksum`` = ``"v2:" + sha256`` over every group, dataset and attribute
  (:func:`content_checksum`, :func:`verify_checksum`).

JSON-valued attributes are strings (:func:`write_json_attr`, :func:`read_json_attr`); NaN and
infinities are stored as ``null`` (:func:`to_jsonable`). ``provenance`` (a JSON attribute of
every result file) is :func:`provenance`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import io
import json
import os
import platform
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mcsgd.errors import FileFormatError

FORMAT_VERSION = 1


@contextlib.contextmanager
def atomic_h5(path: str | os.PathLike, kind: str) -> Iterator[h5py.File]:
    """Open ``path`` for writing through a temporary file; rename on success, delete on error.

    Parameters
    ----------
    path : path-like
        Final file name.
    kind : str
        Stored as the ``mcsgd_kind`` root attribute (e.g. ``"instance"``, ``"run"``).
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with h5py.File(tmp, "w") as f:
            _stamp(f, kind)
            yield f
            f.attrs["complete"] = True
            f.flush()
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _tmp_name(path: Path) -> Path:
    """The temporary name a file is written under before its rename: ``.NAME.tmp-PID``."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _stamp(f: h5py.File, kind: str) -> None:
    """The root attributes every mcsgd file starts with (``complete`` is written last)."""
    f.attrs["mcsgd_kind"] = kind
    f.attrs["mcsgd_format"] = FORMAT_VERSION


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_kind(f: h5py.HLObject) -> str | None:
    """The ``mcsgd_kind`` root attribute of an open file as ``str`` (None: not an mcsgd file)."""
    k = f.attrs.get("mcsgd_kind")
    if isinstance(k, bytes):
        k = k.decode(errors="replace")
    return None if k is None else str(k)


def read_str_attr(obj: h5py.HLObject, name: str) -> Any:
    """A string attribute as ``str`` (h5py may return ``bytes``); other values unchanged."""
    v = obj.attrs.get(name)
    return v.decode() if isinstance(v, bytes) else v


def open_checked(path: str | os.PathLike, kind: str | tuple[str, ...]) -> h5py.File:
    """Open an mcsgd HDF5 file for reading, checking it is complete and of the expected kind.

    Raises :class:`FileFormatError` naming the file when it is missing, unreadable, foreign
    (no ``mcsgd_kind``), of another kind, or incomplete.
    """
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    p = Path(path)
    if not p.exists():
        raise FileFormatError(f"file {str(p)!r} does not exist")
    try:
        f = h5py.File(p, "r")
    except OSError:
        raise FileFormatError(f"file {str(p)!r} is not a readable HDF5 file") from None
    k = read_kind(f)
    if k is None:
        f.close()
        raise FileFormatError(f"file {str(p)!r} is not an mcsgd file (no 'mcsgd_kind' attribute)")
    if k not in kinds:
        f.close()
        raise FileFormatError(
            f"file {str(p)!r} holds an mcsgd {k!r}, expected {' or '.join(map(repr, kinds))}"
        )
    if not bool(f.attrs.get("complete", False)):
        f.close()
        raise FileFormatError(f"file {str(p)!r} is incomplete")
    return f


def read_provenance(path: str | os.PathLike, kind: str | tuple[str, ...]) -> dict[str, Any]:
    """The ``provenance`` of a checked mcsgd file (``{}`` if it has none)."""
    with open_checked(path, kind) as f:
        return read_json_attr(f, "provenance", {})


def write_json_attr(obj: h5py.HLObject, name: str, value: Any) -> None:
    """Store ``value`` as a JSON string attribute (numpy scalars and arrays converted)."""
    obj.attrs[name] = json.dumps(to_jsonable(value), sort_keys=True)


def read_json_attr(obj: h5py.HLObject, name: str, default: Any = None) -> Any:
    """Read a JSON string attribute written by :func:`write_json_attr`."""
    if name not in obj.attrs:
        return default
    v = obj.attrs[name]
    if isinstance(v, bytes):
        v = v.decode()
    return json.loads(v)


def canonical_json(obj: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, no NaN) used for hashing and stored parameters."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def to_jsonable(x: Any) -> Any:
    """Convert numpy scalars/arrays (recursively) to plain Python; NaN/inf become ``None``."""
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return to_jsonable(x.tolist())
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        f = float(x)
        return f if np.isfinite(f) else None
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, Path):
        return str(x)
    return x


def _git_revision() -> str | None:
    here = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


_PROV_CACHE: dict[str, Any] = {}


def provenance() -> dict[str, Any]:
    """Package and dependency versions, git revision, host, Python, and the current UTC time."""
    if not _PROV_CACHE:
        import numba
        import scipy

        from mcsgd import __version__

        _PROV_CACHE.update(
            {
                "mcsgd": __version__,
                "numpy": np.__version__,
                "numba": numba.__version__,
                "scipy": scipy.__version__,
                "h5py": h5py.__version__,
                "python": platform.python_version(),
                "platform": platform.platform(),
                "host": socket.gethostname(),
                "git_revision": _git_revision(),
            }
        )
    d = dict(_PROV_CACHE)
    d["created_utc"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    return d


# ---- in-memory writer: full disk, file checksum, content checksum --------------------------
# open flags: never through a symbolic link, never inherited by child processes
O_NOFOLLOW_CLOEXEC = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_FULL_TEXT = ("No space left on device", "Disk quota exceeded", "File too large",
              "errno = 28,", "errno = 122,", "errno = 27,")


class DiskFullError(Exception):
    """Writing a file failed for lack of space (ENOSPC, EDQUOT or EFBIG).

    A scan stops: finished results stay valid, no file is left half-written under a final
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
    tmp = _tmp_name(path)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW_CLOEXEC, 0o644)
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
def atomic_h5_file(path: str | os.PathLike, kind: str) -> Iterator[h5py.File]:
    """Like :func:`atomic_h5`, but the HDF5 file is built in memory and written with
    :func:`write_bytes_atomic`: HDF5 never meets a failing write (a full disk made it crash).

    The file starts with a 512-byte user block (ignored by HDF5) holding
    ``mcsgd-sha256:<sha256 of every byte after the user block>``: :func:`verify_file_bytes`
    checks it before HDF5 parses anything (damaged HDF5 metadata can crash the library).
    """
    buf = io.BytesIO()
    with h5py.File(buf, "w", userblock_size=USERBLOCK) as f:
        _stamp(f, kind)
        yield f
        f.attrs["complete"] = True
    data = bytearray(buf.getvalue())
    rec = _RECORD + hashlib.sha256(memoryview(data)[USERBLOCK:]).hexdigest().encode() + b"\n"
    data[:len(rec)] = rec
    write_bytes_atomic(path, bytes(data))


def verify_file_bytes(path: str | os.PathLike) -> str | None:
    """Why the bytes of a file written by :func:`atomic_h5_file` do not match its user-block
    checksum (None: they do). A file without the block (written before mcsgd 0.2.0, or foreign)
    is refused: it is redone, never read."""
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


CHECKSUM_PREFIX = "v2:"  # checksums over datasets and attributes; unprefixed: datasets only
CHECKSUM_ATTR = "scan_checksum"
_UNSEALED = (CHECKSUM_ATTR, "complete")


def _attr_bytes(v: Any) -> bytes:
    if isinstance(v, str):
        return b"s" + v.encode("utf-8", "surrogatepass")
    if isinstance(v, bytes):
        return b"b" + v
    a = np.asarray(v)
    if a.dtype == object:
        return b"o" + repr([_attr_bytes(x) for x in a.ravel()]).encode() + str(a.shape).encode()
    a = np.ascontiguousarray(a)
    return f"a{a.shape}|{a.dtype.str}|".encode() + a.tobytes()


def content_checksum(f: h5py.File) -> str:
    """sha256 over every object of an open HDF5 file, ``"v2:"``-prefixed.

    Covers (sorted by name) every group and dataset, each dataset's shape, dtype and bytes, and
    every attribute of every object (name and value), except the root ``scan_checksum`` itself
    and ``complete`` (set when the file is closed, checked on its own).
    """
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


def seal(f: h5py.File) -> None:
    """Store :func:`content_checksum` as ``scan_checksum`` (the last write before closing)."""
    f.attrs[CHECKSUM_ATTR] = content_checksum(f)


def verify_checksum(f: h5py.File) -> str | None:
    """Why the ``scan_checksum`` of an open file does not match its content (None: it does)."""
    ck = read_str_attr(f, CHECKSUM_ATTR)
    if not isinstance(ck, str):
        return "no checksum"
    if not ck.startswith(CHECKSUM_PREFIX):
        return "checksum of datasets only (written by mcsgd < 0.2.0)"
    if ck != content_checksum(f):
        return "checksum mismatch (damaged data)"
    return None
