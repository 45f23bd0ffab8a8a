"""Double- and multi-well polynomial potentials (1D or 2D) with additive noise."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.polynomial import polynomial as npoly

from mcsgd.continuous.models.additive import _AdditiveNoise
from mcsgd.continuous.models.base import _as2d
from mcsgd.errors import ParameterError, check_choice, check_range


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

    def _x_plus_y(self, theta, fx, order: int):
        """fx(x) plus the y term of derivative ``order`` (0: U, 2: U'') when dim = 2."""
        th = _as2d(theta)
        out = fx(th[:, 0])
        if self.dim == 2:
            out = out + self._y_terms(th[:, 1])[order]
        return out

    def loss(self, theta):
        return self._x_plus_y(theta, self.U1, 0)

    def grad(self, theta):
        th = _as2d(theta)
        g = np.empty_like(th)
        g[:, 0] = self.dU1(th[:, 0])
        if self.dim == 2:
            g[:, 1] = self._y_terms(th[:, 1])[1]
        return g

    def laplacian(self, theta, rng=None):
        return self._x_plus_y(theta, self.d2U1, 2)

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
