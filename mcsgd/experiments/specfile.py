"""The one TOML loader of mcsgd's spec files (scan files, ``reproduce tb-curve|recovery`` specs).

Reading, parsing and value checks share one standard: every error is a one-line
:class:`~mcsgd.errors.ParameterError` that names the place of the bad value in the file, as
``<path>: <what is wrong>``, e.g. ``dynamics[1].B: 1.5 is not in (0, 1]`` or
``experiment.sweeps: 'x' is not a number``. Paths are dotted table keys, with ``[i]`` for the
i-th element of an array (numbered from 0). A loader may prefix the file's name
(:func:`in_file`).

The checkers validate and return the value; :func:`num` returns it normalised (``int`` for
integers, else ``float``), the others return it unchanged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from mcsgd.errors import ParameterError


def fmt(v: Any) -> str:
    """A value as it reads in a message (strings quoted, TOML booleans, whole floats as ints)."""
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return str(v)


def err(path: str, msg: str) -> ParameterError:
    """The error ``<path>: <msg>`` (raise it)."""
    return ParameterError(f"{path}: {msg}")


def at_key(path: str, keys: Any, e: ParameterError) -> ParameterError:
    """A validator's error ``<key> = <what>`` placed at ``<path>.<key>`` when ``key`` is one of
    ``keys`` (the table's keys), else at ``<path>`` (raise it)."""
    msg = str(e)
    head, sep, rest = msg.partition(" = ")
    if sep and head in keys:
        return err(f"{path}.{head}", rest)
    return err(path, msg)


def in_file(name: str, e: ParameterError) -> ParameterError:
    """``e`` with the file's ``name`` in front: ``<name>: <path>: <what is wrong>``."""
    return ParameterError(f"{name}: {e}")


def is_num(v: Any) -> bool:
    """A TOML number (int or float, not a boolean)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def num(path: str, v: Any, lo: float | None = None, hi: float | None = None, *,
        lo_open: bool = False, hi_open: bool = False, integer: bool = False) -> float | int:
    """A finite number in the interval ``[lo, hi]`` (ends open on request); ``int`` if
    ``integer`` (a whole float is accepted), else ``float``."""
    if not is_num(v) or (isinstance(v, float) and math.isnan(v)):
        raise err(path, f"{fmt(v)} is not a number")
    if isinstance(v, float) and math.isinf(v):
        raise err(path, f"{fmt(v)} is not finite")
    if integer and not float(v).is_integer():
        raise err(path, f"{fmt(v)} must be an integer")
    bad = (lo is not None and (v < lo or (lo_open and v == lo))) or (
        hi is not None and (v > hi or (hi_open and v == hi)))
    if bad:
        left = "(" if lo_open or lo is None else "["
        right = ")" if hi_open or hi is None else "]"
        lo_s = "-inf" if lo is None else fmt(lo)
        hi_s = "inf" if hi is None else fmt(hi)
        raise err(path, f"{fmt(v)} is not in {left}{lo_s}, {hi_s}{right}")
    return int(v) if integer else float(v)


def choice(path: str, v: Any, choices: Iterable[str]) -> str:
    """One of ``choices``."""
    choices = tuple(choices)
    if v not in choices:
        raise err(path, f"{fmt(v)} is not one of {', '.join(map(repr, choices))}")
    return v


def boolean(path: str, v: Any) -> bool:
    """A TOML boolean."""
    if not isinstance(v, bool):
        raise err(path, f"{fmt(v)} is not a boolean (true or false)")
    return v


def string(path: str, v: Any) -> str:
    """A TOML string."""
    if not isinstance(v, str):
        raise err(path, f"{fmt(v)} is not a string")
    return v


def table(path: str, v: Any) -> dict[str, Any]:
    """A TOML table."""
    if not isinstance(v, dict):
        raise err(path, "must be a table")
    return v


def check_keys(path: str, tbl: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Refuse a key of ``tbl`` not in ``allowed`` (the error lists the allowed keys)."""
    allowed = set(allowed)
    for k in tbl:
        if k not in allowed:
            raise err(f"{path}.{k}" if path else k,
                      f"unknown key; allowed: {', '.join(sorted(allowed))}")


def array(path: str, v: Any, check: Callable[[str, Any], Any], *, length: int | None = None
          ) -> list:
    """A non-empty TOML array (of exactly ``length`` elements if given), each element checked
    by ``check(f"{path}[i]", element)``; returns the array unchanged."""
    if not isinstance(v, list) or not v:
        raise err(path, f"{fmt(v)} must be a non-empty array, e.g. [1, 2]")
    if length is not None and len(v) != length:
        raise err(path, f"{fmt(v)} must have exactly {length} elements")
    for i, x in enumerate(v):
        check(f"{path}[{i}]", x)
    return v


def check_table(path: str, tbl: Any, schema: Mapping[str, Callable[[str, Any], Any]],
                required: Iterable[str] = ()) -> dict[str, Any]:
    """Check a table against ``schema`` (key -> checker ``f(path, value)``): unknown keys and
    missing ``required`` keys are errors; returns the table unchanged (a copy)."""
    t = table(path, tbl)
    check_keys(path, t, schema)
    for k in required:
        if k not in t:
            raise err(f"{path}.{k}" if path else k, "missing")
    for k, v in t.items():
        schema[k](f"{path}.{k}" if path else k, v)
    return dict(t)


def parse_toml(text: str, path: str = "<spec>") -> dict[str, Any]:
    """Parse TOML text; a syntax error becomes ``<path>: invalid TOML: ...``."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise ParameterError("reading spec files on Python 3.10 needs 'pip install tomli'")\
                from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"{path}: invalid TOML: {e}") from None


def read_text(path: str | os.PathLike, what: str = "spec file") -> str:
    """The text of a spec file; a missing or unreadable file is a one-line error."""
    p = Path(path)
    if not p.is_file():
        raise ParameterError(f"{what} {str(p)!r} does not exist")
    try:
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ParameterError(f"{what} {str(p)!r} is not readable: {e}") from None


def read_resource(name: str) -> str:
    """The text of a spec file embedded in the package (``mcsgd/data/<name>``)."""
    from importlib import resources

    return resources.files("mcsgd").joinpath(f"data/{name}").read_text(encoding="utf-8")
