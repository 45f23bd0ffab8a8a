"""Run continuous-SGD experiment specs (``runs/continuous/*.toml``) through ``run_task``.

A spec is a project scan file with ``experiment = "continuous"`` and ``[[continuous]]`` tables
(the keys of :func:`mcsgd.experiments.continuous.run_task`, i.e. the CLI options); it is expanded by
:func:`mcsgd.experiments.scan.spec.load_spec`, so every task gets the same seed and spawn key
as under ``mcsgd scan run``. This script runs the tasks serially, writes ``OUT/<spec>-<i>.h5``
(and a PNG with ``--plot``) and prints each task's scalars and timing. These are the expensive
runs behind docs/continuous.md; the test suite uses small versions of them.

    python benchmarks/continuous_runs.py runs/continuous/escape_vs_B.toml [--out DIR] [--plot]
    python benchmarks/continuous_runs.py runs/continuous/*.toml --quick   # 1/10 of the steps
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcsgd.experiments.continuous import run_task, save_h5  # noqa: E402
from mcsgd.experiments.scan.spec import load_spec  # noqa: E402

_SHRINK = ("steps", "max_steps")


def _brief(scalars: dict) -> str:
    keep = {k: v for k, v in scalars.items() if not isinstance(v, (list, dict))}
    return json.dumps(keep, default=str)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("specs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "out" / "continuous")
    ap.add_argument("--plot", action="store_true")
    ap.add_argument("--quick", action="store_true", help="divide steps by 10 (smoke run)")
    args = ap.parse_args(argv)
    for path in args.specs:
        spec = load_spec(path, out=str(args.out))
        for i, task in enumerate(spec.tasks):
            params = dict(task.params["continuous"])
            seed, key = task.seed, tuple(task.key)
            if args.quick:
                for k in _SHRINK:
                    if k in params:
                        params[k] = max(100, int(params[k]) // 10)
                if "chains" in params:
                    params["chains"] = max(2, int(params["chains"]) // 4)
            t0 = time.perf_counter()
            res = run_task(params, seed, key)
            dt = time.perf_counter() - t0
            stem = args.out / f"{path.stem}-{i}"
            save_h5(stem.with_suffix(".h5"), res, seed, key)
            if args.plot:
                from mcsgd.plots.continuous import plot_result

                plot_result(res, str(stem.with_suffix(".png")))
            print(f"## {path.stem}[{i}] {json.dumps(params)}  ({dt:.1f} s)")
            print(_brief(res["scalars"]))
            for row in res["scalars"].get("rows", []) or []:
                print("   ", json.dumps(row))
            if "eta_scan" in res["scalars"]:
                print("    eta_scan:", json.dumps(res["scalars"]["eta_scan"]))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
