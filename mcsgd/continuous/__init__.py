"""Continuous SGD as a thermal process (SPEC section 6).

Four results on continuous losses, measured with vectorised SGD (many independent chains as the
leading batch dimension of every array):

* Yaida's fluctuation–dissipation relations, the FDR2 Hessian probe and the adaptive learning-rate
  schedule (:mod:`mcsgd.continuous.fdr`);
* the exact FDT of stochastic linear learning, ⟨f⟩ − f* = (η/4)⟨|∇f_B|²⟩, against its Langevin
  limit (:mod:`mcsgd.continuous.linear`);
* the (inverse) variance–flatness relation and the "true energy" (:mod:`mcsgd.continuous.ivf`);
* escape times and flat/sharp occupations versus batch size (:mod:`mcsgd.continuous.escape`), and
  effective temperatures T_eff(B, η) next to η s/(2B) (:mod:`mcsgd.continuous.temperature`).

Models live in :mod:`mcsgd.continuous.models`, the SGD integrator (momentum convention, sampling
schemes) in :mod:`mcsgd.continuous.sgd`, data sets in :mod:`mcsgd.continuous.data`. Scan files and
the CLI both go through :func:`mcsgd.experiments.continuous.run_task`.

This ``__init__`` imports nothing heavy (the CLI imports this package): names are resolved lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SGD": "sgd",
    "Quadratic": "models",
    "Wells": "models",
    "LinearRegression": "models",
    "SoftmaxRegression": "models",
    "MLP": "models",
    "make_model": "models",
    "run_fdr": "fdr",
    "run_adaptive": "fdr",
    "fdr2_eta_scan": "fdr",
    "run_linear_fdt": "linear",
    "run_ivf": "ivf",
    "run_escape": "escape",
    "run_occupation": "escape",
    "run_temperature": "temperature",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        mod = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
