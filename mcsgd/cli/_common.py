"""Helpers shared by the command groups of :mod:`mcsgd.cli` (argparse types, output checks).

Cheap to import: the standard library only at module level.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from typing import Any

# relative tolerance (in units of STEP) within which a range hits its STOP
_RANGE_TOL = 1e-9
# most values a START:STOP:STEP range may expand to (counted before expanding); the environment
# variable MCSGD_MAX_RANGE_POINTS overrides it
MAX_RANGE_POINTS = 10_000


# the one default of every --seed option (README, "One vocabulary across commands")
DEFAULT_SEED = 1


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class HelpFormatter(argparse.HelpFormatter):
    """Shows every option's default: appends ``(default: X)`` to a help text that does not
    already state its default (flags, required options and ``None`` defaults excepted)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if ("default" in text.lower() or not action.option_strings or action.required
                or action.default in (None, argparse.SUPPRESS)
                or isinstance(action.default, bool) or action.nargs == 0):
            return text
        return f"{text} (default: %(default)s)" if text else "default: %(default)s"


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` (handled in :func:`main`)
    and whose help shows every option's default (:class:`HelpFormatter`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # type: ignore[override]
        # main() prints "mcsgd: error: ..."; name the subcommand once, not "mcsgd" twice
        sub = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        raise UsageError(f"{sub}: {message}" if sub else message)


def emit_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout (NaN/inf as null)."""
    from mcsgd.storage.h5 import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(obj), allow_nan=False) + "\n")
    sys.stdout.flush()


class RangeError(ValueError):
    """A malformed or too long START:STOP:STEP range (its message names the problem)."""


def parse_range(text: str) -> list[float]:
    """Expand ``"START:STOP:STEP"`` into floats ``START, START ± STEP, ...`` up to STOP.

    STOP is included only when it is hit within a tolerance (1e-9 of STEP), never overshot:
    ``0.5:1.0:0.3`` gives ``[0.5, 0.8]``. STOP < START gives a descending range (STEP may be
    given positive, as a magnitude, or negative); START == STOP gives one value. Values are
    rounded to 12 decimals so that ``0.80:0.98:0.02`` yields ``0.98`` exactly. Raises
    :class:`RangeError` (a ValueError) on a malformed range (not three numbers, STEP zero or
    not finite, or a negative STEP with STOP > START), and on one of more than
    :data:`MAX_RANGE_POINTS` values (counted before anything is expanded).
    """
    parts = [float(x) for x in text.split(":")]
    if len(parts) != 3 or not all(math.isfinite(x) for x in parts):
        raise RangeError(f"{text!r}: a range is START:STOP:STEP with three finite numbers")
    start, stop, step = parts
    if step == 0:
        raise RangeError(f"{text!r}: STEP must not be 0")
    span = stop - start
    if step < 0 and span > 0:
        raise RangeError(f"{text!r}: STEP < 0 needs STOP < START")
    step = math.copysign(abs(step), span) if span else abs(step)
    count = math.floor(abs(span) / abs(step) + _RANGE_TOL)  # whole steps (before expanding)
    limit = max_range_points()
    if count + 1 > limit:
        raise RangeError(f"{text!r} expands to {count + 1:.3g} values, more than the limit "
                         f"{limit} (a coarser STEP, or MCSGD_MAX_RANGE_POINTS to raise it)")
    n = int(count)
    vals = [round(start + k * step, 12) for k in range(n + 1)]
    if abs(start + n * step - stop) <= _RANGE_TOL * abs(step):
        vals[-1] = stop
    return vals


def max_range_points() -> int:
    """The range-expansion limit: ``MCSGD_MAX_RANGE_POINTS`` if set, else MAX_RANGE_POINTS."""
    import os

    v = os.environ.get("MCSGD_MAX_RANGE_POINTS")
    if v is None:
        return MAX_RANGE_POINTS
    try:
        return max(1, int(v))
    except ValueError:
        raise RangeError(f"MCSGD_MAX_RANGE_POINTS = {v!r} is not an integer") from None


def float_list(text: str) -> list[float]:
    """Parse ``"0.1,0.3"`` or a range ``"0.80:0.98:0.02"`` (see :func:`parse_range`) into floats."""
    text = text.strip()
    try:
        if ":" in text:
            return parse_range(text)
        return [float(x) for x in text.split(",") if x.strip()]
    except RangeError as e:  # a malformed or too long range: its own message
        raise argparse.ArgumentTypeError(str(e)) from None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers or a range START:STOP:STEP "
            "(STOP included when hit, never overshot)"
        ) from None


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """``mcsgd: warning: <first line>`` (the CLI's form of a Python warning)."""
    text = str(message).splitlines()[0] if str(message) else category.__name__
    return f"mcsgd: warning: {text}\n"


def add_seed_arg(p: Any, help: str = "root seed, a non-negative integer") -> None:
    """``--seed``: the same option with the same default (:data:`DEFAULT_SEED`) everywhere."""
    p.add_argument("--seed", type=int, default=DEFAULT_SEED,
                   help=f"{help} (default {DEFAULT_SEED})")


class DeprecatedAlias(argparse.Action):
    """Store like ``store`` and, when given as ``deprecated``, print one line
    ``mcsgd: warning: --OLD is deprecated ...; use --NEW`` on stderr."""

    def __init__(self, option_strings: list[str], dest: str, *, deprecated: str = "",
                 **kwargs: Any) -> None:
        self.deprecated = deprecated
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # type: ignore[override]
        if option_string == self.deprecated:
            print(f"mcsgd: warning: {option_string} is deprecated in '{parser.prog}', use "
                  f"{self.option_strings[0]} (same meaning)", file=sys.stderr)
        setattr(namespace, self.dest, values)


# the memory layouts of the chains (mcsgd.driver.LAYOUTS; repeated here to keep the CLI cheap to
# import, tests/cli/test_cli.py checks that they agree)
LAYOUT_CHOICES = ("auto", "scalar", "lanes")


def add_layout_arg(p: argparse.ArgumentParser, what: str = "the replicas") -> None:
    """``--layout {auto,scalar,lanes}``: how the chains advance (speed only, never results)."""
    p.add_argument("--layout", choices=LAYOUT_CHOICES, default="auto",
                   help=f"how {what} of one instance advance: side by side in one pass "
                   "(lanes), one after the other (scalar), or auto (lanes where they pay); "
                   "the numbers are identical (default auto)")


def wrote(path: str | None, what: str = "", quiet: bool = False) -> None:
    """``wrote PATH`` (or ``wrote PATH: what``) on stderr after a command wrote a file
    (nothing with ``quiet``: the command's ``--quiet``, nor with the root ``-q``)."""
    import logging

    from mcsgd.progress import LOGGER

    if path and not quiet and not LOGGER.level > logging.INFO:
        print(f"wrote {path}" + (f": {what}" if what else ""), file=sys.stderr)


def add_force_arg(p: argparse.ArgumentParser) -> None:
    """``--force``: allow -o to replace an existing file that is not a previous result."""
    p.add_argument("--force", action="store_true",
                   help="let -o replace an existing file that is not a previous result of "
                   "this command (never an input)")


def stderr_say(prefix: str, quiet: bool) -> Callable[..., None]:
    """A progress callback (a :class:`mcsgd.progress.Progress`): ``[prefix] msg`` stage lines
    and bars on stderr (nothing if ``quiet`` or the root ``-q``)."""
    from mcsgd.progress import Progress

    return Progress(prefix, quiet=quiet, unit="sweep")


def note(msg: str) -> None:
    """``mcsgd: note: msg`` on stderr (a remark, not an error)."""
    print(f"mcsgd: note: {msg}", file=sys.stderr)
