"""Statistics: the one home for error bars, autocorrelation, tests and intervals.

Standard errors and the jackknife variance; batch means and the integrated autocorrelation
time (Sokal window) of a time series; the jackknife, plain and clustered by instance
(:class:`ClusteredError`); paired and Welch t-tests; Wilson and instance-clustered
(Korn-Graubard) intervals for proportions, order-statistic quantiles and the median interval
(order statistics / Woodruff), Student-t intervals; the censored exponential mean (escape
times); means over independent chains, ratio jackknife and weighted line/polynomial fits.
Everything is NumPy/SciPy on small arrays (no numba): it runs once per result, not per sweep.
``scipy.stats`` is imported where it is used: a run imports this module and should not pay
for it at start-up.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from mcsgd.errors import MIN_DISORDER_INSTANCES, ParameterError

# --- Standard errors ----------------------------------------------------------------------------

def standard_error(x: np.ndarray, axis: int = 0) -> np.ndarray | float:
    """Standard error of the mean of independent values along ``axis``: sd (ddof=1) / sqrt(n)."""
    x = np.asarray(x, float)
    return np.std(x, axis=axis, ddof=1) / np.sqrt(x.shape[axis])


def jackknife_variance(pseudo: np.ndarray, axis: int = 0) -> np.ndarray | float:
    """Jackknife variance ``(n-1)/n sum_i (theta_i - mean theta)^2`` of the n leave-one-out
    estimates ``pseudo`` along ``axis`` (its square root is the jackknife standard error)."""
    x = np.asarray(pseudo, float)
    n = x.shape[axis]
    return (n - 1) / n * np.sum((x - x.mean(axis=axis, keepdims=True)) ** 2, axis=axis)


def censored_exponential_mean(times: np.ndarray, censored_at: float) -> tuple[float, float]:
    """Maximum-likelihood mean of exponential waiting times with right censoring.

    ``times`` int/float[R]: the time of each event, <= 0 for a unit still waiting at
    ``censored_at``. Returns (Σ event times + Σ censored times) / n_events and its error
    mean / sqrt(n_events); (inf, inf) without any event.
    """
    n_ev = int(np.sum(times > 0))
    total = float(np.sum(times[times > 0])) + float(np.sum(times <= 0)) * censored_at
    mean = total / n_ev if n_ev else float("inf")
    err = mean / np.sqrt(n_ev) if n_ev else float("inf")
    return mean, err


# --- Batch means and autocorrelation -------------------------------------------------------------

def batch_means_error(x: np.ndarray, nbatch: int = 20) -> float:
    """Standard error of the mean of a correlated series by batch means (``nbatch`` batches).

    The batch count ignores the autocorrelation time: with batches shorter than a few tau_int
    the error is underestimated. Prefer :func:`batch_means_tau`.
    """
    x = np.asarray(x, float)
    nb = min(nbatch, len(x))
    if nb < 2:
        return float("nan")
    m = len(x) // nb
    bm = x[: m * nb].reshape(nb, m).mean(axis=1)
    return float(standard_error(bm))


MIN_BATCH_TAU = 10.0  # every batch spans at least this many integrated autocorrelation times


MIN_BATCHES = 10  # fewer batches of MIN_BATCH_TAU tau_int: the window is flagged too short


def batch_means_tau(x: np.ndarray) -> dict[str, float | int | bool]:
    """Standard error of the mean of one correlated series by batch means sized from tau_int.

    ``x`` float64[T] (e.g. the window energy density per stored block). tau_int is estimated by
    :func:`integrated_autocorr_time` (in samples); the series is cut into
    ``n_batches = T // ceil(MIN_BATCH_TAU * tau_int)`` nearly equal consecutive batches, so every
    batch spans >= 10 tau_int, and ``err = sd(batch means) / sqrt(n_batches)`` with
    ``n_batches - 1`` degrees of freedom. Fewer than 2 such batches: ``err`` is the estimate
    ``sqrt(2 tau_int var(x) / T)`` (itself unreliable on so short a series). ``too_short`` is
    True below ``MIN_BATCHES`` batches (a window shorter than ~100 tau_int) or for T < 4.

    Returns
    -------
    dict with ``err``, ``tau_int`` (samples), ``n_batches``, ``batch_len`` (samples, minimum),
    ``too_short``.
    """
    x = np.asarray(x, float)
    t = x.size
    tau = integrated_autocorr_time(x) if t >= 4 else float("nan")
    if not np.isfinite(tau):
        err = float(standard_error(x)) if t >= 2 else float("nan")
        return {"err": err, "tau_int": tau, "n_batches": 0, "batch_len": 0, "too_short": True}
    m = int(np.ceil(MIN_BATCH_TAU * tau))
    nb = t // m
    if nb >= 2:
        bm = np.array([b.mean() for b in np.array_split(x, nb)])
        err = float(standard_error(bm))
    else:
        err = float(np.sqrt(2.0 * tau * x.var(ddof=1) / t))
    return {"err": err, "tau_int": float(tau), "n_batches": int(nb), "batch_len": m,
            "too_short": bool(nb < MIN_BATCHES)}


def integrated_autocorr_time(x: np.ndarray, c: float = 5.0) -> float:
    """Integrated autocorrelation time (in samples) with Sokal's automatic window ``M >= c tau``.

    ``x`` has shape (T,) or (R, T) (replicas averaged in the autocovariance).
    """
    x = np.atleast_2d(np.asarray(x, float))
    x = x - x.mean(axis=1, keepdims=True)
    t = x.shape[1]
    if t < 4:
        return float("nan")
    nfft = 1 << (2 * t - 1).bit_length()
    f = np.fft.rfft(x, nfft, axis=1)
    acov = np.fft.irfft(f * np.conj(f), nfft, axis=1)[:, :t].mean(axis=0)
    if acov[0] <= 0:
        return 1.0
    rho = acov / acov[0]
    tau = 1.0
    for m in range(1, t):
        tau = 1.0 + 2.0 * rho[1 : m + 1].sum()
        if m >= c * tau:
            break
    return float(max(tau, 1.0))


# --- Jackknife (plain and instance-clustered) and tests of the calibration -----------------------

def jackknife(estimate: Callable[[np.ndarray], float], units: int) -> tuple[float, float]:
    """Jackknife: ``estimate(mask)`` evaluated on all units and with each one left out.

    Returns (full-sample estimate, jackknife standard error); NaN error if any leave-one-out
    estimate is NaN or there are fewer than 2 units. The units are treated as independent: on
    (instance, replica) units this misses the instance-to-instance part of the error (use
    :func:`clustered_jackknife`).
    """
    full = estimate(np.ones(units, bool))
    if units < 2:
        return full, math.nan
    loo = np.empty(units)
    for u in range(units):
        m = np.ones(units, bool)
        m[u] = False
        loo[u] = estimate(m)
    if np.any(~np.isfinite(loo)):
        return full, math.nan
    return full, math.sqrt(jackknife_variance(loo))


@dataclasses.dataclass(frozen=True)
class ClusteredError:
    """An estimate with its instance-clustered and thermal-only jackknife errors.

    ``err`` is what calibration reports as ``*_err``: with >= 2 instances the delete-one-
    instance jackknife (``err_dof`` = instances - 1 degrees of freedom; it estimates the
    thermal and the instance-to-instance spread together); with one instance the thermal
    error (``disorder_err`` False, the disorder part is then not estimated at all).
    ``err_thermal`` is the stratified delete-one-replica jackknife: the error for these fixed
    instances (NaN when an instance has a single replica).
    """

    value: float
    err: float
    err_thermal: float
    err_clustered: float
    n_instances: int
    err_dof: int

    @property
    def disorder_err(self) -> bool:
        """True when ``err`` includes an instance-to-instance estimate from >= 4 instances."""
        return self.n_instances >= MIN_DISORDER_INSTANCES


def _group_index(groups: np.ndarray | None, units: int) -> np.ndarray:
    if groups is None:
        return np.arange(units)
    g = np.asarray(groups)
    if g.shape != (units,):
        raise ParameterError(f"groups: need one instance label per unit ({units}), got {g.shape}")
    return np.unique(g, return_inverse=True)[1]


def _balanced_weights(gi: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Weights float64[U] summing to 1: every kept instance counts equally, and within an
    instance every kept unit equally (the mean over instances of the replica means)."""
    w = np.zeros(gi.size)
    labels = np.unique(gi[keep])
    for k in labels:
        sel = keep & (gi == k)
        w[sel] = 1.0 / (labels.size * sel.sum())
    return w


def clustered_jackknife(estimate: Callable[[np.ndarray], float],
                        groups: np.ndarray | None, units: int) -> ClusteredError:
    """Instance-clustered and thermal-only jackknife errors of ``estimate(w)``.

    Parameters
    ----------
    estimate : callable
        ``estimate(w)`` with ``w`` float64[U] unit weights (non-negative, summing to 1) returns
        the estimate built from the weighted unit means.
    groups : int array [U] or None
        Instance label of each unit (None: every unit is its own instance).
    units : int
        Number of units U.

    Returns
    -------
    ClusteredError
        The value uses equal weight per instance (the mean of replica means). Clustered error:
        leave out one whole instance at a time (K pseudo-values). Thermal error: stratified
        jackknife, leaving out one replica of one instance at a time while the other instances
        keep their weight, ``sum_k (R_k-1)/R_k sum_r (theta_(k,r) - theta_(k,.))^2``.
    """
    gi = _group_index(groups, units)
    all_ = np.ones(units, bool)
    value = float(estimate(_balanced_weights(gi, all_)))
    K = int(gi.max()) + 1 if units else 0
    err_c = math.nan
    if K >= 2:
        loo = np.array([estimate(_balanced_weights(gi, gi != k)) for k in range(K)], float)
        if np.all(np.isfinite(loo)):
            err_c = math.sqrt(jackknife_variance(loo))
    var_t = 0.0
    for k in range(K):
        idx = np.flatnonzero(gi == k)
        if idx.size < 2:
            var_t = math.nan
            break
        th = np.empty(idx.size)
        for j, u in enumerate(idx):
            keep = all_.copy()
            keep[u] = False
            th[j] = estimate(_balanced_weights(gi, keep))
        if not np.all(np.isfinite(th)):
            var_t = math.nan
            break
        var_t += jackknife_variance(th)
    err_t = math.sqrt(var_t) if np.isfinite(var_t) else math.nan
    err = err_c if K >= 2 else err_t
    return ClusteredError(value, err, err_t, err_c, K, max(K - 1, 0))


def mean_errors(x: np.ndarray, groups: np.ndarray | None = None) -> ClusteredError:
    """Mean of unit values ``x`` [U] (equal weight per instance) with clustered and thermal
    errors (the jackknife of a mean is the usual standard error, here in closed form)."""
    return clustered_jackknife(lambda w: float(np.asarray(x, float) @ w), groups, len(x))


def curve_errors(x: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
    """The ``err`` of :func:`mean_errors` for every column of ``x`` [U, nt] at once, in closed
    form: with >= 2 instances the standard error of the instance means (the mean over an
    instance's replicas), with one instance the standard error over its replicas (thermal
    only; NaN with a single replica). Returns float64[nt]."""
    x = np.asarray(x, float)
    gi = _group_index(groups, x.shape[0])
    K = int(gi.max()) + 1 if x.shape[0] else 0
    if K >= 2:
        return np.asarray(standard_error(np.stack([x[gi == k].mean(0) for k in range(K)])))
    if K == 1 and x.shape[0] >= 2:
        return np.asarray(standard_error(x))
    return np.full(x.shape[1:], math.nan)


def halves_test(trace_density: np.ndarray) -> tuple[float, float]:
    """Stationarity: (t, p) of a paired t-test that the two halves of the window have the same
    mean, over units (rows of ``trace_density`` [U, nb]); p is two-sided (Student, U-1 dof).

    This is ``scipy.stats.ttest_rel(second_half, first_half)``, written out because scipy's
    t = mean / sqrt(var/n) and its p-value differ from these in the last bits (relative 4e-16 in
    t, 3e-15 in p on random data; checked in tests/test_stats.py) and the recorded calibration
    outputs must not change; it also answers (0, 1) / (inf, 0) for a zero spread where scipy
    gives NaN.
    """
    from scipy.stats import t as student_t

    nb = trace_density.shape[1]
    if nb < 2 or trace_density.shape[0] < 2:
        return math.nan, math.nan
    h = nb // 2
    d = trace_density[:, h:].mean(1) - trace_density[:, :h].mean(1)
    se = standard_error(d)
    if se == 0:
        return (0.0, 1.0) if d.mean() == 0 else (math.inf, 0.0)
    t = float(d.mean() / se)
    return t, float(2 * student_t.sf(abs(t), d.size - 1))


def welch_test(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(t, p) of Welch's two-sample t-test of equal means (two-sided).

    Equal to ``scipy.stats.ttest_ind(a, b, equal_var=False)`` up to the last bits (relative
    4e-16 in t, 3e-15 in p), kept written out so that recorded outputs stay bit-identical and a
    zero spread gives (0, 1) / (inf, 0) instead of NaN.
    """
    from scipy.stats import t as student_t

    if a.size < 2 or b.size < 2:
        return math.nan, math.nan
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    diff = a.mean() - b.mean()
    if se == 0:
        return (0.0, 1.0) if diff == 0 else (math.inf, 0.0)
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    t = float(diff / se)
    return t, float(2 * student_t.sf(abs(t), dof))


# --- Intervals for proportions and quantiles (recovery) ------------------------------------------

def wilson_interval(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a binomial proportion k/n.

    ``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")`` uses the exact normal
    quantile z = 1.959963984540054 instead of the rounded 1.959964 used here, so its ends differ
    by up to 4e-9; the documented recovery intervals were computed with this z, so it stays (the
    two agree to 1e-12 at the same z, see tests/test_stats.py).
    """
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (max(0.0, mid - half), min(1.0, mid + half))


def quantile(sorted_t: np.ndarray, level: float) -> float | None:
    """Lower empirical quantile (an order statistic) of sorted values; None if it is not finite."""
    n = sorted_t.size
    k = int(math.ceil(level * n)) - 1  # lower empirical quantile (order statistic)
    k = min(max(k, 0), n - 1)
    v = sorted_t[k]
    return float(v) if np.isfinite(v) else None


def clustered_design_effect(y: np.ndarray, gi: np.ndarray) -> float:
    """Design effect (>= 1, Korn-Graubard truncation) of the mean of the 0/1 values ``y`` over
    clusters ``gi`` (labels 0..K-1): clustered variance (ratio-estimator linearisation,
    K/(K-1) correction) over the binomial one p(1-p)/n; 1 when p is 0 or 1."""
    n = y.size
    p = y.mean()
    if p <= 0 or p >= 1:
        return 1.0
    K = int(gi.max()) + 1
    nk = np.bincount(gi, minlength=K).astype(float)
    yk = np.bincount(gi, weights=y, minlength=K) / nk
    v_c = K / (K - 1) * float(np.sum((nk / n) ** 2 * (yk - p) ** 2))
    return max(1.0, v_c / (p * (1 - p) / n))


def clustered_proportion_ci(y: np.ndarray, groups: np.ndarray,
                            level: float = 0.95) -> tuple[float, float]:
    """Korn-Graubard interval of a proportion from clustered 0/1 outcomes.

    Clopper-Pearson with the effective sample size
    ``n* = n / deff * (t_{n-1} / t_{K-1})^2`` (t quantiles at (1 + level)/2, K clusters,
    deff >= 1 the design effect), so that the interval widens with the between-instance
    spread and with few instances (K - 1 degrees of freedom). Korn & Graubard, Survey
    Methodology 24 (1998) 193.
    """
    from scipy.stats import beta
    from scipy.stats import t as student_t

    y = np.asarray(y, float)
    gi = np.unique(np.asarray(groups), return_inverse=True)[1]
    n, K = y.size, int(gi.max()) + 1
    if K < 2:
        raise ParameterError(f"groups: a clustered interval needs >= 2 instances, got {K}")
    a = 1 - level
    deff = clustered_design_effect(y, gi)
    n_star = n / deff * (student_t.ppf(1 - a / 2, n - 1) / student_t.ppf(1 - a / 2, K - 1)) ** 2
    x = y.mean() * n_star
    lo = 0.0 if x <= 0 else float(beta.ppf(a / 2, x, n_star - x + 1))
    hi = 1.0 if x >= n_star else float(beta.ppf(1 - a / 2, x + 1, n_star - x))
    return lo, hi


def median_ci(sorted_t: np.ndarray, gi: np.ndarray) -> list[float | None]:
    """95% interval of the median of ``sorted_t`` (float64[n] sorted, inf = never reached).

    ``gi`` int[n] holds the cluster (instance) label 0..K-1 of each value, in the same order.
    With K >= 2 clusters: Woodruff's interval, the quantile levels 0.5 -+ t_{K-1} se with se the
    clustered standard error of the fraction of values below the median (the upper end one order
    statistic above its level: conservative). Otherwise the values are independent: the
    distribution-free order-statistic interval (t_j, t_m) with P(j <= Bin(n, 1/2) <= m) >= .95.
    Ends that are not finite (or do not exist) are None.
    """
    from scipy.stats import binom
    from scipy.stats import t as student_t

    t = sorted_t
    n = t.size
    K = int(gi.max()) + 1 if n else 0
    if K >= 2:
        med = quantile(t, 0.5)
        y = (t <= (med if med is not None else math.inf)).astype(float)
        se = math.sqrt(clustered_design_effect(y, gi) * 0.25 / n)
        d = float(student_t.ppf(0.975, K - 1)) * se
        lower = 0.0 if 0.5 - d <= 0 else quantile(t, 0.5 - d)
        ju = int(math.ceil((0.5 + d) * n))
        upper = float(t[ju]) if ju < n and np.isfinite(t[ju]) else None
        return [lower, upper]
    j = int(binom.ppf(0.025, n, 0.5)) - 1
    m = n - 1 - j
    if j < 0:
        return [None, None]
    return [float(t[j]) if 0 <= j < n and np.isfinite(t[j]) else None,
            float(t[m]) if 0 <= m < n and np.isfinite(t[m]) else None]


def t_interval95(value: float, err: float, dof: int) -> list[float] | list[None]:
    """Student-t 95% interval ``value -+ t_{0.975, dof} err``; [None, None] when ``dof`` < 1 or
    ``err`` is None or not finite."""
    from scipy.stats import t as student_t

    if dof >= 1 and err is not None and math.isfinite(err):
        half = float(student_t.ppf(0.975, dof)) * err
        return [value - half, value + half]
    return [None, None]


# --- Independent chains and weighted fits (continuous SGD) ---------------------------------------

def mean_err(x: np.ndarray) -> tuple[float, float]:
    """Mean over independent chains (axis 0) and its standard error."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    m = float(np.mean(x))
    return m, float(standard_error(x)) if n > 1 else float("nan")


def ratio_jackknife(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """ΣA/ΣB over chains and its leave-one-chain-out jackknife standard error."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n = a.size
    r = float(a.sum() / b.sum())
    if n < 2:
        return r, float("nan")
    rj = (a.sum() - a) / (b.sum() - b)
    return r, float(np.sqrt(jackknife_variance(rj)))


def linfit(x: np.ndarray, y: np.ndarray, yerr: np.ndarray | None = None) -> tuple:
    """Weighted least-squares line y = a + b x.

    Returns (a, b, a_err, b_err). With ``yerr`` the errors come from the weights (scaled up by
    sqrt(χ²/dof) when χ²/dof > 1); without, from the residual scatter.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.size
    if n < 2:
        return float("nan"), float("nan"), float("nan"), float("nan")
    w = np.ones(n) if yerr is None else 1.0 / np.maximum(np.asarray(yerr, float), 1e-300) ** 2
    A = np.vstack([np.ones(n), x]).T
    Aw = A * w[:, None]
    cov = np.linalg.inv(A.T @ Aw)
    coef = cov @ (Aw.T @ y)
    res = y - A @ coef
    dof = max(n - 2, 1)
    chi2 = float(np.sum(w * res**2))
    if yerr is None:
        cov = cov * chi2 / dof if n > 2 else cov * np.nan
    elif chi2 / dof > 1:
        cov = cov * chi2 / dof
    return float(coef[0]), float(coef[1]), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1]))


def polyfit_err(x: np.ndarray, y: np.ndarray, yerr: np.ndarray, deg: int) -> tuple:
    """Weighted polynomial fit; returns (coefficients low→high, their standard errors)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    w = 1.0 / np.maximum(np.asarray(yerr, float), 1e-300) ** 2
    A = np.vander(x, deg + 1, increasing=True)
    Aw = A * w[:, None]
    cov = np.linalg.inv(A.T @ Aw)
    coef = cov @ (Aw.T @ y)
    dof = x.size - deg - 1
    if dof > 0:
        chi2 = float(np.sum(w * (y - A @ coef) ** 2))
        cov = cov * max(1.0, chi2 / dof)
    return coef, np.sqrt(np.diag(cov))
