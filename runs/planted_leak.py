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
seed derivation. Usage::

    python runs/planted_leak.py            # the table in docs/recovery.md (~25 min, 2 cores)
    python runs/planted_leak.py --quick    # a smoke test (~2 min)

Prints a Markdown table and writes JSON (``--out``, default runs/out/planted_leak.json) with the
parameters, the package version and the raw recovery times.
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

PLANTINGS = ("index", "shuffled")
FULL = dict(c=[20.0, 22.0, 24.0], B=[0.85], n=6000, instances=20, replicas=4, sweeps=2500,
            seed=1, cal_c=20.0, cal_B=[0.5, 0.9], cal_n=20000, cal_instances=6,
            cal_replicas=2, cal_sweeps=200)
QUICK = dict(c=[22.0, 24.0], B=[0.85], n=3000, instances=2, replicas=2, sweeps=600,
             seed=1, cal_c=20.0, cal_B=[0.5, 0.9], cal_n=5000, cal_instances=2,
             cal_replicas=2, cal_sweeps=100)


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
    from mcsgd.recover import wilson_interval

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


def compare_recovery(a: dict, b: dict, sweeps: int) -> dict:
    """Fisher's exact test on success counts, Mann-Whitney U on t_rec (failures = +inf)."""
    ta, tb = np.asarray(a["t_rec"], float), np.asarray(b["t_rec"], float)
    ka, kb = int(np.isfinite(ta).sum()), int(np.isfinite(tb).sum())
    _, p_fisher = fisher_exact([[ka, ta.size - ka], [kb, tb.size - kb]])
    extra = {"success_diff": ka / ta.size - kb / tb.size,
             "success_diff_ci": newcombe_diff_ci(ka, ta.size, kb, tb.size),
             **median_ratio(ta, tb)}
    # +inf ranks above every finite time; any value above the budget gives the same ranks
    fa, fb = np.where(np.isfinite(ta), ta, 10.0 * sweeps), np.where(np.isfinite(tb), tb,
                                                                       10.0 * sweeps)
    if np.all(fa == fa[0]) and np.all(fb == fa[0]):
        p_mw, u = 1.0, float(ta.size * tb.size / 2)
    else:
        res = mannwhitneyu(fa, fb, alternative="two-sided", method="asymptotic")
        p_mw, u = float(res.pvalue), float(res.statistic)
    return {**extra, "fisher_p": float(p_fisher), "mannwhitney_U": u, "mannwhitney_p": p_mw,
            # probability that an index-planted run recovers before a shuffled one (ties 1/2)
            "P_index_faster": float(1.0 - u / (ta.size * tb.size))}


def _f(x, p=0, none="∞") -> str:
    """A number; ``none`` for None/inf (a t_rec quantile that lies among the failures)."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return none
    return f"{x:.{p}f}"


def tables(res: dict) -> str:
    lines = ["| c | B | planting | recovered | Wilson 95% | exact 95% | median t_rec [95% CI] | "
             "Δ success [95%] | Fisher p | median ratio [95%] | Mann-Whitney p | "
             "P(index faster) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for cmp in res["recovery"]:
        for pl in PLANTINGS:
            r = cmp[pl]
            ci = r["t_rec_median_ci"] or [None, None]
            defined = int(binom.ppf(0.025, r["runs"], 0.5)) - 1 >= 0  # enough runs for a CI
            ci_txt = f"[{_f(ci[0])}, {_f(ci[1])}]" if defined else "[n/a]"
            cells = [f"{cmp['c']:g}", f"{cmp['B']:g}", pl, f"{r['recovered']}/{r['runs']}",
                     f"{r['success_ci'][0]:.2f}–{r['success_ci'][1]:.2f}",
                     f"{r['exact_ci'][0]:.2f}–{r['exact_ci'][1]:.2f}",
                     f"{_f(r['t_rec_median'])} {ci_txt}"]
            if pl == PLANTINGS[0]:
                d, dci = cmp["success_diff"], cmp["success_diff_ci"]
                mr, mci = cmp["median_ratio"], cmp["median_ratio_ci"]
                cells += [f"{d:+.2f} [{dci[0]:+.2f}, {dci[1]:+.2f}]", f"{cmp['fisher_p']:.2f}",
                          (f"{mr:.2f} [{mci[0]:.2f}, {mci[1]:.2f}]" if mci else
                           _f(mr, 2, "–")),
                          f"{cmp['mannwhitney_p']:.2f}", f"{cmp['P_index_faster']:.2f}"]
            else:
                cells += [""] * 5
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| c | B | T_eq index | T_eq shuffled | ΔT_eq | z |", "|---|---|---|---|---|---|"]
    for r in res["T_eq"]:
        lines.append(f"| {r['c']:g} | {r['B']:g} | {r['index'][0]:.4f} ± {r['index'][1]:.4f} | "
                     f"{r['shuffled'][0]:.4f} ± {r['shuffled'][1]:.4f} | "
                     f"{r['diff']:+.4f} | {r['z']:+.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small smoke-test version")
    ap.add_argument("--out", default=None, help="JSON output (default runs/out/planted_leak"
                    "[_quick].json)")
    ap.add_argument("--skip-calibration", action="store_true")
    ap.add_argument("--skip-recovery", action="store_true")
    a = ap.parse_args(argv)
    p = dict(QUICK if a.quick else FULL)
    out = a.out or os.path.join("runs", "out",
                                "planted_leak_quick.json" if a.quick else "planted_leak.json")
    import mcsgd

    res: dict = {"script": "runs/planted_leak.py" + (" --quick" if a.quick else ""),
                 "mcsgd_version": mcsgd.__version__, "params": p, "recovery": [], "T_eq": [],
                 "timing_s": {}}
    t0 = time.perf_counter()
    if not a.skip_recovery:
        with tempfile.TemporaryDirectory() as tmp:
            rows = {pl: run_recovery(p, pl, tmp) for pl in PLANTINGS}
        for ra, rb in zip(rows["index"], rows["shuffled"], strict=True):
            assert (ra["c"], ra["B"]) == (rb["c"], rb["B"])
            for r in (ra, rb):
                r["exact_ci"] = exact_ci(r["recovered"], r["runs"])
            res["recovery"].append({"c": ra["c"], "B": ra["B"], "index": ra, "shuffled": rb,
                                    **compare_recovery(ra, rb, p["sweeps"])})
    res["timing_s"]["recovery"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    if not a.skip_calibration:
        cals = {pl: run_calibration(p, pl) for pl in PLANTINGS}
        for j, B in enumerate(cals["index"]["B"]):
            ti, ei = cals["index"]["T_eq"][j], cals["index"]["T_eq_err"][j]
            ts, es = cals["shuffled"]["T_eq"][j], cals["shuffled"]["T_eq_err"][j]
            se = math.hypot(ei, es)
            res["T_eq"].append({"c": p["cal_c"], "B": B, "index": [ti, ei],
                                "shuffled": [ts, es], "diff": ti - ts,
                                "z": (ti - ts) / se if se > 0 else math.nan})
        res["calibration_params"] = {pl: cals[pl]["params"] for pl in PLANTINGS}
    res["timing_s"]["calibration"] = time.perf_counter() - t1
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    for cmp in res["recovery"]:  # strict JSON: a run that did not recover has t_rec null
        for pl in PLANTINGS:
            cmp[pl]["t_rec"] = [t if math.isfinite(t) else None for t in cmp[pl]["t_rec"]]
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=1, allow_nan=False)
    print(f"mcsgd {res['mcsgd_version']}, {res['script']}; parameters: "
          + ", ".join(f"{k} = {v}" for k, v in p.items()))
    print()
    print(tables(res))
    print(f"\nwall time: recovery {res['timing_s']['recovery']:.0f} s, calibration "
          f"{res['timing_s']['calibration']:.0f} s; JSON: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
