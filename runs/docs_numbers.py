"""The small measured numbers quoted in docs/recovery.md, docs/bp.md and docs/calibration.md.

    python runs/docs_numbers.py [--only recover,bias,anneal,bp,calib,calib_tol] [--out FILE]

Each section repeats the exact calls of the test the docs cite, so the numbers can be
regenerated whenever the seed derivation changes (they are seeded, so they change with it):

* ``recover`` (docs/recovery.md "Measured", tests/experiments/test_recover.py
  ``test_metropolis_recovers_inside_window_greedy_never``): N = 3000, c = 24, q = 5, instances
  ``problems.planted_coloring(3000, 5, 24.0, seed=s)`` for s = 100..111 (the docs quote
  100-103; the references of the k-sigma test add 104-111), 8 replicas, 1000 sweeps, recovery
  seed 0; Metropolis(0.75) and SGD(1.0): recovered runs, the slowest recovery time, final
  overlaps.
* ``bias`` (docs/recovery.md "Definitions", ``test_overlap_random_bias_scales_as_inverse_sqrt_n``):
  sqrt(N) * mean overlap of 200 uniformly random colourings at N = 2000 and 32000
  (``np.random.default_rng(0)``, instance seed 1, c = 3), and its N -> infinity limit 1.174
  (the current, k-sigma version of the test draws it first from the same generator; the former
  version drew the colourings directly).
* ``anneal`` (docs/recovery.md "Measured", ``test_annealing_and_quench``): instance seed 100,
  Anneal("B", 0.8, 0.9, steps=20) and Anneal("T", 0.9, 0.6, steps=20), 1000 sweeps, 16
  replicas, seed 1 (the docs) and 2, 3 (the k-sigma test's reference), with and without a
  30-sweep quench.
* ``bp`` (docs/bp.md last paragraph, ``test_kesten_stigum_q5``): bp(planted_coloring(10^5, 5, c,
  seed=1), max_iter=300, tol=1e-6) at c = 20 and 12: overlap, iterations, wall and CPU time.
* ``calib`` (docs/calibration.md "Accuracy", tests/experiments/test_calibrate.py): the closed loop
  calibrate(Problem(n=4000, c=10.0), [Metropolis(1.5)], instances=8, replicas=2, sweeps=200,
  seed=5) and calibrate(Problem(n=50_000, c=20.0), [SGD(0.5), SGD(0.8)], instances=2,
  replicas=2, sweeps=300, seed=2, mode="both") (the c = 20 call before the k-sigma rewrite).
* ``calib_tol`` (the k-sigma version of tests/experiments/test_calibrate.py, current): the
  c = 20 fixture with n = 25_000, instances=8, replicas=1 (same seed, sweeps, mode);
  ``calib_ref``: its 24-instance reference (seed 1000).
* ``epara`` (the e_para bullet of docs/calibration.md, tests/dynamics/test_physics.py
  ``test_metropolis_reproduces_e_para``): random_coloring(10_000, 5, 5.0, seed=21), Metropolis
  at T = 3 and 1 (metropolis and heatbath rules), 300 sweeps, 16 replicas, seed 2.

Prints one line per quantity and writes everything as JSON (default runs/out/docs_numbers.json).
Cost on 2 busy cores: about 4 min for all sections (recover 80 s, calib_ref 45 s, anneal 30 s,
the others 2-25 s each).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import sys
import time

import numpy as np

from mcsgd import __version__, problems
from mcsgd.bp import bp
from mcsgd.driver import run
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.dynamics.measure import overlap
from mcsgd.experiments.calibrate import Problem, calibrate
from mcsgd.experiments.recover import Anneal, recovery_run

SECTIONS = ("recover", "bias", "anneal", "bp", "calib", "calib_tol", "calib_ref", "epara")


def _f(x: np.ndarray) -> list:
    """JSON-safe list (inf -> None)."""
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(x, float).ravel()]


def sec_recover() -> dict:
    out = {}
    for name, dyn in (("metropolis_T0.75", Metropolis(0.75)), ("greedy_B1", SGD(1.0))):
        per = []
        for s in range(100, 112):
            inst = problems.planted_coloring(3000, 5, 24.0, seed=s)
            r = recovery_run(inst, dyn, sweeps=1000, replicas=8, seed=0)
            per.append({"instance_seed": s, "t_rec": _f(r["t_rec"]),
                        "final_overlap": _f(r["final_overlap"])})
        out[name] = per
        for lo, hi in ((100, 104), (100, 112)):
            rows = [p for p in per if lo <= p["instance_seed"] < hi]
            t = np.array([np.inf if v is None else v for p in rows for v in p["t_rec"]])
            fo = np.array([v for p in rows for v in p["final_overlap"]])
            med = []
            for p in rows:
                ok = [v for v, tt in zip(p["final_overlap"], p["t_rec"], strict=True)
                      if tt is not None]
                med.append(float(np.median(ok)) if ok else math.nan)
            fin = t[np.isfinite(t)]
            print(f"{name} seeds {lo}-{hi - 1}: recovered {fin.size}/{t.size}, slowest t_rec "
                  f"{fin.max() if fin.size else None}, final overlap mean {fo.mean():.4f} sd "
                  f"{fo.std(ddof=1):.4f} min {fo.min():.4f} max {fo.max():.4f}; per-instance "
                  f"median final overlap of recovered runs {np.round(med, 4).tolist()}")
    return out


def _bias_draws(rng: np.random.Generator, label: str) -> dict:
    out = {}
    for n in (2000, 32000):
        inst = problems.planted_coloring(n, 5, 3.0, seed=1)
        s = rng.integers(0, 5, size=(200, n)).astype(np.int8)
        x = overlap(inst, s) * math.sqrt(n)
        out[n] = {"mean": float(x.mean()), "se": float(x.std(ddof=1) / math.sqrt(x.size))}
        print(f"bias ({label}) N = {n}: sqrt(N) * mean overlap = {x.mean():.4f} +- "
              f"{out[n]['se']:.4f}")
    return out


def sec_bias() -> dict:
    # the former test: default_rng(0) draws the random colourings directly
    out = {"former_test": _bias_draws(np.random.default_rng(0), "former test")}
    # the current (k-sigma) test: default_rng(0) first draws the Gaussian limit (N -> infinity: the
    # confusion counts are Gaussian, sqrt(N) E[overlap] = E[max_pi sum_a g_{a, pi(a)}] / (q - 1)
    # for a q x q matrix g of iid standard normals), then the colourings
    rng = np.random.default_rng(0)
    q = 5
    perms = np.array(list(itertools.permutations(range(q))))
    g = rng.standard_normal((100_000, q, q))
    best = g[:, np.arange(q)[None, :], perms].sum(axis=2).max(axis=1) / (q - 1)
    out["gaussian_limit"] = float(best.mean())
    out["gaussian_limit_se"] = float(best.std(ddof=1) / math.sqrt(best.size))
    print(f"bias N -> inf (Gaussian limit): {best.mean():.4f} +- {out['gaussian_limit_se']:.4f}")
    out["current_test"] = _bias_draws(rng, "current test")
    return out


def sec_anneal() -> dict:
    inst = problems.planted_coloring(3000, 5, 24.0, seed=100)
    out = {}
    for seed, sched in itertools.product(
            (1, 2, 3), (Anneal("B", 0.8, 0.9, steps=20), Anneal("T", 0.9, 0.6, steps=20))):
        res = recovery_run(inst, sched, sweeps=1000, replicas=16, seed=seed)
        q = recovery_run(inst, sched, sweeps=1000, replicas=16, seed=seed, quench=30)
        name = f"anneal_{sched.param}_seed{seed}"
        rec = np.isfinite(res["t_rec"])
        out[name] = {"t_rec": _f(res["t_rec"]), "final_overlap": _f(res["final_overlap"]),
                     "quenched_overlap": _f(q["final_overlap"]),
                     "same_t_rec": bool(np.array_equal(q["t_rec"], res["t_rec"]))}
        print(f"{name}: recovered {rec.sum()}/{rec.size}, quenched overlap "
              f"{q['final_overlap'].min():.4f}-{q['final_overlap'].max():.4f} (mean "
              f"{q['final_overlap'].mean():.4f}), unquenched "
              f"{res['final_overlap'].min():.4f}-{res['final_overlap'].max():.4f}, "
              f"t_rec equal with/without quench: {out[name]['same_t_rec']}")
    for lo, hi in ((1, 1), (2, 3), (1, 3)):
        qs = np.array([v for k, d in out.items() if lo <= int(k[-1]) <= hi
                       for v in d["quenched_overlap"]])
        print(f"anneal seeds {lo}-{hi}, both schedules: quenched overlap mean {qs.mean():.4f} sd "
              f"{qs.std(ddof=1):.4f} min {qs.min():.4f} max {qs.max():.4f} ({qs.size} runs)")
    return out


def sec_bp() -> dict:
    out = {}
    for c in (20.0, 12.0):
        t0, c0 = time.perf_counter(), time.process_time()
        inst = problems.planted_coloring(100_000, 5, c, seed=1)
        g_wall = time.perf_counter() - t0
        r = bp(inst, max_iter=300, tol=1e-6)
        out[c] = {"overlap": float(r.overlap), "iterations": int(r.iterations),
                  "converged": bool(r.converged), "wall_s": time.perf_counter() - t0,
                  "cpu_s": time.process_time() - c0, "generate_wall_s": g_wall}
        print(f"bp c = {c:g}: overlap {r.overlap:.4f} in {r.iterations} iterations "
              f"(converged {r.converged}); wall {out[c]['wall_s']:.1f} s, cpu "
              f"{out[c]['cpu_s']:.1f} s (generation {g_wall:.1f} s wall)")
    return out


def _cal_summary(name: str, cal) -> dict:
    t = cal.table
    keys = ("B", "T", "T0", "T_eq", "T_eq_err", "T_eq_para", "T_eq_para_err", "T_neq",
            "T_neq_err", "T_adb", "stationary", "init_agree")
    d = {k: t[k] for k in keys if k in t}
    d["errors"] = {k: v for k, v in cal.errors.items() if isinstance(v, (int, float, bool, str))}
    for j in range(len(t["T_eq"])):
        rel = t["T_eq_err"][j] / t["T_eq"][j]
        comb = math.hypot(t["T_eq_err"][j], t["T_eq_para_err"][j])
        z = (t["T_eq"][j] - t["T_eq_para"][j]) / comb
        print(f"{name} [{j}] B={t['B'][j]} T={t['T'][j]}: T_eq {t['T_eq'][j]:.5f} +- "
              f"{t['T_eq_err'][j]:.5f} (rel {100 * rel:.3f}%), T_eq_para {t['T_eq_para'][j]:.5f}"
              f" +- {t['T_eq_para_err'][j]:.5f} (z {z:+.2f}), T_neq {t['T_neq'][j]:.5f} +- "
              f"{t['T_neq_err'][j]:.5f}, T0 {t['T0'][j]}, T_adb {t['T_adb'][j]}, "
              f"stationary {t['stationary'][j]}, init_agree {t['init_agree'][j]}")
    return json.loads(json.dumps(d, default=float))


def sec_calib() -> dict:
    loop = calibrate(Problem(n=4000, c=10.0), [Metropolis(1.5)], instances=8, replicas=2,
                     sweeps=200, seed=5)
    c20 = calibrate(Problem(n=50_000, c=20.0), [SGD(0.5), SGD(0.8)], instances=2, replicas=2,
                    sweeps=300, seed=2, mode="both")
    return {"closed_loop": _cal_summary("closed loop", loop), "c20": _cal_summary("c20 5e4", c20)}


def sec_calib_tol() -> dict:
    c20 = calibrate(Problem(n=25_000, c=20.0), [SGD(0.5), SGD(0.8)], instances=8, replicas=1,
                    sweeps=300, seed=2, mode="both")
    return {"c20_n25000": _cal_summary("c20 2.5e4 8x1", c20)}


def sec_calib_ref() -> dict:
    c20 = calibrate(Problem(n=25_000, c=20.0), [SGD(0.5), SGD(0.8)], instances=24, replicas=1,
                    sweeps=300, seed=1000, mode="both")
    return {"c20_n25000_ref": _cal_summary("c20 2.5e4 24x1 seed 1000 (reference)", c20)}


def sec_epara() -> dict:
    er = problems.random_coloring(10_000, 5, 5.0, seed=21)
    out = {}
    for T in (3.0, 1.0):
        for rule in ("metropolis", "heatbath"):
            res = run(er, Metropolis(T, rule=rule), sweeps=300, replicas=16, seed=2)
            per = np.asarray(res.stationary()["replica_means"], float)
            e, sig = float(per.mean()), float(per.std(ddof=1) / math.sqrt(per.size))
            x = math.exp(-1.0 / T)
            target = er.mean_degree / 2 * x / (5 - 1 + x)
            out[f"{rule}_T{T:g}"] = {"e": e, "sigma": sig, "e_para": target}
            print(f"e_para {rule} T = {T:g}: e - e_para = {e - target:+.2e} (sigma {sig:.1e}, "
                  f"{(e - target) / sig:+.2f} sigma)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    ap.add_argument("--out", default="runs/out/docs_numbers.json", help="JSON output")
    args = ap.parse_args(argv)
    only = args.only.split(",")
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        print(f"error: --only: unknown section(s) {bad}; choose from {SECTIONS}", file=sys.stderr)
        return 2
    res: dict = {"version": __version__}
    if os.path.exists(args.out):  # merge with earlier sections
        with open(args.out) as fh:
            prev = json.load(fh)
        if prev.get("version") == __version__:
            res.update(prev)
    for s in only:
        t0 = time.perf_counter()
        res[s] = globals()[f"sec_{s}"]()
        print(f"[{s}: {time.perf_counter() - t0:.0f} s wall]", flush=True)
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(res, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
