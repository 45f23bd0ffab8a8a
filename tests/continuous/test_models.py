"""Models and the SGD integrator: gradients, Hessians, noise sets, sampling schemes."""

import numpy as np
import pytest

from mcsgd.continuous.models import L2, Model, Quadratic, Wells, make_model
from mcsgd.continuous.sgd import SGD
from mcsgd.errors import ParameterError
from mcsgd.rng import generator


def _models():
    rng = generator(5, ())
    return [
        make_model("quadratic", rng, noise="hessian", dim=5),
        Wells(kappa=1.0, tilt=0.1),
        Wells(dim=2, depth_y=0.5, centres=(-1.0, 0.0, 1.5)),
        make_model("linreg", rng, data="synthetic"),
        make_model("softmax", rng, data="synthetic"),
        make_model("mlp", rng, data="synthetic", hidden=3),
        L2(make_model("softmax", rng, data="synthetic"), 0.1),
    ]


@pytest.mark.parametrize("m", _models(), ids=lambda m: m.name)
def test_gradient_matches_finite_differences(m):
    rng = generator(1, ())
    th = m.init(rng, 2) + 0.3 * rng.standard_normal((2, m.dim))
    g = m.grad(th)
    eps = 1e-6
    E = np.eye(m.dim) * eps
    for r in range(2):
        fd = (m.loss(th[r] + E) - m.loss(th[r] - E)) / (2 * eps)
        np.testing.assert_allclose(g[r], fd, atol=1e-7)
    H = m.hessian(th[0])
    np.testing.assert_allclose(H, Model.hessian(m, th[0]), atol=1e-5)
    if m.name != "mlp":  # MLP: Hutchinson estimate, tested below
        np.testing.assert_allclose(m.laplacian(th[:1])[0], np.trace(H), rtol=1e-5)
    if m.n_data is not None:
        idx = np.tile(np.arange(m.n_data), (2, 1))
        np.testing.assert_allclose(m.grad_batch(th, idx), g, atol=1e-12)
        np.testing.assert_allclose(m.per_sample_grads(th[0]).mean(0), g[0], atol=1e-12)


def test_mlp_hutchinson_laplacian_is_unbiased():
    m = make_model("mlp", generator(2, ()), data="synthetic")
    th = m.init(generator(3, ()), 1)
    tr = np.trace(m.hessian(th[0]))
    est = m.laplacian(np.repeat(th, 200, axis=0), generator(4, ()))
    # 200 independent estimates (4 Rademacher probes each): sigma = their standard error
    # (measured ~1.5 % of Tr H); unbiased estimator, so |mean - Tr H| <= 4.5 sigma (199 degrees
    # of freedom, two-sided false alarm ~1e-5)
    sigma = est.std(ddof=1) / np.sqrt(est.size)
    assert abs(est.mean() - tr) <= 4.5 * sigma, (est.mean(), tr, sigma)


def test_finite_noise_set_has_exact_moments():
    H = np.array([0.5, 1.0, 3.0])
    m = Quadratic(H, "hessian2", s=2.0, n_data=50, rng=generator(0, ()))
    G = m.per_sample_grads(np.zeros(3))
    np.testing.assert_allclose(G.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(np.cov(G.T, bias=True), 2.0 * np.diag(H**2), atol=1e-12)
    with pytest.raises(ParameterError, match="hessian"):
        Quadratic([1.0, -1.0])


def test_wells_geometry():
    m = Wells(depth=0.25, kappa=1.0)
    mins, maxs = m.stationary_points()
    np.testing.assert_allclose(mins, [-1, 1], atol=1e-9)
    np.testing.assert_allclose(m.d2U1(mins), [2.0, 10.0])
    assert m.U1(mins[0]) == pytest.approx(0) and m.U1(mins[1]) == pytest.approx(0, abs=1e-12)
    assert maxs.size == 1 and -1 < maxs[0] < 1


def test_epoch_shuffling_visits_every_sample_once_per_epoch():
    m = make_model("linreg", generator(0, ()), data="synthetic", n_data=40)
    sgd = SGD(m, 0.01, 8, np.zeros((3, m.dim)), generator(1, ()), sampling="without")
    seen = np.concatenate([sgd._indices() for _ in range(5)], axis=1)  # one epoch
    for r in range(3):
        assert sorted(seen[r]) == list(range(40))
    assert not np.array_equal(seen[0], seen[1])


def test_sgd_is_deterministic_and_validates():
    m = make_model("quadratic", generator(0, ()))
    runs = []
    for _ in range(2):
        s = SGD(m, 0.05, 4, np.ones((3, m.dim)), generator(9, (1,)), momentum=0.3)
        s.run(50)
        runs.append(s.theta)
    np.testing.assert_array_equal(runs[0], runs[1])
    with pytest.raises(ParameterError, match="eta"):
        SGD(m, 0.0, 4, np.ones((3, m.dim)), generator(0, ()))
    with pytest.raises(ParameterError, match="dampening"):
        SGD(m, 0.1, 4, np.ones((3, m.dim)), generator(0, ()), dampening=1.0)
    lin = make_model("linreg", generator(0, ()), data="synthetic", n_data=10)
    with pytest.raises(ParameterError, match="B"):
        SGD(lin, 0.1, 11, np.ones((1, lin.dim)), generator(0, ()))


def test_weight_decay_wrap_and_unwrap():
    from mcsgd.continuous.models import unwrap, with_weight_decay

    q = Quadratic([1.0, 2.0])
    assert with_weight_decay(q, 0.0) is q and unwrap(q) is q
    w = with_weight_decay(q, 0.5)
    assert isinstance(w, L2) and w.lam == 0.5 and unwrap(w) is q
