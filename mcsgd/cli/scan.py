"""CLI group ``mcsgd scan``: plan, run, status, collect, example (argparse only here)."""

from __future__ import annotations

import sys


def register(sub) -> None:
    """Add ``scan`` and its subcommands to the ``mcsgd`` subparsers."""
    s = sub.add_parser(
        "scan", help="parameter scans from a TOML scan file (local, SLURM, Dask)",
        description="Parameter scans: expand a TOML scan file into tasks, run them locally, as "
        "a SLURM job array or on Dask, resume after any kill, collect one summary file.",
    )
    ss = s.add_subparsers(dest="scan_cmd", metavar="SUBCOMMAND", parser_class=type(s))
    ss.required = True

    p = ss.add_parser("plan", help="print the expanded tasks and their ids",
                      description="Validate a scan file and print its tasks (id and parameters).")
    p.add_argument("spec", help="scan file (TOML)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: the file's 'out')")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    _max_tasks_option(p)
    p.set_defaults(func=_plan)

    r = ss.add_parser("run", help="run the tasks that are not done (resumes checkpoints)",
                      description="Run every task of the scan (or of one shard) that has no "
                      "valid result; interrupted tasks resume from their checkpoint.")
    r.add_argument("spec", help="scan file (TOML)")
    r.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: the file's 'out')")
    r.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: [execution] workers, 0 = cores)")
    r.add_argument("--threads", type=int, default=None,
                   help="numba threads per worker (default: cores // workers)")
    r.add_argument("--shard", default=None, metavar="I/N",
                   help="run only shard I of N (0 <= I < N), e.g. 0/3 (default: every task)")
    r.add_argument("--executor", choices=["local", "dask", "slurm"], default="local",
                   help="local process pool (default), dask, or a SLURM job array")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="dask: address of a running scheduler (default: start a SLURMCluster "
                   "from the [dask] section)")
    r.add_argument("--wait", action="store_true",
                   help="slurm: wait until the job array has finished, then report the status")
    r.add_argument("--json", action="store_true", help="one JSON object on stdout")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    _max_tasks_option(r)
    r.set_defaults(func=_run)

    st = ss.add_parser("status", help="done / running / missing / failed tasks, with reasons",
                       description="Status of every task of the scan in DIR.")
    st.add_argument("dir", help="scan output directory")
    st.add_argument("--json", action="store_true", help="one JSON object on stdout")
    st.add_argument("--all", action="store_true", help="list done tasks too")
    st.set_defaults(func=_status)

    c = ss.add_parser("collect", help="one summary file: a row per task + time series",
                      description="Collect every finished task of the scan in DIR into one "
                      "HDF5 file (layout: docs/scans.md); safe while the scan runs.")
    c.add_argument("dir", help="scan output directory")
    c.add_argument("-o", "--output", default=None, metavar="FILE",
                   help="summary HDF5 file (default DIR/summary.h5 unless --json)")
    c.add_argument("--json", action="store_true",
                   help="one JSON object on stdout: tasks with id, params, stationary values")
    c.add_argument("--force", action="store_true",
                   help="let -o replace an existing file that is not a scan summary")
    c.set_defaults(func=_collect)

    e = ss.add_parser("example", help="print a small commented example scan file",
                      description="Print a small example scan file documenting every key.")
    e.add_argument("--experiment", choices=("discrete", "calibrate"), default="discrete",
                   help="which kind of scan (default: %(default)s)")
    e.set_defaults(func=_example)

    t = ss.add_parser("template", help="print the default sbatch template (to copy and edit)",
                      description="Print the sbatch job-array template of --executor slurm "
                      "(the package's mcsgd/data/array.sbatch.template); point [slurm] template "
                      "at your edited copy.")
    t.set_defaults(func=_template)


def _max_tasks_option(p) -> None:
    from mcsgd.experiments.scan.spec import MAX_TASKS

    p.add_argument("--max-tasks", type=int, default=None, metavar="N",
                   help=f"refuse a scan of more than N tasks (default: the file's max_tasks, "
                   f"else {MAX_TASKS}); counted before expanding")


def _plan(args) -> int:
    from mcsgd.cli._common import emit_json
    from mcsgd.experiments.scan.commands import plan_scan

    spec = plan_scan(args.spec, out=args.out, max_tasks=args.max_tasks)
    if args.json:
        emit_json({"name": spec.name, "seed": spec.seed, "out": spec.out,
                   "tasks": [{"id": t.id, "params": t.params, "spawn_key": list(t.key)}
                             for t in spec.tasks]})
        return 0
    print(f"# scan {spec.name!r}: {len(spec.tasks)} tasks, seed {spec.seed}, out {spec.out}")
    for t in spec.tasks:
        print(f"{t.id}  {t.label()}")
    return 0


def _run(args) -> int:
    from mcsgd.cli._common import emit_json
    from mcsgd.experiments.scan import DiskFullError
    from mcsgd.experiments.scan.commands import run_scan_file
    from mcsgd.experiments.scan.task import Terminated

    try:
        run = run_scan_file(args.spec, out=args.out, max_tasks=args.max_tasks,
                            executor=args.executor, workers=args.workers, threads=args.threads,
                            shard=args.shard, scheduler=args.scheduler, wait=args.wait,
                            quiet=args.quiet)
    except Terminated as e:
        print(f"mcsgd: terminated ({e}); run the same command again to resume",
              file=sys.stderr)
        return 143
    except DiskFullError as e:
        print(f"mcsgd: error: {e}", file=sys.stderr)
        return 74
    spec, res = run.spec, run.report
    if run.tasks is None:  # a SLURM array submitted, not waited for
        if args.json:
            emit_json(res)
        else:
            print(f"submitted job {res['job_id']}; follow it with 'squeue -j {res['job_id']}' "
                  f"and 'mcsgd scan status {spec.out}'")
        return 0
    mine, counts = run.tasks, run.counts
    if args.json:
        emit_json({**res, "status": counts, "out": spec.out})
    elif not args.quiet:
        print(f"scan {spec.name!r}: {counts['done']}/{len(mine)} tasks done"
              + "".join(f", {v} {k}" for k, v in counts.items() if k != "done" and v)
              + f" -> {spec.out}", file=sys.stderr)
        for t in mine:
            if t["state"] != "done":
                print(f"  {t['id']} {t['state']}: {t['reason']}", file=sys.stderr)
    return 0 if run.ok else 1


def _status(args) -> int:
    from mcsgd.cli._common import emit_json
    from mcsgd.experiments.scan.commands import scan_status

    st = scan_status(args.dir)
    if args.json:
        emit_json(st)
        return 0
    c = st["counts"]
    print(f"scan {st['name']!r} in {st['out']}: {st['total']} tasks: {c['done']} done, "
          f"{c['running']} running, {c['missing']} missing, {c['failed']} failed")
    for t in st["tasks"]:
        if args.all or t["state"] != "done":
            why = f" ({t['reason']})" if t["reason"] else ""
            print(f"{t['id']}  {t['state']:<8}{why}  {t['label']}")
    return 0


def _collect(args) -> int:
    from mcsgd.cli._common import emit_json
    from mcsgd.experiments.scan import summary_json
    from mcsgd.experiments.scan.commands import collect_scan

    data, out = collect_scan(args.dir, args.output, default_output=not args.json,
                             force=args.force)
    if out is not None and not args.json:
        print(f"wrote {out}: {data['done']}/{data['total']} tasks", file=sys.stderr)
    if args.json:
        emit_json(summary_json(data))
    return 0


def _example(args) -> int:
    from importlib import resources

    name = {"discrete": "example_scan.toml", "calibrate": "example_calibrate_scan.toml"}[
        getattr(args, "experiment", "discrete")]
    sys.stdout.write(resources.files("mcsgd").joinpath(f"data/{name}").read_text())
    return 0


def _template(args) -> int:
    from importlib import resources

    from mcsgd.experiments.scan.executors import TEMPLATE_RESOURCE

    sys.stdout.write(resources.files("mcsgd").joinpath(TEMPLATE_RESOURCE).read_text())
    return 0
