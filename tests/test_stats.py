"""mcsgd.stats: every estimator checked exactly or by its coverage.

Statistical assertions read |x - x_ref| <= K_SIGMA * sigma with sigma stated next to each; the
seeds are fixed, so every test is deterministic.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as ss
from scipy.special import ndtr

from mcsgd import stats
from mcsgd.stats import (
    batch_means_tau,
    censored_exponential_mean,
    clustered_jackknife,
    clustered_proportion_ci,
    halves_test,
    integrated_autocorr_time,
    jackknife,
    jackknife_variance,
    mean_err,
    mean_errors,
    median_ci,
    quantile,
    ratio_jackknife,
    standard_error,
    t_interval95,
    welch_test,
    wilson_interval,
)

K_SIGMA = 4.0  # every coverage/bias test: |x - x_ref| <= 4 sigma (two-sided p ~ 6e-5)


# --- exact identities ----------------------------------------------------------------------------

def test_jackknife_of_a_mean_is_the_standard_error():
    x = np.random.default_rng(1).standard_normal(37)
    se = standard_error(x)
    assert se == np.std(x, ddof=1) / np.sqrt(x.size)
    assert jackknife(lambda m: float(x[m].mean()), x.size)[1] == pytest.approx(se, rel=1e-12)
    assert ratio_jackknife(x, np.ones_like(x))[1] == pytest.approx(se, rel=1e-12)
    assert mean_err(x) == (pytest.approx(x.mean(), rel=1e-15), se)
    r = mean_errors(x)  # every unit its own instance: clustered = plain jackknife
    assert r.err == pytest.approx(se, rel=1e-12) and r.err_dof == x.size - 1


def test_jackknife_variance_and_standard_error_along_an_axis():
    v = np.array([1.0, 2.0, 4.0])
    assert jackknife_variance(v) == pytest.approx(2 / 3 * (16 + 1 + 25) / 9, rel=1e-15)
    X = np.random.default_rng(2).standard_normal((9, 4))
    np.testing.assert_array_equal(jackknife_variance(X), [jackknife_variance(c) for c in X.T])
    np.testing.assert_array_equal(standard_error(X), [standard_error(c) for c in X.T])


def test_clustered_jackknife_of_a_mean_is_the_se_of_instance_means():
    rng = np.random.default_rng(3)
    K, R = 6, 4
    x = rng.standard_normal((K, R)) + rng.standard_normal((K, 1))
    r = mean_errors(x.ravel(), np.repeat(np.arange(K), R))
    assert r.value == pytest.approx(x.mean(), rel=1e-14)
    assert r.err == r.err_clustered == pytest.approx(standard_error(x.mean(1)), rel=1e-12)
    # thermal (stratified) part: within-instance variance of the mean of replica means
    thermal = math.sqrt(np.sum(x.var(axis=1, ddof=1) / R) / K**2)
    assert r.err_thermal == pytest.approx(thermal, rel=1e-12)
    assert r.n_instances == K and r.err_dof == K - 1 and r.disorder_err
    one = clustered_jackknife(lambda w: float(x[0] @ w), None, R)  # an estimate of weights
    assert one.err == pytest.approx(standard_error(x[0]), rel=1e-12)


def test_t_tests_equal_scipy_to_the_last_bits():
    """halves_test / welch_test are scipy's ttest_rel / ttest_ind(equal_var=False) written out
    (scipy differs in the last bits, relative < 1e-14, and the recorded outputs must not move)."""
    rng = np.random.default_rng(4)
    for _ in range(50):
        x = rng.standard_normal((rng.integers(2, 30), rng.integers(2, 20)))
        h = x.shape[1] // 2
        ref = ss.ttest_rel(x[:, h:].mean(1), x[:, :h].mean(1))
        assert halves_test(x) == (pytest.approx(ref.statistic, rel=1e-13),
                                  pytest.approx(ref.pvalue, rel=1e-12))
        a, b = rng.standard_normal(rng.integers(2, 20)), 3 * rng.standard_normal(7) + 0.5
        ref = ss.ttest_ind(a, b, equal_var=False)
        assert welch_test(a, b) == (pytest.approx(ref.statistic, rel=1e-13),
                                    pytest.approx(ref.pvalue, rel=1e-12))
    assert halves_test(np.ones((4, 6))) == (0.0, 1.0)
    assert welch_test(np.ones(3), np.ones(4)) == (0.0, 1.0)


def test_wilson_interval_equals_scipy_at_the_same_z():
    z = 1.959964  # the rounded quantile wilson_interval uses (scipy: the exact one)
    level = 2 * ndtr(z) - 1
    for n in (1, 7, 40, 333):
        for k in sorted({0, 1, n // 3, n - 1, n}):
            ci = ss.binomtest(k, n).proportion_ci(confidence_level=level, method="wilson")
            lo, hi = wilson_interval(k, n)
            assert lo == pytest.approx(ci.low, abs=1e-12)
            assert hi == pytest.approx(ci.high, abs=1e-12)
    assert all(math.isnan(v) for v in wilson_interval(0, 0))


def test_wilson_interval_coverage_by_exact_binomial_enumeration():
    """Coverage P(lo <= p <= hi) = sum_k Bin(k; n, p) 1[p in CI(k)], enumerated exactly: its
    average over p is 0.95 within the known Wilson oscillation (no sampling, no sigma)."""
    for n in (30, 100):
        cis = np.array([wilson_interval(k, n) for k in range(n + 1)])
        ps = np.linspace(0.05, 0.95, 181)
        cov = np.array([ss.binom.pmf(np.arange(n + 1), n, p)
                        @ ((cis[:, 0] <= p) & (p <= cis[:, 1])) for p in ps])
        assert abs(cov.mean() - 0.95) < 0.006
        assert cov.min() > 0.90


def test_quantile_median_ci_and_t_interval():
    t = np.sort(np.array([3.0, 1.0, 2.0, 5.0, 4.0, np.inf]))
    assert quantile(t, 0.5) == 3.0 and quantile(t, 1.0) is None and quantile(t, 0.0) == 1.0
    # independent runs: order statistics (j, n-1-j) with j = binom.ppf(.025, n, .5) - 1
    t20 = np.arange(20.0)
    j = int(ss.binom.ppf(0.025, 20, 0.5)) - 1
    assert median_ci(t20, np.zeros(20, np.intp)) == [float(j), float(19 - j)]
    assert median_ci(t20[:4], np.zeros(4, np.intp)) == [None, None]  # n too small for 95%
    lo, hi = t_interval95(1.0, 0.5, 3)
    assert hi - 1.0 == pytest.approx(ss.t.ppf(0.975, 3) * 0.5, rel=1e-15) and lo + hi == 2.0
    assert t_interval95(1.0, float("nan"), 3) == [None, None]
    assert t_interval95(1.0, 0.5, 0) == [None, None]


def test_censored_exponential_mean():
    times = np.array([10, 30, -1, 20, -1])
    mean, err = censored_exponential_mean(times, 100)
    assert mean == (10 + 30 + 20 + 2 * 100) / 3 and err == mean / math.sqrt(3)
    assert censored_exponential_mean(np.array([-1, -1]), 5) == (math.inf, math.inf)


# --- coverage and bias on synthetic data ---------------------------------------------------------

def _ar1(rng: np.random.Generator, phi: float, n_series: int, t: int) -> np.ndarray:
    """Stationary AR(1) series x_t = phi x_{t-1} + sqrt(1 - phi^2) eps (unit variance)."""
    from scipy.signal import lfilter

    e = rng.standard_normal((n_series, t)) * math.sqrt(1 - phi * phi)
    e[:, 0] = rng.standard_normal(n_series)
    zi = np.zeros((n_series, 1))
    return lfilter([1.0], [1.0, -phi], e, axis=1, zi=zi)[0]


def _exact_err2(gamma: np.ndarray, nb: int) -> float:
    """Exact E[err^2] of batch means with ``nb`` array_split batches on a series of covariance
    ``gamma`` (T, T)."""
    t = gamma.shape[0]
    idx = np.arange(t)
    A = np.zeros((nb, t))
    for b, sl in enumerate(np.array_split(idx, nb)):
        A[b, sl] = 1.0 / sl.size
    S = A @ gamma @ A.T
    return float((np.trace(S) - S.sum() / nb) / (nb - 1) / nb)


def test_integrated_autocorr_time_of_ar1():
    """tau_int = (1 + phi)/(1 - phi) = 3 for phi = 0.5; sigma = the spread of the per-series
    estimates over sqrt(200) series (Sokal: the window bias is O(exp(-c)), negligible here)."""
    phi, tau = 0.5, 3.0
    x = _ar1(np.random.default_rng(5), phi, 200, 4000)
    est = np.array([integrated_autocorr_time(s) for s in x])
    sigma = est.std(ddof=1) / math.sqrt(est.size)
    assert abs(est.mean() - tau) <= K_SIGMA * sigma + 0.02 * tau  # + window truncation O(2%)


def test_batch_means_error_matches_the_exact_variance_on_ar1():
    """Over M AR(1) series (phi = 0.5, known tau = 3): mean err^2 equals the exact expectation of
    the batch-means estimator for the batch counts used, |mean r - r_exact| <= 4 sigma with
    r = err^2 / Var(mean) and sigma = sd(r)/sqrt(M); the exact Var(mean) = 1ᵀΓ1/T^2. And with
    batches >= 10 tau the estimator's bias (r_exact - 1, known O(tau/batch)) is below 5%."""
    phi, t, m = 0.5, 1500, 600
    x = _ar1(np.random.default_rng(6), phi, m, t)
    idx = np.arange(t)
    gamma = phi ** np.abs(idx[:, None] - idx[None, :]).astype(float)
    var_mean = float(gamma.sum()) / t**2
    res = [batch_means_tau(s) for s in x]
    nbs = np.array([r["n_batches"] for r in res])
    assert np.all(nbs >= 2)
    r = np.array([r["err"] ** 2 for r in res]) / var_mean
    exact = {nb: _exact_err2(gamma, nb) / var_mean for nb in np.unique(nbs)}
    r_exact = np.array([exact[nb] for nb in nbs])
    sigma = r.std(ddof=1) / math.sqrt(m)
    assert abs(r.mean() - r_exact.mean()) <= K_SIGMA * sigma
    assert abs(r_exact.mean() - 1) < 0.05


def test_clustered_jackknife_coverage_on_two_level_data():
    """x_kr = mu + a_k + e_kr (a ~ N(0, 1), e ~ N(0, 2^2)), K = 6 instances x R = 4 replicas.

    The clustered error with Student-t (K - 1 dof) covers mu, the thermal error with K(R - 1) dof
    covers the fixed-instance mean mu + mean(a), each in 95% of M = 1500 data sets:
    |coverage - 0.95| <= 4 sigma, sigma = sqrt(0.95 * 0.05 / M) = 0.0056. The thermal error alone
    under-covers mu (it misses the instance spread)."""
    rng = np.random.default_rng(7)
    K, R, M, mu = 6, 4, 1500, 1.0
    groups = np.repeat(np.arange(K), R)
    tc, tt = ss.t.ppf(0.975, K - 1), ss.t.ppf(0.975, K * (R - 1))
    hit_c = hit_t = hit_wrong = 0
    for _ in range(M):
        a = rng.standard_normal(K)
        x = (mu + a[:, None] + 2.0 * rng.standard_normal((K, R))).ravel()
        e = mean_errors(x, groups)
        hit_c += abs(e.value - mu) <= tc * e.err
        hit_t += abs(e.value - mu - a.mean()) <= tt * e.err_thermal
        hit_wrong += abs(e.value - mu) <= tt * e.err_thermal
    sigma = math.sqrt(0.95 * 0.05 / M)
    assert abs(hit_c / M - 0.95) <= K_SIGMA * sigma
    assert abs(hit_t / M - 0.95) <= K_SIGMA * sigma
    assert hit_wrong / M < 0.95 - K_SIGMA * sigma


def test_clustered_proportion_ci_coverage():
    """Korn-Graubard on clustered 0/1 outcomes (instance success probability ~ Beta(2, 2),
    K = 8 x R = 10): coverage of the ensemble mean 0.5 is >= 0.95 - 4 sigma over M = 600 data
    sets, sigma = sqrt(0.95 * 0.05 / 600) = 0.0089 (the interval is conservative)."""
    rng = np.random.default_rng(8)
    K, R, M = 8, 10, 600
    groups = np.repeat(np.arange(K), R)
    hits = 0
    for _ in range(M):
        p = rng.beta(2.0, 2.0, K)
        y = (rng.random((K, R)) < p[:, None]).astype(float).ravel()
        lo, hi = clustered_proportion_ci(y, groups)
        hits += lo <= 0.5 <= hi
    assert hits / M >= 0.95 - K_SIGMA * math.sqrt(0.95 * 0.05 / M)


def test_stats_does_not_import_scipy_stats():
    code = ("import sys, mcsgd.stats; "
            "print('scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert stats.__name__ == "mcsgd.stats"
