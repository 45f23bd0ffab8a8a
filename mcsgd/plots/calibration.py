"""Calibration figures: the T(B) curve and the relaxation overlays (``mcsgd calibrate``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mcsgd import theory
from mcsgd.plots._figure import (
    FLAGGED_COLOR,
    Style,
    color_cycle,
    describe,
    flags_of,
    nan_array,
    panels,
    save,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
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


def _flag_label(reasons: tuple[str, ...]) -> str:
    return "flagged: " + ", ".join(reasons)


def plot_tb(cals: Sequence[Any], path: str | None = None,
            labels: Sequence[str] | None = None, *, ax: Axes | Sequence[Axes] | None = None,
            figsize: tuple[float, float] = (6.4, 7.2), dpi: float = 130,
            style: Style = None) -> Figure:
    """T versus B: T_eq and T_neq with error bars, T0 and the ADB (flux, drift) curves; below,
    the same divided by T0.

    ``cals`` are calibration results (one per c), e.g.
    :class:`mcsgd.experiments.calibrate.Calibration`: read are ``params`` (``problem``: problem,
    c, q, graph, n; instances, replicas, sweeps for the annotation) and ``table`` (B, T0, T_eq,
    T_neq and their errors; ``flags`` when present: rows with flags are drawn hollow grey, the
    reasons in the legend). ``ax`` (one Axes: the T panel; two: both panels), ``figsize``,
    ``dpi``, ``style``: see :mod:`mcsgd.plots._figure`. Written to ``path`` if given (format
    from the extension); returns the Figure.
    """
    with styled(style):
        fig, (ax, ar), new = panels(ax, 2, figsize, sharex=True,
                                    gridspec_kw={"height_ratios": [3, 2]})
        colors = color_cycle()
        Bd = np.linspace(0.02, 0.995, 120)
        t0_drawn = False
        flag_labelled: set[tuple[str, ...]] = set()
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
            t0 = nan_array(cal.table["T0"])
            flags = flags_of(cal.table, B.size)
            ok = np.array([not f for f in flags], dtype=bool)
            series = []
            for name, fmt, ms, hollow in (("T_eq", "o", 5, False), ("T_neq", "s", 7, True)):
                y, ye = nan_array(cal.table[name]), nan_array(cal.table[name + "_err"])
                series.append((name, fmt, ms, hollow, y, ye))
                mfc = "none" if hollow else col
                ax.errorbar(B[ok], y[ok], yerr=ye[ok], fmt=fmt, color=col, mfc=mfc, ms=ms,
                            capsize=2, label=f"{name} ({lab})")
                ar.errorbar(B[ok], y[ok] / t0[ok], yerr=ye[ok] / t0[ok], fmt=fmt, color=col,
                            mfc=mfc, ms=ms, capsize=2)
            for reasons in dict.fromkeys(f for f in flags if f):
                sel = np.array([f == reasons for f in flags], dtype=bool)
                for j, (_name, fmt, ms, _hollow, y, ye) in enumerate(series):
                    label = None
                    if j == 0 and reasons not in flag_labelled:
                        label = _flag_label(reasons)
                        flag_labelled.add(reasons)
                    for a, yy, ee in ((ax, y, ye), (ar, y / t0, ye / t0)):
                        a.errorbar(B[sel], yy[sel], yerr=ee[sel], fmt=fmt, color=FLAGGED_COLOR,
                                   mfc="none", ms=ms, capsize=2,
                                   label=label if a is ax else None)
            ar.plot(Bd, adb / t0d, color=col, lw=1.2)
            ar.plot(Bd, dr / t0d, color=col, lw=1, ls=":")
        ar.set_xlabel("mini-batch fraction B")
        ar.set_ylabel("T(B) / T0(B)")
        ax.set_ylabel("temperature T(B)")
        ax.set_yscale("log")
        ax.set_xlim(0, 1)
        ax.legend(fontsize=6.5, ncol=2)
        sizes = "; ".join(dict.fromkeys(describe(c.params) for c in cals if describe(c.params)))
        ax.set_title("Effective temperature of SGD-like dynamics" + (f"\n{sizes}" if sizes
                                                                       else ""), fontsize=10)
        if new:
            fig.tight_layout()
        return save(fig, path, dpi=dpi)


def _band(curve_T, T: float, err: float, Tmin: float, Tmax: float):
    """e_MC(t; T - err) and e_MC(t; T + err) clipped to the measured T grid, or None."""
    if err is None or not np.isfinite(err) or err <= 0:
        return None
    lo, hi = max(T - err, Tmin), min(T + err, Tmax)
    a, b = curve_T(lo), curve_T(hi)
    return np.minimum(a, b), np.maximum(a, b)


def plot_relaxation(cal: Any, path: str | None = None, *,
                    ax: Axes | Sequence[Axes] | None = None,
                    figsize: tuple[float, float] = (7.4, 5.6), dpi: float = 130,
                    style: Style = None, cmap: str = "viridis") -> Figure:
    """Relaxation overlays: e_SGD(t; B) (markers) against e_MC(t; T_neq(B)) (lines), and a
    residual panel e_SGD - e_MC below.

    Colours follow B on the sequential colormap ``cmap`` (colour bar); the shaded bands are
    e_MC(t; T) for T in T_neq ± T_neq_err (the uncertainty of the fitted temperature). With a
    ``curves_sgd_err`` attribute (calibrations store it) each SGD curve gets a shaded band of
    ±1 standard error (instance-clustered), and with ``curves_mc_err`` each Metropolis line a
    hatched ±1 standard-error band (the grid errors interpolated to T_neq). Rows flagged in
    ``table["flags"]`` are drawn with hollow markers and their reasons in the legend (outside
    the data, right of the axes). ``cal`` is a calibration result: read are ``times``,
    ``T_grid``, ``curves_mc``, ``curves_sgd``, ``table`` (B, T_neq, T_neq_err, flags) and
    ``params``. ``ax`` (one Axes: the overlay; two: overlay and residual), ``figsize``,
    ``dpi``, ``style``: see :mod:`mcsgd.plots._figure`. Written to ``path`` if given (format
    from the extension); returns the Figure.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from scipy.interpolate import PchipInterpolator

    with styled(style):
        fig, (ax, ar), new = panels(ax, 2, figsize, layout="constrained", sharex=True,
                                    gridspec_kw={"height_ratios": [3, 1.3]})
        t = np.asarray(cal.times, float)
        keep = t >= 1
        Bs = nan_array(cal.table["B"])
        fin = Bs[np.isfinite(Bs)]
        lo, hi = (float(fin.min()), float(fin.max())) if fin.size else (0.0, 1.0)
        if hi <= lo:
            lo, hi = lo - 0.05, hi + 0.05
        norm = Normalize(lo, hi)
        import matplotlib

        cm = matplotlib.colormaps[cmap]
        sgd_err = getattr(cal, "curves_sgd_err", None)
        mc_err = getattr(cal, "curves_mc_err", None)
        Tg = np.asarray(cal.T_grid, float)
        curve_T = PchipInterpolator(Tg, cal.curves_mc, axis=0)
        flags = flags_of(cal.table, len(Bs))
        T_err = cal.table.get("T_neq_err", [None] * len(Bs))
        handles = [Line2D([], [], ls="none", marker="o", color="0.3", ms=4,
                          label="SGD e(t; B)"),
                   Line2D([], [], color="0.3", lw=1.2, label="Metropolis e(t; T_neq(B))"),
                   Patch(color="0.3", alpha=0.25, label="T_neq ± 1σ")]
        if sgd_err is not None:
            handles.append(Patch(color="0.3", alpha=0.12, label="SGD ± 1 s.e."))
        if mc_err is not None:
            handles.append(Patch(facecolor="none", edgecolor="0.3", hatch="////", lw=0,
                                 label="Metropolis ± 1 s.e."))
            err_T = PchipInterpolator(Tg, mc_err, axis=0)
        ar.axhline(0.0, color="k", lw=0.8)
        for j, B in enumerate(Bs):
            col = cm(norm(B)) if np.isfinite(B) else "k"
            mfc = "none" if flags[j] else col
            y = np.asarray(cal.curves_sgd[j], float)
            ax.plot(t[keep], y[keep], "o", ms=3.5, color=col, mfc=mfc)
            if sgd_err is not None:
                s = np.asarray(sgd_err[j], float)
                ax.fill_between(t[keep], (y - s)[keep], (y + s)[keep], color=col, alpha=0.12,
                                lw=0, gid="sgd_err")
            if flags[j]:
                handles.append(Line2D([], [], ls="none", marker="o", mfc="none", color=col,
                                      ms=4, label=f"B = {B:g} {_flag_label(flags[j])}"))
            Tn = cal.table["T_neq"][j]
            if Tn is None or not np.isfinite(Tn) or not Tg.min() <= Tn <= Tg.max():
                continue
            e_mc = curve_T(Tn)
            ax.plot(t[keep], e_mc[keep], "-", color=col, lw=1.2)
            if mc_err is not None:
                s = err_T(Tn)
                ax.fill_between(t[keep], (e_mc - s)[keep], (e_mc + s)[keep], facecolor="none",
                                edgecolor=col, hatch="////", lw=0, gid="mc_err")
            ar.plot(t[keep], (y - e_mc)[keep], "o-", ms=2.5, lw=0.8, color=col, mfc=mfc)
            band = _band(curve_T, Tn, T_err[j], Tg.min(), Tg.max())
            if band is not None:
                ax.fill_between(t[keep], band[0][keep], band[1][keep], color=col, alpha=0.25,
                                lw=0)
                ar.fill_between(t[keep], (y - band[1])[keep], (y - band[0])[keep], color=col,
                                alpha=0.25, lw=0)
        ax.set_xscale("log")
        ar.set_xscale("log")
        ar.set_xlabel("time (sweeps)")
        ax.set_ylabel("energy density e(t)")
        ar.set_ylabel("e_SGD − e_MC")
        prob = cal.params["problem"]
        head = f"Relaxation, {prob.get('problem', 'coloring')}, c = {prob['c']:g}"
        sizes = describe(cal.params)
        ax.set_title(head + (f"\n{sizes}" if sizes else ""), fontsize=10)
        sm = ScalarMappable(norm=norm, cmap=cm)
        drawn = [a for a in (ax, ar) if a.figure is ax.figure]
        fig.colorbar(sm, ax=drawn, label="mini-batch fraction B", pad=0.02)
        if new:
            fig.legend(handles=handles, fontsize=7, loc="outside lower center", ncol=2,
                       frameon=False)
        else:  # below the lowest given panel, under its axis labels
            drawn[-1].legend(handles=handles, fontsize=6, loc="upper left",
                             bbox_to_anchor=(0.0, -0.22), frameon=False)
        return save(fig, path, dpi=dpi)
