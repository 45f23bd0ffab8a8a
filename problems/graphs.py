"""Fast graph construction on raw arrays (no networkx): CSR assembly, random-regular pairing.

Graphs are stored as int32 CSR adjacency (``indptr[N+1]``, ``indices[2M]``), every undirected
edge appearing once in each endpoint's row, rows sorted by neighbour. Multi-edges appear as
repeated entries; self-loops are never produced by the generators and rejected on load.
"""

from __future__ import annotations

import numpy as np

from mcsgd._numba import njit

INT = np.int32


@njit
def _csr_fill(n, u, v, w, has_w, indptr, indices, weights):
    deg = np.zeros(n, np.int64)
    m = u.shape[0]
    for e in range(m):
        deg[u[e]] += 1
        deg[v[e]] += 1
    indptr[0] = 0
    for i in range(n):
        indptr[i + 1] = indptr[i] + deg[i]
    pos = np.empty(n, np.int64)
    for i in range(n):
        pos[i] = indptr[i]
    for e in range(m):
        a = u[e]
        b = v[e]
        indices[pos[a]] = b
        indices[pos[b]] = a
        if has_w:
            weights[pos[a]] = w[e]
            weights[pos[b]] = w[e]
        pos[a] += 1
        pos[b] += 1
    # sort each row by neighbour (insertion sort: rows are short), carrying weights
    for i in range(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        for k in range(lo + 1, hi):
            x = indices[k]
            wx = weights[k] if has_w else 0
            j = k - 1
            while j >= lo and indices[j] > x:
                indices[j + 1] = indices[j]
                if has_w:
                    weights[j + 1] = weights[j]
                j -= 1
            indices[j + 1] = x
            if has_w:
                weights[j + 1] = wx


def edges_to_csr(
    n: int, u: np.ndarray, v: np.ndarray, w: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Assemble int32 CSR from undirected edge endpoints.

    Parameters
    ----------
    n : int
        Number of nodes N.
    u, v : int arrays, shape (M,)
        Endpoints of the M undirected edges.
    w : int8 array, shape (M,), optional
        Per-edge weights (couplings), copied to both half-edges.

    Returns
    -------
    indptr : int32[N+1], indices : int32[2M], weights : int8[2M] or None
    """
    m = len(u)
    if 2 * m >= 2**31:
        raise ValueError(f"2M = {2 * m} half-edges exceeds the int32 CSR limit 2**31 - 1")
    indptr = np.empty(n + 1, INT)
    indices = np.empty(2 * m, INT)
    has_w = w is not None
    weights = np.empty(2 * m if has_w else 0, np.int8)
    _csr_fill(
        n,
        np.ascontiguousarray(u, INT),
        np.ascontiguousarray(v, INT),
        np.ascontiguousarray(w if has_w else np.zeros(0), np.int8),
        has_w,
        indptr,
        indices,
        weights,
    )
    return indptr, indices, (weights if has_w else None)


@njit
def _xs_next(s):
    s ^= s >> np.uint64(12)
    s ^= s << np.uint64(25)
    s ^= s >> np.uint64(27)
    return s, s * np.uint64(2685821657736338717)


@njit
def _switch_bad(u, v, group, isbad, s):
    """One pass of random double-edge switches of every bad edge with a random partner."""
    m = u.shape[0]
    badlist = np.flatnonzero(isbad)
    nb = badlist.shape[0]
    for e in badlist:
        s, r = _xs_next(s)
        # half of the partners among the other bad edges: two bad edges of different planted
        # groups fix each other (the only way out for q = 2)
        if (r >> np.uint64(2)) & np.uint64(1):
            f = badlist[np.int64((r >> np.uint64(33)) % np.uint64(nb))]
        else:
            f = np.int64((r >> np.uint64(33)) % np.uint64(m))
        if f == e:
            continue
        a = u[e]
        b = v[e]
        c = u[f]
        d = v[f]
        if (r >> np.uint64(3)) & np.uint64(1):
            c, d = d, c
        if a != c and b != d and group[a] != group[c] and group[b] != group[d]:
            u[e] = a
            v[e] = c
            u[f] = b
            v[f] = d
    return s


@njit
def _regular_repair(u, v, group, n_nodes, simple, seed_state, max_rounds):
    """Fix bad pairs (self-loop, same planted group, or multi-edge when ``simple``) by random
    double-edge switches with other edges; returns 0 on success, -1 if rounds ran out."""
    m = u.shape[0]
    s = seed_state
    isbad = np.zeros(m, np.bool_)
    for _ in range(max_rounds):
        nbad = 0
        for e in range(m):
            b = u[e] == v[e] or group[u[e]] == group[v[e]]
            isbad[e] = b
            nbad += b
        if nbad == 0 and simple:
            key = np.empty(m, np.int64)
            for e in range(m):
                key[e] = np.int64(min(u[e], v[e])) * n_nodes + max(u[e], v[e])
            order = np.argsort(key)
            for k in range(1, m):
                if key[order[k]] == key[order[k - 1]]:
                    isbad[order[k]] = True
                    nbad += 1
        if nbad == 0:
            return 0
        s = _switch_bad(u, v, group, isbad, s)
    return -1


def random_regular_edges(
    n: int,
    d: int,
    rng: np.random.Generator,
    group: np.ndarray | None = None,
    simple: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Edges of a random d-regular (multi)graph by stub pairing plus random switches.

    Stubs are paired uniformly at random (configuration model); pairs that are self-loops,
    that join two nodes of the same ``group`` (planted colouring), or that repeat an edge
    (when ``simple``) are removed by random double-edge switches with other edges. The result
    is d-regular and, for ``group``, properly coloured by it.
    """
    if (n * d) % 2:
        raise ValueError(f"n*d = {n * d} must be even for a d-regular graph")
    stubs = np.repeat(np.arange(n, dtype=INT), d)
    rng.shuffle(stubs)
    u = stubs[0::2].copy()
    v = stubs[1::2].copy()
    g = np.arange(n, dtype=INT) if group is None else np.asarray(group, INT)
    # without a planted group every node is its own group: only self-loops are forbidden
    seed = np.uint64(rng.integers(1, 2**63, dtype=np.int64))
    left = _regular_repair(u, v, g, n, simple, seed, 400)
    if left != 0:
        raise RuntimeError("random regular pairing did not converge; try another seed")
    return u, v
