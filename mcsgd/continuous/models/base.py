"""The interface every continuous loss implements (:class:`Model`), shared helpers."""

from __future__ import annotations

import numpy as np


def _as2d(theta: np.ndarray) -> np.ndarray:
    theta = np.asarray(theta, dtype=np.float64)
    return theta[None, :] if theta.ndim == 1 else theta


class Model:
    """Interface shared by every loss. Subclasses set ``dim`` and ``n_data``."""

    dim: int
    n_data: int | None = None
    name: str = "model"

    # -- full-data quantities -------------------------------------------------------------
    def loss(self, theta: np.ndarray) -> np.ndarray:
        """Full loss f(θ), shape (R,)."""
        raise NotImplementedError

    def grad(self, theta: np.ndarray) -> np.ndarray:
        """Full gradient ∇f(θ), shape (R, P)."""
        raise NotImplementedError

    def laplacian(self, theta: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Tr H(θ), shape (R,). Default: central differences along every axis (exact for
        quadratics up to rounding)."""
        theta = _as2d(theta)
        R, P = theta.shape
        eps = 1e-4
        out = np.zeros(R)
        for j in range(P):
            e = np.zeros(P)
            e[j] = eps
            out += (self.grad(theta + e)[:, j] - self.grad(theta - e)[:, j]) / (2 * eps)
        return out

    def hessian(self, theta: np.ndarray) -> np.ndarray:
        """Hessian at one point θ (shape (P,)), shape (P, P); central differences by default."""
        theta = np.asarray(theta, dtype=np.float64).ravel()
        P = theta.size
        eps = 1e-5 * max(1.0, float(np.abs(theta).max()))
        E = np.eye(P) * eps
        g = self.grad(np.concatenate([theta + E, theta - E]))
        Hm = (g[:P] - g[P:]) / (2 * eps)
        return 0.5 * (Hm + Hm.T)

    # -- stochastic gradients -------------------------------------------------------------
    def grad_batch(self, theta: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Mini-batch gradient for a (R, B) index array (data models), shape (R, P)."""
        raise NotImplementedError

    def grad_noisy(self, theta: np.ndarray, B: int, rng: np.random.Generator) -> np.ndarray:
        """Mini-batch gradient with infinite data: ∇f + N(0, C/B), shape (R, P)."""
        raise NotImplementedError

    def per_sample_grads(self, theta: np.ndarray) -> np.ndarray:
        """Per-sample gradients at one point, shape (N, P) (data models)."""
        raise NotImplementedError

    def noise_cov(self, theta: np.ndarray) -> np.ndarray:
        """Connected per-sample covariance C_conn(θ) = Cov_i[∇f_i(θ)] at one point, (P, P)."""
        G = self.per_sample_grads(np.asarray(theta, dtype=np.float64).ravel())
        G = G - G.mean(axis=0)
        return G.T @ G / G.shape[0]

    # -- reference points -----------------------------------------------------------------
    def minimum(self, theta0: np.ndarray | None = None) -> np.ndarray:
        """A (local) minimiser θ*, shape (P,). Default: L-BFGS on the full loss from ``theta0``."""
        from scipy.optimize import minimize

        x0 = np.zeros(self.dim) if theta0 is None else np.asarray(theta0, float).ravel()
        res = minimize(
            lambda x: float(self.loss(x[None])[0]),
            x0,
            jac=lambda x: self.grad(x[None])[0],
            method="L-BFGS-B",
            options={"maxiter": 20000, "gtol": 1e-11, "ftol": 1e-15},
        )
        return np.asarray(res.x)

    def init(self, rng: np.random.Generator, R: int) -> np.ndarray:
        """Initial parameters for R chains, shape (R, P)."""
        return 0.1 * rng.standard_normal((R, self.dim))

    def describe(self) -> dict:
        """JSON-able description (stored in outputs)."""
        return {"model": self.name, "dim": self.dim, "n_data": self.n_data}


class Classifier(Model):
    """A model of labelled data: features ``X`` (N, D), labels int64[N], one-hot ``Y`` (N, K)."""

    def _set_data(self, X: np.ndarray, labels: np.ndarray, data_name: str) -> None:
        self.X = X
        self.labels = np.asarray(labels, dtype=np.int64)
        self.K = int(self.labels.max()) + 1
        self.Y = np.eye(self.K)[self.labels]
        self.n_data, self.D = self.X.shape
        self.data_name = data_name


def weights(theta: np.ndarray, K: int, D: int) -> np.ndarray:
    """θ of shape (R, K·D) or (K·D,) as R weight matrices W, shape (R, K, D)."""
    return _as2d(theta).reshape(-1, K, D)
