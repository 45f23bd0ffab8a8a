"""CLI command ``recover`` (argparse plus a call into :mod:`mcsgd.experiments.recover`)."""

from __future__ import annotations

from mcsgd.cli._common import add_force_arg, add_layout_arg, add_seed_arg, float_list, wrote


def register(sub) -> None:
    """Add ``recover`` to the ``mcsgd`` subparsers."""
    r = sub.add_parser(
        "recover", help="recovery of a planted colouring: success and time-to-recovery",
        description="Run Metropolis at each T, or the SGD-like dynamics at each B, or an "
        "annealing schedule, from random starts on planted q-colourings; report the success "
        "probability and the distribution of the recovery time over instances x replicas.")
    r.add_argument("--q", type=int, default=5, help="colours")
    r.add_argument("--c", type=float_list, required=True, help="mean degrees, e.g. 20,22,24")
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--B", type=float_list, help="SGD-like mini-batch fractions (list or range)")
    g.add_argument("--T", type=float_list, help="Metropolis temperatures (list or range)")
    g.add_argument("--anneal-T", type=float_list, metavar="START,STOP",
                   help="simulated annealing: T linear from START to STOP")
    g.add_argument("--anneal-B", type=float_list, metavar="START,STOP",
                   help="batch annealing: B linear from START to STOP")
    r.add_argument("--n", type=int, default=10000, help="nodes")
    r.add_argument("--graph", choices=["er", "er-simple", "regular"], default="er",
                   help="graph ensemble")
    r.add_argument("--planting", choices=["index", "shuffled"], default=None,
                   help="planted colours floor(i/(N/q)) (index, the reference code's) or a "
                   "shuffled balanced assignment (docs/recovery.md: the planted order leak); "
                   "default index")
    r.add_argument("--shuffle", action="store_true",
                   help="the same as --planting shuffled (kept for compatibility)")
    r.add_argument("--instances", type=int, default=2, help="instances per c")
    r.add_argument("--replicas", type=int, default=2, help="replicas per instance")
    r.add_argument("--sweeps", type=int, default=2000, help="sweeps per run")
    r.add_argument("--threshold", type=float, default=0.5, help="overlap counted as recovery")
    r.add_argument("--check-every", type=int, default=None,
                   help="sweeps between overlap checks (default sweeps/500)")
    r.add_argument("--quench", type=int, default=0, help="final greedy sweeps (B = 1)")
    add_seed_arg(r, "instance and dynamics seed")
    add_layout_arg(r, "the runs (every B or T, every replica)")
    r.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="output HDF5 file (default: none, nothing written)")
    add_force_arg(r)
    r.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    r.add_argument("--plot", default=None, metavar="FILE",
                   help="figure of success probability and t_rec (default: no figure)")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    r.add_argument("--save-states", action="store_true",
                   help="keep every run's final configuration in -o FILE (for 'run --init')")
    r.add_argument("--best", action="store_true",
                   help="name the fastest setting per c with its 95%% interval, or say that "
                   "the runs cannot rank them (JSON key 'best')")
    r.set_defaults(func=_recover)


def _t(x) -> str:
    """A recovery time in sweeps, or "–" where undefined (fewer runs recovered than the level)."""
    return "–" if x is None else f"{x:g}"


def _recover(args) -> int:
    from mcsgd.cli._common import emit_json, stderr_say
    from mcsgd.experiments.recover import run_recovery

    res = run_recovery(
        args.c, q=args.q, n=args.n, B=args.B, T=args.T, anneal_T=args.anneal_T,
        anneal_B=args.anneal_B, graph=args.graph, planting=args.planting, shuffle=args.shuffle,
        instances=args.instances, replicas=args.replicas, sweeps=args.sweeps,
        threshold=args.threshold, check_every=args.check_every, quench=args.quench,
        seed=args.seed, output=args.output, force=args.force, plot=args.plot,
        record={k: v for k, v in vars(args).items()
                if k not in ("func", "log_quiet", "log_verbose", "best", "layout")  # not results
                and not (k == "save_states" and not v)},
        progress=stderr_say("recover", args.quiet), save_states=args.save_states,
        layout=args.layout)
    wrote(args.output, quiet=args.quiet)
    wrote(args.plot, quiet=args.quiet)
    if args.json:
        emit_json({**res.to_json(), **({"best": res.best()} if args.best else {})})
    else:
        for r in res.public_rows():
            key = next(k for k in ("B", "T", "anneal") if k in r)
            print(f"c = {r['c']:g}  {key} = {r[key]}  success {r['success_probability']:.2f} "
                  f"[{r['success_ci'][0]:.2f}, {r['success_ci'][1]:.2f}]  t_rec median "
                  f"{_t(r['t_rec_median'])}  (q25 {_t(r['t_rec_q25'])}, "
                  f"q75 {_t(r['t_rec_q75'])})  "
                  f"final overlap {r['final_overlap_mean']:.3f}")
        if len(res.rows) > len(args.c):  # several values per c: can the runs rank them?
            from mcsgd.experiments.recover import format_ranking

            for rank in res.ranking():
                print(format_ranking(rank))
        if args.best:
            from mcsgd.experiments.recover import format_best

            print("\n".join(format_best(res.best())))
    return 0
