"""Layouts of a scan's output directory: file names, manifest, task files, failure reports,
summary.

Directory ``DIR`` (``--out`` of ``mcsgd scan run``)::

    DIR/scan.json               manifest (JSON, below)
    DIR/scan.toml               the scan file as run (header lines, then the file's text)
    DIR/tasks/<id>.h5           result of a task (in-memory writer, user-block sha256, sealed)
    DIR/tasks/<id>.ckpt.h5      checkpoint of an unfinished task (same writer)
    DIR/tasks/<id>.lock         flock held by the process running the task
    DIR/tasks/<id>.failed.json  why the last attempt failed (removed on success)
    DIR/slurm/                  rendered sbatch script, job ids, array logs

Manifest ``scan.json`` (JSON object, ``indent = 1``, sorted keys)::

    mcsgd_kind  "scan-manifest"
    name        str      scan name
    seed        int      root seed
    spec_path   str|null the scan file's path
    spec_text   str      the scan file's text
    tasks       list of {"id": str, "params": object (canonical), "key": [int, ...]}

Task result ``tasks/<id>.h5`` (written with :func:`mcsgd.storage.h5.atomic_h5_file`, so it
starts with a 512-byte user block ``mcsgd-sha256:<hex>``):

* discrete task: ``mcsgd_kind = "run"``, exactly the run layout (``RunResult.save``), plus
  ``scan_timing`` (JSON: ``instance_s``, ``write_s``, ``wall_s``, ``checkpoints``,
  ``resumed_at``);
* continuous task: ``mcsgd_kind = "continuous"``, the layout of
  :mod:`mcsgd.storage.continuous` plus ``timing`` (JSON: ``run_s``);
* calibration task: ``mcsgd_kind = "calibration"``, the layout of
  :mod:`mcsgd.storage.calibration` (``mcsgd calibrate -o``);
* both: root attributes ``scan_task_id`` (str), ``scan_task`` (JSON: canonical parameters),
  ``scan_seeds`` (JSON: ``root_seed``, ``spawn_key`` and, discrete and calibration,
  ``instance_seed``, ``instance_index`` (calibration: the list of indices)) written by
  :func:`write_task_attrs`, and last ``scan_checksum`` (:func:`mcsgd.storage.h5.seal`).

Checkpoint ``tasks/<id>.ckpt.h5`` (``mcsgd_kind = "checkpoint"``, same writer, sealed):
``scan_task_id``; group ``runner/`` (the runner's state arrays: ``s``, ``rng``, ``energy``,
``accepted``, ``t``, ...); group ``loop/`` (record-loop arrays ``acc0``, ``energy``,
``acceptance``, ``overlap``; attributes ``idx``, ``t_prev``, ``run_s``).

Failure report ``tasks/<id>.failed.json``: ``{"error": str, "traceback": str, "host": str,
"time": float}``.

Summary (``mcsgd scan collect -o``, :func:`write_summary`; ``mcsgd_kind = "scan-summary"``)::

    /                     attrs: name, seed, n_tasks, n_done, source (the scan directory),
                                 provenance (JSON)
    /table/<column>       1-D datasets, one entry per finished task (plan order):
                          task_id, params_json (canonical JSON), experiment, the flattened
                          parameters ("instance.n", "dynamics.T", "run.sweeps", ...),
                          discrete tasks: energy, energy_err, overlap, acceptance,
                          energy_err_dof, replicas, tau_int, window_too_short,
                          energy_ci95_lo, energy_ci95_hi; continuous tasks: "result.<scalar>";
                          calibration tasks: "result.<table column>" (JSON list, one entry
                          per B), "result.metropolis" (JSON), "result.n_instances", ...
                          Column types: bool, int64 (all present and integer), float64 (NaN:
                          missing), else variable-length str (JSON for lists and objects)
    /series/<task_id>/    discrete: time int64[K], energy/acceptance/overlap float64[R, K];
                          continuous: the task's arrays; calibration: metropolis_T,
                          metropolis_energy(_err), time, relaxation_sgd/_metropolis,
                          table_<column> float64[nB]
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from mcsgd.errors import ParameterError
from mcsgd.storage.h5 import (
    atomic_h5,
    canonical_json,
    provenance,
    read_kind,
    read_str_attr,
    verify_checksum,
    verify_file_bytes,
    write_bytes_atomic,
    write_json_attr,
)

MANIFEST = "scan.json"
SPEC_COPY = "scan.toml"
MANIFEST_KIND = "scan-manifest"
SUMMARY_KIND = "scan-summary"


# ---- file names --------------------------------------------------------------------------------
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


# ---- manifest and spec copy ------------------------------------------------------------------
def make_manifest(name: str, seed: int, spec_path: str | None, spec_text: str,
                  tasks: Iterable[tuple[str, dict[str, Any], tuple[int, ...]]]) -> dict[str, Any]:
    """The manifest object of a scan; ``tasks`` yields ``(id, params, key)``."""
    return {
        "mcsgd_kind": MANIFEST_KIND,
        "name": name,
        "seed": seed,
        "spec_path": spec_path,
        "spec_text": spec_text,
        "tasks": [{"id": tid, "params": params, "key": list(key)}
                  for tid, params, key in tasks],
    }


def _write_text_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        write_bytes_atomic(path, text.encode())


def write_manifest(out: str | os.PathLike, m: dict[str, Any]) -> None:
    """Write ``DIR/scan.json`` atomically unless it already holds exactly ``m``."""
    _write_text_if_changed(Path(out) / MANIFEST, json.dumps(m, indent=1, sort_keys=True))


def write_spec_copy(out: str | os.PathLike, text: str) -> None:
    """Write ``DIR/scan.toml`` atomically unless it already holds exactly ``text``."""
    _write_text_if_changed(Path(out) / SPEC_COPY, text)


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
    if not isinstance(m, dict) or m.get("mcsgd_kind") != MANIFEST_KIND:
        raise ParameterError(f"{str(mp)!r} is not a scan manifest")
    return m


# ---- failure reports ---------------------------------------------------------------------------
def write_failure(out: str | os.PathLike, tid: str, error: str, tb: str) -> None:
    """Write ``tasks/<id>.failed.json`` atomically (error, traceback, host, time)."""
    write_bytes_atomic(failed_path(out, tid), json.dumps(
        {"error": error, "traceback": tb, "host": os.uname().nodename,
         "time": time.time()}).encode())


def read_failure(out: str | os.PathLike, tid: str) -> str | None:
    """The error of the task's failure report (None: no report; a message if unreadable)."""
    fp = failed_path(out, tid)
    if not fp.exists():
        return None
    try:
        info = json.loads(fp.read_text())
        return str(info.get("error", "unknown error"))
    except (OSError, ValueError):
        return "unreadable failure report"


# ---- task files --------------------------------------------------------------------------------
def write_task_attrs(f: h5py.File, tid: str, params: dict[str, Any],
                     seeds: dict[str, Any]) -> None:
    """The ``scan_task_id``, ``scan_task`` and ``scan_seeds`` attributes of a task file."""
    f.attrs["scan_task_id"] = tid
    write_json_attr(f, "scan_task", params)
    write_json_attr(f, "scan_seeds", seeds)


def read_task_id(f: h5py.File) -> str | None:
    """The ``scan_task_id`` of an open task file (None if absent)."""
    return read_str_attr(f, "scan_task_id")


def check_task_file(path: str | os.PathLike, kind: str, tid: str,
                    shapes: dict[str, tuple[int, ...]]) -> str | None:
    """Why ``path`` is not a valid task file (None if it is).

    Checks, in order: it exists and is not empty, its bytes match the user-block checksum
    (before HDF5 parses anything), ``mcsgd_kind == kind``, ``complete``, ``scan_task_id ==
    tid``, every dataset of ``shapes`` is present with that shape (-1: any length), and the
    content checksum matches."""
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
            k = read_kind(f)
            if k is None:
                return "foreign file (not written by mcsgd)"
            if k != kind:
                return f"holds an mcsgd {k!r}, expected {kind!r}"
            if not bool(f.attrs.get("complete", False)):
                return "incomplete"
            got_id = read_task_id(f)
            if got_id != tid:
                return f"belongs to task {got_id!r}"
            for name, shape in shapes.items():
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


# ---- summary -----------------------------------------------------------------------------------
def _flatten(prefix: str, d: dict[str, Any], out: dict[str, Any]) -> None:
    for k, v in d.items():
        name = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            _flatten(name, v, out)
        else:
            out[name] = v


def _column(values: list[Any]) -> np.ndarray:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return np.array([bool(v) if v is not None else False for v in values])
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        if all(isinstance(v, int) for v in present) and len(present) == len(values):
            return np.array(values, dtype=np.int64)
        return np.array([math.nan if v is None else float(v) for v in values])
    strs = ["" if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in values]
    return np.array(strs, dtype=object)


_DISCRETE_COLUMNS = ("energy", "energy_err", "overlap", "acceptance", "energy_err_dof",
                     "replicas", "tau_int", "window_too_short")


def summary_table(rows: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The columns of a summary's ``/table`` (layout in the module docstring), in file order.

    ``rows``: one dict per finished task with ``id``, ``params`` and ``stationary``. Strings
    come back as an object array of ``str``."""
    flat: list[dict[str, Any]] = []
    for r in rows:
        d: dict[str, Any] = {"task_id": r["id"], "params_json": canonical_json(r["params"])}
        params = dict(r["params"])
        params.pop("experiment", None)
        _flatten("", params, d)
        d["experiment"] = r["params"]["experiment"]
        st = r["stationary"]
        if r["params"]["experiment"] == "discrete":
            for k in _DISCRETE_COLUMNS:
                d[k] = st.get(k)
            ci = st.get("energy_ci95") or [None, None]
            d["energy_ci95_lo"], d["energy_ci95_hi"] = ci
        elif r["params"]["experiment"] == "calibrate":  # per-B lists: JSON string columns
            for k, v in st.items():
                d[f"result.{k}"] = v
        else:
            for k, v in st.items():
                if isinstance(v, (int, float, str, bool)) or v is None:
                    d[f"result.{k}"] = v
        flat.append(d)
    cols: list[str] = []
    for d in flat:
        cols += [c for c in d if c not in cols]
    return {c: _column([d.get(c) for d in flat]) for c in cols}


def write_summary(data: dict[str, Any], path: str | os.PathLike) -> None:
    """Write a collected scan to ``path`` atomically (layout in the module docstring).

    ``data`` holds ``name``, ``seed``, ``total``, ``done``, ``out`` and ``tasks``: one dict per
    finished task with ``id``, ``params``, ``stationary`` (scalars) and ``_series`` (arrays).
    """
    rows = data["tasks"]
    table = summary_table(rows)
    with atomic_h5(path, SUMMARY_KIND) as f:
        f.attrs["name"] = data["name"]
        f.attrs["seed"] = int(data["seed"])
        f.attrs["n_tasks"] = int(data["total"])
        f.attrs["n_done"] = int(data["done"])
        f.attrs["source"] = data["out"]
        write_json_attr(f, "provenance", provenance())
        g = f.create_group("table")
        for c, arr in table.items():
            if arr.dtype == object:
                g.create_dataset(c, data=arr.astype(str).astype(object) if len(arr) else arr,
                                 dtype=h5py.string_dtype())
            else:
                g.create_dataset(c, data=arr)
        s = f.create_group("series")
        for r in rows:
            sg = s.create_group(r["id"])
            for k, v in r["_series"].items():
                sg.create_dataset(k, data=np.asarray(v))


def read_summary_table(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The ``/table`` columns of a summary file (``mcsgd scan collect -o``), strings decoded to
    ``str`` (object arrays), in the file's column order."""
    from mcsgd.storage.h5 import open_checked

    with open_checked(path, SUMMARY_KIND) as f:
        g = f["table"]
        out: dict[str, np.ndarray] = {}
        for c in g:  # h5py lists in creation order when tracked, else alphabetically
            ds = g[c]
            if h5py.check_string_dtype(ds.dtype) is not None:
                out[c] = np.array(ds.asstr()[()], dtype=object)
            else:
                out[c] = ds[()]
        return out
