"""HDF5 helpers shared by every mcsgd file: atomic writes, provenance, JSON attributes.

Every file mcsgd writes is first written under a temporary name in the same directory and
renamed into place only when complete (``os.replace`` is atomic on POSIX), so a crash or a
``kill -9`` never leaves a truncated file under the final name and never touches an existing
complete file. Each file carries ``mcsgd_kind`` (what it holds) and ``mcsgd_format`` (layout
version) attributes on its root, checked by the readers.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
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
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs["mcsgd_kind"] = kind
            f.attrs["mcsgd_format"] = FORMAT_VERSION
            yield f
            f.attrs["complete"] = True
            f.flush()
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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
    k = f.attrs.get("mcsgd_kind")
    if isinstance(k, bytes):
        k = k.decode()
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
