"""Figures for the continuous experiments (object-oriented matplotlib, see ``_figure``).

Style shared with the discrete T(B) calibration: measured points as markers with error bars,
theory as lines, B on a log axis, one figure per run. :func:`plot_result` dispatches on
``result["params"]["experiment"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mcsgd.plots._figure import Style, panels, save, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _g(x, spec: str) -> str:
    """Format a number, or "n/a" for None/NaN (e.g. a slope fitted from a single point)."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return format(x, spec)


class _Panels:
    """Where a figure's panels go: a new Figure (side by side) or the caller's ``ax``."""

    def __init__(self, ax: Any, figsize: tuple[float, float] | None) -> None:
        self.ax, self.figsize, self.new = ax, figsize, True

    def __call__(self, ncols: int = 1) -> tuple[Figure, list[Axes]]:
        size = self.figsize or (5.2 * ncols, 4.0)
        fig, axes, self.new = panels(self.ax, ncols, size, layout="constrained",
                                     horizontal=True)
        return fig, axes


def _title(result: dict) -> str:
    p = result["params"]
    bits = [p["experiment"]]
    for k in ("model", "noise", "data"):
        if k in p and p[k] is not None:
            bits.append(f"{k}={p[k]}")
    sizes = [f"{p[k]} {k}" for k in ("chains", "steps") if p.get(k) is not None]
    if p.get("dim") is not None and p.get("model", "quadratic") == "quadratic":
        sizes.insert(0, f"dim = {p['dim']}")
    return ", ".join(bits) + ("\n" + ", ".join(sizes) if sizes else "")


def plot_result(result: dict, path: str | None = None, *,
                ax: Axes | Sequence[Axes] | None = None,
                figsize: tuple[float, float] | None = None, dpi: float = 120,
                style: Style = None) -> Figure:
    """Draw the standard figure of a :func:`~mcsgd.experiments.continuous.run_task` result.

    ``ax`` (one Axes: the first panel; a sequence: one per panel), ``figsize`` (default 5.2 x
    4 inches per panel), ``dpi``, ``style``: see :mod:`mcsgd.plots._figure`. Written to
    ``path`` if given (format from the extension); returns the Figure.
    """
    exp = result["params"]["experiment"]
    fn = {
        "fdr": _plot_fdr, "adaptive": _plot_adaptive, "linear-fdt": _plot_linear,
        "ivf": _plot_ivf, "escape": _plot_escape, "occupation": _plot_occupation,
        "temperature": _plot_temperature,
    }[exp]
    with styled(style):
        where = _Panels(ax, figsize)
        fig = fn(result, where)
        if where.new:
            fig.suptitle(_title(result), fontsize=10)
        return save(fig, path, dpi=dpi)


def _plot_fdr(r, _fig):
    s, a = r["scalars"], r["arrays"]
    fig, (ax1, ax2) = _fig(2)
    t = a["checkpoint_steps"]
    ax1.semilogx(t, a["ratio_history"], "o-", ms=3, label="centred on θ_c")
    ax1.semilogx(t, a["ratio_uncentred_history"], "s-", ms=3, alpha=0.6, label="θ_c = 0")
    ax1.axhline(1.0, color="k", lw=0.8, ls="--")
    ax1.set_xlabel("step")
    ax1.set_ylabel(r"half-running $\bar O_L/\bar O_R$")
    lo, hi = np.nanpercentile(a["ratio_history"], [5, 100])
    ax1.set_ylim(min(0.8, lo), min(max(1.2, hi), 3.0))
    ax1.legend(fontsize=8)
    if s.get("eta_scan"):
        sc = s["eta_scan"]
        e = np.array([x["eta"] for x in sc["rows"]])
        y = np.array([x["fdr2_probe"] for x in sc["rows"]])
        ye = np.array([x["fdr2_probe_err"] for x in sc["rows"]])
        ax2.errorbar(e, y, ye, fmt="o", label=r"$2\langle|\nabla f|^2\rangle/\eta$")
        if "fdr2_intercept" in sc:
            ee = np.linspace(0, e.max() * 1.05, 100)
            fit = sc["fdr2_intercept"] + sc.get("fdr2_slope", 0) * ee + sc.get(
                "fdr2_curvature", 0) * ee**2
            ax2.plot(ee, fit, "-", lw=1, label="quadratic fit")
        if sc.get("fdr2_exact") is not None:
            ax2.plot([0], [sc["fdr2_exact"]], "k*", ms=12,
                     label=r"$\eta\to 0$ limit Tr$(HC)/B$ at $\theta^*$")
        if s.get("fdr2_exact_discrete") is not None:
            ax2.plot([r["params"]["eta"]], [s["fdr2_exact_discrete"]], "rD", ms=7,
                     label=rf"exact at $\eta$ = {r['params']['eta']:g} (discrete Lyapunov)")
        ax2.set_xlabel(r"$\eta$")
    else:
        # the exact value at this finite η when the JSON has it (quadratic, plain SGD); the
        # η -> 0 limit Tr(HC)/B differs from it by O(η) and is only a fallback
        if s.get("fdr2_exact_discrete") is not None:
            ref, ref_lab = s["fdr2_exact_discrete"], rf"exact, $\eta$ = {r['params']['eta']:g}"
        else:
            ref = s.get("fdr2_exact")
            ref, ref_lab = (np.nan if ref is None else ref), r"Tr$(HC)/B$ ($\eta\to 0$)"
        vals = [s["fdr2_probe"], ref]
        ax2.bar([0, 1], vals, yerr=[s["fdr2_probe_err"], 0], color=["C0", "C1"])
        ax2.set_xticks([0, 1], [r"$2\langle|\nabla f|^2\rangle/\eta$", ref_lab])
    ax2.set_ylabel("Hessian probe")
    ax2.legend(fontsize=8) if s.get("eta_scan") else None
    return fig


def _plot_adaptive(r, _fig):
    a = r["arrays"]
    fig, (ax1, ax2) = _fig(2)
    t = a["check_steps"]
    for i, row in enumerate(a["eta_history"]):
        ax1.semilogy(t, row, lw=1, label=f"chain {i}" if i < 4 else None)
    ax1.set_xlabel("step")
    ax1.set_ylabel(r"$\eta$")
    ax1.legend(fontsize=7)
    for row in a["loss_history"]:
        ax2.semilogy(t, row - np.min(a["loss_history"]) + 1e-12, lw=0.8)
    ax2.set_xlabel("step")
    ax2.set_ylabel(r"$f - \min f$")
    return fig


def _plot_linear(r, _fig):
    s = r["scalars"]
    fig, (ax,) = _fig(1)
    rows = s.get("rows") or [s]
    x = np.array([q["x_scale"] for q in rows])
    re = np.array([q["ratio_exact"] for q in rows])
    ree = np.array([q["ratio_exact_err"] for q in rows])
    rl = np.array([q["ratio_langevin"] for q in rows])
    rle = np.array([q["ratio_langevin_err"] for q in rows])
    lab = r"$(\langle f\rangle-f^*)/[(\eta/4)\langle|\nabla f_B|^2\rangle]$"
    ax.errorbar(x, re, ree, fmt="o", label=lab)
    ax.errorbar(x, rl, rle, fmt="s", label=r"$(\langle f\rangle-f^*)/[(\eta/4B)\,$Tr$C_{conn}]$")
    ax.axhline(1.0, color="k", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel(r"$\eta\,E|x|^2/B$")
    ax.set_ylabel("ratio")
    ax.legend(fontsize=8)
    return fig


def _plot_ivf(r, _fig):
    s, a = r["scalars"], r["arrays"]
    fig, (ax1, ax2) = _fig(2)
    v, F = np.asarray(s["variance"]), np.asarray(s["flatness"])
    ax1.loglog(F, v, "o", label=rf"PCs, $\psi$ = {s['psi']:.2f} ± {s['psi_err']:.2f}")
    ff = np.geomspace(F.min(), F.max(), 50)
    c = np.exp(np.mean(np.log(v) + s["psi"] * np.log(F)))
    ax1.loglog(ff, c * ff ** (-s["psi"]), "-", lw=1)
    ax1.set_xlabel(f"flatness $F_i$ (level {s['level']:g}×L0)")
    ax1.set_ylabel(r"variance $\sigma_i^2$")
    ax1.legend(fontsize=8)
    i0, i1 = s["pcs_used"]
    Fp = a["flatness_true_energy"][i0 : i1 + 1]
    ax2.loglog(Fp, v, "o", color="C2",
               label=rf"true energy: $\psi$ = {s['psi_true_energy']:.2f}")
    ax2.loglog(Fp, (Fp / 2) ** 2, "k--", lw=1, label=r"$\sigma^2=(F/2)^2$ (ψ = −2)")
    ax2.set_xlabel(r"flatness of $\varphi=x^T\Sigma^{-1}x/2$")
    ax2.set_ylabel(r"variance $\sigma_i^2$")
    ax2.legend(fontsize=8)
    return fig


def _plot_escape(r, _fig):
    s = r["scalars"]
    fig, (ax,) = _fig(1)
    rows = s["rows"]
    mf = (1 - r["params"]["dampening"]) / (1 - r["params"]["momentum"])
    x = np.array([q["B"] / q["eta"] for q in rows])
    eff = np.array([q["eta"] * mf for q in rows])
    K = np.array([q["escape_steps_mean"] for q in rows])
    Ke = np.array([q["escape_steps_err"] for q in rows])
    ax.errorbar(x, eff * K, eff * Ke, fmt="o", label="SGD")
    o = np.argsort(x)
    ax.plot(x[o], (eff * np.array([q["kramers_steps"] for q in rows]))[o], "-",
            label="Kramers, T = ηs/(2B)")
    ax.plot(x[o], (eff * np.array([q["sde_steps"] for q in rows]))[o], "--",
            label="SDE exact MFPT")
    ax.set_yscale("log")
    ax.set_xlabel(r"$B/\eta$")
    ax.set_ylabel(r"escape time $\eta_{eff} K$")
    ax.set_title(f"slope {_g(s.get('slope'), '.4g')} ± {_g(s.get('slope_err'), '.2g')}, "
                 f"2ΔU/s = {_g(s.get('slope_theory'), '.4g')}", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def _plot_occupation(r, _fig):
    s = r["scalars"]
    fig, (ax,) = _fig(1)
    B = np.array([q["B"] for q in s["rows"]])
    ax.errorbar(B, [q["p_flat"] for q in s["rows"]], [q["p_flat_err"] for q in s["rows"]],
                fmt="o", label="SGD")
    ax.plot(B, [q["p_flat_gibbs"] for q in s["rows"]], "-", label="Gibbs, T = ηs/(2B)")
    ax.plot(B, [q["p_flat_laplace"] for q in s["rows"]], "--", label="Laplace limit")
    ax.set_xscale("log")
    ax.set_xlabel("B")
    ax.set_ylabel("P(flat well)")
    ax.legend(fontsize=8)
    return fig


def _plot_temperature(r, _fig):
    s, a = r["scalars"], r["arrays"]
    fig, (ax,) = _fig(1)
    rows = s["rows"]
    B = np.array([q["B"] for q in rows], dtype=float)
    ax.errorbar(B, [q["T_conf"] for q in rows], [q["T_conf_err"] for q in rows], fmt="o",
                label=r"$T_{conf}=\langle|\nabla f|^2\rangle/\langle\nabla^2 f\rangle$")
    ax.fill_between(B, [q["T_mode_min"] for q in rows], [q["T_mode_max"] for q in rows],
                    alpha=0.2, color="C1", label="per-mode $T_i$ (min–max)")
    ax.plot(B, [q["T_mode_median"] for q in rows], "^", color="C1", label="per-mode median")
    ax.plot(B, [q["T_theory"] for q in rows], "k-", label=r"$\eta s/(2B)$")
    ax.plot(B, [q["T_fdr2"] for q in rows], "k:", label=r"$\eta$Tr$(HC)/(2B$Tr$H)$")
    if "T_conf_exact" in rows[0]:
        ax.plot(B, [q["T_conf_exact"] for q in rows], "C3--", label="exact discrete")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("B")
    ax.set_ylabel(r"$T_{eff}$")
    ax.legend(fontsize=7)
    del a
    return fig
