"""Errors raised by mcsgd for bad user input.

Every public entry point validates its arguments *before* any numba kernel runs and raises
:class:`ParameterError` naming the parameter and the allowed range. The CLI turns it into a
one-line message and exit code 2.
"""

from __future__ import annotations

import numbers


class ParameterError(ValueError):
    """A user-supplied parameter is outside its allowed range or of the wrong kind."""


class FileFormatError(ParameterError):
    """A file is unreadable, truncated, or not an mcsgd file of the expected kind."""


# below this many instances the instance-to-instance (disorder) part of an error is unreliable
MIN_DISORDER_INSTANCES = 4


class DisorderErrorWarning(UserWarning):
    """Too few instances for a reliable instance-to-instance (disorder) error estimate."""


def check_range(
    name: str,
    value: float,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    integer: bool = False,
    allow_inf: bool = False,
) -> None:
    """Raise :class:`ParameterError` unless ``lo (<|<=) value (<|<=) hi``.

    The message names the parameter and the allowed interval, e.g.
    ``B = 1.5 is not in (0, 1]``. NaN is always rejected; ``+-inf`` is rejected unless
    ``allow_inf`` (a limit that means something, e.g. T = inf: accept every move), even when
    the interval is unbounded on that side.
    """
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name} = {value!r} is not a number") from None
    if integer and (isinstance(value, bool) or not v.is_integer()):
        raise ParameterError(f"{name} = {value!r} must be an integer")
    if v != v:
        raise ParameterError(f"{name} is NaN")
    if not allow_inf and v in (float("inf"), float("-inf")):
        raise ParameterError(f"{name} = {v!r} is not finite (must be a finite number)")
    # integers compare exactly (float(2**64 - 1) would round up to 2**64)
    x: float | int = v
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        x = int(value)
    bad = False
    if lo is not None and (x < lo or (lo_open and x == lo)):
        bad = True
    if hi is not None and (x > hi or (hi_open and x == hi)):
        bad = True
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else _fmt(lo)
        hi_s = "inf" if hi is None else _fmt(hi)
        if lo is None:
            left = "("
        if hi is None:
            right = ")"
        raise ParameterError(f"{name} = {_fmt(value)} is not in {left}{lo_s}, {hi_s}{right}")


def check_choice(name: str, value: str, choices: tuple[str, ...] | list[str]) -> None:
    """Raise :class:`ParameterError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ParameterError(f"{name} = {value!r} is not one of {', '.join(map(repr, choices))}")


def _fmt(x: float) -> str:
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        return str(int(x))
    try:
        f = float(x)
    except (TypeError, ValueError):
        return repr(x)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


def require_extra(module: str, extra: str, what: str):
    """Import and return the optional ``module``, or raise ImportError naming the pip extra
    that installs it (``what`` says which feature needs it, e.g. ``"RunResult.to_xarray()"``)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{what} needs {module}: pip install 'mcsgd[{extra}]'") from None
