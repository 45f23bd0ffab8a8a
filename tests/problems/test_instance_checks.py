"""Every check of ``Instance.validate`` refuses a broken instance with its own message, and the
parallel validation kernels find the same (first) problem as a serial scan, with any thread
count."""

from __future__ import annotations

import numpy as np
import pytest

from mcsgd import problems
from mcsgd._numba import threads_scope
from mcsgd.errors import ParameterError
from mcsgd.problems import Instance

BLOCK = 4096  # rows per block of the validation kernels


def cycle(n: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the n-cycle (rows sorted)."""
    i = np.arange(n)
    nb = np.sort(np.stack([(i - 1) % n, (i + 1) % n], axis=1), axis=1)
    return np.arange(0, 2 * n + 1, 2, dtype=np.int32), nb.ravel().astype(np.int32)


def build(indptr, indices, *, problem="coloring", q=3, couplings=None, planted=None):
    return Instance(problem, q, indptr, indices, couplings, planted)


CSR_MSG = "indptr is not a valid CSR row-pointer array"


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("n", [6, 3 * BLOCK + 7])
def test_each_csr_check_refuses(n, threads):
    ip, ix = cycle(n)
    with threads_scope(threads):
        build(ip, ix)  # the valid cycle passes
        bad = ip.copy()
        bad[0] = 1
        with pytest.raises(ParameterError, match=CSR_MSG):
            build(bad, ix)
        bad = ip.copy()
        bad[-1] -= 2
        with pytest.raises(ParameterError, match=CSR_MSG):
            build(bad, ix)
        bad = ip.copy()
        bad[n - 2] = bad[n - 1] + 1  # decreasing inside the last block
        with pytest.raises(ParameterError, match=CSR_MSG):
            build(bad, ix)
        for v in (n, -1):
            bad = ix.copy()
            bad[-1] = v
            with pytest.raises(ParameterError, match=r"outside \[0, N\)"):
                build(ip, bad)
        bad = ix.copy()
        bad[2 * (n - 1)] = n - 1  # row n-1 names itself
        with pytest.raises(ParameterError, match="self-loop"):
            build(ip, bad)
        bad = ix.copy()
        bad[2 * (n - 1)] = (bad[2 * (n - 1)] + 2) % n  # one half-edge redirected
        with pytest.raises(ParameterError, match="not symmetric"):
            build(ip, bad)
        j = np.ones(2 * n, np.int8)
        build(ip, ix, problem="ising", q=2, couplings=j)
        j[-1] = -1  # one direction of one edge flipped
        with pytest.raises(ParameterError, match="not symmetric"):
            build(ip, ix, problem="ising", q=2, couplings=j)


@pytest.mark.parametrize("threads", [1, 2])
def test_first_problem_in_row_order_wins_across_blocks(threads):
    n = 3 * BLOCK + 7
    ip, ix = cycle(n)
    loop = ix.copy()
    loop[2 * 5] = 5  # self-loop in row 5 (block 0)
    loop[2 * (n - 1)] = n + 3  # out of range in the last block
    early = ix.copy()
    early[2 * 5] = n + 3  # out of range in block 0
    early[2 * (n - 1)] = n - 1  # self-loop in the last block
    with threads_scope(threads):
        with pytest.raises(ParameterError, match="self-loop"):
            build(ip, loop)
        with pytest.raises(ParameterError, match=r"outside \[0, N\)"):
            build(ip, early)


@pytest.mark.parametrize("threads", [1, 2])
def test_unsorted_row_in_a_late_block_is_sorted_and_max_degree_found(threads):
    n = 3 * BLOCK + 7
    ip, ix = cycle(n)
    # a chord between n-3 and n-1 (degree 3), its half-edge in row n-3 put first (unsorted)
    rows = [list(ix[ip[i]:ip[i + 1]]) for i in range(n)]
    rows[n - 3].insert(0, n - 1)
    rows[n - 1].append(n - 3)
    rows[n - 1].sort()
    ip2 = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int32)
    ix2 = np.concatenate(rows).astype(np.int32)
    with threads_scope(threads):
        inst = build(ip2, ix2)
    assert inst.max_degree == 3
    assert list(inst.indices[inst.indptr[n - 3]:inst.indptr[n - 2]]) == sorted(rows[n - 3])
    assert np.array_equal(ix2[ip2[n - 3]:ip2[n - 2]], rows[n - 3])  # caller's array untouched


@pytest.mark.parametrize("threads", [1, 2])
def test_planted_checks_refuse(threads):
    n = 3 * BLOCK + 7
    ip, ix = cycle(n + 1)  # even cycle: 2-colourable
    good = (np.arange(n + 1) % 2).astype(np.int8)
    with threads_scope(threads):
        build(ip, ix, q=2, planted=good)
        with pytest.raises(ParameterError, match=r"planted must have shape"):
            build(ip, ix, q=2, planted=good[:-1])
        for v in (2, -1):
            bad = good.copy()
            bad[-1] = v
            with pytest.raises(ParameterError, match=r"planted colours must be in \[0, 1\]"):
                build(ip, ix, q=2, planted=bad)
        bad = good.copy()
        bad[-1] = bad[-2]  # one monochromatic edge, in the last block
        with pytest.raises(ParameterError, match="planted colouring is not proper"):
            build(ip, ix, q=2, planted=bad)
        # a graph whose planted colouring is allowed to be improper
        Instance("coloring", 2, ip, ix, None, bad, {"proper_planted": False})
        spins = (2 * good - 1).astype(np.int8)
        j = np.ones(ix.shape, np.int8)
        build(ip, ix, problem="ising", q=2, couplings=j, planted=spins)
        spins[-1] = 0
        with pytest.raises(ParameterError, match=r"planted spins must all be \+1 or -1"):
            build(ip, ix, problem="ising", q=2, couplings=j, planted=spins)


def test_generated_instances_still_validate():
    inst = problems.planted_coloring(5 * BLOCK, 5, 12.0, seed=7)
    again = Instance(inst.problem, inst.q, inst.indptr, inst.indices, None, inst.planted,
                     inst.params)
    assert again.max_degree == int(np.diff(inst.indptr).max())
