"""The recovery file layout (``mcsgd recover -o``, ``reproduce recovery``'s ``recovery_*.h5``).

A recovery file holds the rows of a recovery scan
(:func:`mcsgd.experiments.recover.recovery_scan`): one row per (c, dynamics setting), written
atomically (:func:`mcsgd.storage.h5.atomic_h5`)::

    /                       attrs: mcsgd_kind = "recovery", mcsgd_format, complete,
                                   params      (JSON: the command's parameters or the spec),
                                   provenance  (JSON: versions, host, time),
                                   rows        (JSON: each row's scalars, see PUBLIC_OMIT)
    /rows/NNNN/             one group per row, NNNN its index (4 digits) in ``rows``
        t_rec               float64[runs]  recovery time per run (sweeps; inf: not recovered)
        final_overlap       float64[runs]  overlap with the planted colouring at the end
        curve_time          int64[points]    sweeps of the first instance's overlap curve
        curve_overlap       float64[points]  its overlap, mean over replicas
        final_state         int8[runs, N]  (only with ``mcsgd recover --save-states``) the
                                           final configuration of every run (after the
                                           quench), same run order as ``t_rec``; attrs
                                           ``instances``, ``replicas`` (ints) and
                                           ``instance_params`` (JSON: list, the ``params``
                                           of each instance, what ``mcsgd run --init`` checks)

``runs`` is instances x replicas, instance-major: run j is replica j % replicas of instance
j // replicas. Only leaves are imported (numpy, :mod:`mcsgd.storage.h5`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from mcsgd.storage.h5 import (
    atomic_h5,
    open_checked,
    provenance,
    read_json_attr,
    write_json_attr,
)

KIND = "recovery"
# row keys holding per-run arrays: stored as datasets, left out of the ``rows`` attribute
PUBLIC_OMIT = ("t_rec", "final_overlap", "curve", "final_state")
STATE_KEYS = ("instances", "replicas", "instance_params")  # attrs of final_state


def public_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows without their per-run arrays (what JSON output and the ``rows`` attr hold)."""
    return [{k: v for k, v in r.items() if k not in PUBLIC_OMIT} for r in rows]


def write_recovery(path: str | os.PathLike, rows: Sequence[dict[str, Any]],
                   params: dict[str, Any]) -> None:
    """Write recovery ``rows`` (with their per-run arrays) and ``params`` to ``path``."""
    with atomic_h5(path, KIND) as f:
        write_json_attr(f, "params", params)
        write_json_attr(f, "provenance", provenance())
        write_json_attr(f, "rows", public_rows(rows))
        for i, r in enumerate(rows):
            g = f.create_group(f"rows/{i:04d}")
            g["t_rec"] = np.asarray(r["t_rec"])
            g["final_overlap"] = np.asarray(r["final_overlap"])
            g["curve_time"] = np.asarray(r["curve"][0])
            g["curve_overlap"] = np.asarray(r["curve"][1])
            if r.get("final_state") is not None:
                st = r["final_state"]
                g["final_state"] = np.asarray(st["states"], np.int8)
                g["final_state"].attrs["instances"] = int(st["instances"])
                g["final_state"].attrs["replicas"] = int(st["replicas"])
                write_json_attr(g["final_state"], "instance_params", st["instance_params"])


def read_recovery(path: str | os.PathLike) -> dict[str, Any]:
    """Read a recovery file: ``{"params", "provenance", "rows"}``, each row with its arrays
    back under ``t_rec``, ``final_overlap``, ``curve`` = (time, overlap) and, if saved,
    ``final_state`` (:func:`read_final_state`)."""
    with open_checked(path, KIND) as f:
        rows = read_json_attr(f, "rows", [])
        for i, r in enumerate(rows):
            g = f[f"rows/{i:04d}"]
            r["t_rec"] = g["t_rec"][()]
            r["final_overlap"] = g["final_overlap"][()]
            r["curve"] = (g["curve_time"][()], g["curve_overlap"][()])
            if "final_state" in g:
                r["final_state"] = read_final_state(g["final_state"])
        return {"params": read_json_attr(f, "params", {}),
                "provenance": read_json_attr(f, "provenance", {}), "rows": rows}


# ---- one finished row of ``reproduce recovery`` (its resume store) ----------------------------
ROW_KIND = "recovery-row"


def _plain(x: Any) -> Any:
    """Numpy scalars to Python, keeping NaN and inf (the row is restored exactly)."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def write_row(path: str | os.PathLike, row: dict[str, Any], params: dict[str, Any]) -> None:
    """Write one finished row of ``reproduce recovery`` with the parameters that made it.

    Layout (``mcsgd_kind = "recovery-row"``, atomic): attrs ``params`` (JSON), ``provenance``
    (JSON), ``row`` (JSON of the row's scalars, NaN/inf kept); datasets ``t_rec``,
    ``final_overlap``, ``curve_time``, ``curve_overlap`` when the row has them (BP rows do not).
    """
    with atomic_h5(path, ROW_KIND) as f:
        write_json_attr(f, "params", params)
        write_json_attr(f, "provenance", provenance())
        f.attrs["row"] = json.dumps(_plain({k: v for k, v in row.items()
                                            if k not in PUBLIC_OMIT}))  # key order kept
        if "t_rec" in row:
            f["t_rec"] = np.asarray(row["t_rec"])
            f["final_overlap"] = np.asarray(row["final_overlap"])
            f["curve_time"] = np.asarray(row["curve"][0])
            f["curve_overlap"] = np.asarray(row["curve"][1])


def read_row(path: str | os.PathLike) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Read a file of :func:`write_row`: ``(row, params, provenance)``, the row with its
    arrays (``t_rec``, ``final_overlap``, ``curve`` = (time, overlap)) when stored."""
    with open_checked(path, ROW_KIND) as f:
        v = f.attrs["row"]
        row = json.loads(v.decode() if isinstance(v, bytes) else v)
        if "t_rec" in f:
            row["t_rec"] = f["t_rec"][()]
            row["final_overlap"] = f["final_overlap"][()]
            row["curve"] = (f["curve_time"][()], f["curve_overlap"][()])
        return row, read_json_attr(f, "params", {}), read_json_attr(f, "provenance", {})


def read_final_state(ds) -> dict[str, Any]:
    """A row's saved configurations from its open ``final_state`` dataset: ``{"states":
    int8[runs, N], "instances", "replicas", "instance_params"}``."""
    return {"states": ds[()], "instances": int(ds.attrs["instances"]),
            "replicas": int(ds.attrs["replicas"]),
            "instance_params": read_json_attr(ds, "instance_params", [])}
