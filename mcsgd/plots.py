"""Figures (matplotlib is an optional extra: ``pip install 'mcsgd[plot]'``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .errors import ParameterError


def require_matplotlib():
    """Import matplotlib with the Agg backend, or raise a clear ParameterError."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ParameterError("--plot needs matplotlib: pip install 'mcsgd[plot]'") from None
    return plt


def _arr(v):
    return np.array([np.nan if x is None else x for x in v], dtype=float)


def plot_tb(cals: Sequence, path: str, labels: Sequence[str] | None = None) -> None:
    """T versus B: T_eq and T_neq with error bars, T0 and the ADB (flux, drift) curves.

    ``cals`` are :class:`mcsgd.calibrate.Calibration` objects (one per c).
    """
    plt = require_matplotlib()
    from .calibrate import Problem

    fig, (ax, ar) = plt.subplots(2, 1, figsize=(6.4, 7.2), sharex=True,
                                 gridspec_kw={"height_ratios": [3, 2]})
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    Bd = np.linspace(0.02, 0.995, 120)
    t0_drawn = False
    for k, cal in enumerate(cals):
        col = colors[k % len(colors)]
        prob = Problem(**cal.params["problem"])
        lab = labels[k] if labels else f"c = {prob.c:g}"
        B = _arr(cal.table["B"])
        th = prob.theory()
        t0d = np.array([th["T0"](b) for b in Bd])
        if not t0_drawn:
            ax.plot(Bd, t0d, color="k", lw=1, label="T0 = -1/ln(1-B)")
            ar.axhline(1.0, color="k", lw=1)
            t0_drawn = True
        from . import theory

        if prob.problem == "coloring":
            adb = theory.T_adb_curve(Bd, prob.c, prob.q, prob.degree_law, "flux")
            dr = theory.T_adb_curve(Bd, prob.c, prob.q, prob.degree_law, "drift")
        else:
            adb = theory.T_adb_curve(Bd, prob.c, None, prob.degree_law, "flux", model="ising")
            dr = theory.T_adb_curve(Bd, prob.c, None, prob.degree_law, "drift", model="ising")
        ax.plot(Bd, adb, color=col, lw=1.2, label=f"ADB flux ({lab})")
        ax.plot(Bd, dr, color=col, lw=1, ls=":", label=f"ADB drift ({lab})")
        ax.errorbar(B, _arr(cal.table["T_eq"]), yerr=_arr(cal.table["T_eq_err"]), fmt="o",
                    color=col, ms=5, capsize=2, label=f"T_eq ({lab})")
        ax.errorbar(B, _arr(cal.table["T_neq"]), yerr=_arr(cal.table["T_neq_err"]), fmt="s",
                    mfc="none", color=col, ms=7, capsize=2, label=f"T_neq ({lab})")
        t0 = _arr(cal.table["T0"])
        ar.plot(Bd, adb / t0d, color=col, lw=1.2)
        ar.plot(Bd, dr / t0d, color=col, lw=1, ls=":")
        ar.errorbar(B, _arr(cal.table["T_eq"]) / t0, yerr=_arr(cal.table["T_eq_err"]) / t0,
                    fmt="o", color=col, ms=5, capsize=2)
        ar.errorbar(B, _arr(cal.table["T_neq"]) / t0, yerr=_arr(cal.table["T_neq_err"]) / t0,
                    fmt="s", mfc="none", color=col, ms=7, capsize=2)
    ar.set_xlabel("mini-batch fraction B")
    ar.set_ylabel("T(B) / T0(B)")
    ax.set_ylabel("temperature T(B)")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.legend(fontsize=6.5, ncol=2)
    ax.set_title("Effective temperature of SGD-like dynamics")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_relaxation(cal, path: str) -> None:
    """Relaxation overlays: e_SGD(t; B) (markers) against e_MC(t; T_neq(B)) (lines)."""
    plt = require_matplotlib()
    from scipy.interpolate import PchipInterpolator

    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    t = np.asarray(cal.times, float)
    keep = t >= 1
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
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
    fig.savefig(path, dpi=130)
    plt.close(fig)
