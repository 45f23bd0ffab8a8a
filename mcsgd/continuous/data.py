"""Data sets for the continuous experiments. Nothing is ever downloaded.

* ``"synthetic"`` — generated from the seed: a Gaussian linear-regression set
  (x ~ N(0, diag(λ_j)), y = W_true x + noise) or a Gaussian-mixture classification set
  (K classes, centres at distance ``sep`` in D dimensions, unit-variance clouds).
* ``"digits"`` — scikit-learn's bundled 8×8 handwritten digits (1,797 images, 64 pixels scaled to
  [0, 1], 10 classes), shipped inside scikit-learn (optional extra ``mcsgd[digits]``); loaded
  offline by ``sklearn.datasets.load_digits``.
* ``"auto"`` — ``"digits"`` when scikit-learn is installed, otherwise ``"synthetic"``. The name
  actually used is returned and stored in every output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mcsgd.errors import ParameterError, check_choice, check_range

DATA_CHOICES = ("auto", "synthetic", "digits")


@dataclass(frozen=True)
class Dataset:
    """Features and targets.

    Attributes
    ----------
    X : ndarray, shape (N, D)
        Features (float64).
    y : ndarray, shape (N,)
        Integer class labels (classification) or ``None``.
    Y : ndarray, shape (N, K)
        Regression targets, or one-hot labels for classification.
    name : str
        ``"synthetic"`` or ``"digits"``.
    """

    X: np.ndarray
    y: np.ndarray | None
    Y: np.ndarray
    name: str

    @property
    def n(self) -> int:
        return self.X.shape[0]


def have_sklearn() -> bool:
    """Whether scikit-learn (and so the bundled digits) is importable."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_name(name: str) -> str:
    """Map ``"auto"`` to ``"digits"`` or ``"synthetic"``; validate the name."""
    check_choice("data", name, DATA_CHOICES)
    if name == "auto":
        return "digits" if have_sklearn() else "synthetic"
    if name == "digits" and not have_sklearn():
        raise ParameterError("data = 'digits' needs scikit-learn: pip install 'mcsgd[digits]'")
    return name


def load_digits(n: int | None = None) -> Dataset:
    """The bundled 8×8 digits, pixels divided by 16; the first ``n`` images when given."""
    try:
        from sklearn.datasets import load_digits as _ld
    except ImportError:
        raise ParameterError(
            "data = 'digits' needs scikit-learn: pip install 'mcsgd[digits]'"
        ) from None
    d = _ld()
    X = np.asarray(d.data, dtype=np.float64) / 16.0
    y = np.asarray(d.target, dtype=np.int64)
    if n is not None:
        X, y = X[:n], y[:n]
    return Dataset(X=X, y=y, Y=np.eye(10)[y], name="digits")


def gaussian_mixture(
    rng: np.random.Generator, n: int = 240, d: int = 4, k: int = 3, sep: float = 2.0
) -> Dataset:
    """K Gaussian clouds (unit covariance) with random centres of norm ``sep``; balanced classes.

    Parameters
    ----------
    rng : numpy.random.Generator
    n, d, k : int
        Number of samples, features and classes.
    sep : float
        Norm of every class centre (classes overlap for sep ≲ 2).
    """
    check_range("n_data", n, 2 * k, None, integer=True)
    check_range("dim", d, 1, None, integer=True)
    check_range("classes", k, 2, None, integer=True)
    centres = rng.standard_normal((k, d))
    centres *= sep / np.linalg.norm(centres, axis=1, keepdims=True)
    y = np.arange(n) % k
    X = centres[y] + rng.standard_normal((n, d))
    return Dataset(X=X, y=y, Y=np.eye(k)[y], name="synthetic")


def synthetic_regression(
    rng: np.random.Generator,
    n: int = 200,
    d: int = 6,
    k: int = 1,
    noise: float = 0.5,
    spread: float = 4.0,
) -> Dataset:
    """Linear-Gaussian regression data y = W_true x + ε.

    Feature variances are log-spaced over a factor ``spread`` with mean 1 (so E|x|² ≈ d);
    ε ~ N(0, noise²). W_true ~ N(0, 1).
    """
    check_range("n_data", n, 2, None, integer=True)
    check_range("dim", d, 1, None, integer=True)
    lam = np.geomspace(1.0, 1.0 / spread, d)
    lam /= lam.mean()
    X = rng.standard_normal((n, d)) * np.sqrt(lam)
    W = rng.standard_normal((k, d))
    Y = X @ W.T + noise * rng.standard_normal((n, k))
    return Dataset(X=X, y=None, Y=Y, name="synthetic")


def classification(name: str, rng: np.random.Generator, n: int | None = None) -> Dataset:
    """A classification set: digits, or a 3-class 4-d Gaussian mixture (synthetic)."""
    name = resolve_name(name)
    if name == "digits":
        return load_digits(n)
    return gaussian_mixture(rng, n=n or 240)


def regression(name: str, rng: np.random.Generator, n: int | None = None) -> Dataset:
    """A regression set: digits pixels → one-hot labels, or synthetic linear-Gaussian data."""
    name = resolve_name(name)
    if name == "digits":
        return load_digits(n)
    return synthetic_regression(rng, n=n or 200)
