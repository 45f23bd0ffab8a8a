"""What every kernel shares: the argument bundles, the window recorder, the serial twins.

Bundles (namedtuples of arrays). A ``prange`` kernel takes the arrays out by attribute
(one ``s = chain.s`` per line) before its loop: with numba 0.68, writes through ``chain.e[r]``
inside a parfor body, or through names bound by tuple unpacking (``s, e = chain`` or
``s, e = chain.s, chain.e``), are silently lost.
--------------------------------------------------------------------------------------------
``Graph(indptr int32[N+1], indices int32[2M], couplings int8[2M] (Ising) or int8[0])``
    the CSR instance;
``Chain(s int8[R, N], rng uint64[R, 4], energy int64[R], accepted int64[R])``
    what a sweep advances in place: configurations, xoshiro256** rows, integer total energies,
    accepted-move counters;
``Recorder(trace float64[R, nb], w0, blk)``
    the measurement window: the energy after every absolute sweep t > w0 is added to
    ``trace[r, (t - w0 - 1) // blk]`` (blocks past ``nb`` are dropped);
``FlagWork(eid int32[2M], flags uint8[R, F], stamp int64[R, F'], perm int32[R, F''])``
    explicit mini-batch flags (:mod:`mcsgd.dynamics.kernels.flags`).
"""

from __future__ import annotations

import types
from typing import NamedTuple

import numpy as np

from mcsgd._numba import njit
from mcsgd.rng import below, store_row, xoshiro

U32 = np.uint64(0xFFFFFFFF)


class Graph(NamedTuple):
    """CSR instance arrays (module docstring)."""

    indptr: np.ndarray
    indices: np.ndarray
    couplings: np.ndarray


class Chain(NamedTuple):
    """Arrays a sweep advances in place (module docstring)."""

    s: np.ndarray
    rng: np.ndarray
    energy: np.ndarray
    accepted: np.ndarray


class Recorder(NamedTuple):
    """Measurement-window trace (module docstring)."""

    trace: np.ndarray
    w0: int
    blk: int


class FlagWork(NamedTuple):
    """Mini-batch flag index and workspaces (module docstring)."""

    eid: np.ndarray
    flags: np.ndarray
    stamp: np.ndarray
    perm: np.ndarray


@njit(inline="always")
def record(trace, w0, blk, r, t, e):
    """After completing absolute sweep t (1-based), add ``e`` to its window block."""
    if t > w0:
        b = (t - w0 - 1) // blk
        if b < trace.shape[1]:
            trace[r, b] += e


@njit(inline="always")
def finish(rng, energy, accepted, r, s0, s1, s2, s3, e, acc):
    """Write a replica's RNG row, energy and acceptance count back at the end of a call."""
    store_row(rng, r, s0, s1, s2, s3)
    energy[r] = e
    accepted[r] += acc


@njit(inline="always")
def site(step, n, random_order, s0, s1, s2, s3):
    """The site of update ``step``: ``step`` itself (sequential) or one uniform draw."""
    if random_order:
        x, s0, s1, s2, s3 = xoshiro(s0, s1, s2, s3)
        return below(x, n), s0, s1, s2, s3
    return step, s0, s1, s2, s3


@njit(inline="always")
def other_colour(a, q, x):
    """A colour uniform among the q-1 others than ``a``, from the high bits of draw ``x``."""
    b = a + 1 + below(x, q - 1)
    if b >= q:
        b -= q
    return b


def serial_twin(kernel, name):
    """A serial copy of a ``prange`` kernel (prange runs as range), compiled and cached under
    its own name: for calls too small to pay for waking the thread pool. Every replica runs
    the same code either way, so results are identical."""
    f = kernel.py_func
    g = types.FunctionType(f.__code__, f.__globals__, name, f.__defaults__, f.__closure__)
    g.__qualname__ = name
    g.__doc__ = f"Serial twin of :func:`{f.__name__}`."
    return njit(g)
