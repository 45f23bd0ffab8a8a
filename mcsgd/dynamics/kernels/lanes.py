"""Lane kernels: many chains of one instance advanced in one pass, stored side by side.

A *lane* is one chain (one replica of one dynamics). The configurations of L lanes are stored
replica-major in blocks of W lanes, ``s[b, i, v]`` (int8[nb, N, W], lane l = b W + v): the W
values of site i share a cache line (64 lanes per 64-byte line), so the neighbour rows read for
site i serve every lane of the block at once, and the compares run across lanes in SIMD
registers. Each lane has its own xoshiro256** row (``rng[l]``, the
stream its scalar twin would use) and its own acceptance table (``thr[:, :, l]``, stored
lane-minor so that lanes at the same counts read nearby cache lines): a whole calibration
grid (every B, every T, every replica) advances in one pass.

**Bit-identity.** Lane l draws exactly the numbers, in exactly the order, that the scalar
kernel (:mod:`~mcsgd.dynamics.kernels.table`, :mod:`~mcsgd.dynamics.kernels.heatbath`) draws for
the same chain, and takes the same decisions: configurations, RNG rows, energies, acceptance
counts and window traces are bit-identical to the scalar layout (tested in
``tests/dynamics/test_lanes.py`` for every dynamics, both orders, 1 and 2 threads).

Tables are 2-d for every table rule: a 1-d threshold table of dE (Metropolis, Ising heat-bath)
becomes ``thr2[n_old, n_new] = thr1[n_new - n_old + D]`` (:func:`mcsgd.dynamics.rules.lane_table`),
the same thresholds, so the same decisions.

Threads split the lanes by block (one ``prange`` iteration per block; each block is its own
memory, so two threads never write one cache line). Lanes never interact, so the result does
not depend on the blocks or on the number of threads. Sequential order visits the sites
i = 0..N-1 in every lane together; random order draws a site per lane (lane l's own stream,
as in the scalar kernel), so it runs lane by lane and gains nothing from the layout (the
driver's ``auto`` layout keeps it scalar).

Bundles
-------
``LaneChain(s int8[nb, N, W], rng uint64[L, 4], energy int64[L], accepted int64[L])``
(L = nb W), the
:class:`~mcsgd.dynamics.kernels.common.Recorder` with ``trace float64[L, nb]`` and the
:class:`~mcsgd.dynamics.kernels.common.Graph`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from mcsgd._numba import njit, njit_noalias, prange
from mcsgd.dynamics.kernels.common import U32, other_colour, record, serial_twin
from mcsgd.dynamics.kernels.heatbath import heatbath_choice
from mcsgd.dynamics.kernels.prefetch import prefetch
from mcsgd.rng import below, randbelow, xoshiro

PREFETCH_AHEAD = 4  # sites ahead whose neighbour rows are prefetched


class LaneChain(NamedTuple):
    """Arrays a lane sweep advances in place (module docstring)."""

    s: np.ndarray
    rng: np.ndarray
    energy: np.ndarray
    accepted: np.ndarray


WIDTHS = (64, 32, 16, 8)  # lane-block widths a kernel is compiled for (constant trip counts)


@njit(inline="always")
def _block_start(rng, energy, l0, w, st, e, acc):
    """Lanes l0..l0+w-1 of a block into its workspaces: RNG rows ``st[4, w]``, energies, counts."""
    for v in range(w):
        st[0, v] = rng[l0 + v, 0]
        st[1, v] = rng[l0 + v, 1]
        st[2, v] = rng[l0 + v, 2]
        st[3, v] = rng[l0 + v, 3]
        e[v] = energy[l0 + v]
        acc[v] = 0


@njit(inline="always")
def _block_record(trace, w0, blk, l0, w, t, e):
    """Every lane's energy after absolute sweep ``t`` into the window trace."""
    for v in range(w):
        record(trace, w0, blk, l0 + v, t, e[v])


@njit(inline="always")
def _block_finish(rng, energy, accepted, l0, w, st, e, acc):
    """The block's RNG rows, energies and accepted counts back into the chain arrays."""
    for v in range(w):
        rng[l0 + v, 0] = st[0, v]
        rng[l0 + v, 1] = st[1, v]
        rng[l0 + v, 2] = st[2, v]
        rng[l0 + v, 3] = st[3, v]
        energy[l0 + v] = e[v]
        accepted[l0 + v] += acc[v]


def _color_block_factory(W):
    def block(indptr, indices, s, rng, energy, accepted, trace, w0, blk, q, thr, l0, nsweeps,
              t0, st, xs, av, bv, no, nn, e, acc):
        n = indptr.shape[0] - 1
        _block_start(rng, energy, l0, W, st, e, acc)
        for sw in range(nsweeps):
            for i in range(n):
                ahead = i + PREFETCH_AHEAD
                if ahead < n:
                    for k in range(np.uint64(indptr[ahead]), np.uint64(indptr[ahead + 1])):
                        prefetch(s, np.uint32(indices[k]), 0)
                for v in range(W):
                    x, a0, a1, a2, a3 = xoshiro(st[0, v], st[1, v], st[2, v], st[3, v])
                    st[0, v] = a0
                    st[1, v] = a1
                    st[2, v] = a2
                    st[3, v] = a3
                    xs[v] = x
                    a = s[i, np.uint64(v)]
                    av[v] = a
                    bv[v] = other_colour(a, q, x)
                    no[v] = 0
                    nn[v] = 0
                for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    j = np.uint32(indices[k])
                    for v in range(W):
                        c = s[j, np.uint64(v)]
                        no[v] += c == av[v]
                        nn[v] += c == bv[v]
                for v in range(W):
                    ok = (xs[v] & U32) < thr[no[v], nn[v], l0 + v]
                    s[i, np.uint64(v)] = bv[v] if ok else av[v]
                    e[v] += (np.int64(nn[v]) - np.int64(no[v])) if ok else 0
                    acc[v] += ok
            _block_record(trace, w0, blk, l0, W, t0 + sw + 1, e)
        _block_finish(rng, energy, accepted, l0, W, st, e, acc)

    block.__name__ = block.__qualname__ = f"color_block_{W}"
    return njit_noalias(block)


_cb64, _cb32, _cb16, _cb8 = (_color_block_factory(w) for w in WIDTHS)


@njit(inline="always")
def _color_dispatch(indptr, indices, sb, rng, energy, accepted, trace, w0, blk, q, thr, l0, w,
                    nsweeps, t0):
    st = np.empty((4, w), np.uint64)
    xs = np.empty(w, np.uint64)
    av = np.empty(w, np.int8)
    bv = np.empty(w, np.int8)
    no = np.empty(w, np.uint8)
    nn = np.empty(w, np.uint8)
    e = np.empty(w, np.int64)
    acc = np.empty(w, np.int64)
    if w == 64:
        _cb64(indptr, indices, sb, rng, energy, accepted, trace, w0, blk, q, thr, l0, nsweeps,
              t0, st, xs, av, bv, no, nn, e, acc)
    elif w == 32:
        _cb32(indptr, indices, sb, rng, energy, accepted, trace, w0, blk, q, thr, l0, nsweeps,
              t0, st, xs, av, bv, no, nn, e, acc)
    elif w == 16:
        _cb16(indptr, indices, sb, rng, energy, accepted, trace, w0, blk, q, thr, l0, nsweeps,
              t0, st, xs, av, bv, no, nn, e, acc)
    else:
        _cb8(indptr, indices, sb, rng, energy, accepted, trace, w0, blk, q, thr, l0, nsweeps,
             t0, st, xs, av, bv, no, nn, e, acc)


@njit(parallel=True)
def lane_color_sweeps(graph, chain, rec, q, thr, nsweeps, t0):
    """Sequential table-driven sweeps of colourings (Metropolis, reference SGD-like), every lane
    with its own table ``thr[:, :, l]`` (uint64[D+1, D+1, L], accept iff ``u32 < thr[n_old,
    n_new, l]``); bit-identical per lane to :func:`~mcsgd.dynamics.kernels.table.table_sweeps`.

    ``chain.s`` is block-major, int8[nb, N, W] with W in :data:`WIDTHS` (lane l = b W + v);
    one ``prange`` iteration per block, so threads never write the same cache line.
    ``nsweeps``, ``t0`` as in the scalar kernel. Counts are uint8: max degree < 256.
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
    w = s.shape[2]
    for b in prange(s.shape[0]):
        _color_dispatch(indptr, indices, s[b], rng, energy, accepted, trace, w0, blk, q, thr,
                        b * w, w, nsweeps, t0)


@njit(parallel=True)
def lane_ising_fields(graph, s, h):
    """Local fields h[b, i, v] = sum_j J_ij s[b, j, v] (int16, block-major like ``s``)."""
    indptr = graph.indptr
    indices = graph.indices
    couplings = graph.couplings
    n = indptr.shape[0] - 1
    nb = s.shape[0]
    w = s.shape[2]
    for i in prange(n):
        for b in range(nb):
            for v in range(w):
                h[b, i, v] = 0
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                jk = np.int16(couplings[k])
                j = np.uint32(indices[k])
                for v in range(w):
                    h[b, i, v] += jk * s[b, j, v]


def _ising_block_factory(W):
    def block(indptr, indices, couplings, s, h, rng, energy, accepted, trace, w0, blk, thr, l0,
              nsweeps, t0, st, flip, e, acc):
        n = indptr.shape[0] - 1
        _block_start(rng, energy, l0, W, st, e, acc)
        for sw in range(nsweeps):
            for i in range(n):
                d = np.int64(indptr[i + 1] - indptr[i])
                for v in range(W):
                    x, a0, a1, a2, a3 = xoshiro(st[0, v], st[1, v], st[2, v], st[3, v])
                    st[0, v] = a0
                    st[1, v] = a1
                    st[2, v] = a2
                    st[3, v] = a3
                    a = s[i, np.uint64(v)]
                    sh = np.int64(a) * np.int64(h[i, np.uint64(v)])
                    ok = (x & U32) < thr[(d - sh) >> 1, (d + sh) >> 1, l0 + v]
                    s[i, np.uint64(v)] = -a if ok else a
                    flip[v] = np.int16(2 * a) if ok else np.int16(0)
                    e[v] += (2 * sh) if ok else 0
                    acc[v] += ok
                for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                    jk = np.int16(couplings[k])
                    j = np.uint32(indices[k])
                    for v in range(W):
                        h[j, np.uint64(v)] -= jk * flip[v]
            _block_record(trace, w0, blk, l0, W, t0 + sw + 1, e)
        _block_finish(rng, energy, accepted, l0, W, st, e, acc)

    block.__name__ = block.__qualname__ = f"ising_block_{W}"
    return njit_noalias(block)


_ib64, _ib32, _ib16, _ib8 = (_ising_block_factory(w) for w in WIDTHS)


@njit(inline="always")
def _ising_dispatch(indptr, indices, couplings, sb, hb, rng, energy, accepted, trace, w0, blk,
                    thr, l0, w, nsweeps, t0):
    st = np.empty((4, w), np.uint64)
    flip = np.empty(w, np.int16)
    e = np.empty(w, np.int64)
    acc = np.empty(w, np.int64)
    if w == 64:
        _ib64(indptr, indices, couplings, sb, hb, rng, energy, accepted, trace, w0, blk, thr,
              l0, nsweeps, t0, st, flip, e, acc)
    elif w == 32:
        _ib32(indptr, indices, couplings, sb, hb, rng, energy, accepted, trace, w0, blk, thr,
              l0, nsweeps, t0, st, flip, e, acc)
    elif w == 16:
        _ib16(indptr, indices, couplings, sb, hb, rng, energy, accepted, trace, w0, blk, thr,
              l0, nsweeps, t0, st, flip, e, acc)
    else:
        _ib8(indptr, indices, couplings, sb, hb, rng, energy, accepted, trace, w0, blk, thr,
             l0, nsweeps, t0, st, flip, e, acc)


@njit(parallel=True)
def lane_ising_field_sweeps(graph, chain, rec, h, thr, nsweeps, t0):
    """Sequential Ising sweeps on cached local fields ``h`` (int16, block-major like
    ``chain.s``: see :func:`lane_ising_fields`; kept up to date), every lane with its own 2-d
    table ``thr[:, :, l]``; bit-identical per lane to
    :func:`~mcsgd.dynamics.kernels.table.ising_field_sweeps`. The field update of an accepted
    flip is branch-free across lanes (a zero ``flip`` for the lanes that rejected)."""
    indptr = graph.indptr
    indices = graph.indices
    couplings = graph.couplings
    s = chain.s
    rng = chain.rng
    energy = chain.energy
    accepted = chain.accepted
    trace = rec.trace
    w0 = rec.w0
    blk = rec.blk
    w = s.shape[2]
    for b in prange(s.shape[0]):
        _ising_dispatch(indptr, indices, couplings, s[b], h[b], rng, energy, accepted, trace,
                        w0, blk, thr, b * w, w, nsweeps, t0)


@njit(parallel=True)
def lane_random_sweeps(graph, chain, rec, q, ising, thr, nsweeps, t0):
    """Random-site table sweeps, lane by lane (each lane draws its own sites: no shared rows);
    bit-identical per lane to :func:`~mcsgd.dynamics.kernels.table.table_sweeps` with
    ``random_order``. Parameters as in :func:`lane_color_sweeps` (``ising``: spins)."""
    indptr = graph.indptr
    indices = graph.indices
    couplings = graph.couplings
    s = chain.s
    rng = chain.rng
    energy = chain.energy
    accepted = chain.accepted
    trace = rec.trace
    w0 = rec.w0
    blk = rec.blk
    n = indptr.shape[0] - 1
    w = s.shape[2]
    for v in prange(s.shape[0] * w):
        sv = s[v // w]
        c0 = v % w
        e = energy[v]
        acc = 0
        s0 = rng[v, 0]
        s1 = rng[v, 1]
        s2 = rng[v, 2]
        s3 = rng[v, 3]
        for sw in range(nsweeps):
            for _step in range(n):
                y, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                i = below(y, n)
                x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
                a = sv[i, c0]
                n_old = 0
                n_new = 0
                if ising:
                    b = -a
                    for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                        u = couplings[k] * a * sv[np.uint32(indices[k]), c0]
                        n_old += u < 0
                        n_new += u > 0
                else:
                    b = other_colour(a, q, x)
                    for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                        c = sv[np.uint32(indices[k]), c0]
                        n_old += c == a
                        n_new += c == b
                ok = (x & U32) < thr[n_old, n_new, v]
                sv[i, c0] = b if ok else a
                d = (2 * (n_new - n_old)) if ising else (n_new - n_old)
                e += d if ok else 0
                acc += ok
            record(trace, w0, blk, v, t0 + sw + 1, e)
        rng[v, 0] = s0
        rng[v, 1] = s1
        rng[v, 2] = s2
        rng[v, 3] = s3
        energy[v] = e
        accepted[v] += acc


@njit(parallel=True)
def lane_heatbath_sweeps(graph, chain, rec, q, wtab, random_order, nsweeps, t0, counts):
    """Colour heat-bath sweeps lane by lane (each lane its own weights ``wtab[l]``,
    float64[L, D+1]); bit-identical per lane to
    :func:`~mcsgd.dynamics.kernels.heatbath.heatbath_sweeps` (the same floating-point sums in
    the same order). ``counts``: int64[L, q] workspace. Lane by lane: the colour counts and the
    sampling are per lane, so the shared rows gain little here (the ``auto`` layout keeps it
    scalar)."""
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
    w = s.shape[2]
    for v in prange(s.shape[0] * w):
        sv = s[v // w]
        c0 = v % w
        e = energy[v]
        acc = 0
        wt = wtab[v]
        cnt = counts[v]
        for sw in range(nsweeps):
            for step in range(n):
                if random_order:
                    i = randbelow(rng, v, n)
                else:
                    i = step
                for c in range(q):
                    cnt[c] = 0
                for k in range(indptr[i], indptr[i + 1]):
                    cnt[sv[indices[k], c0]] += 1
                b = heatbath_choice(cnt, q, wt, rng, v)
                a = sv[i, c0]
                if b != a:
                    e += cnt[b] - cnt[a]
                    sv[i, c0] = b
                    acc += 1
            record(trace, w0, blk, v, t0 + sw + 1, e)
        energy[v] = e
        accepted[v] += acc


@njit
def rows_to_lanes(s, out, l0):
    """``out[l // W, i, l % W] = s[r, i]`` with l = l0 + r: replica rows int8[R, N] into the
    block-major lane state int8[nb, N, W] (in blocks of 256 sites; serial: a memory-bound copy
    gains little from threads)."""
    nr = s.shape[0]
    n = s.shape[1]
    w = out.shape[2]
    for b in range((n + 255) // 256):
        i0 = b * 256
        i1 = min(n, i0 + 256)
        for r in range(nr):
            blk = out[(l0 + r) // w]
            c = (l0 + r) % w
            for i in range(i0, i1):
                blk[i, c] = s[r, i]


@njit
def lanes_to_rows(sl, out, l0):
    """The inverse of :func:`rows_to_lanes`: lanes l0.. of ``sl`` back into rows int8[R, N]."""
    nr = out.shape[0]
    n = out.shape[1]
    w = sl.shape[2]
    for b in range((n + 255) // 256):
        i0 = b * 256
        i1 = min(n, i0 + 256)
        for r in range(nr):
            blk = sl[(l0 + r) // w]
            c = (l0 + r) % w
            for i in range(i0, i1):
                out[r, i] = blk[i, c]


lane_color_sweeps_serial = serial_twin(lane_color_sweeps, "lane_color_sweeps_serial")
lane_ising_field_sweeps_serial = serial_twin(lane_ising_field_sweeps,
                                             "lane_ising_field_sweeps_serial")
lane_random_sweeps_serial = serial_twin(lane_random_sweeps, "lane_random_sweeps_serial")
lane_heatbath_sweeps_serial = serial_twin(lane_heatbath_sweeps, "lane_heatbath_sweeps_serial")
