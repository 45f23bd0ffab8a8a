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

``runs`` is instances x replicas. Only leaves are imported (numpy, :mod:`mcsgd.storage.h5`).
"""

from __future__ import annotations

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
PUBLIC_OMIT = ("t_rec", "final_overlap", "curve")


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


def read_recovery(path: str | os.PathLike) -> dict[str, Any]:
    """Read a recovery file: ``{"params", "provenance", "rows"}``, each row with its arrays
    back under ``t_rec``, ``final_overlap`` and ``curve`` = (time, overlap)."""
    with open_checked(path, KIND) as f:
        rows = read_json_attr(f, "rows", [])
        for i, r in enumerate(rows):
            g = f[f"rows/{i:04d}"]
            r["t_rec"] = g["t_rec"][()]
            r["final_overlap"] = g["final_overlap"][()]
            r["curve"] = (g["curve_time"][()], g["curve_overlap"][()])
        return {"params": read_json_attr(f, "params", {}),
                "provenance": read_json_attr(f, "provenance", {}), "rows": rows}
