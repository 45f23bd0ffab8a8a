"""Recovery figures: success and recovery time against the dynamics parameter, and the
(c, B) map of ``reproduce recovery``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mcsgd.plots._figure import Style, describe, nan_array, panels, save, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def plot_recovery(rows: Sequence[dict], path: str | None = None, *,
                  params: dict[str, Any] | None = None,
                  ax: Axes | Sequence[Axes] | None = None,
                  figsize: tuple[float, float] = (6.4, 6.6), dpi: float = 130,
                  style: Style = None) -> Figure:
    """Success probability (Wilson 95% bars) and median recovery time (q25-q75 bars) against
    the dynamics parameter (B, T or start), one line per c.

    ``rows`` are recovery rows (``mcsgd recover``); ``params`` (the run's parameters: n, q,
    instances, replicas, sweeps) are annotated in the title when given. ``ax`` (one Axes: the
    success panel; two: both), ``figsize``, ``dpi``, ``style``: see
    :mod:`mcsgd.plots._figure`. Written to ``path`` if given (format from the extension);
    returns the Figure.
    """
    with styled(style):
        return _plot_recovery(rows, path, params, ax, figsize, dpi)


def _plot_recovery(rows, path, params, ax, figsize, dpi):
    fig, (a1, a2), new = panels(ax, 2, figsize, sharex=True)
    key = next(k for k in ("B", "T", "start") if k in rows[0])
    for c in sorted({r["c"] for r in rows}):
        rs = sorted((r for r in rows if r["c"] == c), key=lambda r: r[key])
        x = np.array([r[key] for r in rs])
        p = np.array([r["success_probability"] for r in rs])
        lo = np.array([r["success_ci"][0] for r in rs])
        hi = np.array([r["success_ci"][1] for r in rs])
        a1.errorbar(x, p, yerr=[p - lo, hi - p], marker="o", capsize=2, label=f"c = {c:g}")
        med = nan_array([r["t_rec_median"] for r in rs])
        q1 = nan_array([r["t_rec_q25"] for r in rs])
        q3 = nan_array([r["t_rec_q75"] for r in rs])
        a2.errorbar(x, med, yerr=[np.nan_to_num(med - q1), np.nan_to_num(q3 - med)],
                    marker="s", capsize=2)
    a1.set_ylabel("success probability")
    a1.set_ylim(-0.03, 1.03)
    a1.legend(fontsize=8)
    # log scale only with something to show: no recovered run leaves every median NaN
    meds = nan_array([r["t_rec_median"] for r in rows])
    if np.any(np.isfinite(meds) & (meds > 0)):
        a2.set_yscale("log")
    else:
        a2.text(0.5, 0.5, "no run recovered", transform=a2.transAxes, ha="center",
                va="center")
    a2.set_ylabel("recovery time (sweeps): median, q25-q75")
    a2.set_xlabel({"B": "mini-batch fraction B", "T": "temperature T"}.get(key, key))
    sizes = describe(params)
    if sizes:
        a1.set_title(sizes, fontsize=9)
    if new:
        fig.tight_layout()
    return save(fig, path, dpi=dpi)


def plot_recovery_map(result: dict, path: str | None = None, *,
                      ax: Axes | Sequence[Axes] | None = None,
                      figsize: tuple[float, float] = (6.6, 8.0), dpi: float = 130,
                      style: Style = None) -> Figure:
    """SGD success probability over (c, B) with the measured and mapped Metropolis windows,
    the best B per c, the BP threshold c_KS, and (second panel) BP overlap and annealing
    success against c.

    ``result`` is the ``reproduce recovery`` result (keys sgd, summary, c_KS, bp, annealing;
    ``params`` (its spec) annotated in the title). ``ax`` (one Axes: the map; two: both
    panels), ``figsize``, ``dpi``, ``style``: see :mod:`mcsgd.plots._figure`. Written to
    ``path`` if given (format from the extension); returns the Figure.
    """
    with styled(style):
        return _plot_recovery_map(result, path, ax, figsize, dpi)


def _plot_recovery_map(result, path, ax, figsize, dpi):
    fig, (ax, bx), new = panels(ax, 2, figsize)
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
    sizes = describe(result.get("params"))
    if sizes:
        ax.set_title(sizes, fontsize=9)
    if new:
        fig.tight_layout()
    return save(fig, path, dpi=dpi)
