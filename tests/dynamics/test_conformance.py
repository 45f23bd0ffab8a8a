"""Conformance suite: every dynamics (and SGD variant) on both problems must pass all of it."""

import numpy as np
import pytest

from mcsgd import problems
from mcsgd._numba import set_threads
from mcsgd.driver import run
from mcsgd.driver import runner as run_mod
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.dynamics.measure import overlap
from mcsgd.problems.energy import total_energy

saved = run_mod.SERIAL_WORK

DYNAMICS = {
    "metropolis": Metropolis(0.8),
    "metropolis-random": Metropolis(0.8, order="random"),
    "heatbath": Metropolis(0.8, rule="heatbath"),
    "greedy-T0": Metropolis(0.0),
    "sgd": SGD(0.7),
    "sgd-flags": SGD(0.7, method="flags"),
    "sgd-edge": SGD(0.7, flags="edge"),
    "sgd-tau": SGD(0.7, tau=4),
    "sgd-fixed": SGD(0.7, flags="edge", batch="fixed"),
    "sgd-random": SGD(0.7, order="random"),
    "sgd-greedy-B1": SGD(1.0),
}


@pytest.fixture(scope="module", params=["coloring", "ising"])
def inst(request):
    if request.param == "coloring":
        return problems.planted_coloring(3000, 5, 8.0, seed=5)
    return problems.ising(3000, 3, noise=0.05, seed=5)


def _run(inst, dyn, seed=1, threads=None, replicas=3, sweeps=30, init="random"):
    return run(inst, dyn, sweeps=sweeps, replicas=replicas, seed=seed, threads=threads,
               init=init, grid_points=8)


@pytest.mark.parametrize("name", list(DYNAMICS))
def test_conformance(inst, name):
    dyn = DYNAMICS[name]
    a = _run(inst, dyn)
    # tracked energy equals a full recomputation
    np.testing.assert_array_equal(
        np.rint(a.energy[:, -1] * inst.n).astype(np.int64), total_energy(inst, a.final_state)
    )
    # same seed -> identical; different seed -> different
    b = _run(inst, dyn)
    np.testing.assert_array_equal(a.final_state, b.final_state)
    np.testing.assert_array_equal(a.energy, b.energy)
    c = _run(inst, dyn, seed=2)
    assert not np.array_equal(a.final_state, c.final_state)
    # the number of numba threads does not matter, nor the serial twin of the kernel
    try:
        run_mod.SERIAL_WORK = 0  # force the parallel kernels
        one = _run(inst, dyn, threads=1)
        two = _run(inst, dyn, threads=2)
        run_mod.SERIAL_WORK = 10**18  # force the serial twins
        ser = _run(inst, dyn, threads=2)
    finally:
        run_mod.SERIAL_WORK = saved
        set_threads(2)
    for other in (two, ser):
        np.testing.assert_array_equal(one.final_state, other.final_state)
        np.testing.assert_array_equal(one.trace, other.trace)
    # replica r does not depend on how many replicas run beside it
    solo = _run(inst, dyn, replicas=1)
    np.testing.assert_array_equal(solo.final_state[0], a.final_state[0])
    # every sweep of the window enters the stationary mean
    st = a.stationary()
    assert st["window"] == [15, 30]
    assert np.isfinite(st["energy"]) and st["energy_err"] >= 0
    # acceptance is a fraction
    acc = a.acceptance[:, 1:]
    assert np.all((acc >= 0) & (acc <= 1))


def test_overlap_normalisation(inst):
    n = inst.n
    planted = run(inst, Metropolis(0.5), sweeps=1, replicas=2, init="planted", grid_points=2)
    assert planted.overlap[0, 0] == 1.0
    # a colour permutation of the planted solution still has overlap 1
    if inst.problem == "coloring":
        perm = np.array([2, 0, 1, 4, 3], np.int8)
        assert overlap(inst, perm[inst.planted][None, :])[0] == pytest.approx(1.0)
    else:
        assert overlap(inst, -inst.planted[None, :])[0] == pytest.approx(1.0)
    # random configurations: overlap O(N^-1/2); the max over permutations biases it upwards.
    # 200 random draws: mean below 3/sqrt(N) and every draw below 6/sqrt(N)
    rnd = run(inst, Metropolis(0.5), sweeps=1, replicas=200, seed=3, grid_points=2)
    ov0 = rnd.overlap[:, 0]
    assert ov0.mean() < 3 / np.sqrt(n) and ov0.max() < 6 / np.sqrt(n)


@pytest.mark.parametrize("q", [2, 3, 5, 7, 8, 9])
def test_best_assignment_matches_hungarian(q):
    """The overlap's colour matching: exhaustive permutations (q <= 7) or the Hungarian
    algorithm (q > 7) give the same optimum as scipy's linear_sum_assignment."""
    from scipy.optimize import linear_sum_assignment

    from mcsgd.dynamics.measure import _best_assignment

    rng = np.random.default_rng(q)
    conf = rng.integers(0, 200, size=(30, q, q))
    ref = [conf[r][linear_sum_assignment(conf[r], maximize=True)].sum() for r in range(30)]
    np.testing.assert_array_equal(_best_assignment(conf), ref)


@pytest.mark.parametrize("dyn", [Metropolis(0.8), Metropolis(0.8, rule="heatbath"),
                                 Metropolis(0.0), SGD(0.7), SGD(1.0)],
                         ids=["metropolis", "heatbath", "T0", "sgd", "greedy"])
def test_ising_field_kernel_bit_identical(dyn):
    """Sequential Ising dynamics run on cached local fields; they must consume the same random
    numbers and take the same decisions as the plain neighbour-scanning kernel."""
    inst = problems.ising(3000, 3, noise=0.05, seed=5)
    try:
        run_mod.ISING_FIELD = True
        a = run(inst, dyn, sweeps=40, replicas=3, seed=1, grid_points=8)
        run_mod.ISING_FIELD = False
        b = run(inst, dyn, sweeps=40, replicas=3, seed=1, grid_points=8)
    finally:
        run_mod.ISING_FIELD = True
    np.testing.assert_array_equal(a.final_state, b.final_state)
    np.testing.assert_array_equal(a.energy, b.energy)
    np.testing.assert_array_equal(a.trace, b.trace)
    np.testing.assert_array_equal(a.acceptance, b.acceptance)


def test_ising_fields_survive_dynamics_switches():
    """Switching between the field kernel and a flag kernel (which moves spins without the
    fields) keeps the tracked energy exact: the cached fields are rebuilt."""
    from mcsgd.driver import Runner

    inst = problems.ising(2000, 3, noise=0.1, seed=2)
    r = Runner(inst, Metropolis(0.9), replicas=2, seed=3)
    for dyn in (Metropolis(0.9), SGD(0.6, flags="edge"), Metropolis(0.7), SGD(0.8),
                SGD(0.5, order="random"), Metropolis(0.5)):
        r.set_dynamics(dyn)
        r.advance(5)
        np.testing.assert_array_equal(r.energy, total_energy(inst, r.s))
    from mcsgd.dynamics import kernels

    h = np.empty(r.s.shape, np.int16)
    kernels.ising_fields(kernels.Graph(inst.indptr, inst.indices, inst.couplings), r.s, h)
    np.testing.assert_array_equal(h, r._h)


def test_switching_between_flag_layouts():
    """set_dynamics across SGD variants with different flag workspaces (half-edge / edge,
    Bernoulli / fixed-size) reallocates them; the tracked energy stays exact."""
    from mcsgd.driver import Runner

    inst = problems.planted_coloring(1500, 5, 8.0, seed=4)
    r = Runner(inst, SGD(0.6, flags="edge"), replicas=2, seed=1)
    for dyn in (SGD(0.6, flags="edge"), SGD(0.6, flags="edge", batch="fixed"),
                SGD(0.7, flags="edge"), SGD(0.5, order="random"),
                SGD(0.5, flags="edge", batch="fixed", tau=3), SGD(0.8)):
        r.set_dynamics(dyn)
        r.advance(4)
        np.testing.assert_array_equal(r.energy, total_energy(inst, r.s))
