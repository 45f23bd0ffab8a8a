"""Numba kernels: single-variable dynamics on CSR graphs, many replicas in parallel.

All kernels run ``nsweeps`` sweeps (one sweep = N attempted single-variable updates) on every
replica ``r`` in parallel (``prange`` over replicas; each replica uses only its own RNG row, so
the result does not depend on the number of threads), update the configuration ``s[r]`` and the
integer total energy ``energy[r]`` in place, add accepted moves to ``accepted[r]``, and add the
energy after each sweep falling in the measurement window to ``trace`` (see ``_record``).

Problems (``ising`` flag)
-------------------------
Colouring: ``s`` holds colours 0..q-1, E = #monochromatic edges; a move a -> b is proposed
uniformly among the q-1 other colours; ``n_old``/``n_new`` count neighbours of colour a/b and
dE = n_new - n_old.
Ising: ``s`` holds spins +-1, E = -sum J_ij s_i s_j; a move flips s_i; ``n_old`` counts violated
couplings at i (J s_i s_j = -1), ``n_new`` satisfied ones, and dE = 2 (n_new - n_old).

Acceptance (``table_sweeps``)
-----------------------------
A 32-bit fixed-point threshold table ``thr`` (see :func:`mcsgd.rng.threshold32`): with
``use2d`` the move is accepted iff ``u32 < thr[n_old, n_new]``; otherwise iff
``u32 < thr[0, n_new - n_old + D]`` (D = ``dmax``). Metropolis and Ising heat-bath use the 1-d
form (a function of dE); the reference SGD-like rule uses the 2-d table
P_acc(n_old, n_new; B) = P[Bin(n_new, B) <= Bin(n_old, B)], which is *exactly* its law for
sequential sweeps with a fresh Bernoulli(B) flag per half-edge and sweep (each flag is read once
per sweep; SPEC §2.2). One 64-bit draw serves the proposal (high 32 bits) and the acceptance
(low 32 bits).

Explicit mini-batch flags (``flag_sweeps``)
-------------------------------------------
For the variants whose law is not a per-update table: flags per half-edge (``eid`` = identity)
or per undirected edge (``eid`` = edge id, both ends share the flag), fresh every ``tau`` sweeps
counted from ``epoch0`` (the start of the run, or the last switch of dynamics: a switch starts
a fresh mini-batch; ``tau`` > 1: persistent mini-batches), Bernoulli(B) each (drawn lazily,
only for neighbours holding the old or new colour, with epoch stamps) or a fixed-size batch of
exactly K edges (partial Fisher-Yates per epoch); random-site order re-reads a flag if a site is
visited twice in an epoch. The move is accepted iff the mini-batch energy change dE_B <= 0
(ties accepted).
"""

from __future__ import annotations

import numpy as np

from mcsgd._numba import njit, prange
from mcsgd.rng import _rotl, next_u64, randbelow

_U32 = np.uint64(0xFFFFFFFF)


@njit(inline="always")
def _record(trace, r, t, w0, blk, e):
    # after completing absolute sweep t (1-based), sweeps t > w0 belong to the window
    if t > w0:
        b = (t - w0 - 1) // blk
        if b < trace.shape[1]:
            trace[r, b] += e


@njit(inline="always")
def _xo(s0, s1, s2, s3):
    # xoshiro256** on a state held in locals (same stream as mcsgd.rng.next_u64)
    result = _rotl(s1 * np.uint64(5), 7) * np.uint64(9)
    t = s1 << np.uint64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(inline="always")
def _rng_load(rng, r):
    # a replica's xoshiro256** row into locals for a whole kernel call
    return rng[r, 0], rng[r, 1], rng[r, 2], rng[r, 3]


@njit(inline="always")
def _finish(rng, r, s0, s1, s2, s3, energy, accepted, e, acc):
    # write a replica's RNG row, energy and acceptance count back at the end of a call
    rng[r, 0] = s0
    rng[r, 1] = s1
    rng[r, 2] = s2
    rng[r, 3] = s3
    energy[r] = e
    accepted[r] += acc


@njit(inline="always")
def _below(x, m):
    # integer in [0, m) from the high 32 bits of x (as mcsgd.rng.randbelow)
    return np.int64(((x >> np.uint64(32)) * np.uint64(m)) >> np.uint64(32))


# Performance notes (semantics and RNG consumption are those of the plain loops):
# - the RNG row lives in locals for a whole replica and is written back at its end;
# - neighbour loops run over an unsigned range, so numba emits no negative-index wraparound
#   and LLVM vectorises the gather-and-compare loop;
# - the sweep bodies are inline functions called with literal flags for the common cases
#   (colouring or Ising, sequential order), so LLVM removes the dead branches from the hot loop;
# - the acceptance is branch-free (select + unconditional store): at acceptance rates near 1/2
#   (SGD-like, Ising at high T) a mispredicted branch per update costs more than the store.


@njit(inline="always")
def _table_sweep(
    indptr, indices, couplings, sr, s0, s1, s2, s3, e, acc, q, ising, thr, use2d, dmax,
    random_order, n,
):
    for step in range(n):
        if random_order:
            x, s0, s1, s2, s3 = _xo(s0, s1, s2, s3)
            i = _below(x, n)
        else:
            i = step
        x, s0, s1, s2, s3 = _xo(s0, s1, s2, s3)
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
            b = a + 1 + _below(x, q - 1)
            if b >= q:
                b -= q
            for k in range(lo, hi):
                c = sr[np.uint32(indices[k])]
                n_old += c == a
                n_new += c == b
        if use2d:
            th = thr[n_old, n_new]
        else:
            th = thr[0, n_new - n_old + dmax]
        ok = (x & _U32) < th
        sr[i] = b if ok else a
        d = (2 * (n_new - n_old)) if ising else (n_new - n_old)
        e += d if ok else 0
        acc += ok
    return e, acc, s0, s1, s2, s3


@njit(parallel=True)
def table_sweeps(
    indptr, indices, couplings, s, rng, energy, accepted, q, ising, thr, use2d, dmax,
    random_order, nsweeps, t0, trace, w0, blk,
):
    """Table-driven single-site dynamics (Metropolis, Ising heat-bath, reference SGD-like).

    Parameters
    ----------
    indptr : int32[N+1]; indices : int32[2M]; couplings : int8[2M] (Ising) or int8[0]
    s : int8[R, N] configurations (in/out)
    rng : uint64[R, 4] xoshiro256** states (in/out)
    energy : int64[R] total energies (in/out); accepted : int64[R] (in/out)
    q : int, number of colours; ising : bool
    thr : uint64[D+1, D+1] (``use2d``) or uint64[1, 2D+1] thresholds; dmax : int, D
    random_order : bool, sites drawn uniformly instead of i = 0..N-1
    nsweeps : int; t0 : int, absolute index of sweeps already done
    trace : float64[R, nb]; w0 : int, window start; blk : int, sweeps per trace block
    """
    n = indptr.shape[0] - 1
    nrep = s.shape[0]
    for r in prange(nrep):
        e = energy[r]
        acc = 0
        sr = s[r]
        s0, s1, s2, s3 = _rng_load(rng, r)
        for sw in range(nsweeps):
            if not ising and not random_order and use2d:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    indptr, indices, couplings, sr, s0, s1, s2, s3, e, acc, q, False, thr, True,
                    dmax, False, n,
                )
            elif ising and not random_order and not use2d:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    indptr, indices, couplings, sr, s0, s1, s2, s3, e, acc, q, True, thr, False,
                    dmax, False, n,
                )
            elif not ising and not random_order:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    indptr, indices, couplings, sr, s0, s1, s2, s3, e, acc, q, False, thr, False,
                    dmax, False, n,
                )
            else:
                e, acc, s0, s1, s2, s3 = _table_sweep(
                    indptr, indices, couplings, sr, s0, s1, s2, s3, e, acc, q, ising, thr, use2d,
                    dmax, random_order, n,
                )
            _record(trace, r, t0 + sw + 1, w0, blk, e)
        _finish(rng, r, s0, s1, s2, s3, energy, accepted, e, acc)


@njit(parallel=True)
def ising_fields(indptr, indices, couplings, s, h):
    """Local fields h[r, i] = sum_j J_ij s[r, j] (int16[R, N]) of every replica."""
    n = indptr.shape[0] - 1
    for r in prange(s.shape[0]):
        for i in range(n):
            acc = 0
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                acc += couplings[k] * s[r, np.uint32(indices[k])]
            h[r, i] = acc


@njit(parallel=True)
def ising_field_sweeps(
    indptr, indices, couplings, s, h, rng, energy, accepted, thr, use2d, dmax, nsweeps, t0,
    trace, w0, blk,
):
    """Sequential Ising sweeps on cached local fields (same law *and* same random numbers as
    :func:`table_sweeps` with ``ising=True``: the results are bit-identical).

    With h_i = sum_j J_ij s_j, the flip of s_i has n_new - n_old = s_i h_i (satisfied minus
    violated couplings) and n_old, n_new = (d_i -+ s_i h_i) / 2, so a rejected flip costs one
    table lookup; an accepted one updates the fields of the neighbours (h_j -= 2 J_ij s_i).
    ``h`` (int16[R, N]) must hold the fields of ``s`` on entry (see :func:`ising_fields`) and
    holds them on exit. Other parameters as in :func:`table_sweeps`.
    """
    n = indptr.shape[0] - 1
    for r in prange(s.shape[0]):
        e = energy[r]
        acc = 0
        sr = s[r]
        hr = h[r]
        s0, s1, s2, s3 = _rng_load(rng, r)
        for sw in range(nsweeps):
            for i in range(n):
                x, s0, s1, s2, s3 = _xo(s0, s1, s2, s3)
                a = sr[i]
                sh = np.int64(a) * np.int64(hr[i])
                if use2d:
                    d = np.int64(indptr[i + 1] - indptr[i])
                    th = thr[(d - sh) >> 1, (d + sh) >> 1]
                else:
                    th = thr[0, sh + dmax]
                if (x & _U32) < th:
                    sr[i] = -a
                    e += 2 * sh
                    acc += 1
                    for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                        hr[np.uint32(indices[k])] -= 2 * couplings[k] * a
            _record(trace, r, t0 + sw + 1, w0, blk, e)
        _finish(rng, r, s0, s1, s2, s3, energy, accepted, e, acc)


@njit(parallel=True)
def heatbath_sweeps(
    indptr, indices, s, rng, energy, accepted, q, wtab, random_order, nsweeps, t0, trace, w0,
    blk, counts,
):
    """Heat-bath (Glauber) updates of colours: the new colour c has probability
    proportional to exp(-n_c / T), n_c = number of neighbours of colour c.

    ``wtab[k] = exp(-k/T)`` for k = 0..D (relative to the smallest n_c, so T = 0 is exact);
    ``counts`` is an int64[R, q] workspace; ``accepted`` counts changes of colour.
    """
    n = indptr.shape[0] - 1
    nrep = s.shape[0]
    for r in prange(nrep):
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
                nmin = counts[r, 0]
                for c in range(1, q):
                    if counts[r, c] < nmin:
                        nmin = counts[r, c]
                z = 0.0
                for c in range(q):
                    z += wtab[counts[r, c] - nmin]
                u = np.float64(next_u64(rng, r) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                u *= z
                b = q - 1
                cum = 0.0
                for c in range(q):
                    cum += wtab[counts[r, c] - nmin]
                    if u < cum:
                        b = c
                        break
                while wtab[counts[r, b] - nmin] == 0.0:  # guard against rounding at the end
                    b -= 1
                a = s[r, i]
                if b != a:
                    e += counts[r, b] - counts[r, a]
                    s[r, i] = b
                    acc += 1
            _record(trace, r, t0 + sw + 1, w0, blk, e)
        energy[r] = e
        accepted[r] += acc


@njit(inline="always")
def _flag_sweep(
    indptr, indices, couplings, eid, sr, s0, s1, s2, s3, e, acc, q, ising, random_order,
    bern, thr_b, fr, str_, epoch, n,
):
    for step in range(n):
        if random_order:
            x, s0, s1, s2, s3 = _xo(s0, s1, s2, s3)
            i = _below(x, n)
        else:
            i = step
        a = sr[i]
        if ising:
            b = -a
        else:
            x, s0, s1, s2, s3 = _xo(s0, s1, s2, s3)
            b = a + 1 + _below(x, q - 1)
            if b >= q:
                b -= q
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
                        x, s0, s1, s2, s3 = _xo(s0, s1, s2, s3)
                        fr[f] = (x & _U32) < thr_b
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
def flag_sweeps(
    indptr, indices, couplings, eid, s, rng, energy, accepted, q, ising, random_order, tau,
    epoch0, fixed_k, thr_b, flags, stamp, perm, nsweeps, t0, trace, w0, blk,
):
    """SGD-like zero-temperature descent on explicit mini-batch flags (all variants).

    Parameters
    ----------
    eid : int32[2M] flag index of every half-edge (identity: one flag per half-edge; edge ids:
        one flag per undirected edge)
    tau : int, sweeps a mini-batch persists (1: fresh every sweep)
    epoch0 : int, absolute sweep at which the first epoch starts (0, or the sweep of the last
        switch of dynamics): epochs are sweeps epoch0 + [k tau, (k+1) tau); on entry ``flags``
        must be all 0 and ``stamp`` all < 1 if ``t0`` is an epoch start
    fixed_k : int, -1 for Bernoulli(B) flags, else the exact number of flagged edges per epoch
    thr_b : uint64, 32-bit threshold of B (Bernoulli flags)
    flags : uint8[R, F]; stamp : int64[R, F] epoch stamps (Bernoulli) ; perm : int32[R, F]
        (fixed size: a permutation whose first ``fixed_k`` entries are the current batch)
    """
    n = indptr.shape[0] - 1
    nrep = s.shape[0]
    nf = flags.shape[1]
    for r in prange(nrep):
        e = energy[r]
        acc = 0
        sr = s[r]
        fr = flags[r]
        str_ = stamp[r]
        s0, s1, s2, s3 = _rng_load(rng, r)
        for sw in range(nsweeps):
            t = t0 + sw - epoch0
            epoch = t // tau + 1
            if fixed_k >= 0 and t % tau == 0:
                for k in range(fixed_k):
                    fr[perm[r, k]] = 0
                for k in range(fixed_k):  # partial Fisher-Yates: first fixed_k entries
                    x, s0, s1, s2, s3 = _xo(s0, s1, s2, s3)
                    j = k + _below(x, nf - k)
                    tmp = perm[r, k]
                    perm[r, k] = perm[r, j]
                    perm[r, j] = tmp
                    fr[perm[r, k]] = 1
            bern = fixed_k < 0
            if not ising and not random_order and bern:
                e, acc, s0, s1, s2, s3 = _flag_sweep(
                    indptr, indices, couplings, eid, sr, s0, s1, s2, s3, e, acc, q, False,
                    False, True, thr_b, fr, str_, epoch, n,
                )
            else:
                e, acc, s0, s1, s2, s3 = _flag_sweep(
                    indptr, indices, couplings, eid, sr, s0, s1, s2, s3, e, acc, q, ising,
                    random_order, bern, thr_b, fr, str_, epoch, n,
                )
            _record(trace, r, t0 + sw + 1, w0, blk, e)
        _finish(rng, r, s0, s1, s2, s3, energy, accepted, e, acc)


@njit(parallel=True)
def init_random(s, rng, q, ising):
    """Uniformly random configurations (colours 0..q-1 or spins +-1), one RNG row each."""
    for r in prange(s.shape[0]):
        for i in range(s.shape[1]):
            v = randbelow(rng, r, q)
            s[r, i] = (2 * v - 1) if ising else v


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


def _serial_twin(kernel, name):
    """A serial copy of a ``prange`` kernel (prange runs as range), compiled and cached under
    its own name: for calls too small to pay for waking the thread pool. Every replica runs
    the same code either way, so results are identical."""
    import types

    f = kernel.py_func
    g = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__, f.__closure__)
    g.__qualname__ = name
    g.__doc__ = f"Serial twin of :func:`{f.__name__}`."
    return njit(g)


table_sweeps_serial = _serial_twin(table_sweeps, "table_sweeps_serial")
heatbath_sweeps_serial = _serial_twin(heatbath_sweeps, "heatbath_sweeps_serial")
flag_sweeps_serial = _serial_twin(flag_sweeps, "flag_sweeps_serial")
ising_field_sweeps_serial = _serial_twin(ising_field_sweeps, "ising_field_sweeps_serial")
