"""The result of a run: recorded observables, final state, parameters and timing.

:class:`RunResult` is what :func:`mcsgd.driver.run` returns; its file layout lives in
:mod:`mcsgd.storage.run` (:func:`write_result` / :func:`read_result` convert).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from mcsgd.stats import (
    MIN_BATCH_TAU,
    MIN_BATCHES,
    batch_means_tau,
    integrated_autocorr_time,
    standard_error,
)


@dataclasses.dataclass
class RunResult:
    """Output of :func:`run`.

    Attributes
    ----------
    time : int64[K]            recording times (sweeps)
    energy : float64[R, K]     energy density (per node)
    overlap : float64[R, K] or None
    acceptance : float64[R, K] accepted fraction of updates in the interval ending at time[k]
                               (NaN at k = 0)
    trace : float64[R, nb]     sums of the total energy over blocks of ``blk`` sweeps of the
                               measurement window (sweeps ``w0+1 .. sweeps``)
    final_state : int8[R, N]; final_rng : uint64[R, 4]
    params : dict              everything used (instance params, dynamics, sweeps, seeds, ...)
    timing : dict              ``prepare_s``, ``run_s``, ``updates``
    """

    time: np.ndarray
    energy: np.ndarray
    overlap: np.ndarray | None
    acceptance: np.ndarray
    trace: np.ndarray
    w0: int
    blk: int
    n: int
    final_state: np.ndarray
    final_rng: np.ndarray
    params: dict[str, Any]
    timing: dict[str, float]

    def __repr__(self) -> str:
        p = self.params
        dyn = p.get("dynamics", "?")
        val = f" T={p['T']:g}" if "T" in p else (f" B={p['B']:g}" if "B" in p else "")
        r, k = self.energy.shape
        e = float(self.energy[:, -1].mean()) if k else float("nan")
        ov = "" if self.overlap is None or not k else \
            f", overlap={float(self.overlap[:, -1].mean()):.4f}"
        return (f"RunResult({dyn}{val}, {p.get('problem', '?')} N={self.n}, replicas={r}, "
                f"sweeps={p.get('sweeps', '?')}, {k} times, final e={e:.6g}{ov})")

    def to_xarray(self):
        """The recorded observables as an ``xarray.Dataset`` (needs ``mcsgd[analysis]``).

        Variables ``energy``, ``acceptance`` and (planted instances) ``overlap``, each with
        dims ``("replica", "time")``; coords ``time`` (sweeps, int64) and ``replica``
        (0..R-1); ``attrs``: the run's ``params`` flattened to scalars (nested keys joined
        with ``.``, lists and None as JSON strings, so the Dataset writes to netCDF) plus
        ``n``, ``w0``, ``blk``.
        """
        import json

        from mcsgd.errors import require_extra

        xr = require_extra("xarray", "analysis", "RunResult.to_xarray()")
        dims = ("replica", "time")
        data = {"energy": (dims, self.energy), "acceptance": (dims, self.acceptance)}
        if self.overlap is not None:
            data["overlap"] = (dims, self.overlap)
        attrs: dict[str, Any] = {}

        def flat(prefix: str, d: dict[str, Any]) -> None:
            for k, v in d.items():
                name = f"{prefix}{k}"
                if isinstance(v, dict):
                    flat(name + ".", v)
                elif isinstance(v, (bool, np.bool_)):
                    attrs[name] = int(v)
                elif isinstance(v, (int, float, str, np.integer, np.floating)):
                    attrs[name] = v
                else:
                    attrs[name] = json.dumps(v.tolist() if isinstance(v, np.ndarray) else v)

        flat("", self.params)
        attrs.update(n=self.n, w0=self.w0, blk=self.blk)
        return xr.Dataset(data, coords={"time": self.time,
                                        "replica": np.arange(self.energy.shape[0])},
                          attrs=attrs)

    @property
    def window_len(self) -> int:
        """Number of sweeps in the measurement window."""
        return int(self.params["sweeps"]) - self.w0

    def stationary(self) -> dict[str, Any]:
        """Mean energy density over every sweep of the measurement window and its standard error.

        The error comes from the spread of the R replica means (R >= 2, ``err_dof`` = R - 1),
        or (R = 1) from batch means of the stored window trace with every batch spanning
        >= 10 tau_int (:func:`mcsgd.stats.batch_means_tau`; ``err_dof`` = batches - 1).
        ``tau_int`` (sweeps) is measured on the trace as stored, in blocks of ``blk`` sweeps
        (replicas averaged); ``window_too_short`` is True when the window holds fewer than
        10 batches of 10 tau_int (for R = 1 the error is then itself uncertain; for R >= 2 the
        error stays valid but the window average rests on few autocorrelation times). Also
        returns per-replica means, ``n_batches`` (R = 1) and the window.
        """
        wl = self.window_len
        if wl <= 0:
            nan = float("nan")
            return {"energy": nan, "energy_err": nan, "replica_means": [], "window": [0, 0],
                    "tau_int": nan, "window_too_short": True, "n_batches": 0, "err_dof": 0}
        per_rep = self.trace.sum(axis=1) / wl / self.n
        r = per_rep.shape[0]
        dens = self.trace_density()
        if r >= 2:
            err = float(standard_error(per_rep))
            tau_b = integrated_autocorr_time(dens) if dens.shape[1] >= 4 else math.nan
            nbat = (dens.shape[1] // math.ceil(MIN_BATCH_TAU * tau_b)
                    if np.isfinite(tau_b) else 0)
            too_short, dof = bool(nbat < MIN_BATCHES), r - 1
        else:
            bm = batch_means_tau(dens[0])
            err, tau_b, nbat, too_short = bm["err"], bm["tau_int"], bm["n_batches"], \
                bm["too_short"]
            dof = max(nbat - 1, 0)
        return {
            "energy": float(per_rep.mean()),
            "energy_err": err,
            "replica_means": per_rep,
            "window": [self.w0, int(self.params["sweeps"])],
            "tau_int": float(tau_b * self.blk),
            "window_too_short": too_short,
            "n_batches": int(nbat),
            "err_dof": int(dof),
        }

    def trace_density(self) -> np.ndarray:
        """Window energy density per block float64[R, nb] (block sums / block length / N)."""
        lens = np.full(self.trace.shape[1], self.blk, float)
        if lens.size:
            lens[-1] = self.window_len - self.blk * (self.trace.shape[1] - 1)
        return self.trace / lens[None, :] / self.n

    def summary(self) -> dict[str, Any]:
        """The JSON object of ``mcsgd run --json``."""
        st = self.stationary()
        return {
            "params": self.params,
            "time": self.time,
            "energy": self.energy.mean(axis=0),
            "overlap": None if self.overlap is None else self.overlap.mean(axis=0),
            "acceptance": self.acceptance.mean(axis=0),  # NaN (null) at time 0
            "stationary": {
                "energy": st["energy"],
                "energy_err": st["energy_err"],
                "window": st["window"],
                "tau_int": st["tau_int"],
                "window_too_short": st["window_too_short"],
                "err_dof": st["err_dof"],
                "overlap": None if self.overlap is None else float(self.overlap[:, -1].mean()),
            },
            "timing": self.timing,
        }

    def save(self, path) -> None:
        """Write the result to HDF5 atomically (layout in :mod:`mcsgd.storage.run`)."""
        from mcsgd.storage.h5 import atomic_h5, provenance, write_json_attr

        with atomic_h5(path, "run") as f:
            write_result(f, self)
            write_json_attr(f, "provenance", provenance())

    @classmethod
    def load(cls, path) -> RunResult:
        """Read a result written by :meth:`save`."""
        from mcsgd.storage.h5 import open_checked

        with open_checked(path, "run") as f:
            return read_result(f)


def write_result(g, res: RunResult) -> None:
    """Write a :class:`RunResult` into an open HDF5 group (:func:`mcsgd.storage.run.write_run`)."""
    from mcsgd.storage.run import write_run

    write_run(g, {f.name: getattr(res, f.name) for f in dataclasses.fields(res)})


def read_result(g) -> RunResult:
    """Read a :class:`RunResult` from an open HDF5 group (:func:`mcsgd.storage.run.read_run`)."""
    from mcsgd.storage.run import read_run

    return RunResult(**read_run(g))
