"""CLI command ``recover`` (argparse plus a call into :mod:`mcsgd.experiments.recover`)."""

from __future__ import annotations

from mcsgd.cli._common import add_force_arg, float_list


def register(sub) -> None:
    """Add ``recover`` to the ``mcsgd`` subparsers."""
    r = sub.add_parser(
        "recover", help="recovery of a planted colouring: success and time-to-recovery",
        description="Run Metropolis at each T, or the SGD-like dynamics at each B, or an "
        "annealing schedule, from random starts on planted q-colourings; report the success "
        "probability and the distribution of the recovery time over instances x replicas.")
    r.add_argument("--q", type=int, default=5)
    r.add_argument("--c", type=float_list, required=True, help="mean degrees, e.g. 20,22,24")
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--B", type=float_list, help="SGD-like mini-batch fractions (list or range)")
    g.add_argument("--T", type=float_list, help="Metropolis temperatures (list or range)")
    g.add_argument("--anneal-T", type=float_list, metavar="START,STOP",
                   help="simulated annealing: T linear from START to STOP")
    g.add_argument("--anneal-B", type=float_list, metavar="START,STOP",
                   help="batch annealing: B linear from START to STOP")
    r.add_argument("--n", type=int, default=10000)
    r.add_argument("--graph", choices=["er", "er-simple", "regular"], default="er")
    r.add_argument("--planting", choices=["index", "shuffled"], default=None,
                   help="planted colours floor(i/(N/q)) (index, the reference code's) or a "
                   "shuffled balanced assignment (docs/recovery.md: the planted order leak); "
                   "default index")
    r.add_argument("--shuffle", action="store_true",
                   help="the same as --planting shuffled (kept for compatibility)")
    r.add_argument("--instances", type=int, default=2)
    r.add_argument("--replicas", type=int, default=2)
    r.add_argument("--sweeps", type=int, default=2000)
    r.add_argument("--threshold", type=float, default=0.5, help="overlap counted as recovery")
    r.add_argument("--check-every", type=int, default=None,
                   help="sweeps between overlap checks (default sweeps/500)")
    r.add_argument("--quench", type=int, default=0, help="final greedy sweeps (B = 1)")
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("-o", "--output", default=None, help="output HDF5 file")
    add_force_arg(r)
    r.add_argument("--json", action="store_true")
    r.add_argument("--plot", default=None, help="figure of success probability and t_rec")
    r.add_argument("--quiet", action="store_true")
    r.set_defaults(func=_recover)


def _settings(args):
    from mcsgd.dynamics import SGD, Metropolis
    from mcsgd.errors import ParameterError
    from mcsgd.experiments.recover import Anneal

    if args.B is not None:
        return [SGD(b) for b in args.B]
    if args.T is not None:
        return [Metropolis(t) for t in args.T]
    pair = args.anneal_T if args.anneal_T is not None else args.anneal_B
    if len(pair) != 2:
        raise ParameterError("--anneal-T/--anneal-B take exactly START,STOP")
    return [Anneal("T" if args.anneal_T is not None else "B", pair[0], pair[1])]


def _recover(args) -> int:
    from mcsgd.cli._common import emit_json, shuffle_from_args, stderr_say
    from mcsgd.errors import check_range
    from mcsgd.experiments.recover import instance_maker, recovery_scan
    from mcsgd.storage.recovery import public_rows, write_recovery

    check_range("q", args.q, 2, 127, integer=True)
    check_range("n", args.n, 2, None, integer=True)
    for c in args.c:
        check_range("c", c, 0, None)
    check_range("instances", args.instances, 1, None, integer=True)
    check_range("replicas", args.replicas, 1, None, integer=True)
    check_range("sweeps", args.sweeps, 1, None, integer=True)
    check_range("threshold", args.threshold, 0, 1, lo_open=True)
    check_range("seed", args.seed, 0, None, integer=True)
    if args.n % args.q:
        from mcsgd.errors import ParameterError

        raise ParameterError(f"n = {args.n} must be divisible by q = {args.q} (planted)")
    settings = _settings(args)
    if args.check_every is not None:
        check_range("check-every", args.check_every, 1, None, integer=True)
    check_range("quench", args.quench, 0, None, integer=True)
    from mcsgd import problems
    from mcsgd.problems.coloring import expected_edges, graph_memory_bytes
    from mcsgd.resources import check_memory, run_memory_bytes
    from mcsgd.storage.paths import check_output

    for c in args.c:
        problems.check_coloring_params(args.n, args.q, c, args.graph, True, 0)
        m = expected_edges(args.n, c, args.graph)
        check_memory(f"recover (N = {args.n}, M = {m}, {args.instances} x {args.replicas} "
                     "runs)", args.instances * graph_memory_bytes(args.n, m)
                     + run_memory_bytes(args.n, m, args.replicas, 40, True))
    check_output(args.output, option="-o", mcsgd_kind="recovery", force=args.force)
    check_output(args.plot, option="--plot", kind="plot")
    if args.plot:
        from mcsgd.plots import require_matplotlib

        require_matplotlib()
    say = stderr_say("recover", args.quiet or args.json)
    args.shuffle = shuffle_from_args(args)
    args.planting = "shuffled" if args.shuffle else "index"
    make = instance_maker(args.q, args.n, args.graph, args.shuffle, args.seed)
    rows = recovery_scan(make, args.c, settings, instances=args.instances,
                         replicas=args.replicas, sweeps=args.sweeps, seed=args.seed,
                         threshold=args.threshold, check_every=args.check_every,
                         quench=args.quench, progress=say)
    params = {k: v for k, v in vars(args).items() if k not in ("func",)}
    if args.output:
        write_recovery(args.output, rows, params)
    if args.plot:
        from mcsgd.plots import plot_recovery

        plot_recovery(rows, args.plot)
    if args.json:
        emit_json({"params": params, "rows": public_rows(rows)})
    else:
        for r in public_rows(rows):
            key = next(k for k in ("B", "T", "anneal") if k in r)
            print(f"c = {r['c']:g}  {key} = {r[key]}  success {r['success_probability']:.2f} "
                  f"[{r['success_ci'][0]:.2f}, {r['success_ci'][1]:.2f}]  t_rec median "
                  f"{r['t_rec_median']}  (q25 {r['t_rec_q25']}, q75 {r['t_rec_q75']})  "
                  f"final overlap {r['final_overlap_mean']:.3f}")
    return 0
