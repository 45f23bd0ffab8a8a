r"""The fluctuation–dissipation theorem of stochastic linear learning.

Han, Park, Lee, Han, Phys. Rev. E 104, 034126 (2021), arXiv:2106.02220. For a linear model
ŷ = W x̃ with the quadratic loss f(W) = (1/2N) Σ_i |W x̃_i − y_i|² (optionally + (λ/2)|W|²), f is
exactly quadratic: f − f* = ½(θ−θ*)·∇f. With FDR1 centred on θ* this gives the **exact**
stationary identity for SGD with unbiased mini-batches

    ⟨f⟩ − f* = (η/4)⟨|∇f_B|²⟩          (momentum: (η/4)(1+μ)/(1−ν)⟨|v|²⟩),

whatever the (multiplicative) noise. The **Langevin** (small-η) prediction replaces the
fluctuating noise by its value at the minimum,

    ⟨f⟩ − f* ≈ (η_eff/(4B)) Tr C_conn(W*),     η_eff = η(1−ν)/(1−μ),

and fails once η·E|x̃|²/B is not small: the per-sample gradient noise (Wx̃−y)x̃ᵀ grows with the
distance to W*, and the ∇f∇fᵀ part of E[g gᵀ] is dropped. ``x_scale`` = η E|x̃|²/B is reported
with every measurement.

Estimators: chains start at W*, run ``burn_in`` steps, then time averages over ``steps`` steps
per chain; errors are standard errors over the R independent chains. The excess loss is computed
as the exact quadratic form ½(θ−θ*)ᵀH(θ−θ*) (no cancellation against f*).
Epoch shuffling (``sampling="without"``) correlates the noise with the past and the identity is
no longer exact.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcsgd.continuous.models import LinearRegression, Model, unwrap, with_weight_decay
from mcsgd.continuous.sgd import (
    SGD,
    Ticker,
    check_finite,
    check_sgd_params,
    effective_eta,
    offset,
    resolve_burn_in,
)
from mcsgd.errors import ParameterError, check_range
from mcsgd.stats import mean_err, ratio_jackknife


def _is_linear(model: Model) -> bool:
    return isinstance(unwrap(model), LinearRegression)


def run_linear_fdt(
    model: Model,
    eta: float,
    B: int,
    rng: np.random.Generator,
    *,
    steps: int = 20000,
    burn_in: int | None = None,
    chains: int = 8,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    sampling: str = "with",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Measure ⟨f⟩ − f*, (η/4)⟨|∇f_B|²⟩ and the Langevin prediction at one (η, B).

    Parameters
    ----------
    model : LinearRegression
    eta : float
        Learning rate.
    B : int
        Mini-batch size (≤ N).
    rng : numpy.random.Generator
    steps, burn_in, chains : int
        Measurement steps per chain, discarded steps (default steps // 4), independent chains.
    momentum, dampening, weight_decay, sampling :
        See :class:`~mcsgd.continuous.sgd.SGD`.
    progress : callable(done_steps, total_steps), optional
        Called every few hundred steps (burn-in included).

    Returns
    -------
    dict
        ``scalars``: excess_loss (+ _err), rhs_exact (+ _err), rhs_langevin, ratio_exact
        (excess/rhs_exact, jackknife error), ratio_langevin, x_scale (η E|x̃|²/B), f_star,
        trace_C; ``arrays``: excess_per_chain (R,), rhs_per_chain (R,), theta_star (P,).
    """
    if not _is_linear(model):
        raise ParameterError("linear-fdt needs a linear-regression model (model = 'linreg')")
    check_sgd_params(eta, B, momentum, dampening, weight_decay, sampling, model.n_data)
    check_range("steps", steps, 10, None, integer=True)
    check_range("chains", chains, 2, None, integer=True)
    burn_in = resolve_burn_in(burn_in, steps, 4)
    obj = with_weight_decay(model, weight_decay)
    tstar = obj.minimum()
    R = int(chains)
    sgd = SGD(
        model, eta, B, np.tile(tstar, (R, 1)), rng, momentum=momentum, dampening=dampening,
        weight_decay=weight_decay, sampling=sampling,
    )
    tick = Ticker(progress, burn_in + int(steps))
    sgd.run(burn_in, tick)
    exc = np.zeros(R)
    vv = np.zeros(R)
    for _ in range(int(steps)):
        th, _g = sgd.step()
        tick.advance()
        exc += obj.excess_loss(th, tstar)
        vv += np.sum(sgd.v * sgd.v, axis=1)
    tick.finish()
    check_finite(sgd)
    exc /= steps
    rhs = 0.25 * eta * sgd.momentum_factor * vv / steps
    C = obj.noise_cov(tstar)
    eta_eff = effective_eta(eta, momentum, dampening)
    langevin = eta_eff / (4.0 * B) * float(np.trace(C))
    e_m, e_e = mean_err(exc)
    r_m, r_e = mean_err(rhs)
    ratio, ratio_err = ratio_jackknife(exc, rhs)
    base = unwrap(model)
    scalars = {
        "eta": float(eta),
        "B": int(B),
        "excess_loss": e_m,
        "excess_loss_err": e_e,
        "rhs_exact": r_m,
        "rhs_exact_err": r_e,
        "rhs_langevin": langevin,
        "ratio_exact": ratio,
        "ratio_exact_err": ratio_err,
        "ratio_langevin": e_m / langevin if langevin > 0 else None,
        "ratio_langevin_err": e_e / langevin if langevin > 0 else None,
        "x_scale": eta * base.mean_sq_input() / B,
        "f_star": float(obj.loss(tstar[None])[0]),
        "trace_C": float(np.trace(C)),
    }
    arrays = {"excess_per_chain": exc, "rhs_per_chain": rhs, "theta_star": tstar}
    return {"scalars": scalars, "arrays": arrays}


def linear_fdt_grid(
    model: Model,
    etas: list[float],
    Bs: list[int],
    rng: np.random.Generator,
    progress: Callable[[int, int], None] | None = None,
    **kw,
) -> list[dict]:
    """:func:`run_linear_fdt` over the product of ``etas`` × ``Bs``; one row of scalars each.
    ``progress(done, total)`` counts the steps of all points together (burn-in included)."""
    steps = int(kw.get("steps", 20000))
    per = resolve_burn_in(kw.get("burn_in"), steps, 4) + steps  # steps of one point
    total = len(etas) * len(Bs) * per
    rows = []
    for e in etas:
        for b in Bs:
            rows.append(run_linear_fdt(model, float(e), int(b), rng,
                                       progress=offset(progress, len(rows) * per, total),
                                       **kw)["scalars"])
    return rows


def exact_stationary_excess(
    model: Model, eta: float, B: int, weight_decay: float = 0.0
) -> float:
    """Exact stationary ⟨f⟩ − f* of plain SGD (i.i.d. mini-batches with replacement) on a
    linear model, multiplicative noise included.

    With δ = θ − θ*, the per-sample gradients are affine, g_i = A_i δ + g*_i (mean A_i = H,
    mean g*_i = 0), so Σ = ⟨δδᵀ⟩ solves the closed linear equation

        Σ = (I − ηH) Σ (I − ηH) + (η²/B) (mean_i A_i Σ A_iᵀ − H Σ H + C*),

    C* = C_conn(θ*), and ⟨f⟩ − f* = ½ Tr(H Σ). The Langevin value (η/4B) Tr C* is its
    small-η limit. Solved directly (P² unknowns; meant for small P).

    Raises
    ------
    ParameterError
        If the model is not linear or the second moment does not converge (η too large).
    """
    if not _is_linear(model):
        raise ParameterError("exact_stationary_excess needs the linear regression model")
    check_sgd_params(eta, B, weight_decay=weight_decay, n_data=model.n_data)
    obj = with_weight_decay(model, weight_decay)
    tstar = obj.minimum()
    P = obj.dim
    G0 = obj.per_sample_grads(tstar)  # (N, P)
    A = np.stack([obj.per_sample_grads(tstar + e) - G0 for e in np.eye(P)], axis=2)  # (N,P,P)
    H = A.mean(axis=0)
    C = G0.T @ G0 / G0.shape[0]
    eye = np.eye(P)
    M = eye - eta * H
    # vec(X Σ Yᵀ) = (X ⊗ Y) vec(Σ) (row-major vec)
    L = np.kron(M, M) - (eta**2 / B) * np.kron(H, H)
    L += (eta**2 / B) * np.einsum("nij,nkl->ikjl", A, A).reshape(P * P, P * P) / A.shape[0]
    if np.max(np.abs(np.linalg.eigvals(L))) >= 1:
        raise ParameterError("eta: the SGD second moment diverges for this (eta, B)")
    S = np.linalg.solve(np.eye(P * P) - L, (eta**2 / B) * C.ravel()).reshape(P, P)
    return float(0.5 * np.trace(H @ S))
