"""The instance file layout (``mcsgd_kind = "instance"``): plain attributes and arrays.

::

    /            attrs: mcsgd_kind, mcsgd_format, complete, problem ("coloring"|"ising"),
                        n, q, m, params (JSON: generator, its arguments, seed, instance
                        index k), provenance (JSON)
    /indptr      int32[N+1]   CSR row pointers
    /indices     int32[2M]    CSR neighbours (each undirected edge in both rows, rows sorted,
                              multi-edges repeated)
    /couplings   int8[2M]     J per half-edge, +-1 (Ising only)
    /planted     int8[N]      planted colours 0..q-1, or planted spins +-1 (when planted)

This module only moves dicts and arrays in and out of the file (atomically, through
:func:`mcsgd.storage.h5.atomic_h5`); what the values must satisfy (dtypes, ranges, a symmetric
graph, a proper planted colouring) is checked by ``mcsgd.problems.Instance`` on load. The file
is readable without mcsgd: ``h5py.File(path)["indptr"][...]`` etc.
"""

from __future__ import annotations

import os
from typing import Any

import h5py
import numpy as np

from mcsgd.errors import FileFormatError
from mcsgd.storage.h5 import atomic_h5, open_checked, provenance, read_json_attr, write_json_attr

KIND = "instance"
ARRAYS = ("indptr", "indices", "couplings", "planted")  #: datasets, in writing order
REQUIRED = ("indptr", "indices")  #: datasets every instance file has


def write_instance(path: str | os.PathLike, attrs: dict[str, Any],
                   arrays: dict[str, np.ndarray | None], params: dict[str, Any]) -> None:
    """Write an instance file atomically: root ``attrs`` (``problem``, ``n``, ``q``, ``m``, in
    that order), the JSON ``params`` and ``provenance`` attributes, then every array of
    :data:`ARRAYS` that is present and not None."""
    with atomic_h5(path, KIND) as f:
        for k, v in attrs.items():
            f.attrs[k] = v
        write_json_attr(f, "params", params)
        write_json_attr(f, "provenance", provenance())
        for name in ARRAYS:
            a = arrays.get(name)
            if a is not None:
                f.create_dataset(name, data=a)


def read_instance(path: str | os.PathLike
                  ) -> tuple[dict[str, Any], dict[str, np.ndarray | None], Any]:
    """Read an instance file as ``(attrs, arrays, params)``, values as stored (unvalidated).

    ``attrs`` holds ``problem`` (bytes decoded to str) and ``q``; ``arrays`` maps every name of
    :data:`ARRAYS` to its array or None when absent; ``params`` is the decoded JSON (``{}`` when
    absent). Raises :class:`~mcsgd.errors.FileFormatError` when the file is not a complete
    instance file, lacks a required attribute or dataset, holds a group where a dataset belongs,
    or its ``params`` are not JSON.
    """
    where = f"instance file {str(path)!r}"
    with open_checked(path, KIND) as f:
        try:
            problem = f.attrs["problem"]
            attrs = {"problem": problem.decode() if isinstance(problem, bytes) else problem,
                     "q": f.attrs["q"]}
            arrays: dict[str, np.ndarray | None] = {}
            for name in ARRAYS:
                if name not in f:
                    if name in REQUIRED:
                        raise KeyError(name)
                    arrays[name] = None
                    continue
                ds = f[name]
                if not isinstance(ds, h5py.Dataset):
                    raise FileFormatError(f"{where}: dataset {name!r} holds a group, not an "
                                          "array")
                arrays[name] = ds[...]
            try:
                params = read_json_attr(f, "params", {})
            except (ValueError, UnicodeDecodeError):
                raise FileFormatError(f"{where}: attribute 'params' is not valid JSON") from None
        except KeyError as e:
            raise FileFormatError(f"{where} lacks {e}") from None
    return attrs, arrays, params
