"""CLI command ``calibrate`` (argparse plus a call into :mod:`mcsgd.experiments.calibrate`)."""

from __future__ import annotations

import sys

from mcsgd.cli._common import add_force_arg, add_seed_arg, float_list, wrote


def register(sub) -> None:
    """Add ``calibrate`` to the ``mcsgd`` subparsers."""
    c = sub.add_parser(
        "calibrate", help="measure the effective temperature T(B) of SGD-like dynamics",
        description="Run SGD-like dynamics at each B and Metropolis on an automatic T grid on "
        "the same instances; report T_eq, T_neq, T0, T_adb, T_drift with error bars.")
    c.add_argument("--problem", choices=["coloring", "ising"], default="coloring",
                   help="planted q-colouring or planted Ising / spin glass")
    c.add_argument("--q", type=int, default=5, help="colours (coloring), default 5")
    c.add_argument("--c", "--d", dest="c", type=float_list, default=None, metavar="C",
                   help="mean degree (er) or degree (regular), or a list (8,12) or range: one "
                   "output file, table and figure for all (layout: docs/formats.md); for "
                   "ising the degree (--d is an alias); no default: required, except with "
                   "--invert --from")
    c.add_argument("--n", type=int, default=50000, help="nodes (default 50000)")
    c.add_argument("--graph", choices=["er", "er-simple", "regular"], default=None,
                   help="graph ensemble (default: er for coloring, regular for ising)")
    c.add_argument("--noise", type=float, default=0.0,
                   help="ising: planted coupling noise (default 0)")
    c.add_argument("--unplanted", action="store_true",
                   help="random instead of planted instances")
    c.add_argument("--planting", choices=["index", "shuffled"], default=None,
                   help="coloring: planted colours floor(i/(N/q)) (index) or a shuffled "
                   "balanced assignment; default index")
    c.add_argument("--shuffle", action="store_true",
                   help="the same as --planting shuffled")
    c.add_argument("--B", type=float_list, default=None,
                   help="mini-batch fractions, e.g. 0.1,0.3,0.5 or 0.1:0.9:0.2 (no default: "
                   "required, except with --invert)")
    add_seed_arg(c, "instance and dynamics seed")
    c.add_argument("--mode", choices=["equilibrium", "relaxation", "both"], default="both",
                   help="T_eq from stationary energies, T_neq from relaxation curves, or both")
    c.add_argument("--instances", type=int, default=2, help="instances per c")
    c.add_argument("--replicas", type=int, default=4, help="replicas per instance")
    c.add_argument("--sweeps", type=int, default=1000, help="sweeps per run")
    c.add_argument("--window", type=float, default=0.5,
                   help="final fraction of the run averaged for stationary values")
    c.add_argument("--T-grid", type=float_list, default=None, dest="T_grid",
                   help="explicit Metropolis temperatures (default: automatic)")
    c.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    c.add_argument("--layout", choices=["auto", "scalar", "lanes"], default="auto",
                   help="how the runs of one instance advance: together in lanes (one pass "
                   "for every B, T and replica), one after the other (scalar), or auto "
                   "(lanes where they pay); the numbers are identical (default auto)")
    c.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="output HDF5 file (default: none, nothing written)")
    add_force_arg(c)
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    c.add_argument("--plot", default=None, metavar="FILE",
                   help="write the T(B) figure (every c) to this PNG (default: no figure)")
    c.add_argument("--quiet", action="store_true", help="no progress output")
    c.add_argument("--invert", default=None, metavar="T=VALUE",
                   help="which B gives this temperature: from --from FILE (interpolated "
                   "T_eq(B) with its error; every c of a multi-c file) or, without it, from the "
                   "ADB theory T_adb(B) for --problem/--q/--c (each c of a list)/--graph; runs "
                   "nothing (default: none, calibrate)")
    c.add_argument("--from", dest="from_file", default=None, metavar="FILE",
                   help="calibration file (calibrate -o) for --invert (default: none, the "
                   "theory)")
    c.set_defaults(func=_calibrate)


def _calibrate(args) -> int:
    from mcsgd.cli._common import emit_json, stderr_say
    from mcsgd.errors import ParameterError
    from mcsgd.experiments.calibrate import flag_warnings, format_table, run_calibration

    if args.invert is not None:
        return _invert(args)
    if args.from_file is not None:
        raise ParameterError("--from FILE applies to --invert only")
    if args.c is None:
        raise ParameterError("the following arguments are required: --c")
    if args.B is None:
        raise ParameterError("the following arguments are required: --B")

    cal = run_calibration(
        args.B, problem=args.problem, n=args.n, q=args.q, c=args.c, graph=args.graph,
        noise=args.noise, planted=not args.unplanted, planting=args.planting,
        shuffle=args.shuffle, instances=args.instances, replicas=args.replicas,
        sweeps=args.sweeps, seed=args.seed, mode=args.mode, T_grid=args.T_grid,
        window=args.window, threads=args.threads, output=args.output, force=args.force,
        plot=args.plot, progress=stderr_say("calibrate", args.quiet), layout=args.layout)
    cals = cal if isinstance(cal, list) else [cal]
    wrote(args.output, f"calibration of c = {', '.join(f'{x:g}' for x in args.c)}",
          quiet=args.quiet)
    wrote(args.plot, quiet=args.quiet)
    if args.json:
        emit_json(cal.to_json() if not isinstance(cal, list) else
                  {"c": list(args.c), "calibrations": [x.to_json() for x in cal]})
    else:
        print(format_table(cals, with_params=True))
    for line in flag_warnings(cals):  # also with --json and --quiet (stderr)
        print(f"mcsgd: warning: {line}", file=sys.stderr)
    return 0


def _invert(args) -> int:
    from mcsgd.cli._common import emit_json
    from mcsgd.experiments.calibrate import format_invert, run_invert

    res = run_invert(args.invert, source=args.from_file, problem=args.problem, q=args.q,
                     c=args.c, graph=args.graph, noise=args.noise)
    if args.json:
        emit_json(res if not isinstance(res, list) else
                  {"c": [r["problem"]["c"] for r in res], "inversions": res})
    else:
        for r in res if isinstance(res, list) else [res]:
            print(format_invert(r))
    return 0
