"""Additive-noise models: f_i = U + ξ_i·θ, ξ_i ~ N(0, C) (infinite data or a finite noise
set)."""

from __future__ import annotations

import numpy as np

from mcsgd.continuous.models.base import Model, _as2d
from mcsgd.errors import ParameterError, check_range


class _AdditiveNoise(Model):
    """Shared machinery: f_i = U + ξ_i·θ, ξ_i ~ N(0, C); optional finite noise set."""

    C: np.ndarray
    _Lchol: np.ndarray
    _xi: np.ndarray | None = None

    def _setup_noise(self, C: np.ndarray, n_data: int | None, rng: np.random.Generator | None):
        P = self.dim
        C = np.asarray(C, dtype=np.float64)
        if C.shape != (P, P) or not np.allclose(C, C.T):
            raise ParameterError(f"noise covariance must be a symmetric {P}x{P} matrix")
        w, V = np.linalg.eigh(C)
        if w.min() < -1e-12 * max(1.0, abs(w.max())):
            raise ParameterError("noise covariance must be positive semi-definite")
        w = np.clip(w, 0, None)
        self.C = C
        self._Lchol = V * np.sqrt(w)  # C = L Lᵀ
        self.n_data = None
        self._xi = None
        if n_data is not None:
            check_range("n_data", n_data, P + 2, None, integer=True)
            if rng is None:
                raise ParameterError("a finite noise set needs a random generator")
            Z = rng.standard_normal((int(n_data), P))
            Z -= Z.mean(axis=0)
            S = Z.T @ Z / n_data
            ws, Vs = np.linalg.eigh(S)
            Z = Z @ (Vs / np.sqrt(ws)) @ Vs.T  # empirical covariance exactly I
            self._xi = Z @ self._Lchol.T  # empirical covariance exactly C, mean exactly 0
            self.n_data = int(n_data)

    def grad_noisy(self, theta, B, rng):
        theta = _as2d(theta)
        z = rng.standard_normal(theta.shape)
        return self.grad(theta) + (z @ self._Lchol.T) / np.sqrt(B)

    def grad_batch(self, theta, idx):
        theta = _as2d(theta)
        return self.grad(theta) + self._xi[idx].mean(axis=1)

    def per_sample_grads(self, theta):
        if self._xi is None:
            raise ParameterError("per-sample gradients need a finite noise set (n_data)")
        return self.grad(np.asarray(theta).ravel()[None])[0] + self._xi

    def noise_cov(self, theta):
        return self.C.copy()
