"""Linear regression with the squared loss (exactly quadratic, multiplicative noise)."""

from __future__ import annotations

import numpy as np

from mcsgd.continuous.models.base import Model, _as2d, weights


class LinearRegression(Model):
    """ŷ = W x̃ (x̃ = (x, 1) with an intercept), f(W) = (1/2N) Σ_i |W x̃_i − y_i|².

    θ = W.ravel() with W of shape (K, D̃). The Hessian is I_K ⊗ Σ_x, Σ_x = (1/N) Σ x̃ x̃ᵀ, so
    f(θ) − f* = ½ (θ−θ*)ᵀ H (θ−θ*) exactly; the per-sample gradient (W x̃_i − y_i) x̃_iᵀ makes the
    noise multiplicative (it grows with |θ − θ*|).

    Parameters
    ----------
    X : ndarray (N, D)
    Y : ndarray (N, K)
    intercept : bool
    data_name : str
    """

    name = "linreg"

    def __init__(self, X: np.ndarray, Y: np.ndarray, intercept: bool = True, data_name: str = ""):
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        if intercept:
            X = np.hstack([X, np.ones((X.shape[0], 1))])
        self.X, self.Y = X, Y
        self.n_data = X.shape[0]
        self.D, self.K = X.shape[1], Y.shape[1]
        self.dim = self.D * self.K
        self.Sxx = X.T @ X / self.n_data
        self.Sxy = Y.T @ X / self.n_data  # (K, D)
        self.Syy = float(np.sum(Y * Y) / self.n_data)
        self.data_name = data_name

    def _W(self, theta):
        return weights(theta, self.K, self.D)

    def loss(self, theta):
        W = self._W(theta)
        q = np.einsum("rkd,de,rke->r", W, self.Sxx, W)
        lin = np.einsum("rkd,kd->r", W, self.Sxy)
        return 0.5 * (q - 2 * lin + self.Syy)

    def grad(self, theta):
        W = self._W(theta)
        return (W @ self.Sxx - self.Sxy).reshape(W.shape[0], -1)

    def grad_batch(self, theta, idx):
        W = self._W(theta)
        Xb = self.X[idx]  # (R, B, D)
        r = Xb @ W.transpose(0, 2, 1) - self.Y[idx]  # (R, B, K)
        return (r.transpose(0, 2, 1) @ Xb).reshape(W.shape[0], -1) / idx.shape[1]

    def per_sample_grads(self, theta):
        W = np.asarray(theta, float).reshape(self.K, self.D)
        r = self.X @ W.T - self.Y  # (N, K)
        return (r[:, :, None] * self.X[:, None, :]).reshape(self.n_data, -1)

    def hessian(self, theta):
        return np.kron(np.eye(self.K), self.Sxx)

    def laplacian(self, theta, rng=None):
        return np.full(_as2d(theta).shape[0], self.K * np.trace(self.Sxx))

    def minimum(self, theta0=None):
        W = np.linalg.lstsq(self.Sxx, self.Sxy.T, rcond=None)[0].T
        return W.ravel()

    def init(self, rng, R):
        return 0.1 * rng.standard_normal((R, self.dim))

    def excess_loss(self, theta: np.ndarray, theta_star: np.ndarray) -> np.ndarray:
        """f(θ) − f(θ*) as the exact quadratic form (no cancellation), shape (R,)."""
        d = self._W(theta) - np.asarray(theta_star).reshape(self.K, self.D)
        return 0.5 * np.einsum("rkd,de,rke->r", d, self.Sxx, d)

    def mean_sq_input(self) -> float:
        """E|x̃|² over the data (sets the multiplicative-noise scale η E|x̃|²/B)."""
        return float(np.trace(self.Sxx))

    def describe(self):
        return {**super().describe(), "data": self.data_name, "outputs": self.K}
