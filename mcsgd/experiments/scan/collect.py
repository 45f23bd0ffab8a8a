"""``mcsgd scan collect``: one summary file (a row per finished task + time series).

Only results that pass the integrity check are read, so collecting while a scan runs is safe.
The summary is written by :func:`mcsgd.storage.scan.write_summary` (layout in
:mod:`mcsgd.storage.scan` and ``docs/scans.md``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from mcsgd.experiments.scan.spec import Task
from mcsgd.experiments.scan.store import check_result, manifest_tasks
from mcsgd.stats import t_interval95
from mcsgd.storage.scan import read_manifest, result_path


def _read_task(path: Path, task: Task) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    from mcsgd.driver import read_result
    from mcsgd.storage import continuous
    from mcsgd.storage.h5 import open_checked

    if task.kind == "calibrate":
        return _read_calibration(path)
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
            res = continuous.read(f)
            stat, series = res["scalars"], res["arrays"]
    return stat, series


def _read_calibration(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A calibration task: its table (lists, one entry per B), Metropolis grid and error
    metadata as ``stationary``; the grid, relaxation curves and table columns as series."""
    from mcsgd.storage import calibration as layout

    d = layout.read(path)
    stat = {**d["table"],
            "metropolis": {"T": d["T_grid"].tolist(), "energy": d["e_mc"].tolist(),
                           "energy_err": d["e_mc_err"].tolist()},
            **{k: v for k, v in d["errors"].items() if k != "metropolis_energy_err_thermal"}}
    series = {"metropolis_T": d["T_grid"], "metropolis_energy": d["e_mc"],
              "metropolis_energy_err": d["e_mc_err"], "time": d["times"],
              "relaxation_sgd": d["curves_sgd"], "relaxation_metropolis": d["curves_mc"],
              **{f"table_{k}": np.array([np.nan if x is None else x for x in v], dtype=float)
                 for k, v in d["table"].items()}}
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


def summary_json(data: dict[str, Any]) -> dict[str, Any]:
    """The ``--json`` object: ``tasks`` with id, params and stationary observables."""
    return {
        "out": data["out"], "name": data["name"], "seed": data["seed"], "total": data["total"],
        "done": data["done"],
        "tasks": [{"id": r["id"], "params": r["params"], "stationary": r["stationary"]}
                  for r in data["tasks"]],
    }


def load_summary(path: str | os.PathLike):
    """A scan's table as a ``pandas.DataFrame`` (needs ``mcsgd[analysis]``).

    ``path`` is a scan directory (``--out`` of ``mcsgd scan run``: its finished tasks are read
    as ``mcsgd scan collect`` reads them, nothing is written) or a summary file
    (``mcsgd scan collect -o``). One row per finished task (plan order), the columns of the
    summary's ``/table`` (``docs/scans.md``): ``task_id`` first, then the others sorted by
    name; strings are Python ``str`` (decoded), missing numbers NaN. The time series stay in
    the files (``/series/<task_id>/`` of the summary, ``tasks/<id>.h5`` of the directory).
    """
    from mcsgd.errors import ParameterError, require_extra
    from mcsgd.storage.scan import read_summary_table, summary_table

    pd = require_extra("pandas", "analysis", "load_summary()")
    p = Path(path)
    if p.is_dir():
        table = summary_table(gather(p)["tasks"])
    elif p.is_file():
        table = read_summary_table(p)
    else:
        raise ParameterError(f"{path}: no such scan directory or summary file")
    cols = (["task_id"] if "task_id" in table else []) + sorted(c for c in table
                                                                if c != "task_id")
    return pd.DataFrame({c: table[c] for c in cols})
