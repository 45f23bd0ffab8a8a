"""CLI commands ``generate``, ``run`` and ``demo`` (argparse only; heavy imports in handlers)."""

from __future__ import annotations

import argparse

from mcsgd.cli._common import add_force_arg, add_layout_arg, add_seed_arg, wrote


def register(sub) -> None:
    """Add the core commands to the ``mcsgd`` subparsers."""
    g = sub.add_parser("generate", help="generate a problem instance (HDF5)",
                       description="Generate a problem instance and write it to HDF5.")
    gs = g.add_subparsers(dest="kind", metavar="KIND", parser_class=type(g))
    gs.required = True

    c = gs.add_parser("coloring", help="planted or random q-colouring",
                      description="Planted or random q-colouring (antiferromagnetic Potts).")
    c.add_argument("--n", type=int, required=True, help="number of nodes N (>= 1)")
    c.add_argument("--q", type=int, required=True, help="number of colours (2..127)")
    c.add_argument("--c", type=float, required=True,
                   help="mean degree (ER) or degree (regular), >= 0")
    m = c.add_mutually_exclusive_group()
    m.add_argument("--planted", dest="planted", action="store_true", default=True,
                   help="plant a balanced colouring (default)")
    m.add_argument("--random", dest="planted", action="store_false",
                   help="unconstrained random graph")
    c.add_argument("--graph", choices=["er", "er-simple", "regular"], default="er",
                   help="er: reference ensemble with double edges; er-simple: no multi-edges; "
                   "regular: simple random regular graph (default: er)")
    c.add_argument("--shuffle", action="store_true",
                   help="shuffle the balanced planted assignment")
    add_seed_arg(c, "instance seed, a non-negative integer")
    c.add_argument("--instance", type=int, default=0, metavar="K",
                   help="instance index k (default 0): instance k of (these parameters, seed), "
                   "the same graph as calibrate/recover/scan instance k with that seed")
    c.add_argument("-o", "--output", required=True, metavar="FILE", help="output HDF5 file")
    add_force_arg(c)
    c.set_defaults(func=_generate_coloring)

    i = gs.add_parser("ising", help="planted Ising / spin glass or +-J spin glass",
                      description="Planted Ising (noise 0), planted spin glass (noise > 0), or "
                      "the unplanted +-J spin glass.")
    i.add_argument("--n", type=int, required=True, help="number of spins N (>= 2)")
    i.add_argument("--c", "--d", dest="d", type=float, required=True, metavar="C",
                   help="degree (regular) or mean degree (er); --d is an alias (the name of "
                   "this parameter in the instance file)")
    i.add_argument("--graph", choices=["regular", "er", "er-simple"], default="regular",
                   help="regular: simple random regular graph; er: with double edges; "
                   "er-simple: no multi-edges")
    m = i.add_mutually_exclusive_group()
    m.add_argument("--planted", dest="spin_glass", action="store_false", default=False,
                   help="planted couplings around a hidden s* (default)")
    m.add_argument("--spin-glass", dest="spin_glass", action="store_true",
                   help="unplanted +-J spin glass")
    i.add_argument("--noise", type=float, default=0.0,
                   help="flip probability of each planted coupling, in [0, 1] (default 0)")
    add_seed_arg(i, "instance seed, a non-negative integer")
    i.add_argument("--instance", type=int, default=0, metavar="K",
                   help="instance index k (default 0), as for 'generate coloring'")
    i.add_argument("-o", "--output", required=True, metavar="FILE", help="output HDF5 file")
    add_force_arg(i)
    i.set_defaults(func=_generate_ising)

    e = gs.add_parser("from-edges", help="instance from an edge-list file",
                      description="Instance from a text file with one 'i j' pair per line "
                      "(0-based; '#' comments; a third column gives Ising couplings).")
    e.add_argument("edges", help="edge-list file")
    e.add_argument("--q", type=int, default=2, help="number of colours (default 2)")
    e.add_argument("--problem", choices=["coloring", "ising"], default="coloring",
                   help="energy of the instance")
    e.add_argument("-o", "--output", required=True, metavar="FILE", help="output HDF5 file")
    add_force_arg(e)
    e.set_defaults(func=_generate_edges)

    r = sub.add_parser("run", help="run Metropolis or SGD-like dynamics on an instance",
                       description="Run Metropolis or SGD-like dynamics on an instance and "
                       "record energy, overlap and acceptance on a time grid.")
    r.add_argument("instance", help="instance HDF5 file (from 'mcsgd generate')")
    add_dynamics_args(r)
    r.add_argument("--sweeps", type=int, required=True, help="number of sweeps (>= 1)")
    r.add_argument("--replicas", type=int, default=None,
                   help="independent replicas (default 1; with --init FILE: the number of "
                   "stored configurations)")
    add_seed_arg(r, "root seed of the dynamics and initial conditions")
    r.add_argument("--init", default="random", metavar="random|planted|FILE[:DATASET]",
                   help="initial configurations: random (default), the planted solution, or "
                   "stored ones: a run file's final/state, a recovery file's "
                   "rows/NNNN/final_state ('recover --save-states'); one stored "
                   "configuration is broadcast to --replicas")
    r.add_argument("--grid", choices=["log", "linear"], default="log",
                   help="recording grid (default log)")
    r.add_argument("--grid-points", type=int, default=40, help="recording times")
    r.add_argument("--window", type=float, default=0.5,
                   help="final fraction of the run averaged for stationary values (default 0.5)")
    r.add_argument("--threads", type=int, default=None, help="numba threads (default: all)")
    add_layout_arg(r)
    r.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="output HDF5 file (default: none, nothing written)")
    add_force_arg(r)
    r.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    r.set_defaults(func=_run)

    d = sub.add_parser("demo", help="small end-to-end demo (planted 5-colouring, MC vs SGD)",
                       description="Generate a planted 5-colouring, run Metropolis and the "
                       "SGD-like dynamics on it, print a summary and write HDF5 files.")
    d.add_argument("--out", default="runs/demo", metavar="DIR",
                   help="output directory (default runs/demo)")
    d.add_argument("--n", type=int, default=20000, help="nodes")
    d.add_argument("--c", type=float, default=10.0, help="mean degree")
    d.add_argument("--sweeps", type=int, default=400, help="sweeps per run")
    add_seed_arg(d)
    d.add_argument("--force", action="store_true",
                   help="replace files in --out that are not results of an earlier demo")
    d.set_defaults(func=_demo)


def add_dynamics_args(p: argparse.ArgumentParser) -> None:
    """The options selecting a dynamics (shared by run-like commands)."""
    p.add_argument("--dynamics", choices=["metropolis", "sgd"], required=True,
                   help="Metropolis at temperature --T or SGD-like at mini-batch fraction --B")
    p.add_argument("--T", type=float, default=None,
                   help="temperature (metropolis), >= 0 (default: none; required there)")
    p.add_argument("--B", type=float, default=None,
                   help="mini-batch fraction (sgd), in (0, 1] (default: none; required there)")
    p.add_argument("--order", choices=["sequential", "random"], default="sequential",
                   help="site order (default sequential, the reference)")
    p.add_argument("--rule", choices=["metropolis", "heatbath"], default="metropolis",
                   help="metropolis only: acceptance rule")
    p.add_argument("--flags", choices=["halfedge", "edge"], default="halfedge",
                   help="sgd: one flag per half-edge (reference) or per undirected edge")
    p.add_argument("--tau", type=int, default=1, help="sgd: sweeps a mini-batch persists")
    p.add_argument("--batch", choices=["bernoulli", "fixed"], default="bernoulli",
                   help="sgd: Bernoulli(B) flags or exactly round(B M) edges")
    p.add_argument("--method", choices=["auto", "table", "flags"], default="auto",
                   help="sgd: exact P_acc table (reference only) or explicit flags")


def dynamics_from_args(args):
    """Build the dynamics spec from parsed options (ParameterError on conflicts)."""
    from mcsgd.dynamics import SGD, Metropolis
    from mcsgd.errors import ParameterError

    if args.dynamics == "metropolis":
        if args.T is None:
            raise ParameterError("--T is required with --dynamics metropolis (T >= 0)")
        if args.B is not None:
            raise ParameterError("--B applies to --dynamics sgd, not metropolis")
        return Metropolis(args.T, order=args.order, rule=args.rule)
    if args.B is None:
        raise ParameterError("--B is required with --dynamics sgd (B in (0, 1])")
    if args.T is not None:
        raise ParameterError("--T applies to --dynamics metropolis, not sgd")
    return SGD(args.B, flags=args.flags, tau=args.tau, batch=args.batch, order=args.order,
               method=args.method)


def _generate_coloring(args) -> int:
    from mcsgd.experiments.generate import generate_instance

    inst = generate_instance(
        {"problem": "coloring", "n": args.n, "q": args.q, "c": args.c, "planted": args.planted,
         "graph": args.graph, "shuffle": args.shuffle}, args.seed, args.instance, args.output,
        force=args.force)
    wrote(args.output, f"coloring N={inst.n} q={inst.q} M={inst.m} "
          f"mean degree {inst.mean_degree:.3f}")
    return 0


def _generate_ising(args) -> int:
    from mcsgd.experiments.generate import generate_instance

    inst = generate_instance(
        {"problem": "ising", "n": args.n, "d": args.d, "graph": args.graph,
         "planted": not args.spin_glass, "noise": args.noise}, args.seed, args.instance,
        args.output, force=args.force)
    wrote(args.output, f"ising N={inst.n} M={inst.m}")
    return 0


def _generate_edges(args) -> int:
    from mcsgd.experiments.generate import instance_from_edges

    inst = instance_from_edges(args.edges, args.output, q=args.q, problem=args.problem,
                               force=args.force)
    wrote(args.output, f"{inst.problem} N={inst.n} M={inst.m}")
    return 0


def _run(args) -> int:
    from mcsgd.cli._common import emit_json
    from mcsgd.experiments.run import run_instance_file, run_summary
    from mcsgd.progress import Progress

    dyn = dynamics_from_args(args)
    prog = Progress("run", quiet=args.quiet, unit="sweep")
    reps = "" if args.replicas is None else f" x {args.replicas} replica(s)"  # None: from --init
    prog.stage(f"{dyn.name}: {args.sweeps} sweeps{reps}", args.sweeps, defer=True)
    res = run_instance_file(args.instance, dyn, sweeps=args.sweeps, replicas=args.replicas,
                            seed=args.seed, init=args.init, grid=args.grid,
                            grid_points=args.grid_points, window=args.window,
                            threads=args.threads, output=args.output, force=args.force,
                            progress=prog, layout=args.layout)
    prog.close()
    summ = run_summary(res)
    wrote(args.output, quiet=args.quiet)
    if args.json:
        emit_json(summ)
    else:
        st = summ["stationary"]
        ov = "" if st["overlap"] is None else f"  final overlap {st['overlap']:.4f}"
        if st.get("overlaps_disagree"):  # a mean of distinct outcomes: show each replica
            ov += " (replicas disagree: " + ", ".join(
                f"{x:.3f}" for x in st["replica_overlaps"]) + ")"
        print(f"{dyn.name}: e = {st['energy']:.6f} +- {st['energy_err']:.6f} per node over "
              f"sweeps {st['window'][0]}..{st['window'][1]}{ov}  "
              f"({res.timing['ns_per_update']:.1f} ns/update)")
        tm = res.timing
        lanes = f" ({tm['lanes']} chains in one pass)" if tm["layout"] == "lanes" else ""
        print(f"layout {tm['layout']}{lanes}: {tm['ns_per_chain_update']:.1f} ns per "
              "chain-update")
    return 0


def _demo(args) -> int:
    from mcsgd.experiments.demo import demo
    from mcsgd.progress import Progress

    with Progress("demo", unit="sweep") as prog:
        demo(args.out, n=args.n, c=args.c, sweeps=args.sweeps, seed=args.seed,
             force=args.force, progress=prog)
    return 0
