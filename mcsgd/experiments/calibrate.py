"""Calibration of the effective temperature T(B) of SGD-like dynamics against Metropolis.

Equilibrium (SPEC §4)
    Stationary energy densities e_SGD(B) (every sweep of the measurement window) and the
    Metropolis curve e_MC(T) on a T grid, *on the same instances*. T_eq(B) solves
    e_MC(T) = e_SGD(B) by monotone (PCHIP) interpolation of the measured points; T_eq_para
    inverts the exact paramagnetic energy e_para instead (exact on tree-like graphs in the
    paramagnetic phase: the two must agree there).
Out of equilibrium
    Relaxation curves e(t) from random starts on a log time grid; T_neq(B) minimises
    D(T) = mean_t [e_SGD(t; B) - e_MC(t; T)]^2 over the grid times t >= 1, with e_MC(t; T)
    interpolated across the T grid; with rescaling, e_MC(lambda t; T) (log-time interpolation)
    and the factor lambda reported.
Errors
    Every estimate is built from the mean over instances of the replica means (SGD and
    Metropolis on the same instances). ``*_err`` is the instance-clustered jackknife: each
    instance in turn is left out of both the SGD and the Metropolis means, so the error contains
    the thermal and the instance-to-instance (disorder) spread, with instances - 1 degrees of
    freedom (``err_dof``). ``*_err_thermal`` is the error for the fixed instances (stratified
    jackknife leaving out one replica of one instance at a time; needs >= 2 replicas). Below 4
    instances a :class:`DisorderErrorWarning` is raised and ``disorder_err`` is false; with a
    single instance ``*_err`` is the thermal error (the disorder part is not estimated).
Diagnostics
    Two halves of the window agree (paired t-test over units), random and planted initial
    conditions agree (Welch t-test; planted instances); a diagnostic fails at p < 0.01. Also the
    integrated autocorrelation time of the window energy in sweeps (Sokal window).
T grid
    Chosen automatically around the ADB estimate T_adb(B): {0.92, 1, 1.08} T_adb(B) for every B,
    then refined with points at {0.97, 1.03} T_eq where an estimate is not bracketed by grid
    points within 10% on both sides (up to two rounds).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.optimize import brentq, minimize, minimize_scalar

from mcsgd.driver import LAYOUTS, RunResult, RunSpec, run_many
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.errors import (
    MIN_DISORDER_INSTANCES,
    DisorderErrorWarning,
    ParameterError,
    check_choice,
    check_range,
)
from mcsgd.progress import counter, stage
from mcsgd.seeds import CAL_GRID, CAL_PLANTED, CAL_TARGET, CALIBRATION
from mcsgd.stats import (
    ClusteredError,
    clustered_jackknife,
    curve_errors,
    halves_test,
    integrated_autocorr_time,
    mean_errors,
    welch_test,
)

MODES = ("equilibrium", "relaxation", "both")
P_THRESHOLD = 0.01  # diagnostics fail below this two-sided p-value
# the time-scale factor lambda counts as undetermined when its larger error (clustered or
# thermal) exceeds this fraction of its value, or when it or its error is not finite (the fit
# at its bound [1/8, 8] gives NaN)
SCALE_MAX_REL_ERR = 0.1
# the reasons a point can be flagged (docs/calibration.md, "Flags"), in the order they print
FLAGS = ("nonstationary", "init_disagree", "not_paramagnetic", "scale_unidentified")


# ---------------------------------------------------------------------------------------------
# estimators (pure functions on arrays; tested on synthetic data)
# ---------------------------------------------------------------------------------------------
def _monotone_curve(T: np.ndarray, e: np.ndarray) -> PchipInterpolator | None:
    order = np.argsort(T)
    T, e = T[order], e[order]
    if T.size < 2:
        return None
    return PchipInterpolator(T, e, extrapolate=False)


def invert_curve(T: np.ndarray, e_mc: np.ndarray, e_target: float) -> float:
    """Solve e_MC(T) = e_target on the PCHIP interpolant of the points (T, e_mc).

    Returns NaN when e_target is outside the measured range. When noise makes the points
    non-monotone, the root nearest to the middle of the bracketing interval is returned.
    """
    order = np.argsort(T)
    T, e = np.asarray(T, float)[order], np.asarray(e_mc, float)[order]
    f = _monotone_curve(T, e)
    if f is None:
        return math.nan
    d = e - e_target
    roots = []
    for k in range(T.size - 1):
        if d[k] == 0:
            roots.append(T[k])
        elif d[k] * d[k + 1] < 0:
            roots.append(brentq(lambda t: float(f(t)) - e_target, T[k], T[k + 1], xtol=1e-13))
    if d[-1] == 0:
        roots.append(T[-1])
    if not roots:
        return math.nan
    return float(roots[len(roots) // 2])




# the thermal-only (fixed-instance) error of each reported *_err column
THERMAL_KEYS = ("energy_err_thermal", "T_eq_err_thermal", "T_eq_para_err_thermal",
                "T_neq_err_thermal", "T_neq_rescaled_err_thermal", "time_scale_err_thermal")










def equilibrium_T(T_grid: np.ndarray, E_mc: np.ndarray, e_sgd: np.ndarray,
                  groups: np.ndarray | None = None, *, full: bool = False):
    """T_eq and its jackknife error.

    Parameters
    ----------
    T_grid : float64[nT]
    E_mc : float64[nT, U]   stationary energy density of Metropolis per unit and T
    e_sgd : float64[U]      stationary energy density of the target dynamics per unit
    groups : int[U], optional
        Instance of each unit (SGD and Metropolis unit u ran on the same instance). Default:
        every unit is independent.
    full : bool
        Return the :class:`ClusteredError` instead of ``(T_eq, err)``.

    Returns
    -------
    (T_eq, err) with the instance-clustered error, or a ClusteredError with ``full``.
    """
    def est(w):
        return invert_curve(T_grid, E_mc @ w, float(e_sgd @ w))

    r = clustered_jackknife(est, groups, e_sgd.shape[0])
    return r if full else (r.value, r.err)


def para_T(e_sgd: np.ndarray, inverse: Callable[[float], float],
           groups: np.ndarray | None = None, *, full: bool = False):
    """T from an exact energy-temperature relation (e.g. e_para) with a jackknife error
    (instance-clustered with ``groups``; see :func:`equilibrium_T` for ``full``)."""
    r = clustered_jackknife(lambda w: float(inverse(float(e_sgd @ w))), groups, e_sgd.shape[0])
    return r if full else (r.value, r.err)




def _relax_distance(times, curves_mc, T_grid, target, T, lam=1.0, interp=None):
    """mean_t [target(t) - e_MC(lam t; T)]^2 with e_MC interpolated in T (PCHIP) and log t.

    ``interp``: the PCHIP interpolant of ``curves_mc`` over the sorted ``T_grid`` (from
    :func:`_curve_interp`), built once per fit instead of once per call (the same
    coefficients, so the same values: a fit evaluates this 10^2-10^3 times)."""
    if interp is None:
        interp = _curve_interp(T_grid, curves_mc)
    if T < interp.x[0] or T > interp.x[-1]:
        return math.inf
    at_T = interp(T)  # [nt]
    if lam != 1.0:
        lt = np.log(times)
        at_T = np.interp(lt + math.log(lam), lt, at_T)
    return float(np.mean((target - at_T) ** 2))


def _curve_interp(T_grid, curves_mc) -> PchipInterpolator:
    """PCHIP interpolant in T of the Metropolis curves (rows of ``curves_mc``, any T order)."""
    order = np.argsort(T_grid)
    return PchipInterpolator(T_grid[order], curves_mc[order], axis=0)


def relaxation_T(
    times: np.ndarray,
    T_grid: np.ndarray,
    C_mc: np.ndarray,
    c_sgd: np.ndarray,
    rescale: bool = False,
    groups: np.ndarray | None = None,
) -> dict[str, float]:
    """T_neq (and the time-rescaling factor) with jackknife errors.

    Parameters
    ----------
    times : int64[nt]            recording times (only t >= 1 are used)
    T_grid : float64[nT]
    C_mc : float64[nT, U, nt]    Metropolis relaxation curves per unit
    c_sgd : float64[U, nt]       target relaxation curves per unit
    rescale : bool               also fit lambda in e_MC(lambda t; T), lambda in [1/8, 8]
    groups : int[U], optional    instance of each unit (default: units independent)

    Returns
    -------
    dict with ``T``, ``T_err`` (instance-clustered, see :func:`clustered_jackknife`),
    ``T_err_thermal``, ``n_instances``, ``err_dof`` and, with ``rescale``, ``scale``,
    ``scale_err``, ``scale_err_thermal``.
    """
    keep = np.asarray(times) >= 1
    t = np.asarray(times, float)[keep]
    C = C_mc[:, :, keep]
    c = c_sgd[:, keep]
    Tg = np.asarray(T_grid, float)
    lo, hi = Tg.min(), Tg.max()

    cache: dict[bytes, tuple[float, float]] = {}

    def fit(w):
        key = w.tobytes()
        if key not in cache:
            cache[key] = _fit(w)
        return cache[key]

    def _fit(w):
        target = w @ c
        curves = np.tensordot(C, w, axes=([1], [0]))  # [nT, nt]
        ip = _curve_interp(Tg, curves)
        # coarse scan then bounded refinement (D(T) can have shallow side minima)
        scan = np.linspace(lo, hi, 41)
        dv = [_relax_distance(t, curves, Tg, target, x, interp=ip) for x in scan]
        k = int(np.argmin(dv))
        a, b = scan[max(k - 1, 0)], scan[min(k + 1, len(scan) - 1)]
        r = minimize_scalar(lambda x: _relax_distance(t, curves, Tg, target, x, interp=ip),
                            bounds=(a, b), method="bounded", options={"xatol": 1e-7})
        T1 = float(r.x)
        if not rescale:
            return T1, 1.0
        def obj(p):
            return _relax_distance(t, curves, Tg, target, p[0], math.exp(p[1]), interp=ip)

        best = min(
            (minimize(obj, x0=[T1, ll], method="Nelder-Mead",
                      options={"xatol": 1e-7, "fatol": 1e-14, "maxiter": 2000})
             for ll in (-0.5, 0.0, 0.5)),
            key=lambda r: r.fun,
        )
        lam = math.exp(best.x[1])
        if not (1 / 8 <= lam <= 8):
            return math.nan, math.nan
        return float(best.x[0]), lam

    units = c.shape[0]
    rT = clustered_jackknife(lambda w: fit(w)[0], groups, units)
    out = {"T": rT.value, "T_err": rT.err, "T_err_thermal": rT.err_thermal,
           "n_instances": rT.n_instances, "err_dof": rT.err_dof}
    if rescale:
        rs = clustered_jackknife(lambda w: fit(w)[1], groups, units)
        out.update(scale=rs.value, scale_err=rs.err, scale_err_thermal=rs.err_thermal)
    return out






# ---------------------------------------------------------------------------------------------
# orchestration
# ---------------------------------------------------------------------------------------------
# graph ensembles of both problems (an unknown name is an error, never a default)
GRAPHS = ("er", "er-simple", "regular")


@dataclasses.dataclass
class Problem:
    """What to calibrate on: a generator and its parameters (instances differ by index k)."""

    problem: str = "coloring"
    n: int = 50_000
    q: int = 5
    c: float = 20.0
    graph: str = "er"
    planted: bool = True
    noise: float = 0.0
    shuffle: bool = False     # colouring: shuffle the balanced planted assignment

    def __post_init__(self) -> None:
        """Validate with the generators' own checks (the ones ``mcsgd generate`` applies)."""
        from mcsgd import problems
        check_choice("problem", self.problem, ("coloring", "ising"))
        check_range("n", self.n, 2, None, integer=True)
        check_range("c", self.c, 0, None)
        check_choice("graph", self.graph, GRAPHS)
        if self.problem == "coloring":
            check_range("q", self.q, 2, 127, integer=True)
            problems.check_coloring_params(self.n, self.q, self.c, self.graph, self.planted)
        else:
            self.q = 2
            if self.shuffle:
                raise ParameterError("shuffle applies to planted colourings only "
                                     "(problem = 'coloring'), not to 'ising'")
            problems.check_ising_params(self.n, self.c, self.graph, self.noise)

    def generate(self, seed: int, k: int = 0):
        """Instance ``k`` of (these parameters, ``seed``) (:mod:`mcsgd.seeds`): the same graph
        as ``mcsgd generate ... --seed seed --instance k``."""
        from mcsgd import problems
        if self.problem == "coloring":
            params = dict(n=self.n, q=self.q, c=self.c, planted=self.planted, graph=self.graph,
                          shuffle=self.shuffle)
        else:
            params = dict(n=self.n, d=self.c, graph=self.graph, planted=self.planted,
                          noise=self.noise)
        return problems.from_params({"problem": self.problem, **params}, seed, k)

    @property
    def degree_law(self) -> str:
        return "regular" if self.graph == "regular" else "poisson"

    def theory(self) -> dict[str, Callable]:
        """T0, T_adb, T_drift and e_para inverse for this problem."""
        from mcsgd import theory as th

        if self.problem == "coloring":
            return {
                "T0": lambda B: float(th.T0(B)),
                "T_adb": lambda B: float(th.T_adb(B, self.c, self.q, self.degree_law, "flux")),
                "T_drift": lambda B: float(th.T_adb(B, self.c, self.q, self.degree_law,
                                                    "drift")),
                "T_para": lambda e: float(th.T_from_e_para_coloring(e, self.c, self.q)),
                "e_para": lambda T: float(th.e_para_coloring(T, self.c, self.q)),
            }
        return {
            "T0": lambda B: float(th.T0(B, energy_scale=2.0)),
            "T_adb": lambda B: float(th.T_adb_ising(B, self.c, self.degree_law, "flux")),
            "T_drift": lambda B: float(th.T_adb_ising(B, self.c, self.degree_law, "drift")),
            "T_para": lambda e: float(th.T_from_e_para_ising(e, self.c)),
            "e_para": lambda T: float(th.e_para_ising(T, self.c)),
        }


@dataclasses.dataclass
class Calibration:
    """Result of :func:`calibrate`: per-target lists, the Metropolis grid, raw curves."""

    params: dict[str, Any]
    table: dict[str, list]            # keyed by name, one entry per target (B)
    T_grid: np.ndarray                # float64[nT]
    e_mc: np.ndarray                  # float64[nT]   stationary Metropolis energies
    e_mc_err: np.ndarray
    times: np.ndarray                 # int64[nt]
    curves_sgd: np.ndarray            # float64[nB, nt] mean relaxation curves
    curves_mc: np.ndarray             # float64[nT, nt]
    timing: dict[str, float]
    # error metadata: n_instances, err_dof, disorder_err, err_kind,
    # metropolis_energy_err_thermal (empty for files written before it existed)
    errors: dict[str, Any] = dataclasses.field(default_factory=dict)
    # standard errors of curves_sgd / curves_mc (instance-clustered like *_err; None for files
    # written before they existed)
    curves_sgd_err: np.ndarray | None = None   # float64[nB, nt]
    curves_mc_err: np.ndarray | None = None    # float64[nT, nt]

    def __post_init__(self) -> None:
        # flags are derived from the other columns (never stored: files of every version get
        # them on load); table["flags"] holds one list of reason names per row
        if "flags" not in self.table:
            self.table["flags"] = point_flags(self.table, self.params.get("mode", "both"),
                                              _err_dof(self.params, self.errors))

    def __repr__(self) -> str:
        pr = self.params.get("problem", {})
        kind = pr.get("problem", "?")
        Bs = ", ".join(f"{b:g}" for b in self.table.get("B", []) if b is not None)
        return (f"Calibration({kind} c={pr.get('c', '?')} N={pr.get('n', '?')}, B=[{Bs}], "
                f"{len(self.T_grid)} Metropolis temperatures, "
                f"{self.errors.get('n_instances', self.params.get('instances', '?'))} instances"
                f" x {self.params.get('replicas', '?')} replicas, "
                f"sweeps={self.params.get('sweeps', '?')})")

    def to_dataframe(self):
        """The table as a ``pandas.DataFrame`` (needs ``mcsgd[analysis]``): one row per (c, B)
        target, columns ``c``, then every key of :attr:`table` (``B``, ``T0``, ``T_adb``,
        ``T_drift``, ``T_eq``, ``T_eq_err``, ..., ``stationary``, ``init_agree``; None as NaN),
        then the ratios ``T_eq_over_T_adb`` and ``T_eq_over_T0`` of the printed table. Several
        calibrations: ``pandas.concat([c.to_dataframe() for c in cals])``."""
        from mcsgd.errors import require_extra

        pd = require_extra("pandas", "analysis", "Calibration.to_dataframe()")
        nB = len(self.table.get("B", []))
        cols: dict[str, Any] = {"c": [float(self.params["problem"]["c"])] * nB}
        for k, v in self.table.items():
            v = list(v)
            if all(x is None or (isinstance(x, (int, float, np.number))
                                 and not isinstance(x, (bool, np.bool_))) for x in v):
                v = [np.nan if x is None else float(x) for x in v]
            cols[k] = v
        df = pd.DataFrame(cols)
        if {"T_eq", "T_adb", "T0"} <= set(df.columns):
            with np.errstate(divide="ignore", invalid="ignore"):
                df["T_eq_over_T_adb"] = df["T_eq"] / df["T_adb"].replace(0, np.nan)
                df["T_eq_over_T0"] = df["T_eq"] / df["T0"].replace(0, np.nan)
        return df

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: lists keyed by name, ``params``, the Metropolis grid and the
        error metadata (``n_instances``, ``err_dof``, ``disorder_err``, ``err_kind``)."""
        out = {"params": self.params, **self.table}
        out["metropolis"] = {"T": self.T_grid, "energy": self.e_mc, "energy_err": self.e_mc_err}
        if "metropolis_energy_err_thermal" in self.errors:
            out["metropolis"]["energy_err_thermal"] = self.errors["metropolis_energy_err_thermal"]
        out.update({k: v for k, v in self.errors.items()
                    if k != "metropolis_energy_err_thermal"})
        out["timing"] = self.timing
        return out

    def save(self, path) -> None:
        """Write to HDF5 atomically (``mcsgd_kind = "calibration"``; layout:
        :mod:`mcsgd.storage.calibration`)."""
        from mcsgd.storage import calibration as layout

        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields["table"] = {k: v for k, v in self.table.items() if k != "flags"}  # derived
        layout.write(path, **fields)

    @classmethod
    def load(cls, path) -> Calibration:
        """Read a file written by :meth:`save` (a multi-c file: :func:`load_all`)."""
        from mcsgd.storage import calibration as layout

        return cls(**layout.read(path))


def _num(x: Any) -> float:
    """A table entry as a float (None -> NaN)."""
    return math.nan if x is None else float(x)


def _err_dof(params: dict[str, Any], errors: dict[str, Any]) -> int:
    """Degrees of freedom of the ``*_err`` columns (older files: instances - 1)."""
    if "err_dof" in errors:
        return int(errors["err_dof"])
    return max(int(params.get("instances", 1)) - 1, 0)


def scale_determined(scale: Any, err: Any, err_thermal: Any = None) -> bool:
    """Whether the time-scale factor lambda is determined: it and its error are finite and the
    larger of its errors (instance-clustered, thermal) is at most ``SCALE_MAX_REL_ERR`` of it."""
    lam, e, eth = _num(scale), _num(err), _num(err_thermal)
    if not (math.isfinite(lam) and math.isfinite(e) and lam > 0):
        return False
    sigma = max(e, eth) if math.isfinite(eth) else e
    return sigma <= SCALE_MAX_REL_ERR * lam


def para_p_value(table: dict[str, list], j: int, err_dof: int) -> float:
    """Two-sided p-value of T_eq_para - T_eq = 0 at row ``j``: z = difference /
    sqrt(T_eq_err^2 + T_eq_para_err^2) against Student-t with ``err_dof`` degrees of freedom
    (normal when err_dof = 0); NaN where either is undetermined or its column is absent (a
    partial table, e.g. built by hand)."""
    from scipy.stats import norm
    from scipy.stats import t as student_t

    def col(k: str) -> float:
        return _num(table[k][j]) if k in table else math.nan

    a, b = col("T_eq"), col("T_eq_para")
    sa, sb = col("T_eq_err"), col("T_eq_para_err")
    s = math.hypot(sa, sb)
    if not all(math.isfinite(x) for x in (a, b, s)) or s <= 0:
        return math.nan
    z = abs(b - a) / s
    return float(2 * (student_t.sf(z, err_dof) if err_dof >= 1 else norm.sf(z)))


def point_flags(table: dict[str, list], mode: str = "both", err_dof: int = 1) -> list[list[str]]:
    """The ``flags`` column: for each row the names (:data:`FLAGS`) of the checks it fails.

    ``nonstationary``: ``stationary`` is false (halves test p < 0.01, or no p-value);
    ``init_disagree``: ``init_agree`` is false (random vs planted starts, p < 0.01);
    ``not_paramagnetic``: T_eq and T_eq_para differ at p < 0.01 (:func:`para_p_value`;
    equilibrium modes); ``scale_unidentified``: lambda is undetermined
    (:func:`scale_determined`; relaxation modes). A check whose columns a (partial, hand-made)
    table lacks is not evaluated.
    """
    n = len(table["B"])
    none = [None] * n
    out: list[list[str]] = []
    for j in range(n):
        f = []
        st = table.get("stationary", none)[j]
        if st is not None and not st:
            f.append("nonstationary")
        ia = table.get("init_agree", none)[j]
        if ia is not None and not ia:
            f.append("init_disagree")
        if mode != "relaxation":
            p = para_p_value(table, j, err_dof)
            if math.isfinite(p) and p < P_THRESHOLD:
                f.append("not_paramagnetic")
        if mode != "equilibrium" and "time_scale" in table and not scale_determined(
                table["time_scale"][j], table.get("time_scale_err", none)[j],
                table.get("time_scale_err_thermal", none)[j]):
            f.append("scale_unidentified")
        out.append(f)
    return out


def flag_warnings(cals: Sequence[Calibration]) -> list[str]:
    """One line per flagged point: ``c = 20, B = 0.9: nonstationary (halves p = 0.001), ...``
    (what ``calibrate`` and ``reproduce tb-curve`` print on stderr at the end)."""
    lines = []
    for cal in cals:
        t = cal.table
        c = cal.params["problem"]["c"]
        dof = _err_dof(cal.params, cal.errors)
        for j, flags in enumerate(t["flags"]):
            if not flags:
                continue
            why = []
            for name in flags:
                if name == "nonstationary":
                    why.append(f"nonstationary (halves p = {_num(t['halves_p'][j]):.2g})")
                elif name == "init_disagree":
                    why.append(f"init_disagree (random vs planted p = "
                               f"{_num(t['init_p'][j]):.2g})")
                elif name == "not_paramagnetic":
                    d = _num(t["T_eq_para"][j]) - _num(t["T_eq"][j])
                    why.append(f"not_paramagnetic (T_eq_para - T_eq = {d:+.4g}, "
                               f"p = {para_p_value(t, j, dof):.2g})")
                elif name == "scale_unidentified":
                    th = t.get("time_scale_err_thermal")
                    errs = [_num(t["time_scale_err"][j]), _num(th[j] if th else None)]
                    errs = [e for e in errs if math.isfinite(e)]
                    why.append(f"scale_unidentified (lambda = {_num(t['time_scale'][j]):.3g}"
                               f" +- {max(errs) if errs else math.nan:.2g})")
                else:
                    why.append(name)
            tgt = (f"B = {t['B'][j]:g}" if t["B"][j] is not None
                   else f"T = {_num(t['T'][j]):g}")
            lines.append(f"c = {c:g}, {tgt}: {', '.join(why)}")
    return lines


def _unit_stats(results: Sequence[RunResult]) -> dict[str, np.ndarray]:
    """Per-unit (instance, replica) stationary means, curves and window traces."""
    means = np.concatenate([r.stationary()["replica_means"] for r in results])
    curves = np.concatenate([r.energy for r in results])
    traces = np.concatenate([r.trace_density() for r in results])
    blk = results[0].blk
    return {"means": means, "curves": curves, "traces": traces, "blk": blk}


def _label(dyn: SGD | Metropolis) -> str:
    """``SGD B = 0.5`` / ``Metropolis T = 0.8``: a target in a progress line."""
    return f"SGD B = {dyn.B:g}" if isinstance(dyn, SGD) else f"Metropolis T = {dyn.T:g}"


def calibrate(
    prob: Problem,
    targets: Sequence[SGD | Metropolis],
    *,
    instances: int = 2,
    replicas: int = 4,
    sweeps: int = 1000,
    seed: int = 1,
    mode: str = "both",
    T_grid: Sequence[float] | None = None,
    refine: int = 2,
    window: float = 0.5,
    grid_points: int = 30,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    key: tuple[int, ...] = (CALIBRATION,),
    layout: str = "auto",
) -> Calibration:
    """Measure the effective temperature of each target dynamics against Metropolis.

    Parameters
    ----------
    prob : Problem
        Problem family; instance k is ``prob.generate(seed, k)`` (instance k of the problem
        parameters and ``seed``, :mod:`mcsgd.seeds`); every dynamics runs on the same
        instances. Run streams: task keys ``(*key, k, role, j)`` (:mod:`mcsgd.seeds`).
    targets : sequence of SGD (or Metropolis, for closed-loop checks)
    instances, replicas, sweeps : int
        K instances x R replicas; each run lasts ``sweeps`` sweeps from a random start
        (planted starts are added for the initial-condition check in equilibrium modes).
    mode : {"equilibrium", "relaxation", "both"}
    T_grid : sequence of float, optional
        Metropolis temperatures (default: automatic around T_adb, refined where needed).
    window : float
        Final fraction of each run averaged for stationary values.
    key : tuple of int
        Origin of the run streams: ``(CALIBRATION,)`` for ``mcsgd calibrate`` and
        ``reproduce``, a scan task's key ``(SCAN, h1, h2)`` for a calibration in a scan.
    layout : {"auto", "scalar", "lanes"}
        How the runs of one instance advance (:func:`mcsgd.driver.run_many`): together in
        lanes, or one after the other; the numbers are identical either way.

    Returns
    -------
    Calibration
    """
    check_choice("mode", mode, MODES)
    check_range("instances", instances, 1, None, integer=True)
    check_range("replicas", replicas, 1, None, integer=True)
    check_range("sweeps", sweeps, 4, None, integer=True)
    check_range("seed", seed, 0, None, integer=True)
    if instances * replicas < 2:
        raise ParameterError("instances x replicas must be >= 2 (error bars need two units)")
    if not targets:
        raise ParameterError("B: at least one mini-batch fraction is needed")
    t_start = time.perf_counter()
    say = progress or (lambda msg: None)
    th = prob.theory()
    insts = [prob.generate(seed, k) for k in range(instances)]
    run_kw = dict(sweeps=sweeps, window=window, grid_points=grid_points,
                  threads=threads)

    tick = counter(progress)

    def run_batch(jobs):
        """Run every job ``(dynamics, tag, init)`` on every instance; the runs of one
        instance advance together (:func:`mcsgd.driver.run_many`: lanes where they pay,
        each run bit-identical to a solo run). Returns ``[(unit stats, times)]`` per job."""
        per_inst = []
        chains = len(jobs) * replicas * sweeps
        for k, inst in enumerate(insts):
            hook = None if tick is None else (
                lambda d, t, k=k: tick(k * chains + d, instances * chains))
            specs = [RunSpec(dyn, replicas, seed, (*key, k, *tag), init)
                     for dyn, tag, init in jobs]
            res = run_many(inst, specs, progress=hook, layout=layout, **run_kw)
            per_inst.append(res)
            if tick is not None:
                tm = res[0].timing
                progress.debug(f"instance {k + 1}/{len(insts)}: {len(jobs)} runs, "
                               f"{tm['ns_per_chain_update']:.1f} ns per chain-update "
                               f"({tm['layout']})")
        return [(_unit_stats([per_inst[k][j] for k in range(instances)]), per_inst[0][j].time)
                for j in range(len(jobs))]

    # target runs (random starts, and planted starts for the initial-condition check)
    planted_too = mode != "relaxation" and prob.planted
    jobs = [(dyn, (CAL_TARGET, j), "random") for j, dyn in enumerate(targets)]
    if planted_too:
        jobs += [(dyn, (CAL_PLANTED, j), "planted") for j, dyn in enumerate(targets)]
    names = (f"SGD B = {', '.join(f'{d.B:g}' for d in targets)}"
             if all(isinstance(d, SGD) for d in targets)
             else ", ".join(_label(d) for d in targets))
    stage(say, f"targets: {names}"
          + (" from random and planted starts" if planted_too else ""),
          instances * len(jobs) * replicas * sweeps)
    out = run_batch(jobs)
    sgd_stats = [st for st, _ in out[:len(targets)]]
    times = out[0][1]
    planted_stats: list[dict | None] = [None] * len(targets)
    if planted_too:
        planted_stats = [st for st, _ in out[len(targets):]]

    # theory guesses and the T grid
    def guess(dyn):
        if isinstance(dyn, Metropolis):
            return dyn.T
        g = th["T_adb"](dyn.B)
        return g if np.isfinite(g) and g > 0 else max(th["T0"](dyn.B), 1e-3) * 1.3

    mc: dict[float, dict] = {}

    def ensure(Ts):
        new: list[float] = []
        for T in sorted(set(round(float(x), 6) for x in Ts)):
            if T <= 0 or T in mc or any(abs(T - t) < 0.005 * T for t in [*mc, *new]):
                continue
            new.append(T)
        if not new:
            return
        stage(say, f"Metropolis grid: {len(new)} temperature(s) from T = {min(new):.4f} to "
              f"{max(new):.4f} (grid points {len(mc) + 1}-{len(mc) + len(new)})",
              instances * len(new) * replicas * sweeps)
        jobs = []
        for T in new:
            tw = int(round(T * 1e6))  # two 32-bit words: any T gets its own stream
            jobs.append((Metropolis(T), (CAL_GRID, tw >> 32, tw & 0xFFFFFFFF), "random"))
        for T, (st, _) in zip(new, run_batch(jobs), strict=True):
            mc[T] = st

    if T_grid is not None:
        ensure(T_grid)
    else:
        ensure([f * guess(d) for d in targets for f in (0.92, 1.0, 1.08)])

    def grid_arrays():
        Ts = np.array(sorted(mc))
        return Ts, np.stack([mc[T]["means"] for T in Ts]), np.stack([mc[T]["curves"] for T in Ts])

    for _round in range(refine if T_grid is None else 0):
        Ts, E, _ = grid_arrays()
        extra = []
        for st in sgd_stats:
            Tq = invert_curve(Ts, E.mean(1), st["means"].mean())
            if not np.isfinite(Tq):
                # outside the measured range: extend the grid in the right direction
                e_t = st["means"].mean()
                if e_t < E.mean(1).min():
                    extra += [Ts.min() * 0.85, Ts.min() * 0.92]
                else:
                    extra += [Ts.max() * 1.08, Ts.max() * 1.16]
                continue
            below = Ts[Ts < Tq]
            above = Ts[Ts > Tq]
            if below.size == 0 or above.size == 0 or Tq - below.max() > 0.1 * Tq \
                    or above.min() - Tq > 0.1 * Tq:
                extra += [0.97 * Tq, 1.03 * Tq]
        if not extra:
            break
        ensure(extra)

    Ts, E_mc, C_mc = grid_arrays()
    # unit u = (instance u // replicas, replica u % replicas), in run_all's order
    groups = np.repeat(np.arange(instances), replicas)
    if instances < MIN_DISORDER_INSTANCES:
        warnings.warn(
            f"instances = {instances} < {MIN_DISORDER_INSTANCES}: the instance-to-instance part "
            + ("of the error is not estimated (*_err are thermal-only errors for this one "
               "instance)" if instances < 2 else
               f"of the error rests on {instances - 1} degree(s) of freedom (*_err are "
               "delete-one-instance jackknife errors; use Student-t quantiles)"),
            DisorderErrorWarning, stacklevel=2)
    table: dict[str, list] = {k: [] for k in (
        "B", "T", "T0", "T_adb", "T_drift", "energy", "energy_err",
        "T_eq", "T_eq_err", "T_eq_para", "T_eq_para_err",
        "T_neq", "T_neq_err", "T_neq_rescaled", "T_neq_rescaled_err", "time_scale",
        "time_scale_err", "halves_t", "halves_p", "stationary", "tau_int", "init_t", "init_p",
        "init_agree", *THERMAL_KEYS,
    )}
    nan = math.nan
    for dyn, st, pst in zip(targets, sgd_stats, planted_stats, strict=True):
        e = st["means"]
        is_sgd = isinstance(dyn, SGD)
        table["B"].append(dyn.B if is_sgd else None)
        table["T"].append(None if is_sgd else dyn.T)
        table["T0"].append(th["T0"](dyn.B) if is_sgd else None)
        table["T_adb"].append(th["T_adb"](dyn.B) if is_sgd else None)
        table["T_drift"].append(th["T_drift"](dyn.B) if is_sgd else None)
        en = mean_errors(e, groups)
        table["energy"].append(en.value)
        table["energy_err"].append(en.err)
        table["energy_err_thermal"].append(en.err_thermal)
        if mode != "relaxation":
            rq = equilibrium_T(Ts, E_mc, e, groups, full=True)
            rp = para_T(e, th["T_para"], groups, full=True)
        else:
            rq = rp = ClusteredError(nan, nan, nan, nan, instances, max(instances - 1, 0))
        for name, r in (("T_eq", rq), ("T_eq_para", rp)):
            table[name].append(r.value)
            table[name + "_err"].append(r.err)
            table[name + "_err_thermal"].append(r.err_thermal)
        if mode != "equilibrium":
            r0 = relaxation_T(times, Ts, C_mc, st["curves"], groups=groups)
            r1 = relaxation_T(times, Ts, C_mc, st["curves"], rescale=True, groups=groups)
        else:
            r0 = {"T": nan, "T_err": nan, "T_err_thermal": nan}
            r1 = {"T": nan, "T_err": nan, "T_err_thermal": nan, "scale": nan, "scale_err": nan,
                  "scale_err_thermal": nan}
        for name, r, k in (("T_neq", r0, "T"), ("T_neq_rescaled", r1, "T"),
                           ("time_scale", r1, "scale")):
            table[name].append(r[k])
            table[name + "_err"].append(r[k + "_err"])
            table[name + "_err_thermal"].append(r[k + "_err_thermal"])
        tt, pp = halves_test(st["traces"])
        table["halves_t"].append(tt)
        table["halves_p"].append(pp)
        table["stationary"].append(bool(np.isfinite(pp) and pp > P_THRESHOLD))
        table["tau_int"].append(integrated_autocorr_time(st["traces"]) * st["blk"])
        if pst is not None:
            ti, pi = welch_test(e, pst["means"])
            table["init_t"].append(ti)
            table["init_p"].append(pi)
            table["init_agree"].append(bool(np.isfinite(pi) and pi > P_THRESHOLD))
        else:
            table["init_t"].append(None)
            table["init_p"].append(None)
            table["init_agree"].append(None)
    params = {
        "problem": dataclasses.asdict(prob),
        "targets": [d.params() for d in targets],
        "instances": instances, "replicas": replicas, "sweeps": sweeps, "seed": seed,
        "mode": mode, "window": window, "grid_points": grid_points,
        "instance_seeds": [seed] * instances,  # instance k = (problem, seed, k)
        "instance_index": list(range(instances)),
        "T_grid": "auto" if T_grid is None else list(map(float, T_grid)),
    }
    mc_err = [mean_errors(row, groups) for row in E_mc]
    e_mc = np.array([r.value for r in mc_err])
    e_mc_err = np.array([r.err for r in mc_err])
    errors = {"n_instances": instances, "err_dof": max(instances - 1, 0),
              "disorder_err": instances >= MIN_DISORDER_INSTANCES,
              "err_kind": "instance-clustered jackknife" if instances >= 2 else "thermal only",
              "metropolis_energy_err_thermal": [r.err_thermal for r in mc_err]}
    return Calibration(
        params=params, table=table, T_grid=Ts, e_mc=e_mc, e_mc_err=e_mc_err, errors=errors,
        times=np.asarray(times), curves_sgd=np.stack([s["curves"].mean(0) for s in sgd_stats]),
        curves_mc=C_mc.mean(1), timing={"total_s": time.perf_counter() - t_start,
                                        "metropolis_points": int(len(Ts))},
        curves_sgd_err=np.stack([curve_errors(s["curves"], groups) for s in sgd_stats]),
        curves_mc_err=np.stack([curve_errors(c, groups) for c in C_mc]),
    )


def format_params(cals: Sequence[Calibration]) -> str:
    """One line naming what the table was computed with: N, q, c, ensemble, sweeps, window,
    instances x replicas, seed, mode and the mcsgd version (from the calibrations' params)."""
    from mcsgd import __version__

    p = cals[0].params
    pr = p["problem"]
    cs = ", ".join(f"{cal.params['problem']['c']:g}" for cal in cals)
    kind = pr.get("problem", "coloring")
    planted = "planted" if pr.get("planted", True) else "unplanted"
    q = f"q = {pr['q']}, " if kind == "coloring" else ""
    return (f"{kind}: N = {pr['n']}, {q}c = {cs}, ensemble = {pr['graph']} ({planted}), "
            f"sweeps = {p['sweeps']}, window = {p['window']:g} (final fraction), "
            f"instances x replicas = {p['instances']} x {p['replicas']}, seed = {p['seed']}, "
            f"mode = {p['mode']}, mcsgd {__version__}")


def format_table(cals: Sequence[Calibration], *, with_params: bool = False) -> str:
    """A Markdown table of every calibration (one row per (c, B)); ``with_params`` puts
    :func:`format_params` and a pointer to the column definitions above it.

    ``scale`` is lambda ± its error, "–" where undetermined (:func:`scale_determined`);
    ``flags`` lists the failed checks (:func:`point_flags`), "–" when none.
    """
    lines = [
        "| c | B | T0 | T_adb | T_drift | T_eq | T_eq_para | T_neq | T_neq (resc.) | scale "
        "| T_eq/T_adb | T_eq/T0 | stationary | init agree | flags |",
        "|" + "---|" * 15,
    ]
    if with_params:
        lines[:0] = [format_params(cals), "",
                     "Columns and flags: docs/calibration.md (\"Columns\", \"Flags\").", ""]

    def f(x, e=None, p=4):
        if x is None or x != x:
            return "–"
        return f"{x:.{p}f}" if e is None or e != e else f"{x:.{p}f} ± {e:.{p}f}"

    for cal in cals:
        t = cal.table
        c = cal.params["problem"]["c"]
        none = [None] * len(t["B"])
        for j in range(len(t["B"])):
            teq = t["T_eq"][j]
            ratio_adb = teq / t["T_adb"][j] if teq == teq and t["T_adb"][j] else float("nan")
            ratio_t0 = teq / t["T0"][j] if teq == teq and t["T0"][j] else float("nan")
            lam = (f(t["time_scale"][j], t["time_scale_err"][j], 3)
                   if scale_determined(t["time_scale"][j], t["time_scale_err"][j],
                                       t.get("time_scale_err_thermal", none)[j]) else "–")
            lines.append(
                f"| {c:g} | {t['B'][j]:g} | {f(t['T0'][j])} | {f(t['T_adb'][j])} | "
                f"{f(t['T_drift'][j])} | {f(teq, t['T_eq_err'][j])} | "
                f"{f(t['T_eq_para'][j], t['T_eq_para_err'][j])} | "
                f"{f(t['T_neq'][j], t['T_neq_err'][j])} | "
                f"{f(t['T_neq_rescaled'][j], t['T_neq_rescaled_err'][j])} | "
                f"{lam} | {f(ratio_adb, None, 3)} | "
                f"{f(ratio_t0, None, 3)} | {t['stationary'][j]} | {t['init_agree'][j]} | "
                f"{', '.join(t['flags'][j]) or '–'} |"
            )
    return "\n".join(lines)


def run_calibration(
    B: Sequence[float],
    *,
    problem: str = "coloring",
    n: int = 50000,
    q: int = 5,
    c: float | Sequence[float],
    graph: str | None = None,
    noise: float = 0.0,
    planted: bool = True,
    planting: str | None = None,
    shuffle: bool = False,
    instances: int = 2,
    replicas: int = 4,
    sweeps: int = 1000,
    seed: int = 1,
    mode: str = "both",
    T_grid: Sequence[float] | None = None,
    window: float = 0.5,
    threads: int | None = None,
    output: str | None = None,
    force: bool = False,
    plot: str | None = None,
    progress: Callable[[str], None] | None = None,
    layout: str = "auto",
) -> Calibration | list[Calibration]:
    """The ``mcsgd calibrate`` experiment: validate, check memory and outputs, run
    :func:`calibrate` for SGD at each ``B``, write ``output`` and draw ``plot`` (the T(B)
    figure).

    ``c`` is one degree, or a list of them: a one-element list is the same as the number
    (one :class:`Calibration`, today's file layout); with several values each c is
    calibrated in turn with the same ``seed`` (so each equals its own single-c run), one
    file holds them all (:func:`mcsgd.storage.calibration.write_set`), one figure shows them
    all, and the list of calibrations (in the order of ``c``) is returned.

    ``graph`` None is er for colouring, regular for Ising; ``planting`` ("index" or
    "shuffled") or the older ``shuffle`` choose the planted colouring
    (:func:`mcsgd.experiments.recover.shuffled_planting`). Every check runs before any work,
    so bad input leaves no file.
    """
    from mcsgd.experiments.recover import shuffled_planting
    from mcsgd.problems.coloring import expected_edges, graph_memory_bytes
    from mcsgd.resources import check_memory, run_memory_bytes
    from mcsgd.storage.paths import check_output

    check_range("n", n, 2, None, integer=True)
    graph = graph or ("er" if problem == "coloring" else "regular")
    cs = [c] if isinstance(c, (int, float)) else list(c)
    if not cs:
        raise ParameterError("--c needs at least one degree >= 0")
    if len(set(cs)) != len(cs):
        raise ParameterError(f"--c lists a degree twice: {', '.join(f'{x:g}' for x in cs)}")
    probs = [Problem(problem=problem, n=n, q=q, c=x, graph=graph, planted=planted,
                     noise=noise, shuffle=shuffled_planting(planting, shuffle)) for x in cs]
    if not B:
        raise ParameterError("--B needs at least one value in (0, 1]")
    targets = [SGD(b) for b in B]
    check_range("window", window, 0, 1, lo_open=True, hi_open=True)
    check_range("instances", instances, 1, None, integer=True)
    check_range("replicas", replicas, 1, None, integer=True)
    check_range("sweeps", sweeps, 4, None, integer=True)
    check_range("seed", seed, 0, None, integer=True)
    if threads is not None:
        check_range("threads", threads, 1, None, integer=True)
    check_choice("layout", layout, LAYOUTS)
    if T_grid is not None:
        if not T_grid:
            raise ParameterError("--T-grid needs at least one temperature > 0")
        for t in T_grid:
            check_range("T-grid", t, 0, None, lo_open=True)
    for prob in probs:  # one c at a time: the largest must fit
        m = expected_edges(prob.n, prob.c, prob.graph)
        check_memory(f"calibrate ({instances} instances of N = {prob.n}, M = {m}, "
                     f"{replicas} replicas)",
                     instances * graph_memory_bytes(prob.n, m)
                     + run_memory_bytes(prob.n, m, replicas, 40, True))
    check_output(output, option="-o", mcsgd_kind="calibration", force=force)
    check_output(plot, option="--plot", kind="plot")
    if plot:
        from mcsgd.plots import require_matplotlib

        require_matplotlib()
    cals = []
    for prob in probs:
        if len(probs) > 1 and progress:
            progress(f"c = {prob.c:g}: calibrating {len(targets)} batch sizes")
        cals.append(calibrate(prob, targets, instances=instances, replicas=replicas,
                              sweeps=sweeps, seed=seed, mode=mode, T_grid=T_grid,
                              window=window, threads=threads, progress=progress,
                              layout=layout))
    if output:
        if len(cals) == 1:
            cals[0].save(output)
        else:
            save_set(cals, output)
    if plot:
        from mcsgd.plots import plot_tb

        plot_tb(cals, plot)
    return cals[0] if len(cals) == 1 else cals


def save_set(cals: Sequence[Calibration], path) -> None:
    """Write several calibrations (e.g. one per c) to one file atomically (layout:
    :func:`mcsgd.storage.calibration.write_set`)."""
    from mcsgd.storage import calibration as layout

    sets = []
    for cal in cals:
        fields = {f.name: getattr(cal, f.name) for f in dataclasses.fields(cal)}
        fields["table"] = {k: v for k, v in cal.table.items() if k != "flags"}  # derived
        sets.append(fields)
    layout.write_set(path, sets)


def load_all(path) -> list[Calibration]:
    """Every calibration in a file: one for a single-c file, one per c for a multi-c file
    (:func:`save_set`), in the order they were written."""
    from mcsgd.storage import calibration as layout

    return [Calibration(**d) for d in layout.read_all(path)]


def parse_invert(text: str) -> float:
    """The temperature of ``--invert T=VALUE`` (ParameterError otherwise)."""
    key, sep, val = text.partition("=")
    if key.strip() != "T" or not sep:
        raise ParameterError(f"--invert takes T=VALUE (e.g. T=0.65), not {text!r}")
    try:
        T = float(val)
    except ValueError:
        raise ParameterError(f"--invert: {val!r} is not a number") from None
    check_range("invert T", T, 0, None, lo_open=True)
    return T


def _theory_B(prob: Problem, T: float) -> dict[str, Any]:
    """B with T_adb(B) = T for ``prob`` (ADB flux condition; a root of the decreasing curve on
    (0, 1], located on a grid and refined on a 400-point grid of its bracket)."""
    from mcsgd import theory as th

    def curve(B: np.ndarray) -> np.ndarray:
        if prob.problem == "coloring":
            return np.asarray(th.T_adb(B, prob.c, prob.q, prob.degree_law, "flux"), float)
        return np.asarray(th.T_adb_ising(B, prob.c, prob.degree_law, "flux"), float)

    Bg = np.concatenate([np.geomspace(1e-4, 0.5, 120, endpoint=False), np.linspace(0.5, 1, 201)])
    with np.errstate(divide="ignore", invalid="ignore"):
        Tg = curve(Bg)
    ok = np.isfinite(Tg)
    out: dict[str, Any] = {"B": None, "T_range": [float(Tg[ok].min()), float(Tg[ok].max())]
                           if ok.any() else [None, None]}
    k = next((i for i in range(len(Bg) - 1) if ok[i] and ok[i + 1]
              and (Tg[i] - T) * (Tg[i + 1] - T) <= 0), None)
    if k is None:
        return out
    Bf = np.linspace(Bg[k], Bg[k + 1], 400)
    with np.errstate(divide="ignore", invalid="ignore"):
        Tf = curve(Bf)
    j = next((i for i in range(len(Bf) - 1) if np.isfinite(Tf[i]) and np.isfinite(Tf[i + 1])
              and (Tf[i] - T) * (Tf[i + 1] - T) <= 0), None)
    if j is None:
        return out
    w = 0.0 if Tf[j + 1] == Tf[j] else (T - Tf[j]) / (Tf[j + 1] - Tf[j])
    out["B"] = float(Bf[j] + w * (Bf[j + 1] - Bf[j]))
    return out


def _interpolate_B(prob: Problem, T: float, b1: float, t1: float, s1: float | None,
                   b2: float, t2: float, s2: float | None) -> dict[str, Any]:
    """B in [b1, b2] where the interpolated T_eq(B) equals T, and its error.

    The ratio T_eq / T_adb (close to 1 and smooth) is interpolated linearly in B and
    multiplied by the theory curve T_adb(B) on a 400-point grid of the bracket; where T_adb is
    not positive and finite at both ends (B = 1), T_eq itself is interpolated linearly.
    ``B_err``: the measured errors s1, s2 (independent) propagated by re-solving with
    T_eq -+ s at each end (central differences, added in quadrature)."""
    from mcsgd import theory as th

    Bf = np.linspace(b1, b2, 400)
    with np.errstate(divide="ignore", invalid="ignore"):
        if prob.problem == "coloring":
            Ta = np.asarray(th.T_adb(Bf, prob.c, prob.q, prob.degree_law, "flux"), float)
        else:
            Ta = np.asarray(th.T_adb_ising(Bf, prob.c, prob.degree_law, "flux"), float)
    shaped = bool(np.all(np.isfinite(Ta)) and np.all(Ta > 0))
    w = (Bf - b1) / (b2 - b1)

    def solve(u1: float, u2: float) -> float:
        if shaped:
            Tf = Ta * ((1 - w) * u1 / Ta[0] + w * u2 / Ta[-1])
        else:
            Tf = (1 - w) * u1 + w * u2
        d = Tf - T
        j = next((i for i in range(len(Bf) - 1) if d[i] * d[i + 1] <= 0), None)
        if j is None:
            return math.nan
        f = 0.0 if Tf[j + 1] == Tf[j] else (T - Tf[j]) / (Tf[j + 1] - Tf[j])
        return float(Bf[j] + f * (Bf[j + 1] - Bf[j]))

    B = solve(t1, t2)
    var = 0.0
    for s, (u1, u2, v1, v2) in ((s1, (t1 + (s1 or 0), t2, t1 - (s1 or 0), t2)),
                                (s2, (t1, t2 + (s2 or 0), t1, t2 - (s2 or 0)))):
        if s is None or not np.isfinite(s):
            var = math.nan
            break
        if s > 0:
            var += ((solve(u1, u2) - solve(v1, v2)) / 2) ** 2
    err = math.sqrt(var) if np.isfinite(var) else math.nan
    return {"B": B if np.isfinite(B) else None, "B_err": err if np.isfinite(err) else None,
            "interpolation": "T_eq/T_adb linear in B, times T_adb(B)" if shaped
            else "T_eq linear in B"}


def invert_T(T: float, *, calibration: Calibration | None = None,
             problem: Problem | None = None) -> dict[str, Any]:
    """Which B gives temperature ``T`` (``mcsgd calibrate --invert T=...``).

    From a ``calibration``: interpolation of the measured T_eq(B) between the two
    neighbouring targets whose T_eq bracket ``T`` (the lowest such B where the curve is not
    monotone), shaped by the theory (:func:`_interpolate_B`), with the error ``B_err``
    propagated from their ``T_eq_err`` (``interpolation`` names the method; the
    interpolation's own error is not included: add targets near the answer to shrink it).
    No extrapolation: outside the measured T_eq range, ``B`` is None and ``note`` says so. The
    ADB estimate for the same problem is added as ``B_adb``. Without a calibration: the ADB
    theory alone, B with T_adb(B) = T for ``problem`` (``B_err`` None: an approximation, no
    statistical error). Returns a JSON-ready dict: ``T``, ``B``, ``B_err``, ``source``,
    ``bracket`` (calibration), ``B_adb``, ``problem``, ``note``.
    """
    if calibration is None and problem is None:
        raise ParameterError("--invert needs --from FILE (a calibration) or the problem (--c)")
    out: dict[str, Any] = {"T": T, "B": None, "B_err": None, "note": None}
    if calibration is not None:
        pr = dict(calibration.params["problem"])
        problem = Problem(problem=pr["problem"], n=pr["n"], q=pr["q"], c=pr["c"],
                          graph=pr["graph"], planted=pr["planted"], noise=pr["noise"],
                          shuffle=pr.get("shuffle", False))
        t = calibration.table
        pts = sorted((b, te, se) for b, te, se in zip(t["B"], t["T_eq"], t["T_eq_err"],
                                                       strict=True)
                     if b is not None and te is not None and np.isfinite(te))
        out.update(source="calibration: T_eq(B) interpolated", bracket=None)
        for (b1, t1, s1), (b2, t2, s2) in zip(pts[:-1], pts[1:], strict=True):
            if (t1 - T) * (t2 - T) <= 0 and t1 != t2:
                out.update(_interpolate_B(problem, T, b1, t1, s1, b2, t2, s2))
                out["bracket"] = [float(b1), float(b2)]
                break
        if out["B"] is None:
            lo = min((p[1] for p in pts), default=math.nan)
            hi = max((p[1] for p in pts), default=math.nan)
            out["note"] = (f"T = {T:g} is outside the measured T_eq range [{lo:.4g}, {hi:.4g}] "
                           f"(B = {', '.join(f'{p[0]:g}' for p in pts)}): no extrapolation; "
                           "add targets or use the theory (--invert without --from)")
    else:
        out["source"] = "theory: T_adb(B) (ADB, flux condition)"
    th = _theory_B(problem, T)
    out["B_adb"] = th["B"]
    if calibration is None:
        out["B"] = th["B"]
        if th["B"] is None:
            lo, hi = th["T_range"]
            out["note"] = (f"T = {T:g} is outside the range of T_adb(B) on (0, 1]"
                           + (f" ([{lo:.4g}, {hi:.4g}])" if lo is not None else ""))
    out["problem"] = {"problem": problem.problem, "q": problem.q, "c": problem.c,
                      "graph": problem.graph}
    return out


def run_invert(invert: str, *, source: str | None = None, problem: str = "coloring",
               q: int = 5, c: float | Sequence[float] | None = None, graph: str | None = None,
               noise: float = 0.0) -> dict[str, Any] | list[dict[str, Any]]:
    """``mcsgd calibrate --invert T=VALUE [--from FILE]``: :func:`invert_T` on the calibration
    file ``source`` (its ``file`` is added), or on the ADB theory for the problem given by the
    options (``c`` required). One dict, or a list of them (one per calibration of a multi-c
    file, or one per value when ``c`` is a list of several)."""
    T = parse_invert(invert)
    if source is not None:
        out = []
        for cal in load_all(source):
            res = invert_T(T, calibration=cal)
            res["file"] = os.path.abspath(source)
            out.append(res)
        return out[0] if len(out) == 1 else out
    if c is None:
        raise ParameterError("--invert without --from FILE needs --c (and --problem, --q, "
                             "--graph) for the theory T_adb(B)")
    cs = [c] if np.isscalar(c) else list(c)
    out = [_invert_theory(T, problem=problem, q=q, c=x, graph=graph, noise=noise)
           for x in cs]
    return out[0] if len(out) == 1 else out


def _invert_theory(T: float, *, problem: str, q: int, c: float, graph: str | None,
                   noise: float) -> dict[str, Any]:
    """:func:`invert_T` on the ADB theory for one problem."""
    graph = graph or ("er" if problem == "coloring" else "regular")
    check_range("c", c, 0, None)
    n = 1000 * (q if problem == "coloring" else 2)  # size is irrelevant to the theory
    if graph == "regular" and problem == "coloring" and (n * c) % 2:
        n *= 2
    return invert_T(T, problem=Problem(problem=problem, n=n, q=q, c=c, graph=graph,
                                       noise=noise))


def format_invert(res: dict[str, Any]) -> str:
    """The line ``mcsgd calibrate --invert`` prints."""
    T = res["T"]
    if res["B"] is None:
        return f"T = {T:g}: no B ({res['note']})"
    if res.get("file"):
        err = f" +- {res['B_err']:.4f}" if res["B_err"] is not None else ""
        adb = "" if res["B_adb"] is None else f"; ADB theory: B = {res['B_adb']:.4f}"
        b1, b2 = res["bracket"]
        return (f"B = {res['B']:.4f}{err} gives T_eq = {T:g} (interpolated between B = {b1:g} "
                f"and {b2:g} in {res['file']}{adb})")
    p = res["problem"]
    return (f"B = {res['B']:.4f} gives T_adb = {T:g} (ADB theory, {p['problem']} "
            f"q = {p['q']} c = {p['c']:g} {p['graph']}; no error bar: an approximation)")
