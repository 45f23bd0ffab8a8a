"""Recovery of a planted colouring: windows, statistics, annealing, overlap normalisation."""

import json
import math

import numpy as np
import pytest

import problems
from mcsgd.cli import main
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.observables import overlap
from mcsgd.recover import (
    Anneal,
    clustered_proportion_ci,
    map_T_window_to_B,
    recovery_run,
    recovery_stats,
    wilson_interval,
    window,
)


@pytest.fixture(scope="module")
def c24():
    return problems.planted_coloring(3000, 5, 24.0, seed=100)


def test_metropolis_recovers_inside_window_greedy_never(c24):
    """N = 3000, c = 24, q = 5. Measured on 4 instances x 8 replicas (seeds 100-103):
    Metropolis at T = 0.75 recovered 32/32 runs (all by sweep 684); the greedy quench B = 1
    recovered 0/32. Here: instance seed 100, 8 replicas, 1000 sweeps."""
    good = recovery_run(c24, Metropolis(0.75), sweeps=1000, replicas=8, seed=0)
    assert np.all(np.isfinite(good["t_rec"]))
    # the run stops when the last replica passes the threshold: the others are deep in the
    # planted state by then
    assert np.median(good["final_overlap"]) > 0.9
    greedy = recovery_run(c24, SGD(1.0), sweeps=1000, replicas=8, seed=0)
    assert not np.any(np.isfinite(greedy["t_rec"]))
    assert np.all(greedy["final_overlap"] < 0.3)


def test_overlap_random_bias_scales_as_inverse_sqrt_n():
    """A random colouring's overlap is O(N^-1/2) (the max over colour permutations biases it
    upwards): sqrt(N) * mean overlap is the same constant at N = 2000 and N = 32000 (within 15%,
    200 draws each; measured about 1.4 for q = 5)."""
    rng = np.random.default_rng(0)
    consts = []
    for n in (2000, 32000):
        inst = problems.planted_coloring(n, 5, 3.0, seed=1)
        s = rng.integers(0, 5, size=(200, n)).astype(np.int8)
        consts.append(overlap(inst, s).mean() * math.sqrt(n))
    assert abs(consts[0] / consts[1] - 1) < 0.15
    assert 0.5 < consts[1] < 3.0
    inst = problems.planted_coloring(2000, 5, 3.0, seed=1)
    assert overlap(inst, inst.planted[None, :])[0] == 1.0


def test_recovery_stats_quantiles_and_intervals():
    t = np.array([10.0, 20.0, 30.0, np.inf, np.inf, 40.0, 50.0, 60.0])
    st = recovery_stats(t, np.zeros(8))
    assert st["success_probability"] == 0.75 and st["recovered"] == 6
    assert st["t_rec_q25"] == 20.0 and st["t_rec_median"] == 40.0
    assert st["t_rec_q75"] == 60.0
    few = recovery_stats(np.array([5.0, np.inf, np.inf, np.inf]), np.zeros(4))
    assert few["t_rec_median"] is None and few["t_rec_q25"] == 5.0
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson_interval(0, 10)[0] == 0.0


def test_window_and_mapping():
    rows = [{"c": 20.0, "B": b, "success_probability": p, "t_rec_median": m}
            for b, p, m in [(0.8, 0.2, None), (0.85, 0.6, 900.0), (0.9, 0.9, 400.0),
                            (0.95, 0.4, None)]]
    w = window(rows, "B")["20"]
    assert (w["lo"], w["hi"], w["best"]) == (0.85, 0.9, 0.9)
    # T(B) = T0(B) = -1/ln(1-B): the T window [T0(0.9), T0(0.8)] maps back to [0.8, 0.9]
    t0 = lambda B: -1 / np.log1p(-np.asarray(B))  # noqa: E731
    lo, hi = map_T_window_to_B(float(t0(0.9)), float(t0(0.8)), t0)
    assert lo == pytest.approx(0.8, abs=2e-3) and hi == pytest.approx(0.9, abs=2e-3)
    assert map_T_window_to_B(None, 1.0, t0) == (None, None)


def test_annealing_and_quench(c24):
    """Batch annealing (B from 0.8 to 0.9) and simulated annealing (T from 0.9 to 0.6) over
    1000 sweeps recover the c = 24 instance: measured 16/16 runs each (seed 1), final
    overlaps 0.992-0.997 after a 30-sweep greedy quench. Here 4 replicas each: all recover.
    The quench never lowers the overlap of a recovered run (same trajectory before it)."""
    a = Anneal("B", 0.8, 0.9, steps=20)
    assert a.at(0).B == pytest.approx(0.8) and a.at(19).B == pytest.approx(0.9)
    for sched in (a, Anneal("T", 0.9, 0.6, steps=20)):
        res = recovery_run(c24, sched, sweeps=1000, replicas=4, seed=1)
        assert np.all(np.isfinite(res["t_rec"]))
        q = recovery_run(c24, sched, sweeps=1000, replicas=4, seed=1, quench=30)
        np.testing.assert_array_equal(q["t_rec"], res["t_rec"])
        assert np.all(q["final_overlap"] >= res["final_overlap"] - 1e-12)
        assert q["final_overlap"].min() > 0.98
    with pytest.raises(ValueError, match="anneal B start"):
        Anneal("B", 0.0, 0.9)


def test_recover_cli_json(capsys, tmp_path):
    out = tmp_path / "r.h5"
    code = main(["recover", "--q", "5", "--c", "24", "--B", "0.85,1.0", "--n", "3000",
                 "--instances", "1", "--replicas", "4", "--sweeps", "800", "--seed", "2",
                 "--json", "-o", str(out)])
    assert code == 0
    obj = json.loads(capsys.readouterr().out)
    assert len(obj["rows"]) == 2
    for r in obj["rows"]:
        for k in ("c", "B", "success_probability", "t_rec_median", "t_rec_q25", "t_rec_q75",
                  "final_overlap_mean"):
            assert k in r
    greedy = next(r for r in obj["rows"] if r["B"] == 1.0)
    assert greedy["success_probability"] == 0 and greedy["t_rec_median"] is None
    assert out.exists()
    code = main(["recover", "--c", "24", "--T", "0.75", "--n", "3000", "--instances", "2",
                 "--replicas", "1", "--sweeps", "600", "--json"])
    assert code == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert "T" in row
    # runs are labelled by instance: the intervals are clustered (2 instances, 1 dof)
    assert row["instances"] == 2 and "clustered" in row["ci_method"]


@pytest.mark.parametrize("argv, msg", [
    (["--c", "20", "--B", "1.2"], "B = 1.2 is not in (0, 1]"),
    (["--c", "20", "--T", "-0.5"], "T = -0.5"),
    (["--c", "20", "--B", "0.9", "--n", "1001"], "divisible"),
    (["--c", "20", "--B", "0.9", "--threshold", "0"], "threshold = 0"),
    (["--c", "20"], "one of the arguments"),
])
def test_recover_bad_input(argv, msg, capsys):
    assert main(["recover", *argv]) == 2
    assert msg in capsys.readouterr().err


def test_recovery_intervals_clustered_by_instance_cover():
    """Guards the recovery intervals against treating the runs of one instance as independent.

    K = 6 instances x R = 8 replicas, 300 synthetic data sets. Success: instance k succeeds with
    probability p_k ~ U(0, 1) (ensemble success probability 0.5). Recovery time:
    log t = Z_k + eps (Z_k, eps standard normal; ensemble median exactly 1). The clustered
    95% intervals (Korn-Graubard, Woodruff) must cover the ensemble value in >= 0.95 - k sigma,
    sigma = sqrt(0.95 * 0.05 / 300) = 0.0126 binomial, k = 3.5 (i.e. >= 0.906; measured 0.98
    and 0.96 over 400 sets); the old independent-run intervals (Wilson, order statistics)
    cover less than 0.906 (measured 0.74 and 0.70)."""
    rng = np.random.default_rng(7)
    K, R, n = 6, 8, 300
    g = np.repeat(np.arange(K), R)
    hits = np.zeros((2, 2))
    for _ in range(n):
        succ = rng.uniform(size=K * R) < np.repeat(rng.uniform(0, 1, K), R)
        t = np.exp(np.repeat(rng.standard_normal(K), R) + rng.standard_normal(K * R))
        t_succ = np.where(succ, 1.0, np.inf)
        for i, groups in enumerate((g, None)):
            lo, hi = recovery_stats(t_succ, np.zeros(K * R), groups)["success_ci"]
            hits[i, 0] += lo <= 0.5 <= hi
            lo, hi = recovery_stats(t, np.zeros(K * R), groups)["t_rec_median_ci"]
            hits[i, 1] += (lo is None or lo <= 1) and (hi is None or hi >= 1)
    cover = hits / n
    bound = 0.95 - 3.5 * math.sqrt(0.95 * 0.05 / n)
    assert np.all(cover[0] >= bound), cover
    assert np.all(cover[1] < bound), cover


def test_clustered_proportion_ci_limits():
    """Korn-Graubard reduces to Clopper-Pearson at deff = 1 with many clusters, widens with
    few instances, and refuses a single instance."""
    from scipy.stats import binomtest

    y = np.tile([1.0, 0.0], 500)  # every cluster of 2 has exactly one success: deff = 1
    lo, hi = clustered_proportion_ci(y, np.repeat(np.arange(500), 2))
    ref = binomtest(500, 1000).proportion_ci(method="exact")
    assert lo == pytest.approx(ref.low, abs=2e-3) and hi == pytest.approx(ref.high, abs=2e-3)
    lo2, hi2 = clustered_proportion_ci(y, np.repeat(np.arange(2), 500))  # 2 instances, 1 dof
    assert hi2 - lo2 > 3 * (hi - lo)
    with pytest.raises(ValueError, match="groups"):
        clustered_proportion_ci(y, np.zeros(1000, int))
