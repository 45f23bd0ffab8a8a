"""q-colouring instances (antiferromagnetic Potts): planted and random, ER-like and regular.

Ensembles (SPEC §1.1)
---------------------
``graph="er"`` (the reference ensemble): M = round(cN/2) edges drawn independently; for a
planted instance each edge takes one end i uniformly and the other uniformly among the nodes of
a planted group different from i's (a uniformly chosen other group, then a uniform member);
for a random instance the other end is uniform among the N-1 other nodes. Double edges are
kept, as in the reference code. Degrees are close to Poisson(c).

``graph="er-simple"``: the same draws, with every repeated edge redrawn until the graph is simple
(a ParameterError if repeats remain after ``ER_SIMPLE_ROUNDS`` rounds, never a multigraph).

``graph="regular"``: a simple d-regular graph (``c`` = d) by stub pairing with random
switches; planted instances only pair nodes of different planted groups.

Planted colours are ``floor(i / (N/q))`` (equal groups; N divisible by q) or, with
``shuffle=True``, a uniformly shuffled balanced assignment (index order then leaks nothing).
"""

from __future__ import annotations

import numpy as np

from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.seeds import instance_rng

from .graphs import edges_to_csr, random_regular_edges
from .instance import Instance

GRAPHS = ("er", "er-simple", "regular")


INT32_MAX = 2**31 - 1


def graph_memory_bytes(n: int, m: float) -> float:
    """A lower bound on the bytes needed to build a graph of ``n`` nodes and ``m`` edges:
    int32 endpoints (8 M), int32 CSR (4 (N+1) + 8 M), the int64 degree and position arrays of
    the CSR assembly (16 N) and int64 degrees at validation (8 N), one byte per node."""
    return 16.0 * float(m) + 29.0 * float(n)


def expected_edges(n: int, c: float, graph: str) -> int:
    """Number of edges M of a generated graph: N d / 2 (regular) or round(c N / 2) (ER)."""
    return int(n) * int(c) // 2 if graph == "regular" else int(round(float(c) * int(n) / 2))


def check_graph_size(n: int, m: float, what: str = "the graph",
                     available: int | None = None) -> None:
    """Refuse sizes beyond the int32 CSR layout or the available memory (ParameterError)."""
    from mcsgd.resources import check_memory

    if n > INT32_MAX:
        raise ParameterError(f"n = {n} exceeds the int32 node-index limit {INT32_MAX}")
    if 2 * m > INT32_MAX:
        raise ParameterError(f"{what} would have 2M = {2 * m:.4g} half-edges, beyond the int32 "
                             f"CSR limit {INT32_MAX} (reduce n or c)")
    check_memory(f"{what} (n = {n}, M = {m:.4g} edges)", graph_memory_bytes(n, m), available)


def check_coloring_params(
    n: int, q: int, c: float, graph: str = "er", planted: bool = True, seed: int = 0,
    instance: int = 0, available: int | None = None,
) -> None:
    """Validate the arguments of :func:`coloring` without building anything.

    The one validator of colouring parameters: used by :func:`coloring` and by the scan-file
    checker, so a scan accepts exactly what ``mcsgd generate coloring`` accepts (ranges, an
    integer degree <= n-1 with even n*d for regular graphs, divisibility of a planted
    colouring, the int32 CSR limits and the memory the graph needs: ``available`` bytes,
    default :func:`mcsgd.resources.available_memory`).
    """
    check_range("n", n, 1, None, integer=True)
    check_range("q", q, 2, 127, integer=True)
    check_range("c", c, 0, None)
    check_choice("graph", graph, GRAPHS)
    check_seed_index(seed, instance)
    n, q = int(n), int(q)
    if n > INT32_MAX:
        raise ParameterError(f"n = {n} exceeds the int32 node-index limit {INT32_MAX}")
    if graph == "regular":
        check_range("c (degree d of a regular graph)", c, 0, n - 1, integer=True)
        if (n * int(c)) % 2:
            raise ParameterError(f"n*c = {n * int(c)} must be even for a regular graph")
    if planted and n % q:
        raise ParameterError(
            f"n = {n} must be divisible by q = {q} for a planted (balanced) colouring"
        )
    if planted and graph == "regular" and int(c) > n - n // q:
        raise ParameterError(f"c = {c} is more than the n - n/q = {n - n // q} nodes outside "
                             "a planted group (degree of a planted regular graph)")
    if not planted and n < 2 and c > 0:
        raise ParameterError(f"n = {n} is too small for edges (n >= 2 needed)")
    m = expected_edges(n, c, graph)
    if graph == "er-simple" and m > n * (n - 1) // 2 * (1 - 1 / q if planted else 1) * 0.5:
        raise ParameterError(f"c = {c} is too dense for a simple graph with n = {n}")
    check_graph_size(n, m, "the colouring instance", available)


def check_seed_index(seed: int, instance: int) -> None:
    """Range checks of a generator's ``seed`` (< 2**64) and ``instance`` index (< 2**32)."""
    check_range("seed", seed, 0, 2**64 - 1, integer=True)
    check_range("instance", instance, 0, 2**32 - 1, integer=True)


def _dedupe_keys(keys: np.ndarray, n: int) -> np.ndarray:
    """Indices of edges whose (unordered) pair already appeared earlier."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    dup = np.zeros(len(keys), bool)
    dup[order[1:][sk[1:] == sk[:-1]]] = True
    return np.flatnonzero(dup)


# redraw rounds of ``er-simple`` before giving up (a ParameterError, never a multigraph)
ER_SIMPLE_ROUNDS = 1000


def redraw_until_simple(u: np.ndarray, v: np.ndarray, n: int, draw, what: str) -> None:
    """Redraw repeated edges of ``(u, v)`` in place until the graph is simple.

    ``draw(k)`` returns ``k`` fresh edges ``(u2, v2)`` of the ensemble. Raises
    :class:`ParameterError` (naming ``what``, e.g. ``"c = 30 with n = 40"``) if repeated edges
    remain after :data:`ER_SIMPLE_ROUNDS` rounds: the result would be a multigraph labelled
    ``er-simple``.
    """
    for _ in range(ER_SIMPLE_ROUNDS):
        keys = np.minimum(u, v).astype(np.int64) * n + np.maximum(u, v)
        dup = _dedupe_keys(keys, n)
        if dup.size == 0:
            return
        u2, v2 = draw(dup.size)
        u[dup] = u2
        v[dup] = v2
    keys = np.minimum(u, v).astype(np.int64) * n + np.maximum(u, v)
    left = _dedupe_keys(keys, n).size
    if left:
        raise ParameterError(
            f"graph = 'er-simple': {left} repeated edge(s) remain after {ER_SIMPLE_ROUNDS} "
            f"redraw rounds ({what}); use a smaller mean degree, a larger n, or graph = 'er' "
            "(double edges kept)")


def planted_groups(n: int, q: int, shuffle: bool, rng: np.random.Generator) -> np.ndarray:
    """Balanced planted colours int8[N]: ``floor(i/(N/q))``, or a shuffle of it."""
    g = (np.arange(n, dtype=np.int64) // (n // q)).astype(np.int8)
    if shuffle:
        rng.shuffle(g)
    return g


def _er_edges(n, q, m, planted, rng):
    """Endpoints (int32[M], int32[M]) of M independent edges of the reference ensemble."""
    i = rng.integers(0, n, size=m, dtype=np.int32)
    if planted is None:
        j = rng.integers(0, n - 1, size=m, dtype=np.int32)
        j += j >= i
        return i, j
    size = n // q
    members = np.argsort(planted, kind="stable").astype(np.int32)
    h = planted[i].astype(np.int32)
    h += 1 + rng.integers(0, q - 1, size=m, dtype=np.int32)
    h %= q
    h *= size
    h += rng.integers(0, size, size=m, dtype=np.int32)
    return i, members[h]


def draw_edges(n: int, q: int, c: float, graph: str, group: np.ndarray | None,
               rng: np.random.Generator, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Edge lists (u, v) of the ensemble ``graph`` with degree / mean degree ``c``: a simple
    random c-regular graph, or round(cN/2) ER edges (``er-simple``: redrawn until simple,
    ``what`` names the parameters in the error if that fails); with ``group`` (planted
    colours in q groups) no edge joins two nodes of one group."""
    if graph == "regular":
        return random_regular_edges(n, int(c), rng, group=group, simple=True)
    m = int(round(c * n / 2))
    u, v = _er_edges(n, q, m, group, rng)
    if graph == "er-simple":
        redraw_until_simple(u, v, n, lambda k: _er_edges(n, q, k, group, rng), what)
    return u, v


def coloring(
    n: int,
    q: int,
    c: float,
    *,
    planted: bool = True,
    graph: str = "er",
    shuffle: bool = False,
    seed: int = 0,
    instance: int = 0,
) -> Instance:
    """Generate a q-colouring instance.

    Parameters
    ----------
    n : int
        Number of nodes N >= 1 (divisible by q for planted instances).
    q : int
        Number of colours, 2..127.
    c : float
        Mean degree (ER: M = round(cN/2) edges) or the degree d (``graph="regular"``).
    planted : bool
        Plant a balanced colouring (True) or draw an unconstrained random graph (False).
    graph : {"er", "er-simple", "regular"}
        Ensemble (module docstring).
    shuffle : bool
        Shuffle the balanced planted assignment instead of ``floor(i / (N/q))``.
    seed : int
        Seed in [0, 2**64); the instance is a deterministic function of all arguments.
    instance : int
        Instance index k in [0, 2**32): instance k of (parameters, seed) draws from
        ``SeedSequence(seed, spawn_key=(INSTANCE, h1, h2, k))`` (:mod:`mcsgd.seeds`), the
        same stream whichever command asks for it.

    Returns
    -------
    Instance
        ``problem="coloring"``, with ``planted`` set for planted instances.
    """
    check_coloring_params(n, q, c, graph, planted, seed, instance)
    n, q, seed, instance = int(n), int(q), int(seed), int(instance)
    params = {
        "generator": "coloring",
        "n": n,
        "q": q,
        "c": float(c),
        "planted": bool(planted),
        "graph": graph,
        "shuffle": bool(shuffle),
    }
    rng = instance_rng(params, seed, instance)
    pl = planted_groups(n, q, shuffle, rng) if planted else None
    u, v = draw_edges(n, q, c, graph, pl, rng, f"c = {c:g} with n = {n}")
    indptr, indices, _ = edges_to_csr(n, u, v)
    params.update(seed=seed, instance=instance)
    return Instance("coloring", q, indptr, indices, None, pl, params)


def planted_coloring(n: int, q: int, c: float, **kw) -> Instance:
    """A planted q-colouring (see :func:`coloring`)."""
    return coloring(n, q, c, planted=True, **kw)


def random_coloring(n: int, q: int, c: float, **kw) -> Instance:
    """An unplanted random graph to colour with q colours (see :func:`coloring`)."""
    return coloring(n, q, c, planted=False, **kw)
