"""``mcsgd scan collect``: one summary file (a row per finished task + time series).

Only results that pass the integrity check are read, so collecting while a scan runs is safe.
Layout (``docs/scans.md``)::

    /                     attrs: mcsgd_kind = "scan-summary", name, seed, n_tasks, n_done,
                                 provenance (JSON)
    /table/<column>       1-D datasets, one entry per finished task (plan order):
                          task_id, params_json, flattened parameters ("instance.n",
                          "dynamics.T", "run.sweeps", ...), stationary observables
                          (energy, energy_err, overlap, acceptance; energy_err_dof = the
                          error's degrees of freedom, replicas, energy_ci95_lo/_hi = Student-t
                          95% interval, window_too_short, tau_int) or, for continuous tasks,
                          "result.<scalar>"
    /series/<task_id>/    time int64[K], energy/acceptance/overlap float64[R, K]
                          (continuous: the task's arrays)
"""

from __future__ import annotations

import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from mcsgd.experiments.scan.spec import Task, canonical_json
from mcsgd.experiments.scan.store import check_result, manifest_tasks, read_manifest, result_path
from mcsgd.stats import t_interval95


def _flatten(prefix: str, d: dict[str, Any], out: dict[str, Any]) -> None:
    for k, v in d.items():
        name = f"{prefix}.{k}" if prefix else k
        if isinstance(v, dict):
            _flatten(name, v, out)
        else:
            out[name] = v


def _read_task(path: Path, task: Task) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from mcsgd.driver import read_result
    from mcsgd.storage.h5 import open_checked, read_json_attr

    with open_checked(path, ("run", "continuous")) as f:
        if task.kind == "discrete":
            res = read_result(f)
            st = res.stationary()
            ov = None if res.overlap is None else float(res.overlap[:, -1].mean())
            acc = res.acceptance[:, -1]
            stat = {
                "energy": st["energy"], "energy_err": st["energy_err"], "overlap": ov,
                "acceptance": float(acc.mean()) if np.isfinite(acc).all() else None,
                "window": st["window"],
                **_error_fields(st, int(res.trace.shape[0])),
            }
            series = {"time": res.time, "energy": res.energy, "acceptance": res.acceptance}
            if res.overlap is not None:
                series["overlap"] = res.overlap
        else:
            stat = read_json_attr(f, "scalars", {})
            series = {k: f["arrays"][k][...] for k in f["arrays"]}
    return stat, series


MIN_ERR_DOF = 3  # below this, collect warns that +-energy_err is not a 68% interval


def _error_fields(st: dict[str, Any], replicas: int) -> dict[str, Any]:
    """Degrees of freedom of ``energy_err`` and the Student-t 95% interval of the energy.

    With R >= 2 replicas the error has R - 1 degrees of freedom (2 replicas: 1, and the 95%
    interval is energy -+ 12.7 energy_err); with one replica, batches - 1."""
    dof = int(st["err_dof"])
    ci = t_interval95(st["energy"], st["energy_err"], dof)
    return {"replicas": replicas, "energy_err_dof": dof, "energy_ci95": ci,
            "tau_int": st["tau_int"], "window_too_short": bool(st["window_too_short"])}


def gather(out: str | os.PathLike) -> dict[str, Any]:
    """Read every finished task of the scan in ``out``.

    Returns
    -------
    dict
        ``name``, ``seed``, ``total``, ``done``, ``tasks`` (list of ``id``, ``params``,
        ``stationary``, and the private ``_series``).
    """
    m = read_manifest(out)
    tasks = manifest_tasks(m)  # type: ignore[arg-type]
    rows = []
    for t in tasks:
        p = result_path(out, t.id)
        if check_result(p, t) is not None:
            continue
        stat, series = _read_task(p, t)
        rows.append({"id": t.id, "params": t.params, "stationary": stat, "_series": series})
    few = [r["id"] for r in rows if r["stationary"].get("energy_err_dof", MIN_ERR_DOF)
           < MIN_ERR_DOF]
    if few:
        warnings.warn(
            f"{len(few)} task(s) have energy errors with fewer than {MIN_ERR_DOF} degrees of "
            "freedom (e.g. 2 replicas: 1): energy -+ energy_err is not a 68% interval; use "
            "energy_ci95 (Student-t) or more replicas", stacklevel=2)
    return {"out": str(Path(out).resolve()), "name": m["name"], "seed": m["seed"],  # type: ignore[index]
            "total": len(tasks), "done": len(rows), "tasks": rows}


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


def write_summary(data: dict[str, Any], path: str | os.PathLike) -> None:
    """Write :func:`gather` output to ``path`` (atomic; layout in the module docstring)."""
    import h5py

    from mcsgd.storage.h5 import atomic_h5, provenance, write_json_attr

    rows = data["tasks"]
    flat: list[dict[str, Any]] = []
    for r in rows:
        d: dict[str, Any] = {"task_id": r["id"], "params_json": canonical_json(r["params"])}
        params = dict(r["params"])
        params.pop("experiment", None)
        _flatten("", params, d)
        d["experiment"] = r["params"]["experiment"]
        st = r["stationary"]
        if r["params"]["experiment"] == "discrete":
            for k in ("energy", "energy_err", "overlap", "acceptance", "energy_err_dof",
                      "replicas", "tau_int", "window_too_short"):
                d[k] = st.get(k)
            ci = st.get("energy_ci95") or [None, None]
            d["energy_ci95_lo"], d["energy_ci95_hi"] = ci
        else:
            for k, v in st.items():
                if isinstance(v, (int, float, str, bool)) or v is None:
                    d[f"result.{k}"] = v
        flat.append(d)
    cols: list[str] = []
    for d in flat:
        cols += [c for c in d if c not in cols]
    with atomic_h5(path, "scan-summary") as f:
        f.attrs["name"] = data["name"]
        f.attrs["seed"] = int(data["seed"])
        f.attrs["n_tasks"] = int(data["total"])
        f.attrs["n_done"] = int(data["done"])
        f.attrs["source"] = data["out"]
        write_json_attr(f, "provenance", provenance())
        g = f.create_group("table")
        for c in cols:
            arr = _column([d.get(c) for d in flat])
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


def summary_json(data: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` object: ``tasks`` with id, params and stationary observables."""
    return {
        "out": data["out"], "name": data["name"], "seed": data["seed"], "total": data["total"],
        "done": data["done"],
        "tasks": [{"id": r["id"], "params": r["params"], "stationary": r["stationary"]}
                  for r in data["tasks"]],
    }
