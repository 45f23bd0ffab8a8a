"""CLI commands ``recover`` and ``reproduce recovery`` (argparse only; heavy imports later)."""

from __future__ import annotations

import json
import os
import sys

from mcsgd.cli.core import add_force_arg


def register(sub) -> None:
    """Add ``recover`` to the ``mcsgd`` subparsers."""
    from mcsgd.cli import float_list

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


def register_reproduce(rs) -> None:
    """Add ``reproduce recovery`` (called by the ``reproduce`` group)."""
    p = rs.add_parser(
        "recovery", help="recovery windows, optimal batch size, annealing, BP reference",
        description="Run the recovery experiment of the spec (default: the embedded "
        "mcsgd/data/recovery.toml; --print-spec shows it) and write the table and the figure.")
    p.add_argument("--quick", action="store_true", help="the [quick] overrides")
    p.add_argument("--spec", default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--print-spec", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_reproduce_recovery)


DEFAULT_PLANTING = "index"


def shuffle_from_args(args) -> bool:
    """True for a shuffled planted assignment (``--planting``, or the older ``--shuffle``)."""
    from mcsgd.errors import ParameterError

    planting = args.planting
    if args.shuffle:
        if planting == "index":
            raise ParameterError("--shuffle contradicts --planting index (choose one)")
        planting = "shuffled"
    return (planting or DEFAULT_PLANTING) == "shuffled"


def _instance_maker(q, n, graph, shuffle, seed):
    """``make(c, k)``: instance k of (planted colouring q, n, c, graph, shuffle; seed), the same
    graph as ``mcsgd generate coloring ... --seed seed --instance k`` (:mod:`mcsgd.seeds`)."""
    from mcsgd import problems
    cache = {}

    def make(c, k):
        key = (float(c), int(k))
        if key not in cache:
            cache.clear()  # keep one instance set in memory at a time
            cache[key] = problems.from_params(
                {"problem": "coloring", "n": n, "q": q, "c": c, "planted": True, "graph": graph,
                 "shuffle": shuffle}, seed, int(k))
        return cache[key]

    return make


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


def _public_rows(rows):
    return [{k: v for k, v in r.items() if k not in ("t_rec", "final_overlap", "curve")}
            for r in rows]


def save_rows(path, rows, params):
    """Write recovery rows (with the raw per-run arrays) to HDF5 atomically."""
    import numpy as np

    from mcsgd.storage.h5 import atomic_h5, provenance, write_json_attr

    with atomic_h5(path, "recovery") as f:
        write_json_attr(f, "params", params)
        write_json_attr(f, "provenance", provenance())
        write_json_attr(f, "rows", _public_rows(rows))
        for i, r in enumerate(rows):
            g = f.create_group(f"rows/{i:04d}")
            g["t_rec"] = np.asarray(r["t_rec"])
            g["final_overlap"] = np.asarray(r["final_overlap"])
            g["curve_time"] = np.asarray(r["curve"][0])
            g["curve_overlap"] = np.asarray(r["curve"][1])


def _recover(args) -> int:
    from mcsgd.cli import emit_json
    from mcsgd.errors import check_range
    from mcsgd.experiments.recover import recovery_scan

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
    say = (lambda m: None) if (args.quiet or args.json) else (
        lambda m: print(f"[recover] {m}", file=sys.stderr, flush=True))
    args.shuffle = shuffle_from_args(args)
    args.planting = "shuffled" if args.shuffle else "index"
    make = _instance_maker(args.q, args.n, args.graph, args.shuffle, args.seed)
    rows = recovery_scan(make, args.c, settings, instances=args.instances,
                         replicas=args.replicas, sweeps=args.sweeps, seed=args.seed,
                         threshold=args.threshold, check_every=args.check_every,
                         quench=args.quench, progress=say)
    params = {k: v for k, v in vars(args).items() if k not in ("func",)}
    if args.output:
        save_rows(args.output, rows, params)
    if args.plot:
        from mcsgd.plots import plot_recovery

        plot_recovery(rows, args.plot)
    if args.json:
        emit_json({"params": params, "rows": _public_rows(rows)})
    else:
        for r in _public_rows(rows):
            key = next(k for k in ("B", "T", "anneal") if k in r)
            print(f"c = {r['c']:g}  {key} = {r[key]}  success {r['success_probability']:.2f} "
                  f"[{r['success_ci'][0]:.2f}, {r['success_ci'][1]:.2f}]  t_rec median "
                  f"{r['t_rec_median']}  (q25 {r['t_rec_q25']}, q75 {r['t_rec_q75']})  "
                  f"final overlap {r['final_overlap_mean']:.3f}")
    return 0


def _reproduce_recovery(args) -> int:
    from importlib import resources

    import numpy as np
    import tomllib

    from mcsgd import theory
    from mcsgd.dynamics import SGD, Metropolis
    from mcsgd.errors import ParameterError
    from mcsgd.experiments.calibrate import Problem, calibrate
    from mcsgd.experiments.recover import Anneal, map_T_window_to_B, recovery_scan, window
    from mcsgd.storage.h5 import to_jsonable

    if args.spec is None:
        text = resources.files("mcsgd").joinpath("data/recovery.toml").read_text()
    else:
        try:
            with open(args.spec, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            raise ParameterError(f"spec file {args.spec!r} does not exist") from None
    if args.print_spec:
        sys.stdout.write(text)
        return 0
    try:
        spec = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"spec is not valid TOML: {e}") from None
    pr, ex = spec.get("problem", {}), dict(spec.get("experiment", {}))
    if args.quick:
        ex.update(spec.get("quick", {}))
    need = ["c", "B", "T", "n", "instances", "replicas", "sweeps"]
    missing = [k for k in need if k not in ex]
    if missing:
        raise ParameterError(f"spec: missing experiment.{', experiment.'.join(missing)}")
    from mcsgd.errors import check_range

    try:
        for k in ("n", "instances", "replicas", "sweeps", "seed", "bp_n"):
            if k in ex:
                check_range(f"experiment.{k}", ex[k], 1 if k != "seed" else 0, None,
                            integer=True)
        for k in ("c", "B", "T"):
            if not isinstance(ex[k], list) or not ex[k]:
                raise ParameterError(f"experiment.{k} must be a non-empty list")
        q = int(pr.get("q", 5))
        from mcsgd import problems
        for c in ex["c"]:
            problems.check_coloring_params(int(ex["n"]), q, c, pr.get("graph", "er"), True)
        for b in ex["B"]:
            SGD(b)
        for t in ex["T"]:
            Metropolis(t)
    except ParameterError as e:
        raise ParameterError(f"spec: {e}") from None
    except (KeyError, TypeError, ValueError) as e:
        raise ParameterError(f"spec: bad or missing value ({type(e).__name__}: {e})") from None
    out = args.out or ex.get("out", "runs/out/recovery")
    from mcsgd.storage.paths import check_output_dir

    if not isinstance(out, str):
        raise ParameterError(f"spec: experiment.out = {out!r} is not a string")
    check_output_dir(out)
    os.makedirs(out, exist_ok=True)
    say = (lambda m: None) if args.quiet else (
        lambda m: print(f"[recovery] {m}", file=sys.stderr, flush=True))
    seed = int(ex.get("seed", 1))
    shuffle = pr.get("shuffle", DEFAULT_PLANTING == "shuffled")
    if not isinstance(shuffle, bool):
        raise ParameterError(f"spec: problem.shuffle = {shuffle!r} must be true or false")
    make = _instance_maker(q, int(ex["n"]), pr.get("graph", "er"), shuffle, seed)
    kw = dict(instances=int(ex["instances"]), replicas=int(ex["replicas"]),
              sweeps=int(ex["sweeps"]), seed=seed, threshold=float(ex.get("threshold", 0.5)),
              progress=say)
    say("Metropolis recovery over T")
    mc_rows = recovery_scan(make, ex["c"], [Metropolis(t) for t in ex["T"]], **kw)
    say("SGD-like recovery over B")
    sgd_rows = recovery_scan(make, ex["c"], [SGD(b) for b in ex["B"]], **kw)
    w_T = window(mc_rows, "T")
    w_B = window(sgd_rows, "B")
    summary = []
    for c in ex["c"]:
        key = f"{c:g}"
        degree = "regular" if pr.get("graph", "er") == "regular" else "poisson"
        adb = map_T_window_to_B(w_T[key]["lo"], w_T[key]["hi"],
                                lambda B, c=c, d=degree: theory.T_adb_curve(B, float(c), q, d),
                                note=lambda m, c=c: say(f"c = {c:g}, B window from T_adb: {m}"))
        # calibrated T(B) on a few B (equilibrium mode, metastable paramagnet before recovery)
        cal_B = ex.get("calibration_B", [])
        cal_map = (None, None)
        cal_T = []
        if cal_B and w_T[key]["lo"] is not None:
            say(f"c = {c:g}: calibrating T(B) at B = {cal_B}")
            cal = calibrate(Problem(n=int(ex["n"]), q=q, c=float(c), graph=pr.get("graph", "er"),
                                    shuffle=shuffle),
                            [SGD(b) for b in cal_B], instances=1, replicas=4,
                            sweeps=int(ex.get("calibration_sweeps", 400)), seed=seed,
                            mode="equilibrium", refine=1)
            cal_T = cal.table["T_eq"]
            Bs, Ts = np.asarray(cal_B, float), np.asarray(cal_T, float)
            ok = np.isfinite(Ts)
            if ok.sum() >= 2:
                cal_map = map_T_window_to_B(
                    w_T[key]["lo"], w_T[key]["hi"],
                    lambda B, Bs=Bs[ok], Ts=Ts[ok]: np.interp(B, Bs, Ts, left=np.nan,
                                                              right=np.nan),
                    note=lambda m, c=c: say(f"c = {c:g}, B window from T_eq (calibrated "
                                            f"B range only): {m}"))
        summary.append({
            "c": float(c),
            "T_window": [w_T[key]["lo"], w_T[key]["hi"]],
            "B_window_measured": [w_B[key]["lo"], w_B[key]["hi"]],
            "B_window_from_T_adb": list(adb),
            "B_window_from_T_eq": list(cal_map),
            "calibration": {"B": cal_B, "T_eq": cal_T},
            "B_best": w_B[key]["best"],
            "B_best_t_rec_median": w_B[key]["best_t_rec_median"],
            "T_best": w_T[key]["best"],
        })
    # annealing at equal sweeps
    anneal_rows = []
    if "anneal_c" in ex:
        quench = int(ex.get("quench", 0))
        sched = [Anneal("T", *map(float, ex["anneal_T"])), Anneal("B", *map(float, ex["anneal_B"]))]
        say("annealing comparison")
        anneal_rows = recovery_scan(make, ex["anneal_c"], sched, quench=quench, **kw)
    # belief propagation, the Bayes-optimal reference
    bp_rows = []
    try:
        from mcsgd.bp import bp as run_bp
    except ImportError:
        run_bp = None
        say("belief propagation not available in this build: BP rows skipped")
    if run_bp is not None:
        from mcsgd import problems
        for c in ex.get("bp_c", []):
            inst = problems.planted_coloring(int(ex.get("bp_n", 100000)), q, float(c),
                                             seed=seed)
            res = run_bp(inst, seed=seed)
            bp_rows.append({"c": float(c), "overlap": res.overlap, "converged": res.converged,
                            "iterations": res.iterations})
            say(f"BP c = {c:g}: overlap {res.overlap:.3f} ({res.iterations} iterations)")
    result = {
        "params": {"spec": spec, "quick": args.quick},
        "metropolis": _public_rows(mc_rows),
        "sgd": _public_rows(sgd_rows),
        "summary": summary,
        "annealing": _public_rows(anneal_rows),
        "bp": bp_rows,
        "c_KS": (q - 1) ** 2,
    }
    with open(os.path.join(out, "recovery.json"), "w", encoding="utf-8") as fh:
        json.dump(to_jsonable(result), fh, indent=1)
    save_rows(os.path.join(out, "recovery_sgd.h5"), sgd_rows, {"spec": spec})
    save_rows(os.path.join(out, "recovery_metropolis.h5"), mc_rows, {"spec": spec})
    table = format_recovery(result)
    with open(os.path.join(out, "recovery_table.md"), "w", encoding="utf-8") as fh:
        fh.write(table + "\n")
    print(table)
    try:
        from mcsgd.plots import plot_recovery_map

        plot_recovery_map(result, os.path.join(out, "recovery.png"))
        say(f"figure: {out}/recovery.png")
    except ParameterError as e:
        print(f"mcsgd: note: {e}; figure skipped", file=sys.stderr)
    return 0


def format_recovery(result) -> str:
    """Markdown tables of the recovery experiment."""
    def f(x, p=3):
        return "–" if x is None else (f"{x:.{p}f}" if isinstance(x, float) else str(x))

    lines = ["| c | T window (MC) | B window measured | B window via T_adb | B window via T_eq "
             "| best B | median t_rec at best B |", "|---|---|---|---|---|---|---|"]
    def win(w, p=3):
        # an end that T(B) cannot reach (mapped windows; see map_T_window_to_B) reads "n/a"
        if w is None or (w[0] is None and w[1] is None):
            return "–"
        return "–".join("n/a" if x is None else f(x, p) for x in w)

    unreached = False
    for s in result["summary"]:
        mapped = [s["B_window_from_T_adb"], s["B_window_from_T_eq"]]
        unreached |= any(w is not None and (w[0] is None) != (w[1] is None) for w in mapped)
        lines.append(
            f"| {s['c']:g} | {win(s['T_window'], 2)} | {win(s['B_window_measured'], 2)} | "
            f"{win(s['B_window_from_T_adb'])} | {win(s['B_window_from_T_eq'])} | "
            f"{f(s['B_best'], 2)} | {f(s['B_best_t_rec_median'], 0)} |")
    if unreached:
        lines.append("\nn/a: that end of the T window is not reached by T(B) (T_adb on (0, 1], "
                     "T_eq within the calibrated B values).")
    lines += ["", "| dynamics | c | param | success | 95% CI | t_rec median | q25 | q75 "
              "| final overlap |",
              "|---|---|---|---|---|---|---|---|---|"]
    for name in ("metropolis", "sgd", "annealing"):
        for r in result[name]:
            key = next(k for k in ("B", "T", "anneal") if k in r)
            par = r[key] if key != "anneal" else f"{r['anneal']} {r['start']}→{r['stop']}"
            lines.append(
                f"| {name} | {r['c']:g} | {par} | {r['success_probability']:.2f} | "
                f"{r['success_ci'][0]:.2f}–{r['success_ci'][1]:.2f} | {f(r['t_rec_median'], 0)} | "
                f"{f(r['t_rec_q25'], 0)} | {f(r['t_rec_q75'], 0)} | "
                f"{r['final_overlap_mean']:.3f} |")
    if result["bp"]:
        lines += ["", "| BP: c | overlap | converged | iterations |", "|---|---|---|---|"]
        for b in result["bp"]:
            lines.append(f"| {b['c']:g} | {b['overlap']:.3f} | {b['converged']} | "
                         f"{b['iterations']} |")
    return "\n".join(lines)
