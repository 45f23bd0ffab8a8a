"""Regenerate the measured numbers of docs/continuous.md with the current code.

Every number printed here comes from a call that is written out below, so the doc can be
checked and refreshed by running this file instead of by hand:

* ``measured``   -- the "Measured numbers" table: the exact calls of tests/continuous (same
  models, streams ``mcsgd.rng.generator(seed, key)`` and budgets as the tests). Multi-seed
  studies (psi over 20 seeds, 3-seed spreads, 4000-chain escape bias) are not re-run. ~3 min.
* ``benchmarks`` -- the "Benchmark runs" tables from ``runs/continuous/*.toml`` expanded by
  :func:`mcsgd.experiments.scan.spec.load_spec` (same seed and task key as ``mcsgd scan run``):
  ``linear_fdt_grid`` and ``ivf_oracles`` in full (synthetic data, as the specs say).
  ~3 min on a loaded 2-core machine.

    PYTHONPATH=. python runs/continuous_docs.py [measured benchmarks]
    (or one benchmark alone: linear_fdt_grid, ivf_oracles; default: both sections)

The "Example outputs" blocks (the ``mcsgd continuous ... --json`` commands) are rewritten by
``runs/docs_examples.py`` from the markers in the doc.

Output is markdown / JSON fragments in the layout of docs/continuous.md.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcsgd.continuous.escape import run_escape, run_occupation  # noqa: E402
from mcsgd.continuous.fdr import (  # noqa: E402
    fdr2_eta_scan,
    quadratic_fdr2_discrete,
    run_adaptive,
    run_fdr,
)
from mcsgd.continuous.ivf import run_ivf  # noqa: E402
from mcsgd.continuous.linear import exact_stationary_excess, run_linear_fdt  # noqa: E402
from mcsgd.continuous.models import Quadratic, Wells, make_model  # noqa: E402
from mcsgd.continuous.temperature import run_temperature  # noqa: E402
from mcsgd.rng import generator  # noqa: E402
from tests.continuous.test_quadratic import _variance as _quad_variance  # noqa: E402


def out(*a: object) -> None:
    print(*a, flush=True)


def g(x: float, n: int = 4) -> str:
    """``n`` significant digits, trailing zeros kept."""
    return f"{x:#.{n}g}".rstrip(".")


# ---------------------------------------------------------------------------------------------
# Measured numbers (the tests' calls)
# ---------------------------------------------------------------------------------------------

def _pm(x: float | None, e: float | None, n: int = 4) -> str:
    if x is None or e is None:
        return f"{x} ± {e}"
    return f"{g(x, n)} ± {g(e, 2)}"


def measured_quadratic() -> None:
    H, eta, B = np.array([0.5, 2.0, 5.0]), 0.1, 4
    disc = eta / (B * H * (2 - eta * H))
    var, err = _quad_variance()
    out("Var/disc (h = 0.5, 2, 5):", ", ".join(g(x, 4) for x in var / disc),
        "| sigma %:", ", ".join(f"{100 * e / v:.2f}" for e, v in zip(err, var, strict=True)))
    out("Var/SDE at eta h = 0.5:", g(var[2] / (eta / (2 * B * H[2])), 4))
    worst, sig = [], []
    for mu, nu in [(0.5, 0.0), (0.5, 0.3), (0.9, 0.0)]:
        v, e = _quad_variance(mu, nu)
        a = eta * (1 - nu)
        exact = (1 + mu) * a / (B * (1 - mu) * H * (2 * (1 + mu) - a * H))
        worst.append(np.max(np.abs(v / exact - 1)))
        sig += list(e / v)
    out(f"momentum AR(2): within {100 * max(worst):.2f} % "
        f"(sigma {100 * min(sig):.2f}-{100 * max(sig):.2f} %)")
    v64, _ = _quad_variance(n_data=64)
    vw, _ = _quad_variance(n_data=64, sampling="without")
    out("N = 64 with replacement / disc:", ", ".join(g(x, 3) for x in v64 / disc),
        "| epoch shuffling / disc:", ", ".join(g(x, 2) for x in vw / disc))


def measured_fdr() -> None:
    quad = make_model("quadratic", generator(0, (0,)))
    r = run_fdr(quad, 0.05, 4, generator(0, (1,)), steps=20000, chains=16)
    s, a = r["scalars"], r["arrays"]
    exact = quadratic_fdr2_discrete(quad.H, quad.C, 0.05, 4)
    out(f"FDR1 quadratic: ratio {_pm(s['ratio'], s['ratio_err'], 5)}; "
        f"ratio_history[0] {g(a['ratio_history'][0], 3)}")
    out(f"FDR1 full gradient (2e4 steps): {_pm(s['ratio_full_gradient'], s['ratio_full_gradient_err'], 4)}")  # noqa: E501
    out(f"FDR2 probe quadratic: {_pm(s['fdr2_probe'], s['fdr2_probe_err'], 5)} vs exact discrete "
        f"{g(exact, 5)}")

    def perturbed(factor=1.0, shift=0.0):
        bad = copy.copy(quad)
        bad.grad_noisy = lambda th, B, rng: (factor * Quadratic.grad_noisy(quad, th, B, rng)
                                             + shift)
        return bad

    ok = run_fdr(quad, 0.05, 4, generator(0, (1,)), steps=10000, chains=16)["scalars"]
    out(f"FDR1 full gradient (1e4 steps, control): "
        f"{_pm(ok['ratio_full_gradient'], ok['ratio_full_gradient_err'], 4)}")
    for f in (1.25, 0.9):
        b = run_fdr(perturbed(f), 0.05, 4, generator(0, (1,)), steps=10000,
                    chains=16)["scalars"]
        out(f"  g = {f}(grad f + xi): ratio {_pm(b['ratio'], b['ratio_err'], 5)}, full gradient "
            f"{_pm(b['ratio_full_gradient'], b['ratio_full_gradient_err'], 4)}")
    b = run_fdr(perturbed(shift=0.3), 0.05, 4, generator(0, (1,)), steps=10000,
                chains=16)["scalars"]
    out(f"  g = grad f + xi + 0.3: probe {_pm(b['fdr2_probe'], b['fdr2_probe_err'], 4)} "
        f"vs {g(exact, 3)}")

    mu, nu = 0.5, 0.2
    r = run_fdr(quad, 0.05, 4, generator(1, (1,)), steps=20000, chains=16, momentum=mu,
                dampening=nu)["scalars"]
    h = np.diag(quad.H)
    aa = 0.05 * (1 - nu)
    var = (1 + mu) * aa / (4 * (1 - mu) * h * (2 * (1 + mu) - aa * h))
    hb = 2 * np.sum(h**2 * var) / (0.05 * (1 - nu) / (1 - mu))
    out(f"FDR1 momentum 0.5 (nu 0.2): ratio {_pm(r['ratio'], r['ratio_err'], 6)}; probe "
        f"{_pm(r['fdr2_probe'], r['fdr2_probe_err'], 4)} vs heavy-ball {g(hb, 4)}")

    m = make_model("softmax", generator(3, (0,)), data="synthetic")
    s = run_fdr(m, 0.02, 4, generator(0, (1,)), steps=20000, chains=16,
                weight_decay=0.01)["scalars"]
    out(f"FDR softmax synthetic: ratio {_pm(s['ratio'], s['ratio_err'], 5)} (full gradient "
        f"{_pm(s['ratio_full_gradient'], s['ratio_full_gradient_err'], 4)}); probe "
        f"{_pm(s['fdr2_probe'], s['fdr2_probe_err'], 3)} vs {g(s['fdr2_exact'], 4)}")

    r = fdr2_eta_scan(quad, [0.02, 0.05, 0.1, 0.15], 4, generator(0, (1,)), steps=10000,
                      chains=16)
    out(f"FDR2 eta-scan: intercept {_pm(r['fdr2_intercept'], r['fdr2_intercept_err'], 4)} "
        f"({g(h.sum() / 4, 4)}), slope {_pm(r['fdr2_slope'], r['fdr2_slope_err'], 3)} "
        f"({g((h**2).sum() / 8, 3)})")

    eta0, B, Y = 0.1, 4, 0.5
    ra = run_adaptive(quad, eta0, B, generator(0, (1,)), X=0.02, Y=Y, steps=8000, chains=8,
                      check_every=100, min_window=1000)["arrays"]
    cs, wins = ra["check_steps"], []
    for ch in range(ra["eta_history"].shape[0]):
        d = ra["decay_steps"][ch]
        k = np.searchsorted(cs, d[d > 0][0])
        wins.append(ra["loss_history"][ch, k - 9: k + 1].mean() - quad.f0)
    hv = eta0 / (B * (2 - eta0 * h))
    out(f"adaptive first decay: window excess {g(min(wins), 3)}-{g(max(wins), 3)} (mean "
        f"{g(np.mean(wins), 3)}) vs {g(np.sum(eta0 / (2 * B * (2 - eta0 * h))), 3)}, sigma of "
        f"the mean {g(np.sqrt(np.sum(hv**2) / 2 / 10 / len(wins)), 2)}")


def measured_linear() -> None:
    lin = make_model("linreg", generator(1, (0,)), data="synthetic")
    grid = [(0.05, 16), (0.1, 4), (0.2, 4), (0.1, 2), (0.1, 1)]
    rows = [run_linear_fdt(lin, e, b, generator(7, (i,)), steps=10000, chains=16)["scalars"]
            for i, (e, b) in enumerate(grid)]
    ex = [exact_stationary_excess(lin, e, b) for e, b in grid]
    out("linear FDT grid (eta, B):", grid)
    out("  x_scale:", ", ".join(g(r["x_scale"], 2) for r in rows))
    out("  ratio_exact:", ", ".join(_pm(r["ratio_exact"], r["ratio_exact_err"], 4)
                                    for r in rows))
    out("  excess offset / sigma:", ", ".join(
        f"{(r['excess_loss'] - x) / r['excess_loss_err']:+.2f}" for r, x in zip(rows, ex,
                                                                                   strict=True)))
    out("  ratio_langevin:", ", ".join(_pm(r["ratio_langevin"], r["ratio_langevin_err"], 4)
                                       for r in rows))
    out("  exact ratio_langevin:", ", ".join(g(x / r["rhs_langevin"], 4)
                                             for r, x in zip(rows, ex, strict=True)))
    r = run_linear_fdt(lin, 0.05, 4, generator(8, ()), steps=10000, chains=16, momentum=0.5,
                       dampening=0.1)["scalars"]
    out(f"  momentum 0.5/0.1: ratio_exact {_pm(r['ratio_exact'], r['ratio_exact_err'], 4)}")
    r = run_linear_fdt(lin, 0.1, 2, generator(9, ()), steps=10000, chains=16,
                       weight_decay=0.05)["scalars"]
    out(f"  weight decay 0.05: excess {_pm(r['excess_loss'], r['excess_loss_err'], 4)} vs "
        f"{g(exact_stationary_excess(lin, 0.1, 2, weight_decay=0.05), 4)}")


def measured_ivf() -> None:
    for noise in ("isotropic", "hessian", "hessian2"):
        m = make_model("quadratic", generator(0, (0,)), noise=noise)
        s = run_ivf(m, 0.05, 4, generator(0, (1,)), steps=20000, chains=32)["scalars"]
        out(f"psi {noise} (test seed): {_pm(s['psi'], s['psi_err_jackknife'], 4)} "
            f"(predicted {g(s['psi_predicted'], 4)}); true energy "
            f"{g(s['psi_true_energy'], 4)}")


def measured_escape() -> None:
    r = run_escape(Wells(s=160.0), [3, 4, 5], 0.01, generator(0, ()), chains=400,
                   max_steps=150000)
    s = r["scalars"]
    th = s["slope_theory"]
    out(f"escape slope {_pm(s['slope'], s['slope_err'], 4)}: / theory "
        f"{_pm(s['slope'] / th, s['slope_err'] / th, 3)} (SDE {g(s['slope_sde'] / th, 3)})")
    out("  K / SDE:", ", ".join(g(row["escape_steps_mean"] / row["sde_steps"], 3)
                                for row in s["rows"]))
    cvs = []
    for times in r["arrays"]["times"]:
        done = times[times >= 0]
        if done.size == times.size:
            cvs.append(g(done.std() / done.mean(), 3))
    out("  CV (uncensored rows):", ", ".join(cvs))
    row = run_escape(Wells(s=160.0), [3], 0.005, generator(1, ()), chains=300,
                     momentum=0.5)["scalars"]["rows"][0]
    out(f"escape mu = 0.5, eta = 0.005, B = 3: {round(row['escape_steps_mean'])} ± "
        f"{round(row['escape_steps_err'])} vs SDE {round(row['sde_steps'])}")
    m = Wells(s=120.0, depth=0.25, kappa=1.0)
    rows = run_occupation(m, [1, 2, 4], 0.01, generator(2, ()), steps=40000,
                          chains=128)["scalars"]["rows"]
    out("occupation p_flat:", ", ".join(_pm(x["p_flat"], x["p_flat_err"], 3) for x in rows),
        "| Gibbs:", ", ".join(g(x["p_flat_gibbs"], 3) for x in rows),
        "| Laplace:", g(rows[0]["p_flat_laplace"], 3))


def measured_temperature() -> None:
    m = make_model("quadratic", generator(0, (0,)))
    r = run_temperature(m, [1, 4, 16], 0.02, generator(0, (1,)), steps=10000, chains=8)
    rows = r["scalars"]["rows"]
    out("T_conf / T_conf_exact:", ", ".join(g(x["T_conf"] / x["T_conf_exact"], 4) for x in rows),
        "| sigma %:", ", ".join(f"{100 * x['T_conf_err'] / x['T_conf']:.2f}" for x in rows))
    h = r["arrays"]["hessian_eigenvalues"]
    z = max(np.max(np.abs(r["arrays"]["T_modes"][k] - 0.02 / (B * (2 - 0.02 * h)))
                   / r["arrays"]["T_modes_err"][k]) for k, B in enumerate(r["arrays"]["B"]))
    out(f"T per mode: max |z| {z:.1f}")
    rows = run_temperature(Wells(s=20.0), [2, 8], 0.005, generator(1, ()), steps=20000,
                           chains=16)["scalars"]["rows"]
    out("double well T_conf / T_theory:", ", ".join(
        _pm(x["T_conf"] / x["T_theory"], x["T_conf_err"] / x["T_theory"], 4) for x in rows))
    m = make_model("softmax", generator(3, (0,)), data="synthetic")
    a, b = run_temperature(m, [4, 16], 0.02, generator(2, ()), steps=6000, chains=8,
                           weight_decay=1e-3)["scalars"]["rows"]
    rat = a["T_conf"] / b["T_conf"]
    sig = rat * np.hypot(a["T_conf_err"] / a["T_conf"], b["T_conf_err"] / b["T_conf"])
    out("softmax T_conf / T_fdr2:", ", ".join(
        _pm(x["T_conf"] / x["T_fdr2"], x["T_conf_err"] / x["T_fdr2"], 3) for x in (a, b)),
        "| T_conf / T_theory:", ", ".join(g(x["T_conf"] / x["T_theory"], 2) for x in (a, b)),
        f"| T(4)/T(16) {_pm(rat, sig, 3)}")


def measured() -> None:
    out("## Measured numbers (tests/continuous calls)")
    for f in (measured_quadratic, measured_fdr, measured_linear, measured_escape,
              measured_temperature, measured_ivf):
        t0 = time.perf_counter()
        f()
        out(f"   [{f.__name__}: {time.perf_counter() - t0:.0f} s]")
    out()


# ---------------------------------------------------------------------------------------------
# Benchmark runs (runs/continuous/*.toml)
# ---------------------------------------------------------------------------------------------

def _spec_tasks(name: str):
    from mcsgd.experiments.scan.spec import load_spec

    spec = load_spec(ROOT / "runs" / "continuous" / f"{name}.toml", out="/tmp")
    return [(dict(t.params["continuous"]), t.seed, tuple(t.key)) for t in spec.tasks]


def benchmark_linear_grid() -> None:
    from mcsgd.experiments.continuous import run_task

    (params, seed, key), = _spec_tasks("linear_fdt_grid")
    res = run_task(params, seed, key)
    rows = res["scalars"]["rows"]
    etas = sorted({r["eta"] for r in rows})
    Bs = sorted({r["B"] for r in rows})
    out("`runs/continuous/linear_fdt_grid.toml`:",
        json.dumps({k: v for k, v in res["scalars"].items() if not isinstance(v, (list, dict))}))
    from mcsgd.experiments.continuous import _model, resolve_params
    from mcsgd.seeds import CONTINUOUS_MODEL, namespaced_generator

    m = _model(resolve_params(params), namespaced_generator(CONTINUOUS_MODEL, seed, key), "linreg")
    lam = np.linalg.eigvalsh(m.hessian(np.zeros(m.dim)))[-1]
    r0 = rows[0]
    out(f"E|x~|^2 = x_scale B / eta = {r0['x_scale'] * r0['B'] / r0['eta']:.3f}, "
        f"lambda_max(H) = {lam:.3f}")
    errs = [r["ratio_exact_err"] for r in rows]
    out(f"errors of ratio_exact: {100 * min(errs):.2f}-{100 * max(errs):.2f} %; max "
        f"|ratio_exact - 1| = {100 * max(abs(r['ratio_exact'] - 1) for r in rows):.2f} %")
    out("| η \\ B | " + " | ".join(str(b) for b in Bs) + " |")
    out("|---" * (len(Bs) + 1) + "|")
    for e in etas:
        cells = []
        for b in Bs:
            r = next(r for r in rows if r["eta"] == e and r["B"] == b)
            cells.append(f"{r['ratio_exact']:.3f} / {g(r['ratio_langevin'], 3)}")
        out(f"| {e} | " + " | ".join(cells) + " |")
    out("x_scale:", {f"{r['eta']},{r['B']}": round(r["x_scale"], 3) for r in rows})
    from mcsgd.errors import ParameterError

    div = []
    for r in rows:  # where the exact second moment diverges, no stationary value exists
        try:
            exact_stationary_excess(m, r["eta"], r["B"])
        except ParameterError:
            div.append((r["eta"], r["B"]))
    out("exact stationary second moment diverges at (eta, B):", div)


def benchmark_ivf_oracles() -> None:
    from mcsgd.experiments.continuous import run_task

    for params, seed, key in _spec_tasks("ivf_oracles"):
        t0 = time.perf_counter()
        res = run_task(params, seed, key)
        s, p = res["scalars"], res["params"]
        quad = p["noise"] in ("isotropic", "hessian", "hessian2")  # run_task's defaults:
        steps = p["steps"] or (60000 if quad else 20000)
        chains = p["chains"] or (64 if quad else 4)
        out(f"ivf_oracles {p['noise']} ({chains} chains x {steps} steps, "
            f"{time.perf_counter() - t0:.0f} s): "
            f"psi {_pm(s['psi'], s['psi_err_jackknife'], 4)} (jackknife; OLS psi_err "
            f"{g(s['psi_err'], 2)}) (predicted "
            f"{g(s['psi_predicted'], 4)}); psi_true_energy "
            f"{_pm(s['psi_true_energy'], s['psi_true_energy_err_jackknife'], 4)}; data "
            f"{s.get('data')}, pcs {s['pcs_used']}")


def benchmarks() -> None:
    out("## Benchmark runs")
    for f in (benchmark_linear_grid, benchmark_ivf_oracles):
        t0 = time.perf_counter()
        f()
        out(f"   [{f.__name__}: {time.perf_counter() - t0:.0f} s]")


SECTIONS = {"measured": measured, "benchmarks": benchmarks,
            "linear_fdt_grid": benchmark_linear_grid, "ivf_oracles": benchmark_ivf_oracles}


def main(argv: list[str]) -> int:
    names = argv or ["measured", "benchmarks"]
    for n in names:
        if n not in SECTIONS:
            raise SystemExit(f"unknown section {n!r}; choose from {sorted(SECTIONS)}")
    for n in names:
        SECTIONS[n]()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
