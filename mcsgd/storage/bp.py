"""Layout of a belief-propagation result (``mcsgd_kind = "bp"``): ``mcsgd bp -o``,
:meth:`mcsgd.bp.BPResult.save`::

    /               attrs: mcsgd_kind, mcsgd_format, complete,
                           converged (bool), iterations (int), max_change (float),
                           bethe_free_energy, energy, entropy (float, per node),
                           contradictions (int), overlap (float; NaN without a planted
                           solution), params (JSON), timing (JSON), provenance (JSON)
    /marginals      float64[N, q]   BP node marginals (Ising: columns s = +1, s = -1)
    /assignment     int8[N]         argmax of the marginals: colours 0..q-1, or spins +-1
    /history        float64[iterations]  largest message change per iteration
    /messages       float64[2M, q]  final messages by half-edge (only with --messages)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mcsgd.storage.h5 import atomic_h5, open_checked, provenance, read_json_attr, write_json_attr

KIND = "bp"
SCALARS = ("converged", "iterations", "max_change", "bethe_free_energy", "energy", "entropy",
           "contradictions")


def write(path: str | os.PathLike, *, marginals: np.ndarray, assignment: np.ndarray,
          history: np.ndarray, messages: np.ndarray | None, scalars: dict[str, Any],
          overlap: float | None, params: dict[str, Any], timing: dict[str, Any]) -> None:
    """Write a BP result to ``path`` atomically; ``scalars`` holds the keys of
    :data:`SCALARS`, ``messages`` is written unless None (layout in the module docstring)."""
    with atomic_h5(path, KIND) as f:
        f.create_dataset("marginals", data=marginals)
        f.create_dataset("assignment", data=assignment)
        f.create_dataset("history", data=history)
        if messages is not None:
            f.create_dataset("messages", data=messages)
        for k in SCALARS:
            f.attrs[k] = scalars[k]
        f.attrs["overlap"] = np.nan if overlap is None else overlap
        write_json_attr(f, "params", params)
        write_json_attr(f, "timing", timing)
        write_json_attr(f, "provenance", provenance())


def read(path: str | os.PathLike) -> dict[str, Any]:
    """Read a BP file: the datasets (``messages`` None if absent), the scalars as Python
    values (``overlap`` None when NaN), ``params``, ``timing`` and ``provenance``."""
    with open_checked(path, KIND) as f:
        out: dict[str, Any] = {k: f[k][...] for k in ("marginals", "assignment", "history")}
        out["messages"] = f["messages"][...] if "messages" in f else None
        for k in SCALARS:
            out[k] = f.attrs[k].item()
        ov = float(f.attrs["overlap"])
        out["overlap"] = None if ov != ov else ov
        for k in ("params", "timing", "provenance"):
            out[k] = read_json_attr(f, k, {})
    return out
