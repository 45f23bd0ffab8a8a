"""CLI group ``mcsgd reproduce tb-curve|recovery`` (argparse plus a call into
:mod:`mcsgd.experiments.reproduce`)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    """Add ``reproduce`` and its experiments to the ``mcsgd`` subparsers."""
    r = sub.add_parser("reproduce", help="reproduce the paper's figures with one command",
                       description="Reproduce an experiment from its spec file.")
    rs = r.add_subparsers(dest="what", metavar="EXPERIMENT", parser_class=type(r))
    rs.required = True
    t = rs.add_parser(
        "tb-curve", help="the temperature-batch-size curve T(B) for several c",
        description="Calibrate T(B) for every c of the spec (default: the embedded "
        "mcsgd/data/tb_curve.toml; --print-spec shows it), then write the table and the figures.")
    t.add_argument("--quick", action="store_true",
                   help="the [quick] overrides (a few minutes on 2 cores)")
    t.add_argument("--spec", default=None, help="spec TOML (default: the embedded one)")
    t.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: from the spec)")
    t.add_argument("--c-index", type=int, default=None,
                   help="calibrate only the i-th c (for cluster array jobs); no figure "
                   "(default: every c)")
    t.add_argument("--print-spec", action="store_true", help="print the spec and exit")
    t.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    t.add_argument("--layout", choices=["auto", "scalar", "lanes"], default="auto",
                   help="runs of one instance together in lanes, one after the other "
                   "(scalar), or auto; identical numbers (default auto)")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.set_defaults(func=_tb_curve)

    p = rs.add_parser(
        "recovery", help="recovery windows, optimal batch size, annealing, BP reference",
        description="Run the recovery experiment of the spec (default: the embedded "
        "mcsgd/data/recovery.toml; --print-spec shows it) and write the table and the figure.")
    p.add_argument("--quick", action="store_true", help="the [quick] overrides")
    p.add_argument("--spec", default=None, help="spec TOML (default: the embedded one)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: from the spec)")
    p.add_argument("--print-spec", action="store_true", help="print the spec and exit")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=_recovery)


def _tb_curve(args) -> int:
    from mcsgd.cli._common import note, stderr_say
    from mcsgd.errors import ParameterError
    from mcsgd.experiments import reproduce as rp
    from mcsgd.experiments.calibrate import flag_warnings, format_table

    if args.print_spec:
        sys.stdout.write(rp.spec_text(args.spec, rp.TB_CURVE_RESOURCE))
        return 0
    spec = rp.load_tb_curve_spec(args.spec, args.quick)
    out = args.out or spec["experiment"].get("out", "runs/out/tb_curve")
    cals = rp.reproduce_tb_curve(spec, out, c_index=args.c_index, threads=args.threads,
                                 layout=args.layout,
                                 progress=stderr_say("tb-curve", args.quiet), note=note)
    if cals is None:
        print(f"results in {out}/", file=sys.stderr)
        return 0
    print(format_table(cals, with_params=True))
    try:
        rp.tb_curve_figures(cals, out)
        print(f"figures: {out}/tb_curve.png, {out}/relaxation_c*.png", file=sys.stderr)
    except ParameterError as e:
        note(f"{e}; table written, figures skipped")
    print(f"table: {out}/tb_table.md", file=sys.stderr)
    for line in flag_warnings(cals):  # also with --quiet (stderr)
        print(f"mcsgd: warning: {line}", file=sys.stderr)
    print(f"results in {out}/", file=sys.stderr)
    return 0


def _recovery(args) -> int:
    from mcsgd.cli._common import note, stderr_say
    from mcsgd.errors import ParameterError
    from mcsgd.experiments import reproduce as rp

    if args.print_spec:
        sys.stdout.write(rp.spec_text(args.spec, rp.RECOVERY_RESOURCE))
        return 0
    spec = rp.load_recovery_spec(args.spec, args.quick)
    out = args.out or spec["experiment"].get("out", "runs/out/recovery")
    say = stderr_say("recovery", args.quiet)
    result = rp.reproduce_recovery(spec, out, quick=args.quick, progress=say)
    print(rp.format_recovery(result))
    try:
        rp.recovery_figure(result, out)
        say(f"figure: {out}/recovery.png")
    except ParameterError as e:
        note(f"{e}; figure skipped")
    print(f"results in {out}/", file=sys.stderr)
    return 0
