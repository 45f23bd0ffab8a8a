"""CLI command ``completion``: a shell-completion script generated from the parser (``shtab``).

``eval "$(mcsgd completion bash)"`` (or zsh) enables it for the current shell; the script is
built from the same argparse tree as ``--help``, so it cannot drift. ``shtab`` is an optional
dependency (``pip install mcsgd[completion]``); without it the command says how to get it.
"""

from __future__ import annotations

import sys

SHELLS = ("bash", "zsh", "tcsh")


def register(sub) -> None:
    """Add ``completion`` to the ``mcsgd`` subparsers."""
    p = sub.add_parser(
        "completion", help="print a shell-completion script (bash, zsh, tcsh; needs shtab)",
        description="Print a completion script generated from mcsgd's parser. Enable it with "
        "'eval \"$(mcsgd completion bash)\"' in ~/.bashrc (zsh: put the output of "
        "'mcsgd completion zsh' as _mcsgd in a directory of your $fpath). Needs the optional "
        "package shtab: pip install 'mcsgd[completion]'.")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete for")
    p.set_defaults(func=_completion)


def _completion(args) -> int:
    from mcsgd.cli import build_parser
    from mcsgd.cli._common import UsageError

    try:
        import shtab
    except ModuleNotFoundError:
        raise UsageError("completion needs the optional package shtab: "
                         "pip install 'mcsgd[completion]' (or pip install shtab)") from None
    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return 0
