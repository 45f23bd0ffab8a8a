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

One file per model: :mod:`.base` (the :class:`Model` interface), :mod:`.additive` (the
additive-noise machinery), :mod:`.quadratic`, :mod:`.wells`, :mod:`.linear_regression`,
:mod:`.softmax`, :mod:`.mlp` and :mod:`.l2` (weight decay); this face re-exports them and builds
them by name (:func:`make_model`).
"""

from __future__ import annotations

import numpy as np

from mcsgd.continuous import data as _data
from mcsgd.continuous.models.base import Model
from mcsgd.continuous.models.l2 import L2, unwrap, with_weight_decay
from mcsgd.continuous.models.linear_regression import LinearRegression
from mcsgd.continuous.models.mlp import MLP
from mcsgd.continuous.models.quadratic import NOISE_CHOICES, Quadratic
from mcsgd.continuous.models.softmax import SoftmaxRegression
from mcsgd.continuous.models.wells import Wells
from mcsgd.errors import check_choice, check_range

__all__ = [
    "L2",
    "MLP",
    "MODEL_CHOICES",
    "NOISE_CHOICES",
    "LinearRegression",
    "Model",
    "Quadratic",
    "SoftmaxRegression",
    "Wells",
    "default_quadratic_spectrum",
    "make_model",
    "unwrap",
    "with_weight_decay",
]

MODEL_CHOICES = ("quadratic", "wells", "linreg", "softmax", "mlp")


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
