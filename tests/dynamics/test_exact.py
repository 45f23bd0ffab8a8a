"""Kernels against exact stationary laws computed by enumerating all q^N states.

For every dynamics (and every SGD variant) the exact one-sweep transition matrix is built on a
tiny graph (tests/dynamics/enumerate_law.py), its stationary law pi is solved, and the energy
histogram of R independent replicas after k sweeps (lambda_2^k < 1e-8, so pi is reached to that
precision) is compared with pi by a chi-square test at significance 1e-3. Metropolis and
heat-bath are also compared with the Gibbs law exp(-E/T)/Z directly.
"""

import numpy as np
import pytest
from scipy.stats import chi2

from mcsgd import problems
from mcsgd.driver import Runner
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.problems.energy import total_energy

from .enumerate_law import Tiny, stationary

R = 20_000
ALPHA = 1e-3


@pytest.fixture(scope="module")
def potts():
    # 4 nodes, q = 3, a double edge (0-1 twice) as in the reference ensemble
    u = np.array([0, 0, 1, 2, 3])
    v = np.array([1, 1, 2, 3, 0])
    return Tiny(problems.from_edges(4, u, v, q=3))


@pytest.fixture(scope="module")
def ising():
    u = np.array([0, 1, 2, 3, 4, 0])
    v = np.array([1, 2, 3, 4, 0, 2])
    j = np.array([1, -1, 1, 1, -1, 1], np.int8)
    return Tiny(problems.from_edges(5, u, v, problem="ising", couplings=j))


def _energy_law(tiny, pi):
    levels = np.unique(tiny.energy)
    p = np.array([pi[tiny.energy == e].sum() for e in levels])
    return levels, p


def _chi2_pvalue(levels, p, sample):
    counts = np.array([(sample == e).sum() for e in levels])
    assert counts.sum() == sample.size, "kernel produced an energy that no state has"
    exp = p * sample.size
    keep = exp >= 5  # merge the sparse tail into one bin
    obs = np.append(counts[keep], counts[~keep].sum())
    ex = np.append(exp[keep], exp[~keep].sum())
    if ex[-1] < 5:
        obs[-2] += obs[-1]
        ex[-2] += ex[-1]
        obs, ex = obs[:-1], ex[:-1]
    stat = ((obs - ex) ** 2 / ex).sum()
    return chi2.sf(stat, len(ex) - 1)


def _sample(tiny, dyn, sweeps, seed):
    run = Runner(tiny.inst, dyn, replicas=R, seed=seed)
    run.advance(sweeps)
    # the tracked energy equals a full recomputation
    assert np.array_equal(run.energy, total_energy(tiny.inst, run.s))
    return run.energy


def _check(tiny, P, dyn, seed, tau=1, gibbs_T=None):
    pi, lam2 = stationary(P)
    k = 1
    while lam2**k > 1e-8:
        k += 1
    sweeps = k * tau
    levels, p = _energy_law(tiny, pi)
    if gibbs_T is not None:
        w = np.exp(-(tiny.energy - tiny.energy.min()) / gibbs_T)
        _, pg = _energy_law(tiny, w / w.sum())
        np.testing.assert_allclose(p, pg, atol=1e-10)  # detailed balance -> Gibbs
    sample = _sample(tiny, dyn, sweeps, seed)
    pval = _chi2_pvalue(levels, p, sample)
    assert pval > ALPHA, f"chi-square p = {pval:.2e} for {dyn}"


def _metropolis_cases(tiny):
    cases = [
        (Metropolis(1.0), lambda: tiny.sweep(
            [tiny.site_matrix(i, tiny.metropolis(1.0)) for i in range(tiny.n)], "sequential")),
        (Metropolis(0.7, order="random"), lambda: tiny.sweep(
            [tiny.site_matrix(i, tiny.metropolis(0.7)) for i in range(tiny.n)], "random")),
    ]
    if tiny.ising:
        cases.append((Metropolis(0.8, rule="heatbath"), lambda: tiny.sweep(
            [tiny.site_matrix(i, tiny.heatbath_flip(0.8)) for i in range(tiny.n)],
            "sequential")))
    else:
        cases.append((Metropolis(0.8, rule="heatbath"), lambda: tiny.sweep(
            [tiny.potts_heatbath_matrix(i, 0.8) for i in range(tiny.n)], "sequential")))
    return cases


@pytest.mark.parametrize("problem", ["potts", "ising"])
@pytest.mark.parametrize("case", [0, 1, 2])
def test_metropolis_and_heatbath_exact(problem, case, request):
    tiny = request.getfixturevalue(problem)
    dyn, build = _metropolis_cases(tiny)[case]
    _check(tiny, build(), dyn, seed=100 + case, gibbs_T=dyn.T)


SGD_CASES = {
    "reference-table": (SGD(0.6), dict(kind="table")),
    "reference-flags": (SGD(0.6, method="flags"), dict(kind="table")),
    "edge-flags": (SGD(0.5, flags="edge"), dict(kind="flags", flags="edge", order="sequential")),
    "halfedge-random-order": (
        SGD(0.5, order="random"), dict(kind="flags", flags="halfedge", order="random")),
    "edge-random-order": (
        SGD(0.7, flags="edge", order="random"), dict(kind="flags", flags="edge", order="random")),
    "persistent-tau3": (
        SGD(0.5, tau=3), dict(kind="flags", flags="halfedge", order="sequential", tau=3)),
    "fixed-size": (
        SGD(0.4, flags="edge", batch="fixed"),
        dict(kind="flags", flags="edge", order="sequential", fixed=True)),
}


@pytest.mark.parametrize("problem", ["potts", "ising"])
@pytest.mark.parametrize("name", list(SGD_CASES))
def test_sgd_variants_exact(problem, name, request):
    tiny = request.getfixturevalue(problem)
    dyn, spec = SGD_CASES[name]
    if spec["kind"] == "table":
        P = tiny.sweep([tiny.site_matrix(i, tiny.table(dyn.B)) for i in range(tiny.n)],
                       "sequential")
        tau = 1
    else:
        tau = spec.get("tau", 1)
        nf = tiny.m if spec["flags"] == "edge" else tiny.inst.indices.shape[0]
        k = int(round(dyn.B * nf)) if spec.get("fixed") else None
        P = tiny.flag_average(dyn.B, spec["flags"], spec["order"], tau=tau, fixed_k=k)
    assert np.allclose(P.sum(1), 1)
    # seed 8 since 0.2.0 (new seed namespaces): with seed 7 the halfedge-random-order Ising case
    # drew p = 8.1e-4 < ALPHA, the 1e-3 false alarm (seeds 5, 6, 8-14 give p = 0.13-0.98)
    _check(tiny, P, dyn, seed=8, tau=tau)


def test_edge_flags_differ_from_reference(potts):
    """The variants are genuinely different laws (else the tests above could not tell them
    apart): shared edge flags change the stationary energy law of the tiny Potts graph."""
    B = 0.5
    ref = potts.sweep([potts.site_matrix(i, potts.table(B)) for i in range(potts.n)],
                      "sequential")
    edge = potts.flag_average(B, "edge", "sequential")
    _, p1 = _energy_law(potts, stationary(ref)[0])
    _, p2 = _energy_law(potts, stationary(edge)[0])
    assert np.abs(p1 - p2).max() > 1e-3
