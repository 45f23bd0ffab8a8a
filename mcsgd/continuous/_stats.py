"""Small statistics helpers: errors from independent chains (jackknife), weighted line fits."""

from __future__ import annotations

import numpy as np


def mean_err(x: np.ndarray) -> tuple[float, float]:
    """Mean over independent chains (axis 0) and its standard error."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    m = float(np.mean(x))
    return m, float(np.std(x, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")


def ratio_jackknife(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """ΣA/ΣB over chains and its leave-one-chain-out jackknife standard error."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    n = a.size
    r = float(a.sum() / b.sum())
    if n < 2:
        return r, float("nan")
    rj = (a.sum() - a) / (b.sum() - b)
    return r, float(np.sqrt((n - 1) / n * np.sum((rj - rj.mean()) ** 2)))


def linfit(x: np.ndarray, y: np.ndarray, yerr: np.ndarray | None = None) -> tuple:
    """Weighted least-squares line y = a + b x.

    Returns (a, b, a_err, b_err). With ``yerr`` the errors come from the weights (scaled up by
    sqrt(χ²/dof) when χ²/dof > 1); without, from the residual scatter.
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    n = x.size
    if n < 2:
        return float("nan"), float("nan"), float("nan"), float("nan")
    w = np.ones(n) if yerr is None else 1.0 / np.maximum(np.asarray(yerr, float), 1e-300) ** 2
    A = np.vstack([np.ones(n), x]).T
    Aw = A * w[:, None]
    cov = np.linalg.inv(A.T @ Aw)
    coef = cov @ (Aw.T @ y)
    res = y - A @ coef
    dof = max(n - 2, 1)
    chi2 = float(np.sum(w * res**2))
    if yerr is None:
        cov = cov * chi2 / dof if n > 2 else cov * np.nan
    elif chi2 / dof > 1:
        cov = cov * chi2 / dof
    return float(coef[0]), float(coef[1]), float(np.sqrt(cov[0, 0])), float(np.sqrt(cov[1, 1]))


def polyfit_err(x: np.ndarray, y: np.ndarray, yerr: np.ndarray, deg: int) -> tuple:
    """Weighted polynomial fit; returns (coefficients low→high, their standard errors)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    w = 1.0 / np.maximum(np.asarray(yerr, float), 1e-300) ** 2
    A = np.vander(x, deg + 1, increasing=True)
    Aw = A * w[:, None]
    cov = np.linalg.inv(A.T @ Aw)
    coef = cov @ (Aw.T @ y)
    dof = x.size - deg - 1
    if dof > 0:
        chi2 = float(np.sum(w * (y - A @ coef) ** 2))
        cov = cov * max(1.0, chi2 / dof)
    return coef, np.sqrt(np.diag(cov))
