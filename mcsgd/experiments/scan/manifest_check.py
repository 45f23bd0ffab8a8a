"""Validation of a scan directory's manifest (``DIR/scan.json``) before anything reads it.

``read_manifest`` checks that the file is JSON and says it is a scan manifest; this module
checks the rest, so that a manifest that is valid JSON but misses keys or has been edited gives
one clear :class:`~mcsgd.errors.ParameterError` (exit code 2) instead of a traceback deep in
``status`` or ``collect``: the top-level keys and their types, and for every task its id, its
spawn key (both content hashes of its parameters, recomputed here) and the parameters that
``status`` and ``collect`` read. :func:`check_scan_out` checks an output directory before a
scan writes to it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mcsgd.errors import ParameterError
from mcsgd.experiments.scan.spec import SPEC_DIR_HEADER, Spec, Task, _make_task


def _need(where: str, obj: dict, key: str, types: type | tuple[type, ...], what: str) -> Any:
    if key not in obj:
        raise ParameterError(f"{where}: missing key {key!r}")
    v = obj[key]
    if not isinstance(v, types) or isinstance(v, bool):
        raise ParameterError(f"{where}: {key!r} is not {what}")
    return v


def check_manifest(m: Any, path: str | os.PathLike) -> None:
    """Raise :class:`ParameterError` naming the manifest and the first missing or damaged key.

    Parameters
    ----------
    m : object
        The parsed JSON of ``DIR/scan.json``.
    path : path-like
        Its path (for messages).
    """
    where = f"scan manifest {str(path)!r}"
    if not isinstance(m, dict):
        raise ParameterError(f"{where} is not a JSON object")
    _need(where, m, "name", str, "a string")
    seed = _need(where, m, "seed", int, "an integer")
    tasks = _need(where, m, "tasks", list, "a list")
    for i, t in enumerate(tasks):
        w = f"{where}, tasks[{i}]"
        if not isinstance(t, dict):
            raise ParameterError(f"{w} is not an object")
        tid = _need(w, t, "id", str, "a string")
        params = _need(w, t, "params", dict, "an object")
        key = _need(w, t, "key", list, "a list")
        try:  # recompute both hashes exactly as the scan file's expansion does
            ref = _make_task(params, seed)
            ok_id = ref.id == tid
            ok_key = list(ref.key) == key and all(
                isinstance(x, int) and not isinstance(x, bool) for x in key)
        except (TypeError, ValueError):
            ok_id = ok_key = False
        if not ok_id:
            raise ParameterError(f"{w}: id {tid!r} does not match its parameters (edited or "
                                 "damaged manifest)")
        if not ok_key:
            raise ParameterError(f"{w}: key does not match its parameters")
        try:
            task = Task(id=tid, params=params, seed=seed, key=tuple(key))  # type: ignore[arg-type]
            task.label()
            if task.kind == "discrete":
                from mcsgd.experiments.scan.store import expected_shapes

                expected_shapes(task)
            elif task.kind not in ("continuous", "calibrate"):
                raise KeyError("experiment")
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise ParameterError(f"{w}: parameters are malformed ({type(e).__name__}: {e})") \
                from None


def check_scan_dir(out: str | os.PathLike, missing_ok: bool = False) -> None:
    """Read and check ``out/scan.json`` (nothing to do when absent and ``missing_ok``)."""
    from mcsgd.storage.scan import MANIFEST, read_manifest

    m = read_manifest(out, missing_ok=missing_ok)
    if m is not None:
        check_manifest(m, Path(out) / MANIFEST)


def check_scan_out(spec: Spec) -> None:
    """Refuse an output directory whose ``scan.toml`` was not written by mcsgd (``--out .``
    next to the user's own scan file would replace it) or whose manifest is damaged."""
    from mcsgd.storage.paths import check_output_dir

    out = Path(spec.out)
    if out.exists() and not out.is_dir():
        raise ParameterError(f"out = {str(out)!r} exists and is not a directory")
    check_output_dir(out, option="out")
    st = out / "scan.toml"
    if st.is_symlink() or (st.exists() and not st.is_file()):
        raise ParameterError(f"out = {str(out)!r}: {str(st)!r} is not a regular file")
    if st.is_file():
        try:
            with open(st, encoding="utf-8", errors="replace") as fh:
                head = fh.read(len(SPEC_DIR_HEADER))
        except OSError as e:
            raise ParameterError(f"out = {str(out)!r}: {str(st)!r} is unreadable: {e}") \
                from None
        if head != SPEC_DIR_HEADER:
            raise ParameterError(f"out = {str(out)!r} holds a scan.toml not written by mcsgd "
                                 "(it would be replaced by the scan's copy); choose another "
                                 "output directory")
    check_scan_dir(out, missing_ok=True)
