"""Helpers shared by the scan tests: tiny scan files and bitwise comparison of results."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

TINY = """
name = "tiny"
seed = 7
instances = {instances}
out = "{out}"

[instance]
problem = "coloring"
n = {n}
q = 5
c = 8.0

[run]
sweeps = {sweeps}
replicas = 2
grid_points = 12

[[dynamics]]
dynamics = "metropolis"
T = [0.5, 1.0]

[[dynamics]]
dynamics = "sgd"
B = [0.5]
{extra_dyn}

[execution]
checkpoint_seconds = {ckpt}
chunk_updates = {chunk}
"""


def write_spec(path: Path, out: Path, *, n: int = 600, sweeps: int = 200, instances: int = 1,
               ckpt: float = 30.0, chunk: float = 2e7, extra_dyn: str = "") -> Path:
    """Write a tiny scan file; returns its path."""
    path.write_text(TINY.format(out=out, n=n, sweeps=sweeps, instances=instances, ckpt=ckpt,
                                chunk=chunk, extra_dyn=extra_dyn))
    return path


def datasets(path: Path) -> dict[str, np.ndarray]:
    """Every dataset of an HDF5 file (name -> array)."""
    out: dict[str, np.ndarray] = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, o[...]) if isinstance(o, h5py.Dataset)
                     else None)
    return out


def task_payload(path: Path) -> dict:
    """What must be identical across executions: datasets and the run/task parameters.

    (Not ``scan_checksum``: it also covers the timings and provenance attributes.)"""
    with h5py.File(path, "r") as f:
        attrs = {k: f.attrs[k] for k in ("params", "scan_task", "scan_task_id", "scan_seeds",
                                         "n", "w0", "blk")}
    return {"data": datasets(path), "attrs": {k: (v.decode() if isinstance(v, bytes) else v)
                                              for k, v in attrs.items()}}


def assert_same_payload(a: dict, b: dict) -> None:
    """Bitwise equality of two :func:`task_payload` results."""
    assert a["attrs"] == b["attrs"]
    assert set(a["data"]) == set(b["data"])
    for k in a["data"]:
        x, y = a["data"][k], b["data"][k]
        assert x.dtype == y.dtype and x.shape == y.shape, k
        assert x.tobytes() == y.tobytes(), k


def assert_same_scan(d1: Path, d2: Path) -> None:
    """Two scan directories hold bit-identical results for the same tasks."""
    f1 = sorted(p.name for p in (d1 / "tasks").glob("*.h5") if ".ckpt" not in p.name)
    f2 = sorted(p.name for p in (d2 / "tasks").glob("*.h5") if ".ckpt" not in p.name)
    assert f1 == f2 and f1
    for name in f1:
        assert_same_payload(task_payload(d1 / "tasks" / name), task_payload(d2 / "tasks" / name))


def summary_payload(path: Path) -> dict[str, bytes]:
    """Bytes of every dataset of a summary file (provenance attributes excluded)."""
    return {k: (v.astype(str).tobytes() if v.dtype == object else v.tobytes())
            for k, v in datasets(path).items()}


def collect_json(capsys, main, d: Path) -> dict:
    """``mcsgd scan collect DIR --json`` parsed."""
    capsys.readouterr()
    assert main(["scan", "collect", str(d), "--json"]) == 0
    return json.loads(capsys.readouterr().out)
