"""mcsgd.dimod: dimod samplers on mcsgd's dynamics, and Ising instances <-> BQMs.

Reference: dwave-samplers' SimulatedAnnealingSampler on the same BQM and the exact enumeration
of all 2^12 states of a 3-regular +-J spin glass. Statistical assertions read
|x - x_ref| <= K * sigma with K = 3.29 (two-sided false-alarm probability 1e-3 per assertion),
sigma the standard error of the difference of two means of independent reads,
sqrt(var_1 / n_1 + var_2 / n_2) (var_2 = 0 for the exact Boltzmann mean). Seeds are fixed, so
the outcomes are deterministic.
"""

import itertools

import networkx as nx
import numpy as np
import pytest

dimod = pytest.importorskip("dimod", reason="needs the dwave extra: pip install 'mcsgd[dwave]'")

from mcsgd import problems  # noqa: E402
from mcsgd.dimod import MetropolisSampler, SGDLikeSampler, default_beta_range  # noqa: E402
from mcsgd.driver import Runner  # noqa: E402
from mcsgd.dynamics import SGD  # noqa: E402
from mcsgd.errors import ParameterError  # noqa: E402

K = 3.29
N = 12


def glass(seed: int = 2, n: int = N, labels=None):
    """A 3-regular +-J spin glass as a SPIN BQM (seed 2: 4 ground states, E0 = -12)."""
    g = nx.random_regular_graph(3, n, seed=seed)
    rng = np.random.default_rng(seed)
    lab = labels or list(range(n))
    return dimod.BQM.from_ising({x: 0.0 for x in lab},
                                {(lab[u], lab[v]): float(rng.choice([-1, 1]))
                                 for u, v in g.edges()})


def all_states(bqm):
    s = np.array(list(itertools.product([-1, 1], repeat=bqm.num_variables)), np.int8)
    return s, bqm.energies((s, list(bqm.variables)))


def in_order(ss, variables):
    """The samples of ``ss`` with columns in the order ``variables`` (a SampleSet sorts its
    labels)."""
    return ss.record.sample[:, [ss.variables.index(v) for v in variables]]


def ground_set(ss, bqm, e0):
    """Ground states (tuples in the BQM's variable order) among the samples of ``ss``."""
    rows = in_order(ss, list(bqm.variables))
    return {tuple(int(x) for x in row) for row, e in zip(rows, ss.record.energy, strict=True)
            if e == e0}


# ---- problems.from_bqm / Instance.to_bqm ------------------------------------------------------

def test_from_bqm_energy_and_sign_convention():
    """dimod's E = sum J s s + offset equals mcsgd's E = -sum J' s s + offset with J' = -J."""
    bqm = glass(labels=[f"v{i}" for i in range(N)])
    bqm.offset = 2.5
    inst = problems.from_bqm(bqm)
    assert inst.problem == "ising" and inst.n == N and inst.m == bqm.num_interactions
    s, e = all_states(bqm)
    mine = np.array([inst.energy(x) for x in s[::37]]) + 2.5
    assert np.array_equal(mine, e[::37])
    # a ferromagnetic BQM coupling (J < 0) is an mcsgd coupling +1
    ferro = problems.from_bqm(dimod.BQM.from_ising({}, {(0, 1): -1.0}))
    assert ferro.couplings.tolist() == [1, 1]
    # round trip (integer labels): the same model
    back = inst.to_bqm()
    assert back == bqm.relabel_variables({v: i for i, v in enumerate(bqm.variables)},
                                         inplace=False)


def test_to_bqm_of_a_generated_instance_and_binary_input():
    inst = problems.ising(40, 3, seed=5)
    bqm = inst.to_bqm()
    s = np.random.default_rng(0).choice(np.array([-1, 1], np.int8), size=(20, inst.n))
    assert np.array_equal(bqm.energies((s, range(inst.n))),
                          [inst.energy(x) for x in s])
    again = problems.from_bqm(bqm)
    assert np.array_equal(again.indices, inst.indices)
    assert np.array_equal(again.couplings, inst.couplings)
    # a BINARY model with no field in the SPIN vartype: 4 x_a x_b - 2 x_a - 2 x_b = s_a s_b - 1
    qubo = dimod.BQM({"a": -2.0, "b": -2.0}, {("a", "b"): 4.0}, 0.0, dimod.BINARY)
    inst = problems.from_bqm(qubo)
    assert inst.couplings.tolist() == [-1, -1] and inst.params["offset"] == -1.0


def test_from_bqm_refuses_what_the_kernels_cannot_run():
    with pytest.raises(ParameterError, match="field"):
        problems.from_bqm(dimod.BQM.from_ising({0: 0.5}, {(0, 1): 1.0}))
    with pytest.raises(ParameterError, match=r"\+1 or -1"):
        problems.from_bqm(dimod.BQM.from_ising({}, {(0, 1): 0.5}))
    with pytest.raises(ParameterError, match="Ising"):
        problems.coloring(30, 3, 3.0, seed=1).to_bqm()


# ---- the samplers ---------------------------------------------------------------------------

@pytest.mark.parametrize("sampler,kw", [(MetropolisSampler(), {"beta_range": (0.1, 3.0)}),
                                        (SGDLikeSampler(), {"B": 0.6})])
def test_sampleset_is_a_dimod_sampleset(sampler, kw):
    """dimod's Sampler interface: energies bqm.energies(samples) exactly, labels and vartype of
    the input, timing and seed in info, the same seed the same samples."""
    assert isinstance(sampler, dimod.Sampler)
    bqm = glass(labels=[f"v{i}" for i in range(N)])
    ss = sampler.sample(bqm, num_reads=7, num_sweeps=30, seed=11, **kw)
    assert len(ss) == 7 and ss.vartype is dimod.SPIN and set(ss.variables) == set(bqm.variables)
    assert np.array_equal(ss.record.energy, bqm.energies(ss))
    assert set(ss.info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}
    assert ss.info["seed"] == 11
    again = sampler.sample(bqm, num_reads=7, num_sweeps=30, seed=11, **kw)
    assert np.array_equal(again.record.sample, ss.record.sample)
    # sample_ising and sample_qubo go through dimod's Sampler mixins
    h, J = {}, {(0, 1): 1.0, (1, 2): -1.0}
    assert len(sampler.sample_ising(h, J, num_reads=3, seed=1, **kw)) == 3
    qubo = {("a", "b"): 4.0, ("a", "a"): -2.0, ("b", "b"): -2.0}
    ssq = sampler.sample_qubo(qubo, num_reads=3, seed=1, **kw)
    assert ssq.vartype is dimod.BINARY and set(np.unique(ssq.record.sample)) <= {0, 1}
    assert np.array_equal(ssq.record.energy,
                          dimod.BQM.from_qubo(qubo).energies(ssq))


def test_samplers_refuse_fields_and_bad_parameters():
    with pytest.raises(ParameterError, match="h = 0 only"):
        MetropolisSampler().sample_ising({0: 1.0}, {(0, 1): 1.0})
    with pytest.raises(ParameterError, match="several magnitudes"):
        SGDLikeSampler().sample_ising({}, {(0, 1): 1.0, (1, 2): 2.0}, B=0.5)
    with pytest.raises(ParameterError, match="beta_range"):
        MetropolisSampler().sample_ising({}, {(0, 1): 1.0}, beta_range=(0.0, 1.0))
    with pytest.raises(ParameterError, match="multiple"):
        MetropolisSampler().sample_ising({}, {(0, 1): 1.0}, num_sweeps=10,
                                         num_sweeps_per_beta=3)
    with pytest.raises(ParameterError, match="B"):
        SGDLikeSampler().sample_ising({}, {(0, 1): 1.0}, B=0.0)


def test_sgd_like_sampler_is_the_runner():
    """The SGD-like sampler's reads are mcsgd's replicas: bit-identical to a Runner."""
    bqm = glass()
    ss = SGDLikeSampler().sample(bqm, B=0.4, num_reads=5, num_sweeps=25, seed=9)
    inst = problems.from_bqm(bqm)
    runner = Runner(inst, SGD(0.4), replicas=5, seed=9)
    runner.advance(25)
    assert np.array_equal(in_order(ss, list(bqm.variables)), runner.s)


def test_coupling_scale_maps_to_temperature():
    """J = +-c at beta is the +-1 model at beta c: the same seed gives the same samples."""
    bqm = glass()
    scaled = bqm.copy()
    scaled.scale(2.0)
    kw = {"num_reads": 6, "num_sweeps": 20, "seed": 4}
    a = MetropolisSampler().sample(bqm, beta_range=(0.2, 1.4), **kw)
    b = MetropolisSampler().sample(scaled, beta_range=(0.1, 0.7), **kw)
    assert np.array_equal(a.record.sample, b.record.sample)
    assert np.array_equal(b.record.energy, 2 * a.record.energy)
    assert default_beta_range(problems.from_bqm(bqm)) == pytest.approx(
        [np.log(2) / 6, np.log(N / 0.01) / 2])


# ---- against dwave-samplers and exact enumeration -------------------------------------------

@pytest.fixture(scope="module")
def sa():
    samplers = pytest.importorskip(
        "dwave.samplers", reason="needs dwave-samplers (the dwave extra: pip install "
        "'mcsgd[dwave]')")
    return samplers.SimulatedAnnealingSampler()


def test_same_ground_states_as_dwave(sa):
    """On a 12-spin glass, 100 annealing reads of mcsgd and of dwave-samplers (default
    schedule, 1000 sweeps) both find exactly the ground states of the exact enumeration; the
    SGD-like descent at B = 0.7 finds only ground states at its lowest energy."""
    bqm = glass()
    s, e = all_states(bqm)
    e0 = e.min()
    exact = {tuple(int(x) for x in row) for row in s[e == e0]}
    assert 1 < len(exact) <= 8
    mine = MetropolisSampler().sample(bqm, num_reads=100, seed=1)
    ref = sa.sample(bqm, num_reads=100, seed=1)
    assert mine.info["beta_range"] == pytest.approx(ref.info["beta_range"])
    assert ground_set(mine, bqm, e0) == ground_set(ref, bqm, e0) == exact
    sgd = SGDLikeSampler().sample(bqm, B=0.7, num_reads=100, num_sweeps=300, seed=1)
    assert sgd.first.energy == e0 and ground_set(sgd, bqm, e0) <= exact


@pytest.mark.parametrize("beta_range,kind,sweeps", [((0.1, 2.0), "geometric", 8),
                                                     ((0.2, 1.5), "linear", 5)])
def test_mean_energy_matches_dwave_at_equal_schedule(sa, beta_range, kind, sweeps):
    """A short anneal (far from the ground state): mean energies of 4000 reads agree within
    K sigma, sigma = sqrt(var_mcsgd / 4000 + var_dwave / 4000)."""
    bqm = glass()
    kw = {"beta_range": beta_range, "beta_schedule_type": kind, "num_sweeps": sweeps,
          "num_reads": 4000}
    a = MetropolisSampler().sample(bqm, seed=3, **kw).record.energy
    b = sa.sample(bqm, seed=3, **kw).record.energy
    sigma = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert abs(a.mean() - b.mean()) <= K * sigma


def test_mean_energy_at_constant_beta_is_boltzmann(sa):
    """At constant beta = 0.6 after 200 sweeps, both samplers' mean energies equal the exact
    Boltzmann mean within K sigma (sigma = read std / sqrt(2000))."""
    bqm = glass()
    s, e = all_states(bqm)
    beta = 0.6
    w = np.exp(-beta * (e - e.min()))
    exact = float((w * e).sum() / w.sum())
    kw = {"beta_range": (beta, beta), "num_sweeps": 200, "num_reads": 2000}
    for energies in (MetropolisSampler().sample(bqm, seed=5, **kw).record.energy,
                     sa.sample(bqm, seed=5, **kw).record.energy):
        assert abs(energies.mean() - exact) <= K * energies.std(ddof=1) / np.sqrt(energies.size)
