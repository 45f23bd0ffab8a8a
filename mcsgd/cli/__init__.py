"""The ``mcsgd`` command line.

Each command group lives in its own module with a ``register(subparsers)`` function that only
builds argparse parsers (cheap to import) and sets ``func`` to a handler that converts the
options, makes one call into :mod:`mcsgd.experiments` (imported lazily; it validates, checks
memory and outputs, runs and writes) and prints the result or emits its JSON. Groups share only
:mod:`mcsgd.cli._common` and never import each other; the forbidden contract "cli is argparse
plus calls into experiments" in pyproject.toml keeps the engines, problems and storage layouts
out of reach. A handler returns the exit code. Bad input anywhere — argparse errors,
:class:`~mcsgd.errors.ParameterError` — prints one line ``mcsgd: error: ...`` on stderr and
exits with code 2, without a traceback and without leaving a partial output file.
"""

from __future__ import annotations

import importlib
import sys

from mcsgd.cli._common import ArgumentParser, UsageError, one_line_warning

# (module, attribute) of every command group's register function, in --help order.
_GROUPS = [
    ("mcsgd.cli.core", "register"),
    ("mcsgd.cli.calibrate", "register"),
    ("mcsgd.cli.reproduce", "register"),
    ("mcsgd.cli.scan", "register"),
    ("mcsgd.cli.infer", "register"),
    ("mcsgd.cli.recover", "register"),
    ("mcsgd.cli.continuous", "register"),
    ("mcsgd.cli.completion", "register"),
]


def build_parser() -> ArgumentParser:
    """The full parser with every command group registered."""
    from mcsgd import __version__

    p = ArgumentParser(
        prog="mcsgd",
        description="Metropolis Monte Carlo and SGD-like mini-batch dynamics: the temperature "
        "T(B) of a mini-batch.",
    )
    p.add_argument("--version", action="version", version=f"mcsgd {__version__}")
    # own dests: a subcommand's --quiet (dest "quiet") would overwrite a root option of that name
    v = p.add_mutually_exclusive_group()
    v.add_argument("-q", "--quiet", dest="log_quiet", action="store_true",
                   help="warnings and errors only: no progress bars or stage lines on stderr "
                   "(the same as a command's --quiet)")
    v.add_argument("-v", "--verbose", dest="log_verbose", action="store_true",
                   help="also debug lines on stderr")
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


def _configure_logging(args, argv: list[str]) -> None:
    """The ``mcsgd`` logger from the root -q/-v and a command's own --quiet (same meaning)."""
    from mcsgd.progress import LOGGER, configure

    quiet = getattr(args, "log_quiet", False) or getattr(args, "quiet", False)
    configure(-1 if quiet else (1 if getattr(args, "log_verbose", False) else 0))
    if quiet and hasattr(args, "quiet"):
        args.quiet = True  # the command's own --quiet (where it has one) follows the root -q
    LOGGER.debug("[mcsgd] command line: mcsgd %s", " ".join(argv))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mcsgd`` script; returns (and exits with) the exit code."""
    import warnings

    from mcsgd.errors import ParameterError

    parser = build_parser()
    prev_format = warnings.formatwarning
    # warnings (e.g. DisorderErrorWarning) read as one line, like errors
    warnings.formatwarning = one_line_warning
    try:
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        _configure_logging(args, sys.argv[1:] if argv is None else list(argv))
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
    finally:
        warnings.formatwarning = prev_format
    if argv is None:
        sys.exit(code)
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    main()
