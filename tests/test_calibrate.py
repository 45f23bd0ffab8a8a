"""Calibration of T(B): estimators on synthetic data with known answers (bias, coverage), the
closed loop Metropolis-against-Metropolis, the accuracy target, and the CLI contracts."""

import json
import math

import numpy as np
import pytest
from scipy.stats import t as student_t

from mcsgd.calibrate import (
    Calibration,
    Problem,
    calibrate,
    equilibrium_T,
    halves_test,
    invert_curve,
    relaxation_T,
    welch_test,
)
from mcsgd.cli import main
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.theory import e_para_coloring


def test_invert_curve_exact_on_smooth_data():
    T = np.linspace(0.6, 1.6, 9)
    e = e_para_coloring(T, 10.0, 5)
    for Tstar in (0.65, 0.93, 1.41):
        assert invert_curve(T, e, e_para_coloring(Tstar, 10.0, 5)) == pytest.approx(Tstar, rel=2e-4)
    assert math.isnan(invert_curve(T, e, 10.0))  # outside the measured range


def test_equilibrium_coverage_on_synthetic_data():
    """e_MC(T_j) and e_SGD measured with independent Gaussian unit noise (sigma = 2e-3, U = 12
    units). Over 400 seeds the 1-sigma jackknife interval must contain the true T* in a
    fraction within 0.68 +- 0.08 (about 3.4 binomial sigmas), and the bias must be below
    a fifth of the typical error."""
    rng = np.random.default_rng(0)
    T = np.array([0.85, 0.92, 1.0, 1.08, 1.16])
    Tstar, U, sig = 0.97, 12, 2e-3
    hits, dev, errs = 0, [], []
    for _ in range(400):
        E = e_para_coloring(T, 10.0, 5)[:, None] + sig * rng.standard_normal((T.size, U))
        e = e_para_coloring(Tstar, 10.0, 5) + sig * rng.standard_normal(U)
        Th, err = equilibrium_T(T, E, e)
        hits += abs(Th - Tstar) < err
        dev.append(Th - Tstar)
        errs.append(err)
    cover = hits / 400
    assert 0.60 <= cover <= 0.76, cover
    assert abs(np.mean(dev)) < 0.2 * np.mean(errs)


def _synthetic_curves(T, t, lam=1.0):
    """e(t; T) = e_inf(T) + (e0 - e_inf(T)) exp(-lam t / tau(T)), tau = 4/T."""
    e_inf = e_para_coloring(T, 10.0, 5)
    return e_inf[..., None] + (1.0 - e_inf[..., None]) * np.exp(-lam * t / (4.0 / T[..., None]))


def test_relaxation_fit_recovers_T_and_time_scale():
    """Relaxation curves with unit noise (sigma = 3e-3 per point, U = 10): T_neq within
    3 sigma of T* = 1.03; with a true time-rescaling factor 1.6 the rescaled fit returns it
    within 3 sigma while the unrescaled fit is biased; 1-sigma coverage of T_neq over 100
    seeds within 0.68 +- 0.16 (3.4 binomial sigmas)."""
    rng = np.random.default_rng(1)
    times = np.unique(np.round(np.logspace(0, 2.5, 25))).astype(int)
    times = np.r_[0, times]
    Tg = np.linspace(0.8, 1.3, 7)
    U, sig, Tstar = 10, 3e-3, 1.03
    hits = 0
    for s in range(100):
        C = _synthetic_curves(Tg, times)[:, None, :] + sig * rng.standard_normal(
            (Tg.size, U, times.size))
        c = _synthetic_curves(np.array([Tstar]), times)[0][None, :] + sig * rng.standard_normal(
            (U, times.size))
        r = relaxation_T(times, Tg, C, c)
        hits += abs(r["T"] - Tstar) < r["T_err"]
        if s == 0:
            assert abs(r["T"] - Tstar) < 3 * r["T_err"]
    assert 0.52 <= hits / 100 <= 0.84, hits
    # a time-rescaled target
    C = _synthetic_curves(Tg, times)[:, None, :] + sig * rng.standard_normal(
        (Tg.size, U, times.size))
    c = _synthetic_curves(np.array([Tstar]), times, lam=1.6)[0][None, :] + sig * (
        rng.standard_normal((U, times.size)))
    r = relaxation_T(times, Tg, C, c, rescale=True)
    assert abs(r["scale"] - 1.6) < 3 * r["scale_err"] + 0.02
    assert abs(r["T"] - Tstar) < 3 * r["T_err"] + 0.003


def test_diagnostic_tests():
    rng = np.random.default_rng(3)
    flat = 0.5 + 0.01 * rng.standard_normal((16, 40))
    drift = flat + np.linspace(0, 0.05, 40)[None, :]
    assert halves_test(flat)[1] > 0.01
    assert halves_test(drift)[1] < 1e-6
    a, b = rng.normal(0, 1, 30), rng.normal(1.5, 1, 30)
    assert welch_test(a, b)[1] < 1e-3 and welch_test(a, a + 1e-9)[1] > 0.99


def test_closed_loop_metropolis_against_metropolis():
    """Calibrating Metropolis at T* = 1.5 against Metropolis recovers T*, in and out of
    equilibrium, on planted 5-colourings (c = 10, N = 4000). The errors are instance-clustered
    with 8 instances (7 degrees of freedom): k = Student-t quantile of the two-sided 3-sigma
    level (p = 0.0027) at 7 dof, about 4.5."""
    cal = calibrate(Problem(n=4000, c=10.0), [Metropolis(1.5)], instances=8, replicas=2,
                    sweeps=200, seed=5)
    t = cal.table
    k = student_t.ppf(1 - 0.0027 / 2, 7)
    assert cal.to_json()["err_dof"] == 7 and cal.to_json()["disorder_err"] is True
    assert abs(t["T_eq"][0] - 1.5) < k * t["T_eq_err"][0]
    assert abs(t["T_neq"][0] - 1.5) < k * t["T_neq_err"][0]
    assert abs(t["T_eq_para"][0] - 1.5) < k * t["T_eq_para_err"][0] + 0.005  # O(1/N) bias
    assert t["stationary"][0] and t["init_agree"][0]


@pytest.fixture(scope="module")
def cal_c20():
    return calibrate(Problem(n=50_000, c=20.0), [SGD(0.5), SGD(0.8)], instances=2,
                     replicas=2, sweeps=300, seed=2, mode="both")


def test_accuracy_target_and_theory_ordering(cal_c20):
    """N = 5e4, c = 20, B <= 0.8: T_eq relative error <= 1% (1 sigma); T_eq agrees with the
    exact paramagnetic inversion within 3 combined sigmas; T0 < T_eq (SPEC §3: T0 is 30-45%
    too low at c = 20) and T_adb within 5% of T_eq (SPEC: a few % at c ~ 20)."""
    t = cal_c20.table
    for j in range(2):
        assert t["T_eq_err"][j] / t["T_eq"][j] <= 0.01
        comb = math.hypot(t["T_eq_err"][j], t["T_eq_para_err"][j])
        assert abs(t["T_eq"][j] - t["T_eq_para"][j]) < 3 * comb
        assert t["T_eq"][j] / t["T0"][j] > 1.25
        assert abs(t["T_adb"][j] / t["T_eq"][j] - 1) < 0.05
        assert abs(t["T_neq"][j] - t["T_eq"][j]) < 0.05 * t["T_eq"][j]


def test_calibration_round_trip(cal_c20, tmp_path):
    p = tmp_path / "cal.h5"
    cal_c20.save(p)
    back = Calibration.load(p)
    assert back.params == json.loads(json.dumps(cal_c20.params))
    np.testing.assert_array_equal(back.T_grid, cal_c20.T_grid)
    assert back.table["T_eq"] == pytest.approx(cal_c20.table["T_eq"])
    for k in ("stationary", "init_agree", "B", "T"):
        assert back.table[k] == cal_c20.table[k]  # booleans and None survive the round trip
    # the error metadata survives too (2 instances: flagged, 1 degree of freedom)
    assert back.errors["n_instances"] == 2 and back.errors["err_dof"] == 1
    assert back.errors["disorder_err"] is False
    assert back.table["T_eq_err_thermal"] == pytest.approx(cal_c20.table["T_eq_err_thermal"])


def test_calibrate_cli_json_and_plot(tmp_path, capsys):
    png = tmp_path / "tb.png"
    out = tmp_path / "c.h5"
    code = main(["calibrate", "--problem", "coloring", "--q", "5", "--c", "6", "--n", "3000",
                 "--B", "0.4,0.8", "--seed", "1", "--instances", "2", "--replicas", "2",
                 "--sweeps", "120", "-o", str(out), "--json", "--plot", str(png)])
    assert code == 0
    obj = json.loads(capsys.readouterr().out)
    for k in ("params", "T_eq", "T_eq_err", "T_neq", "T_neq_err", "T0", "T_adb", "T_drift",
              "energy", "energy_err", "stationary", "tau_int", "init_agree",
              "T_eq_err_thermal", "T_neq_err_thermal", "energy_err_thermal"):
        assert k in obj and (k == "params" or len(obj[k]) == 2)
    assert obj["n_instances"] == 2 and obj["err_dof"] == 1 and obj["disorder_err"] is False
    assert obj["T0"][0] == pytest.approx(-1 / math.log(0.6))
    assert png.stat().st_size > 10_000 and out.exists()


def test_calibrate_ising_cli(capsys):
    code = main(["calibrate", "--problem", "ising", "--c", "3", "--n", "3000", "--B", "0.3",
                 "--instances", "2", "--replicas", "2", "--sweeps", "150", "--json",
                 "--mode", "equilibrium"])
    assert code == 0
    obj = json.loads(capsys.readouterr().out)
    # paramagnetic Ising: the measured T_eq agrees with the exact e_para inversion
    assert abs(obj["T_eq"][0] - obj["T_eq_para"][0]) < 3 * math.hypot(
        obj["T_eq_err"][0], obj["T_eq_para_err"][0]) + 0.01
    assert obj["T_eq"][0] > obj["T0"][0]


@pytest.mark.parametrize("argv, msg", [
    (["--B", "0.5,1.5"], "B = 1.5 is not in (0, 1]"),
    (["--B", "0.5", "--instances", "0"], "instances = 0"),
    (["--B", "0.5", "--mode", "fast"], "invalid choice"),
    (["--B", "x"], "not a comma-separated list"),
])
def test_calibrate_bad_input(argv, msg, tmp_path, capsys):
    out = tmp_path / "o.h5"
    code = main(["calibrate", "--c", "5", "--n", "500", *argv, "-o", str(out)])
    assert code == 2
    assert msg in capsys.readouterr().err
    assert not out.exists()


def test_reproduce_tb_curve_small_spec(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(
        '[problem]\nproblem = "coloring"\nq = 3\n\n[experiment]\nc = [3, 5]\nB = [0.5]\n'
        "n = 1500\ninstances = 2\nreplicas = 2\nsweeps = 80\nseed = 4\n"
        f'out = "{tmp_path / "out"}"\n')
    assert main(["reproduce", "tb-curve", "--spec", str(spec), "--quiet"]) == 0
    out = tmp_path / "out"
    for f in ("calib_c3.h5", "calib_c5.h5", "tb_table.md", "tb_table.json", "tb_curve.png",
              "relaxation_c3.png"):
        assert (out / f).exists(), f
    table = json.loads((out / "tb_table.json").read_text())
    assert [row["c"] for row in table] == [3.0, 5.0]
    mtime = (out / "calib_c3.h5").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["reproduce", "tb-curve", "--spec", str(spec)]) == 0  # resumes: nothing redone
    assert (out / "calib_c3.h5").stat().st_mtime_ns == mtime
    assert "skipped" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('[problem]\nq = 3\n[experiment]\nc = [3]\nB = [0.5]\nn = 100\nsweps = 3\n')
    assert main(["reproduce", "tb-curve", "--spec", str(bad)]) == 2
