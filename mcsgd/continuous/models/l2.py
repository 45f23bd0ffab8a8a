"""Weight decay as a wrapper: f_λ(θ) = f(θ) + (λ/2)|θ|² around any model."""

from __future__ import annotations

import numpy as np

from mcsgd.continuous.models.base import Model, _as2d
from mcsgd.continuous.models.linear_regression import LinearRegression
from mcsgd.continuous.models.quadratic import Quadratic
from mcsgd.errors import check_range


class L2(Model):
    """``model`` plus weight decay: f_λ(θ) = f(θ) + (λ/2)|θ|² (C_conn unchanged)."""

    def __init__(self, model: Model, lam: float):
        check_range("weight_decay", lam, 0, None)
        self.base, self.lam = model, float(lam)
        self.dim, self.n_data, self.name = model.dim, model.n_data, model.name

    def loss(self, theta):
        th = _as2d(theta)
        return self.base.loss(th) + 0.5 * self.lam * np.sum(th * th, axis=1)

    def grad(self, theta):
        th = _as2d(theta)
        return self.base.grad(th) + self.lam * th

    def grad_batch(self, theta, idx):
        th = _as2d(theta)
        return self.base.grad_batch(th, idx) + self.lam * th

    def grad_noisy(self, theta, B, rng):
        th = _as2d(theta)
        return self.base.grad_noisy(th, B, rng) + self.lam * th

    def per_sample_grads(self, theta):
        th = np.asarray(theta, float).ravel()
        return self.base.per_sample_grads(th) + self.lam * th

    def noise_cov(self, theta):
        return self.base.noise_cov(theta)

    def laplacian(self, theta, rng=None):
        return self.base.laplacian(theta, rng) + self.lam * self.dim

    def hessian(self, theta):
        return self.base.hessian(theta) + self.lam * np.eye(self.dim)

    def minimum(self, theta0=None):
        if self.lam == 0:
            return self.base.minimum(theta0)
        if isinstance(self.base, LinearRegression):
            b = self.base
            A = np.kron(np.eye(b.K), b.Sxx) + self.lam * np.eye(self.dim)
            return np.linalg.solve(A, b.Sxy.ravel())
        if isinstance(self.base, Quadratic):
            b = self.base
            return np.linalg.solve(b.H + self.lam * np.eye(self.dim), b.H @ b.theta_star)
        return Model.minimum(self, theta0)

    def init(self, rng, R):
        return self.base.init(rng, R)

    def excess_loss(self, theta, theta_star):
        """f_λ(θ) − f_λ(θ*) as an exact quadratic form (linear regression / quadratic only)."""
        H = self.hessian(theta_star)
        d = _as2d(theta) - np.asarray(theta_star).ravel()
        return 0.5 * np.einsum("rp,pq,rq->r", d, H, d)

    def describe(self):
        return {**self.base.describe(), "weight_decay": self.lam}

    def __getattr__(self, name):  # delegate model-specific attributes (H, X, mean_sq_input, ...)
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)


def with_weight_decay(model: Model, lam: float) -> Model:
    """The objective SGD descends: ``model`` in :class:`L2` when ``lam`` > 0, else itself."""
    return L2(model, lam) if lam > 0 else model


def unwrap(model: Model) -> Model:
    """The model without its weight decay (``model.base`` of an :class:`L2`, else ``model``)."""
    return model.base if isinstance(model, L2) else model
