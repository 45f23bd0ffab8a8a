"""The full energy recomputation (parallel over site blocks) against a plain numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

from mcsgd import problems
from mcsgd._numba import threads_scope
from mcsgd.problems.energy import total_energy

# N well above the kernel's 4096-site block, and not a multiple of it: several blocks, one short
N = 3 * 4096 + 124


def reference(inst, s: np.ndarray) -> np.ndarray:
    """E per replica from the half-edge lists with numpy (each edge counted twice, halved)."""
    rows = np.repeat(np.arange(inst.n), np.diff(inst.indptr))
    cols = inst.indices.astype(np.int64)
    s = s.astype(np.int64)
    if inst.problem == "ising":
        e2 = -(inst.couplings.astype(np.int64) * s[:, rows] * s[:, cols]).sum(axis=1)
    else:
        e2 = (s[:, rows] == s[:, cols]).sum(axis=1)
    assert np.all(e2 % 2 == 0)
    return e2 // 2


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("replicas", [1, 3])
def test_colouring_energy_equals_numpy_reference(threads, replicas):
    inst = problems.planted_coloring(N, 4, 7.0, seed=3)
    rng = np.random.default_rng(11)
    s = rng.integers(0, 4, (replicas, N), dtype=np.int8)
    s[0] = inst.planted  # one proper colouring among them: E = 0
    with threads_scope(threads):
        got = total_energy(inst, s)
    assert got.dtype == np.int64
    assert np.array_equal(got, reference(inst, s))
    assert got[0] == 0


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("replicas", [1, 3])
def test_ising_energy_equals_numpy_reference(threads, replicas):
    inst = problems.ising(N, 5.0, graph="er", planted=False, seed=4)
    rng = np.random.default_rng(12)
    s = (2 * rng.integers(0, 2, (replicas, N)) - 1).astype(np.int8)
    with threads_scope(threads):
        got = total_energy(inst, s)
    assert np.array_equal(got, reference(inst, s))


def test_energy_of_a_graph_smaller_than_one_block():
    inst = problems.from_edges(4, [0, 1, 2, 2], [1, 2, 0, 3], q=3)
    s = np.array([[0, 1, 2, 0], [0, 0, 0, 0]], np.int8)
    assert total_energy(inst, s).tolist() == [0, 4]
