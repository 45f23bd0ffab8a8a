"""Stationary variance of SGD on a quadratic with additive noise: exact discrete formulas.

Plain SGD: Var θ_j = η c / (B h_j (2 − η h_j)). Heavy ball (v ← μv + (1−ν)g, θ ← θ − ηv),
a = η(1−ν): Var θ_j = (1+μ) a c / (B (1−μ) h_j (2(1+μ) − a h_j)) (AR(2) stationary variance).
SDE: η_eff c / (2 B h_j). Measured error bars (400 chains × 4000 steps): 0.15–0.5 % per mode.

Every comparison reads |v − v_ref| ≤ K σ per mode, σ the standard error over the 400
independent chains (normal law: 399 degrees of freedom), K = 4.5 (two-sided false alarm 7e-6 per
mode, < 1e-4 for the ~13 mode checks of a test). No bias: the references are exact for the
discrete dynamics; only the 1000-step burn-in (from θ = 0, slowest relaxation 1/(2 η h) = 10
steps) leaves a transient, e^{−200} relative.
"""

import numpy as np
import pytest

from mcsgd.continuous.models import Quadratic
from mcsgd.continuous.sgd import SGD
from mcsgd.rng import generator

H = np.array([0.5, 2.0, 5.0])
ETA, B, C = 0.1, 4, 1.0  # η h = 0.05, 0.2, 0.5
K = 4.5


def _within(v, ref, err, k=K):
    """|v - ref| <= k err elementwise."""
    v, ref, err = np.broadcast_arrays(v, ref, err)
    assert np.all(np.abs(v - ref) <= k * err), (v, ref, err)


def _variance(mu=0.0, nu=0.0, n_data=None, sampling="with", R=400, steps=4000, seed=0):
    m = Quadratic(H, "isotropic", s=C, n_data=n_data, rng=generator(seed, (1,)))
    sgd = SGD(m, ETA, B, np.zeros((R, 3)), generator(seed, (0,)), momentum=mu, dampening=nu,
              sampling=sampling)
    sgd.run(1000)
    s2 = np.zeros((R, 3))
    for _ in range(steps):
        sgd.step()
        s2 += sgd.theta**2
    v = s2 / steps
    return v.mean(0), v.std(0, ddof=1) / np.sqrt(R)


def test_plain_sgd_discrete_variance_beats_sde():
    var, err = _variance()
    disc = ETA * C / (B * H * (2 - ETA * H))
    sde = ETA * C / (2 * B * H)
    # measured: ratios 1.006, 0.999, 0.998 with sigma 0.5 %, 0.25 %, 0.15 %
    _within(var, disc, err)
    # the SDE value is off by 2/(2 - eta h): 1.33 at eta h = 0.5 (measured 1.331); it is
    # rejected on the two stiffer modes (offsets 11 and 33 %, i.e. > 40 sigma)
    assert np.all(np.abs(var[1:] - sde[1:]) > K * err[1:])


@pytest.mark.parametrize("mu,nu", [(0.5, 0.0), (0.5, 0.3), (0.9, 0.0)])
def test_momentum_discrete_variance(mu, nu):
    var, err = _variance(mu, nu)
    a = ETA * (1 - nu)
    exact = (1 + mu) * a * C / (B * (1 - mu) * H * (2 * (1 + mu) - a * H))
    sde = a * C / (2 * B * H * (1 - mu))
    # measured: all within 0.7 % (sigma 0.2-0.35 %)
    _within(var, exact, err)
    # the momentum SDE value (T = eta_eff c / 2B) misses by 13-20 % on the stiffest mode
    assert abs(var[2] - sde[2]) > K * err[2]


def test_finite_noise_set_with_and_without_replacement():
    disc = ETA * C / (B * H * (2 - ETA * H))
    var, err = _variance(n_data=64)
    # i.i.d. mini-batches from a finite set with exact covariance C: same law (measured 0.2-0.6 %)
    _within(var, disc, err)
    # epoch shuffling anti-correlates the noise: measured 0.23, 0.60, 0.84 of the i.i.d. value
    # (errors ~0.5 %): smaller than the i.i.d. variance on every mode, by far on the slowest
    var_w, err_w = _variance(n_data=64, sampling="without")
    assert np.all(disc - var_w > K * err_w)
    assert 0.4 * disc[0] - var_w[0] > K * err_w[0]
