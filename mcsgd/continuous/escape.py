r"""Escape times between wells and flat/sharp occupations versus batch size.

Dai & Zhu, arXiv:2112.00987 (Fokker–Planck view of large-batch training). On a 1D potential with
additive mini-batch noise, f_i(x) = U(x) + a_i x with Var(a_i) = s, SGD at small η is the SDE
dθ = −U'(θ) dt + sqrt(η_eff s/B) dW in time t = η_eff × steps, i.e. Langevin dynamics at

    T = η_eff s / (2B),     η_eff = η(1−ν)/(1−μ).

**Escape.** Chains start at the left minimum x_a and are absorbed when they reach the next
minimum x_b. K is the mean first-passage time. Overdamped Kramers:

    K_steps ≈ (2π / sqrt(U''(x_a) |U''(x_m)|)) exp(ΔU/T) / η_eff,

so ln(η_eff K_steps) = const + ΔU/T = const + (2ΔU/s)(1−μ)/(1−ν) · B/η: the slope of
ln(η_eff K) in B/η is ``slope_theory`` = 2ΔU(1−μ)/((1−ν) s). The slope is fitted (weighted, on
ln K with error δK/K) on rows with ΔU/T ≥ ``asymptotic_min`` (default 3.75; closer to the
threshold the Kramers prefactor corrections make it come out low). ``slope_sde`` is the same
fit applied to the exact mean first-passage time of the SDE (1D quadrature, ``sde_steps``), which
includes those corrections but not the discreteness of the steps. Chains still in the well after
``max_steps`` are censored: K = (Σ escape times + Σ censored times)/n_escaped (the exponential
maximum-likelihood estimator) with error K/sqrt(n_escaped). Before any chain runs, every row's
escape time is predicted (the exact SDE value); a row expected to see fewer than
min(5, chains/2) escapes within ``max_steps`` is refused with a ParameterError saying what to
change (larger η, smaller B, or the ``max_steps`` needed), instead of returning K = inf and a
null slope after the whole budget.

**Occupation.** On U(x) = depth (x²−1)² (1 + κ(x+1)²) (equal depths, curvature 8·depth at −1
and 8·depth(1+4κ) at +1), the fraction of time spent on the flat side of the barrier is compared
with the Gibbs weight at the same T (quadrature of exp(−U/T) on each side of the barrier) and with
its Laplace (low-T) limit p_flat = sqrt(h_sharp)/(sqrt(h_sharp) + sqrt(h_flat)), independent of B.
Errors are standard errors over independent chains (started half in each well).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcsgd.continuous.models import Wells
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
from mcsgd.stats import censored_exponential_mean, linfit, mean_err


def _check_wells(model) -> None:
    if not isinstance(model, Wells):
        raise ParameterError("escape/occupation need a Wells potential (model = 'wells')")


def _sgd_at(model: Wells, x0: np.ndarray | float, chains: int, eta: float, B: int,
            rng: np.random.Generator, **kw) -> SGD:
    """SGD on ``chains`` chains started at the minimum with x set to ``x0`` (one value per chain
    or one for all); ``kw`` goes to :class:`SGD`."""
    th0 = np.tile(model.minimum(), (int(chains), 1))
    th0[:, 0] = x0
    return SGD(model, eta, B, th0, rng, **kw)


def temperature_theory(eta: float, B: int, s: float, momentum: float = 0.0,
                       dampening: float = 0.0) -> float:
    """T = η_eff s / (2B)."""
    return effective_eta(eta, momentum, dampening) * s / (2.0 * B)


def kramers_steps(model: Wells, T: float, eta_eff: float) -> tuple[float, float]:
    """(Kramers mean escape time in steps, ΔU) from the leftmost minimum over the next barrier."""
    mins, maxs = model.stationary_points()
    a = mins[0]
    m = maxs[maxs > a][0]
    dU = float(model.U1(m) - model.U1(a))
    pref = 2 * np.pi / np.sqrt(model.d2U1(a) * abs(model.d2U1(m)))
    return float(pref * np.exp(dU / T) / eta_eff), dU


def sde_mfpt_steps(model: Wells, T: float, eta_eff: float) -> float:
    """Exact mean first-passage time (in steps) of the SDE from the left minimum to the next.

    τ = (1/T) ∫_{x_a}^{x_b} dy e^{U(y)/T} ∫_{−∞}^{y} dz e^{−U(z)/T} (reflecting at −∞),
    evaluated on a fine grid; returned as τ/η_eff.
    """
    from scipy.integrate import cumulative_trapezoid

    mins, _ = model.stationary_points()
    xa, xb = mins[0], mins[1]
    x = np.linspace(xa - 3.0 * (xb - xa), xb, 400001)
    U = model.U1(x) - model.U1(xa)
    inner = cumulative_trapezoid(np.exp(-U / T), x, initial=0.0)
    sel = x >= xa
    tau = np.trapezoid(np.exp(U[sel] / T) * inner[sel], x[sel]) / T
    return float(tau / eta_eff)


# a row must be predicted to see at least this many escapes (capped at chains/2) within max_steps
MIN_ESCAPES = 5


def check_escape_budget(rows: list[dict], chains: int, max_steps: int) -> None:
    """Refuse, before any chain runs, rows whose escapes the step budget cannot resolve.

    ``rows`` hold ``B``, ``eta``, ``T``, ``barrier_over_T`` and the predicted mean escape time
    ``sde_steps`` (exact SDE mean first-passage time, in steps). Escapes are ~exponential, so
    ``chains (1 − exp(−max_steps/K))`` are expected to escape; below ``min(MIN_ESCAPES,
    chains/2)`` the row's K is infinite or a guess (and the slope null). Raises
    :class:`ParameterError` naming the unresolvable rows and what to change.
    """
    need = min(MIN_ESCAPES, chains / 2)
    bad = []
    for r in rows:
        K = r["sde_steps"]
        expected = chains * -np.expm1(-max_steps / K) if np.isfinite(K) and K > 0 else 0.0
        if expected < need:
            bad.append((K, expected, r))
    if not bad:
        return
    bad.sort(key=lambda x: x[0])
    K0, e0, r0 = bad[0]
    K1, _, r1 = bad[-1]
    steps = -K1 * np.log1p(-need / chains)
    span = "" if len(bad) == 1 else f" up to {K1:.2g} (B = {r1['B']}, eta = {r1['eta']:g})"
    raise ParameterError(
        f"escape: {len(bad)} of {len(rows)} (B, eta) rows cannot be resolved within max_steps = "
        f"{max_steps}: predicted mean escape time {K0:.2g} steps at B = {r0['B']}, eta = "
        f"{r0['eta']:g} (barrier/T = {r0['barrier_over_T']:.3g}, T = eta s/(2B)){span}, so about "
        f"{e0:.2g} of {chains} chains would escape; use a larger eta, a smaller B, or "
        f"max_steps >= {steps:.2g}")


def escape_times(
    model: Wells,
    eta: float,
    B: int,
    rng: np.random.Generator,
    *,
    chains: int = 400,
    max_steps: int = 200000,
    momentum: float = 0.0,
    dampening: float = 0.0,
    sampling: str = "with",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """First-passage times (steps) from the leftmost minimum to the next one, R chains.

    ``progress(done, max_steps)`` is called every few hundred steps and once at the end with
    ``max_steps`` (the loop stops early when every chain escaped).

    Returns
    -------
    dict
        ``times`` (R,) int (−1: censored), ``mean``, ``err``, ``n_escaped``.
    """
    _check_wells(model)
    check_sgd_params(eta, B, momentum, dampening, 0.0, sampling, model.n_data)
    check_range("chains", chains, 2, None, integer=True)
    check_range("max_steps", max_steps, 1, None, integer=True)
    mins, _ = model.stationary_points()
    xa, xb = mins[0], mins[1]
    R = int(chains)
    sgd = _sgd_at(model, xa, R, eta, B, rng, momentum=momentum, dampening=dampening,
                  sampling=sampling)
    times = np.full(R, -1, dtype=np.int64)
    alive = np.arange(R)
    tick = Ticker(progress, int(max_steps))
    for t in range(1, int(max_steps) + 1):
        sgd.step()
        tick.advance()
        done = sgd.theta[:, 0] >= xb
        if done.any():
            times[alive[done]] = t
            keep = ~done
            alive = alive[keep]
            sgd.keep(keep)
            if alive.size == 0:
                break
        if t % 4096 == 0:
            check_finite(sgd)
    tick.finish()
    mean, err = censored_exponential_mean(times, max_steps)
    return {"times": times, "mean": mean, "err": err, "n_escaped": int(np.sum(times > 0))}


def run_escape(
    model: Wells,
    Bs: list[int],
    etas: list[float] | float,
    rng: np.random.Generator,
    *,
    chains: int = 400,
    max_steps: int = 200000,
    momentum: float = 0.0,
    dampening: float = 0.0,
    sampling: str = "with",
    asymptotic_min: float = 3.75,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Escape times over B (and η) and the slope of ln K in B/η against 2ΔU/s.

    ``progress(done, total)`` counts ``max_steps`` per (B, η) row (a row whose chains all
    escaped counts as finished), so its ETA is an upper bound.

    Returns
    -------
    dict
        ``scalars``: rows (B, eta, T, barrier_over_T, escape_steps_mean, escape_steps_err,
        n_escaped, kramers_steps, sde_steps), slope, slope_err, slope_theory, slope_sde,
        barrier, rows_in_fit;
        ``arrays``: times (n_rows, R) (−1: censored).
    """
    _check_wells(model)
    etas = [float(etas)] if np.isscalar(etas) else [float(e) for e in etas]
    Bs = [int(b) if float(b).is_integer() else b for b in Bs]
    if not Bs or not etas:
        raise ParameterError("B and eta need at least one value each")
    for b in Bs:
        check_range("B", b, 1, None, integer=True)
    check_range("asymptotic_min", asymptotic_min, 0, None)
    check_range("chains", chains, 2, None, integer=True)
    check_range("max_steps", max_steps, 1, None, integer=True)
    rows, times = [], []
    dU = None
    for e in etas:  # predictions first: refuse a hopeless budget before any chain runs
        check_sgd_params(e, 1, momentum, dampening)
        eta_eff = effective_eta(e, momentum, dampening)
        for b in Bs:
            T = temperature_theory(e, b, model.s, momentum, dampening)
            kr, dU = kramers_steps(model, T, eta_eff)
            rows.append({"B": b, "eta": e, "T": T, "barrier_over_T": dU / T,
                         "kramers_steps": kr, "sde_steps": sde_mfpt_steps(model, T, eta_eff)})
    check_escape_budget(rows, int(chains), int(max_steps))
    total = len(rows) * int(max_steps)
    for i, row in enumerate(rows):
        r = escape_times(model, row["eta"], row["B"], rng, chains=chains, max_steps=max_steps,
                         momentum=momentum, dampening=dampening, sampling=sampling,
                         progress=offset(progress, i * int(max_steps), total))
        row.update({"escape_steps_mean": r["mean"], "escape_steps_err": r["err"],
                    "n_escaped": r["n_escaped"]})
        times.append(r["times"])
    order = ("B", "eta", "T", "barrier_over_T", "escape_steps_mean", "escape_steps_err",
             "n_escaped", "kramers_steps", "sde_steps")
    rows = [{k: row[k] for k in order} for row in rows]
    slope_theory = 2.0 * dU * (1 - momentum) / ((1 - dampening) * model.s)
    fit = [r for r in rows if r["barrier_over_T"] >= asymptotic_min and r["n_escaped"] > 1]
    if len({r["B"] / r["eta"] for r in fit}) < 2:
        fit = [r for r in rows if r["n_escaped"] > 1]
    if len({r["B"] / r["eta"] for r in fit}) >= 2:
        x = np.array([r["B"] / r["eta"] for r in fit])
        eff = np.array([effective_eta(r["eta"], momentum, dampening) for r in fit])
        y = np.log(eff * np.array([r["escape_steps_mean"] for r in fit]))
        ye = np.array([r["escape_steps_err"] / r["escape_steps_mean"] for r in fit])
        _, slope, _, slope_err = linfit(x, y, ye)
        ysde = np.log(eff * np.array([r["sde_steps"] for r in fit]))
        slope_sde = linfit(x, ysde)[1]
    else:
        slope = slope_err = slope_sde = float("nan")
    scalars = {
        "rows": rows,
        "slope": slope,
        "slope_err": slope_err,
        "slope_theory": slope_theory,
        "slope_sde": slope_sde,
        "barrier": dU,
        "s": model.s,
        "rows_in_fit": len(fit),
    }
    return {"scalars": scalars, "arrays": {"times": np.array(times)}}


def gibbs_flat_fraction(model: Wells, T: float) -> float:
    """Gibbs probability of the flat side of the barrier, ∝ ∫ exp(−U/T) (1D quadrature)."""
    from scipy.integrate import quad

    mins, maxs = model.stationary_points()
    a, b = mins[0], mins[-1]
    m = maxs[(maxs > a) & (maxs < b)][0]
    umin = float(min(model.U1(a), model.U1(b)))
    w = lambda x: np.exp(-(model.U1(x) - umin) / T)  # noqa: E731
    width = 5.0 * (b - a)  # exp(-U/T) is negligible beyond (U grows like x^4 or faster)
    left = quad(w, a - width, a, limit=400)[0] + quad(w, a, m, limit=400)[0]
    right = quad(w, m, b, limit=400)[0] + quad(w, b, b + width, limit=400)[0]
    flat_left = model.d2U1(a) <= model.d2U1(b)
    return float(left / (left + right) if flat_left else right / (left + right))


def laplace_flat_fraction(model: Wells, T: float | None = None) -> float:
    """Low-T limit: weights exp(−U_i/T)/sqrt(U''_i); equal depths give sqrt(h_s)/(√h_s+√h_f)."""
    mins, _ = model.stationary_points()
    a, b = mins[0], mins[-1]
    ha, hb = float(model.d2U1(a)), float(model.d2U1(b))
    ua, ub = float(model.U1(a)), float(model.U1(b))
    if T is None or ua == ub:
        wa, wb = 1 / np.sqrt(ha), 1 / np.sqrt(hb)
    else:
        u0 = min(ua, ub)
        wa, wb = np.exp(-(ua - u0) / T) / np.sqrt(ha), np.exp(-(ub - u0) / T) / np.sqrt(hb)
    return float(wa / (wa + wb) if ha <= hb else wb / (wa + wb))


def run_occupation(
    model: Wells,
    Bs: list[int],
    eta: float,
    rng: np.random.Generator,
    *,
    steps: int = 100000,
    burn_in: int | None = None,
    chains: int = 128,
    momentum: float = 0.0,
    dampening: float = 0.0,
    sampling: str = "with",
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Fraction of time in the flat well versus B, next to Gibbs and Laplace.

    ``progress(done, total)`` counts the steps of all B together (burn-in included), every few
    hundred steps.

    Returns
    -------
    dict
        ``scalars``: rows (B, T, p_flat, p_flat_err, p_flat_gibbs, p_flat_laplace,
        crossings_per_chain), h_flat, h_sharp, barrier_x; ``arrays``: B (nB,),
        p_flat_per_chain (nB, R).
    """
    _check_wells(model)
    check_range("steps", steps, 10, None, integer=True)
    check_range("chains", chains, 2, None, integer=True)
    burn_in = resolve_burn_in(burn_in, steps, 10)
    mins, maxs = model.stationary_points()
    a, b = mins[0], mins[-1]
    m = maxs[(maxs > a) & (maxs < b)][0]
    flat_left = model.d2U1(a) <= model.d2U1(b)
    R = int(chains)
    rows, fracs = [], []
    tick = Ticker(progress, len(Bs) * (burn_in + int(steps)))
    for B in Bs:
        check_sgd_params(eta, B, momentum, dampening, 0.0, sampling, model.n_data)
        T = temperature_theory(eta, B, model.s, momentum, dampening)
        sgd = _sgd_at(model, np.where(np.arange(R) % 2 == 0, a, b), R, eta, B, rng,
                      momentum=momentum, dampening=dampening, sampling=sampling)
        sgd.run(burn_in, tick)
        left = np.zeros(R)
        side = sgd.theta[:, 0] < m
        cross = np.zeros(R)
        for _ in range(int(steps)):
            sgd.step()
            tick.advance()
            now = sgd.theta[:, 0] < m
            left += now
            cross += now != side
            side = now
        check_finite(sgd)
        frac = left / steps if flat_left else 1 - left / steps
        p, pe = mean_err(frac)
        fracs.append(frac)
        rows.append({
            "B": int(B), "T": T, "p_flat": p, "p_flat_err": pe,
            "p_flat_gibbs": gibbs_flat_fraction(model, T),
            "p_flat_laplace": laplace_flat_fraction(model, T),
            "crossings_per_chain": float(cross.mean()),
        })
    tick.finish()
    ha, hb = float(model.d2U1(a)), float(model.d2U1(b))
    return {
        "scalars": {"rows": rows, "h_flat": min(ha, hb), "h_sharp": max(ha, hb),
                    "barrier_x": float(m)},
        "arrays": {"B": np.asarray([int(b) for b in Bs]), "p_flat_per_chain": np.array(fracs)},
    }
