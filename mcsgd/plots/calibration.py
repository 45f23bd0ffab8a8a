"""Calibration figures: the T(B) curve and the relaxation overlays (``mcsgd calibrate``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mcsgd import theory
from mcsgd.plots._figure import color_cycle, nan_array, new_figure, save

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _theory_curves(problem: dict, Bd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """T0, ADB flux and ADB drift on ``Bd`` for a calibration's ``params["problem"]``."""
    degree = "regular" if problem.get("graph") == "regular" else "poisson"
    c = problem["c"]
    if problem.get("problem", "coloring") == "coloring":
        t0 = np.array([float(theory.T0(b)) for b in Bd])
        adb = theory.T_adb_curve(Bd, c, problem["q"], degree, "flux")
        drift = theory.T_adb_curve(Bd, c, problem["q"], degree, "drift")
    else:
        t0 = np.array([float(theory.T0(b, energy_scale=2.0)) for b in Bd])
        adb = theory.T_adb_curve(Bd, c, None, degree, "flux", model="ising")
        drift = theory.T_adb_curve(Bd, c, None, degree, "drift", model="ising")
    return t0, adb, drift


def plot_tb(cals: Sequence[Any], path: str | None = None,
            labels: Sequence[str] | None = None) -> Figure:
    """T versus B: T_eq and T_neq with error bars, T0 and the ADB (flux, drift) curves.

    ``cals`` are calibration results (one per c), e.g.
    :class:`mcsgd.experiments.calibrate.Calibration`: read are ``params["problem"]`` (problem,
    c, q, graph) and ``table`` (B, T0, T_eq, T_neq and their errors). Written to ``path`` if
    given; returns the Figure.
    """
    fig = new_figure((6.4, 7.2))
    ax, ar = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    colors = color_cycle()
    Bd = np.linspace(0.02, 0.995, 120)
    t0_drawn = False
    for k, cal in enumerate(cals):
        col = colors[k % len(colors)]
        problem = cal.params["problem"]
        lab = labels[k] if labels else f"c = {problem['c']:g}"
        B = nan_array(cal.table["B"])
        t0d, adb, dr = _theory_curves(problem, Bd)
        if not t0_drawn:
            ax.plot(Bd, t0d, color="k", lw=1, label="T0 = -1/ln(1-B)")
            ar.axhline(1.0, color="k", lw=1)
            t0_drawn = True
        ax.plot(Bd, adb, color=col, lw=1.2, label=f"ADB flux ({lab})")
        ax.plot(Bd, dr, color=col, lw=1, ls=":", label=f"ADB drift ({lab})")
        ax.errorbar(B, nan_array(cal.table["T_eq"]), yerr=nan_array(cal.table["T_eq_err"]),
                    fmt="o", color=col, ms=5, capsize=2, label=f"T_eq ({lab})")
        ax.errorbar(B, nan_array(cal.table["T_neq"]), yerr=nan_array(cal.table["T_neq_err"]),
                    fmt="s", mfc="none", color=col, ms=7, capsize=2, label=f"T_neq ({lab})")
        t0 = nan_array(cal.table["T0"])
        ar.plot(Bd, adb / t0d, color=col, lw=1.2)
        ar.plot(Bd, dr / t0d, color=col, lw=1, ls=":")
        ar.errorbar(B, nan_array(cal.table["T_eq"]) / t0,
                    yerr=nan_array(cal.table["T_eq_err"]) / t0,
                    fmt="o", color=col, ms=5, capsize=2)
        ar.errorbar(B, nan_array(cal.table["T_neq"]) / t0,
                    yerr=nan_array(cal.table["T_neq_err"]) / t0,
                    fmt="s", mfc="none", color=col, ms=7, capsize=2)
    ar.set_xlabel("mini-batch fraction B")
    ar.set_ylabel("T(B) / T0(B)")
    ax.set_ylabel("temperature T(B)")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=6.5, ncol=2)
    ax.set_title("Effective temperature of SGD-like dynamics")
    fig.tight_layout()
    return save(fig, path, dpi=130)


def plot_relaxation(cal: Any, path: str | None = None) -> Figure:
    """Relaxation overlays: e_SGD(t; B) (markers) against e_MC(t; T_neq(B)) (lines).

    ``cal`` is a calibration result: read are ``times``, ``T_grid``, ``curves_mc``,
    ``curves_sgd``, ``table`` (B, T_neq) and ``params["problem"]``. Written to ``path`` if
    given; returns the Figure.
    """
    from scipy.interpolate import PchipInterpolator

    fig = new_figure((6.4, 4.6))
    ax = fig.subplots()
    t = np.asarray(cal.times, float)
    keep = t >= 1
    colors = color_cycle()
    curve_T = PchipInterpolator(cal.T_grid, cal.curves_mc, axis=0)
    for j, B in enumerate(cal.table["B"]):
        col = colors[j % len(colors)]
        ax.plot(t[keep], cal.curves_sgd[j, keep], "o", ms=3.5, color=col,
                label=f"SGD B = {B:g}" if B is not None else f"target {j}")
        Tn = cal.table["T_neq"][j]
        if Tn is not None and np.isfinite(Tn) and cal.T_grid.min() <= Tn <= cal.T_grid.max():
            ax.plot(t[keep], curve_T(Tn)[keep], "-", color=col, lw=1.2,
                    label=f"MC T_neq = {Tn:.3f}")
    ax.set_xscale("log")
    ax.set_xlabel("time (sweeps)")
    ax.set_ylabel("energy density e(t)")
    prob = cal.params["problem"]
    ax.set_title(f"Relaxation, {prob['problem']} q = {prob['q']}, c = {prob['c']:g}, "
                 f"N = {prob['n']}")
    ax.legend(fontsize=6.5, ncol=2)
    fig.tight_layout()
    return save(fig, path, dpi=130)
