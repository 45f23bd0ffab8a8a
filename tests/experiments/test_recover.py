"""Recovery of a planted colouring: windows, statistics, annealing, overlap normalisation.

Tolerances: every statistical assertion has a false-alarm probability of at most P_FALSE = 1e-3
(a test with n of them: <= n * 1e-3). Success counts use the binomial law itself (at success
probabilities near 0 or 1 the Normal sigma vanishes): the reference success probability is
bounded by its one-sided Clopper-Pearson limit at level P_FALSE from the measured reference
counts, and the asserted count is the binomial quantile at that limit with tail P_FALSE.
Continuous quantities read |x - x_ref| <= k * sigma with k = 3.29 (two-sided P_FALSE), or a
Bonferroni k for a bound on each of several values.
"""

import itertools
import json
import math

import numpy as np
import pytest
from scipy.stats import beta, binom, norm
from scipy.stats import t as student_t

from mcsgd import problems
from mcsgd.cli import main
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.dynamics.measure import overlap
from mcsgd.errors import ParameterError
from mcsgd.experiments.recover import (
    Anneal,
    map_T_window_to_B,
    recovery_run,
    recovery_stats,
    window,
)
from mcsgd.stats import clustered_proportion_ci, wilson_interval

P_FALSE = 1e-3
K_NORMAL = float(norm.ppf(1 - P_FALSE / 2))  # 3.29


def min_successes(ref_k: int, ref_n: int, runs: int) -> int:
    """Fewest successes out of ``runs`` to assert when a reference measured ref_k / ref_n:
    p_lo = one-sided Clopper-Pearson lower limit at P_FALSE, and the largest m with
    P(Bin(runs, p_lo) < m) <= P_FALSE."""
    p_lo = float(beta.ppf(P_FALSE, ref_k, ref_n - ref_k + 1)) if ref_k > 0 else 0.0
    m = 0
    while m < runs and binom.cdf(m, runs, p_lo) <= P_FALSE:
        m += 1
    return m


def max_successes(ref_k: int, ref_n: int, runs: int) -> int:
    """Most successes out of ``runs`` to allow when a reference measured ref_k / ref_n (the
    mirror image of :func:`min_successes`)."""
    return runs - min_successes(ref_n - ref_k, ref_n, runs)


def k_bonferroni(m: int) -> float:
    """One-sided Normal quantile for a bound on each of m values, family-wise P_FALSE."""
    return float(norm.ppf(1 - P_FALSE / m))


@pytest.fixture(scope="module")
def c24():
    return problems.planted_coloring(3000, 5, 24.0, seed=100)


# Reference runs (N = 3000, c = 24, q = 5, 1000 sweeps, 8 replicas per instance, seed 0):
# instance seeds 100-103 (first measurement) and 104-111 (medians below).
METROPOLIS_REF = (96, 96)  # Metropolis T = 0.75: recovered / runs (the slowest by sweep 718)
GREEDY_REF = (0, 96)  # SGD(B = 1): recovered / runs
# median final overlap of the 8 replicas at T = 0.75, instances 104-111: 0.9371 0.9423 0.9414
# 0.9358 0.9380 0.9379 0.9375 0.9254 -> mean 0.9369, sd 0.0051 (instance and replica spread)
METROPOLIS_MEDIAN_OVERLAP = (0.9369, 0.0051)
# greedy final overlaps, 64 runs on instances 104-111: mean 0.0669, sd 0.0182 (max 0.1154)
GREEDY_OVERLAP = (0.0669, 0.0182)


def test_metropolis_recovers_inside_window_greedy_never(c24):
    """N = 3000, c = 24, q = 5; here instance seed 100, 8 replicas, 1000 sweeps.

    Success counts (binomial, see the module docstring): Metropolis T = 0.75 recovered
    METROPOLIS_REF = 96/96 reference runs -> at least min_successes(96, 96, 8) = 4 of 8;
    the greedy quench B = 1 recovered 0/96 -> at most max_successes(0, 96, 8) = 4 of 8.
    Overlaps (sharper): the run stops when the last replica passes the threshold 0.5, so the
    median final overlap of the recovered replicas measures the planted state at T = 0.75:
    within k * sd * sqrt(1 + 1/8) of the 8-instance reference (prediction interval, k =
    Student-t at 7 dof, two-sided P_FALSE: 5.41, i.e. +- 0.029). Each greedy final overlap is
    below the reference mean + k * sd, k = k_bonferroni(8) = 3.66 (i.e. 0.133; the threshold
    0.5 is 24 sd above the greedy mean, which is why no greedy run recovers).
    Family-wise false alarm 4e-3."""
    good = recovery_run(c24, Metropolis(0.75), sweeps=1000, replicas=8, seed=0)
    rec = np.isfinite(good["t_rec"])
    assert rec.sum() >= min_successes(*METROPOLIS_REF, 8)
    mu, sd = METROPOLIS_MEDIAN_OVERLAP
    k = float(student_t.ppf(1 - P_FALSE / 2, 7))
    assert abs(np.median(good["final_overlap"][rec]) - mu) <= k * sd * math.sqrt(1 + 1 / 8)
    greedy = recovery_run(c24, SGD(1.0), sweeps=1000, replicas=8, seed=0)
    assert np.isfinite(greedy["t_rec"]).sum() <= max_successes(*GREEDY_REF, 8)
    mu, sd = GREEDY_OVERLAP
    assert np.all(greedy["final_overlap"] <= mu + k_bonferroni(8) * sd), greedy["final_overlap"]


def test_overlap_random_bias_scales_as_inverse_sqrt_n():
    """A random colouring's overlap is O(N^-1/2) (the max over colour permutations biases it
    upwards). Reference: for N -> infinity the confusion counts are Gaussian and
    sqrt(N) * E[overlap] = E[max_pi sum_a g_{a, pi(a)}] / (q - 1), g a q x q matrix of iid
    standard normals: 1.174 for q = 5 (computed here from 10^5 matrices, standard error
    0.0011). At N = 2000 and 32000, sqrt(N) * (mean overlap of 200 random colourings) must
    be within K_NORMAL combined standard errors (sample sd / sqrt(200) ~ 0.02, and the
    reference's) of it. Finite-N bias: measured 1.1779 +- 0.0043 at N = 2000 (4000 draws), none
    resolved. Family-wise false alarm 2e-3. The planted colouring has overlap exactly 1."""
    rng = np.random.default_rng(0)
    q = 5
    perms = np.array(list(itertools.permutations(range(q))))
    g = rng.standard_normal((100_000, q, q))
    best = g[:, np.arange(q)[None, :], perms].sum(axis=2).max(axis=1) / (q - 1)
    ref, ref_se = best.mean(), best.std(ddof=1) / math.sqrt(best.size)
    for n in (2000, 32000):
        inst = problems.planted_coloring(n, q, 3.0, seed=1)
        s = rng.integers(0, q, size=(200, n)).astype(np.int8)
        x = overlap(inst, s) * math.sqrt(n)
        se = x.std(ddof=1) / math.sqrt(x.size)
        assert abs(x.mean() - ref) <= K_NORMAL * math.hypot(se, ref_se), (n, x.mean(), ref)
    inst = problems.planted_coloring(2000, q, 3.0, seed=1)
    assert overlap(inst, inst.planted[None, :])[0] == 1.0


def test_recovery_stats_quantiles_and_intervals():
    t = np.array([10.0, 20.0, 30.0, np.inf, np.inf, 40.0, 50.0, 60.0])
    st = recovery_stats(t, np.zeros(8))
    assert st["success_probability"] == 0.75 and st["recovered"] == 6
    assert st["t_rec_q25"] == 20.0 and st["t_rec_median"] == 40.0
    assert st["t_rec_q75"] == 60.0
    few = recovery_stats(np.array([5.0, np.inf, np.inf, np.inf]), np.zeros(4))
    assert few["t_rec_median"] is None and few["t_rec_q25"] == 5.0
    # Wilson score interval for 8/10 in closed form (deterministic: equal to rounding)
    z, p, n = 1.959964, 0.8, 10
    mid, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx((mid - half) / (1 + z * z / n), rel=1e-12)
    assert hi == pytest.approx((mid + half) / (1 + z * z / n), rel=1e-12)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
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
    # deterministic: brentq with xtol 1e-10 (0.8 and 0.9 are also grid points)
    assert lo == pytest.approx(0.8, abs=1e-9) and hi == pytest.approx(0.9, abs=1e-9)
    assert map_T_window_to_B(None, 1.0, t0) == (None, None)


# quenched (30 greedy sweeps) final overlaps after 1000 annealing sweeps on instance seed 100:
# 64 runs (seeds 2 and 3, 16 replicas, both schedules below; all recovered): mean 0.9919,
# sd 0.0013 (B schedule 0.9920 +- 0.0012, T schedule 0.9918 +- 0.0014; min 0.9883)
QUENCHED_OVERLAP = (0.9919, 0.0013)
ANNEAL_REF = (48, 48)  # recovered / runs per schedule: seed 1 (16/16) and seeds 2, 3 (32/32)


def test_annealing_and_quench(c24):
    """Batch annealing (B from 0.8 to 0.9) and simulated annealing (T from 0.9 to 0.6) over
    1000 sweeps on the c = 24 instance, 8 replicas each (seed 1). Success: 48/48 reference
    runs per schedule -> at least min_successes(48, 48, 8) = 3 of 8 (binomial). The quench
    runs the same trajectory first (t_rec equal: deterministic) and raises the overlap: gain
    measured +0.012 +- 0.003 (B schedule) and +0.031 +- 0.003 (T schedule; mean +- sd over
    16 runs, seeds 4 and 5), so a decrease is >= 4 sd away (Normal tail 3e-5 per run, 5e-4 for
    16 runs). The quenched overlap of each recovered run is within k * sd of
    QUENCHED_OVERLAP, k = two-sided Bonferroni over 16 values = 4.0 (i.e. 0.9867-0.9971).
    Family-wise false alarm about 4e-3."""
    a = Anneal("B", 0.8, 0.9, steps=20)
    assert a.at(0).B == pytest.approx(0.8) and a.at(19).B == pytest.approx(0.9)
    mu, sd = QUENCHED_OVERLAP
    k = float(norm.ppf(1 - P_FALSE / (2 * 16)))
    for sched in (a, Anneal("T", 0.9, 0.6, steps=20)):
        res = recovery_run(c24, sched, sweeps=1000, replicas=8, seed=1)
        rec = np.isfinite(res["t_rec"])
        assert rec.sum() >= min_successes(*ANNEAL_REF, 8)
        q = recovery_run(c24, sched, sweeps=1000, replicas=8, seed=1, quench=30)
        np.testing.assert_array_equal(q["t_rec"], res["t_rec"])
        assert np.all(q["final_overlap"] >= res["final_overlap"] - 1e-12)
        assert np.all(np.abs(q["final_overlap"][rec] - mu) <= k * sd), q["final_overlap"]
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
    # binomial (module docstring): greedy recovered 0/96 reference runs -> at most
    # max_successes(0, 96, 4) = 3 of 4; the median exists only with >= 2 of 4 (deterministic)
    succ = round(4 * greedy["success_probability"])
    assert succ <= max_successes(*GREEDY_REF, 4)
    assert (greedy["t_rec_median"] is None) == (succ < 2)
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
    # deterministic: the Korn-Graubard t-quantile at 499 dof differs from the exact limit by
    # 3.9e-5 here
    assert lo == pytest.approx(ref.low, abs=1e-4) and hi == pytest.approx(ref.high, abs=1e-4)
    lo2, hi2 = clustered_proportion_ci(y, np.repeat(np.arange(2), 500))  # 2 instances, 1 dof
    assert hi2 - lo2 > 3 * (hi - lo)
    with pytest.raises(ValueError, match="groups"):
        clustered_proportion_ci(y, np.zeros(1000, int))


def test_recovery_scan_warns_below_four_instances():
    """Guards issue 9 §3 for recover: with 1-3 instances its intervals cannot carry the
    instance-to-instance spread; this used to pass silently (only ``ci_method`` told)."""
    import warnings

    from mcsgd import problems
    from mcsgd.dynamics import SGD
    from mcsgd.errors import DisorderErrorWarning
    from mcsgd.experiments.recover import recovery_scan

    def make(c, k):
        return problems.planted_coloring(300, 5, float(c), seed=1, instance=k)

    for inst, warned in ((1, True), (3, True), (4, False)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            recovery_scan(make, [20.0], [SGD(0.9)], instances=inst, replicas=1, sweeps=5,
                          seed=0)
        assert any(issubclass(x.category, DisorderErrorWarning) for x in w) == warned


# (setting, spawn key): with seed 5 on the instance below the first three stop early (every
# replica recovered) at sweeps 120, 125 and 160, the others run the whole budget of 200
LAYOUT_SETTINGS = [(Metropolis(0.8), (7, 3)), (Metropolis(0.75), (7, 4)),
                   (Metropolis(0.75), (7, 2)), (SGD(0.85), (7, 5)), (SGD(1.0), (7, 6)),
                   (Anneal("B", 0.7, 0.96, steps=5), (7, 7))]


def _same_out(a, b):
    for k in ("t_rec", "final_overlap", "max_overlap", "check_times", "overlap", "final_state"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert a["sweeps_run"] == b["sweeps_run"]


def test_recovery_runs_of_one_instance_equal_solo_runs_in_every_layout():
    """The settings of one instance advance together (in lanes or one by one) and each equals
    its own recovery_run: with settings that stop early at different checks (all recovered,
    or frozen), a quench after each, and an annealing schedule beside them."""
    from mcsgd.experiments.recover import recovery_runs

    inst = problems.planted_coloring(1000, 5, 24.0, seed=2)
    kw = dict(sweeps=200, replicas=3, seed=5, check_every=5, quench=4)
    settings = [st for st, _ in LAYOUT_SETTINGS]
    keys = [key for _, key in LAYOUT_SETTINGS]
    solo = [recovery_run(inst, st, key=key, layout="scalar", **kw) for st, key in LAYOUT_SETTINGS]
    assert [o["sweeps_run"] for o in solo] == [120, 125, 160, 200, 200, 200]
    for layout in ("scalar", "lanes", "auto"):
        seen = []
        outs = recovery_runs(inst, settings, keys, layout=layout, threads=2,
                             progress=lambda d, t, seen=seen: seen.append((d, t)), **kw)
        for a, b in zip(solo, outs, strict=True):
            _same_out(a, b)
        total = len(LAYOUT_SETTINGS) * kw["sweeps"]
        assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_recovery_tables_identical_in_scalar_and_lanes_layouts(tmp_path):
    """run_recovery (mcsgd recover) gives the same rows, JSON and file in both layouts."""
    from mcsgd.experiments.recover import run_recovery

    res = {}
    for layout in ("scalar", "lanes"):
        with pytest.warns(Warning):  # 2 instances: DisorderErrorWarning
            res[layout] = run_recovery([20.0], n=1000, B=[0.8, 0.9, 1.0], instances=2,
                                       replicas=3, sweeps=80, seed=3, check_every=4,
                                       layout=layout, save_states=True,
                                       output=str(tmp_path / f"{layout}.h5"))
    a, b = res["scalar"], res["lanes"]
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())
    assert "layout" not in a.params
    for ra, rb in zip(a.rows, b.rows, strict=True):
        for k in ("t_rec", "final_overlap"):
            np.testing.assert_array_equal(ra[k], rb[k])
        np.testing.assert_array_equal(ra["final_state"]["states"], rb["final_state"]["states"])
    with pytest.raises(ParameterError, match="layout = 'diagonal'"):
        run_recovery([20.0], n=1000, B=[0.8], layout="diagonal")
