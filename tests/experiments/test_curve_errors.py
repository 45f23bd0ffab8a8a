"""Error bands of the relaxation curves: ``Calibration.curves_sgd_err`` / ``curves_mc_err`` are
the standard errors of the mean curves with the error model of the other calibration errors
(instance-clustered: the standard error of the instance means; one instance: of its replicas).
Fails before: a Calibration stored mean curves only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mcsgd.dynamics import SGD
from mcsgd.experiments import calibrate as calmod
from mcsgd.stats import curve_errors, mean_errors, standard_error


def _by_hand(curves: np.ndarray, instances: int, replicas: int) -> np.ndarray:
    """Units are (instance u // replicas, replica u % replicas)."""
    m = np.stack([curves[k * replicas:(k + 1) * replicas].mean(0) for k in range(instances)])
    return standard_error(m)


@pytest.mark.filterwarnings("ignore::mcsgd.errors.DisorderErrorWarning")
def test_tiny_calibration_curve_errors_are_the_se_of_instance_means(monkeypatch):
    seen = []
    orig = calmod._unit_stats

    def spy(results):
        st = orig(results)
        seen.append(st)
        return st

    monkeypatch.setattr(calmod, "_unit_stats", spy)
    grid = [0.6, 1.0, 1.6]
    cal = calmod.calibrate(calmod.Problem(n=300, c=4.0, q=3), [SGD(0.4), SGD(0.8)],
                           instances=3, replicas=2, sweeps=16, seed=3, mode="relaxation",
                           T_grid=grid)
    assert len(seen) == 2 + len(grid)  # targets first, then the grid in increasing T
    nt = cal.times.size
    assert cal.curves_sgd_err.shape == (2, nt) and cal.curves_mc_err.shape == (3, nt)
    for j in range(2):
        np.testing.assert_array_equal(cal.curves_sgd_err[j], _by_hand(seen[j]["curves"], 3, 2))
    for i in range(3):
        np.testing.assert_array_equal(cal.curves_mc_err[i],
                                      _by_hand(seen[2 + i]["curves"], 3, 2))
    assert np.all(cal.curves_sgd_err[:, -1] > 0)


def test_curve_errors_are_mean_errors_column_by_column():
    """Closed form = the jackknife err of mean_errors (up to rounding, rel 1e-12), for several
    instances (clustered) and for one instance (thermal: over its replicas)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((8, 5))
    for groups in (np.repeat(np.arange(4), 2), np.zeros(8, int)):
        got = curve_errors(x, groups)
        ref = [mean_errors(x[:, i], groups).err for i in range(5)]
        assert got == pytest.approx(ref, rel=1e-12)
    assert all(math.isnan(v) for v in curve_errors(x[:1], np.zeros(1, int)))
