"""The ``mcsgd`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function that only
builds argparse parsers (cheap to import) and sets ``func`` to a handler that imports the heavy
modules lazily. A handler returns the exit code. Bad input anywhere — argparse errors,
:class:`~mcsgd.errors.ParameterError` — prints one line ``mcsgd: error: ...`` on stderr and
exits with code 2, without a traceback and without leaving a partial output file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

# (module, attribute) of every command group's register function, in --help order.
_GROUPS = [
    ("mcsgd.cli_core", "register"),
    ("mcsgd.cli_calibrate", "register"),
    ("mcsgd.cli_scan", "register"),
    ("mcsgd.cli_infer", "register"),
    ("mcsgd.cli_recover", "register"),
    ("mcsgd.continuous.cli", "register"),
]


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class ArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise :class:`UsageError` (handled in :func:`main`)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def emit_json(obj: Any) -> None:
    """Print exactly one JSON object on stdout (NaN/inf as null)."""
    from .io import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(obj), allow_nan=False) + "\n")
    sys.stdout.flush()


def float_list(text: str) -> list[float]:
    """Parse ``"0.1,0.3"`` or a range ``"0.80:0.98:0.02"`` (inclusive end) into floats."""
    text = text.strip()
    try:
        if ":" in text:
            parts = [float(x) for x in text.split(":")]
            if len(parts) != 3 or parts[2] <= 0:
                raise ValueError
            start, stop, step = parts
            n = int(round((stop - start) / step)) + 1
            if n < 1:
                raise ValueError
            return [round(start + k * step, 12) for k in range(n)]
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of numbers or a range START:STOP:STEP"
        ) from None


def build_parser() -> ArgumentParser:
    """The full parser with every command group registered."""
    from . import __version__

    p = ArgumentParser(
        prog="mcsgd",
        description="Metropolis Monte Carlo and SGD-like mini-batch dynamics: the temperature "
        "T(B) of a mini-batch.",
    )
    p.add_argument("--version", action="version", version=f"mcsgd {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for mod, attr in _GROUPS:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:  # a group not built yet in this checkout
            if e.name == mod:
                continue
            raise
        getattr(m, attr)(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mcsgd`` script; returns (and exits with) the exit code."""
    from .errors import ParameterError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
    except BrokenPipeError:  # the reader went away (e.g. `mcsgd ... | head -1`): no traceback
        import os

        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        code = 141  # 128 + SIGPIPE, as a shell reports a process killed by SIGPIPE
    except (UsageError, ParameterError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"mcsgd: error: {msg}", file=sys.stderr)
        code = 2
    except KeyboardInterrupt:
        print("mcsgd: interrupted", file=sys.stderr)
        code = 130
    if argv is None:
        sys.exit(code)
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
