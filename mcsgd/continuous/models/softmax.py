"""Multinomial logistic (softmax) regression with the cross-entropy loss."""

from __future__ import annotations

import numpy as np

from mcsgd.continuous.models.base import Classifier, weights


class SoftmaxRegression(Classifier):
    """Multinomial logistic regression: p = softmax(W x̃), f = −(1/N) Σ log p_{y_i}.

    θ = W.ravel(), W of shape (K, D̃) (x̃ = (x, 1)). Exact Laplacian:
    Tr H = (1/N) Σ_i |x̃_i|² Σ_k p_ik (1 − p_ik).
    """

    name = "softmax"

    def __init__(self, X: np.ndarray, labels: np.ndarray, data_name: str = ""):
        X = np.asarray(X, dtype=np.float64)
        self._set_data(np.hstack([X, np.ones((X.shape[0], 1))]), labels, data_name)
        self.dim = self.K * self.D
        self._x2 = np.sum(self.X**2, axis=1)

    def _W(self, theta):
        return weights(theta, self.K, self.D)

    @staticmethod
    def _softmax(z):
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def loss(self, theta):
        Z = self.X[None] @ self._W(theta).transpose(0, 2, 1)  # (R, N, K)
        zmax = Z.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(Z - zmax).sum(axis=-1)) + zmax[..., 0]
        return np.mean(lse - np.sum(Z * self.Y[None], axis=-1), axis=1)

    def _grad_on(self, W, Xb, Yb):
        p = self._softmax(Xb @ W.transpose(0, 2, 1))
        return ((p - Yb).transpose(0, 2, 1) @ Xb).reshape(W.shape[0], -1) / Xb.shape[1]

    def grad(self, theta):
        return self._grad_on(self._W(theta), self.X[None], self.Y[None])

    def grad_batch(self, theta, idx):
        return self._grad_on(self._W(theta), self.X[idx], self.Y[idx])

    def per_sample_grads(self, theta):
        W = np.asarray(theta, float).reshape(self.K, self.D)
        p = self._softmax(self.X @ W.T)
        return ((p - self.Y)[:, :, None] * self.X[:, None, :]).reshape(self.n_data, -1)

    def laplacian(self, theta, rng=None):
        p = self._softmax(self.X[None] @ self._W(theta).transpose(0, 2, 1))
        return np.mean(self._x2[None] * np.sum(p * (1 - p), axis=-1), axis=1)

    def hessian(self, theta):
        W = np.asarray(theta, float).reshape(self.K, self.D)
        p = self._softmax(self.X @ W.T)  # (N, K)
        S = np.einsum("nk,kl->nkl", p, np.eye(self.K)) - p[:, :, None] * p[:, None, :]
        XS = S.reshape(self.n_data, -1)[:, :, None] * self.X[:, None, :]  # (N, K*K, D)
        H = np.einsum("nmd,ne->mde", XS, self.X, optimize=True) / self.n_data
        H = H.reshape(self.K, self.K, self.D, self.D).transpose(0, 2, 1, 3)
        return H.reshape(self.dim, self.dim)

    def describe(self):
        return {**super().describe(), "data": self.data_name, "classes": self.K}
