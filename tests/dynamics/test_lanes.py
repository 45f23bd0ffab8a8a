"""Lane layout: every chain of a lane pass is bit-identical to the scalar kernel's chain.

The lane kernels (mcsgd.dynamics.kernels.lanes) store the chains of one instance side by side
and give each lane its own RNG row and table; here every dynamics with a lane kernel, both
problems, both site orders and 1 or 2 threads must reproduce the scalar layout *exactly*
(configurations, RNG rows, energies, acceptance, overlaps, window traces), alone and mixed in
one pass with other dynamics, replicas, seeds and keys.
"""

import numpy as np
import pytest

from mcsgd import problems
from mcsgd.driver import LaneGroup, Runner, RunSpec, plan_blocks, resolve_layout, run, run_many
from mcsgd.driver.lanes import BLOCK_COST
from mcsgd.dynamics import SGD, Metropolis, rules
from mcsgd.errors import ParameterError

LANE_DYNAMICS = {
    "metropolis": Metropolis(0.8),
    "metropolis-random": Metropolis(0.8, order="random"),
    "heatbath": Metropolis(0.8, rule="heatbath"),
    "heatbath-random": Metropolis(0.8, rule="heatbath", order="random"),
    "greedy-T0": Metropolis(0.0),
    "hot-T-high": Metropolis(50.0),
    "sgd": SGD(0.3),
    "sgd-greedy-B1": SGD(1.0),
}


@pytest.fixture(scope="module", params=["coloring", "ising"])
def inst(request):
    if request.param == "coloring":
        return problems.planted_coloring(1500, 5, 12.0, seed=5)
    return problems.ising(1500, 3, noise=0.05, seed=5)


def _same(a, b):
    """Two RunResults agree bit for bit on everything but timing."""
    for name in ("time", "energy", "acceptance", "trace", "final_state", "final_rng"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.overlap is None:
        assert b.overlap is None
    else:
        np.testing.assert_array_equal(a.overlap, b.overlap)
    assert a.params == b.params
    assert (a.w0, a.blk) == (b.w0, b.blk)


def _run(inst, dyn, layout, threads=None, replicas=5, seed=3, sweeps=12, key=()):
    return run(inst, dyn, sweeps=sweeps, replicas=replicas, seed=seed, key=key,
               threads=threads, grid_points=6, layout=layout)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name", list(LANE_DYNAMICS))
def test_lanes_identical_to_scalar(inst, name, threads):
    dyn = LANE_DYNAMICS[name]
    a = _run(inst, dyn, "scalar", threads=threads)
    b = _run(inst, dyn, "lanes", threads=threads)
    assert a.timing["layout"] == "scalar" and b.timing["layout"] == "lanes"
    assert b.timing["lanes"] == 5
    _same(a, b)
    # and the chains moved: a test that cannot fail on frozen chains is no test
    assert not np.array_equal(b.final_state, _run(inst, dyn, "lanes", threads=threads,
                                                  sweeps=1).final_state) or dyn.T == 0


@pytest.mark.parametrize("replicas", [1, 3, 33, 70])
def test_lane_counts_and_threads(inst, replicas):
    """Padding lanes and lane blocks (64, 32, 8 wide; 1 or 2 threads) change nothing."""
    dyn = Metropolis(1.0)
    a = _run(inst, dyn, "scalar", replicas=replicas, sweeps=4)
    for threads in (1, 2):
        _same(a, _run(inst, dyn, "lanes", replicas=replicas, sweeps=4, threads=threads))


def test_mixed_pass_equals_solo_runs(inst):
    """One pass holding several T, B, seeds, keys and replica counts = each run alone."""
    specs = [RunSpec(Metropolis(0.6), 3, 1, (7, 0)), RunSpec(SGD(0.2), 4, 1, (7, 1)),
             RunSpec(SGD(0.8), 2, 2, (9,)), RunSpec(Metropolis(1.5), 1, 1, (7, 3), "planted"),
             RunSpec(SGD(0.5, method="flags"), 2, 1, (7, 4))]  # flags: no lane kernel
    kw = dict(sweeps=10, grid_points=5)
    many = run_many(inst, specs, layout="auto", threads=1, **kw)
    # auto: 10 chains of one kind on one thread -> lanes; the flag run alone in scalar
    assert [r.timing["layout"] for r in many] == ["lanes"] * 4 + ["scalar"]
    assert {r.timing["lanes"] for r in many[:4]} == {10}
    many2 = run_many(inst, specs[:4], layout="lanes", threads=2, **kw)
    for sp, res, res2 in zip(specs, many, many2 + [many[4]], strict=True):
        solo = run(inst, sp.dynamics, replicas=sp.replicas, seed=sp.seed, key=sp.key,
                   init=sp.init, layout="scalar", **kw)
        _same(solo, res)
        _same(solo, res2)


def test_progress_counts_chain_sweeps(inst):
    seen = []
    specs = [RunSpec(Metropolis(0.6), 4, 1, (1,)), RunSpec(SGD(0.4), 4, 1, (2,))]
    run_many(inst, specs, sweeps=6, grid_points=3, layout="lanes",
             progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (48, 48) and all(t == 48 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_checkpoint_resume_in_lanes(inst, tmp_path):
    """A lanes run resumed from its checkpoint = the uninterrupted scalar run."""
    dyn = SGD(0.4)
    ref = _run(inst, dyn, "scalar", sweeps=20)
    ck = tmp_path / "ck.h5"
    calls = []

    def stop(d, t):
        calls.append(d)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(inst, dyn, sweeps=20, replicas=5, seed=3, grid_points=6, layout="lanes",
            checkpoint=ck, progress=stop, chunk_updates=1)
    assert ck.exists()
    res = run(inst, dyn, sweeps=20, replicas=5, seed=3, grid_points=6, layout="lanes",
              checkpoint=ck, chunk_updates=1)
    _same(ref, res)


def test_lanes_refused_without_a_lane_kernel(inst):
    with pytest.raises(ParameterError, match="layout = 'lanes'"):
        _run(inst, SGD(0.5, method="flags"), "lanes")
    with pytest.raises(ParameterError, match="layout = 'diagonal' is not one of"):
        _run(inst, SGD(0.5), "diagonal")
    # auto falls back to scalar for it, and for too few chains
    assert _run(inst, SGD(0.5, method="flags"), "auto").timing["layout"] == "scalar"
    assert _run(inst, SGD(0.5), "auto", replicas=2, threads=1).timing["layout"] == "scalar"
    assert _run(inst, SGD(0.5), "auto", replicas=16, threads=2).timing["layout"] == "lanes"


def test_group_refuses_mixed_kinds(inst):
    a = Runner(inst, Metropolis(1.0), replicas=2)
    b = Runner(inst, Metropolis(1.0, order="random"), replicas=2)
    with pytest.raises(ParameterError, match="one lane kind"):
        LaneGroup([a, b])


@pytest.mark.parametrize("lanes", [1, 7, 8, 9, 31, 32, 33, 64, 65, 88, 200])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_plan_blocks(lanes, threads):
    b = plan_blocks(lanes, threads)
    w = np.diff(b)
    assert b[0] == 0 and b[-1] >= lanes and b[-1] - lanes < w[0]  # covers, < one block spare
    assert len(set(w.tolist())) == 1 and w[0] in BLOCK_COST
    # the wall-time estimate is minimal over the widths
    est = -(-len(w) // threads) * BLOCK_COST[w[0]]
    for ww in BLOCK_COST:
        nb = -(-lanes // ww)
        assert est <= -(-nb // threads) * BLOCK_COST[ww]


def test_resolve_layout():
    assert resolve_layout("auto", "color", 16, 2) == "lanes"
    assert resolve_layout("auto", "color", 15, 2) == "scalar"
    assert resolve_layout("auto", "random", 64, 1) == "scalar"  # no shared rows: no gain
    assert resolve_layout("lanes", "random", 2, 1) == "lanes"
    assert resolve_layout("scalar", "color", 64, 1) == "scalar"


def test_lane_table_same_thresholds(inst):
    """The 2-d form of a 1-d table holds the same threshold for every (n_old, n_new)."""
    rule = rules.build(inst, Metropolis(0.7))
    t2 = rules.lane_table(rule)
    d = rule.dmax
    for no in range(d + 1):
        for nn in range(d + 1):
            assert t2[no, nn] == rule.thr[0, nn - no + d]


@pytest.mark.parametrize("width", [8, 16, 32, 64])
def test_forced_block_widths(inst, width):
    """Every compiled block width (8, 16, 32, 64 lanes; block-major storage) gives the scalar
    chains: 20 chains of two dynamics, parallel kernel and serial twin."""
    a = Runner(inst, Metropolis(0.7), replicas=12, seed=2, key=(1,))
    b = Runner(inst, SGD(0.4), replicas=8, seed=2, key=(2,))
    sa = Runner(inst, Metropolis(0.7), replicas=12, seed=2, key=(1,))
    sb = Runner(inst, SGD(0.4), replicas=8, seed=2, key=(2,))
    for r in (a, b, sa, sb):
        r.set_window(0, 6)
    g = LaneGroup([a, b], threads=2, width=width)
    assert g.chain.s.shape[2] == width and g.padded % width == 0
    g.advance(3, serial=False)
    g.advance(3, serial=True)
    g.sync()
    sa.advance(6)
    sb.advance(6)
    for x, y in ((a, sa), (b, sb)):
        for name in ("s", "rng", "energy", "accepted", "trace"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=name)
        assert x.t == y.t == 6


def test_refresh_tables_follows_an_annealing_schedule(inst):
    """set_dynamics on the member runner + refresh_tables at every sweep = the scalar runner's
    set_dynamics schedule, bit for bit (the configurations stay in the lanes)."""
    betas = np.linspace(0.2, 3.0, 8)
    r = Runner(inst, Metropolis(1 / betas[0]), replicas=10, seed=7)
    ref = Runner(inst, Metropolis(1 / betas[0]), replicas=10, seed=7)
    g = LaneGroup([r], threads=1)
    for beta in betas:
        r.set_dynamics(Metropolis(1 / beta))
        g.refresh_tables()
        g.advance(1)
        ref.set_dynamics(Metropolis(1 / beta))
        ref.advance(1)
    g.sync()
    np.testing.assert_array_equal(r.s, ref.s)
    np.testing.assert_array_equal(r.energy, ref.energy)
    np.testing.assert_array_equal(r.rng, ref.rng)
    r.set_dynamics(Metropolis(1.0, order="random"))
    with pytest.raises(ParameterError, match="another lane kind"):
        g.refresh_tables()
