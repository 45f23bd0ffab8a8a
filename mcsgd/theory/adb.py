"""Averaged detailed balance (ADB): the temperature of SGD-like dynamics (SPEC §3).

Assume the SGD stationary state is the paramagnet at T and choose T such that, averaged over
the local environment of the updated node, either the probability flux between configurations
differing by one move balances ("flux"), or the mean energy change per attempted move vanishes
("drift"). For Poisson(c) degrees both reduce (Poisson thinning) to

    S_g(T) = sum_{m, n >= 0} Pois(m; c x/(x+q-1)) Pois(n; c/(x+q-1)) g(n - m) A(m -> n) = 0,

with g(k) = sign(k) (flux) or g(k) = k (drift), A(m -> n) = P_acc(m, n; B); for d-regular
graphs the two Poisson factors are replaced by the multinomial of (m, n, d-m-n) with
probabilities (x, 1, q-2)/(x+q-1). Ising is the q = 2 case with x -> y = exp(-2/T), i.e.
T_ising = 2 T_colouring(q = 2). With A = Metropolis at T*, S_g(T*) = 0 term by term for either
g, so the estimate is exact for Metropolis. The root is bracketed by x in [0, 1], i.e.
T in [0, inf]: S_g > 0 at x = 0 and S_g < 0 at x = 1 whenever A favours downhill moves. The
full derivation and tables are in ``docs/theory.md``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import gammaln, xlogy

from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.theory._checks import check_array, check_q, scalar_out
from mcsgd.theory.acceptance import p_acc_table
from mcsgd.theory.paramagnet import x_of_T

# scipy.optimize and scipy.stats are imported where used: a run's acceptance table needs
# neither, and importing them costs ~0.3 s of every `mcsgd run` start-up

DEGREES = ("poisson", "regular")
CONDITIONS = ("flux", "drift")
MODELS = ("coloring", "ising")
DEFAULT_TAIL = 1e-12


class _Env:
    """Local environment of the updated node in the paramagnet, as a function of x.

    Colouring: x = exp(-1/T), probabilities (p_a, p_b, p_o) = (x, 1, q-2)/(x+q-1) for a
    neighbour having the current colour a, the proposed colour b, another colour.
    Ising: q = 2 with x = y = exp(-2/T) (p_a: violated coupling, p_b: satisfied).
    ``weights(x)`` returns W[m, n] = P[n_a = m, n_b = n] on 0..D.
    """

    def __init__(self, c: float, q: int, degree: str, tail: float) -> None:
        self.c, self.q, self.degree = float(c), int(q), degree
        if degree == "poisson":
            lam_max = self.c / (self.q - 1)  # largest of c x/(x+q-1), c/(x+q-1) on x in [0, 1]
            from scipy.stats import poisson

            self.D = max(1, int(poisson.isf(tail, lam_max)) + 1) if lam_max > 0 else 1
            self.k = np.arange(self.D + 1, dtype=np.float64)
            self._lgk = gammaln(self.k + 1.0)
        else:
            d = int(round(self.c))
            self.D = d
            m = np.arange(d + 1, dtype=np.float64)
            r = d - m[:, None] - m[None, :]
            self._r = np.where(r >= 0, r, 0.0)
            with np.errstate(invalid="ignore"):
                logc = gammaln(d + 1.0) - gammaln(m + 1)[:, None] - gammaln(m + 1)[None, :]
                logc = logc - gammaln(self._r + 1.0)
            self._coef = np.where(r >= 0, np.exp(logc), 0.0)
            self.k = m

    def weights(self, x: float) -> tuple[np.ndarray, np.ndarray] | np.ndarray:
        z = x + self.q - 1.0
        if self.degree == "poisson":
            la, lb = self.c * x / z, self.c / z
            wa = np.exp(xlogy(self.k, la) - la - self._lgk)
            wb = np.exp(xlogy(self.k, lb) - lb - self._lgk)
            return wa, wb
        pa, pb, po = x / z, 1.0 / z, (self.q - 2.0) / z
        return self._coef * np.outer(pa**self.k, pb**self.k) * po**self._r

    def residual(self, x: float, K: np.ndarray) -> float:
        w = self.weights(x)
        if isinstance(w, tuple):
            return float(w[0] @ K @ w[1])
        return float(np.sum(w * K))

    def residual_rounding(self, x: float, K: np.ndarray) -> float:
        """Rounding-error scale of :meth:`residual`: 64 eps * sum |W K|."""
        w = self.weights(x)
        absk = np.abs(K)
        mag = w[0] @ absk @ w[1] if isinstance(w, tuple) else np.sum(w * absk)
        return 64.0 * np.finfo(np.float64).eps * float(mag)


def _gmatrix(D: int, condition: str) -> np.ndarray:
    k = np.arange(D + 1, dtype=np.float64)
    diff = k[None, :] - k[:, None]  # n - m = dE in units of the energy step
    return np.sign(diff) if condition == "flux" else diff


def _solve_x(env: _Env, K: np.ndarray, A: np.ndarray) -> float:
    """Root x in [0, 1] of sum W(x) K; 0 or 1 at the ends, nan if no root (negative T)."""
    if env.c == 0.0:  # c -> 0 limit: only the (0 -> 1) / (1 -> 0) pair survives
        return A[0, 1] / A[1, 0] if A[1, 0] > 0 else math.nan
    # S >= 0 at x = 0 (every term has n >= m = 0) and S <= 0 at x = 1 when A favours downhill
    # moves (W symmetric there); values within rounding of 0 count as roots at the ends.
    s0 = env.residual(0.0, K)
    if s0 <= env.residual_rounding(0.0, K):
        return 0.0
    s1 = env.residual(1.0, K)
    if abs(s1) <= env.residual_rounding(1.0, K):
        return 1.0
    if s1 > 0.0:
        return math.nan
    from scipy.optimize import brentq

    return brentq(env.residual, 0.0, 1.0, args=(K,), xtol=1e-300, rtol=4.0 * np.finfo(float).eps,
                  maxiter=500)


def _x_to_T(x: float, scale: float) -> float:
    if not (0.0 <= x <= 1.0):
        return math.nan
    if x == 0.0:
        return 0.0
    if x == 1.0:
        return math.inf
    return -scale / math.log(x)


def _validate_adb(
    c: Any, q: Any, degree: str, condition: str, model: str, tail: float
) -> tuple[float, int, float]:
    check_choice("model", model, MODELS)
    check_choice("degree", degree, DEGREES)
    check_choice("condition", condition, CONDITIONS)
    check_range("tail", tail, 0, 1e-3, lo_open=True)
    if degree == "regular":
        check_range("c", c, 1, None, integer=True)
    else:
        check_range("c", c, 0, None)
        if not math.isfinite(float(c)):
            raise ParameterError(f"c = {c!r} must be finite")
    if model == "ising":
        if q is not None:
            raise ParameterError(f"q = {q!r} must be None for model = 'ising' (spins: q = 2)")
        return float(c), 2, 2.0
    if q is None:
        raise ParameterError("q must be given for model = 'coloring' (an integer >= 2)")
    return float(c), check_q(q), 1.0


def _setup(
    c: Any, q: Any, degree: str, condition: str, model: str, tail: float
) -> tuple[_Env, np.ndarray, float]:
    """Validate one ADB problem; its environment, g(n - m) matrix and energy scale."""
    c, q, scale = _validate_adb(c, q, degree, condition, model, tail)
    env = _Env(c, q, degree, tail)
    return env, _gmatrix(env.D, condition), scale


def adb_residual(
    T: float,
    acceptance: np.ndarray,
    c: float,
    q: int | None = None,
    degree: str = "poisson",
    condition: str = "flux",
    *,
    model: str = "coloring",
    tail: float = DEFAULT_TAIL,
) -> float:
    """Averaged detailed-balance residual S(T) of an acceptance table in the paramagnet at T.

    Parameters
    ----------
    T : float
        Trial temperature >= 0 (energy units; ``inf`` allowed).
    acceptance : numpy.ndarray
        float64[D'+1, D'+1], ``acceptance[n_cur, n_new]`` = probability of accepting a move from
        a value with n_cur conflicting neighbours (colouring: same colour; Ising: violated
        couplings) to one with n_new; D' must reach the truncation D (see Notes).
    c : float
        Mean degree >= 0 (``degree="poisson"``) or integer degree d >= 1 (``"regular"``).
    q : int or None
        Number of colours >= 2 for ``model="coloring"``; None for ``model="ising"``.
    degree : {"poisson", "regular"}
        Degree of the updated node: Poisson(c) or exactly c.
    condition : {"flux", "drift"}
        ``"flux"``: sum over pairs of configurations differing by one uphill move of the
        stationary flux difference; ``"drift"``: mean energy change per attempted move.
    model : {"coloring", "ising"}
    tail : float
        Poisson truncation: neighbour counts are summed up to D with
        P[Pois(c/(q-1)) > D] < tail.

    Returns
    -------
    float
        S(T) (flux: probability per attempted move; drift: energy per attempted move in units
        of the energy step). Positive below the ADB temperature, negative above it.
    """
    env, G, scale = _setup(c, q, degree, condition, model, tail)
    check_range("T", T, 0, None, allow_inf=True)
    K = G * _check_table(acceptance, env.D)
    x = float(x_of_T(np.asarray(float(T)), scale))
    return env.residual(x, K)


def _check_table(acceptance: Any, D: int) -> np.ndarray:
    A = np.asarray(acceptance, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ParameterError(f"acceptance must be a square 2-d table, got shape {A.shape}")
    if A.shape[0] < D + 1:
        raise ParameterError(
            f"acceptance table of size {A.shape[0]} is too small: the environment needs "
            f"neighbour counts up to {D} (size {D + 1})"
        )
    if np.any(~np.isfinite(A)) or np.any(A < 0) or np.any(A > 1):
        raise ParameterError("acceptance entries must be probabilities in [0, 1]")
    return A[: D + 1, : D + 1]


def T_adb_from_table(
    acceptance: np.ndarray,
    c: float,
    q: int | None = None,
    degree: str = "poisson",
    condition: str = "flux",
    *,
    model: str = "coloring",
    tail: float = DEFAULT_TAIL,
) -> float:
    """ADB temperature of an arbitrary single-variable acceptance table.

    Solves ``adb_residual(T, acceptance, ...) = 0`` for T with brentq on x = exp(-s/T) in
    [0, 1] (s = 1 colouring, 2 Ising), i.e. T in [0, inf]. Parameters as in
    :func:`adb_residual`.

    Returns
    -------
    float
        T in energy units; 0 if the residual vanishes at T = 0, inf if it vanishes at T = inf,
        ``nan`` if it is positive at T = inf (no positive-temperature root). For Poisson
        ``c = 0`` the c -> 0 limit ``x = A[0, 1] / A[1, 0]``.
    """
    env, G, scale = _setup(c, q, degree, condition, model, tail)
    A = _check_table(acceptance, env.D)
    return _x_to_T(_solve_x(env, G * A, A), scale)


def T_adb_curve(
    B: Any,
    c: float,
    q: int | None = None,
    degree: str = "poisson",
    condition: str = "flux",
    *,
    model: str = "coloring",
    tail: float = DEFAULT_TAIL,
) -> np.ndarray:
    """ADB estimate of T(B) for an array of mini-batch fractions (one root search per point).

    Parameters
    ----------
    B : array_like
        Mini-batch fractions in (0, 1].
    c, q, degree, condition, model, tail
        As in :func:`adb_residual`.

    Returns
    -------
    numpy.ndarray
        float64 array of the shape of ``B``: T_adb in energy units (0 at B = 1).

    Notes
    -----
    The environment (truncation D, multinomial coefficients, g(n - m)) is set up once; per
    point one P_acc table of size D+1 and one brentq call, each residual evaluation being a
    (D+1)^2 bilinear form. 100 points at c = 20, q = 5 take a few tens of milliseconds.
    """
    env, G, scale = _setup(c, q, degree, condition, model, tail)
    b = check_array("B", B, 0, 1, lo_open=True)
    out = np.empty(b.shape, dtype=np.float64)
    flat = out.reshape(-1)
    for i, bv in enumerate(b.reshape(-1)):
        A = p_acc_table(env.D, float(bv))
        flat[i] = _x_to_T(_solve_x(env, G * A, A), scale)
    return out


def T_adb(
    B: Any,
    c: float,
    q: int,
    degree: str = "poisson",
    condition: str = "flux",
    *,
    tail: float = DEFAULT_TAIL,
) -> Any:
    """Averaged-detailed-balance estimate of the temperature of SGD-like q-colouring dynamics.

    Parameters
    ----------
    B : float or array_like
        Mini-batch fraction in (0, 1].
    c : float
        Mean degree >= 0 (``"poisson"``) or integer degree >= 1 (``"regular"``).
    q : int
        Number of colours >= 2.
    degree : {"poisson", "regular"}
    condition : {"flux", "drift"}
    tail : float
        Poisson truncation tail mass.

    Returns
    -------
    float or numpy.ndarray
        T_adb(B) in energy units (T_adb >= T0(B); equal to T0 in the limit c -> 0).
    """
    out = T_adb_curve(B, c, q, degree, condition, model="coloring", tail=tail)
    return scalar_out(out, B)


def T_adb_ising(
    B: Any,
    c: float,
    degree: str = "poisson",
    condition: str = "flux",
    *,
    tail: float = DEFAULT_TAIL,
) -> Any:
    """Averaged-detailed-balance estimate of the temperature of SGD-like +-J Ising dynamics.

    Spin flips with mini-batch flags on couplings, E = -sum J s_i s_j; see
    :func:`T_adb` for the parameters. Returns T_adb in energy units (>= 2 T0(B), the
    temperature of flips from a spin with no violated coupling).
    """
    out = T_adb_curve(B, c, None, degree, condition, model="ising", tail=tail)
    return scalar_out(out, B)
