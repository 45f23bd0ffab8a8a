"""Table-driven single-site sweeps (Metropolis, Ising heat-bath, reference SGD-like) and the
sequential Ising sweep on cached local fields.

Acceptance: a 32-bit fixed-point threshold table ``thr`` (:func:`mcsgd.rng.threshold32`): with
``use2d`` the move is accepted iff ``u32 < thr[n_old, n_new]``; otherwise iff
``u32 < thr[0, n_new - n_old + D]`` (D = ``dmax``). Metropolis and Ising heat-bath use the 1-d
form (a function of dE); the reference SGD-like rule uses the 2-d table
P_acc(n_old, n_new; B) = P[Bin(n_new, B) <= Bin(n_old, B)], which is *exactly* its law for
sequential sweeps with a fresh Bernoulli(B) flag per half-edge and sweep (each flag is read once
per sweep; SPEC §2.2). One 64-bit draw serves the proposal (high 32 bits) and the acceptance
(low 32 bits).
"""

from __future__ import annotations

import numpy as np

from mcsgd._numba import njit, prange
from mcsgd.dynamics.kernels.common import U32, finish, other_colour, record, serial_twin, site
from mcsgd.rng import load_row, xoshiro


@njit(inline="always")
def _table_sweep(g, sr, s0, s1, s2, s3, e, acc, q, ising, thr, use2d, dmax, random_order, n):
    indptr = g.indptr
    indices = g.indices
    couplings = g.couplings
    for step in range(n):
        i, s0, s1, s2, s3 = site(step, n, random_order, s0, s1, s2, s3)
        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
        a = sr[i]
        n_old = 0
        n_new = 0
        lo = np.uint64(indptr[i])
        hi = np.uint64(indptr[i + 1])
        if ising:
            b = -a
            for k in range(lo, hi):
                v = couplings[k] * a * sr[np.uint32(indices[k])]
                n_old += v < 0
                n_new += v > 0
        else:
            b = other_colour(a, q, x)
            for k in range(lo, hi):
                c = sr[np.uint32(indices[k])]
                n_old += c == a
                n_new += c == b
        if use2d:
            th = thr[n_old, n_new]
        else:
            th = thr[0, n_new - n_old + dmax]
        ok = (x & U32) < th
        sr[i] = b if ok else a
        d = (2 * (n_new - n_old)) if ising else (n_new - n_old)
        e += d if ok else 0
        acc += ok
    return e, acc, s0, s1, s2, s3


@njit(parallel=True)
def table_sweeps(graph, chain, rec, q, ising, thr, use2d, dmax, random_order, nsweeps, t0):
    """Run ``nsweeps`` table-driven sweeps on every replica (in parallel over replicas).

    Parameters
    ----------
    graph : Graph; chain : Chain (in/out); rec : Recorder (in/out)
        Bundles of :mod:`mcsgd.dynamics.kernels.common`.
    q : int, number of colours; ising : bool
    thr : uint64[D+1, D+1] (``use2d``) or uint64[1, 2D+1] thresholds; dmax : int, D
    random_order : bool, sites drawn uniformly instead of i = 0..N-1
    nsweeps : int; t0 : int, absolute index of sweeps already done
    """
    n = graph.indptr.shape[0] - 1
    s = chain.s
    rng = chain.rng
    energy = chain.energy
    accepted = chain.accepted
    trace = rec.trace
    w0 = rec.w0
    blk = rec.blk
    for r in prange(s.shape[0]):
        e = energy[r]
        acc = 0
        sr = s[r]
        s0, s1, s2, s3 = load_row(rng, r)
        for sw in range(nsweeps):
            # literal flags for the common cases: LLVM drops the dead branches of the hot loop
            if not ising and not random_order and use2d:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    graph, sr, s0, s1, s2, s3, e, acc, q, False, thr, True, dmax, False, n,
                )
            elif ising and not random_order and not use2d:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    graph, sr, s0, s1, s2, s3, e, acc, q, True, thr, False, dmax, False, n,
                )
            elif not ising and not random_order:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    graph, sr, s0, s1, s2, s3, e, acc, q, False, thr, False, dmax, False, n,
                )
            else:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    graph, sr, s0, s1, s2, s3, e, acc, q, ising, thr, use2d, dmax,
                    random_order, n,
                )
            record(trace, w0, blk, r, t0 + sw + 1, e)
        finish(rng, energy, accepted, r, s0, s1, s2, s3, e, acc)


@njit(parallel=True)
def ising_fields(graph, s, h):
    """Local fields h[r, i] = sum_j J_ij s[r, j] (int16[R, N]) of every replica."""
    indptr = graph.indptr
    indices = graph.indices
    couplings = graph.couplings
    n = indptr.shape[0] - 1
    for r in prange(s.shape[0]):
        for i in range(n):
            acc = 0
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                acc += couplings[k] * s[r, np.uint32(indices[k])]
            h[r, i] = acc


@njit(parallel=True)
def ising_field_sweeps(graph, chain, rec, h, thr, use2d, dmax, nsweeps, t0):
    """Sequential Ising sweeps on cached local fields (same law *and* same random numbers as
    :func:`table_sweeps` with ``ising=True``: the results are bit-identical).

    With h_i = sum_j J_ij s_j, the flip of s_i has n_new - n_old = s_i h_i (satisfied minus
    violated couplings) and n_old, n_new = (d_i -+ s_i h_i) / 2, so a rejected flip costs one
    table lookup; an accepted one updates the fields of the neighbours (h_j -= 2 J_ij s_i).
    ``h`` (int16[R, N]) must hold the fields of ``chain.s`` on entry (see :func:`ising_fields`)
    and holds them on exit. Other parameters as in :func:`table_sweeps`.
    """
    indptr = graph.indptr
    indices = graph.indices
    couplings = graph.couplings
    n = indptr.shape[0] - 1
    s = chain.s
    rng = chain.rng
    energy = chain.energy
    accepted = chain.accepted
    trace = rec.trace
    w0 = rec.w0
    blk = rec.blk
    for r in prange(s.shape[0]):
        e = energy[r]
        acc = 0
        sr = s[r]
        hr = h[r]
        s0, s1, s2, s3 = load_row(rng, r)
        for sw in range(nsweeps):
            for i in range(n):
                x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                a = sr[i]
                sh = np.int64(a) * np.int64(hr[i])
                if use2d:
                    d = np.int64(indptr[i + 1] - indptr[i])
                    th = thr[(d - sh) >> 1, (d + sh) >> 1]
                else:
                    th = thr[0, sh + dmax]
                if (x & U32) < th:
                    sr[i] = -a
                    e += 2 * sh
                    acc += 1
                    for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                        hr[np.uint32(indices[k])] -= 2 * couplings[k] * a
            record(trace, w0, blk, r, t0 + sw + 1, e)
        finish(rng, energy, accepted, r, s0, s1, s2, s3, e, acc)


table_sweeps_serial = serial_twin(table_sweeps, "table_sweeps_serial")
ising_field_sweeps_serial = serial_twin(ising_field_sweeps, "ising_field_sweeps_serial")
