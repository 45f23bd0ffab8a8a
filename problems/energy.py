"""The energy of a configuration: a property of the problem.

Colouring: ``s`` holds colours 0..q-1, E = number of monochromatic edges. Ising: ``s`` holds spins
+-1, E = -sum_{edges} J_ij s_i s_j. Both are integers; the dynamics track them incrementally and
the conformance tests compare the tracked value with this full recomputation.
"""

from __future__ import annotations

import numpy as np

from mcsgd._numba import njit, prange

_EMPTY_J = np.zeros(0, np.int8)


#: sites per block of :func:`total_energy_kernel`; fixed, independent of the number of threads
_SITES_PER_BLOCK = 4096


@njit(parallel=True)
def total_energy_kernel(indptr, indices, couplings, s, ising, out):
    """Full recomputation of the total energy of every replica into ``out`` (int64[R]).

    One replica after the other, each in parallel over fixed site blocks (so R = 1 uses every
    thread, and the threads gather from one replica's configuration at a time: N bytes that
    stay in cache far longer than R * N would). The per-block partial sums are integers added
    in a fixed order: exact, independent of the number of threads.
    """
    n = indptr.shape[0] - 1
    nr = s.shape[0]
    nb = (n + _SITES_PER_BLOCK - 1) // _SITES_PER_BLOCK
    part = np.zeros((nb, nr), np.int64)
    for r in range(nr):
        sr = s[r]
        for b in prange(nb):
            lo = b * _SITES_PER_BLOCK
            hi = min(n, lo + _SITES_PER_BLOCK)
            tot = 0
            for i in range(lo, hi):
                si = sr[i]
                for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    if ising:
                        tot -= couplings[k] * si * sr[np.uint32(indices[k])]
                    else:
                        tot += sr[np.uint32(indices[k])] == si
            part[b, r] = tot
    for r in range(nr):
        tot = 0
        for b in range(nb):
            tot += part[b, r]
        out[r] = tot // 2


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
