"""Spin-system instances: planted Ising / planted spin glass and the +-J spin glass (SPEC §1.2).

E(s) = -sum_(ij) J_ij s_i s_j with s_i = +-1. Planted: s* uniform; J_ij = s*_i s*_j with
probability 1 - noise and -s*_i s*_j otherwise (noise = 0: a gauge-transformed ferromagnet;
noise > 0: planted spin glass / Z2 synchronisation). Unplanted: J_ij = +-1 uniformly.
Graphs: a simple random d-regular graph, or ER with mean degree d (``er``: reference-style
independent edges, double edges kept; ``er-simple``: redrawn until simple).
"""

from __future__ import annotations

import numpy as np

from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.seeds import instance_rng

from .coloring import (
    INT32_MAX,
    check_graph_size,
    check_seed_index,
    draw_edges,
    expected_edges,
)
from .graphs import edges_to_csr
from .instance import Instance

GRAPHS = ("regular", "er", "er-simple")


def check_ising_params(
    n: int, d: float, graph: str = "regular", noise: float = 0.0, seed: int = 0,
    instance: int = 0, available: int | None = None,
) -> None:
    """Validate the arguments of :func:`ising` without building anything.

    The one validator of Ising parameters, used by :func:`ising` and by the scan-file checker
    (ranges, an integer degree <= n-1 with even n*d for regular graphs, int32 and memory limits).
    """
    check_range("n", n, 2, None, integer=True)
    check_range("d", d, 0, None)
    check_choice("graph", graph, GRAPHS)
    check_range("noise", noise, 0, 1)
    check_seed_index(seed, instance)
    n = int(n)
    if n > INT32_MAX:
        raise ParameterError(f"n = {n} exceeds the int32 node-index limit {INT32_MAX}")
    if graph == "regular":
        check_range("d (degree of a regular graph)", d, 0, n - 1, integer=True)
        if (n * int(d)) % 2:
            raise ParameterError(f"n*d = {n * int(d)} must be even for a regular graph")
    m = expected_edges(n, d, graph)
    if graph == "er-simple" and m > n * (n - 1) // 2:
        raise ParameterError(f"d = {d:g} is too dense for a simple graph with n = {n} "
                             f"({m} edges > {n * (n - 1) // 2} node pairs)")
    check_graph_size(n, m, "the Ising instance", available)


def ising(
    n: int,
    d: float,
    *,
    graph: str = "regular",
    planted: bool = True,
    noise: float = 0.0,
    seed: int = 0,
    instance: int = 0,
) -> Instance:
    """Generate a planted Ising / planted spin glass, or an unplanted +-J spin glass.

    Parameters
    ----------
    n : int
        Number of spins N >= 2.
    d : float
        Degree (regular) or mean degree (ER).
    graph : {"regular", "er", "er-simple"}
    planted : bool
        Planted couplings around a hidden s* (True) or a +-J spin glass (False).
    noise : float
        Flip probability epsilon of each planted coupling, in [0, 1].
    seed : int
        Seed in [0, 2**64).
    instance : int
        Instance index k in [0, 2**32): instance k of (parameters, seed), see
        :mod:`mcsgd.seeds`.
    """
    check_ising_params(n, d, graph, noise, seed, instance)
    n, seed, instance = int(n), int(seed), int(instance)
    params = {
        "generator": "ising",
        "n": n,
        "d": float(d),
        "graph": graph,
        "planted": bool(planted),
        "noise": float(noise),
    }
    rng = instance_rng(params, seed, instance)
    u, v = draw_edges(n, 2, d, graph, None, rng, f"d = {d:g} with n = {n}")
    m = len(u)
    if planted:
        s = np.where(rng.random(n) < 0.5, -1, 1).astype(np.int8)
        j = (s[u] * s[v]).astype(np.int8)
        flip = rng.random(m) < noise
        j[flip] = -j[flip]
    else:
        s = None
        j = np.where(rng.random(m) < 0.5, -1, 1).astype(np.int8)
    indptr, indices, w = edges_to_csr(n, u, v, j)
    params.update(seed=seed, instance=instance)
    return Instance("ising", 2, indptr, indices, w, s, params)
