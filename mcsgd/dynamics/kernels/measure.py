"""Kernels that initialise or measure configurations without advancing a chain."""

from __future__ import annotations

from mcsgd._numba import njit, prange
from mcsgd.rng import randbelow


@njit(parallel=True)
def init_random(s, rng, q, ising):
    """Uniformly random configurations (colours 0..q-1 or spins +-1), one RNG row each."""
    for r in prange(s.shape[0]):
        for i in range(s.shape[1]):
            v = randbelow(rng, r, q)
            s[r, i] = (2 * v - 1) if ising else v


@njit
def confusion_kernel(s, planted, q, ising, out):
    """out[r, g, k] = number of nodes with planted value g holding value k (spins mapped to 0/1)."""
    for r in range(s.shape[0]):
        for g in range(q):
            for k in range(q):
                out[r, g, k] = 0
        for i in range(s.shape[1]):
            if ising:
                out[r, (planted[i] + 1) // 2, (s[r, i] + 1) // 2] += 1
            else:
                out[r, planted[i], s[r, i]] += 1
