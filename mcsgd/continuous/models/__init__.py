r"""Losses for continuous SGD, vectorised over independent chains.

Every model is a mean over per-sample losses, f(θ) = (1/N) Σ_i f_i(θ), and evaluates a batch of
R parameter vectors at once: ``theta`` has shape (R, P) everywhere. A mini-batch gradient is

    ∇f_B(θ) = (1/B) Σ_{i ∈ batch} ∇f_i(θ),

unbiased for ∇f. Its *connected* per-sample covariance is C_conn(θ) = Cov_i[∇f_i(θ)], so the
mini-batch noise covariance is C_conn/B for batches drawn with replacement. Two kinds of models:

* **data models** (``n_data = N``): :class:`LinearRegression`, :class:`SoftmaxRegression`,
  :class:`MLP`, and the additive-noise models below when given a finite noise set. A batch is a
  (R, B) index array (see :mod:`mcsgd.continuous.sgd` for the sampling schemes).
* **additive-noise models** (``n_data = None``, "infinite data"): f_i(θ) = U(θ) + ξ_i·θ with
  ξ_i ~ N(0, C) i.i.d.; the mini-batch gradient is ∇U(θ) + N(0, C/B), drawn directly.
  :class:`Quadratic` (U = f0 + ½(θ−θ*)ᵀH(θ−θ*), C = s·I, s·H, s·H² or given) and :class:`Wells`
  (double- and multi-well polynomials in 1D or 2D, C = s·I).

Weight decay λ is added by :class:`L2` (f → f + (λ/2)|θ|², deterministic: it changes H by λI
and leaves C_conn unchanged).

Units: θ dimensionless; f in loss units; η in θ²/loss (so η·h is dimensionless).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.polynomial import polynomial as npoly

from mcsgd.continuous import data as _data
from mcsgd.errors import ParameterError, check_choice, check_range

NOISE_CHOICES = ("isotropic", "hessian", "hessian2")
MODEL_CHOICES = ("quadratic", "wells", "linreg", "softmax", "mlp")


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


# =========================================================================================
# additive-noise models
# =========================================================================================


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


class Wells(_AdditiveNoise):
    """Multi-well polynomial potentials with additive noise (C = s·I).

    1D: U(x) = depth · Π_k (x − c_k)² · (1 + κ (x − c_0)²) + tilt·x. All minima at the centres c_k
    have U = 0 when tilt = 0 (equal depths); κ > 0 makes the wells away from c_0 sharper (for
    centres (−1, 1): curvatures 8·depth at −1 and 8·depth·(1 + 4κ) at +1). κ = 0, centres (−1, 1)
    is the symmetric double well depth·(x² − 1)² with barrier ΔU = depth at x = 0.

    2D (``dim=2``): U(x, y) = U_1D(x) + depth_y (y² − 1)² (four wells) or, with
    ``depth_y = 0``, U_1D(x) + ½ y² (a double well with a transverse harmonic mode).

    Parameters
    ----------
    centres : sequence of float
        Well centres in increasing order (≥ 2 of them).
    depth, kappa, tilt : float
        Scale, sharpness asymmetry and linear tilt.
    s : float
        Per-sample gradient variance per coordinate.
    dim : {1, 2}
    depth_y : float
        Depth of the y double well (dim = 2); 0 gives a harmonic y.
    n_data : int, optional
        Finite noise set (see :class:`Quadratic`).
    """

    name = "wells"

    def __init__(
        self,
        centres: Sequence[float] = (-1.0, 1.0),
        depth: float = 1.0,
        kappa: float = 0.0,
        tilt: float = 0.0,
        s: float = 1.0,
        dim: int = 1,
        depth_y: float = 0.0,
        n_data: int | None = None,
        rng: np.random.Generator | None = None,
    ):
        c = np.asarray(centres, dtype=np.float64)
        if c.ndim != 1 or c.size < 2 or np.any(np.diff(c) <= 0):
            raise ParameterError("centres must be >= 2 increasing numbers")
        check_range("depth", depth, 0, None, lo_open=True)
        check_range("kappa", kappa, 0, None)
        check_range("s", s, 0, None, lo_open=True)
        check_choice("dim", str(dim), ("1", "2"))
        check_range("depth_y", depth_y, 0, None)
        self.centres, self.depth, self.kappa, self.tilt = c, float(depth), float(kappa), float(tilt)
        self.s, self.dim, self.depth_y = float(s), int(dim), float(depth_y)
        Pc = npoly.polyfromroots(c)
        q = np.array([1.0 + kappa * c[0] ** 2, -2.0 * kappa * c[0], kappa])
        U = depth * npoly.polymul(npoly.polymul(Pc, Pc), q)
        U = npoly.polyadd(U, [0.0, tilt])
        self._U, self._dU = U, npoly.polyder(U)
        self._d2U = npoly.polyder(U, 2)
        self._setup_noise(self.s * np.eye(self.dim), n_data, rng)

    # 1D potential and derivatives of the x coordinate
    def U1(self, x: np.ndarray) -> np.ndarray:
        """U_1D(x), any shape."""
        return npoly.polyval(x, self._U)

    def dU1(self, x: np.ndarray) -> np.ndarray:
        return npoly.polyval(x, self._dU)

    def d2U1(self, x: np.ndarray) -> np.ndarray:
        return npoly.polyval(x, self._d2U)

    def _y_terms(self, y):
        if self.depth_y > 0:
            a = self.depth_y
            return a * (y * y - 1) ** 2, 4 * a * y * (y * y - 1), a * (12 * y * y - 4)
        return 0.5 * y * y, y, np.ones_like(y)

    def loss(self, theta):
        th = _as2d(theta)
        out = self.U1(th[:, 0])
        if self.dim == 2:
            out = out + self._y_terms(th[:, 1])[0]
        return out

    def grad(self, theta):
        th = _as2d(theta)
        g = np.empty_like(th)
        g[:, 0] = self.dU1(th[:, 0])
        if self.dim == 2:
            g[:, 1] = self._y_terms(th[:, 1])[1]
        return g

    def laplacian(self, theta, rng=None):
        th = _as2d(theta)
        out = self.d2U1(th[:, 0])
        if self.dim == 2:
            out = out + self._y_terms(th[:, 1])[2]
        return out

    def hessian(self, theta):
        th = np.asarray(theta, float).ravel()
        h = [float(self.d2U1(th[0]))]
        if self.dim == 2:
            h.append(float(self._y_terms(th[1:2])[2][0]))
        return np.diag(h)

    def stationary_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(minima, maxima) of U_1D, sorted."""
        r = npoly.polyroots(self._dU)
        r = np.sort(r[np.abs(r.imag) < 1e-9].real)
        curv = self.d2U1(r)
        return r[curv > 0], r[curv < 0]

    def minimum(self, theta0=None):
        mins, _ = self.stationary_points()
        x = mins[0] if theta0 is None else mins[np.argmin(np.abs(mins - np.ravel(theta0)[0]))]
        out = np.zeros(self.dim)
        out[0] = x
        if self.dim == 2 and self.depth_y > 0:
            out[1] = -1.0
        return out

    def init(self, rng, R):
        th = np.tile(self.minimum(), (R, 1))
        return th

    def describe(self):
        mins, maxs = self.stationary_points()
        return {
            **super().describe(),
            "centres": self.centres,
            "depth": self.depth,
            "kappa": self.kappa,
            "tilt": self.tilt,
            "s": self.s,
            "minima": mins,
            "maxima": maxs,
        }


# =========================================================================================
# data models
# =========================================================================================


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
        return _as2d(theta).reshape(-1, self.K, self.D)

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


class SoftmaxRegression(Model):
    """Multinomial logistic regression: p = softmax(W x̃), f = −(1/N) Σ log p_{y_i}.

    θ = W.ravel(), W of shape (K, D̃) (x̃ = (x, 1)). Exact Laplacian:
    Tr H = (1/N) Σ_i |x̃_i|² Σ_k p_ik (1 − p_ik).
    """

    name = "softmax"

    def __init__(self, X: np.ndarray, labels: np.ndarray, data_name: str = ""):
        X = np.asarray(X, dtype=np.float64)
        self.X = np.hstack([X, np.ones((X.shape[0], 1))])
        self.labels = np.asarray(labels, dtype=np.int64)
        self.K = int(self.labels.max()) + 1
        self.Y = np.eye(self.K)[self.labels]
        self.n_data, self.D = self.X.shape
        self.dim = self.K * self.D
        self._x2 = np.sum(self.X**2, axis=1)
        self.data_name = data_name

    def _W(self, theta):
        return _as2d(theta).reshape(-1, self.K, self.D)

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


class MLP(Model):
    """One hidden tanh layer, softmax output, cross-entropy loss.

    θ = (W1 (H, D), b1 (H), W2 (K, H), b2 (K)) flattened in that order. Initialisation:
    W ~ N(0, 1/fan_in), b = 0. Tr H is estimated by Hutchinson's method with central
    differences of the gradient (``n_probe`` Rademacher vectors).
    """

    name = "mlp"

    def __init__(
        self, X: np.ndarray, labels: np.ndarray, hidden: int = 8, data_name: str = ""
    ):
        check_range("hidden", hidden, 1, None, integer=True)
        self.X = np.asarray(X, dtype=np.float64)
        self.labels = np.asarray(labels, dtype=np.int64)
        self.K = int(self.labels.max()) + 1
        self.Y = np.eye(self.K)[self.labels]
        self.n_data, self.D = self.X.shape
        self.Hd = int(hidden)
        H, D, K = self.Hd, self.D, self.K
        self._shapes = [(H, D), (H,), (K, H), (K,)]
        self._sizes = [int(np.prod(s)) for s in self._shapes]
        self.dim = int(sum(self._sizes))
        self.data_name = data_name
        self.n_probe = 4

    def _unpack(self, theta):
        th = _as2d(theta)
        R = th.shape[0]
        out, o = [], 0
        for s, n in zip(self._shapes, self._sizes, strict=True):
            out.append(th[:, o : o + n].reshape((R, *s)))
            o += n
        return out

    def _fb(self, theta, Xb, Yb, want_grad=True):
        W1, b1, W2, b2 = self._unpack(theta)
        a1 = np.tanh(Xb @ W1.transpose(0, 2, 1) + b1[:, None, :])  # (R, B, H)
        z2 = a1 @ W2.transpose(0, 2, 1) + b2[:, None, :]  # (R, B, K)
        zmax = z2.max(axis=-1, keepdims=True)
        e = np.exp(z2 - zmax)
        se = e.sum(axis=-1, keepdims=True)
        if not want_grad:
            lse = np.log(se[..., 0]) + zmax[..., 0]
            return np.mean(lse - np.sum(z2 * Yb, axis=-1), axis=1)
        Bn = Xb.shape[1]
        dz2 = (e / se - Yb) / Bn
        gW2 = dz2.transpose(0, 2, 1) @ a1
        gb2 = dz2.sum(axis=1)
        dz1 = (dz2 @ W2) * (1 - a1 * a1)
        gW1 = dz1.transpose(0, 2, 1) @ Xb
        gb1 = dz1.sum(axis=1)
        R = gW1.shape[0]
        return np.concatenate(
            [gW1.reshape(R, -1), gb1, gW2.reshape(R, -1), gb2], axis=1
        )

    def loss(self, theta):
        return self._fb(theta, self.X[None], self.Y[None], want_grad=False)

    def grad(self, theta):
        return self._fb(theta, self.X[None], self.Y[None])

    def grad_batch(self, theta, idx):
        return self._fb(theta, self.X[idx], self.Y[idx])

    def per_sample_grads(self, theta):
        th = np.asarray(theta, float).ravel()[None]
        out = np.empty((self.n_data, self.dim))
        for i0 in range(0, self.n_data, 256):
            sl = np.arange(i0, min(i0 + 256, self.n_data))
            Xb = self.X[sl][:, None, :]
            Yb = self.Y[sl][:, None, :]
            out[sl] = self._fb(np.repeat(th, sl.size, axis=0), Xb, Yb)
        return out

    def laplacian(self, theta, rng=None):
        th = _as2d(theta)
        rng = rng if rng is not None else np.random.default_rng(0)
        eps = 1e-4
        acc = np.zeros(th.shape[0])
        for _ in range(self.n_probe):
            z = rng.choice([-1.0, 1.0], size=th.shape)
            hz = (self.grad(th + eps * z) - self.grad(th - eps * z)) / (2 * eps)
            acc += np.sum(z * hz, axis=1)
        return acc / self.n_probe

    def init(self, rng, R):
        parts = []
        for s in self._shapes:
            if len(s) == 2:
                parts.append(rng.standard_normal((R, s[0] * s[1])) / np.sqrt(s[1]))
            else:
                parts.append(np.zeros((R, s[0])))
        return np.concatenate(parts, axis=1)

    def describe(self):
        return {**super().describe(), "data": self.data_name, "hidden": self.Hd}


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


def default_quadratic_spectrum(P: int = 12, hmin: float = 0.2, hmax: float = 4.0) -> np.ndarray:
    """Log-spaced Hessian eigenvalues between ``hmin`` and ``hmax``."""
    return np.geomspace(hmin, hmax, P)


def make_model(
    name: str,
    rng: np.random.Generator,
    *,
    data: str = "auto",
    n_data: int | None = None,
    noise: str = "isotropic",
    s: float = 1.0,
    dim: int = 12,
    hmin: float = 0.2,
    hmax: float = 4.0,
    f0: float = 1.0,
    hidden: int = 8,
) -> Model:
    """Build one of the named models (without weight decay; wrap with :class:`L2`).

    Parameters
    ----------
    name : {"quadratic", "wells", "linreg", "softmax", "mlp"}
    rng : numpy.random.Generator
        Used for synthetic data and finite noise sets.
    data : {"auto", "synthetic", "digits"}
        Data set of the data models (see :mod:`mcsgd.continuous.data`).
    n_data : int, optional
        Number of samples (data models: a subset/size; additive-noise models: finite noise set).
    noise, s, dim, hmin, hmax, f0 :
        Quadratic: noise structure, scale, number of parameters, spectrum range, loss offset.
    hidden : int
        MLP hidden width.
    """
    check_choice("model", name, MODEL_CHOICES)
    if name == "quadratic":
        check_range("dim", dim, 1, 4096, integer=True)
        check_range("hmin", hmin, 0, None, lo_open=True)
        check_range("hmax", hmax, hmin, None)
        return Quadratic(
            default_quadratic_spectrum(int(dim), hmin, hmax),
            noise=noise,
            s=s,
            f0=f0,
            n_data=n_data,
            rng=rng,
        )
    if name == "wells":
        return Wells(s=s, n_data=n_data, rng=rng)
    if name == "linreg":
        ds = _data.regression(data, rng, n_data)
        return LinearRegression(ds.X, ds.Y, data_name=ds.name)
    ds = _data.classification(data, rng, n_data)
    if name == "softmax":
        return SoftmaxRegression(ds.X, ds.y, data_name=ds.name)
    return MLP(ds.X, ds.y, hidden=hidden, data_name=ds.name)
