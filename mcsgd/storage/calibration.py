"""Layout of a calibration file (``mcsgd_kind = "calibration"``): ``mcsgd calibrate -o``,
``mcsgd reproduce tb-curve``, :meth:`mcsgd.experiments.calibrate.Calibration.save`::

    /                        attrs: mcsgd_kind, mcsgd_format, complete,
                                    params (JSON), provenance (JSON), timing (JSON),
                                    errors (JSON: n_instances, err_dof, disorder_err, err_kind,
                                    metropolis_energy_err_thermal; {} in older files)
    /table/<name>            float64[nB]: one entry per target (B): B, T0, T_adb, T_drift,
                             energy, energy_err, T_eq, T_eq_err, T_eq_para, T_eq_para_err,
                             T_neq, T_neq_err, T_neq_rescaled, T_neq_rescaled_err, time_scale,
                             time_scale_err, halves_t, halves_p, stationary, tau_int, init_t,
                             init_p, init_agree, the thermal-only errors *_err_thermal.
                             None is stored as NaN, booleans as 0/1 (:func:`read` restores them
                             for the keys in BOOL_KEYS and NONE_KEYS)
    /metropolis/T            float64[nT]  temperature grid
    /metropolis/energy       float64[nT]  stationary Metropolis energies
    /metropolis/energy_err   float64[nT]
    /relaxation/time         int64[nt]    recording times (sweeps)
    /relaxation/sgd          float64[nB, nt]  mean relaxation curves of SGD
    /relaxation/metropolis   float64[nT, nt]  mean relaxation curves of Metropolis
    /relaxation/sgd_err      float64[nB, nt]  standard errors of /relaxation/sgd (instance-
                                              clustered like the *_err columns: the standard
                                              error of the instance means; one instance: of
                                              its replicas); absent in older files (read: None)
    /relaxation/metropolis_err  float64[nT, nt]  the same for /relaxation/metropolis

Several calibrations in one file (``mcsgd calibrate --c 8,12 -o``, :func:`write_set`, one per
c in the order given; a single c always gets the layout above)::

    /                        attrs: mcsgd_kind = "calibration", mcsgd_format, complete,
                                    provenance (JSON), c (JSON: the list of c, one per group)
    /calibrations/<k>        k = 0, 1, ...: attrs params, timing, errors and the groups
                             table/, metropolis/, relaxation/ exactly as above

:func:`read_all` reads either form as a list; :func:`read` reads the single form only.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from mcsgd.errors import FileFormatError
from mcsgd.storage.h5 import atomic_h5, open_checked, provenance, read_json_attr, write_json_attr

KIND = "calibration"
BOOL_KEYS = ("stationary", "init_agree")
NONE_KEYS = ("B", "T", "T0", "T_adb", "T_drift", "init_t", "init_p")


def write(path: str | os.PathLike, *, params: dict[str, Any], table: dict[str, list],
          T_grid: np.ndarray, e_mc: np.ndarray, e_mc_err: np.ndarray, times: np.ndarray,
          curves_sgd: np.ndarray, curves_mc: np.ndarray, timing: dict[str, float],
          errors: dict[str, Any], curves_sgd_err: np.ndarray | None = None,
          curves_mc_err: np.ndarray | None = None) -> None:
    """Write a calibration to ``path`` atomically (layout in the module docstring)."""
    with atomic_h5(path, KIND) as f:
        write_body(f, params=params, table=table, T_grid=T_grid, e_mc=e_mc, e_mc_err=e_mc_err,
                   times=times, curves_sgd=curves_sgd, curves_mc=curves_mc, timing=timing,
                   errors=errors, curves_sgd_err=curves_sgd_err, curves_mc_err=curves_mc_err)


def write_set(path: str | os.PathLike, cals: list[dict[str, Any]]) -> None:
    """Write several calibrations (each a dict of :func:`write`'s keyword arguments) to one
    file atomically: ``/calibrations/<k>`` (layout in the module docstring)."""
    with atomic_h5(path, KIND) as f:
        write_json_attr(f, "provenance", provenance())
        write_json_attr(f, "c", [cal["params"]["problem"]["c"] for cal in cals])
        for k, cal in enumerate(cals):
            write_body(f.create_group(f"calibrations/{k}"), **cal, stamp=False)


def write_body(f: Any, *, params: dict[str, Any], table: dict[str, list], T_grid: np.ndarray,
               e_mc: np.ndarray, e_mc_err: np.ndarray, times: np.ndarray,
               curves_sgd: np.ndarray, curves_mc: np.ndarray, timing: dict[str, float],
               errors: dict[str, Any], stamp: bool = True,
               curves_sgd_err: np.ndarray | None = None,
               curves_mc_err: np.ndarray | None = None) -> None:
    """Write the attributes and datasets of the layout into an open file or group ``f`` (whose
    kind is stamped by its writer; a scan's calibration task adds its task attributes);
    ``stamp``: also its provenance (a group of :func:`write_set` has the file's). The curve
    errors are written when given (None: left out, as in older files)."""
    write_json_attr(f, "params", params)
    if stamp:
        write_json_attr(f, "provenance", provenance())
    write_json_attr(f, "timing", timing)
    write_json_attr(f, "errors", errors)
    g = f.create_group("table")
    for k, v in table.items():  # None -> NaN; booleans -> 0/1 (restored by read)
        g.create_dataset(k, data=np.array([np.nan if x is None else x for x in v],
                                          dtype=float))
    f["metropolis/T"] = T_grid
    f["metropolis/energy"] = e_mc
    f["metropolis/energy_err"] = e_mc_err
    f["relaxation/time"] = times
    f["relaxation/sgd"] = curves_sgd
    f["relaxation/metropolis"] = curves_mc
    if curves_sgd_err is not None:
        f["relaxation/sgd_err"] = curves_sgd_err
    if curves_mc_err is not None:
        f["relaxation/metropolis_err"] = curves_mc_err


def read(path: str | os.PathLike) -> dict[str, Any]:
    """Read a calibration file: a dict with the keyword arguments of :func:`write`."""
    with open_checked(path, KIND) as f:
        if "calibrations" in f:
            raise FileFormatError(
                f"file {str(path)!r} holds {len(f['calibrations'])} calibrations (c = "
                f"{', '.join(f'{x:g}' for x in read_json_attr(f, 'c', []))}); read it with "
                "mcsgd.experiments.calibrate.load_all")
        return _read_from(f)


def read_all(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Every calibration of a file (single or several, module docstring) as a list of dicts
    with the keyword arguments of :func:`write`."""
    with open_checked(path, KIND) as f:
        if "calibrations" not in f:
            return [_read_from(f)]
        g = f["calibrations"]
        return [_read_from(g[str(k)]) for k in range(len(g))]


def _read_from(f) -> dict[str, Any]:
    return {
        "params": read_json_attr(f, "params", {}),
        "table": {k: _from_stored(k, f["table"][k][...]) for k in f["table"]},
        "T_grid": f["metropolis/T"][...],
        "e_mc": f["metropolis/energy"][...],
        "e_mc_err": f["metropolis/energy_err"][...],
        "times": f["relaxation/time"][...],
        "curves_sgd": f["relaxation/sgd"][...],
        "curves_mc": f["relaxation/metropolis"][...],
        "timing": read_json_attr(f, "timing", {}),
        "errors": read_json_attr(f, "errors", {}),
        "curves_sgd_err": f["relaxation/sgd_err"][...] if "relaxation/sgd_err" in f else None,
        "curves_mc_err": (f["relaxation/metropolis_err"][...]
                          if "relaxation/metropolis_err" in f else None),
    }


def _from_stored(key: str, arr: np.ndarray) -> list:
    """Undo the float storage of :func:`write` (NaN -> None, 0/1 -> bool)."""
    out: list = []
    for x in arr.tolist():
        if x != x and (key in BOOL_KEYS or key in NONE_KEYS):
            out.append(None)
        elif key in BOOL_KEYS:
            out.append(bool(x))
        else:
            out.append(x)
    return out
