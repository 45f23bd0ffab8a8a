"""Measurement of configurations: the overlap with the planted solution.

(The energy of a configuration is a property of the problem: :mod:`mcsgd.problems.energy`.)

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

from mcsgd.dynamics.kernels.measure import confusion_kernel
from mcsgd.errors import ParameterError


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
