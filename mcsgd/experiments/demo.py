"""The small end-to-end demo behind ``mcsgd demo``: a planted 5-colouring, Metropolis at two
temperatures and the SGD-like dynamics at two batch sizes on it, a summary table and HDF5 files
(``instance.h5``, ``run_<k>_<dynamics>.h5``) under an output directory."""

from __future__ import annotations

import os
from collections.abc import Callable


def demo(out: str, *, n: int = 20000, c: float = 10.0, sweeps: int = 400, seed: int = 1,
         force: bool = False, report: Callable[[str], None] = print,
         progress: Callable[..., None] | None = None) -> None:
    """Run the demo into directory ``out``; every line of the summary goes to ``report``, the
    stages (and, for a :class:`mcsgd.progress.Progress`, the sweeps) to ``progress``.

    Everything is validated before the first file is written; ``force`` lets the demo replace
    files in ``out`` that are not results of an earlier demo.
    """
    from mcsgd import problems
    from mcsgd.driver import run
    from mcsgd.dynamics import SGD, Metropolis
    from mcsgd.errors import check_range
    from mcsgd.progress import counter, stage
    from mcsgd.resources import check_run_memory
    from mcsgd.seeds import DEMO
    from mcsgd.storage.paths import check_output, check_output_dir
    from mcsgd.theory import T0, e_para_coloring

    # everything is validated before the first file is written
    q = 5
    check_range("n", n, q, None, integer=True)
    check_range("c", c, 0, None)
    check_range("sweeps", sweeps, 1, None, integer=True)
    check_range("seed", seed, 0, None, integer=True)
    check_output_dir(out)
    problems.check_coloring_params(n, q, c, "er", True, seed)
    targets = [os.path.join(out, "instance.h5")]
    rows = [("metropolis T=0.5", Metropolis(0.5)), ("metropolis T=1.0", Metropolis(1.0))]
    rows += [(f"sgd B={b}", SGD(b)) for b in (0.5, 0.9)]
    targets += [os.path.join(out, f"run_{k}_{dyn.name}.h5") for k, (_, dyn) in
                enumerate(rows)]
    for path, kind in zip(targets, ["instance"] + ["run"] * len(rows), strict=True):
        check_output(path, option="--out", mcsgd_kind=kind, force=force)
    check_run_memory(n, round(c * n / 2), 2, 40, True)
    os.makedirs(out, exist_ok=True)
    inst = problems.planted_coloring(n, q, c, seed=seed)
    ipath = os.path.join(out, "instance.h5")
    inst.save(ipath)
    report(f"instance: planted {q}-colouring, N = {inst.n}, c = {c}, M = {inst.m} -> {ipath}")
    report(f"{'dynamics':<22}{'e (per node)':>16}{'+-':>10}{'overlap':>10}{'acc':>8}")
    for k, (label, dyn) in enumerate(rows):
        stage(progress, f"{k + 1}/{len(rows)}: {label}, {sweeps} sweeps", sweeps)
        res = run(inst, dyn, sweeps=sweeps, replicas=2, seed=seed, key=(DEMO, k),
                  progress=counter(progress))
        path = os.path.join(out, f"run_{k}_{dyn.name}.h5")
        res.save(path)
        st = res.stationary()
        report(f"{label:<22}{st['energy']:>16.5f}{st['energy_err']:>10.5f}"
               f"{res.overlap[:, -1].mean():>10.3f}{res.acceptance[:, -1].mean():>8.3f}")
    mean_c = inst.mean_degree
    report(f"paramagnet e_para(T): T=0.5 -> {e_para_coloring(0.5, mean_c, q):.5f}, "
           f"T=1.0 -> {e_para_coloring(1.0, mean_c, q):.5f};  T0(B=0.5) = {T0(0.5):.3f}, "
           f"T0(B=0.9) = {T0(0.9):.3f} (SGD's effective T lies above T0)")
    report(f"results written under {out}/")
