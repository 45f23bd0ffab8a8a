"""Instances from a graph the user brings: a networkx graph or an edge-list file."""

from __future__ import annotations

import os

import numpy as np

from mcsgd.errors import FileFormatError, ParameterError, check_range

from .coloring import INT32_MAX, check_graph_size
from .graphs import edges_to_csr
from .instance import Instance


def from_edges(
    n: int | None,
    u: np.ndarray,
    v: np.ndarray,
    *,
    q: int = 2,
    problem: str = "coloring",
    couplings: np.ndarray | None = None,
    planted: np.ndarray | None = None,
    params: dict | None = None,
) -> Instance:
    """Build an instance from edge endpoints ``u[k] - v[k]`` (0-based, shape (M,)).

    ``n`` defaults to ``max(u, v) + 1``. For ``problem="ising"`` pass ``couplings`` (+-1 per
    edge; default all +1, a ferromagnet). Self-loops are rejected.
    """
    try:
        u = np.asarray(u, dtype=np.int64).ravel()
        v = np.asarray(v, dtype=np.int64).ravel()
    except (OverflowError, ValueError, TypeError):
        raise ParameterError("node indices must be integers in [0, 2**31 - 1)") from None
    if u.shape != v.shape:
        raise ParameterError("u and v must have the same length")
    if u.size and (u.min() < 0 or v.min() < 0):
        raise ParameterError("node indices must be non-negative")
    if n is None:
        n = int(max(u.max(initial=-1), v.max(initial=-1)) + 1)
    check_range("n", n, 1, None, integer=True)
    check_graph_size(int(n), u.size, "the instance")
    if u.size and max(u.max(), v.max()) >= n:
        raise ParameterError(f"an edge names a node >= n = {n}")
    if np.any(u == v):
        k = int(np.flatnonzero(u == v)[0])
        raise ParameterError(f"edge {k} ({u[k]}, {v[k]}) is a self-loop")
    if problem == "ising":
        q = 2
        if couplings is None:
            couplings = np.ones(u.size, np.int8)
    indptr, indices, w = edges_to_csr(int(n), u, v, couplings)
    p = {"generator": "edges", "n": int(n), "q": int(q), "problem": problem}
    p.update(params or {})
    return Instance(problem, int(q), indptr, indices, w, planted, p)


def from_networkx(graph, *, q: int = 2, problem: str = "coloring", weight: str = "J") -> Instance:
    """Build an instance from any networkx graph; nodes are relabelled 0..N-1 in sorted order.

    For ``problem="ising"`` the edge attribute ``weight`` (default ``"J"``) gives the coupling
    sign (missing: +1).
    """
    nodes = list(graph.nodes())
    try:
        nodes = sorted(nodes)
    except TypeError:
        pass
    index = {x: k for k, x in enumerate(nodes)}
    u, v, w = [], [], []
    for a, b, data in graph.edges(data=True):
        u.append(index[a])
        v.append(index[b])
        w.append(1 if data.get(weight, 1) >= 0 else -1)
    cpl = np.asarray(w, np.int8) if problem == "ising" else None
    return from_edges(
        len(nodes),
        np.asarray(u, np.int64),
        np.asarray(v, np.int64),
        q=q,
        problem=problem,
        couplings=cpl,
        params={"generator": "networkx"},
    )


def from_edge_file(path: str | os.PathLike, *, q: int = 2, problem: str = "coloring") -> Instance:
    """Read a text edge list: one ``i j`` pair (0-based integers) per line.

    Blank lines and lines starting with ``#`` are ignored. For Ising a third column gives the
    coupling (+-1; default +1).
    """
    check_range("q", q, 2, 127, integer=True)
    if not os.path.exists(path):
        raise FileFormatError(f"edge file {str(path)!r} does not exist")
    if not os.path.isfile(path):
        raise FileFormatError(f"edge file {str(path)!r} is not a regular file")
    u, v, w = [], [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            s = line.split("#", 1)[0].strip()
            if not s:
                continue
            parts = s.replace(",", " ").split()
            try:
                vals = [int(x) for x in parts]
            except ValueError:
                raise FileFormatError(
                    f"edge file {str(path)!r}, line {lineno}: expected two integers 'i j', "
                    f"got {line.strip()[:40]!r}"
                ) from None
            if len(vals) not in (2, 3):
                raise FileFormatError(
                    f"edge file {str(path)!r}, line {lineno}: expected 'i j' (or 'i j J')"
                )
            if not all(0 <= x < INT32_MAX for x in vals[:2]):
                raise FileFormatError(
                    f"edge file {str(path)!r}, line {lineno}: node ids must be in "
                    f"[0, {INT32_MAX}) (int32 indices), got {line.strip()[:40]!r}"
                )
            if problem == "ising" and len(vals) == 3 and vals[2] not in (-1, 1):
                raise FileFormatError(
                    f"edge file {str(path)!r}, line {lineno}: the coupling J must be +1 or -1, "
                    f"got {vals[2]}"
                )
            u.append(vals[0])
            v.append(vals[1])
            w.append(vals[2] if len(vals) == 3 and problem == "ising" else 1)
    if not u:
        raise FileFormatError(f"edge file {str(path)!r} has no edges")
    cpl = np.sign(np.asarray(w)).astype(np.int8) if problem == "ising" else None
    inst = from_edges(
        None, np.asarray(u), np.asarray(v), q=q, problem=problem, couplings=cpl,
        params={"generator": "edge-file", "source": os.path.basename(str(path))},
    )
    return inst
