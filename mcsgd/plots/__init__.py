"""Figures (matplotlib is an optional extra: ``pip install 'mcsgd[plot]'``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mcsgd.errors import ParameterError


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

    ``cals`` are :class:`mcsgd.experiments.calibrate.Calibration` objects (one per c).
    """
    plt = require_matplotlib()
    from mcsgd.experiments.calibrate import Problem

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
        from mcsgd import theory

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


def plot_recovery(rows: Sequence[dict], path: str) -> None:
    """Success probability (Wilson 95% bars) and median recovery time (q25-q75 bars) against
    the dynamics parameter, one line per c."""
    plt = require_matplotlib()
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(6.4, 6.6), sharex=True)
    key = next(k for k in ("B", "T", "start") if k in rows[0])
    for c in sorted({r["c"] for r in rows}):
        rs = sorted((r for r in rows if r["c"] == c), key=lambda r: r[key])
        x = np.array([r[key] for r in rs])
        p = np.array([r["success_probability"] for r in rs])
        lo = np.array([r["success_ci"][0] for r in rs])
        hi = np.array([r["success_ci"][1] for r in rs])
        a1.errorbar(x, p, yerr=[p - lo, hi - p], marker="o", capsize=2, label=f"c = {c:g}")
        med = _arr([r["t_rec_median"] for r in rs])
        q1 = _arr([r["t_rec_q25"] for r in rs])
        q3 = _arr([r["t_rec_q75"] for r in rs])
        a2.errorbar(x, med, yerr=[np.nan_to_num(med - q1), np.nan_to_num(q3 - med)],
                    marker="s", capsize=2)
    a1.set_ylabel("success probability")
    a1.set_ylim(-0.03, 1.03)
    a1.legend(fontsize=8)
    # log scale only with something to show: no recovered run leaves every median NaN
    meds = _arr([r["t_rec_median"] for r in rows])
    if np.any(np.isfinite(meds) & (meds > 0)):
        a2.set_yscale("log")
    else:
        a2.text(0.5, 0.5, "no run recovered", transform=a2.transAxes, ha="center",
                va="center")
    a2.set_ylabel("recovery time (sweeps): median, q25-q75")
    a2.set_xlabel({"B": "mini-batch fraction B", "T": "temperature T"}.get(key, key))
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_recovery_map(result: dict, path: str) -> None:
    """SGD success probability over (c, B) with the measured and mapped Metropolis windows,
    the best B per c, the BP threshold c_KS, and (second panel) BP overlap and annealing
    success against c."""
    plt = require_matplotlib()
    fig, (ax, bx) = plt.subplots(2, 1, figsize=(6.6, 8.0))
    sgd = result["sgd"]
    cs = sorted({r["c"] for r in sgd})
    Bs = sorted({r["B"] for r in sgd})
    grid = np.full((len(Bs), len(cs)), np.nan)
    for r in sgd:
        grid[Bs.index(r["B"]), cs.index(r["c"])] = r["success_probability"]

    def edges(v):
        v = np.asarray(v, float)
        if v.size == 1:
            return np.array([v[0] - 0.5, v[0] + 0.5])
        mid = (v[1:] + v[:-1]) / 2
        return np.r_[v[0] - (mid[0] - v[0]), mid, v[-1] + (v[-1] - mid[-1])]

    m = ax.pcolormesh(edges(cs), edges(Bs), grid, cmap="viridis", vmin=0, vmax=1,
                      shading="flat")
    fig.colorbar(m, ax=ax, label="SGD success probability")
    for k, s in enumerate(result["summary"]):
        c = s["c"]
        for win, dx, col, lab in ((s["B_window_from_T_adb"], -0.15, "w", "MC window via T_adb"),
                                  (s["B_window_from_T_eq"], 0.15, "orange",
                                   "MC window via T_eq")):
            if win[0] is not None and win[1] is not None:
                ax.plot([c + dx, c + dx], win, color=col, lw=3,
                        label=lab if k == 0 else None)
        if s["B_best"] is not None:
            ax.plot(c, s["B_best"], "r*", ms=12, label="fastest B" if k == 0 else None)
    cks = result.get("c_KS")
    if cks is not None:
        ax.axvline(cks, color="r", ls="--", lw=1, label=f"BP threshold c_KS = {cks}")
        ax.set_xlim(min(min(cs) - 1, cks - 1), max(cs) + 1)
    ax.set_xlabel("mean degree c")
    ax.set_ylabel("mini-batch fraction B")
    ax.legend(fontsize=7, loc="lower left")
    if result.get("bp"):
        bc = [b["c"] for b in result["bp"]]
        bx.plot(bc, [b["overlap"] for b in result["bp"]], "k-o", label="BP overlap")
    for sched, mk in (("T", "s"), ("B", "^")):
        rs = sorted((r for r in result.get("annealing", []) if r.get("anneal") == sched),
                    key=lambda r: r["c"])
        if rs:
            lab = "simulated annealing (T)" if sched == "T" else "batch annealing (B)"
            bx.plot([r["c"] for r in rs], [r["success_probability"] for r in rs], marker=mk,
                    label=f"{lab}: success")
    if cks is not None:
        bx.axvline(cks, color="r", ls="--", lw=1)
    bx.set_xlabel("mean degree c")
    bx.set_ylabel("overlap / success probability")
    bx.set_ylim(-0.03, 1.03)
    bx.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
