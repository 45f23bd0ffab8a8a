"""The planted order leak: index-ordered vs shuffled planted colouring, same seeds.

Planted colours ``floor(i/(N/q))`` (the reference code's, ``--planting index``) combined with
sequential sweeps visit the planted groups as contiguous blocks, an update schedule aligned
with the hidden solution. This script measures whether that matters, with the same seeds and
only the planting changed (``--planting shuffled``: a uniformly shuffled balanced assignment):

* recovery (``mcsgd recover -o``, SGD-like dynamics at B near the optimal batch size): success
  within the sweep budget (Wilson and exact Clopper-Pearson 95% intervals, Fisher's exact
  test) and the recovery time t_rec (median with its distribution-free 95% interval,
  Mann-Whitney U test counting failures as +inf);
* the equilibrium temperature T_eq (``mcsgd calibrate --mode equilibrium --json``) at c = 20,
  B = 0.5 and 0.9: the difference in units of its combined error, z = dT / sqrt(e1^2 + e2^2).

Only the command-line interface is used, so the numbers follow the package's own instance and
seed derivation (they change when it does; the comparison does not depend on it). Usage::

    python runs/planted_leak.py            # the table in docs/recovery.md (~10 min on 2 busy
                                           # cores, ~4 min on 2 free ones)
    python runs/planted_leak.py --quick    # a smoke test (~1 min)
    python runs/planted_leak.py --from-json A.json B.json   # re-analyse / merge stored parts

Prints a Markdown table and writes JSON (``--out``, default runs/out/planted_leak.json) with the
parameters, the package version, the raw recovery times (null: not recovered), the calibration
parameters of both plantings, and every comparison.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
from scipy.stats import binom, binomtest, fisher_exact, mannwhitneyu

from mcsgd.stats import wilson_interval

PLANTINGS = ("index", "shuffled")
FULL = dict(c=[20.0, 22.0, 24.0], B=[0.85], n=6000, instances=20, replicas=4, sweeps=2500,
            seed=1, cal_c=20.0, cal_B=[0.5, 0.9], cal_n=20000, cal_instances=24,
            cal_replicas=1, cal_sweeps=200,
            # an independent replication (fresh seed) of the one p < 0.05 of the first set
            replication=dict(c=[24.0], seed=2, instances=40))
QUICK = dict(c=[22.0, 24.0], B=[0.85], n=3000, instances=2, replicas=2, sweeps=600,
             seed=1, cal_c=20.0, cal_B=[0.5, 0.9], cal_n=5000, cal_instances=2,
             cal_replicas=2, cal_sweeps=100, replication=dict(c=[24.0], seed=2, instances=2))


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "mcsgd.cli", *args]
    print("$ mcsgd " + " ".join(args), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"mcsgd {' '.join(args)} failed ({out.returncode}):\n{out.stderr}")
    return out


def _csv(xs) -> str:
    return ",".join(f"{x:g}" for x in xs)


def run_recovery(p: dict, planting: str, tmp: str) -> list[dict]:
    """Rows of ``mcsgd recover`` (with the raw per-run t_rec) for one planting."""
    path = os.path.join(tmp, f"recover_{planting}.h5")
    _cli(["recover", "--c", _csv(p["c"]), "--B", _csv(p["B"]), "--n", str(p["n"]),
          "--instances", str(p["instances"]), "--replicas", str(p["replicas"]),
          "--sweeps", str(p["sweeps"]), "--seed", str(p["seed"]), "--planting", planting,
          "--quiet", "-o", path])
    with h5py.File(path, "r") as f:
        rows = json.loads(f.attrs["rows"])
        params = json.loads(f.attrs["params"])
        for i, r in enumerate(rows):
            r["t_rec"] = f[f"rows/{i:04d}/t_rec"][...].tolist()
    if params.get("planting", planting) != planting:
        raise SystemExit(f"recover reports planting {params.get('planting')!r}, "
                         f"asked {planting!r}")
    return rows


def run_calibration(p: dict, planting: str) -> dict:
    """``mcsgd calibrate --mode equilibrium --json`` at cal_c for one planting."""
    out = _cli(["calibrate", "--c", f"{p['cal_c']:g}", "--B", _csv(p["cal_B"]),
                "--n", str(p["cal_n"]), "--instances", str(p["cal_instances"]),
                "--replicas", str(p["cal_replicas"]), "--sweeps", str(p["cal_sweeps"]),
                "--seed", str(p["seed"]), "--mode", "equilibrium", "--planting", planting,
                "--json"])
    return json.loads(out.stdout)


def exact_ci(k: int, n: int) -> list[float]:
    ci = binomtest(k, n).proportion_ci(0.95, method="exact")
    return [float(ci.low), float(ci.high)]


def newcombe_diff_ci(ka: int, na: int, kb: int, nb: int) -> list[float]:
    """95% Newcombe (hybrid Wilson score) interval of the difference ka/na - kb/nb."""
    pa, pb = ka / na, kb / nb
    la, ua = wilson_interval(ka, na)
    lb, ub = wilson_interval(kb, nb)
    d = pa - pb
    return [d - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2),
            d + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2)]


def median_ratio(ta: np.ndarray, tb: np.ndarray, n_boot: int = 4000) -> dict:
    """Ratio of median t_rec (index / shuffled) with a percentile-bootstrap 95% interval.

    Failures count as +inf; the ratio is None when either median is infinite, and a bootstrap
    resample with an infinite median is kept (the interval end becomes None if it lands there).
    """
    def ratio(x, y):
        mx, my = np.median(x), np.median(y)
        return mx / my if np.isfinite(mx) and np.isfinite(my) else math.nan

    r = ratio(ta, tb)
    rng = np.random.default_rng(12345)
    boots = np.array([ratio(rng.choice(ta, ta.size), rng.choice(tb, tb.size))
                      for _ in range(n_boot)])
    if not math.isfinite(r) or np.isnan(boots).mean() > 0.025:
        return {"median_ratio": None if not math.isfinite(r) else r, "median_ratio_ci": None}
    lo, hi = np.nanquantile(boots, [0.025, 0.975])
    return {"median_ratio": float(r), "median_ratio_ci": [float(lo), float(hi)]}


def _mw(fa: np.ndarray, fb: np.ndarray) -> tuple[float, float]:
    """Two-sided Mann-Whitney U (asymptotic, tie-corrected): (U of fa, p)."""
    if np.all(fa == fa[0]) and np.all(fb == fa[0]):
        return float(fa.size * fb.size / 2), 1.0
    res = mannwhitneyu(fa, fb, alternative="two-sided", method="asymptotic")
    return float(res.statistic), float(res.pvalue)


def compare_recovery(a: dict, b: dict, sweeps: int, replicas: int) -> dict:
    """Fisher's exact test on success counts, Mann-Whitney U on t_rec (failures = +inf).

    ``t_rec`` lists the runs instance by instance (``replicas`` consecutive runs per instance,
    as ``mcsgd recover`` writes them). Replicas of one instance share its disorder, so besides
    the run-level test (which treats all runs as independent) the test is repeated on the
    per-instance medians (one value per instance: clustered, conservative).
    """
    ta, tb = np.asarray(a["t_rec"], float), np.asarray(b["t_rec"], float)
    ka, kb = int(np.isfinite(ta).sum()), int(np.isfinite(tb).sum())
    _, p_fisher = fisher_exact([[ka, ta.size - ka], [kb, tb.size - kb]])
    # +inf ranks above every finite time; any value above the budget gives the same ranks
    fa = np.where(np.isfinite(ta), ta, 10.0 * sweeps)
    fb = np.where(np.isfinite(tb), tb, 10.0 * sweeps)
    u, p_mw = _mw(fa, fb)
    _, p_inst = _mw(np.median(fa.reshape(-1, replicas), axis=1),
                    np.median(fb.reshape(-1, replicas), axis=1))
    return {"success_diff": ka / ta.size - kb / tb.size,
            "success_diff_ci": newcombe_diff_ci(ka, ta.size, kb, tb.size),
            **median_ratio(ta, tb),
            "fisher_p": float(p_fisher), "mannwhitney_U": u, "mannwhitney_p": p_mw,
            "mannwhitney_p_instances": p_inst,
            # probability that an index-planted run recovers before a shuffled one (ties 1/2)
            "P_index_faster": float(1.0 - u / (ta.size * tb.size))}


def analyse(res: dict) -> None:
    """(Re)compute every comparison in ``res`` from its raw per-run data, in place."""
    for cmp in res["recovery"]:
        for pl in PLANTINGS:
            r = cmp[pl]
            r["t_rec"] = [math.inf if t is None else float(t) for t in r["t_rec"]]
            r["exact_ci"] = exact_ci(r["recovered"], r["runs"])
            r["wilson_ci"] = list(wilson_interval(r["recovered"], r["runs"]))
        cmp.update(compare_recovery(cmp["index"], cmp["shuffled"], cmp["sweeps"],
                                    cmp["replicas"]))
    for r in res["T_eq"]:
        (ti, ei), (ts, es) = r["index"], r["shuffled"]
        se = math.hypot(ei, es)
        r.update(diff=ti - ts, z=(ti - ts) / se if se > 0 else math.nan)


def _f(x, p=0, none="∞") -> str:
    """A number; ``none`` for None/inf (a t_rec quantile that lies among the failures)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return none
    return f"{x:.{p}f}"


DEFAULT_CI_METHOD = "wilson / order statistics (runs independent)"  # recover before 0.2


def tables(res: dict) -> str:
    """The recovery and T_eq comparison tables (Markdown) and the interval methods used."""
    lines = ["| seed | c | B | planting | recovered | Wilson / exact 95% (runs) | "
             "recover's 95% | median t_rec [95%] | Δ success [95%] | Fisher p | "
             "median ratio [95%] | Mann-Whitney p (runs; instances) | P(index faster) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    methods = set()
    for cmp in res["recovery"]:
        for pl in PLANTINGS:
            r = cmp[pl]
            method = r.get("ci_method", DEFAULT_CI_METHOD)
            methods.add(method)
            ci = r["t_rec_median_ci"] or [None, None]
            # the order-statistic interval is undefined (not infinite) for too few runs
            undefined = ("order statistics" in method
                         and int(binom.ppf(0.025, r["runs"], 0.5)) - 1 < 0)
            ci_txt = "[n/a]" if undefined else f"[{_f(ci[0])}, {_f(ci[1])}]"
            w, e, sc = r["wilson_ci"], r["exact_ci"], r["success_ci"]
            cells = [str(cmp["seed"]), f"{cmp['c']:g}", f"{cmp['B']:g}", pl,
                     f"{r['recovered']}/{r['runs']}",
                     f"{w[0]:.2f}–{w[1]:.2f} / {e[0]:.2f}–{e[1]:.2f}",
                     f"{sc[0]:.2f}–{sc[1]:.2f}", f"{_f(r['t_rec_median'])} {ci_txt}"]
            if pl == PLANTINGS[0]:
                d, dci = cmp["success_diff"], cmp["success_diff_ci"]
                mr, mci = cmp["median_ratio"], cmp["median_ratio_ci"]
                cells += [f"{d:+.2f} [{dci[0]:+.2f}, {dci[1]:+.2f}]", f"{cmp['fisher_p']:.2f}",
                          (f"{mr:.2f} [{mci[0]:.2f}, {mci[1]:.2f}]" if mci else
                           _f(mr, 2, "–")),
                          f"{cmp['mannwhitney_p']:.2f}; {cmp['mannwhitney_p_instances']:.2f}",
                          f"{cmp['P_index_faster']:.2f}"]
            else:
                cells += [""] * 5
            lines.append("| " + " | ".join(cells) + " |")
    if methods:
        lines += ["", "recover's intervals (success, median t_rec): " + "; ".join(sorted(methods))]
    lines += ["", "| c | B | T_eq index | T_eq shuffled | ΔT_eq | z |", "|---|---|---|---|---|---|"]
    for r in res["T_eq"]:
        lines.append(f"| {r['c']:g} | {r['B']:g} | {r['index'][0]:.4f} ± {r['index'][1]:.4f} | "
                     f"{r['shuffled'][0]:.4f} ± {r['shuffled'][1]:.4f} | "
                     f"{r['diff']:+.4f} | {r['z']:+.2f} |")
    return "\n".join(lines)


def recovery_sets(p: dict) -> list[dict]:
    """The recovery parameter sets: the main one, then the replication (overrides)."""
    main = {k: p[k] for k in ("c", "B", "n", "instances", "replicas", "sweeps", "seed")}
    return [main, {**main, **p["replication"]}] if p.get("replication") else [main]


def measure(p: dict, quick: bool, recovery: list[int], calibration: bool) -> dict:
    """Run the commands for both plantings; the raw results (no comparisons yet).

    ``recovery``: which of :func:`recovery_sets` to run.
    """
    import mcsgd

    res: dict = {"script": "runs/planted_leak.py" + (" --quick" if quick else ""),
                 "mcsgd_version": mcsgd.__version__, "params": p, "recovery": [], "T_eq": [],
                 "timing_s": {}}
    t0 = time.perf_counter()
    for i in recovery:
        ps = recovery_sets(p)[i]
        with tempfile.TemporaryDirectory() as tmp:
            rows = {pl: run_recovery(ps, pl, tmp) for pl in PLANTINGS}
        for ra, rb in zip(rows["index"], rows["shuffled"], strict=True):
            assert (ra["c"], ra["B"]) == (rb["c"], rb["B"])
            res["recovery"].append({"c": ra["c"], "B": ra["B"], "set": i, "seed": ps["seed"],
                                    "instances": ps["instances"], "replicas": ps["replicas"],
                                    "sweeps": ps["sweeps"], "index": ra, "shuffled": rb})
    res["timing_s"]["recovery"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    if calibration:
        cals = {pl: run_calibration(p, pl) for pl in PLANTINGS}
        for j, B in enumerate(cals["index"]["B"]):
            res["T_eq"].append({"c": p["cal_c"], "B": B,
                                "index": [cals["index"]["T_eq"][j],
                                          cals["index"]["T_eq_err"][j]],
                                "shuffled": [cals["shuffled"]["T_eq"][j],
                                             cals["shuffled"]["T_eq_err"][j]]})
        res["calibration_params"] = {pl: cals[pl]["params"] for pl in PLANTINGS}
    res["timing_s"]["calibration"] = time.perf_counter() - t1
    return res


def merge(paths: list[str]) -> dict:
    """Results of separate invocations (parts of the same parameters), merged."""
    res: dict = {"script": [], "merged_from": paths, "params": None, "recovery": [], "T_eq": [],
                 "timing_s": {"recovery": 0.0, "calibration": 0.0}}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            part = json.load(fh)
        res["script"].append(part["script"])
        res.setdefault("mcsgd_version", part["mcsgd_version"])
        if part["mcsgd_version"] != res["mcsgd_version"]:
            raise SystemExit(f"{path}: mcsgd {part['mcsgd_version']} != "
                             f"{res['mcsgd_version']}")
        if res["params"] not in (None, part["params"]):
            raise SystemExit(f"{path}: other parameters than {paths[0]}")
        res["params"] = part["params"]
        res["recovery"] += part["recovery"]
        if part["T_eq"]:
            if res["T_eq"]:
                raise SystemExit(f"{path}: a second T_eq part")
            res["T_eq"] = part["T_eq"]
            res["calibration_params"] = part["calibration_params"]
        for k in res["timing_s"]:
            res["timing_s"][k] += part["timing_s"][k]
    res["recovery"].sort(key=lambda r: (r["set"], r["c"], r["B"]))
    res["script"] = " + ".join(res["script"])
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small smoke-test version")
    ap.add_argument("--out", default=None, help="JSON output (default runs/out/planted_leak"
                    "[_quick].json)")
    ap.add_argument("--skip-calibration", action="store_true")
    ap.add_argument("--skip-recovery", action="store_true")
    ap.add_argument("--recovery-sets", default=None,
                    help="comma-separated indices of the recovery sets to run (0: main, "
                    "1: replication; default all)")
    ap.add_argument("--from-json", nargs="+", default=None, metavar="JSON",
                    help="no runs: re-analyse the raw data of earlier outputs (merged)")
    a = ap.parse_args(argv)
    p = dict(QUICK if a.quick else FULL)
    out = a.out or os.path.join("runs", "out",
                                "planted_leak_quick.json" if a.quick else "planted_leak.json")
    if a.from_json:
        res = merge(a.from_json)
    else:
        sets = (list(range(len(recovery_sets(p)))) if a.recovery_sets is None else
                [int(x) for x in a.recovery_sets.split(",")])
        res = measure(p, a.quick, [] if a.skip_recovery else sets, not a.skip_calibration)
    analyse(res)
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    stored = json.loads(json.dumps(res, default=float))  # a copy; strict JSON below
    for cmp in stored["recovery"]:  # a run that did not recover has t_rec null
        for pl in PLANTINGS:
            cmp[pl]["t_rec"] = [None if t == math.inf else t for t in cmp[pl]["t_rec"]]
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(stored, fh, indent=1, allow_nan=False)
    print(f"mcsgd {res['mcsgd_version']}, {res['script']}; parameters: "
          + ", ".join(f"{k} = {v}" for k, v in res["params"].items()))
    print()
    print(tables(res))
    print(f"\nwall time: recovery {res['timing_s']['recovery']:.0f} s, calibration "
          f"{res['timing_s']['calibration']:.0f} s; JSON: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
