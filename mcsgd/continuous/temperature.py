r"""Effective temperature T_eff(B, η) of SGD on continuous losses.

The continuous counterpart of the discrete calibration T(B) (SPEC §4). Two thermometers, both
exact for a Gibbs state ∝ exp(−f/T):

* **configurational temperature** T_conf = ⟨|∇f|²⟩ / ⟨Tr H⟩ (integration by parts:
  ⟨|∇f|²⟩ = T⟨∇²f⟩), with the full-data gradient and the exact Laplacian (Hutchinson estimate for
  the MLP), measured every ``record_every`` steps after ``burn_in``; error: jackknife over chains;
* **per-mode temperatures** T_i = λ_i Var(u_i·θ) along the Hessian eigenvectors (λ_i, u_i) at the
  minimum θ* (equipartition; variance about the pooled mean of all chains).

They are shown next to the SDE prediction for isotropic noise, ``T_theory`` = η_eff s/(2B) with
s = Tr C_conn(θ*)/P (the per-parameter per-sample gradient variance; η_eff = η(1−ν)/(1−μ)), and
two refinements:

* ``T_fdr2`` = η_eff Tr(H C_conn)/(2B Tr H): the small-η value of T_conf for anisotropic noise
  (FDR2), so T_conf ≠ η s/(2B) measures the anisotropy of the noise;
* per-mode ``T_modes_theory`` = η_eff (u_iᵀ C_conn u_i)/(2B);
* for a quadratic (plain SGD, additive noise) the exact discrete ``T_conf_exact`` =
  Tr(H Σ H)/Tr H with Σ from the discrete Lyapunov equation (it differs from the SDE value by
  O(ηh)).
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
    epoch_steps,
    resolve_burn_in,
)
from mcsgd.errors import check_range
from mcsgd.stats import ratio_jackknife, standard_error


def run_temperature(
    model: Model,
    Bs: list[int],
    eta: float,
    rng: np.random.Generator,
    *,
    steps: int = 20000,
    burn_in: int | None = None,
    chains: int = 16,
    record_every: int | None = None,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    sampling: str = "with",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Measure T_conf and per-mode temperatures for each B at fixed η.

    Parameters
    ----------
    model : Model
    Bs : list of int
        Batch sizes.
    eta : float
    rng : numpy.random.Generator
    steps, burn_in, chains : int
        Measured steps per chain, discarded steps (default steps // 5), chains.
    record_every : int, optional
        Measurement interval (default 1 for infinite data, max(1, N // B) otherwise).
    progress : callable(done_steps, total_steps), optional
        Called every few hundred steps; counts the steps of all B together (burn-in included).

    Returns
    -------
    dict
        ``scalars``: rows (B, T_conf, T_conf_err, T_theory, T_fdr2, T_conf_exact (quadratic only),
        T_mode_median, T_mode_min, T_mode_max), s, eta_eff;
        ``arrays``: B (nB,), T_modes (nB, M), T_modes_err (nB, M) (standard error over chains),
        T_modes_theory (nB, M), hessian_eigenvalues (M,).
    """
    check_range("steps", steps, 10, None, integer=True)
    check_range("chains", chains, 2, None, integer=True)
    if len(Bs) == 0:
        check_range("B", float("nan"))
    for b in Bs:
        check_sgd_params(eta, b, momentum, dampening, weight_decay, sampling, model.n_data)
    burn_in = resolve_burn_in(burn_in, steps, 5)
    R, P = int(chains), model.dim
    obj = with_weight_decay(model, weight_decay)
    start = model.init(rng, 1)[0] if model.name == "mlp" else None
    tstar = obj.minimum(start)
    H = obj.hessian(tstar)
    lam, U = np.linalg.eigh(H)
    keep = lam > 1e-8 * lam.max()
    lam, U = lam[keep], U[:, keep]
    C = obj.noise_cov(tstar)
    s = float(np.trace(C)) / P
    eta_eff = effective_eta(eta, momentum, dampening)
    Cu = np.einsum("pi,pq,qi->i", U, C, U)
    trHC, trH = float(np.sum(H * C)), float(np.trace(H))
    base = unwrap(obj)
    rows, Tm_all, Tm_err_all, Tm_th_all = [], [], [], []
    tick = Ticker(progress, len(Bs) * (burn_in + int(steps)))
    for B in Bs:
        B = int(B)
        every = record_every or epoch_steps(model, B)
        sgd = SGD(model, eta, B, np.tile(tstar, (R, 1)), rng, momentum=momentum,
                  dampening=dampening, weight_decay=weight_decay, sampling=sampling)
        sgd.run(burn_in, tick)
        gg, lap = np.zeros(R), np.zeros(R)
        y1 = np.zeros((R, lam.size))
        y2 = np.zeros((R, lam.size))
        n = 0
        for t in range(int(steps)):
            sgd.step()
            tick.advance()
            if (t + 1) % every:
                continue
            th = sgd.theta
            g = obj.grad(th)
            gg += np.sum(g * g, axis=1)
            lap += obj.laplacian(th, rng)
            y = (th - tstar) @ U
            y1 += y
            y2 += y * y
            n += 1
        check_finite(sgd)
        T_conf, T_err = ratio_jackknife(gg, lap)
        mean = y1.sum(0) / (R * n)
        var = y2.sum(0) / (R * n) - mean**2
        Tm = lam * var
        # per-chain mode temperatures around the pooled mean: their spread over the R
        # independent chains is the standard error of Tm
        Tm_r = lam * (y2 / n - 2 * mean * y1 / n + mean**2)
        Tm_err = standard_error(Tm_r)
        Tm_th = eta_eff * Cu / (2.0 * B)
        row = {
            "B": B,
            "T_conf": T_conf,
            "T_conf_err": T_err,
            "T_theory": eta_eff * s / (2.0 * B),
            "T_fdr2": eta_eff * trHC / (2.0 * B * trH),
            "T_mode_median": float(np.median(Tm)),
            "T_mode_min": float(Tm.min()),
            "T_mode_max": float(Tm.max()),
        }
        if isinstance(base, Quadratic) and momentum == 0 and dampening == 0:
            from scipy.linalg import solve_discrete_lyapunov

            Sig = solve_discrete_lyapunov(np.eye(P) - eta * H, eta**2 * C / B)
            row["T_conf_exact"] = float(np.trace(H @ Sig @ H) / trH)
        rows.append(row)
        Tm_all.append(Tm)
        Tm_err_all.append(Tm_err)
        Tm_th_all.append(Tm_th)
    tick.finish()
    return {
        "scalars": {"rows": rows, "s": s, "eta_eff": eta_eff, "eta": float(eta)},
        "arrays": {
            "B": np.asarray([int(b) for b in Bs]),
            "T_modes": np.array(Tm_all),
            "T_modes_err": np.array(Tm_err_all),
            "T_modes_theory": np.array(Tm_th_all),
            "hessian_eigenvalues": lam,
        },
    }
