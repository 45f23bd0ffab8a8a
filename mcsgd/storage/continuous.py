"""Layout of a continuous-dynamics result (``mcsgd_kind = "continuous"``).

Written by ``mcsgd continuous ... -o`` (:func:`write`) and, inside a scan task file, by
:func:`write_body` (plus the ``scan_*`` attributes of :mod:`mcsgd.storage.scan` and ``timing``)::

    /                 attrs: mcsgd_kind = "continuous", mcsgd_format, complete,
                             params    (JSON: the experiment's resolved parameters),
                             scalars   (JSON: scalar results; NaN/inf stored as null),
                             model     (JSON: the model's description),
                             seed      (JSON: {"entropy": int, "key": [int, ...]}),
                             provenance (JSON), timing (JSON, scan tasks only: {"run_s"})
    /arrays/<name>    the experiment's arrays, as returned (dtype and shape per experiment)

Read with :func:`read` (an open file) or :func:`load` (a path).
"""

from __future__ import annotations

import os
from typing import Any

import h5py
import numpy as np

from mcsgd.storage.h5 import atomic_h5, open_checked, provenance, read_json_attr, write_json_attr

KIND = "continuous"


def write_body(f: h5py.File, result: dict[str, Any], entropy: int,
               key: tuple[int, ...] = ()) -> None:
    """Write ``result`` (``arrays``, ``params``, ``scalars``, ``model``) and its seed into an
    open file (with provenance)."""
    g = f.create_group("arrays")
    for name, arr in result["arrays"].items():
        g.create_dataset(name, data=np.asarray(arr))
    write_json_attr(f, "params", result["params"])
    write_json_attr(f, "scalars", result["scalars"])
    write_json_attr(f, "model", result["model"])
    write_json_attr(f, "seed", {"entropy": int(entropy), "key": list(key)})
    write_json_attr(f, "provenance", provenance())


def write(path: str | os.PathLike, result: dict[str, Any], entropy: int,
          key: tuple[int, ...] = ()) -> None:
    """Write ``result`` to ``path`` atomically (layout in the module docstring)."""
    with atomic_h5(path, kind=KIND) as f:
        write_body(f, result, entropy, key)


def read(f: h5py.File) -> dict[str, Any]:
    """The content of an open continuous file: ``arrays`` (dict of numpy arrays) and the JSON
    attributes ``params``, ``scalars``, ``model``, ``seed``, ``timing``, ``provenance``."""
    out: dict[str, Any] = {"arrays": {k: f["arrays"][k][...] for k in f["arrays"]}}
    for name in ("params", "scalars", "model", "seed", "timing", "provenance"):
        out[name] = read_json_attr(f, name, {})
    return out


def load(path: str | os.PathLike) -> dict[str, Any]:
    """:func:`read` of the file at ``path`` (checked: mcsgd, ``continuous``, complete)."""
    with open_checked(path, KIND) as f:
        return read(f)
