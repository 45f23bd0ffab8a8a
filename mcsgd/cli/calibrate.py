"""CLI commands ``calibrate`` and ``reproduce`` (argparse only; heavy imports in handlers)."""

from __future__ import annotations

import os
import sys

from mcsgd.cli.core import add_force_arg


def register(sub) -> None:
    """Add ``calibrate`` and ``reproduce`` to the ``mcsgd`` subparsers."""
    from mcsgd.cli import float_list

    c = sub.add_parser(
        "calibrate", help="measure the effective temperature T(B) of SGD-like dynamics",
        description="Run SGD-like dynamics at each B and Metropolis on an automatic T grid on "
        "the same instances; report T_eq, T_neq, T0, T_adb, T_drift with error bars.")
    c.add_argument("--problem", choices=["coloring", "ising"], default="coloring")
    c.add_argument("--q", type=int, default=5, help="colours (coloring), default 5")
    c.add_argument("--c", type=float, required=True,
                   help="mean degree (er) or degree (regular); for ising the degree d")
    c.add_argument("--n", type=int, default=50000, help="nodes (default 50000)")
    c.add_argument("--graph", choices=["er", "er-simple", "regular"], default=None,
                   help="graph ensemble (default: er for coloring, regular for ising)")
    c.add_argument("--noise", type=float, default=0.0, help="ising: planted coupling noise")
    c.add_argument("--unplanted", action="store_true",
                   help="random instead of planted instances")
    c.add_argument("--planting", choices=["index", "shuffled"], default=None,
                   help="coloring: planted colours floor(i/(N/q)) (index) or a shuffled "
                   "balanced assignment; default index")
    c.add_argument("--shuffle", action="store_true",
                   help="the same as --planting shuffled")
    c.add_argument("--B", type=float_list, required=True,
                   help="mini-batch fractions, e.g. 0.1,0.3,0.5 or 0.1:0.9:0.2")
    c.add_argument("--seed", type=int, default=1)
    c.add_argument("--mode", choices=["equilibrium", "relaxation", "both"], default="both")
    c.add_argument("--instances", type=int, default=2)
    c.add_argument("--replicas", type=int, default=4)
    c.add_argument("--sweeps", type=int, default=1000)
    c.add_argument("--window", type=float, default=0.5)
    c.add_argument("--T-grid", type=float_list, default=None, dest="T_grid",
                   help="explicit Metropolis temperatures (default: automatic)")
    c.add_argument("--threads", type=int, default=None)
    c.add_argument("-o", "--output", default=None, help="output HDF5 file")
    add_force_arg(c)
    c.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    c.add_argument("--plot", default=None, help="write the T(B) figure to this PNG")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=_calibrate)

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
    t.add_argument("--out", default=None, help="output directory (default: from the spec)")
    t.add_argument("--c-index", type=int, default=None,
                   help="calibrate only the i-th c (for cluster array jobs); no figure")
    t.add_argument("--print-spec", action="store_true", help="print the spec and exit")
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_reproduce_tb)
    try:
        from mcsgd.cli.recover import register_reproduce
    except ImportError:
        return
    register_reproduce(rs)


def _problem_from_args(args):
    from mcsgd.cli.recover import shuffle_from_args
    from mcsgd.errors import check_range
    from mcsgd.experiments.calibrate import Problem

    check_range("n", args.n, 2, None, integer=True)
    graph = args.graph or ("er" if args.problem == "coloring" else "regular")
    return Problem(problem=args.problem, n=args.n, q=args.q, c=args.c, graph=graph,
                   planted=not args.unplanted, noise=args.noise,
                   shuffle=shuffle_from_args(args))


def _say(quiet):
    def say(msg):
        if not quiet:
            print(f"[calibrate] {msg}", file=sys.stderr, flush=True)

    return say


def _calibrate(args) -> int:
    from mcsgd.cli import emit_json
    from mcsgd.dynamics import SGD
    from mcsgd.errors import ParameterError, check_range
    from mcsgd.experiments.calibrate import calibrate

    prob = _problem_from_args(args)
    if not args.B:
        raise ParameterError("--B needs at least one value in (0, 1]")
    targets = [SGD(b) for b in args.B]
    check_range("window", args.window, 0, 1, lo_open=True, hi_open=True)
    check_range("instances", args.instances, 1, None, integer=True)
    check_range("replicas", args.replicas, 1, None, integer=True)
    check_range("sweeps", args.sweeps, 4, None, integer=True)
    check_range("seed", args.seed, 0, None, integer=True)
    if args.threads is not None:
        check_range("threads", args.threads, 1, None, integer=True)
    if args.T_grid is not None:
        if not args.T_grid:
            raise ParameterError("--T-grid needs at least one temperature > 0")
        for t in args.T_grid:
            check_range("T-grid", t, 0, None, lo_open=True)
    from mcsgd.problems.coloring import expected_edges, graph_memory_bytes
    from mcsgd.resources import check_memory, run_memory_bytes
    from mcsgd.storage.paths import check_output

    m = expected_edges(prob.n, prob.c, prob.graph)
    check_memory(f"calibrate ({args.instances} instances of N = {prob.n}, M = {m}, "
                 f"{args.replicas} replicas)",
                 args.instances * graph_memory_bytes(prob.n, m)
                 + run_memory_bytes(prob.n, m, args.replicas, 40, True))
    check_output(args.output, option="-o", mcsgd_kind="calibration", force=args.force)
    check_output(args.plot, option="--plot", kind="plot")
    if args.plot:
        from mcsgd.plots import require_matplotlib

        require_matplotlib()
    cal = calibrate(prob, targets, instances=args.instances, replicas=args.replicas,
                    sweeps=args.sweeps, seed=args.seed, mode=args.mode, T_grid=args.T_grid,
                    window=args.window, threads=args.threads,
                    progress=_say(args.quiet or args.json))
    if args.output:
        cal.save(args.output)
    if args.plot:
        from mcsgd.plots import plot_tb

        plot_tb([cal], args.plot)
    if args.json:
        emit_json(cal.to_json())
    else:
        print(format_table([cal]))
    return 0


def format_table(cals) -> str:
    """A Markdown table of every calibration (one row per (c, B))."""
    lines = [
        "| c | B | T0 | T_adb | T_drift | T_eq | T_eq_para | T_neq | T_neq (resc.) | scale "
        "| T_eq/T_adb | T_eq/T0 | stationary | init agree |",
        "|" + "---|" * 14,
    ]

    def f(x, e=None, p=4):
        if x is None or x != x:
            return "–"
        return f"{x:.{p}f}" if e is None or e != e else f"{x:.{p}f} ± {e:.{p}f}"

    for cal in cals:
        t = cal.table
        c = cal.params["problem"]["c"]
        for j in range(len(t["B"])):
            teq = t["T_eq"][j]
            ratio_adb = teq / t["T_adb"][j] if teq == teq and t["T_adb"][j] else float("nan")
            ratio_t0 = teq / t["T0"][j] if teq == teq and t["T0"][j] else float("nan")
            lines.append(
                f"| {c:g} | {t['B'][j]:g} | {f(t['T0'][j])} | {f(t['T_adb'][j])} | "
                f"{f(t['T_drift'][j])} | {f(teq, t['T_eq_err'][j])} | "
                f"{f(t['T_eq_para'][j], t['T_eq_para_err'][j])} | "
                f"{f(t['T_neq'][j], t['T_neq_err'][j])} | "
                f"{f(t['T_neq_rescaled'][j], t['T_neq_rescaled_err'][j])} | "
                f"{f(t['time_scale'][j], None, 3)} | {f(ratio_adb, None, 3)} | "
                f"{f(ratio_t0, None, 3)} | {t['stationary'][j]} | {t['init_agree'][j]} |"
            )
    return "\n".join(lines)


def load_spec(path: str | None, quick: bool) -> dict:
    """Read a tb-curve spec (default: the embedded one) and apply ``[quick]`` overrides."""
    from importlib import resources

    import tomllib

    from mcsgd.errors import ParameterError

    try:
        if path is None:
            text = resources.files("mcsgd").joinpath("data/tb_curve.toml").read_text()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        spec = tomllib.loads(text)
    except FileNotFoundError:
        raise ParameterError(f"spec file {path!r} does not exist") from None
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"spec file {path!r} is not valid TOML: {e}") from None
    for sec in ("problem", "experiment"):
        if sec not in spec:
            raise ParameterError(f"spec: missing section [{sec}]")
    exp = dict(spec["experiment"])
    if quick:
        exp.update(spec.get("quick", {}))
    known = {"c", "B", "n", "instances", "replicas", "sweeps", "seed", "mode", "out", "window"}
    bad = set(exp) - known
    if bad:
        raise ParameterError(f"spec: unknown key(s) experiment.{', experiment.'.join(sorted(bad))}")
    for k in ("c", "B"):
        if not isinstance(exp.get(k), list) or not exp[k]:
            raise ParameterError(f"spec: experiment.{k} must be a non-empty list")
    return {"problem": dict(spec["problem"]), "experiment": exp, "text": text}


def stale_keys(stored: dict, prob, targets, run_kw: dict) -> list[str]:
    """Calibration parameters in which a stored result differs from what a spec asks for.

    ``stored`` is a :attr:`Calibration.params` dict; the comparison covers the whole problem,
    every target dynamics (so the B list and its order), and ``run_kw`` (instances, replicas,
    sweeps, seed, mode, window), after a JSON round trip so that file and spec compare alike.
    An empty list means the stored result is what would be computed (the caller also compares
    the mcsgd version that wrote it, :func:`stored_version`).
    """
    import dataclasses
    import json

    from mcsgd.storage.h5 import to_jsonable

    def norm(x):
        return json.loads(json.dumps(to_jsonable(x)))

    want = {"problem": dataclasses.asdict(prob), "targets": [d.params() for d in targets],
            **run_kw}
    return [k for k, v in want.items() if norm(stored.get(k)) != norm(v)]


def stored_version(path: str) -> str | None:
    """The mcsgd version that wrote an HDF5 result (its provenance), None if unrecorded."""
    from mcsgd.storage.h5 import read_provenance

    return read_provenance(path, "calibration").get("mcsgd")


def _reproduce_tb(args) -> int:
    from mcsgd import __version__
    from mcsgd.dynamics import SGD
    from mcsgd.errors import FileFormatError, ParameterError, check_range
    from mcsgd.experiments.calibrate import Calibration, Problem, calibrate

    spec = load_spec(args.spec, args.quick)
    if args.print_spec:
        sys.stdout.write(spec["text"])
        return 0
    exp, pr = spec["experiment"], spec["problem"]
    out = args.out or exp.get("out", "runs/out/tb_curve")
    from mcsgd.storage.paths import check_output_dir

    if not isinstance(out, str):
        raise ParameterError(f"spec: experiment.out = {out!r} is not a string")
    check_output_dir(out)
    cs = exp["c"]
    if args.c_index is not None and not (0 <= args.c_index < len(cs)):
        raise ParameterError(f"c-index = {args.c_index} is not in [0, {len(cs) - 1}]")
    say = _say(args.quiet)
    idx = range(len(cs)) if args.c_index is None else [args.c_index]
    try:
        bad_pr = set(pr) - {"problem", "q", "graph", "planted", "noise", "shuffle"}
        if bad_pr:
            raise ParameterError(f"spec: unknown key(s) problem.{', problem.'.join(bad_pr)}")
        for k in ("n", "instances", "replicas", "sweeps", "seed", "window"):
            if k in exp:
                check_range(f"experiment.{k}", exp[k], 0, None, integer=k != "window")
        probs = [Problem(n=int(exp["n"]), c=float(c), **pr) for c in cs]  # validated there
        targets = [SGD(float(b)) for b in exp["B"]]
        run_kw = dict(instances=int(exp["instances"]), replicas=int(exp["replicas"]),
                      sweeps=int(exp["sweeps"]), seed=int(exp.get("seed", 1)),
                      mode=exp.get("mode", "both"), window=float(exp.get("window", 0.5)))
    except ParameterError as e:
        raise ParameterError(f"spec: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise ParameterError(f"spec: bad or missing value ({type(e).__name__}: {e})") from None
    os.makedirs(out, exist_ok=True)
    cals = {}
    for i in idx:
        path = os.path.join(out, f"calib_c{cs[i]:g}.h5")
        if os.path.exists(path):
            try:
                cal = Calibration.load(path)
                diff = stale_keys(cal.params, probs[i], targets, run_kw)
                if stored_version(path) != __version__:  # a new version may change results
                    diff.append("mcsgd version")
                if not diff:
                    say(f"c = {cs[i]:g}: complete result found in {path}, skipped")
                    cals[i] = cal
                    continue
                print(f"mcsgd: note: c = {cs[i]:g}: {path} was computed with other "
                      f"{', '.join(diff)} than the spec asks for; recomputing it",
                      file=sys.stderr)
            except FileFormatError:
                say(f"c = {cs[i]:g}: {path} is incomplete or foreign, recomputing")
        say(f"c = {cs[i]:g}: calibrating {len(targets)} batch sizes (N = {exp['n']})")
        cal = calibrate(probs[i], targets, **run_kw, threads=args.threads, progress=say)
        cal.save(path)
        cals[i] = cal
        say(f"c = {cs[i]:g}: done in {cal.timing['total_s']:.0f} s -> {path}")
    if args.c_index is not None:
        return 0
    ordered = [cals[i] for i in range(len(cs))]
    table = format_table(ordered)
    with open(os.path.join(out, "tb_table.md"), "w", encoding="utf-8") as fh:
        fh.write(table + "\n")
    import json

    from mcsgd.storage.h5 import to_jsonable

    with open(os.path.join(out, "tb_table.json"), "w", encoding="utf-8") as fh:
        json.dump(to_jsonable([{"c": cal.params["problem"]["c"], **cal.table}
                               for cal in ordered]), fh, indent=1)
    print(table)
    try:
        from mcsgd.plots import plot_relaxation, plot_tb

        plot_tb(ordered, os.path.join(out, "tb_curve.png"))
        for cal in ordered:
            cval = cal.params["problem"]["c"]
            plot_relaxation(cal, os.path.join(out, f"relaxation_c{cval:g}.png"))
        print(f"figures: {out}/tb_curve.png, {out}/relaxation_c*.png", file=sys.stderr)
    except ParameterError as e:
        print(f"mcsgd: note: {e}; table written, figures skipped", file=sys.stderr)
    print(f"table: {out}/tb_table.md", file=sys.stderr)
    return 0
