"""Argument checks shared by the theory modules: float64 arrays, ranges, scalars back out."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mcsgd.errors import ParameterError, check_range


def as_array(name: str, value: Any) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} = {value!r} is not a number or array of numbers") from None
    return arr


def check_array(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
) -> np.ndarray:
    """Float64 array of ``value``; raise :class:`ParameterError` naming the first bad element."""
    arr = as_array(name, value)
    flat = arr.ravel()
    bad = np.isnan(flat)
    if lo is not None:
        bad |= (flat < lo) | ((flat == lo) if lo_open else False)
    if hi is not None:
        bad |= (flat > hi) | ((flat == hi) if hi_open else False)
    if integer:
        with np.errstate(invalid="ignore"):
            bad |= np.isfinite(flat) & (flat != np.floor(flat))
        bad |= np.isinf(flat)
    if bad.any():
        v = float(flat[np.argmax(bad)])
        if integer and math.isfinite(v) and not float(v).is_integer():
            raise ParameterError(f"{name} = {v!r} must be an integer")
        check_range(name, v, lo, hi, lo_open=lo_open, hi_open=hi_open)
        raise ParameterError(f"{name} = {v!r} must be a finite integer")
    return arr


def scalar_out(arr: np.ndarray, like: Any) -> Any:
    """Return a Python float if every input was a scalar, else the array."""
    return float(arr) if np.ndim(like) == 0 and np.ndim(arr) == 0 else arr


def check_q(q: Any) -> int:
    check_range("q", q, 2, None, integer=True)
    return int(q)
