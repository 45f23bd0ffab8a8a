r"""Yaida's fluctuation–dissipation relations for SGD and the adaptive learning-rate schedule.

Yaida, "Fluctuation-dissipation relations for stochastic gradient descent", ICLR 2019
(arXiv:1810.00004). With the update rule of :mod:`mcsgd.continuous.sgd`
(v ← μv + (1−ν)g, θ ← θ − ηv; g the mini-batch gradient of the objective, weight decay included),
stationarity of |θ − θ_c|² for any constant θ_c gives exactly

    FDR1:   ⟨O_L⟩ = ⟨O_R⟩,   O_L = (θ − θ_c)·g,   O_R = (η/2) (1+μ)/(1−ν) |v|²

(without momentum O_R = (η/2)|g|²). O_L uses the mini-batch gradient g (unbiased for ∇f, as in
Yaida). Stationarity of f for plain SGD gives

    FDR2:   ⟨|∇f|²⟩ = (η/2)⟨Tr(H C)⟩ − (η²/6)⟨F3·C3⟩ + …,   C = E[g gᵀ] = ∇f∇fᵀ + C_conn/B,

so the **Hessian probe** 2⟨|∇f|²⟩/η_eff (η_eff = η(1−ν)/(1−μ), which reduces to η without
momentum and makes the probe momentum-independent at small η) tends to Tr(H C_conn)/B at the
minimum as η → 0; the slope and curvature of the probe in η measure the anharmonicity
(:func:`fdr2_eta_scan`).

**Half-running averages.** Cumulative sums are recorded at checkpoints t_k; the half-running
average at t_k is the average over steps [t_{⌊k/2⌋}, t_k). The fluctuation centre θ_c is the mean
of θ over the same window (allowed because the relation holds for any constant θ_c, and
Σ(θ−θ_c)·g = Σθ·g − θ_c·Σg is computed afterwards from the sums). The ratio reported is
Σ_chains Ō_L / Σ_chains Ō_R with a jackknife error over chains; ``ratio_uncentred`` uses θ_c = 0.

**Caution** (SPEC §6): along any trajectory |θ_{t+1}−θ_c|² − |θ_t−θ_c|² = −2η O_L + 2η O_R·(…)
telescopes (exactly, without momentum), so Ō_L − Ō_R is a boundary term
(|θ_start−θ_c|² − |θ_end−θ_c|²)/(2η n): FDR1 holding means only that |θ − θ_c|² stopped drifting.
Windows must be ≫ 1/(η λ_min(H)). In particular the ratio cannot detect a wrong gradient: the
identity holds for whatever vector g the update used. ``ratio_full_gradient`` replaces g in O_L by
the full gradient ∇f of the objective at the probe points (every ``probe_every`` steps of the
second half, θ_c their mean over all chains): since E[g | θ] = ∇f it tends to 1 as well, but
only if the update used an unbiased estimate of ∇f — an update with g = a∇f + noise gives 1/a.
This, and the FDR2 probe against its exact value, is the check of the gradient (a constant
error b in g drops out of every centred O_L; only FDR2 sees it).

**Adaptive schedule** (Yaida's algorithm): every ``check_every`` steps each chain compares its
half-running averages since its last reset; when the window holds at least ``min_window`` steps
and |Ō_L/Ō_R − 1| < X, its learning rate becomes (1 − Y)η and its averages restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mcsgd.continuous.models import Model
from mcsgd.continuous.sgd import (
    SGD,
    Ticker,
    check_finite,
    check_sgd_params,
    effective_eta,
    epoch_steps,
    offset,
)
from mcsgd.errors import check_range
from mcsgd.stats import mean_err, polyfit_err, ratio_jackknife


class _Running:
    """Per-chain running sums of an SGD run: Σ θ·g, Σ g, Σ θ, Σ |v|², Σ |g|²."""

    def __init__(self, R: int, P: int):
        self.tg, self.g, self.th = np.zeros(R), np.zeros((R, P)), np.zeros((R, P))
        self.vv, self.gg = np.zeros(R), np.zeros(R)

    def add(self, th: np.ndarray, g: np.ndarray, v: np.ndarray) -> None:
        self.tg += np.sum(th * g, axis=1)
        self.g += g
        self.th += th
        self.vv += np.sum(v * v, axis=1)
        self.gg += np.sum(g * g, axis=1)


@dataclass
class _Sums:
    """Cumulative per-chain sums at checkpoints (index 0: t = 0)."""

    steps: list = field(default_factory=list)
    tg: list = field(default_factory=list)
    g: list = field(default_factory=list)
    th: list = field(default_factory=list)
    vv: list = field(default_factory=list)
    gg: list = field(default_factory=list)

    def push(self, t: int, run: _Running) -> None:
        self.steps.append(t)
        self.tg.append(run.tg.copy())
        self.g.append(run.g.copy())
        self.th.append(run.th.copy())
        self.vv.append(run.vv.copy())
        self.gg.append(run.gg.copy())


def _centred_OL(tg: np.ndarray, g: np.ndarray, th: np.ndarray, n) -> np.ndarray:
    """Ō_L = mean θ·g − (mean θ)·(mean g) per chain from window sums over ``n`` steps (a number
    or one per chain)."""
    n = np.asarray(n)[..., None]
    return tg / n[..., 0] - np.sum((th / n) * (g / n), axis=1)


def _start(model: Model, eta, B: int, rng: np.random.Generator, chains: int,
           theta0: np.ndarray | None, **kw) -> SGD:
    """SGD on ``chains`` chains from ``theta0`` (default: one common random start)."""
    if theta0 is None:
        theta0 = np.repeat(model.init(rng, 1), chains, axis=0)
    return SGD(model, eta, B, np.broadcast_to(theta0, (chains, model.dim)), rng, **kw)


def _window(sums: _Sums, j: int, k: int, eta_fac: np.ndarray):
    """Per-chain Ō_L (centred), Ō_L (uncentred), Ō_R over checkpoints [j, k)."""
    n = sums.steps[k] - sums.steps[j]
    tg = sums.tg[k] - sums.tg[j]
    OL = _centred_OL(tg, sums.g[k] - sums.g[j], sums.th[k] - sums.th[j], n)
    OR = 0.5 * eta_fac * (sums.vv[k] - sums.vv[j]) / n
    return OL, tg / n, OR


def fdr_exact(objective: Model, theta_star: np.ndarray, B: int) -> dict:
    """Tr(H C_conn)/B and Tr(C_conn) at θ* (H of the objective, C_conn per-sample covariance)."""
    H = objective.hessian(theta_star)
    C = objective.noise_cov(theta_star)
    return {
        "fdr2_exact": float(np.sum(H * C) / B),
        "trace_C": float(np.trace(C)),
        "trace_H": float(np.trace(H)),
    }


def run_fdr(
    model: Model,
    eta: float,
    B: int,
    rng: np.random.Generator,
    *,
    steps: int = 20000,
    chains: int = 8,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    sampling: str = "with",
    n_checkpoints: int = 200,
    probe_every: int | None = None,
    theta0: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Run SGD and measure FDR1 (half-running averages) and the FDR2 Hessian probe.

    Parameters
    ----------
    model : Model
    eta : float
        Learning rate η > 0.
    B : int
        Mini-batch size.
    rng : numpy.random.Generator
        Initial condition (when ``theta0`` is None: one common random start for all chains) and
        the SGD stream.
    steps, chains : int
        Run length and number of independent chains R.
    momentum, dampening, weight_decay, sampling :
        See :class:`~mcsgd.continuous.sgd.SGD`.
    n_checkpoints : int
        Number of checkpoints for the half-running averages.
    probe_every : int, optional
        Full-gradient probe interval (default 1 for infinite data, else max(1, N // B)).
    theta0 : ndarray (R, P) or (P,), optional
    progress : callable(done_steps, steps), optional
        Called every few hundred steps (:class:`~mcsgd.continuous.sgd.Ticker`).

    Returns
    -------
    dict
        ``scalars``: ratio, ratio_err, ratio_uncentred, ratio_full_gradient(``_err``),
        fdr2_probe, fdr2_probe_err, fdr2_exact
        (``None`` when not computable), trace_C, trace_H, loss, eta_eff;
        ``arrays``: checkpoint_steps (K,), ratio_history (K,), ratio_history_err (K,)
        (jackknife over chains), ratio_uncentred_history (K,),
        OL_history (K,), OR_history (K,), theta_star (P,), theta_mean (P,).
    """
    check_sgd_params(eta, B, momentum, dampening, weight_decay, sampling, model.n_data)
    check_range("steps", steps, 20, None, integer=True)
    check_range("chains", chains, 2, None, integer=True)
    check_range("n_checkpoints", n_checkpoints, 4, None, integer=True)
    steps, chains = int(steps), int(chains)
    sgd = _start(model, eta, B, rng, chains, theta0, momentum=momentum, dampening=dampening,
                 weight_decay=weight_decay, sampling=sampling)
    obj = sgd.objective
    R, P = sgd.R, sgd.P
    if probe_every is None:
        probe_every = epoch_steps(model, B)
    every = max(1, steps // n_checkpoints)
    eta_fac = float(eta) * sgd.momentum_factor
    sums, run = _Sums(), _Running(R, P)
    sums.push(0, run)
    probe_t, probe_ff, probe_loss = [], [], []
    p_thg = np.zeros(R)  # Σ θ·∇f, Σ θ, Σ ∇f over the probes (full gradient, not the mini-batch)
    p_th, p_gf = np.zeros((R, P)), np.zeros((R, P))
    tick = Ticker(progress, steps)
    for t in range(steps):
        th, g = sgd.step()
        tick.advance()
        run.add(th, g, sgd.v)
        if (t + 1) % every == 0:
            sums.push(t + 1, run)
            check_finite(sgd)
        if t >= steps // 2 and (t - steps // 2) % probe_every == 0:
            gf = obj.grad(sgd.theta)
            probe_t.append(t + 1)
            probe_ff.append(np.sum(gf * gf, axis=1))
            probe_loss.append(obj.loss(sgd.theta))
            p_thg += np.sum(sgd.theta * gf, axis=1)
            p_th += sgd.theta
            p_gf += gf
    tick.finish()
    check_finite(sgd)
    K = len(sums.steps) - 1
    ratio_h, ratio_h_err, ratio_u_h, OL_h, OR_h = (np.empty(K) for _ in range(5))
    for k in range(1, K + 1):
        OL, OLu, OR = _window(sums, k // 2, k, eta_fac)
        OL_h[k - 1], OR_h[k - 1] = OL.mean(), OR.mean()
        ratio_h[k - 1], ratio_h_err[k - 1] = ratio_jackknife(OL, OR)
        ratio_u_h[k - 1] = OLu.sum() / OR.sum()
    OL, OLu, OR = _window(sums, K // 2, K, eta_fac)
    ratio, ratio_err = ratio_jackknife(OL, OR)
    ratio_u, ratio_u_err = ratio_jackknife(OLu, OR)
    # FDR1 with the full gradient: Ō_L^∇ = mean (θ − θ_c)·∇f(θ) over the probes, against the same
    # Ō_R window (the second half of the run). θ_c is the mean over all chains: centring each
    # chain on its own mean would bias Ō_L^∇ low by Σ_i h_i Var(θ̄_i) (O(1/(η h n)), ~1.5 % on
    # the 12-mode quadratic with 5000 steps); the pooled mean makes that R times smaller, and
    # any constant θ_c is allowed since ⟨∇f⟩ = 0 at stationarity.
    npb = len(probe_t)
    theta_c = p_th.sum(axis=0) / (npb * R)
    OLf = p_thg / npb - (p_gf / npb) @ theta_c
    ratio_f, ratio_f_err = ratio_jackknife(OLf, OR)
    eta_eff = effective_eta(eta, momentum, dampening)
    ff = np.mean(np.array(probe_ff), axis=0)  # per chain
    probe, probe_err = mean_err(2.0 * ff / eta_eff)
    theta_mean = ((sums.th[K] - sums.th[K // 2]) / (sums.steps[K] - sums.steps[K // 2])).mean(0)
    try:
        tstar = obj.minimum(theta_mean)
        ex = fdr_exact(obj, tstar, int(B))
    except (NotImplementedError, ValueError):
        tstar, ex = np.full(P, np.nan), {"fdr2_exact": None, "trace_C": None, "trace_H": None}
    scalars = {
        "ratio": ratio,
        "ratio_err": ratio_err,
        "ratio_uncentred": ratio_u,
        "ratio_uncentred_err": ratio_u_err,
        "ratio_full_gradient": ratio_f,
        "ratio_full_gradient_err": ratio_f_err,
        "fdr2_probe": probe,
        "fdr2_probe_err": probe_err,
        **ex,
        "loss": float(np.mean(probe_loss)),
        "eta_eff": eta_eff,
        "window_steps": sums.steps[K] - sums.steps[K // 2],
    }
    arrays = {
        "checkpoint_steps": np.asarray(sums.steps[1:]),
        "ratio_history": ratio_h,
        "ratio_history_err": ratio_h_err,
        "ratio_uncentred_history": ratio_u_h,
        "OL_history": OL_h,
        "OR_history": OR_h,
        "theta_star": tstar,
        "theta_mean": theta_mean,
    }
    return {"scalars": scalars, "arrays": arrays}


def quadratic_fdr2_discrete(H: np.ndarray, C: np.ndarray, eta: float, B: int) -> float:
    """Exact 2⟨|∇f|²⟩/η for plain SGD on a quadratic with additive noise C/B.

    The stationary covariance solves Σ = (I−ηH) Σ (I−ηH) + η² C/B; then ⟨|∇f|²⟩ = Tr(H Σ H).
    """
    from scipy.linalg import solve_discrete_lyapunov

    A = np.eye(H.shape[0]) - eta * H
    S = solve_discrete_lyapunov(A, eta**2 * C / B)
    return float(2.0 * np.trace(H @ S @ H) / eta)


def fdr2_eta_scan(
    model: Model,
    etas: list[float],
    B: int,
    rng: np.random.Generator,
    *,
    steps: int = 20000,
    chains: int = 8,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    sampling: str = "with",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """The FDR2 probe 2⟨|∇f|²⟩/η_eff versus η and its quadratic fit a + bη + cη².

    a estimates Tr(H C_conn)/B (the Hessian scale), b and c the anharmonicity. Every η uses the
    same number of steps; chains start at a common random point. ``progress(done, total)``
    counts the steps of all η together.

    Returns
    -------
    dict
        ``rows`` (eta, fdr2_probe, fdr2_probe_err, ratio), ``fdr2_intercept``(``_err``),
        ``fdr2_slope``(``_err``), ``fdr2_curvature``(``_err``), ``fdr2_exact``.
    """
    etas = [float(e) for e in etas]
    rows = []
    exact = None
    for i, e in enumerate(etas):
        r = run_fdr(
            model, e, B, rng, steps=steps, chains=chains, momentum=momentum,
            dampening=dampening, weight_decay=weight_decay, sampling=sampling,
            progress=offset(progress, i * int(steps), len(etas) * int(steps)),
        )["scalars"]
        exact = r["fdr2_exact"] if exact is None else exact
        rows.append(
            {"eta": e, "fdr2_probe": r["fdr2_probe"], "fdr2_probe_err": r["fdr2_probe_err"],
             "ratio": r["ratio"]}
        )
    x = np.array([r["eta"] for r in rows])
    y = np.array([r["fdr2_probe"] for r in rows])
    ye = np.array([r["fdr2_probe_err"] for r in rows])
    deg = min(2, len(rows) - 1)
    out = {"rows": rows, "fdr2_exact": exact}
    if deg >= 1:
        coef, err = polyfit_err(x, y, ye, deg)
        names = ["fdr2_intercept", "fdr2_slope", "fdr2_curvature"]
        for i in range(deg + 1):
            out[names[i]] = float(coef[i])
            out[names[i] + "_err"] = float(err[i])
    return out


def run_adaptive(
    model: Model,
    eta: float,
    B: int,
    rng: np.random.Generator,
    *,
    X: float = 0.01,
    Y: float = 0.5,
    steps: int = 40000,
    chains: int = 4,
    check_every: int = 100,
    min_window: int = 2000,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    sampling: str = "with",
    theta0: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Yaida's adaptive schedule: decay η by (1 − Y) whenever |Ō_L/Ō_R − 1| < X.

    Parameters
    ----------
    X : float in (0, 1)
        Threshold on |Ō_L/Ō_R − 1| (half-running averages since the chain's last reset).
    Y : float in (0, 1)
        Relative learning-rate cut at each decay.
    check_every : int
        Steps between checks.
    min_window : int
        Minimum number of steps since the last reset before a decay is allowed.
    progress : callable(done_steps, steps), optional
        Called every few hundred steps.

    Returns
    -------
    dict
        ``scalars``: eta_final (mean over chains), n_decays (mean), loss_final;
        ``arrays``: check_steps (K,), eta_history (R, K), loss_history (R, K),
        ratio_history (R, K) (NaN before ``min_window``), decay_steps (list per chain as a
        ragged array padded with −1).
    """
    check_sgd_params(eta, B, momentum, dampening, weight_decay, sampling, model.n_data)
    check_range("X", X, 0, 1, lo_open=True, hi_open=True)
    check_range("Y", Y, 0, 1, lo_open=True, hi_open=True)
    check_range("steps", steps, 1, None, integer=True)
    check_range("chains", chains, 1, None, integer=True)
    check_range("check_every", check_every, 1, None, integer=True)
    check_range("min_window", min_window, 1, None, integer=True)
    steps, R = int(steps), int(chains)
    etas = np.full(R, float(eta))
    sgd = _start(model, etas, B, rng, R, theta0, momentum=momentum, dampening=dampening,
                 weight_decay=weight_decay, sampling=sampling)
    obj = sgd.objective
    P = sgd.P
    mf = sgd.momentum_factor
    # cumulative sums at checks since each chain's reset are kept as full histories
    hist, run = _Sums(), _Running(R, P)
    hist.push(0, run)
    reset_k = np.zeros(R, dtype=np.int64)
    check_steps, eta_hist, loss_hist, ratio_hist = [], [], [], []
    decays: list[list[int]] = [[] for _ in range(R)]
    tick = Ticker(progress, steps)
    for t in range(steps):
        th, g = sgd.step()
        tick.advance()
        run.add(th, g, sgd.v)
        if (t + 1) % check_every:
            continue
        check_finite(sgd)
        hist.push(t + 1, run)
        k = len(hist.steps) - 1
        ts = np.asarray(hist.steps)
        j = (reset_k + k) // 2
        n = (t + 1) - ts[j]
        tg_w = run.tg - np.array([hist.tg[jj][r] for r, jj in enumerate(j)])
        g_w = run.g - np.stack([hist.g[jj][r] for r, jj in enumerate(j)])
        th_w = run.th - np.stack([hist.th[jj][r] for r, jj in enumerate(j)])
        vv_w = run.vv - np.array([hist.vv[jj][r] for r, jj in enumerate(j)])
        nn = np.maximum(n, 1)
        OL = _centred_OL(tg_w, g_w, th_w, nn)
        OR = 0.5 * etas * mf * vv_w / nn
        ratio = np.where(OR > 0, OL / np.where(OR > 0, OR, 1), np.nan)
        long_enough = (t + 1 - ts[reset_k]) >= min_window
        ratio = np.where(long_enough, ratio, np.nan)
        check_steps.append(t + 1)
        eta_hist.append(etas.copy())
        loss_hist.append(obj.loss(sgd.theta))
        ratio_hist.append(ratio)
        fire = long_enough & (np.abs(ratio - 1.0) < X)
        if np.any(fire):
            etas = np.where(fire, etas * (1.0 - Y), etas)
            sgd.set_eta(etas)
            reset_k = np.where(fire, k, reset_k)
            for r in np.flatnonzero(fire):
                decays[r].append(t + 1)
    tick.finish()
    check_finite(sgd)
    nmax = max([len(d) for d in decays] + [1])
    decay_arr = np.full((R, nmax), -1, dtype=np.int64)
    for r, d in enumerate(decays):
        decay_arr[r, : len(d)] = d
    loss_hist_a = np.array(loss_hist).T if loss_hist else np.zeros((R, 0))
    scalars = {
        "eta_final": float(np.mean(etas)),
        "n_decays": float(np.mean([len(d) for d in decays])),
        "loss_final": float(np.mean(loss_hist_a[:, -1])) if loss_hist else None,
        "X": float(X),
        "Y": float(Y),
    }
    arrays = {
        "check_steps": np.asarray(check_steps),
        "eta_history": np.array(eta_hist).T if eta_hist else np.zeros((R, 0)),
        "loss_history": loss_hist_a,
        "ratio_history": np.array(ratio_hist).T if ratio_hist else np.zeros((R, 0)),
        "decay_steps": decay_arr,
    }
    return {"scalars": scalars, "arrays": arrays}
