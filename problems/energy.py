"""The energy of a configuration: a property of the problem.

Colouring: ``s`` holds colours 0..q-1, E = number of monochromatic edges. Ising: ``s`` holds spins
+-1, E = -sum_{edges} J_ij s_i s_j. Both are integers; the dynamics track them incrementally and
the conformance tests compare the tracked value with this full recomputation.
"""

from __future__ import annotations

import numpy as np

from mcsgd._numba import njit, prange

_EMPTY_J = np.zeros(0, np.int8)


@njit(parallel=True)
def total_energy_kernel(indptr, indices, couplings, s, ising, out):
    """Full recomputation of the total energy of every replica into ``out`` (int64[R])."""
    n = indptr.shape[0] - 1
    for r in prange(s.shape[0]):
        tot = 0
        for i in range(n):
            si = s[r, i]
            for k in range(indptr[i], indptr[i + 1]):
                if ising:
                    tot -= couplings[k] * si * s[r, indices[k]]
                else:
                    tot += s[r, indices[k]] == si
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
