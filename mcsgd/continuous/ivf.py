r"""The (inverse) variance–flatness relation and the "true energy".

Feng & Tu, PNAS 118, e2015617118 (2021); Xiong, Chen, Shi, Ao, arXiv:2207.04932.

**Procedure.** R chains run SGD at fixed (η, B) from the minimum θ* (found by the model, with
weight decay if any); after ``burn_in`` steps the weights are sampled every ``record_every`` steps.
Each chain is centred on its own mean (this removes slow drifts common to a chain) and the
pooled covariance Σ_emp is diagonalised: principal components p_i with variances σ_i² (sorted,
σ_1² largest). The **flatness** F_i is the width of the loss profile along p_i through the mean
weights θ̄, at the level ``level × L0`` with L0 = f(θ̄):

    F_i = s_+ − s_−,   f(θ̄ + s_± p_i) = level · L0,   s_− < 0 < s_+.

The exponent ψ is the slope of log σ_i² = a − ψ log F_i fitted (ordinary least squares, error
from the residuals) over the PCs ``skip_pcs`` … ``skip_pcs + n_pcs − 1`` (exclude drift PCs,
keep well-sampled ones). Equilibrium (Gibbs, isotropic temperature) gives ψ = −2; SGD noise
aligned with the Hessian gives ψ > 0.

**Quadratic oracles** (f = f0 + ½θᵀHθ, small η): Σ = (η/2B) H⁻¹ C, F_i ∝ h_i^{-1/2}, hence
C ∝ I → σ² ∝ 1/h → ψ = −2; C ∝ H → σ² const → ψ = 0; C ∝ H² → σ² ∝ h → ψ = +2.

**Finite-η reference** ``psi_predicted``: the same procedure (PCs sorted by variance, flatness
at ``level`` × f through the centre, OLS over the same PCs) applied to the *predicted* stationary
covariance Σ (below) around θ*, i.e. without sampling noise. On the quadratic with plain SGD it is
exact: Σ_ii = η c_i/(B h_i (2 − η h_i)), so the discreteness factor 1/(2 − η h_i) tilts the
oracles: −1.940, +0.060, +2.060 instead of −2, 0, +2 at η = 0.05, h ∈ [0.2, 4]. What remains
between ``psi`` and ``psi_predicted`` is the PCA sampling bias (sample eigenvalues spread and
sample PCs mix nearly degenerate directions): measured +0.005 and +0.007 (C ∝ I, H²) and +0.044
(C ∝ H, whose Σ is degenerate up to the O(η h) splitting) with 32 chains × 20000 steps, against
a seed-to-seed spread of ψ of 0.005–0.008 (``psi_err``, the OLS error, is 0.010 there).

**True energy.** φ(θ) = ½ (θ−θ̄)ᵀ Σ⁻¹ (θ−θ̄) with Σ the *predicted* stationary covariance: for
plain SGD on a quadratic with additive noise the exact discrete Lyapunov solution
Σ = (I−ηH) Σ (I−ηH) + η² C/B; otherwise the continuous one H Σ + Σ H = (η_eff/B) C with H and
C = C_conn at θ*. The stationary density is ∝ exp(−φ) (temperature 1), and the flatness of φ
along PC i (width at φ = 1/2·``level``... here the level φ = 1) is F^φ_i = 2/√(p_iᵀ Σ⁻¹ p_i).
Under φ the relation is the normal, equilibrium one: σ_i² ∝ (F^φ_i)² (ψ_φ = −2), to the extent
that the predicted Σ matches the measured fluctuations.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcsgd.continuous.models import Model, Quadratic, unwrap, with_weight_decay
from mcsgd.continuous.sgd import (
    SGD,
    Ticker,
    check_finite,
    check_sgd_params,
    effective_eta,
    resolve_burn_in,
)
from mcsgd.errors import ParameterError, check_range
from mcsgd.stats import jackknife_variance, linfit


def flatness(
    loss, centre: np.ndarray, directions: np.ndarray, level: float, scale: np.ndarray
) -> np.ndarray:
    """Width of ``loss`` along each unit direction at ``level`` (bracketing + bisection).

    Parameters
    ----------
    loss : callable
        (M, P) -> (M,) loss values.
    centre : ndarray (P,)
    directions : ndarray (K, P)
        Unit vectors.
    level : float
        Must exceed loss(centre).
    scale : ndarray (K,)
        Initial bracket size per direction (e.g. the PC standard deviation).

    Returns
    -------
    ndarray (K,)
        s_+ − s_− (``inf`` where the loss never reaches the level within 2^40 × scale).
    """
    K, P = directions.shape
    sign = np.concatenate([np.ones(K), -np.ones(K)])
    D = np.concatenate([directions, directions]) * sign[:, None]
    hi = np.concatenate([scale, scale]).astype(float)
    lo = np.zeros(2 * K)
    ok = np.zeros(2 * K, dtype=bool)
    for _ in range(40):
        above = loss(centre + hi[:, None] * D) > level
        ok |= above
        if ok.all():
            break
        lo = np.where(ok, lo, hi)
        hi = np.where(ok, hi, 2 * hi)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        above = loss(centre + mid[:, None] * D) > level
        hi = np.where(above, mid, hi)
        lo = np.where(above, lo, mid)
    s = np.where(ok, 0.5 * (lo + hi), np.inf)
    return s[:K] + s[K:]


def predicted_covariance(
    objective: Model, theta_star: np.ndarray, eta: float, B: int, momentum: float,
    dampening: float,
) -> np.ndarray:
    """Stationary covariance predicted from H and C at θ* (see the module docstring)."""
    from scipy.linalg import solve_continuous_lyapunov, solve_discrete_lyapunov

    H = objective.hessian(theta_star)
    C = objective.noise_cov(theta_star)
    base = unwrap(objective)
    if isinstance(base, Quadratic) and momentum == 0 and dampening == 0:
        A = np.eye(H.shape[0]) - eta * H
        return solve_discrete_lyapunov(A, eta**2 * C / B)
    eta_eff = effective_eta(eta, momentum, dampening)
    return solve_continuous_lyapunov(H, eta_eff * C / B)


def run_ivf(
    model: Model,
    eta: float,
    B: int,
    rng: np.random.Generator,
    *,
    steps: int = 60000,
    burn_in: int | None = None,
    chains: int = 64,
    record_every: int = 5,
    level: float = 2.0,
    skip_pcs: int = 0,
    n_pcs: int | None = None,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    sampling: str = "with",
    jackknife_groups: int = 16,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """PCA of the SGD weight fluctuations, per-PC variance and flatness, the exponent ψ.

    Parameters
    ----------
    model : Model
        Loss with f(θ̄) > 0 (the quadratic needs f0 > 0).
    eta, B : float, int
    rng : numpy.random.Generator
    steps, burn_in, chains, record_every : int
        Recorded steps per chain, discarded steps (default steps // 5), chains, sampling interval.
    level : float > 1
        Flatness level factor: widths are taken where f = level × L0.
    skip_pcs, n_pcs : int
        PCs used in the fit: indices skip_pcs … skip_pcs + n_pcs − 1 (default: all remaining,
        at most 20).
    momentum, dampening, weight_decay, sampling :
        See :class:`~mcsgd.continuous.sgd.SGD`.
    jackknife_groups : int
        Chains are split into min(this, chains) groups for a delete-one-group jackknife of ψ
        (``psi_err_jackknife``, ``psi_true_energy_err_jackknife``) and of the PC variances
        (``variance_err``); 0 or 1 disables it
        (NaN errors).
    progress : callable(done_steps, total_steps), optional
        Called every few hundred steps (burn-in included).

    Returns
    -------
    dict
        ``scalars``: psi, psi_err (OLS, from the residuals), psi_err_jackknife (over chain
        groups: the sampling error), psi_predicted, psi_true_energy, psi_true_energy_err (OLS),
        psi_true_energy_err_jackknife,
        variance (list, fitted PCs), variance_err (jackknife), variance_predicted, flatness
        (list), L0, level, pcs_used; ``arrays``: variance_all (P,), flatness_all (K,),
        flatness_true_energy (K,), variance_predicted (K,), components (K, P), theta_mean (P,).
    """
    check_sgd_params(eta, B, momentum, dampening, weight_decay, sampling, model.n_data)
    check_range("steps", steps, 10, None, integer=True)
    check_range("chains", chains, 1, None, integer=True)
    check_range("record_every", record_every, 1, None, integer=True)
    check_range("level", level, 1, None, lo_open=True)
    check_range("jackknife_groups", jackknife_groups, 0, None, integer=True)
    check_range("skip_pcs", skip_pcs, 0, model.dim - 2, integer=True)
    maxk = model.dim - int(skip_pcs)
    if n_pcs is None:
        n_pcs = min(maxk, 20)
    check_range("n_pcs", n_pcs, 2, maxk, integer=True)
    burn_in = resolve_burn_in(burn_in, steps, 5)
    R, P = int(chains), model.dim
    obj = with_weight_decay(model, weight_decay)
    tstar = obj.minimum(np.zeros(P) if model.name != "mlp" else model.init(rng, 1)[0])
    sgd = SGD(
        model, eta, B, np.tile(tstar, (R, 1)), rng, momentum=momentum, dampening=dampening,
        weight_decay=weight_decay, sampling=sampling,
    )
    tick = Ticker(progress, burn_in + int(steps))
    sgd.run(burn_in, tick)
    groups = np.array_split(np.arange(R), min(int(jackknife_groups), R)) if R >= 2 else []
    if len(groups) < 2:
        groups = []
    S1 = np.zeros((R, P))
    S2g = np.zeros((max(len(groups), 1), P, P))  # per jackknife group (or one pooled sum)
    nbuf = 64  # records are buffered so that the per-group sums cost one matmul per block
    buf = np.empty((nbuf, R, P))
    nb = 0

    def flush(k: int) -> None:
        X = buf[:k]
        for gi, g in enumerate(groups or [np.arange(R)]):
            Xg = X[:, g].reshape(-1, P)
            S2g[gi] += Xg.T @ Xg

    n = 0
    for t in range(int(steps)):
        sgd.step()
        tick.advance()
        if (t + 1) % record_every == 0:
            x = sgd.theta - tstar
            S1 += x
            buf[nb] = x
            nb += 1
            if nb == nbuf:
                flush(nb)
                nb = 0
            n += 1
    flush(nb)
    tick.finish()
    check_finite(sgd)
    if n < 2:
        raise ParameterError("steps / record_every must give at least 2 samples")
    sel = np.arange(int(skip_pcs), int(skip_pcs) + int(n_pcs))
    K = sel[-1] + 1
    Sig = predicted_covariance(obj, tstar, eta, int(B), momentum, dampening)
    Sinv = np.linalg.pinv(Sig)

    def analyse(chains_in: np.ndarray, S2: np.ndarray) -> tuple:
        """PCA, flatness and the ψ fit from the chains ``chains_in`` (pooled S2 given)."""
        mean_r = S1[chains_in] / n
        cov = (S2 - n * mean_r.T @ mean_r) / (chains_in.size * n)
        cov = 0.5 * (cov + cov.T)
        w, V = np.linalg.eigh(cov)
        order = np.argsort(w)[::-1]
        var_all, comps = w[order], V[:, order].T
        theta_mean = tstar + mean_r.mean(axis=0)
        L0 = float(obj.loss(theta_mean[None])[0])
        if not L0 > 0:
            raise ParameterError("the loss at the mean weights must be > 0 to define flatness")
        flat = flatness(obj.loss, theta_mean, comps[:K], level * L0,
                        np.sqrt(np.abs(var_all[:K])))
        x, y = np.log(flat[sel]), np.log(var_all[sel])
        good = np.isfinite(x) & np.isfinite(y)
        _, slope, _, slope_err = linfit(x[good], y[good])
        phi_flat = 2.0 / np.sqrt(np.einsum("kp,pq,kq->k", comps[:K], Sinv, comps[:K]))
        psi_phi = -linfit(np.log(phi_flat[sel]), y)[1]
        return -slope, slope_err, var_all, comps, theta_mean, L0, flat, y, psi_phi

    psi, psi_err, var_all, comps, theta_mean, L0, flat, y, _ = analyse(np.arange(R), S2g.sum(0))
    # delete-one-group jackknife over independent chains: the sampling error of ψ and of the
    # sorted PC variances (PCA and flatness redone without the group)
    psi_jk, phi_jk, var_jk_err = float("nan"), float("nan"), np.full(K, np.nan)
    if groups:
        reps = [analyse(np.setdiff1d(np.arange(R), g), S2g.sum(0) - S2g[gi])
                for gi, g in enumerate(groups)]
        pj = np.array([r[0] for r in reps])
        vj = np.array([r[2][:K] for r in reps])
        qj = np.array([r[8] for r in reps])
        psi_jk = float(np.sqrt(jackknife_variance(pj)))
        phi_jk = float(np.sqrt(jackknife_variance(qj)))
        var_jk_err = np.sqrt(jackknife_variance(vj))
    # true energy
    q = np.einsum("kp,pq,kq->k", comps[:K], Sinv, comps[:K])
    flat_phi = 2.0 / np.sqrt(q)
    var_pred = np.einsum("kp,pq,kq->k", comps[:K], Sig, comps[:K])
    _, s_phi, _, s_phi_err = linfit(np.log(flat_phi[sel]), y)
    # the same procedure on the predicted covariance (no sampling): the finite-eta reference
    wp, Vp = np.linalg.eigh(0.5 * (Sig + Sig.T))
    op = np.argsort(wp)[::-1]
    var_p, comps_p = wp[op][:K], Vp[:, op].T[:K]
    flat_p = flatness(obj.loss, tstar, comps_p, level * float(obj.loss(tstar[None])[0]),
                      np.sqrt(np.abs(var_p)))
    xp, yp = np.log(flat_p[sel]), np.log(np.abs(var_p[sel]))
    good_p = np.isfinite(xp) & np.isfinite(yp) & (var_p[sel] > 0)
    psi_pred = -linfit(xp[good_p], yp[good_p])[1] if good_p.sum() >= 2 else float("nan")
    scalars = {
        "psi": psi,
        "psi_err": psi_err,
        "psi_err_jackknife": psi_jk,
        "psi_predicted": psi_pred,
        "psi_true_energy": -s_phi,
        "psi_true_energy_err": s_phi_err,
        "psi_true_energy_err_jackknife": phi_jk,
        "variance": var_all[sel],
        "flatness": flat[sel],
        "variance_predicted": var_pred[sel],
        "variance_err": var_jk_err[sel],
        "L0": L0,
        "level": float(level),
        "pcs_used": [int(sel[0]), int(sel[-1])],
    }
    arrays = {
        "variance_all": var_all,
        "flatness_all": flat,
        "flatness_true_energy": flat_phi,
        "variance_predicted": var_pred,
        "components": comps[:K],
        "theta_mean": theta_mean,
        "theta_star": tstar,
    }
    return {"scalars": scalars, "arrays": arrays}
