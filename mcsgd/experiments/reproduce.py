"""The paper's reproductions as functions: ``reproduce tb-curve`` and ``reproduce recovery``.

Each reproduction reads a spec file (TOML; the embedded defaults are ``mcsgd/data/tb_curve.toml``
and ``mcsgd/data/recovery.toml``) through the one spec loader (:mod:`mcsgd.experiments.specfile`,
errors ``<file>: <path in the file>: <what is wrong>``), runs, and writes its files under an
output directory:

* :func:`load_tb_curve_spec`, :func:`reproduce_tb_curve` (one calibration file per c, reused
  when complete and computed with the same parameters and version; ``tb_table.md``,
  ``tb_table.json``), :func:`tb_curve_figures`;
* :func:`load_recovery_spec`, :func:`reproduce_recovery` (``recovery.json``,
  ``recovery_sgd.h5``, ``recovery_metropolis.h5``, ``recovery_table.md``; every finished row
  in ``rows/``, reused on a re-run when its parameters and the version match),
  :func:`recovery_figure`, :func:`format_recovery`.

Progress goes to the ``progress`` callback, remarks the user should see to ``note``; nothing is
printed here.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any

from mcsgd.errors import ParameterError
from mcsgd.experiments import specfile as sf
from mcsgd.experiments.calibrate import GRAPHS, MODES

TB_CURVE_RESOURCE = "tb_curve.toml"
RECOVERY_RESOURCE = "recovery.toml"


def _silent(msg: str) -> None:
    pass


# ---- checkers of spec values (path, value) -> value -----------------------------------------
def _int(lo: int, hi: int | None = None) -> Callable[[str, Any], Any]:
    return lambda p, v: sf.num(p, v, lo, hi, integer=True)


def _real(lo: float | None, hi: float | None = None, **kw: bool) -> Callable[[str, Any], Any]:
    return lambda p, v: sf.num(p, v, lo, hi, **kw)


def _one_of(choices: tuple[str, ...]) -> Callable[[str, Any], Any]:
    return lambda p, v: sf.choice(p, v, choices)


def _array(check: Callable[[str, Any], Any], length: int | None = None,
           empty_ok: bool = False) -> Callable[[str, Any], Any]:
    def f(p: str, v: Any) -> Any:
        if empty_ok and v == []:
            return v
        return sf.array(p, v, check, length=length)

    return f


_DEGREE = _real(0)
_BATCH = _real(0, 1, lo_open=True)
_TEMPERATURE = _real(0)


def spec_text(path: str | None, resource: str) -> str:
    """The text of a spec file, or of the embedded ``resource`` when ``path`` is None (unchecked:
    what ``--print-spec`` shows)."""
    return _read(path, resource)[0]


def _read(path: str | None, resource: str) -> tuple[str, str]:
    """(text, name for messages) of a spec file, or of the embedded one when ``path`` is None."""
    if path is None:
        return sf.read_resource(resource), f"{resource} (embedded)"
    return sf.read_text(path), str(path)


def _sections(raw: dict[str, Any], name: str, problem: dict, experiment: dict,
              required: tuple[str, ...], quick: bool) -> tuple[dict, dict]:
    """Check [problem], [experiment] and [quick] (same keys as [experiment]); returns the
    problem table and the experiment table with the [quick] overrides applied if ``quick``."""
    try:
        sf.check_keys("", raw, ("problem", "experiment", "quick"))
        for sec in ("problem", "experiment"):
            if sec not in raw:
                raise sf.err(sec, f"missing ([{sec}] table)")
        pr = sf.check_table("problem", raw["problem"], problem)
        ex = sf.check_table("experiment", raw["experiment"], experiment)
        qk = sf.check_table("quick", raw.get("quick", {}), experiment)
        if quick:
            ex.update(qk)
        for k in required:
            if k not in ex:
                raise sf.err(f"experiment.{k}", "missing")
    except ParameterError as e:
        raise sf.in_file(name, e) from None
    return pr, ex


# ---- tb-curve -------------------------------------------------------------------------------
_TB_PROBLEM = {"problem": _one_of(("coloring", "ising")), "q": _int(2, 127),
               "graph": _one_of(GRAPHS), "planted": sf.boolean, "noise": _real(0, 1),
               "shuffle": sf.boolean}
_TB_EXPERIMENT = {"c": _array(_DEGREE), "B": _array(_BATCH), "n": _int(2),
                  "instances": _int(1), "replicas": _int(1), "sweeps": _int(4),
                  "seed": _int(0), "mode": _one_of(MODES), "out": sf.string,
                  "window": _real(0, 1, lo_open=True, hi_open=True)}
_TB_REQUIRED = ("c", "B", "n", "instances", "replicas", "sweeps")


def load_tb_curve_spec(path: str | None = None, quick: bool = False) -> dict[str, Any]:
    """Read and check a tb-curve spec (default: the embedded one), ``[quick]`` applied if asked.

    Returns ``{"problem", "experiment", "text", "name"}``: the ``[problem]`` table, the
    ``[experiment]`` table (with the overrides), the file's text and its name for messages.
    Raises :class:`~mcsgd.errors.ParameterError` naming the file and the path of a bad value.
    """
    text, name = _read(path, TB_CURVE_RESOURCE)
    raw = sf.parse_toml(text, name)
    pr, ex = _sections(raw, name, _TB_PROBLEM, _TB_EXPERIMENT, _TB_REQUIRED, quick)
    return {"problem": pr, "experiment": ex, "text": text, "name": name}


def tb_curve_plan(spec: dict[str, Any]) -> tuple[list, list, dict[str, Any]]:
    """(problems, one per c; target dynamics; calibrate keyword arguments) of a tb-curve spec."""
    from mcsgd.dynamics import SGD
    from mcsgd.experiments.calibrate import Problem

    exp, pr = spec["experiment"], spec["problem"]
    probs = []
    for i, c in enumerate(exp["c"]):
        try:
            probs.append(Problem(n=int(exp["n"]), c=float(c), **pr))  # validated there
        except ParameterError as e:
            raise sf.in_file(spec["name"], sf.err(f"experiment.c[{i}]", str(e))) from None
    targets = [SGD(float(b)) for b in exp["B"]]
    run_kw = dict(instances=int(exp["instances"]), replicas=int(exp["replicas"]),
                  sweeps=int(exp["sweeps"]), seed=int(exp.get("seed", 1)),
                  mode=exp.get("mode", "both"), window=float(exp.get("window", 0.5)))
    return probs, targets, run_kw


def stale_keys(stored: dict, prob, targets, run_kw: dict) -> list[str]:
    """Calibration parameters in which a stored result differs from what a spec asks for.

    ``stored`` is a :attr:`Calibration.params` dict; the comparison covers the whole problem,
    every target dynamics (so the B list and its order), and ``run_kw`` (instances, replicas,
    sweeps, seed, mode, window), after a JSON round trip so that file and spec compare alike.
    An empty list means the stored result is what would be computed (the caller also compares
    the mcsgd version that wrote it, :func:`stored_version`).
    """
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


def reproduce_tb_curve(spec: dict[str, Any], out: str, *, c_index: int | None = None,
                       threads: int | None = None, layout: str = "auto",
                       progress: Callable[[str], None] = _silent,
                       note: Callable[[str], None] = _silent) -> list | None:
    """Calibrate T(B) for every c of ``spec`` (or only ``c_index``) into ``out``.

    Each c is stored as ``out/calib_c<c>.h5`` and reused when complete and computed with the
    same parameters and mcsgd version. Without ``c_index`` the table of all c is written to
    ``out/tb_table.md`` and ``out/tb_table.json`` and the calibrations are returned in the
    order of the spec's c (with ``c_index``: None).
    """
    from mcsgd import __version__
    from mcsgd.errors import FileFormatError
    from mcsgd.experiments.calibrate import Calibration, calibrate, format_table
    from mcsgd.storage.h5 import to_jsonable
    from mcsgd.storage.paths import check_output_dir

    exp = spec["experiment"]
    cs = exp["c"]
    check_output_dir(out)
    if c_index is not None and not (0 <= c_index < len(cs)):
        raise ParameterError(f"c-index = {c_index} is not in [0, {len(cs) - 1}]")
    idx = range(len(cs)) if c_index is None else [c_index]
    probs, targets, run_kw = tb_curve_plan(spec)
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
                    progress(f"c = {cs[i]:g}: complete result found in {path}, skipped")
                    cals[i] = cal
                    continue
                note(f"c = {cs[i]:g}: {path} was computed with other {', '.join(diff)} than "
                     "the spec asks for; recomputing it")
            except FileFormatError:
                progress(f"c = {cs[i]:g}: {path} is incomplete or foreign, recomputing")
        progress(f"c = {cs[i]:g}: calibrating {len(targets)} batch sizes (N = {exp['n']})")
        cal = calibrate(probs[i], targets, **run_kw, threads=threads, progress=progress,
                        layout=layout)
        cal.save(path)
        cals[i] = cal
        progress(f"c = {cs[i]:g}: done in {cal.timing['total_s']:.0f} s -> {path}")
    if c_index is not None:
        return None
    ordered = [cals[i] for i in range(len(cs))]
    with open(os.path.join(out, "tb_table.md"), "w", encoding="utf-8") as fh:
        fh.write(format_table(ordered, with_params=True) + "\n")
    with open(os.path.join(out, "tb_table.json"), "w", encoding="utf-8") as fh:
        json.dump(to_jsonable(tb_table_json(ordered)), fh, indent=1)
    return ordered


def tb_table_json(cals: list) -> dict[str, Any]:
    """The object of ``tb_table.json``: ``params`` (what the table was computed with) and
    ``rows``, one per c: ``c`` and the calibration table's lists (one entry per B, ``flags``
    included). The ``T`` list (a Metropolis target's temperature, always null for the SGD
    targets of tb-curve) is left out."""
    from mcsgd import __version__

    p = cals[0].params
    pr = p["problem"]
    params = {
        "problem": pr.get("problem", "coloring"), "N": pr["n"], "q": pr["q"],
        "c": [cal.params["problem"]["c"] for cal in cals], "ensemble": pr["graph"],
        "planted": pr.get("planted", True), "B": [d.get("B") for d in p["targets"]],
        "sweeps": p["sweeps"], "window": p["window"], "instances": p["instances"],
        "replicas": p["replicas"], "seed": p["seed"], "mode": p["mode"],
        "version": __version__,
    }
    rows = [{"c": cal.params["problem"]["c"],
             **{k: v for k, v in cal.table.items() if k != "T"}} for cal in cals]
    return {"params": params, "rows": rows}


def tb_curve_figures(cals: list, out: str) -> list[str]:
    """Draw ``out/tb_curve.png`` and one ``out/relaxation_c<c>.png`` per calibration; returns
    the paths (ParameterError without matplotlib)."""
    from mcsgd.plots import plot_relaxation, plot_tb

    paths = [os.path.join(out, "tb_curve.png")]
    plot_tb(cals, paths[0])
    for cal in cals:
        cval = cal.params["problem"]["c"]
        paths.append(os.path.join(out, f"relaxation_c{cval:g}.png"))
        plot_relaxation(cal, paths[-1])
    return paths


# ---- recovery -------------------------------------------------------------------------------
_REC_PROBLEM = {"q": _int(2, 127), "graph": _one_of(GRAPHS), "shuffle": sf.boolean}
_REC_EXPERIMENT = {
    "c": _array(_DEGREE), "B": _array(_BATCH), "T": _array(_TEMPERATURE), "n": _int(1),
    "instances": _int(1), "replicas": _int(1), "sweeps": _int(1), "seed": _int(0),
    "threshold": _real(0, 1, lo_open=True), "out": sf.string,
    "calibration_B": _array(_BATCH, empty_ok=True), "calibration_sweeps": _int(4),
    "anneal_c": _array(_DEGREE, empty_ok=True), "anneal_T": _array(_TEMPERATURE, length=2),
    "anneal_B": _array(_BATCH, length=2), "quench": _int(0),
    "bp_c": _array(_DEGREE, empty_ok=True), "bp_n": _int(1),
}
_REC_REQUIRED = ("c", "B", "T", "n", "instances", "replicas", "sweeps")


def load_recovery_spec(path: str | None = None, quick: bool = False) -> dict[str, Any]:
    """Read and check a recovery spec (default: the embedded one), ``[quick]`` applied if asked.

    Returns ``{"problem", "experiment", "text", "name", "raw"}`` (``raw``: the parsed file, as
    stored in the results). Raises :class:`~mcsgd.errors.ParameterError` naming the file and
    the path of a bad value.
    """
    from mcsgd import problems
    from mcsgd.dynamics import SGD, Metropolis

    text, name = _read(path, RECOVERY_RESOURCE)
    raw = sf.parse_toml(text, name)
    pr, ex = _sections(raw, name, _REC_PROBLEM, _REC_EXPERIMENT, _REC_REQUIRED, quick)
    try:
        if ex.get("anneal_c"):
            for k in ("anneal_T", "anneal_B"):
                if k not in ex:
                    raise sf.err(f"experiment.{k}", "missing (needed with anneal_c)")
        checks = [("c", lambda c: problems.check_coloring_params(
                      int(ex["n"]), int(pr.get("q", 5)), c, pr.get("graph", "er"), True)),
                  ("B", SGD), ("T", Metropolis)]
        for key, check in checks:
            for i, v in enumerate(ex[key]):
                try:
                    check(v)
                except ParameterError as e:
                    raise sf.err(f"experiment.{key}[{i}]", str(e)) from None
    except ParameterError as e:
        raise sf.in_file(name, e) from None
    return {"problem": pr, "experiment": ex, "text": text, "name": name, "raw": raw}


ROWS_DIR = "rows"  # reproduce recovery: out/rows/<row>.h5, one file per finished row


class RowStore:
    """The resume store of ``reproduce recovery``: one file per finished row,
    ``out/rows/<name>.h5`` (:func:`mcsgd.storage.recovery.write_row`), reused by a re-run only
    when every parameter of the row (``common`` + the row's own) and the mcsgd version match,
    like ``reproduce tb-curve``'s per-c files. ``reused`` / ``computed`` count the rows."""

    def __init__(self, out: str, common: dict[str, Any],
                 progress: Callable[[str], None] = _silent) -> None:
        self.dir = os.path.join(out, ROWS_DIR)
        self.common = common
        self.say = progress
        self.reused = 0
        self.computed = 0

    def get(self, name: str, params: dict[str, Any],
            compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """The stored row ``name`` if it was made with these parameters and this version,
        else ``compute()`` (then stored atomically)."""
        from mcsgd import __version__
        from mcsgd.storage.h5 import to_jsonable
        from mcsgd.storage.recovery import read_row, write_row

        path = os.path.join(self.dir, f"{name}.h5")
        want = json.loads(json.dumps(to_jsonable({**self.common, **params})))
        if os.path.exists(path):
            try:
                row, got, prov = read_row(path)
                if got == want and prov.get("mcsgd") == __version__:
                    self.say(f"{name}: finished row found in {path}, reused")
                    self.reused += 1
                    return row
                self.say(f"{name}: {path} was computed with other parameters or another "
                         "mcsgd version; recomputing it")
            except (ParameterError, KeyError, ValueError, OSError):
                self.say(f"{name}: {path} is incomplete or foreign, recomputing")
        row = compute()
        os.makedirs(self.dir, exist_ok=True)
        write_row(path, row, want)
        self.computed += 1
        return row


def _setting_label(setting: Any) -> str:
    """``T0.5``, ``B0.8`` or ``annealT`` (a row file's name part)."""
    p = setting.params()
    if "anneal" in p:
        return f"anneal{p['anneal']}"
    return f"B{p['B']:g}" if "B" in p else f"T{p['T']:g}"


def _instances_of_one_c(make: Callable[[float, int], Any]) -> Callable[[float, int], Any]:
    """``make`` keeping every instance of the current c (rows of one c share them)."""
    cache: dict[tuple[float, int], Any] = {}

    def cached(c: float, k: int) -> Any:
        key = (float(c), int(k))
        if key not in cache:
            if any(kc != key[0] for kc, _ in cache):
                cache.clear()
            cache[key] = make(c, k)
        return cache[key]

    return cached


def reproduce_recovery(spec: dict[str, Any], out: str, *, quick: bool = False,
                       progress: Callable[[str], None] = _silent) -> dict[str, Any]:
    """Run the recovery experiment of ``spec`` and write its files under ``out``.

    Every row (one (c, setting) of Metropolis, SGD or annealing, a calibration or a BP
    point) is stored in ``out/rows/`` when it finishes and reused by a re-run when every
    parameter and the mcsgd version match (:class:`RowStore`), so a killed run resumes and
    ends with the same files.

    Metropolis over T and the SGD-like dynamics over B from random starts, the recovery
    windows, the B window mapped from the T window through T_adb(B) and through a calibrated
    T_eq(B), annealing at equal sweeps, and belief propagation as the Bayes-optimal
    reference. Writes ``recovery.json``, ``recovery_sgd.h5``, ``recovery_metropolis.h5`` and
    ``recovery_table.md``; returns the result dict of ``recovery.json`` (``quick`` is recorded
    in its params).
    """
    import numpy as np

    from mcsgd import theory
    from mcsgd.dynamics import SGD, Metropolis
    from mcsgd.experiments.calibrate import Problem, calibrate
    from mcsgd.experiments.recover import (
        DEFAULT_PLANTING,
        Anneal,
        instance_maker,
        map_T_window_to_B,
        ranking,
        recovery_scan,
        window,
    )
    from mcsgd.progress import counter, stage
    from mcsgd.storage.h5 import to_jsonable
    from mcsgd.storage.paths import check_output_dir
    from mcsgd.storage.recovery import public_rows, write_recovery

    pr, ex, raw = spec["problem"], spec["experiment"], spec["raw"]
    check_output_dir(out)
    os.makedirs(out, exist_ok=True)
    say = progress
    q = int(pr.get("q", 5))
    seed = int(ex.get("seed", 1))
    shuffle = pr.get("shuffle", DEFAULT_PLANTING == "shuffled")
    make = instance_maker(q, int(ex["n"]), pr.get("graph", "er"), shuffle, seed)
    kw = dict(instances=int(ex["instances"]), replicas=int(ex["replicas"]),
              sweeps=int(ex["sweeps"]), seed=seed, threshold=float(ex.get("threshold", 0.5)),
              progress=say)
    store = RowStore(out, {"n": int(ex["n"]), "q": q, "graph": pr.get("graph", "er"),
                           "shuffle": bool(shuffle), "seed": seed}, say)
    make = _instances_of_one_c(make)
    rkw = dict(instances=kw["instances"], replicas=kw["replicas"], sweeps=kw["sweeps"],
               threshold=kw["threshold"])

    def rows(section, cs, settings, quench=0):
        """recovery_scan one (c, setting) at a time (rows do not depend on each other: run
        streams are keyed by (c, setting, k)), each row stored and reused on a re-run."""
        extra = {"quench": quench} if quench else {}
        return [store.get(f"{section}_c{c:g}_{_setting_label(st)}",
                          {"section": section, "c": float(c), "setting": st.params(), **rkw,
                           **extra},
                          lambda c=c, st=st: recovery_scan(make, [c], [st], **kw, **extra)[0])
                for c in cs for st in settings]

    say("Metropolis recovery over T")
    mc_rows = rows("metropolis", ex["c"], [Metropolis(t) for t in ex["T"]])
    say("SGD-like recovery over B")
    sgd_rows = rows("sgd", ex["c"], [SGD(b) for b in ex["B"]])
    w_T = window(mc_rows, "T")
    w_B = window(sgd_rows, "B")
    rank_B = {f"{r['c']:g}": r for r in ranking(sgd_rows, "B")}
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
            def calibrated(c=c, cal_B=cal_B):
                say(f"c = {c:g}: calibrating T(B) at B = "
                    f"{', '.join(f'{b:g}' for b in cal_B)}")
                cal = calibrate(Problem(n=int(ex["n"]), q=q, c=float(c),
                                        graph=pr.get("graph", "er"), shuffle=shuffle),
                                [SGD(b) for b in cal_B], instances=1, replicas=4,
                                sweeps=int(ex.get("calibration_sweeps", 400)), seed=seed,
                                mode="equilibrium", refine=1, progress=say)
                return {"T_eq": cal.table["T_eq"]}

            cal_T = store.get(f"calibration_c{c:g}",
                              {"section": "calibration", "c": float(c), "B": cal_B,
                               "sweeps": int(ex.get("calibration_sweeps", 400)),
                               "instances": 1, "replicas": 4, "mode": "equilibrium",
                               "refine": 1}, calibrated)["T_eq"]
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
            "B_ranking": rank_B.get(key),
            "T_best": w_T[key]["best"],
        })
    # annealing at equal sweeps
    anneal_rows = []
    if "anneal_c" in ex:
        quench = int(ex.get("quench", 0))
        sched = [Anneal("T", *map(float, ex["anneal_T"])), Anneal("B", *map(float, ex["anneal_B"]))]
        say("annealing comparison")
        anneal_rows = rows("anneal", ex["anneal_c"], sched, quench=quench)
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
            def bp_row(c=c):
                inst = problems.planted_coloring(int(ex.get("bp_n", 100000)), q, float(c),
                                                 seed=seed)
                stage(say, f"BP c = {c:g} (N = {inst.n})", 1000)
                res = run_bp(inst, seed=seed, progress=counter(say))
                say(f"BP c = {c:g}: overlap {res.overlap:.3f} ({res.iterations} iterations)")
                return {"c": float(c), "overlap": res.overlap, "converged": res.converged,
                        "iterations": res.iterations}

            bp_rows.append(store.get(f"bp_c{c:g}", {"section": "bp", "c": float(c),
                                                    "bp_n": int(ex.get("bp_n", 100000))},
                                     bp_row))
    result = {
        "params": {"spec": raw, "quick": quick},
        "metropolis": public_rows(mc_rows),
        "sgd": public_rows(sgd_rows),
        "summary": summary,
        "annealing": public_rows(anneal_rows),
        "bp": bp_rows,
        "c_KS": (q - 1) ** 2,
    }
    with open(os.path.join(out, "recovery.json"), "w", encoding="utf-8") as fh:
        json.dump(to_jsonable(result), fh, indent=1)
    write_recovery(os.path.join(out, "recovery_sgd.h5"), sgd_rows, {"spec": raw})
    write_recovery(os.path.join(out, "recovery_metropolis.h5"), mc_rows, {"spec": raw})
    with open(os.path.join(out, "recovery_table.md"), "w", encoding="utf-8") as fh:
        fh.write(format_recovery(result) + "\n")
    return result


def recovery_figure(result: dict[str, Any], out: str) -> str:
    """Draw ``out/recovery.png`` from a :func:`reproduce_recovery` result; returns its path
    (ParameterError without matplotlib)."""
    from mcsgd.plots import plot_recovery_map

    path = os.path.join(out, "recovery.png")
    plot_recovery_map(result, path)
    return path


def format_recovery(result: dict[str, Any]) -> str:
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

    def best(s):
        # the fastest B, and the B values its intervals cannot tell it from (ranking)
        rk = s.get("B_ranking")
        if s["B_best"] is None or not rk or rk["ranked"]:
            return f(s["B_best"], 2)
        return f"{f(s['B_best'], 2)} (not ranked vs {', '.join(f'{x:g}' for x in rk['tied'])})"

    unreached = False
    for s in result["summary"]:
        mapped = [s["B_window_from_T_adb"], s["B_window_from_T_eq"]]
        unreached |= any(w is not None and (w[0] is None) != (w[1] is None) for w in mapped)
        lines.append(
            f"| {s['c']:g} | {win(s['T_window'], 2)} | {win(s['B_window_measured'], 2)} | "
            f"{win(s['B_window_from_T_adb'])} | {win(s['B_window_from_T_eq'])} | "
            f"{best(s)} | {f(s['B_best_t_rec_median'], 0)} |")
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
