"""Theory of the effective temperature T(B) of SGD-like mini-batch dynamics (SPEC §2.2, §3).

Models and units
----------------
Colouring (antiferromagnetic Potts, q colours): E = number of monochromatic edges; a move of
node i from colour a to colour b, with ``n_old`` neighbours of colour a and ``n_new`` of colour
b, changes the energy by dE = n_new - n_old.
Ising (E = -sum J_ij s_i s_j, J = +-1): a spin flip at i with ``n_old`` violated couplings
(J s_i s_j = -1) and ``n_new`` satisfied ones changes the energy by dE = 2 (n_new - n_old).
Temperatures are in the energy units of the model (k_B = 1); energies are per node.

Mini-batch acceptance
---------------------
Each half-edge is in the mini-batch with probability B, independently, and a move is accepted
iff the mini-batch energy change is <= 0. Only the flags of the n_old "old" and n_new "new"
neighbours matter, so

    P_acc(n_old, n_new; B) = P[Bin(n_new, B) <= Bin(n_old, B)]      (independent binomials).

Moves with n_old = 0 are accepted with (1-B)^(n_new): Metropolis at T0(B) = -1/ln(1-B) for
colouring and at 2 T0(B) for Ising (energy step 2).

Paramagnet on tree-like graphs
------------------------------
Given the colour a of a node, its neighbours' colours are i.i.d. with P(a) = x/(x+q-1) and
P(b) = 1/(x+q-1) for each b != a, x = exp(-1/T); hence e_para(T) = (c/2) x/(q-1+x).
Ising: each coupling at a node is satisfied independently with probability
1/(1+y), y = exp(-2/T); e_para(T) = -(c/2) tanh(1/T).

Averaged detailed balance (ADB)
-------------------------------
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

# scipy.optimize and scipy.stats are imported where used: a run's acceptance table needs
# neither, and importing them costs ~0.3 s of every `mcsgd run` start-up

__all__ = [
    "p_acc",
    "p_acc_table",
    "metropolis_table",
    "T0",
    "e_para_coloring",
    "T_from_e_para_coloring",
    "de_para_coloring_dT",
    "e_para_ising",
    "T_from_e_para_ising",
    "de_para_ising_dT",
    "adb_residual",
    "T_adb_from_table",
    "T_adb",
    "T_adb_ising",
    "T_adb_curve",
    "DEGREES",
    "CONDITIONS",
    "MODELS",
]

DEGREES = ("poisson", "regular")
CONDITIONS = ("flux", "drift")
MODELS = ("coloring", "ising")
DEFAULT_TAIL = 1e-12


# ---------------------------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------------------------
def _as_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} = {value!r} is not a number or array of numbers") from None
    return arr


def _check_array(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
) -> np.ndarray:
    """Float64 array of ``value``; raise :class:`ParameterError` naming the first bad element."""
    arr = _as_array(name, value)
    flat = arr.ravel()
    bad = np.isnan(flat)
    if lo is not None:
        bad |= (flat < lo) | ((flat == lo) if lo_open else False)
    if hi is not None:
        bad |= (flat > hi) | ((flat == hi) if hi_open else False)
    if integer:
        with np.errstate(invalid="ignore"):
            bad |= np.isfinite(flat) & (flat != np.floor(flat))
        bad |= np.isinf(flat)
    if bad.any():
        v = float(flat[np.argmax(bad)])
        if integer and math.isfinite(v) and not float(v).is_integer():
            raise ParameterError(f"{name} = {v!r} must be an integer")
        check_range(name, v, lo, hi, lo_open=lo_open, hi_open=hi_open)
        raise ParameterError(f"{name} = {v!r} must be a finite integer")
    return arr


def _scalar_out(arr: np.ndarray, like: Any) -> Any:
    """Return a Python float if every input was a scalar, else the array."""
    return float(arr) if np.ndim(like) == 0 and np.ndim(arr) == 0 else arr


def _check_q(q: Any) -> int:
    check_range("q", q, 2, None, integer=True)
    return int(q)


# ---------------------------------------------------------------------------------------------
# acceptance tables
# ---------------------------------------------------------------------------------------------
def _binom_pmf_rows(dmax: int, B: float) -> np.ndarray:
    """float64[dmax+1, dmax+1]: row n is the Bin(n, B) pmf on k = 0..dmax.

    Pascal recurrence pmf(n+1, k) = (1-B) pmf(n, k) + B pmf(n, k-1): a convex combination, so
    it is stable, and exact at B = 1 (and B -> 0).
    """
    P = np.zeros((dmax + 1, dmax + 1))
    P[0, 0] = 1.0
    a, b = 1.0 - B, B
    for n in range(dmax):
        P[n + 1, : n + 2] = a * P[n, : n + 2]
        P[n + 1, 1 : n + 2] += b * P[n, : n + 1]
    return P


def p_acc_table(max_degree: int, B: float) -> np.ndarray:
    """Exact mini-batch acceptance table P_acc(n_old, n_new; B).

    Parameters
    ----------
    max_degree : int
        Largest neighbour count D >= 0 covered by the table.
    B : float
        Mini-batch fraction in (0, 1] (probability that a half-edge is flagged).

    Returns
    -------
    numpy.ndarray
        float64[D+1, D+1], ``table[n_old, n_new] = P[Bin(n_new, B) <= Bin(n_old, B)]``
        (dimensionless probability). Column ``n_new = 0`` is exactly 1; at ``B = 1`` the table is
        exactly ``n_new <= n_old``.

    Notes
    -----
    ``table = pmf @ cdf.T`` with ``pmf[n_old, y] = P[Bin(n_old, B) = y]`` and
    ``cdf[n_new, y] = P[Bin(n_new, B) <= y]``, both from the Pascal recurrence; O(D^3) flops in
    one BLAS call (D = 200: about a millisecond).
    """
    check_range("max_degree", max_degree, 0, None, integer=True)
    check_range("B", B, 0, 1, lo_open=True)
    D, B = int(max_degree), float(B)
    pmf = _binom_pmf_rows(D, B)
    cdf = np.cumsum(pmf, axis=1)
    table = pmf @ cdf.T
    np.clip(table, 0.0, 1.0, out=table)
    table[:, 0] = 1.0
    return table


def p_acc(n_old: Any, n_new: Any, B: Any) -> Any:
    """Exact mini-batch acceptance probability P[Bin(n_new, B) <= Bin(n_old, B)].

    Parameters
    ----------
    n_old, n_new : int or array_like of int
        Neighbours holding the current (old) and the proposed (new) value (colouring), or
        violated and satisfied couplings (Ising spin flip); >= 0.
    B : float or array_like
        Mini-batch fraction in (0, 1]. The three arguments broadcast together.

    Returns
    -------
    float or numpy.ndarray
        Acceptance probability (dimensionless), shape of the broadcast inputs.
    """
    o = _check_array("n_old", n_old, 0, None, integer=True)
    n = _check_array("n_new", n_new, 0, None, integer=True)
    b = _check_array("B", B, 0, 1, lo_open=True)
    o, n, b = np.broadcast_arrays(o, n, b)
    out = np.empty(o.shape, dtype=np.float64)
    if out.size:
        oi, ni = o.astype(np.int64), n.astype(np.int64)
        dmax = int(max(oi.max(), ni.max()))
        for bv in np.unique(b):
            mask = b == bv
            out[mask] = p_acc_table(dmax, float(bv))[oi[mask], ni[mask]]
    if np.ndim(n_old) == 0 and np.ndim(n_new) == 0 and np.ndim(B) == 0:
        return float(out)
    return out


def metropolis_table(max_degree: int, T: float, energy_scale: float = 1.0) -> np.ndarray:
    """Metropolis acceptance table in the (n_old, n_new) form of :func:`p_acc_table`.

    Parameters
    ----------
    max_degree : int
        Largest neighbour count D >= 0.
    T : float
        Temperature >= 0 in energy units (``inf`` allowed).
    energy_scale : float
        Energy change per unit of n_new - n_old (1 for colouring, 2 for Ising), > 0.

    Returns
    -------
    numpy.ndarray
        float64[D+1, D+1], ``table[n_old, n_new] = min(1, exp(-energy_scale (n_new - n_old) / T))``;
        exactly ``n_new <= n_old`` at T = 0 and all ones at T = inf.
    """
    check_range("max_degree", max_degree, 0, None, integer=True)
    check_range("T", T, 0, None, allow_inf=True)
    check_range("energy_scale", energy_scale, 0, None, lo_open=True)
    if not math.isfinite(float(energy_scale)):
        raise ParameterError(f"energy_scale = {energy_scale!r} must be finite")
    k = np.arange(int(max_degree) + 1, dtype=np.float64)
    de = (k[None, :] - k[:, None]) * float(energy_scale)
    T = float(T)
    if T == 0.0:
        return (de <= 0).astype(np.float64)
    if math.isinf(T):
        return np.ones_like(de)
    return np.where(de <= 0, 1.0, np.exp(-np.maximum(de, 0.0) / T))


def T0(B: Any, energy_scale: float = 1.0) -> Any:
    """Temperature of the moves from a conflict-free variable, T0(B) = -energy_scale / ln(1 - B).

    Parameters
    ----------
    B : float or array_like
        Mini-batch fraction in (0, 1].
    energy_scale : float
        Energy change per unit of n_new - n_old: 1 for colouring (SPEC T0), 2 for Ising.

    Returns
    -------
    float or numpy.ndarray
        T0 in energy units; T0(1) = 0 and T0 -> inf as B -> 0.
    """
    b = _check_array("B", B, 0, 1, lo_open=True)
    check_range("energy_scale", energy_scale, 0, None, lo_open=True)
    with np.errstate(divide="ignore"):
        out = -float(energy_scale) / np.log1p(-b)
    out = np.where(b == 1.0, 0.0, out)
    return _scalar_out(out, B)


# ---------------------------------------------------------------------------------------------
# paramagnetic energies
# ---------------------------------------------------------------------------------------------
def _x_of_T(t: np.ndarray, scale: float = 1.0) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(t == 0, 0.0, np.exp(-scale / np.where(t == 0, 1.0, t)))


def e_para_coloring(T: Any, c: float, q: int) -> Any:
    """Paramagnetic energy density of q-colouring on a tree-like graph.

    Parameters
    ----------
    T : float or array_like
        Temperature >= 0 (``inf`` allowed), energy units.
    c : float
        Mean degree >= 0 (Poisson graphs) or degree d (regular graphs).
    q : int
        Number of colours >= 2.

    Returns
    -------
    float or numpy.ndarray
        e = (c/2) x / (q-1+x), x = exp(-1/T): monochromatic edges per node; 0 at T = 0 and
        c/(2q) at T = inf.
    """
    t = _check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    q = _check_q(q)
    x = _x_of_T(t)
    return _scalar_out(0.5 * float(c) * x / (q - 1 + x), T)


def de_para_coloring_dT(T: Any, c: float, q: int) -> Any:
    """Derivative de/dT of :func:`e_para_coloring` (energy per node per unit temperature).

    de/dT = (c/2) (q-1) x / ((q-1+x)^2 T^2), x = exp(-1/T); 0 at T = 0 and T = inf.
    Parameters as in :func:`e_para_coloring`.
    """
    t = _check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    q = _check_q(q)
    x = _x_of_T(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_t2 = np.where(t == 0, 0.0, 1.0 / np.where(t == 0, 1.0, t) ** 2)
    out = 0.5 * float(c) * (q - 1) * x * inv_t2 / (q - 1 + x) ** 2
    return _scalar_out(out, T)


def T_from_e_para_coloring(e: Any, c: float, q: int) -> Any:
    """Inverse of :func:`e_para_coloring`: the temperature of a paramagnet of energy ``e``.

    Parameters
    ----------
    e : float or array_like
        Energy density (monochromatic edges per node).
    c : float
        Mean degree > 0 (or degree d of a regular graph).
    q : int
        Number of colours >= 2.

    Returns
    -------
    float or numpy.ndarray
        T = -1/ln x with x = (q-1) e / (c/2 - e): T = 0 at e = 0, T = inf at e = c/(2q), ``nan``
        outside [0, c/(2q)] (e > c/(2q) would be a negative temperature).
    """
    ea = _as_array("e", e)
    check_range("c", c, 0, None, lo_open=True)
    q = _check_q(q)
    half = 0.5 * float(c)
    ok = (ea >= 0) & (ea <= half / q)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (q - 1) * ea / (half - ea)
        t = -1.0 / np.log(x)
    t = np.where(ea == 0, 0.0, t)
    t = np.where(ea == half / q, np.inf, t)
    t = np.where(ok, t, np.nan)
    return _scalar_out(t, e)


def e_para_ising(T: Any, c: float) -> Any:
    """Paramagnetic energy density of a +-J Ising model on a tree-like graph.

    Parameters
    ----------
    T : float or array_like
        Temperature >= 0 (``inf`` allowed), energy units.
    c : float
        Mean degree >= 0 (d for regular graphs).

    Returns
    -------
    float or numpy.ndarray
        e = -(c/2) tanh(1/T) per node, whatever the signs of the couplings (SPEC §1.2).
    """
    t = _check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    with np.errstate(divide="ignore"):
        beta = np.where(t == 0, np.inf, 1.0 / np.where(t == 0, 1.0, t))
    return _scalar_out(-0.5 * float(c) * np.tanh(beta), T)


def de_para_ising_dT(T: Any, c: float) -> Any:
    """Derivative de/dT of :func:`e_para_ising`: (c/2) sech^2(1/T) / T^2 (0 at T = 0, inf).

    Parameters as in :func:`e_para_ising`; sech^2(1/T) = 4y/(1+y)^2, y = exp(-2/T), so no
    overflow at small T.
    """
    t = _check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    y = _x_of_T(t, 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_t2 = np.where(t == 0, 0.0, 1.0 / np.where(t == 0, 1.0, t) ** 2)
    out = 0.5 * float(c) * 4.0 * y / (1.0 + y) ** 2 * inv_t2
    return _scalar_out(out, T)


def T_from_e_para_ising(e: Any, c: float) -> Any:
    """Inverse of :func:`e_para_ising`: T = 1 / artanh(-2e/c).

    Parameters
    ----------
    e : float or array_like
        Energy density per node.
    c : float
        Mean degree > 0 (d for regular graphs).

    Returns
    -------
    float or numpy.ndarray
        T = 0 at e = -c/2, T = inf at e = 0, ``nan`` outside [-c/2, 0].
    """
    ea = _as_array("e", e)
    check_range("c", c, 0, None, lo_open=True)
    t = -2.0 * ea / float(c)
    ok = (t >= 0) & (t <= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        T = 1.0 / np.arctanh(np.clip(t, 0.0, 1.0))
    T = np.where(t == 1, 0.0, T)
    T = np.where(t == 0, np.inf, T)
    return _scalar_out(np.where(ok, T, np.nan), e)


# ---------------------------------------------------------------------------------------------
# averaged detailed balance
# ---------------------------------------------------------------------------------------------
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
    return float(c), _check_q(q), 1.0


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
    c, q, scale = _validate_adb(c, q, degree, condition, model, tail)
    check_range("T", T, 0, None, allow_inf=True)
    env = _Env(c, q, degree, tail)
    A = _check_table(acceptance, env.D)
    K = _gmatrix(env.D, condition) * A
    x = float(_x_of_T(np.asarray(float(T)), scale))
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
    c, q, scale = _validate_adb(c, q, degree, condition, model, tail)
    env = _Env(c, q, degree, tail)
    A = _check_table(acceptance, env.D)
    K = _gmatrix(env.D, condition) * A
    return _x_to_T(_solve_x(env, K, A), scale)


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
    c, q, scale = _validate_adb(c, q, degree, condition, model, tail)
    b = _check_array("B", B, 0, 1, lo_open=True)
    env = _Env(c, q, degree, tail)
    G = _gmatrix(env.D, condition)
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
    return _scalar_out(out, B)


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
    return _scalar_out(out, B)
