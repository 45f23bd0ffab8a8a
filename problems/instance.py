"""The :class:`Instance` container: a graph, optional couplings and planted solution.

Stored as an HDF5 file whose layout is :mod:`mcsgd.storage.instance` (``mcsgd_kind =
"instance"``).

Everything is validated on load (and when an instance is built from user data): shapes, dtypes,
ranges, no self-loops, symmetric adjacency with symmetric couplings, a proper planted colouring.
Unsorted CSR rows are sorted on construction (couplings carried along, on copies of the arrays):
edge ids pair the two half-edges of an edge by binary search in sorted rows.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import numpy as np

from mcsgd._numba import njit, prange
from mcsgd.errors import FileFormatError, ParameterError
from mcsgd.storage.instance import read_instance, write_instance

from .energy import total_energy

PROBLEMS = ("coloring", "ising")


@njit
def _mix(x):
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


#: rows per block of the parallel validation kernels; fixed, so the blocks (and the first error
#: found) do not depend on the number of threads
_ROWS_PER_BLOCK = 4096


@njit(parallel=True)
def _indptr_ok(indptr, m2):
    """True if ``indptr`` starts at 0, ends at ``m2`` and is non-decreasing."""
    n = indptr.shape[0] - 1
    if indptr[0] != 0 or indptr[n] != m2:
        return False
    nb = (n + _ROWS_PER_BLOCK - 1) // _ROWS_PER_BLOCK
    bad = np.zeros(nb, np.bool_)
    for b in prange(nb):
        lo = b * _ROWS_PER_BLOCK
        hi = min(n, lo + _ROWS_PER_BLOCK)
        for i in range(lo, hi):
            if indptr[i + 1] < indptr[i]:
                bad[b] = True
                break
    return not bad.any()


@njit(parallel=True)
def _check_csr(n, indptr, indices, couplings, has_j):
    """Validate a CSR adjacency whose ``indptr`` passed :func:`_indptr_ok`, in parallel over
    fixed row blocks.

    Returns ``(code, rows_sorted, max_degree)``: code 0 ok, 2 index out of range, 3 self-loop
    (the first of these in row-major order, as a serial scan would find it), 4 asymmetric
    adjacency/couplings (half-edge multiset hash, a sum modulo 2**64: independent of the order);
    ``rows_sorted`` is True if every row is non-decreasing; ``max_degree`` is the largest row
    length. The last two are meaningful only when the code is 0.
    """
    nb = (n + _ROWS_PER_BLOCK - 1) // _ROWS_PER_BLOCK
    codes = np.zeros(nb, np.int64)
    fwds = np.zeros(nb, np.uint64)
    bwds = np.zeros(nb, np.uint64)
    unsorted = np.zeros(nb, np.bool_)
    maxdeg = np.zeros(nb, np.int64)
    nn = np.uint64(n)
    for b in prange(nb):
        lo = b * _ROWS_PER_BLOCK
        hi = min(n, lo + _ROWS_PER_BLOCK)
        fwd = np.uint64(0)
        bwd = np.uint64(0)
        code = 0
        uns = False
        md = 0
        for i in range(lo, hi):
            a = indptr[i]
            e = indptr[i + 1]
            if e - a > md:
                md = e - a
            ui = np.uint64(i)
            prev = -1
            for k in range(np.uint64(a), np.uint64(e)):
                j = indices[k]
                if j < 0 or j >= n:
                    code = 2
                    break
                if j == i:
                    code = 3
                    break
                if j < prev:
                    uns = True
                prev = j
                w = np.uint64(couplings[k] + 2) if has_j else np.uint64(0)
                uj = np.uint64(j)
                fwd += _mix((ui * nn + uj) * np.uint64(4) + w)
                bwd += _mix((uj * nn + ui) * np.uint64(4) + w)
            if code:
                break
        codes[b] = code
        fwds[b] = fwd
        bwds[b] = bwd
        unsorted[b] = uns
        maxdeg[b] = md
    fwd = np.uint64(0)
    bwd = np.uint64(0)
    for b in range(nb):
        if codes[b]:
            return codes[b], False, 0
        fwd += fwds[b]
        bwd += bwds[b]
    if fwd != bwd:
        return 4, False, 0
    return 0, not unsorted.any(), maxdeg.max() if nb else 0


@njit(parallel=True)
def _count_monochromatic(indptr, indices, colours):
    """Number of edges whose two ends have the same colour (in parallel over fixed row blocks;
    an exact integer, so independent of the number of threads)."""
    n = indptr.shape[0] - 1
    nb = (n + _ROWS_PER_BLOCK - 1) // _ROWS_PER_BLOCK
    part = np.zeros(nb, np.int64)
    for b in prange(nb):
        lo = b * _ROWS_PER_BLOCK
        hi = min(n, lo + _ROWS_PER_BLOCK)
        e = 0
        for i in range(lo, hi):
            ci = colours[i]
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                e += colours[np.uint32(indices[k])] == ci
        part[b] = e
    return part.sum() // 2


@njit
def _edge_ids(indptr, indices):
    n = indptr.shape[0] - 1
    ids = np.full(indices.shape[0], -1, np.int32)
    m = 0
    for i in range(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        k = lo
        while k < hi:
            j = indices[k]
            # run of equal neighbours (multi-edge) in row i
            r = k
            while r < hi and indices[r] == j:
                r += 1
            if j > i:
                for t in range(k, r):
                    ids[t] = m
                    m += 1
            else:
                # first occurrence of i in row j (rows are sorted): binary search
                a = indptr[j]
                b = indptr[j + 1]
                while a < b:
                    mid = (a + b) // 2
                    if indices[mid] < i:
                        a = mid + 1
                    else:
                        b = mid
                for t in range(k, r):
                    ids[t] = ids[a + (t - k)]
            k = r
    return ids, m


@dataclasses.dataclass
class Instance:
    """A problem instance on a sparse graph.

    Attributes
    ----------
    problem : {"coloring", "ising"}
        ``coloring``: antiferromagnetic q-state Potts, E = number of monochromatic edges.
        ``ising``: spins +-1, E = -sum_(ij) J_ij s_i s_j.
    q : int
        Number of colours (2 for Ising).
    indptr : int32[N+1], indices : int32[2M]
        CSR adjacency, each undirected edge in both rows; rows are sorted on construction.
    couplings : int8[2M] or None
        J per half-edge (Ising), +-1.
    planted : int8[N] or None
        Planted colours (0..q-1) or spins (+-1).
    params : dict
        Generator name, its arguments and the seed (provenance).
    """

    problem: str
    q: int
    indptr: np.ndarray
    indices: np.ndarray
    couplings: np.ndarray | None = None
    planted: np.ndarray | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    _edge_ids: tuple[np.ndarray, int] | None = dataclasses.field(
        default=None, repr=False, compare=False
    )
    _max_degree: int = dataclasses.field(default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def __repr__(self) -> str:
        kind = f"{self.problem} q={self.q}" if self.problem == "coloring" else self.problem
        planted = "planted" if self.planted is not None else "unplanted"
        extra = "".join(f", {k}={self.params[k]}" for k in ("graph", "seed", "instance")
                        if k in self.params)
        return (f"Instance({kind}, N={self.n}, M={self.m}, mean degree "
                f"{self.mean_degree:.3f}, {planted}{extra})")

    # ---- basic properties -------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of nodes N."""
        return int(self.indptr.shape[0] - 1)

    @property
    def m(self) -> int:
        """Number of undirected edges M (multi-edges counted with multiplicity)."""
        return int(self.indices.shape[0] // 2)

    @property
    def degrees(self) -> np.ndarray:
        """int64[N] node degrees."""
        return np.diff(self.indptr.astype(np.int64))

    @property
    def max_degree(self) -> int:
        """Largest degree (0 for an empty graph); computed once, at validation."""
        return self._max_degree

    @property
    def mean_degree(self) -> float:
        """Mean degree 2M/N."""
        return 2.0 * self.m / self.n

    def edge_ids(self) -> tuple[np.ndarray, int]:
        """Undirected edge id of every half-edge (int32[2M]) and M; parallel edges distinct."""
        if self._edge_ids is None:
            self._edge_ids = _edge_ids(self.indptr, self.indices)
        return self._edge_ids

    def energy(self, state: np.ndarray) -> float:
        """Total energy E of a configuration (colours int8[N] or spins int8[N])."""
        return float(total_energy(self, np.asarray(state, np.int8)[None, :])[0])

    def to_networkx(self):
        """The graph as a ``networkx.MultiGraph`` (couplings as edge attribute ``J``)."""
        import networkx as nx

        g = nx.MultiGraph()
        g.add_nodes_from(range(self.n))
        for i in range(self.n):
            for k in range(self.indptr[i], self.indptr[i + 1]):
                j = int(self.indices[k])
                if i < j:
                    if self.couplings is not None:
                        g.add_edge(i, j, J=int(self.couplings[k]))
                    else:
                        g.add_edge(i, j)
        return g

    def to_bqm(self):
        """The Ising instance as a SPIN ``dimod.BinaryQuadraticModel`` (needs the ``dwave``
        extra; sign convention and offset in :func:`mcsgd.problems.bqm.to_bqm`)."""
        from .bqm import to_bqm

        return to_bqm(self)

    # ---- validation -------------------------------------------------------------------
    def validate(self) -> None:
        """Check shapes, dtypes, ranges, symmetry, no self-loops and the planted solution.

        Raises :class:`~mcsgd.errors.ParameterError` describing the first problem found.
        """
        if self.problem not in PROBLEMS:
            raise ParameterError(f"problem = {self.problem!r} is not one of {PROBLEMS}")
        if not (2 <= int(self.q) <= 127):
            raise ParameterError(f"q = {self.q} is not in [2, 127]")
        if self.problem == "ising" and self.q != 2:
            raise ParameterError(f"q = {self.q} must be 2 for an Ising instance")
        self.indptr = np.ascontiguousarray(self.indptr, dtype=np.int32)
        self.indices = np.ascontiguousarray(self.indices, dtype=np.int32)
        if self.indptr.ndim != 1 or self.indptr.shape[0] < 2:
            raise ParameterError("indptr must be a 1-d array of length N+1 with N >= 1")
        if self.indices.ndim != 1 or self.indices.shape[0] % 2:
            raise ParameterError("indices must be a 1-d array of even length 2M")
        has_j = self.couplings is not None
        if self.problem == "ising" and not has_j:
            raise ParameterError("an Ising instance needs couplings")
        if self.problem == "coloring" and has_j:
            raise ParameterError("a colouring instance has no couplings")
        if has_j:
            self.couplings = np.ascontiguousarray(self.couplings, dtype=np.int8)
            if self.couplings.shape != self.indices.shape:
                raise ParameterError("couplings must have one entry per half-edge (length 2M)")
            if not np.all(np.abs(self.couplings) == 1):
                raise ParameterError("couplings must all be +1 or -1")
        if not _indptr_ok(self.indptr, self.indices.shape[0]):
            code = 1
        else:
            code, rows_sorted, max_degree = _check_csr(
                self.n,
                self.indptr,
                self.indices,
                self.couplings if has_j else np.zeros(0, np.int8),
                has_j,
            )
        if code:
            msg = {
                1: "indptr is not a valid CSR row-pointer array (must start at 0, be "
                "non-decreasing and end at len(indices))",
                2: "indices has a neighbour outside [0, N)",
                3: "the graph has a self-loop",
                4: "the adjacency (or the couplings) is not symmetric",
            }[code]
            raise ParameterError(msg)
        if not rows_sorted:
            self._sort_rows()
        self._max_degree = int(max_degree)
        if self.planted is not None:
            self.planted = np.ascontiguousarray(self.planted, dtype=np.int8)
            if self.planted.shape != (self.n,):
                raise ParameterError(f"planted must have shape ({self.n},)")
            if self.problem == "coloring":
                if self.planted.min() < 0 or self.planted.max() >= self.q:
                    raise ParameterError(f"planted colours must be in [0, {self.q - 1}]")
                if self.params.get("proper_planted", True) and _count_monochromatic(
                    self.indptr, self.indices, self.planted
                ):
                    raise ParameterError("the planted colouring is not proper")
            elif not np.all(np.abs(self.planted) == 1):
                raise ParameterError("planted spins must all be +1 or -1")

    def _sort_rows(self) -> None:
        """Sort every CSR row by neighbour (stable, couplings carried along), on fresh arrays;
        called by :meth:`validate` only when a row is unsorted (no allocation otherwise).

        Edge ids and per-edge flags rely on sorted rows (binary search for the reverse
        half-edge); a user-built instance with an unsorted row would otherwise give one edge id
        to three half-edges. The caller's arrays are never modified.
        """
        row = np.repeat(np.arange(self.n, dtype=np.int32), np.diff(self.indptr))
        order = np.lexsort((self.indices, row))  # by row, then neighbour; stable
        self.indices = np.ascontiguousarray(self.indices[order])
        if self.couplings is not None:
            self.couplings = np.ascontiguousarray(self.couplings[order])
        self._edge_ids = None

    # ---- storage ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the instance to an HDF5 file (atomically; layout in
        :mod:`mcsgd.storage.instance`)."""
        write_instance(
            path,
            {"problem": self.problem, "n": self.n, "q": int(self.q), "m": self.m},
            {"indptr": self.indptr, "indices": self.indices, "couplings": self.couplings,
             "planted": self.planted},
            self.params,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Instance:
        """Read and validate an instance file; :class:`FileFormatError` if it is not one."""
        attrs, arrays, params = read_instance(path)
        where = f"instance file {str(path)!r}"
        problem, q = attrs["problem"], attrs["q"]
        if not isinstance(problem, str):
            raise FileFormatError(f"{where}: attribute 'problem' is not a string")
        if isinstance(q, (bytes, str)) or np.ndim(q) != 0 or not (
            np.issubdtype(np.asarray(q).dtype, np.integer)
            or (np.issubdtype(np.asarray(q).dtype, np.floating) and float(q).is_integer())
        ):
            raise FileFormatError(f"{where}: attribute 'q' = {q!r} is not an integer")
        for name, a in arrays.items():
            if a is None:
                continue
            if a.dtype.kind not in "iu":
                raise FileFormatError(f"{where}: dataset {name!r} holds {a.dtype.name}, not "
                                      "integers")
            if name in ("indptr", "indices") and a.size and (a.min() < 0 or a.max() > 2**31 - 1):
                raise FileFormatError(f"{where}: dataset {name!r} has values outside the int32 "
                                      "range [0, 2**31 - 1]")
            if name in ("couplings", "planted") and a.size and (a.min() < -128 or a.max() > 127):
                raise FileFormatError(f"{where}: dataset {name!r} has values outside the int8 "
                                      "range")
        if not isinstance(params, dict):
            raise FileFormatError(f"{where}: attribute 'params' is not a JSON object")
        try:
            return cls(problem=problem, q=int(q), indptr=arrays["indptr"],
                       indices=arrays["indices"], couplings=arrays["couplings"],
                       planted=arrays["planted"], params=params)
        except ParameterError as e:
            raise FileFormatError(f"{where} is invalid: {e}") from None


def load(path: str | os.PathLike) -> Instance:
    """Load an instance from HDF5 (see :meth:`Instance.load`)."""
    return Instance.load(path)
