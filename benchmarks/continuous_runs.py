"""Run continuous-SGD experiment specs (``runs/continuous/*.toml``) through ``run_task``.

A spec holds ``seed``, a ``[params]`` table (the keys of
:func:`mcsgd.continuous.tasks.run_task`, i.e. the CLI options) and an optional ``[scan]`` table of
lists whose Cartesian product gives one task each (task i uses spawn key ``(i,)``). Every task
is written to ``OUT/<spec>-<i>.h5`` (and a PNG with ``--plot``) and summarised on stdout; the
timing of each task is printed. These are the expensive runs behind docs/continuous.md; the test
suite uses small versions of them.

    python benchmarks/continuous_runs.py runs/continuous/escape_vs_B.toml [--out DIR] [--plot]
    python benchmarks/continuous_runs.py runs/continuous/*.toml --quick   # 1/10 of the steps
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mcsgd.continuous.tasks import run_task, save_h5  # noqa: E402

_SHRINK = ("steps", "max_steps")


def expand(spec: dict) -> list[dict]:
    """The list of params dicts of a spec (product over ``[scan]``)."""
    base = dict(spec.get("params", {}))
    scan = spec.get("scan", {})
    keys = sorted(scan)
    out = []
    for values in itertools.product(*(scan[k] for k in keys)):
        p = dict(base)
        p.update(dict(zip(keys, values, strict=True)))
        out.append(p)
    return out


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
        spec = tomllib.loads(path.read_text())
        seed = int(spec.get("seed", 0))
        for i, params in enumerate(expand(spec)):
            if args.quick:
                for k in _SHRINK:
                    if k in params:
                        params[k] = max(100, int(params[k]) // 10)
                if "chains" in params:
                    params["chains"] = max(2, int(params["chains"]) // 4)
            t0 = time.perf_counter()
            res = run_task(params, seed, (i,))
            dt = time.perf_counter() - t0
            stem = args.out / f"{path.stem}-{i}"
            save_h5(stem.with_suffix(".h5"), res, seed, (i,))
            if args.plot:
                from mcsgd.continuous.plots import plot_result

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
