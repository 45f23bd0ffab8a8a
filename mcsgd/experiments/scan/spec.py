"""Scan files (TOML): parsing, validation with paths into the file, and expansion into tasks.

A scan file describes instances, dynamics, run settings and how to execute them (reference:
``docs/scans.md``; a commented example: ``mcsgd scan example``). In the ``[instance]``, ``[run]``
and ``[[dynamics]]`` tables a list value is a sweep axis; axes expand as a grid (Cartesian
product, in the order the keys appear), except keys named together in a ``zip`` entry, which are
paired element by element (``zip = ["B", "sweeps"]``, or several groups
``zip = [["B", "sweeps"], ["order", "flags"]]``).

Every error names its place in the file, e.g. ``dynamics[1].B: 1.5 is not in (0, 1]``
(``[[dynamics]]`` tables are numbered from 0) and is a :class:`~mcsgd.errors.ParameterError`.

Tasks and seeds
---------------
A task is one (instance point, instance index k, dynamics point, run point). Its canonical
parameters (normalised types, sorted keys, JSON) determine

* the task key ``(SCAN, h1, h2)``: ``(h1, h2)`` the first two 32-bit words of
  ``sha256(canonical params)``; replica r draws its initial configuration and its dynamics from
  ``SeedSequence(seed, spawn_key=(INIT | DYNAMICS, SCAN, h1, h2, r))`` (:mod:`mcsgd.seeds`);
* the task id: 16 hex digits of ``sha256(canonical params + root seed)``;
* the instance: instance k (the point's ``index``) of (the instance point's parameters, root
  seed) (:mod:`mcsgd.seeds`), so every dynamics of a scan runs on the same instances, and
  ``mcsgd generate --seed ROOT --instance k`` with the same parameters builds the same graph.

Nothing depends on the worker, shard or order that runs a task.

Calibration tasks
-----------------
With ``experiment = "calibrate"`` a task is one calibration of T(B)
(:func:`mcsgd.experiments.calibrate.calibrate`) per (instance point, ``[calibrate]`` point):
the B list of the point (``B = [[0.5, 0.8], [1.0]]`` sweeps two B sets) on instances
0 .. ``instances`` - 1 of the instance point and the root seed, with the run streams of task
key ``(SCAN, h1, h2)``: ``(*task key, k, role, j)`` where ``mcsgd calibrate`` uses
``(CALIBRATION, k, role, j)``. The instances are those of ``mcsgd calibrate --seed ROOT``.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import math
import os
from pathlib import Path
from typing import Any

from mcsgd.errors import ParameterError
from mcsgd.experiments.specfile import (
    at_key,
    boolean,
    check_keys,
    choice,
    err,
    num,
    parse_toml,
    read_text,
    string,
    table,
)
from mcsgd.seeds import SCAN
from mcsgd.storage.h5 import canonical_json

TOP_KEYS = ("name", "seed", "instances", "out", "experiment", "instance", "run", "dynamics",
            "continuous", "execution", "slurm", "dask", "max_tasks", "calibrate")
MAX_TASKS = 100_000  # default limit on the tasks of one scan (``max_tasks`` / ``--max-tasks``)
SPEC_DIR_HEADER = "# mcsgd-spec: "  # first line of DIR/scan.toml: the original file's path
MAX_TASKS_HEADER = "# mcsgd-max-tasks: "  # its second line when --max-tasks was given
RUN_DEFAULTS: dict[str, Any] = {
    "sweeps": 1000, "replicas": 2, "init": "random", "grid": "log", "grid_points": 40,
    "window": 0.5,
}
DYNAMICS_KEYS: dict[str, dict[str, Any]] = {
    "metropolis": {"T": None, "order": "sequential", "rule": "metropolis"},
    "sgd": {"B": None, "flags": "halfedge", "tau": 1, "batch": "bernoulli",
            "order": "sequential", "method": "auto"},
}
# experiment = "calibrate": the [calibrate] table (B and T_grid are lists; a list of lists
# sweeps them), the keyword arguments of mcsgd.experiments.calibrate.calibrate
CALIBRATE_DEFAULTS: dict[str, Any] = {
    "B": None, "replicas": 4, "sweeps": 1000, "mode": "both", "T_grid": "auto",
    "window": 0.5, "grid_points": 30,
}
CALIBRATE_LISTS = ("B", "T_grid")
EXECUTION_DEFAULTS: dict[str, Any] = {
    "workers": 0, "checkpoint_seconds": 30.0, "chunk_updates": 2e7, "threads": 0,
}
SLURM_DEFAULTS: dict[str, Any] = {
    "template": "", "partition": "", "time": "01:00:00", "mem_per_cpu": "1G",
    "cpus_per_task": 1, "array_size": 0, "concurrency": 0, "job_name": "mcsgd-scan",
    "extra": [],
}
DASK_DEFAULTS: dict[str, Any] = {
    "scheduler": "", "jobs": 1, "processes": 1, "threads": 1, "memory": "1GB", "queue": "",
    "walltime": "01:00:00", "interface": "", "job_extra": [],
}


@dataclasses.dataclass(frozen=True)
class Task:
    """One unit of work of a scan.

    Attributes
    ----------
    id : str            16 hex digits (content hash of ``params`` and ``seed``)
    params : dict       canonical parameters (JSON-able)
    seed : int          root seed of the scan
    key : tuple         spawn-key prefix ``(h1, h2)`` of the task's streams
    """

    id: str
    params: dict[str, Any]
    seed: int
    key: tuple[int, int]

    @property
    def kind(self) -> str:
        """``"discrete"``, ``"continuous"`` or ``"calibrate"``."""
        return self.params["experiment"]

    def label(self) -> str:
        """A short human-readable description."""
        p = self.params
        if self.kind == "calibrate":
            i, c = p["instance"], p["calibrate"]
            inst = ", ".join(f"{k}={v}" for k, v in i.items() if k != "problem")
            return (f"calibrate {i['problem']}({inst}) x{p['instances']} B={c['B']} "
                    f"sweeps={c['sweeps']}")
        if self.kind == "continuous":
            c = p["continuous"]
            rest = ", ".join(f"{k}={v}" for k, v in c.items() if k != "experiment")
            return f"continuous {c['experiment']} {rest}"
        i, d = p["instance"], p["dynamics"]
        inst = ", ".join(f"{k}={v}" for k, v in i.items() if k not in ("problem",))
        dyn = f"T={d['T']}" if d["dynamics"] == "metropolis" else f"B={d['B']}"
        return f"{i['problem']}({inst}) {d['dynamics']} {dyn} sweeps={p['run']['sweeps']}"


@dataclasses.dataclass
class Spec:
    """A validated scan file.

    Attributes
    ----------
    path : str or None      file it came from
    text : str              its text
    name : str; seed : int; out : str
    tasks : list of Task    in plan order
    execution, slurm, dask : dict   execution settings (defaults filled)
    layout : str            how the chains of a task advance (``layout`` of the [run] or
                            [calibrate] table: "auto", "scalar" or "lanes"); speed only, not
                            part of any task
    """

    path: str | None
    text: str
    name: str
    seed: int
    out: str
    tasks: list[Task]
    execution: dict[str, Any]
    slurm: dict[str, Any]
    dask: dict[str, Any]
    max_tasks: int | None = None  # a --max-tasks override (kept in DIR/scan.toml for the array)
    layout: str = "auto"


# ---- helpers ---------------------------------------------------------------------------------
def hash_words(obj: Any, n: int = 2) -> tuple[int, ...]:
    """The first ``n`` 32-bit words of ``sha256(canonical_json(obj))``."""
    h = hashlib.sha256(canonical_json(obj).encode()).digest()
    return tuple(int.from_bytes(h[4 * i:4 * i + 4], "little") for i in range(n))


def task_id(params: dict[str, Any], seed: int) -> str:
    """16 hex digits identifying (params, seed)."""
    s = canonical_json({"params": params, "seed": int(seed)})
    return hashlib.sha256(s.encode()).hexdigest()[:16]


# ---- expansion -------------------------------------------------------------------------------
def check_task_count(n: int, limit: int | None = None, what: str = "the scan") -> None:
    """Refuse ``n`` tasks (or grid points) above ``limit`` (default :data:`MAX_TASKS`).

    Raises :class:`ParameterError` (exit 2) naming the count, the limit and how to raise it.
    Shared by the scan loader and the CLI's range expansions.
    """
    limit = MAX_TASKS if limit is None else int(limit)
    if n > limit:
        raise ParameterError(
            f"{what} expands to {n:.4g} tasks, more than max_tasks = {limit}; reduce the "
            "swept values or raise the limit (scan-file key max_tasks or --max-tasks)")


def count_points(path: str, table: dict[str, Any], scalar_lists: tuple[str, ...] = ()) -> int:
    """How many points :func:`expand` gives for ``table``, without building them."""
    return math.prod(len(a) for a in _axes(path, table, scalar_lists))


def expand(path: str, table: dict[str, Any], scalar_lists: tuple[str, ...] = ()) -> list[dict]:
    """Expand the list values of ``table`` as a grid, ``zip`` groups paired (module docstring).

    Keys in ``scalar_lists`` keep list values as they are (a list of lists sweeps them).
    """
    out = []
    for combo in itertools.product(*_axes(path, table, scalar_lists)):
        d: dict[str, Any] = {}
        for part in combo:
            d.update(part)
        out.append(d)
    return out


def _axes(path: str, table: dict[str, Any],
          scalar_lists: tuple[str, ...] = ()) -> list[list[dict[str, Any]]]:
    """The axes of a table (validated ``zip`` groups): a list of alternatives per axis."""
    table = dict(table)
    z = table.pop("zip", [])
    if isinstance(z, list) and z and all(isinstance(x, str) for x in z):
        groups = [z]
    elif isinstance(z, list) and all(isinstance(g, list) and all(isinstance(x, str) for x in g)
                                     for g in z):
        groups = z
    else:
        raise err(f"{path}.zip", "must be a list of key names or a list of such lists")
    zipped: dict[str, int] = {}
    for gi, g in enumerate(groups):
        for k in g:
            if k not in table:
                raise err(f"{path}.zip", f"{k!r} is not a key of this table")
            if k in zipped:
                raise err(f"{path}.zip", f"{k!r} appears in more than one group")
            if not isinstance(table[k], list):
                raise err(f"{path}.{k}", "is zipped, so it must be a list")
            zipped[k] = gi
        lens = {len(table[k]) for k in g}
        if len(lens) > 1:
            desc = ", ".join(f"{k} has {len(table[k])}" for k in g)
            raise err(f"{path}.zip", f"zipped lists must have equal lengths ({desc})")
    axes: list[list[dict[str, Any]]] = []
    done_groups: set[int] = set()
    for k, v in table.items():
        is_axis = isinstance(v, list) and (k not in scalar_lists or (v and isinstance(v[0], list)))
        if k in zipped:
            gi = zipped[k]
            if gi in done_groups:
                continue
            done_groups.add(gi)
            g = groups[gi]
            n = len(table[g[0]])
            if n == 0:
                raise err(f"{path}.{k}", "is an empty list")
            axes.append([{kk: table[kk][i] for kk in g} for i in range(n)])
        elif is_axis:
            if not v:
                raise err(f"{path}.{k}", "is an empty list")
            axes.append([{k: x} for x in v])
        else:
            axes.append([{k: v}])
    return axes


# ---- validation of one expanded point ---------------------------------------------------------
def _instance_point(path: str, p: dict[str, Any], spec_dir: Path) -> dict[str, Any]:
    from mcsgd.problems.factory import PARAMS  # the keys of every problem (one home)

    prob = p.get("problem", "coloring")
    choice(f"{path}.problem", prob, tuple(PARAMS))
    allowed = PARAMS[prob]
    check_keys(path, {k: v for k, v in p.items() if k != "problem"}, allowed)
    q = {**allowed, **p}
    for k, v in q.items():
        if v is None:
            raise err(f"{path}.{k}", f"missing (required for problem = {prob!r})")
    out: dict[str, Any] = {"problem": prob}
    if prob == "coloring":
        out["n"] = num(f"{path}.n", q["n"], 1, None, integer=True)
        out["q"] = num(f"{path}.q", q["q"], 2, 127, integer=True)
        out["c"] = num(f"{path}.c", q["c"], 0, None)
        out["planted"] = boolean(f"{path}.planted", q["planted"])
        out["graph"] = choice(f"{path}.graph", q["graph"], ("er", "er-simple", "regular"))
        out["shuffle"] = boolean(f"{path}.shuffle", q["shuffle"])
        if out["planted"] and out["n"] % out["q"]:
            raise err(f"{path}.n", f"{out['n']} must be divisible by q = {out['q']} for a "
                       "planted (balanced) colouring")
        _generator_check(path, q, out, "coloring")
    elif prob == "ising":
        out["n"] = num(f"{path}.n", q["n"], 2, None, integer=True)
        out["d"] = num(f"{path}.d", q["d"], 0, None)
        out["graph"] = choice(f"{path}.graph", q["graph"], ("regular", "er", "er-simple"))
        out["planted"] = boolean(f"{path}.planted", q["planted"])
        out["noise"] = num(f"{path}.noise", q["noise"], 0, 1)
        _generator_check(path, q, out, "ising")
    else:
        fp = Path(string(f"{path}.path", q["path"]))
        if not fp.is_absolute():
            fp = (spec_dir / fp).resolve()
        if not fp.is_file():
            raise err(f"{path}.path", f"{str(fp)!r} does not exist")
        out["path"] = str(fp)
        _instance_file_check(f"{path}.path", fp)
    return out


def _generator_check(path: str, raw: dict[str, Any], out: dict[str, Any], prob: str) -> None:
    """The generators' own validator (the one ``mcsgd generate`` uses): a scan accepts exactly
    the instances ``generate`` accepts (integer degree of a regular graph, even n*d, int32 and
    memory limits). Errors name the key, e.g. ``instance.c: ...``."""
    from mcsgd import problems
    from mcsgd.resources import total_memory

    mem = total_memory()  # instances are built later, maybe on other nodes
    try:
        if prob == "coloring":
            problems.check_coloring_params(out["n"], out["q"], out["c"], out["graph"],
                                           out["planted"], available=mem)
        else:
            problems.check_ising_params(out["n"], out["d"], out["graph"], out["noise"],
                                        available=mem)
    except ParameterError as e:
        msg = str(e)
        head = msg.split(" ", 1)[0].split("*", 1)[0]
        key = head if head in raw else None
        raise err(f"{path}.{key}" if key else path, msg) from None


def _instance_file_check(path: str, fp: Path) -> None:
    """An instance file named in a scan must be an mcsgd instance (not a run file, not a
    foreign or broken file): read its root attributes now, not when a worker loads it."""
    from mcsgd.storage.h5 import open_checked

    try:
        with open_checked(fp, "instance") as f:
            n, m = int(f.attrs["n"]), int(f.attrs["m"])
    except ParameterError as e:
        raise err(path, str(e)) from None
    except (KeyError, TypeError, ValueError):
        raise err(path, f"{str(fp)!r} is an instance file without valid 'n' and 'm' "
                   "attributes") from None
    return n, m


def _check_run_size(path: str, ip: dict[str, Any], dp: dict[str, Any], r: dict[str, Any],
                    seen: dict) -> None:
    """Refuse a task whose run cannot fit in memory (replicas x instance size), before any
    task is written; the message names ``<table>.replicas``."""
    from mcsgd.problems.coloring import expected_edges
    from mcsgd.resources import check_run_memory, total_memory

    if ip["problem"] == "file":
        if ip["path"] not in seen:
            seen[ip["path"]] = _instance_file_check("instance.path", Path(ip["path"]))
        n, m = seen[ip["path"]]
    else:
        n = ip["n"]
        m = expected_edges(n, ip["c"] if ip["problem"] == "coloring" else ip["d"], ip["graph"])
    key = (n, m, r["replicas"], r["grid_points"], dp["dynamics"])
    if key in seen:
        return
    seen[key] = True
    try:
        # tasks may run later or on other nodes: bound by this host's physical memory
        check_run_memory(n, m, r["replicas"], r["grid_points"], dp["dynamics"] == "sgd",
                         what="a task", available=total_memory())
    except ParameterError as e:
        raise err(f"{path}.replicas", str(e)) from None


def _dynamics_point(path: str, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    from mcsgd.dynamics import from_params

    kind = p.get("dynamics")
    if kind is None:
        raise err(f"{path}.dynamics", "missing; one of 'metropolis', 'sgd'")
    choice(f"{path}.dynamics", kind, tuple(DYNAMICS_KEYS))
    allowed = set(DYNAMICS_KEYS[kind]) | set(RUN_DEFAULTS) | {"dynamics"}
    check_keys(path, p, allowed)
    dyn = {k: v for k, v in p.items() if k in DYNAMICS_KEYS[kind] or k == "dynamics"}
    run_over = {k: v for k, v in p.items() if k in RUN_DEFAULTS}
    for k, default in DYNAMICS_KEYS[kind].items():
        if default is None and k not in dyn:
            raise err(f"{path}.{k}", f"missing (required for dynamics = {kind!r})")
    # types first, so the dataclass checks below see numbers
    for k in ("T", "B"):
        if k in dyn:
            num(f"{path}.{k}", dyn[k])
    if "tau" in dyn:
        num(f"{path}.tau", dyn["tau"], 1, None, integer=True)
    try:
        d = from_params(dyn)
    except ParameterError as e:
        raise at_key(path, dyn, e) from None
    return d.params(), run_over


def _run_point(path: str, p: dict[str, Any]) -> dict[str, Any]:
    q = {**RUN_DEFAULTS, **p}
    return {
        "sweeps": num(f"{path}.sweeps", q["sweeps"], 1, None, integer=True),
        "replicas": num(f"{path}.replicas", q["replicas"], 1, None, integer=True),
        "init": choice(f"{path}.init", q["init"], ("random", "planted")),
        "grid": choice(f"{path}.grid", q["grid"], ("log", "linear")),
        "grid_points": num(f"{path}.grid_points", q["grid_points"], 1, 100000, integer=True),
        "window": num(f"{path}.window", q["window"], 0, 1, hi_open=True),
    }


def _settings(path: str, tbl: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    t = table(path, tbl)
    check_keys(path, t, defaults)
    out = copy.deepcopy(defaults)
    for k, v in t.items():
        d = defaults[k]
        p = f"{path}.{k}"
        if isinstance(d, bool):
            out[k] = boolean(p, v)
        elif isinstance(d, (int, float)):
            out[k] = num(p, v, 0, None, integer=isinstance(d, int))
        elif isinstance(d, list):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise err(p, "must be a list of strings")
            out[k] = v
        else:
            out[k] = string(p, v)
    return out


# ---- the whole file ---------------------------------------------------------------------------
def load_spec(path: str | os.PathLike, out: str | None = None,
              max_tasks: int | None = None) -> Spec:
    """Read, validate and expand a scan file.

    Parameters
    ----------
    path : path-like
        The TOML scan file.
    out : str, optional
        Output directory overriding the file's ``out``.
    max_tasks : int, optional
        Limit on the number of tasks, overriding the file's ``max_tasks`` (default
        :data:`MAX_TASKS`); counted before anything is expanded.

    Returns
    -------
    Spec

    Raises
    ------
    ParameterError
        For a missing/unreadable file, bad TOML, or a bad key or value (message names its path).
    """
    text = read_text(path, "scan file")
    return spec_from_text(text, path=str(Path(path)), out=out, max_tasks=max_tasks)


def spec_from_text(text: str, *, path: str | None = None, out: str | None = None,
                   max_tasks: int | None = None) -> Spec:
    """Validate and expand scan-file text (see :func:`load_spec`)."""
    spec_dir = Path(path).resolve().parent if path else Path.cwd()
    default_name = Path(path).stem if path else "scan"
    if text.startswith(SPEC_DIR_HEADER):  # a copy in an output directory (store.prepare_dir)
        first, _, text = text.partition("\n")
        orig = Path(first[len(SPEC_DIR_HEADER):].strip())
        spec_dir, default_name = orig.parent, orig.stem
        if text.startswith(MAX_TASKS_HEADER):  # the limit the scan was started with
            line, _, text = text.partition("\n")
            if max_tasks is None:
                try:
                    max_tasks = int(line[len(MAX_TASKS_HEADER):])
                except ValueError:
                    raise err("max_tasks", f"{line!r} is not an integer") from None
    override = max_tasks
    raw = parse_toml(text, path or "<scan>")
    check_keys("", raw, TOP_KEYS)
    name = string("name", raw.get("name", default_name))
    seed = num("seed", raw.get("seed", 0), 0, 2**63 - 1, integer=True)
    n_inst = num("instances", raw.get("instances", 1), 1, None, integer=True)
    exp = choice("experiment", raw.get("experiment", "discrete"),
                 ("discrete", "continuous", "calibrate"))
    if max_tasks is None:
        max_tasks = num("max_tasks", raw.get("max_tasks", MAX_TASKS), 1, None, integer=True)
    if out is None:
        if "out" not in raw:
            raise err("out", "missing (output directory; or give --out)")
        o = Path(string("out", raw["out"]))
        out = str(o if o.is_absolute() else (spec_dir / o))
    out = str(Path(out).resolve())
    execution = _settings("execution", raw.get("execution", {}), EXECUTION_DEFAULTS)
    slurm = _settings("slurm", raw.get("slurm", {}), SLURM_DEFAULTS)
    dask = _settings("dask", raw.get("dask", {}), DASK_DEFAULTS)
    from mcsgd.experiments.scan.batch import (  # values that reach job scripts
        check_dask,
        check_slurm,
    )

    check_slurm(slurm)
    check_dask(dask)
    if dask["processes"] < 1:
        raise err("dask.processes", f"{dask['processes']} is not in [1, inf)")
    if dask["jobs"] < 1:
        raise err("dask.jobs", f"{dask['jobs']} is not in [1, inf)")
    if slurm["cpus_per_task"] < 1:
        raise err("slurm.cpus_per_task", f"{slurm['cpus_per_task']} is not in [1, inf)")
    if execution["chunk_updates"] < 1:
        raise err("execution.chunk_updates", f"{execution['chunk_updates']} is not in [1, inf)")
    tasks: list[Task] = []
    raw, layout = _pop_layout(raw)
    if exp != "calibrate" and "calibrate" in raw:
        raise err("calibrate", "only with experiment = 'calibrate'")
    if exp == "calibrate":
        tasks = _calibrate_tasks(raw, seed, n_inst, spec_dir, max_tasks)
    elif exp == "discrete":
        for k in ("continuous",):
            if k in raw:
                raise err(k, "only with experiment = 'continuous'")
        if "instance" not in raw:
            raise err("instance", "missing ([instance] table)")
        inst_t = table("instance", raw["instance"])
        run_t = table("run", raw.get("run", {}))
        check_keys("run", {k: v for k, v in run_t.items() if k != "zip"}, RUN_DEFAULTS)
        dyn_l = raw.get("dynamics")
        if dyn_l is None:
            raise err("dynamics", "missing (one or more [[dynamics]] tables)")
        if isinstance(dyn_l, dict):
            dyn_l = [dyn_l]
        if not isinstance(dyn_l, list) or not dyn_l:
            raise err("dynamics", "must be one or more [[dynamics]] tables")
        n_dyn = sum(count_points(f"dynamics[{j}]", table(f"dynamics[{j}]", dt))
                    for j, dt in enumerate(dyn_l))
        check_task_count(count_points("instance", inst_t) * n_inst * n_dyn
                         * count_points("run", run_t), max_tasks)
        inst_pts = [_instance_point("instance", x, spec_dir) for x in expand("instance", inst_t)]
        if any(ip["problem"] == "file" for ip in inst_pts) and n_inst != 1:
            raise err("instances", f"{n_inst} must be 1 with problem = 'file'")
        run_pts = [_run_point("run", x) for x in expand("run", run_t)]
        dyn_pts: list[tuple[dict, dict]] = []
        for j, dt in enumerate(dyn_l):
            path_j = f"dynamics[{j}]"
            for x in expand(path_j, table(path_j, dt)):
                dyn_pts.append(_dynamics_point(path_j, x) + (path_j,))  # type: ignore[arg-type]
        seen_sizes: dict = {}
        for ip in inst_pts:
            for k in range(n_inst):
                inst = {**ip, "index": k}
                for dp, over, path_j in dyn_pts:  # type: ignore[misc]
                    for rp in run_pts:
                        r = _run_point(path_j, {**rp, **over}) if over else rp
                        if r["init"] == "planted" and ip["problem"] != "file" \
                                and not ip["planted"]:
                            raise err(f"{path_j if 'init' in over else 'run'}.init",
                                       "'planted' needs planted = true in [instance]")
                        _check_run_size(path_j if "replicas" in over else "run", ip, dp, r,
                                        seen_sizes)
                        params = {"experiment": "discrete", "instance": inst, "dynamics": dp,
                                  "run": r}
                        tasks.append(_make_task(params, seed))
    else:
        for k in ("instance", "dynamics", "run"):
            if k in raw:
                raise err(k, "not used with experiment = 'continuous' (use [[continuous]])")
        cl = raw.get("continuous")
        if isinstance(cl, dict):
            cl = [cl]
        if not isinstance(cl, list) or not cl:
            raise err("continuous", "missing (one or more [[continuous]] tables)")
        from mcsgd.experiments import continuous as ctasks

        def _scal(ct: Any) -> tuple[str, ...]:
            e = ct.get("experiment") if isinstance(ct, dict) else None
            dflt = ctasks.DEFAULTS.get(e, {}) if isinstance(e, str) else {}
            return tuple(k for k, v in dflt.items() if isinstance(v, list)) + (
                "eta_scan", "grid_eta", "grid_B")

        check_task_count(sum(count_points(f"continuous[{j}]", table(f"continuous[{j}]", ct),
                                          _scal(ct)) for j, ct in enumerate(cl)), max_tasks)
        for j, ct in enumerate(cl):
            path_j = f"continuous[{j}]"
            ct = table(path_j, ct)
            exp_j = ct.get("experiment")
            if exp_j is None:
                raise err(f"{path_j}.experiment",
                           f"missing; one of {', '.join(ctasks.EXPERIMENTS)}")
            choice(f"{path_j}.experiment", exp_j, ctasks.EXPERIMENTS)
            defaults = ctasks.DEFAULTS[exp_j]
            scal = tuple(k for k, v in defaults.items() if isinstance(v, list)) + (
                "eta_scan", "grid_eta", "grid_B")
            for x in expand(path_j, ct, scalar_lists=scal):
                try:
                    resolved = ctasks.resolve_params(x)
                except ParameterError as e:
                    raise at_key(path_j, x, e) from None
                params = {"experiment": "continuous", "continuous": resolved}
                tasks.append(_make_task(params, seed))
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        first: dict[str, Task] = {}
        dup = next(t for t in tasks if first.setdefault(t.id, t) is not t)
        raise ParameterError(f"the scan expands to duplicate tasks (e.g. {dup.label()}); "
                             "remove repeated values")
    return Spec(path=str(Path(path).resolve()) if path else None, text=text, name=name,
                seed=int(seed), out=out, tasks=tasks, execution=execution, slurm=slurm,
                dask=dask, max_tasks=override, layout=layout)


def _pop_layout(raw: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """``raw`` without ``layout`` in its [run] or [calibrate] table, and that layout (default
    "auto"): how the chains of a task advance (:func:`mcsgd.driver.run`,
    :func:`mcsgd.experiments.calibrate.calibrate`), which changes speed only, so it stays out
    of the tasks' parameters and ids."""
    layout = "auto"
    for name in ("run", "calibrate"):
        t = raw.get(name)
        if not isinstance(t, dict) or "layout" not in t:
            continue
        from mcsgd.driver import LAYOUTS

        t = dict(t)
        layout = choice(f"{name}.layout", t.pop("layout"), LAYOUTS)
        raw = {**raw, name: t}
    return raw, layout


def _calibrate_tasks(raw: dict[str, Any], seed: int, n_inst: int, spec_dir: Path,
                     max_tasks: int) -> list[Task]:
    """Tasks of ``experiment = "calibrate"``: one calibration per (instance point, [calibrate]
    point), on instances 0 .. ``instances`` - 1 of the point (module docstring)."""
    for k in ("continuous", "dynamics", "run"):
        if k in raw:
            raise err(k, "not used with experiment = 'calibrate' (use [calibrate])")
    if "instance" not in raw:
        raise err("instance", "missing ([instance] table)")
    if "calibrate" not in raw:
        raise err("calibrate", "missing ([calibrate] table with B = [...])")
    inst_t = table("instance", raw["instance"])
    cal_t = table("calibrate", raw["calibrate"])
    check_keys("calibrate", {k: v for k, v in cal_t.items() if k != "zip"}, CALIBRATE_DEFAULTS)
    check_task_count(count_points("instance", inst_t)
                     * count_points("calibrate", cal_t, CALIBRATE_LISTS), max_tasks)
    inst_pts = [_instance_point("instance", x, spec_dir) for x in expand("instance", inst_t)]
    cal_pts = [_calibrate_point("calibrate", x, n_inst)
               for x in expand("calibrate", cal_t, scalar_lists=CALIBRATE_LISTS)]
    tasks = []
    for ip in inst_pts:
        if ip["problem"] == "file":
            raise err("instance.problem", "'file' cannot be calibrated (a calibration "
                       "generates its instances; use 'coloring' or 'ising')")
        try:
            calibration_problem(ip)
        except ParameterError as e:
            raise at_key("instance", ip, e) from None
        for cp in cal_pts:
            _check_calibration_size(ip, cp, n_inst)
            tasks.append(_make_task({"experiment": "calibrate", "instance": ip,
                                     "instances": n_inst, "calibrate": cp}, seed))
    return tasks


def _calibrate_point(path: str, p: dict[str, Any], n_inst: int) -> dict[str, Any]:
    """One validated point of the [calibrate] table (defaults filled)."""
    from mcsgd.experiments.calibrate import MODES

    q = {**CALIBRATE_DEFAULTS, **p}
    if q["B"] is None:
        raise err(f"{path}.B", "missing (a list of mini-batch fractions in (0, 1])")
    B = q["B"] if isinstance(q["B"], list) else [q["B"]]
    if not B:
        raise err(f"{path}.B", "is an empty list")
    B = [num(f"{path}.B[{i}]", b, 0, 1, lo_open=True) for i, b in enumerate(B)]
    T_grid = q["T_grid"]
    if T_grid != "auto":
        if not isinstance(T_grid, list) or not T_grid:
            raise err(f"{path}.T_grid", "must be 'auto' or a non-empty list of temperatures")
        T_grid = [num(f"{path}.T_grid[{i}]", t, 0, None, lo_open=True)
                  for i, t in enumerate(T_grid)]
    out = {
        "B": B,
        "replicas": num(f"{path}.replicas", q["replicas"], 1, None, integer=True),
        "sweeps": num(f"{path}.sweeps", q["sweeps"], 4, None, integer=True),
        "mode": choice(f"{path}.mode", q["mode"], MODES),
        "T_grid": T_grid,
        "window": num(f"{path}.window", q["window"], 0, 1, lo_open=True, hi_open=True),
        "grid_points": num(f"{path}.grid_points", q["grid_points"], 1, 100000, integer=True),
    }
    if n_inst * out["replicas"] < 2:
        raise err(f"{path}.replicas", "instances x replicas must be >= 2 (error bars need two "
                   "units)")
    return out


def _check_calibration_size(ip: dict[str, Any], cp: dict[str, Any], n_inst: int) -> None:
    """Refuse a calibration that cannot fit in memory (the instances and one run), like
    ``mcsgd calibrate`` (bounded by this host's physical memory: tasks may run elsewhere)."""
    from mcsgd.problems.coloring import expected_edges, graph_memory_bytes
    from mcsgd.resources import check_memory, run_memory_bytes, total_memory

    deg = ip["c"] if ip["problem"] == "coloring" else ip["d"]
    m = expected_edges(ip["n"], deg, ip["graph"])
    try:
        check_memory(f"a calibration ({n_inst} instances of N = {ip['n']}, M = {m}, "
                     f"{cp['replicas']} replicas)",
                     n_inst * graph_memory_bytes(ip["n"], m)
                     + run_memory_bytes(ip["n"], m, cp["replicas"], 40, True),
                     available=total_memory())
    except ParameterError as e:
        raise err("calibrate.replicas", str(e)) from None


def calibration_problem(inst: dict[str, Any]):
    """The :class:`~mcsgd.experiments.calibrate.Problem` of a canonical instance point (the
    same instances as ``mcsgd calibrate`` with these parameters: c is passed as a float)."""
    from mcsgd.experiments.calibrate import Problem

    if inst["problem"] == "coloring":
        return Problem(problem="coloring", n=inst["n"], q=inst["q"], c=float(inst["c"]),
                       graph=inst["graph"], planted=inst["planted"], shuffle=inst["shuffle"])
    return Problem(problem="ising", n=inst["n"], c=float(inst["d"]), graph=inst["graph"],
                   planted=inst["planted"], noise=float(inst["noise"]))


def _make_task(params: dict[str, Any], seed: int) -> Task:
    params = json.loads(canonical_json(params))
    return Task(id=task_id(params, seed), params=params, seed=int(seed),
                key=(SCAN, *hash_words(params)))  # type: ignore[arg-type]


def shard(tasks: list[Task], i: int, n: int) -> list[Task]:
    """Tasks of shard ``i`` of ``n`` (round robin over the plan order)."""
    return [t for j, t in enumerate(tasks) if j % n == i]
