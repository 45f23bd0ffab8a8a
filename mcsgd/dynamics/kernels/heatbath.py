"""Heat-bath (Glauber) updates of colours: the new colour c of site i has probability
proportional to exp(-n_c / T), n_c = number of neighbours of colour c (Ising heat-bath is a
table rule: :mod:`mcsgd.dynamics.kernels.table`)."""

from __future__ import annotations

from mcsgd._numba import njit, prange
from mcsgd.dynamics.kernels.common import record, serial_twin
from mcsgd.rng import randbelow, uniform


@njit(inline="always")
def heatbath_choice(cnt, q, wtab, rng, r):
    """The new colour of a heat-bath update from the neighbour counts ``cnt[c]``: c with
    probability wtab[cnt[c] - min cnt] / Z, by one uniform draw of RNG row ``r`` (the one
    implementation of both layouts: the same sums in the same order)."""
    nmin = cnt[0]
    for c in range(1, q):
        if cnt[c] < nmin:
            nmin = cnt[c]
    z = 0.0
    for c in range(q):
        z += wtab[cnt[c] - nmin]
    u = uniform(rng, r) * z
    b = q - 1
    cum = 0.0
    for c in range(q):
        cum += wtab[cnt[c] - nmin]
        if u < cum:
            b = c
            break
    while wtab[cnt[b] - nmin] == 0.0:  # guard against rounding at the end
        b -= 1
    return b


@njit(parallel=True)
def heatbath_sweeps(graph, chain, rec, q, wtab, random_order, nsweeps, t0, counts):
    """Run ``nsweeps`` heat-bath sweeps on every replica (in parallel over replicas).

    ``wtab[k] = exp(-k/T)`` for k = 0..D (relative to the smallest n_c, so T = 0 is exact);
    ``counts`` is an int64[R, q] workspace; ``accepted`` counts changes of colour. Other
    parameters as in :func:`mcsgd.dynamics.kernels.table.table_sweeps`.
    """
    indptr = graph.indptr
    indices = graph.indices
    s = chain.s
    rng = chain.rng
    energy = chain.energy
    accepted = chain.accepted
    trace = rec.trace
    w0 = rec.w0
    blk = rec.blk
    n = indptr.shape[0] - 1
    for r in prange(s.shape[0]):
        e = energy[r]
        acc = 0
        for sw in range(nsweeps):
            for step in range(n):
                if random_order:
                    i = randbelow(rng, r, n)
                else:
                    i = step
                for c in range(q):
                    counts[r, c] = 0
                for k in range(indptr[i], indptr[i + 1]):
                    counts[r, s[r, indices[k]]] += 1
                b = heatbath_choice(counts[r], q, wtab, rng, r)
                a = s[r, i]
                if b != a:
                    e += counts[r, b] - counts[r, a]
                    s[r, i] = b
                    acc += 1
            record(trace, w0, blk, r, t0 + sw + 1, e)
        energy[r] = e
        accepted[r] += acc


heatbath_sweeps_serial = serial_twin(heatbath_sweeps, "heatbath_sweeps_serial")
