"""SGD-like zero-temperature descent on explicit mini-batch flags (every non-reference variant).

Flags per half-edge (``eid`` = identity) or per undirected edge (``eid`` = edge id, both ends
share the flag), fresh every ``tau`` sweeps counted from ``epoch0`` (the start of the run, or the
last switch of dynamics: a switch starts a fresh mini-batch; ``tau`` > 1: persistent
mini-batches), Bernoulli(B) each (drawn lazily, only for neighbours holding the old or new
colour, with epoch stamps) or a fixed-size batch of exactly K edges (partial Fisher-Yates per
epoch); random-site order re-reads a flag if a site is visited twice in an epoch. The move is
accepted iff the mini-batch energy change dE_B <= 0 (ties accepted).
"""

from __future__ import annotations

import numpy as np

from mcsgd._numba import njit, prange
from mcsgd.dynamics.kernels.common import U32, finish, other_colour, record, serial_twin, site
from mcsgd.rng import below, load_row, xoshiro


@njit(inline="always")
def _flag_sweep(g, eid, sr, s0, s1, s2, s3, e, acc, q, ising, random_order, bern, thr_b, fr,
                str_, epoch, n):
    indptr = g.indptr
    indices = g.indices
    couplings = g.couplings
    for step in range(n):
        i, s0, s1, s2, s3 = site(step, n, random_order, s0, s1, s2, s3)
        a = sr[i]
        if ising:
            b = -a
        else:
            x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
            b = other_colour(a, q, x)
        f_old = 0
        f_new = 0
        n_old = 0
        n_new = 0
        lo = np.uint64(indptr[i])
        hi = np.uint64(indptr[i + 1])
        for k in range(lo, hi):
            if ising:
                v = couplings[k] * a * sr[np.uint32(indices[k])]
                is_old = v < 0
                is_new = v > 0
            else:
                c = sr[np.uint32(indices[k])]
                is_old = c == a
                is_new = c == b
            if is_old or is_new:
                f = np.uint32(eid[k])
                if bern:
                    if str_[f] != epoch:
                        str_[f] = epoch
                        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                        fr[f] = (x & U32) < thr_b
                fl = fr[f]
                if is_old:
                    n_old += 1
                    f_old += fl != 0
                else:
                    n_new += 1
                    f_new += fl != 0
        if f_new <= f_old:
            sr[i] = b
            if ising:
                e += 2 * (n_new - n_old)
            else:
                e += n_new - n_old
            acc += 1
    return e, acc, s0, s1, s2, s3


@njit(parallel=True)
def flag_sweeps(graph, chain, rec, work, q, ising, random_order, tau, epoch0, fixed_k, thr_b,
                nsweeps, t0):
    """Run ``nsweeps`` SGD-like sweeps on explicit mini-batch flags on every replica.

    Parameters
    ----------
    graph : Graph; chain : Chain (in/out); rec : Recorder (in/out)
    work : FlagWork
        ``eid`` int32[2M] flag index of every half-edge (identity: one flag per half-edge;
        edge ids: one flag per undirected edge); ``flags`` uint8[R, F]; ``stamp`` int64[R, F]
        epoch stamps (Bernoulli); ``perm`` int32[R, F] (fixed size: a permutation whose first
        ``fixed_k`` entries are the current batch). On entry ``flags`` must be all 0 and
        ``stamp`` all < 1 if ``t0`` is an epoch start.
    q, ising, random_order : as in :func:`mcsgd.dynamics.kernels.table.table_sweeps`
    tau : int, sweeps a mini-batch persists (1: fresh every sweep)
    epoch0 : int, absolute sweep at which the first epoch starts (0, or the sweep of the last
        switch of dynamics): epochs are sweeps epoch0 + [k tau, (k+1) tau)
    fixed_k : int, -1 for Bernoulli(B) flags, else the exact number of flagged edges per epoch
    thr_b : uint64, 32-bit threshold of B (Bernoulli flags)
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
    eid = work.eid
    flags = work.flags
    stamp = work.stamp
    perm = work.perm
    nf = flags.shape[1]
    for r in prange(s.shape[0]):
        e = energy[r]
        acc = 0
        sr = s[r]
        fr = flags[r]
        str_ = stamp[r]
        s0, s1, s2, s3 = load_row(rng, r)
        for sw in range(nsweeps):
            t = t0 + sw - epoch0
            epoch = t // tau + 1
            if fixed_k >= 0 and t % tau == 0:
                for k in range(fixed_k):
                    fr[perm[r, k]] = 0
                for k in range(fixed_k):  # partial Fisher-Yates: first fixed_k entries
                    x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                    j = k + below(x, nf - k)
                    tmp = perm[r, k]
                    perm[r, k] = perm[r, j]
                    perm[r, j] = tmp
                    fr[perm[r, k]] = 1
            bern = fixed_k < 0
            if not ising and not random_order and bern:
                e, acc, s0, s1, s2, s3 = _flag_sweep(
                    graph, eid, sr, s0, s1, s2, s3, e, acc, q, False, False, True, thr_b, fr,
                    str_, epoch, n,
                )
            else:
                e, acc, s0, s1, s2, s3 = _flag_sweep(
                    graph, eid, sr, s0, s1, s2, s3, e, acc, q, ising, random_order, bern, thr_b,
                    fr, str_, epoch, n,
                )
            record(trace, w0, blk, r, t0 + sw + 1, e)
        finish(rng, energy, accepted, r, s0, s1, s2, s3, e, acc)


flag_sweeps_serial = serial_twin(flag_sweeps, "flag_sweeps_serial")
