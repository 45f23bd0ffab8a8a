r"""One entry point for scan files and the CLI: :func:`run_task`.

``params`` uses the CLI option names with ``-`` replaced by ``_`` plus ``"experiment"``; every key
is validated (unknown keys are an error) and defaults are filled in, so a scan file and the
equivalent command line give identical results. Seeding (:mod:`mcsgd.seeds`): the model/data
stream is ``SeedSequence(entropy, (CONTINUOUS_MODEL, *key))`` and the SGD stream
``SeedSequence(entropy, (CONTINUOUS_SGD, *key))``, so a task is a deterministic function of
(params, entropy, key) and shares no stream with instances or discrete dynamics.

Experiments and their keys (defaults in :data:`DEFAULTS`):

========== ===========================================================================
fdr        model, eta, B, momentum, dampening, weight_decay, sampling, steps, chains,
           start (init|minimum), eta_scan (list: adds the η-dependence of the FDR2 probe)
adaptive   model, eta, B, X, Y, check_every, min_window, steps, chains, ...
linear-fdt eta, B, steps, chains, grid_eta, grid_B (lists: adds ``rows``), ...
ivf        noise (isotropic|hessian|hessian2|linreg|softmax|mlp), eta, B, level, skip_pcs,
           n_pcs, record_every, steps, chains, ...
escape     B (list), eta (number or list), s, depth, momentum, dampening, chains, max_steps,
           asymptotic_min
occupation B (list), eta, s, depth, kappa, steps, chains, ...
temperature model, B (list), eta, steps, chains, ...
========== ===========================================================================

Common model keys: data (auto|synthetic|digits), n_data, hidden, dim, hmin, hmax, f0, s, noise.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.progress import Progress, counter, stage
from mcsgd.seeds import CONTINUOUS_MODEL, CONTINUOUS_SGD, namespaced_generator
from mcsgd.storage.h5 import to_jsonable

EXPERIMENTS = ("fdr", "adaptive", "linear-fdt", "ivf", "escape", "occupation", "temperature")
FDR_MODELS = ("quadratic", "linreg", "softmax", "mlp")
TEMP_MODELS = ("quadratic", "wells", "linreg", "softmax", "mlp")
IVF_NOISES = ("isotropic", "hessian", "hessian2", "linreg", "softmax", "mlp")

_SGD = {"momentum": 0.0, "dampening": 0.0, "weight_decay": None, "sampling": "with"}
_MODEL = {
    "data": "auto", "n_data": None, "hidden": 8, "dim": 12, "hmin": 0.2, "hmax": 4.0,
    "f0": 1.0, "s": 1.0, "noise": "isotropic",
}
DEFAULTS: dict[str, dict[str, Any]] = {
    "fdr": {"model": "quadratic", "eta": 0.05, "B": 4, "steps": 20000, "chains": 8,
            "eta_scan": None, "start": "init", **_SGD, **_MODEL},
    "adaptive": {"model": "quadratic", "eta": 0.1, "B": 4, "X": 0.01, "Y": 0.5,
                 "check_every": 100, "min_window": 2000, "steps": 40000, "chains": 4,
                 **_SGD, **_MODEL},
    "linear-fdt": {"eta": 0.05, "B": 4, "steps": 20000, "chains": 8, "grid_eta": None,
                   "grid_B": None, **_SGD, "data": "synthetic", "n_data": None},
    "ivf": {"noise": "isotropic", "eta": 0.05, "B": 4, "steps": None, "chains": None,
            "level": 2.0, "skip_pcs": 0, "n_pcs": None, "record_every": 5, **_SGD,
            **{k: v for k, v in _MODEL.items() if k != "noise"}},
    "escape": {"B": [3, 4, 5], "eta": 0.01, "s": 160.0, "depth": 1.0, "chains": 400,
               "max_steps": 200000, "asymptotic_min": 3.75, "momentum": 0.0,
               "dampening": 0.0, "sampling": "with"},
    "occupation": {"B": [1, 2, 4], "eta": 0.01, "s": 120.0, "depth": 0.25, "kappa": 1.0,
                   "steps": 40000, "chains": 128, "momentum": 0.0, "dampening": 0.0,
                   "sampling": "with"},
    "temperature": {"model": "quadratic", "B": [1, 2, 4, 8, 16], "eta": 0.02, "steps": 10000,
                    "chains": 8, **_SGD, **_MODEL},
}


def _is_num(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _num(name: str, x: Any) -> float:
    if not _is_num(x):
        raise ParameterError(f"{name} = {x!r} is not a number")
    return float(x)


def _int(name: str, x: Any, lo: int | None = None) -> int:
    check_range(name, _num(name, x), lo, None, integer=True)
    return int(x)


def _list(name: str, x: Any) -> list:
    if _is_num(x):
        return [x]
    if isinstance(x, (list, tuple)) and len(x) > 0:
        return list(x)
    raise ParameterError(f"{name} = {x!r} must be a number or a non-empty list of numbers")


def resolve_params(params: dict) -> dict:
    """Validate ``params`` and fill defaults; returns a new dict (JSON-able)."""
    if not isinstance(params, dict):
        raise ParameterError("params must be a dict")
    exp = params.get("experiment")
    if exp is None:
        raise ParameterError(f"experiment is missing; one of {', '.join(EXPERIMENTS)}")
    check_choice("experiment", exp, EXPERIMENTS)
    p = copy.deepcopy(DEFAULTS[exp])
    unknown = sorted(set(params) - set(p) - {"experiment"})
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) for experiment {exp!r}: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(p))}"
        )
    p.update({k: v for k, v in params.items() if k != "experiment" and v is not None})
    p["experiment"] = exp
    # model choice
    if "model" in p:
        allowed = TEMP_MODELS if exp == "temperature" else FDR_MODELS
        check_choice("model", p["model"], allowed)
    if exp == "ivf":
        check_choice("noise", p["noise"], IVF_NOISES)
    elif "noise" in p:
        check_choice("noise", p["noise"], ("isotropic", "hessian", "hessian2"))
    if "data" in p:
        check_choice("data", p["data"], ("auto", "synthetic", "digits"))
    if "start" in p:
        check_choice("start", p["start"], ("init", "minimum"))
    # numbers
    if exp in ("escape", "occupation", "temperature"):
        p["B"] = [_int("B", b, 1) for b in _list("B", p["B"])]
    else:
        p["B"] = _int("B", p["B"], 1)
    if exp == "escape":
        p["eta"] = [_num("eta", e) for e in _list("eta", p["eta"])]
        for e in p["eta"]:
            check_range("eta", e, 0, None, lo_open=True)
    else:
        check_range("eta", _num("eta", p["eta"]), 0, None, lo_open=True)
        p["eta"] = float(p["eta"])
    for k in ("momentum", "dampening"):
        check_range(k, _num(k, p[k]), 0, 1, hi_open=True)
    check_choice("sampling", p["sampling"], ("with", "without"))
    if p.get("weight_decay") is not None:
        check_range("weight_decay", _num("weight_decay", p["weight_decay"]), 0, None)
    elif "weight_decay" in p:
        name = p.get("model", p.get("noise"))
        p["weight_decay"] = 1e-3 if name in ("softmax", "mlp") else 0.0
    for k in ("steps", "chains", "max_steps", "check_every", "min_window", "record_every",
              "hidden", "dim", "skip_pcs"):
        if p.get(k) is not None:
            p[k] = _int(k, p[k], 0 if k == "skip_pcs" else 1)
    for k in ("n_data", "n_pcs"):
        if p.get(k) is not None:
            p[k] = _int(k, p[k], 2)
    for k, lo, open_ in (("s", 0, True), ("depth", 0, True), ("kappa", 0, False),
                         ("hmin", 0, True), ("hmax", 0, True), ("f0", 0, False),
                         ("level", 1, True), ("X", 0, True), ("Y", 0, True),
                         ("asymptotic_min", 0, False)):
        if k in p:
            check_range(k, _num(k, p[k]), lo, None, lo_open=open_)
            p[k] = float(p[k])
    for k in ("X", "Y"):
        if k in p:
            check_range(k, p[k], 0, 1, lo_open=True, hi_open=True)
    if "hmax" in p:
        check_range("hmax", p["hmax"], p["hmin"], None)
    for k in ("eta_scan", "grid_eta"):
        if p.get(k) is not None:
            p[k] = [_num(k, e) for e in _list(k, p[k])]
            for e in p[k]:
                check_range(k, e, 0, None, lo_open=True)
    if p.get("grid_B") is not None:
        p["grid_B"] = [_int("grid_B", b, 1) for b in _list("grid_B", p["grid_B"])]
    if p.get("n_data") is not None and p.get("B") is not None:
        for b in p["B"] if isinstance(p["B"], list) else [p["B"]]:
            check_range("B", b, 1, p["n_data"], integer=True)
    _check_size(p)
    return p


def _check_size(p: dict) -> None:
    """Refuse sizes that cannot fit in memory (a lower bound: four float64 vectors of the
    parameter dimension per chain, one float64 per data sample)."""
    from mcsgd.resources import check_memory

    chains = int(p.get("chains") or 1)
    dim = int(p.get("dim") or 1)
    n_data = int(p.get("n_data") or 0)
    check_memory(f"{p['experiment']} ({chains} chains of dimension >= {dim}, {n_data} data "
                 "samples)", 32.0 * chains * dim + 8.0 * n_data)


def _model(p: dict, rng: np.random.Generator, name: str | None = None):
    from mcsgd.continuous.models import make_model

    name = name or p["model"]
    m = make_model(
        name, rng, data=p.get("data", "synthetic"), n_data=p.get("n_data"),
        noise=p.get("noise", "isotropic") if name == "quadratic" else "isotropic",
        s=p.get("s", 1.0), dim=p.get("dim", 12), hmin=p.get("hmin", 0.2),
        hmax=p.get("hmax", 4.0), f0=p.get("f0", 1.0), hidden=p.get("hidden", 8),
    )
    if m.n_data is not None:
        for b in p["B"] if isinstance(p["B"], list) else [p["B"]]:
            check_range("B", b, 1, m.n_data, integer=True)
        for b in p.get("grid_B") or []:
            check_range("grid_B", b, 1, m.n_data, integer=True)
    return m


def _sgd_kw(p: dict) -> dict:
    return {k: p[k] for k in ("momentum", "dampening", "weight_decay", "sampling")}


def run_task(params: dict, entropy: int, key: tuple[int, ...] = (),
             progress: Callable[..., None] | None = None) -> dict:
    """Run one continuous-SGD experiment.

    Parameters
    ----------
    params : dict
        ``{"experiment": ..., <CLI option names with underscores>: ...}``.
    entropy : int
        Root seed.
    key : tuple of int
        Spawn-key prefix identifying the task in a scan.
    progress : callable, optional
        A :class:`mcsgd.progress.Progress` hears the SGD steps of the engine (every few hundred
        steps: a bar with ETA on a terminal) and a stage line per extra phase (η scan, grid);
        a plain ``progress(msg)`` function hears the stage lines only. Results do not depend
        on it.

    Returns
    -------
    dict
        ``scalars`` (JSON-able; the keys of the CLI's ``--json``), ``arrays`` (name → ndarray),
        ``params`` (the resolved parameters), ``model`` (description of the model).
    """
    if isinstance(entropy, bool) or not isinstance(entropy, (int, np.integer)) \
            or not 0 <= entropy < 2**64:
        raise ParameterError(f"seed = {entropy!r} must be an integer in [0, 2**64)")
    p = resolve_params(params)
    key = tuple(int(k) for k in key)
    rng_m = namespaced_generator(CONTINUOUS_MODEL, int(entropy), key)
    rng = namespaced_generator(CONTINUOUS_SGD, int(entropy), key)
    exp = p["experiment"]
    extra: dict[str, Any] = {}
    tick = counter(progress)
    if exp == "fdr":
        from mcsgd.continuous.fdr import fdr2_eta_scan, run_fdr

        m = _model(p, rng_m)
        theta0 = None
        if p["start"] == "minimum":
            from mcsgd.continuous.models import L2

            obj = L2(m, p["weight_decay"]) if p["weight_decay"] > 0 else m
            theta0 = np.tile(obj.minimum(m.init(rng_m, 1)[0]), (p["chains"], 1))
        out = run_fdr(m, p["eta"], p["B"], rng, steps=p["steps"], chains=p["chains"],
                      theta0=theta0, progress=tick, **_sgd_kw(p))
        if p.get("eta_scan"):
            stage(progress, f"fdr: eta scan over {len(p['eta_scan'])} value(s)")
            scan = fdr2_eta_scan(m, p["eta_scan"], p["B"], rng, steps=p["steps"],
                                 chains=p["chains"], progress=tick, **_sgd_kw(p))
            out["scalars"]["eta_scan"] = scan
        if m.name == "quadratic" and p["momentum"] == 0 and p["dampening"] == 0:
            from mcsgd.continuous.fdr import quadratic_fdr2_discrete

            H = m.H + p["weight_decay"] * np.eye(m.dim)
            out["scalars"]["fdr2_exact_discrete"] = quadratic_fdr2_discrete(
                H, m.C, p["eta"], p["B"])
    elif exp == "adaptive":
        from mcsgd.continuous.fdr import run_adaptive

        m = _model(p, rng_m)
        out = run_adaptive(m, p["eta"], p["B"], rng, X=p["X"], Y=p["Y"], steps=p["steps"],
                           chains=p["chains"], check_every=p["check_every"],
                           min_window=p["min_window"], progress=tick, **_sgd_kw(p))
    elif exp == "linear-fdt":
        from mcsgd.continuous.linear import linear_fdt_grid, run_linear_fdt

        m = _model({**p, "model": "linreg"}, rng_m, "linreg")
        out = run_linear_fdt(m, p["eta"], p["B"], rng, steps=p["steps"], chains=p["chains"],
                             progress=tick, **_sgd_kw(p))
        if p.get("grid_eta") or p.get("grid_B"):
            ge, gb = p.get("grid_eta") or [p["eta"]], p.get("grid_B") or [p["B"]]
            stage(progress, f"linear-fdt: grid of {len(ge) * len(gb)} (eta, B) point(s)")
            out["scalars"]["rows"] = linear_fdt_grid(
                m, ge, gb, rng, progress=tick,
                steps=p["steps"], chains=p["chains"], **_sgd_kw(p))
    elif exp == "ivf":
        from mcsgd.continuous.ivf import run_ivf

        quad = p["noise"] in ("isotropic", "hessian", "hessian2")
        m = _model(p, rng_m, "quadratic" if quad else p["noise"])
        steps = p["steps"] or (60000 if quad else 20000)
        chains = p["chains"] or (64 if quad else 4)
        out = run_ivf(m, p["eta"], p["B"], rng, steps=steps, chains=chains,
                      record_every=p["record_every"], level=p["level"],
                      skip_pcs=p["skip_pcs"], n_pcs=p["n_pcs"], progress=tick, **_sgd_kw(p))
    elif exp == "escape":
        from mcsgd.continuous.escape import run_escape
        from mcsgd.continuous.models import Wells

        m = Wells(s=p["s"], depth=p["depth"])
        out = run_escape(m, p["B"], p["eta"], rng, chains=p["chains"],
                         max_steps=p["max_steps"], momentum=p["momentum"],
                         dampening=p["dampening"], sampling=p["sampling"],
                         asymptotic_min=p["asymptotic_min"], progress=tick)
    elif exp == "occupation":
        from mcsgd.continuous.escape import run_occupation
        from mcsgd.continuous.models import Wells

        m = Wells(s=p["s"], depth=p["depth"], kappa=p["kappa"])
        out = run_occupation(m, p["B"], p["eta"], rng, steps=p["steps"], chains=p["chains"],
                             momentum=p["momentum"], dampening=p["dampening"],
                             sampling=p["sampling"], progress=tick)
    else:  # temperature
        from mcsgd.continuous.temperature import run_temperature

        m = _model(p, rng_m)
        out = run_temperature(m, p["B"], p["eta"], rng, steps=p["steps"], chains=p["chains"],
                              progress=tick, **_sgd_kw(p))
    desc = m.describe()
    if "data" in desc:
        extra["data"] = desc["data"]
    scalars = to_jsonable({**out["scalars"], **extra})
    return {"scalars": scalars, "arrays": out["arrays"], "params": p, "model": desc}


def save_h5(path: str, result: dict, entropy: int, key: tuple[int, ...] = ()) -> None:
    """Write a :func:`run_task` result atomically (``mcsgd_kind = "continuous"``)."""
    from mcsgd.storage import continuous as layout

    layout.write(path, result, entropy, key)


def run_command(params: dict, seed: int, *, output: str | None = None, force: bool = False,
                plot: str | None = None,
                progress: Callable[..., None] | None = None) -> dict:
    """One ``mcsgd continuous ...`` command: validate ``params`` and ``seed``, check the
    outputs, run :func:`run_task` (key ``()``), draw the standard figure to ``plot`` and write
    ``output``. Every check runs before any work, so bad input leaves no file. ``progress``
    hears one line per stage (run, figure, file); a :class:`mcsgd.progress.Progress` also
    counts the SGD steps of the run (a bar with ETA on a terminal, see :func:`run_task`)."""
    import time

    from mcsgd.storage.paths import check_output

    resolve_params(params)  # validate before any work or file
    check_range("seed", seed, 0, None, integer=True)
    check_output(output, option="-o", mcsgd_kind="continuous", force=force)
    check_output(plot, option="--plot", kind="plot")
    if plot:
        from mcsgd.plots import require_matplotlib

        require_matplotlib()
    say = progress or (lambda msg: None)
    if isinstance(progress, Progress):
        progress.unit = "step"  # SGD steps (the CLI's Progress defaults to sweeps)
    t0 = time.perf_counter()
    say(f"{params['experiment']}: running (seed {seed})")
    res = run_task(params, seed, (), progress=progress)
    say(f"{params['experiment']}: done in {time.perf_counter() - t0:.1f} s")
    if plot:
        from mcsgd.plots.continuous import plot_result

        say(f"figure -> {plot}")
        plot_result(res, plot)
    if output:
        say(f"writing {output}")
        save_h5(output, res, seed, ())
    return res
