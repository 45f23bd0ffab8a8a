"""Observables: energies, overlaps with the planted solution, time grids, stationary averages.

Overlap (SPEC §2.3): for colourings, ``(q * max_pi sum_g C[g, pi(g)] - N) / ((q - 1) N)`` where
C[g, k] counts nodes of planted colour g holding colour k and pi runs over colour permutations
(solved exactly: by enumerating the q! permutations for q <= 7, by
``scipy.optimize.linear_sum_assignment`` above; scipy is imported only then, which keeps the
CLI's start-up short); for spins it is the same formula
with q = 2, i.e. ``|sum_i s_i s*_i| / N``. It is 1 for the planted solution (up to a
permutation) and O(N^-1/2) for a random configuration.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from .errors import ParameterError, check_range
from .kernels import confusion_kernel, total_energy_kernel

_EMPTY_J = np.zeros(0, np.int8)


def total_energy(instance, s: np.ndarray) -> np.ndarray:
    """Total energies int64[R] of configurations ``s`` (int8[R, N]), fully recomputed."""
    out = np.empty(s.shape[0], np.int64)
    ising = instance.problem == "ising"
    total_energy_kernel(
        instance.indptr,
        instance.indices,
        instance.couplings if ising else _EMPTY_J,
        np.ascontiguousarray(s, np.int8),
        ising,
        out,
    )
    return out


def overlap(instance, s: np.ndarray) -> np.ndarray:
    """Overlaps float64[R] of configurations ``s`` (int8[R, N]) with the planted solution."""
    if instance.planted is None:
        raise ParameterError("overlap needs an instance with a planted solution")
    q = instance.q
    ising = instance.problem == "ising"
    conf = np.empty((s.shape[0], q, q), np.int64)
    confusion_kernel(np.ascontiguousarray(s, np.int8), instance.planted, q, ising, conf)
    n = s.shape[1]
    best = _best_assignment(conf)
    return (q * best - n) / ((q - 1) * n)


@functools.lru_cache(maxsize=8)
def _permutations(q: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(q))), dtype=np.intp)


def _best_assignment(conf: np.ndarray) -> np.ndarray:
    """max over permutations pi of sum_g conf[r, g, pi(g)], for every r (float64[R])."""
    q = conf.shape[1]
    if q <= 7:
        perms = _permutations(q)  # [q!, q]
        vals = conf[:, np.arange(q)[None, :], perms].sum(axis=2)  # [R, q!]
        return vals.max(axis=1).astype(np.float64)
    from scipy.optimize import linear_sum_assignment

    out = np.empty(conf.shape[0])
    for r in range(conf.shape[0]):
        rows, cols = linear_sum_assignment(conf[r], maximize=True)
        out[r] = conf[r][rows, cols].sum()
    return out


def time_grid(sweeps: int, points: int = 40, kind: str = "log") -> np.ndarray:
    """Recording times int64[K] in sweeps: 0, then ``points`` log- or linearly spaced values up
    to ``sweeps`` (duplicates removed; always includes 0 and ``sweeps``)."""
    check_range("sweeps", sweeps, 1, None, integer=True)
    check_range("points", points, 1, None, integer=True)
    if kind == "log":
        t = np.unique(np.round(np.logspace(0, np.log10(sweeps), int(points))).astype(np.int64))
    elif kind == "linear":
        t = np.unique(np.round(np.linspace(0, sweeps, int(points) + 1)).astype(np.int64))
    else:
        raise ParameterError(f"grid = {kind!r} is not one of 'log', 'linear'")
    t = np.union1d(np.array([0, int(sweeps)], np.int64), t)
    return t[(t >= 0) & (t <= sweeps)]


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
    return float(bm.std(ddof=1) / np.sqrt(nb))


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
        err = float(x.std(ddof=1) / np.sqrt(t)) if t >= 2 else float("nan")
        return {"err": err, "tau_int": tau, "n_batches": 0, "batch_len": 0, "too_short": True}
    m = int(np.ceil(MIN_BATCH_TAU * tau))
    nb = t // m
    if nb >= 2:
        bm = np.array([b.mean() for b in np.array_split(x, nb)])
        err = float(bm.std(ddof=1) / np.sqrt(nb))
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
