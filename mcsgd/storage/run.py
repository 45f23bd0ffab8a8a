"""HDF5 layouts of a run and of its checkpoint: functions on dicts of arrays (h5py reads them).

Run (``mcsgd_kind = "run"``; :func:`write_run` / :func:`read_run` on an open group)
------------------------------------------------------------------------------------
==========================  ===============  =================================================
path                        type             meaning
==========================  ===============  =================================================
attrs ``params``            JSON             instance params, dynamics, sweeps, replicas, seed,
                                             spawn key, init, grid, window
attrs ``timing``            JSON             ``prepare_s``, ``run_s``, ``updates``,
                                             ``ns_per_update``
attrs ``n``, ``w0``, ``blk``  int            nodes; window = sweeps w0+1..sweeps; sweeps per
                                             trace block
``time``                    int64[K]         recording times (sweeps)
``energy``                  float64[R, K]    energy density per replica
``overlap``                 float64[R, K]    overlap with the planted solution (planted only)
``acceptance``              float64[R, K]    accepted fraction in the interval ending at
                                             time[k] (NaN at k = 0)
``window/trace``            float64[R, nb]   total energy summed over each block of the window
``final/state``             int8[R, N]       final configurations
``final/rng``               uint64[R, 4]     final xoshiro256** states
==========================  ===============  =================================================

Checkpoint (``mcsgd_kind = "checkpoint"``; :func:`write_checkpoint` / :func:`read_checkpoint`)
--------------------------------------------------------------------------------------------
Everything a run needs to continue bit-identically: the chain state and the observables
recorded so far.

``runner/`` (the chain state; one dataset per key)
    ``s`` int8[R, N] configurations, ``rng`` uint64[R, 4] xoshiro256** rows, ``energy``
    int64[R] integer total energies, ``accepted`` int64[R] accepted moves, ``trace``
    float64[R, nb] measurement-window block sums, scalars ``t`` (sweeps done), ``w0``,
    ``blk``, ``window_len`` (measurement window), ``epoch0`` (sweep at which the current
    dynamics started: mini-batch epochs count from there) and, iff the dynamics runs on
    explicit mini-batch flags, ``flags`` uint8[R, F], ``stamp`` int64[R, F or 0] (Bernoulli
    epoch stamps), ``perm`` int32[R, F or 0] (fixed-size batch permutation).
``loop/`` (the record of the run so far)
    ``energy``, ``acceptance`` float64[R, K] and ``overlap`` float64[R, K] (planted only):
    columns < ``idx`` are final; ``acc0`` int64[R] accepted counters at the start of the
    current recording interval; attrs ``idx`` (recording time worked towards), ``t_prev``
    (sweep at the start of the interval), ``run_s`` (kernel seconds so far).

The writer adds its own identification attributes at the root (``params`` JSON for
``mcsgd.driver.run(checkpoint=...)``, ``scan_task_id`` and a checksum for scan tasks).

```python
import h5py, json
with h5py.File("run.ckpt.h5") as f:
    t = int(f["runner/t"][()]); s = f["runner/s"][...]; params = json.loads(f.attrs["params"])
```
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mcsgd.storage.h5 import read_json_attr, write_json_attr

RUN_ARRAYS = {"time": "time", "energy": "energy", "acceptance": "acceptance",
              "trace": "window/trace", "final_state": "final/state", "final_rng": "final/rng"}


def write_run(g, d: dict[str, Any]) -> None:
    """Write a run (keys ``params``, ``timing``, ``n``, ``w0``, ``blk``, ``time``, ``energy``,
    ``overlap`` (array or None), ``acceptance``, ``trace``, ``final_state``, ``final_rng``)
    into an open HDF5 group (layout in the module docstring)."""
    write_json_attr(g, "params", d["params"])
    write_json_attr(g, "timing", d["timing"])
    g.attrs["n"] = d["n"]
    g.attrs["w0"] = d["w0"]
    g.attrs["blk"] = d["blk"]
    g.create_dataset("time", data=d["time"])
    g.create_dataset("energy", data=d["energy"])
    g.create_dataset("acceptance", data=d["acceptance"])
    if d["overlap"] is not None:
        g.create_dataset("overlap", data=d["overlap"])
    g.create_dataset("window/trace", data=d["trace"])
    g.create_dataset("final/state", data=d["final_state"])
    g.create_dataset("final/rng", data=d["final_rng"])


def read_run(g) -> dict[str, Any]:
    """Read the dict :func:`write_run` wrote from an open HDF5 group."""
    d: dict[str, Any] = {k: g[path][...] for k, path in RUN_ARRAYS.items()}
    d["overlap"] = g["overlap"][...] if "overlap" in g else None
    d["w0"] = int(g.attrs["w0"])
    d["blk"] = int(g.attrs["blk"])
    d["n"] = int(g.attrs["n"])
    d["params"] = read_json_attr(g, "params", {})
    d["timing"] = read_json_attr(g, "timing", {})
    return d


def write_checkpoint(f, chain: dict[str, Any], loop: dict[str, Any]) -> None:
    """Write a checkpoint into an open HDF5 file or group (layout in the module docstring).

    ``chain``: the chain-state dict (arrays and scalars); ``loop``: ``energy``,
    ``acceptance``, ``overlap`` (or None), ``acc0`` arrays and ``idx``, ``t_prev``, ``run_s``.
    """
    g = f.create_group("runner")
    for k, v in chain.items():
        g.create_dataset(k, data=np.asarray(v))
    lg = f.create_group("loop")
    for k in ("acc0", "energy", "acceptance", "overlap"):
        if loop.get(k) is not None:
            lg.create_dataset(k, data=loop[k])
    lg.attrs["idx"] = loop["idx"]
    lg.attrs["t_prev"] = loop["t_prev"]
    lg.attrs["run_s"] = loop["run_s"]


def read_checkpoint(f) -> tuple[dict[str, Any], dict[str, Any]]:
    """Read ``(chain, loop)`` dicts written by :func:`write_checkpoint` (``loop["overlap"]`` is
    None when absent; scalars come back as Python ints and floats)."""
    chain = {k: f["runner"][k][()] for k in f["runner"]}
    lg = f["loop"]
    loop = {
        "acc0": lg["acc0"][...], "energy": lg["energy"][...], "acceptance": lg["acceptance"][...],
        "overlap": lg["overlap"][...] if "overlap" in lg else None,
        "idx": int(lg.attrs["idx"]), "t_prev": int(lg.attrs["t_prev"]),
        "run_s": float(lg.attrs["run_s"]),
    }
    return chain, loop
