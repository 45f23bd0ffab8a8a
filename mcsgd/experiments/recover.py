"""Recovery of a planted solution: first-passage times, success probabilities, annealing.

A replica *recovers* at the first checked sweep where its overlap with the planted solution
(SPEC §2.3) reaches ``threshold`` (default 0.5). Recovery is a nucleation event whose time
fluctuates strongly from run to run (SPEC §5), so results are distributions over
instances x replicas: the success probability within the sweep budget and the quartiles of
the recovery time, counting runs that did not recover as +inf (a quantile is undefined, None,
when fewer runs than its level recovered), with 95% intervals. Runs on the same instance are
not independent: with >= 2 instances the intervals are clustered by instance (Korn-Graubard
for the success probability, Woodruff for the median, both with instances - 1 degrees of
freedom); with one instance, the Wilson interval and the distribution-free order-statistic
interval of the median (for that instance only).

Annealing
    ``Anneal("T", start, stop)``: simulated annealing, Metropolis with T moved linearly from
    ``start`` to ``stop``; ``Anneal("B", start, stop)``: batch annealing, SGD-like dynamics with
    B moved linearly (B rising = cooling). The parameter changes in ``steps`` equal stages.
    ``quench`` extra sweeps of the greedy quench (B = 1) can follow any run, cleaning the
    finite-temperature errors before the final overlap is measured.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import brentq

from mcsgd._numba import threads_scope
from mcsgd.driver import LAYOUTS, LaneGroup, Runner, resolve_layout
from mcsgd.dynamics import SGD, Dynamics, Metropolis, rules
from mcsgd.errors import (
    MIN_DISORDER_INSTANCES,
    DisorderErrorWarning,
    ParameterError,
    check_choice,
    check_range,
)
from mcsgd.progress import counter, stage
from mcsgd.seeds import RECOVERY, params_words
from mcsgd.stats import clustered_proportion_ci, median_ci, quantile, wilson_interval


@dataclasses.dataclass(frozen=True)
class Anneal:
    """A linear schedule of T (simulated annealing) or B (batch annealing) over the run."""

    param: str
    start: float
    stop: float
    steps: int = 100

    def __post_init__(self) -> None:
        check_choice("anneal parameter", self.param, ("T", "B"))
        check_range("steps", self.steps, 1, None, integer=True)
        for name, v in (("start", self.start), ("stop", self.stop)):
            if self.param == "T":
                check_range(f"anneal T {name}", v, 0, None)
            else:
                check_range(f"anneal B {name}", v, 0, 1, lo_open=True)

    def at(self, stage: int) -> Dynamics:
        """The dynamics of stage ``stage`` (0 .. steps-1)."""
        f = stage / (self.steps - 1) if self.steps > 1 else 1.0
        v = self.start + (self.stop - self.start) * f
        return Metropolis(v) if self.param == "T" else SGD(v)

    def params(self) -> dict[str, Any]:
        return {"anneal": self.param, "start": self.start, "stop": self.stop, "steps": self.steps}


def recovery_run(
    inst,
    dynamics: Dynamics | Anneal,
    *,
    sweeps: int,
    replicas: int,
    seed: int,
    key: tuple[int, ...] = (),
    threshold: float = 0.5,
    check_every: int | None = None,
    quench: int = 0,
    stop_early: bool = True,
    progress: Callable[[int, int], None] | None = None,
    layout: str = "auto",
) -> dict[str, Any]:
    """Run R replicas from random starts and record each one's first-passage time.

    Parameters
    ----------
    inst : problems.Instance with a planted solution
    dynamics : Metropolis, SGD or Anneal
    sweeps : int
        Sweep budget (the annealing schedule spans it).
    replicas, seed, key : as in :func:`mcsgd.driver.run`
    threshold : float in (0, 1]
        Overlap that counts as recovery.
    check_every : int
        Sweeps between overlap checks (default ``max(1, sweeps // 500)``): the resolution of
        the recovery times.
    quench : int
        Sweeps of greedy quench (B = 1) after the budget (not counted in recovery times).
    stop_early : bool
        Stop when every replica has recovered (fixed dynamics), or none has moved in a check
        interval (a frozen quench).
    progress : callable(done_sweeps, total_sweeps), optional
        Called after every overlap check.
    layout : {"auto", "scalar", "lanes"}
        How the replicas advance (:func:`recovery_runs`); results are identical either way.

    Returns
    -------
    dict with ``t_rec`` float64[R] (inf: not recovered), ``final_overlap`` float64[R] (after
    the quench), ``max_overlap`` float64[R], ``check_times`` and ``overlap`` [R, n_checks]
    (overlap at each check), ``sweeps_run``, ``final_state`` int8[R, N] (after the quench).
    """
    return recovery_runs(inst, [dynamics], [key], sweeps=sweeps, replicas=replicas, seed=seed,
                         threshold=threshold, check_every=check_every, quench=quench,
                         stop_early=stop_early, progress=progress, layout=layout)[0]


def recovery_runs(
    inst,
    settings: Sequence[Dynamics | Anneal],
    keys: Sequence[tuple[int, ...]],
    *,
    sweeps: int,
    replicas: int,
    seed: int,
    threshold: float = 0.5,
    check_every: int | None = None,
    quench: int = 0,
    stop_early: bool = True,
    progress: Callable[[int, int], None] | None = None,
    layout: str = "auto",
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """:func:`recovery_run` of every setting on one instance (setting j with spawn key
    ``keys[j]``), the runs of fixed dynamics advancing together.

    Every chain of a fixed dynamics (all settings x replicas) advances in lockstep from check to
    check; ``layout`` (:func:`mcsgd.driver.resolve_layout`) decides whether the chains of one
    lane kind share one lane pass (:class:`mcsgd.driver.LaneGroup`). A setting that stops
    early leaves the pass; the quenches of settings that stopped at the same sweep run
    together too. Annealing schedules (their dynamics change at every stage) run one after the
    other in the scalar layout. Each returned dict is bit-identical to :func:`recovery_run`
    of that setting alone, whatever the layout. ``progress(done, total)`` counts sweeps
    summed over the settings (a setting that stopped early counts its whole budget).
    """
    if inst.planted is None:
        raise ParameterError("recovery needs a planted instance")
    if len(keys) != len(settings):
        raise ParameterError(f"{len(settings)} settings but {len(keys)} keys")
    check_range("threshold", threshold, 0, 1, lo_open=True)
    check_range("sweeps", sweeps, 1, None, integer=True)
    check_range("quench", quench, 0, None, integer=True)
    check_choice("layout", layout, LAYOUTS)
    check = int(check_every or max(1, sweeps // 500))
    check_range("check_every", check, 1, None, integer=True)
    total = len(settings) * sweeps
    done = {j: 0 for j in range(len(settings))}

    def tick(j: int, t: int) -> None:
        done[j] = t
        if progress is not None:
            progress(sum(done.values()), total)

    out: list[dict[str, Any] | None] = [None] * len(settings)
    fixed = [j for j, st in enumerate(settings) if not isinstance(st, Anneal)]
    runners = {j: Runner(inst, settings[j], replicas=replicas, seed=seed, key=tuple(keys[j]),
                         init="random", threads=threads) for j in fixed}
    t_rec = {j: np.full(replicas, np.inf) for j in fixed}
    ovs = {j: [runners[j].overlap()] for j in fixed}
    times = [0]
    ended: dict[int, int] = {}  # setting -> sweeps run
    active = list(fixed)
    chains = _Pass([runners[j] for j in active], layout, threads)
    t = 0
    while active:
        step = min(check, sweeps - t)
        acc0 = {j: runners[j].accepted.copy() for j in active}
        chains.advance(step)
        t += step
        times.append(t)
        for j in active:
            r = runners[j]
            ov = r.overlap()
            ovs[j].append(ov)
            newly = (ov >= threshold) & ~np.isfinite(t_rec[j])
            t_rec[j][newly] = t
            if t >= sweeps or (stop_early and (np.all(np.isfinite(t_rec[j])) or np.array_equal(
                    acc0[j], r.accepted))):  # all recovered, or frozen: nothing can change
                ended[j] = t
        for j in active:
            tick(j, sweeps if j in ended else t)
        if any(j in ended for j in active):
            active = [j for j in active if j not in ended]
            chains = _Pass([runners[j] for j in active], layout, threads)
    if quench:
        for t_end in sorted(set(ended.values())):
            batch = [runners[j] for j in fixed if ended[j] == t_end]
            for r in batch:
                r.set_dynamics(SGD(1.0))
            _Pass(batch, layout, threads).advance(quench)
    for j in fixed:
        ov_arr = np.stack(ovs[j], axis=1)  # the checks until the setting ended
        out[j] = {
            "t_rec": t_rec[j],
            "final_overlap": runners[j].overlap(),
            "max_overlap": ov_arr.max(axis=1),
            "check_times": np.asarray(times[:ov_arr.shape[1]], np.int64),
            "overlap": ov_arr,
            "sweeps_run": int(ended[j]),
            "final_state": runners[j].s.copy(),
        }
    for j, st in enumerate(settings):
        if isinstance(st, Anneal):
            out[j] = _anneal_run(inst, st, sweeps=sweeps, replicas=replicas, seed=seed,
                                 key=tuple(keys[j]), threshold=threshold, check=check,
                                 quench=quench, threads=threads,
                                 progress=lambda d, _t, j=j: tick(j, d))
    return [o for o in out if o is not None]


class _Pass:
    """Runners of one instance at one sweep count, advanced together: the runners of a lane
    kind in one lane pass where :func:`~mcsgd.driver.resolve_layout` says so, the others one by
    one. The runners' chain states are up to date after every :meth:`advance`."""

    def __init__(self, runners: Sequence[Runner], layout: str, threads: int | None) -> None:
        with threads_scope(threads) as nthreads:
            pass
        kinds: dict[str | None, list[Runner]] = {}
        for r in runners:
            kinds.setdefault(rules.lane_kind(r.rule, r.ising), []).append(r)
        self.drivers: list[Any] = []
        for kind, rs in kinds.items():
            chains = sum(r.replicas for r in rs)
            if resolve_layout(layout, kind, chains, nthreads) == "lanes":
                group = LaneGroup(rs, threads)
                group.always_sync = True  # overlaps and the next pass read the runners
                self.drivers.append(group)
            else:
                self.drivers.extend(rs)

    def advance(self, nsweeps: int) -> None:
        """``nsweeps`` sweeps of every chain."""
        for d in self.drivers:
            d.advance(nsweeps)


def _anneal_run(inst, anneal: Anneal, *, sweeps: int, replicas: int, seed: int,
                key: tuple[int, ...], threshold: float, check: int, quench: int,
                threads: int | None, progress: Callable[[int, int], None] | None
                ) -> dict[str, Any]:
    """:func:`recovery_run` of an annealing schedule (scalar layout: the dynamics changes at
    every stage)."""
    runner = Runner(inst, anneal.at(0), replicas=replicas, seed=seed, key=key, init="random",
                    threads=threads)
    t_rec = np.full(replicas, np.inf)
    times, ovs = [0], [runner.overlap()]
    stage = 0
    while runner.t < sweeps:
        # advance stage by stage so every stage gets its exact share of the budget
        end = min(runner.t + check, sweeps)
        while runner.t < end:
            st = min(anneal.steps - 1, runner.t * anneal.steps // sweeps)
            if st != stage:
                stage = st
                runner.set_dynamics(anneal.at(stage))
            nxt = min(end, -(-(stage + 1) * sweeps // anneal.steps))
            runner.advance(max(nxt - runner.t, 1))
        ov = runner.overlap()
        times.append(runner.t)
        ovs.append(ov)
        newly = (ov >= threshold) & ~np.isfinite(t_rec)
        t_rec[newly] = runner.t
        if progress is not None:
            progress(runner.t, sweeps)
    sweeps_run = runner.t
    if quench:
        runner.set_dynamics(SGD(1.0))
        runner.advance(quench)
    ov_arr = np.stack(ovs, axis=1)
    return {
        "t_rec": t_rec,
        "final_overlap": runner.overlap(),
        "max_overlap": ov_arr.max(axis=1),
        "check_times": np.asarray(times, np.int64),
        "overlap": ov_arr,
        "sweeps_run": int(sweeps_run),
        "final_state": runner.s.copy(),
    }


def recovery_stats(t_rec: np.ndarray, final_overlap: np.ndarray,
                   groups: np.ndarray | None = None) -> dict[str, Any]:
    """Success probability, recovery-time quartiles (None where undefined) and 95% intervals.

    Parameters
    ----------
    t_rec : float64[n]          first-passage times (inf: not recovered), one per run
    final_overlap : float64[n]
    groups : int[n], optional   instance of each run. With >= 2 instances the intervals are
        for the ensemble over instances and account for the between-instance spread and the
        K - 1 degrees of freedom: ``success_ci`` is Korn-Graubard
        (:func:`clustered_proportion_ci`) and ``t_rec_median_ci`` is Woodruff's interval
        (quantile levels 0.5 -+ t_{K-1} se, se the clustered standard error of the fraction of
        runs below the median). Without groups, or with one instance, runs are taken as
        independent: Wilson interval and the distribution-free order-statistic interval of the
        median (then they describe that one instance).
    """
    t = np.asarray(t_rec, float)
    n = t.size
    gi = (np.zeros(n, np.intp) if groups is None
          else np.unique(np.asarray(groups), return_inverse=True)[1])
    K = int(gi.max()) + 1 if n else 0
    order = np.argsort(t, kind="stable")
    t, gi = t[order], gi[order]
    k = int(np.isfinite(t).sum())
    if K >= 2:
        lo, hi = clustered_proportion_ci(np.isfinite(t).astype(float), gi)
        method = "korn-graubard / woodruff (clustered by instance)"
    else:
        lo, hi = wilson_interval(k, n)
        method = "wilson / order statistics (runs independent)"
    return {
        "runs": n,
        "instances": K,
        "recovered": k,
        "success_probability": k / n if n else math.nan,
        "success_ci": [lo, hi],
        "t_rec_median": quantile(t, 0.5),
        "t_rec_q25": quantile(t, 0.25),
        "t_rec_q75": quantile(t, 0.75),
        "t_rec_median_ci": median_ci(t, gi),
        "ci_method": method,
        "final_overlap_mean": float(np.mean(final_overlap)),
    }


def recovery_key(c: float, setting: Dynamics | Anneal, k: int) -> tuple[int, ...]:
    """Task key ``(RECOVERY, h1, h2, k)`` of instance ``k``'s runs of ``setting`` at degree
    ``c``: (h1, h2) hash ``{"c": c, **setting.params()}`` (:func:`mcsgd.seeds.params_words`)."""
    h1, h2 = params_words({"c": float(c), **setting.params()})
    return (RECOVERY, h1, h2, int(k))


def recovery_scan(
    make_instance: Callable[[float, int], Any],
    cs: Sequence[float],
    settings: Sequence[Dynamics | Anneal],
    *,
    instances: int,
    replicas: int,
    sweeps: int,
    seed: int,
    threshold: float = 0.5,
    check_every: int | None = None,
    quench: int = 0,
    progress: Callable[[str], None] | None = None,
    save_states: bool = False,
    layout: str = "auto",
    threads: int | None = None,
) -> list[dict[str, Any]]:
    """Recovery statistics for every (c, setting) over ``instances`` x ``replicas`` runs.

    ``make_instance(c, k)`` returns instance k at degree c (the same instances for every
    setting). Returns one row per (c, setting) with the fields of :func:`recovery_stats` plus
    ``c``, the setting's parameters, and the raw ``t_rec`` / ``final_overlap`` arrays. Run
    streams: task keys ``(RECOVERY, h1, h2, k)`` with (h1, h2) a hash of (c, the setting's
    parameters) (:func:`recovery_key`, :mod:`mcsgd.seeds`), so a row does not depend on which
    other c values or settings are run beside it. ``save_states``: each row also gets
    ``final_state`` = ``{"states": int8[runs, N], "instances", "replicas",
    "instance_params"}`` (layout in :mod:`mcsgd.storage.recovery`).

    The runs of every setting on one instance advance together (:func:`recovery_runs`;
    ``layout`` "auto", "scalar" or "lanes", ``threads`` numba threads): the rows are the same
    whatever the layout.

    With fewer than ``MIN_DISORDER_INSTANCES`` instances a :class:`DisorderErrorWarning` says
    that the intervals cannot include the instance-to-instance spread reliably (1 instance:
    intervals for that instance only; 2-3: clustered intervals on 1-2 degrees of freedom).
    """
    say = progress or (lambda m: None)
    if instances < MIN_DISORDER_INSTANCES:
        warnings.warn(
            f"instances = {instances} < {MIN_DISORDER_INSTANCES}: "
            + ("the intervals hold for this one instance only (no instance-to-instance spread)"
               if instances < 2 else
               f"the instance-clustered intervals rest on {instances - 1} degree(s) of freedom "
               "and are wide"), DisorderErrorWarning, stacklevel=2)
    rows = []
    tick = counter(progress)
    n_set = len(settings)
    for c in cs:
        insts = [make_instance(c, k) for k in range(instances)]
        per = [{"t_rec": [], "fin": [], "curves": [], "states": []} for _ in settings]
        stage(progress, f"c = {c:g}, {_settings_label(settings)}: {instances} instance(s) x "
              f"{replicas} replica(s)", instances * n_set * sweeps)
        for k, inst in enumerate(insts):
            hook = None if tick is None else (
                lambda d, t, k=k: tick(k * t + d, instances * t))
            outs = recovery_runs(inst, settings, [recovery_key(c, st, k) for st in settings],
                                 sweeps=sweeps, replicas=replicas, seed=seed,
                                 threshold=threshold, check_every=check_every, quench=quench,
                                 progress=hook, layout=layout, threads=threads)
            if tick is not None:  # the rest of the budget of replicas that stopped early
                tick((k + 1) * n_set * sweeps, instances * n_set * sweeps)
            for acc, out in zip(per, outs, strict=True):
                acc["t_rec"].append(out["t_rec"])
                acc["fin"].append(out["final_overlap"])
                acc["curves"].append((out["check_times"], out["overlap"].mean(0)))
                if save_states:
                    acc["states"].append(out["final_state"])
        for setting, acc in zip(settings, per, strict=True):
            t_rec = np.concatenate(acc["t_rec"])
            fin = np.concatenate(acc["fin"])
            row: dict[str, Any] = {"c": float(c)}
            if isinstance(setting, Anneal):
                row.update(setting.params())
            elif isinstance(setting, SGD):
                row["B"] = float(setting.B)
            else:
                row["T"] = float(setting.T)
            row.update(recovery_stats(t_rec, fin, np.repeat(np.arange(instances), replicas)))
            row["t_rec"] = t_rec
            row["final_overlap"] = fin
            row["curve"] = acc["curves"][0]
            if save_states:
                row["final_state"] = {"states": np.concatenate(acc["states"]),
                                      "instances": instances, "replicas": replicas,
                                      "instance_params": [i.params for i in insts]}
            med = row["t_rec_median"]
            say(f"c = {c:g}, {_setting_label(setting)}: success "
                f"{row['success_probability']:.2f}, median t_rec "
                + ("undefined (fewer than half recovered)" if med is None else f"{med:g} sweeps"))
            rows.append(row)
    return rows


def _settings_label(settings: Sequence[Dynamics | Anneal]) -> str:
    """``B = 0.8, 0.9`` / ``T = 0.6`` / labels joined by ``; ``: the settings of one pass."""
    for cls, name in ((SGD, "B"), (Metropolis, "T")):
        if settings and all(isinstance(st, cls) for st in settings):
            return f"{name} = " + ", ".join(f"{getattr(st, name):g}" for st in settings)
    return "; ".join(_setting_label(st) for st in settings)


def _setting_label(setting: Dynamics | Anneal) -> str:
    """``B = 0.8`` / ``T = 0.6`` / ``annealing ...``: a setting in a progress line."""
    if isinstance(setting, Anneal):
        return (f"annealing {setting.param} {setting.start:g} -> {setting.stop:g} in "
                f"{setting.steps} steps")
    return f"B = {setting.B:g}" if isinstance(setting, SGD) else f"T = {setting.T:g}"


def window(rows: Sequence[dict], param: str, level: float = 0.5) -> dict[str, dict]:
    """Per c: the range of ``param`` values whose success probability is >= ``level`` and the
    value minimising the median recovery time (None when nothing recovers)."""
    out: dict[str, dict] = {}
    for c in sorted({r["c"] for r in rows}):
        rs = sorted((r for r in rows if r["c"] == c and param in r), key=lambda r: r[param])
        ok = [r[param] for r in rs if r["success_probability"] >= level]
        med = [(r["t_rec_median"], r[param]) for r in rs if r["t_rec_median"] is not None]
        out[f"{c:g}"] = {
            "lo": min(ok) if ok else None,
            "hi": max(ok) if ok else None,
            "best": min(med)[1] if med else None,
            "best_t_rec_median": min(med)[0] if med else None,
        }
    return out


def _inf(x: float | None) -> float:
    return math.inf if x is None else float(x)


def ranking(rows: Sequence[dict], param: str) -> list[dict[str, Any]]:
    """Per c: whether the runs rank the ``param`` values (B or T) or cannot.

    The best value is the one with the shortest median recovery time (as in :func:`window`).
    Another value is *distinguished* from it when their 95% intervals do not overlap, either
    the success probability (``success_ci``, the best's above) or the median recovery time
    (``t_rec_median_ci``, the best's below; a missing end is +inf). ``ranked`` is True when
    every other value is distinguished; ``tied`` lists those that are not. Returns one dict per
    c: ``c``, ``param``, ``best`` (None when nothing recovers), ``best_success_ci``,
    ``best_t_rec_median_ci``, ``ranked``, ``tied``.
    """
    out = []
    for c in sorted({r["c"] for r in rows}):
        rs = [r for r in rows if r["c"] == c and param in r]
        med = [r for r in rs if r["t_rec_median"] is not None]
        if not med:
            out.append({"c": c, "param": param, "best": None, "best_success_ci": None,
                        "best_t_rec_median_ci": None, "ranked": False,
                        "tied": [r[param] for r in rs]})
            continue
        best = min(med, key=lambda r: (r["t_rec_median"], r[param]))
        b_lo, b_hi = best["success_ci"]
        m_lo, m_hi = best["t_rec_median_ci"]
        tied = []
        for r in rs:
            if r is best:
                continue
            r_lo, r_hi = r["success_ci"]
            rm_lo, _rm_hi = r["t_rec_median_ci"]
            by_success = b_lo is not None and r_hi is not None and b_lo > r_hi
            by_time = _inf(m_hi) < _inf(rm_lo)
            if not (by_success or by_time):
                tied.append(r[param])
        out.append({"c": c, "param": param, "best": best[param],
                    "best_success_ci": [b_lo, b_hi], "best_t_rec_median_ci": [m_lo, m_hi],
                    "ranked": not tied, "tied": tied})
    return out


def format_ranking(rank: dict[str, Any]) -> str:
    """One line saying whether the runs rank the values of one c (:func:`ranking`)."""
    p, c = rank["param"], rank["c"]
    if rank["best"] is None:
        return f"c = {c:g}: no {p} value recovered in half of its runs: no ranking"

    def iv(x):
        lo, hi = x
        return f"[{'–' if lo is None else f'{lo:.3g}'}, {'inf' if hi is None else f'{hi:.3g}'}]"

    head = (f"c = {c:g}: fastest {p} = {rank['best']:g} (median t_rec 95% interval "
            f"{iv(rank['best_t_rec_median_ci'])}, success {iv(rank['best_success_ci'])})")
    if rank["ranked"]:
        return head + f"; its intervals separate it from every other {p}"
    tied = ", ".join(f"{x:g}" for x in rank["tied"])
    return (head + f"; the runs cannot rank it against {p} = {tied} (overlapping success and "
            "t_rec intervals: more instances x replicas needed)")


def map_T_window_to_B(T_lo: float | None, T_hi: float | None,
                      T_of_B: Callable[[np.ndarray], np.ndarray], *,
                      note: Callable[[str], None] | None = None,
                      ) -> tuple[float | None, float | None]:
    """Map a temperature window to a batch-size window through a decreasing T(B) curve.

    ``T_of_B`` (vectorised; NaN where undefined) is evaluated on a grid covering all of
    (0, 1] (geometric from 1e-6 to 0.5, then linear to 1) and each end is solved for by a root
    search on the grid interval that brackets it: the window [T_lo, T_hi] maps to
    [B(T_hi), B(T_lo)]. An end whose T lies outside the range T_of_B reaches on (0, 1] is None
    and ``note`` (if given) receives a one-line message saying so; (None, None) where the T
    window is undefined. Where the curve crosses a T more than once (a noisy measured curve),
    the widest B window is returned.
    """
    if T_lo is None or T_hi is None:
        return None, None
    Bg = np.concatenate([np.geomspace(1e-6, 0.5, 200, endpoint=False), np.linspace(0.5, 1.0, 501)])
    with np.errstate(divide="ignore", invalid="ignore"):
        Tg = np.asarray(T_of_B(Bg), float)
    ok = np.isfinite(Tg)
    if ok.sum() < 2:
        if note:
            note("T(B) is undefined on (0, 1]: no B window")
        return None, None
    t_min, t_max = float(Tg[ok].min()), float(Tg[ok].max())

    def f(b: float, T: float) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.asarray(T_of_B(np.array([b])), float)[0]) - T

    def solve(T: float, widest_low: bool) -> float | None:
        if not t_min <= T <= t_max:
            if note:
                note(f"T = {T:.4g} is outside the range [{t_min:.4g}, {t_max:.4g}] of T(B) on "
                     "(0, 1]: that end of the B window is undefined")
            return None
        d = Tg - T
        hits = []
        for k in range(len(Bg) - 1):
            if not (ok[k] and ok[k + 1]):
                continue
            if d[k] == 0:
                hits.append(float(Bg[k]))
            elif d[k] * d[k + 1] < 0:
                hits.append(float(brentq(f, Bg[k], Bg[k + 1], args=(T,), xtol=1e-10)))
        if ok[-1] and d[-1] == 0:
            hits.append(float(Bg[-1]))
        if not hits:  # T inside the range but only across an undefined gap of the curve
            if note:
                note(f"T = {T:.4g} is not reached where T(B) is defined: that end is undefined")
            return None
        return min(hits) if widest_low else max(hits)

    return solve(T_hi, True), solve(T_lo, False)


# planted colours of the recovery experiments: floor(i/(N/q)) ("index", the reference code's)
# unless asked otherwise ("shuffled": a shuffled balanced assignment, docs/recovery.md)
DEFAULT_PLANTING = "index"


def instance_maker(q, n, graph, shuffle, seed):
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


def shuffled_planting(planting: str | None, shuffle: bool) -> bool:
    """True for a shuffled planted assignment: ``planting`` ("index" or "shuffled", None for
    :data:`DEFAULT_PLANTING`) or the older ``shuffle`` flag (which contradicts "index")."""
    if shuffle:
        if planting == "index":
            raise ParameterError("--shuffle contradicts --planting index (choose one)")
        planting = "shuffled"
    return (planting or DEFAULT_PLANTING) == "shuffled"


def recovery_settings(*, B: Sequence[float] | None = None, T: Sequence[float] | None = None,
                      anneal_T: Sequence[float] | None = None,
                      anneal_B: Sequence[float] | None = None) -> list[Dynamics | Anneal]:
    """The settings of one recovery command: SGD at each B, Metropolis at each T, or one
    annealing schedule (``anneal_T``/``anneal_B`` = START, STOP); exactly one is given."""
    if B is not None:
        return [SGD(b) for b in B]
    if T is not None:
        return [Metropolis(t) for t in T]
    pair = anneal_T if anneal_T is not None else anneal_B
    if len(pair) != 2:
        raise ParameterError("--anneal-T/--anneal-B take exactly START,STOP")
    return [Anneal("T" if anneal_T is not None else "B", pair[0], pair[1])]


@dataclasses.dataclass
class RecoveryRun:
    """Result of :func:`run_recovery`: the rows of :func:`recovery_scan` (with their per-run
    arrays) and the ``params`` stored with them."""

    rows: list[dict[str, Any]]
    params: dict[str, Any]

    def public_rows(self) -> list[dict[str, Any]]:
        """The rows without their per-run arrays (as the JSON output and the file's attr)."""
        from mcsgd.storage.recovery import public_rows

        return public_rows(self.rows)

    def ranking(self) -> list[dict[str, Any]]:
        """Per c, whether the runs rank the B (or T) values (:func:`ranking`); empty for an
        annealing schedule."""
        key = next((k for k in ("B", "T") if self.rows and k in self.rows[0]), None)
        return ranking(self.rows, key) if key else []

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``mcsgd recover --json``: ``params``, the public rows and
        ``ranking`` (:meth:`ranking`)."""
        return {"params": self.params, "rows": self.public_rows(), "ranking": self.ranking()}

    def best(self) -> dict[str, dict[str, Any]]:
        """``mcsgd recover --best`` (JSON key ``best``): per c, :func:`fastest`."""
        return fastest(self.rows)


def _fmt_t(x: float | None) -> str:
    return "inf" if x is None else f"{x:g}"


def fastest(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per c (key ``f"{c:g}"``): the setting (B, T or anneal) with the smallest median
    recovery time, and whether the runs can rank it first.

    Each entry: ``param`` ("B", "T" or "anneal"), ``value`` (None when no setting has a
    median), ``t_rec_median``, ``t_rec_median_ci`` (its 95% interval), ``ranked`` and
    ``reason`` (None when ranked). It is *ranked* fastest when the upper end of its interval is
    finite and lies below the lower end of every other setting's interval (settings where no
    run recovered count as slower). Otherwise ``ranked`` is False and ``reason`` says why:
    overlapping intervals, an undefined interval end (too few runs), a single setting, or no
    setting with a median (fewer than half of the runs recovered everywhere).
    """
    out: dict[str, dict[str, Any]] = {}
    for c in sorted({r["c"] for r in rows}):
        rs = [r for r in rows if r["c"] == c]
        param = next(k for k in ("B", "T", "anneal") if k in rs[0])
        timed = sorted((r for r in rs if r["t_rec_median"] is not None),
                       key=lambda r: r["t_rec_median"])
        e: dict[str, Any] = {"param": param, "value": None, "t_rec_median": None,
                             "t_rec_median_ci": [None, None], "ranked": False, "reason": None}
        out[f"{c:g}"] = e
        if not timed:
            e["reason"] = "no setting has a median recovery time (fewer than half recovered)"
            continue
        b = timed[0]
        lo, hi = b["t_rec_median_ci"]
        e.update(value=b[param], t_rec_median=b["t_rec_median"], t_rec_median_ci=[lo, hi])
        others = [r for r in rs if r is not b]
        if not others:
            e["reason"] = f"only one {param} value"
        elif hi is None:
            e["reason"] = (f"the 95% interval of the median at {param} = {b[param]} has no "
                           "finite upper end (too few runs)")
        else:
            close = [r for r in others if r["recovered"] > 0
                     and (r["t_rec_median_ci"][0] is None or r["t_rec_median_ci"][0] <= hi)]
            if close:
                e["reason"] = "the 95% intervals of the median overlap: " + ", ".join(
                    f"{param} = {r[param]} [{_fmt_t(r['t_rec_median_ci'][0])}, "
                    f"{_fmt_t(r['t_rec_median_ci'][1])}]" for r in [b, *close])
            else:
                e["ranked"] = True
    return out


def format_best(best: dict[str, dict[str, Any]]) -> list[str]:
    """The lines ``mcsgd recover --best`` prints, one per c."""
    lines = []
    for c, e in best.items():
        if e["value"] is None:
            lines.append(f"best (c = {c}): cannot rank: {e['reason']}")
            continue
        lo, hi = e["t_rec_median_ci"]
        what = (f"{e['param']} = {e['value']}  t_rec median {e['t_rec_median']:g} "
                f"[95% {_fmt_t(lo) if lo is not None else '?'}, {_fmt_t(hi)}]")
        lines.append(f"best (c = {c}): {what}" if e["ranked"] else
                     f"best (c = {c}): cannot rank the {e['param']} values ({e['reason']}); "
                     f"lowest median: {what}")
    return lines


def run_recovery(
    c: Sequence[float],
    *,
    q: int = 5,
    n: int = 10000,
    B: Sequence[float] | None = None,
    T: Sequence[float] | None = None,
    anneal_T: Sequence[float] | None = None,
    anneal_B: Sequence[float] | None = None,
    graph: str = "er",
    planting: str | None = None,
    shuffle: bool = False,
    instances: int = 2,
    replicas: int = 2,
    sweeps: int = 2000,
    threshold: float = 0.5,
    check_every: int | None = None,
    quench: int = 0,
    seed: int = 1,
    output: str | None = None,
    force: bool = False,
    plot: str | None = None,
    record: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
    save_states: bool = False,
    layout: str = "auto",
) -> RecoveryRun:
    """The ``mcsgd recover`` experiment: validate, check memory and outputs, run
    :func:`recovery_scan` on planted colourings, write ``output`` and draw ``plot``.

    The settings are one of ``B``, ``T``, ``anneal_T``, ``anneal_B``
    (:func:`recovery_settings`). ``record`` (e.g. the command's options) is stored as the
    file's ``params`` with ``shuffle`` and ``planting`` resolved. ``save_states`` keeps every
    run's final configuration in ``output`` (``rows/NNNN/final_state``, for
    ``mcsgd run --init``; needs ``output``). ``layout`` ("auto", "scalar" or "lanes") is how
    the runs of one instance advance (:func:`recovery_runs`): speed only, not stored.
    Every check runs before any work, so bad input leaves no file.
    """
    from mcsgd import problems
    from mcsgd.problems.coloring import expected_edges, graph_memory_bytes
    from mcsgd.resources import check_memory, run_memory_bytes
    from mcsgd.storage.paths import check_output
    from mcsgd.storage.recovery import write_recovery

    check_range("q", q, 2, 127, integer=True)
    check_range("n", n, 2, None, integer=True)
    for ci in c:
        check_range("c", ci, 0, None)
    check_range("instances", instances, 1, None, integer=True)
    check_range("replicas", replicas, 1, None, integer=True)
    check_range("sweeps", sweeps, 1, None, integer=True)
    check_range("threshold", threshold, 0, 1, lo_open=True)
    check_range("seed", seed, 0, None, integer=True)
    check_choice("layout", layout, LAYOUTS)
    if n % q:
        raise ParameterError(f"n = {n} must be divisible by q = {q} (planted)")
    settings = recovery_settings(B=B, T=T, anneal_T=anneal_T, anneal_B=anneal_B)
    if check_every is not None:
        check_range("check-every", check_every, 1, None, integer=True)
    check_range("quench", quench, 0, None, integer=True)
    for ci in c:
        problems.check_coloring_params(n, q, ci, graph, True, 0)
        m = expected_edges(n, ci, graph)
        check_memory(f"recover (N = {n}, M = {m}, {instances} x {replicas} runs)",
                     instances * graph_memory_bytes(n, m)
                     + run_memory_bytes(n, m, replicas, 40, True))
    check_output(output, option="-o", mcsgd_kind="recovery", force=force)
    if save_states and not output:
        raise ParameterError("--save-states needs -o FILE (the states are kept in that file)")
    check_output(plot, option="--plot", kind="plot")
    if plot:
        from mcsgd.plots import require_matplotlib

        require_matplotlib()
    shuffle = shuffled_planting(planting, shuffle)
    params = dict(record or {})
    params["shuffle"] = shuffle
    params["planting"] = "shuffled" if shuffle else "index"
    make = instance_maker(q, n, graph, shuffle, seed)
    rows = recovery_scan(make, c, settings, instances=instances, replicas=replicas,
                         sweeps=sweeps, seed=seed, threshold=threshold,
                         check_every=check_every, quench=quench, progress=progress,
                         save_states=save_states, layout=layout)
    if output:
        write_recovery(output, rows, params)
    if plot:
        from mcsgd.plots import plot_recovery

        plot_recovery(rows, plot, params=params)
    return RecoveryRun(rows, params)
