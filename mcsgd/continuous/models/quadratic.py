"""Quadratic loss with additive mini-batch noise of covariance C/B."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mcsgd.continuous.models.additive import _AdditiveNoise
from mcsgd.continuous.models.base import _as2d
from mcsgd.errors import ParameterError, check_choice, check_range

NOISE_CHOICES = ("isotropic", "hessian", "hessian2")


class Quadratic(_AdditiveNoise):
    """f(θ) = f0 + ½ (θ−θ*)ᵀ H (θ−θ*) with additive mini-batch noise of covariance C/B.

    Parameters
    ----------
    hessian : array_like, shape (P,) or (P, P)
        Eigenvalues (diagonal H) or a symmetric positive-definite matrix.
    noise : {"isotropic", "hessian", "hessian2"} or array_like (P, P)
        Per-sample gradient covariance C = s·I, s·H, s·H², or the given matrix (``s`` ignored).
    s : float
        Noise scale (per-sample gradient variance for ``"isotropic"``).
    f0 : float
        Loss at the minimum (> 0 gives a finite level for flatness measurements).
    theta_star : array_like, shape (P,), optional
        Position of the minimum (default 0).
    n_data : int, optional
        Finite noise set of N samples (exact mean 0, exact covariance C); ``None``: fresh
        Gaussian noise at every step.
    rng : numpy.random.Generator, optional
        Needed when ``n_data`` is given.
    """

    name = "quadratic"

    def __init__(
        self,
        hessian: Sequence[float] | np.ndarray,
        noise: str | np.ndarray = "isotropic",
        s: float = 1.0,
        f0: float = 0.0,
        theta_star: np.ndarray | None = None,
        n_data: int | None = None,
        rng: np.random.Generator | None = None,
    ):
        H = np.asarray(hessian, dtype=np.float64)
        if H.ndim == 1:
            H = np.diag(H)
        if H.ndim != 2 or H.shape[0] != H.shape[1] or not np.allclose(H, H.T):
            raise ParameterError("hessian must be a vector of eigenvalues or a symmetric matrix")
        if np.linalg.eigvalsh(H).min() <= 0:
            raise ParameterError("hessian must be positive definite")
        check_range("s", s, 0, None, lo_open=True)
        self.H = H
        self.dim = H.shape[0]
        self.f0 = float(f0)
        self.theta_star = (
            np.zeros(self.dim) if theta_star is None else np.asarray(theta_star, float).ravel()
        )
        if isinstance(noise, str):
            check_choice("noise", noise, NOISE_CHOICES)
            C = {"isotropic": np.eye(self.dim), "hessian": H, "hessian2": H @ H}[noise] * s
            self.noise_kind = noise
        else:
            C = np.asarray(noise, dtype=np.float64)
            self.noise_kind = "given"
        self.s = float(s)
        self._setup_noise(C, n_data, rng)

    def loss(self, theta):
        d = _as2d(theta) - self.theta_star
        return self.f0 + 0.5 * np.einsum("rp,pq,rq->r", d, self.H, d)

    def grad(self, theta):
        return (_as2d(theta) - self.theta_star) @ self.H

    def laplacian(self, theta, rng=None):
        return np.full(_as2d(theta).shape[0], np.trace(self.H))

    def hessian(self, theta):
        return self.H.copy()

    def minimum(self, theta0=None):
        return self.theta_star.copy()

    def init(self, rng, R):
        """θ* + z/sqrt(h_j), z ~ N(0, 1): a start with loss ≈ f0 + P/2, far from stationarity."""
        return self.theta_star + rng.standard_normal((R, self.dim)) / np.sqrt(np.diag(self.H))

    def describe(self):
        return {
            **super().describe(),
            "hessian_eigenvalues": np.linalg.eigvalsh(self.H),
            "noise": self.noise_kind,
            "s": self.s,
            "f0": self.f0,
        }
