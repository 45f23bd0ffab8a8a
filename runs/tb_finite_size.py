"""Finite-size comparison of T(B): N = 5e4 (the table in docs/calibration.md) against a larger
run's ``tb_table.json`` (e.g. the paper-scale N = 1e6 run of runs/tb_curve_n1000000.toml).

    python runs/tb_finite_size.py runs/out/tb_curve_n1000000/tb_table.json

Prints a markdown table per (c, B): T_eq at both sizes, their difference and
z = difference / sqrt(err_a^2 + err_b^2) (errors instance-clustered, 3 dof each: |z| > 3.2 is
significant at about 5%), the same for T_neq, and T_eq / T_adb at the larger size. The N = 5e4
values are read from the "Measured: N = 5·10⁴" table of the docs (columns T_eq, T_neq as
"value ± err").
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys


def docs_table(path: str) -> dict[tuple[float, float], dict[str, tuple[float, float]]]:
    """{(c, B): {"T_eq": (v, e), "T_neq": (v, e), "T_adb": (v, 0)}} of the N = 5e4 docs table."""
    text = open(path, encoding="utf-8").read()
    sec = text.split("## Measured: N = 5·10⁴", 1)[1].split("\n## ", 1)[0]
    lines = [ln for ln in sec.splitlines() if ln.startswith("|")]
    head = [h.strip() for h in lines[0].strip("|").split("|")]
    out = {}
    for ln in lines[2:]:
        cells = [x.strip() for x in ln.strip("|").split("|")]
        row = dict(zip(head, cells, strict=False))

        def pm(s: str) -> tuple[float, float]:
            m = re.match(r"([-\d.]+)\s*±\s*([-\d.]+)", s)
            return (float(m.group(1)), float(m.group(2))) if m else (float(s), 0.0)

        out[(float(row["c"]), float(row["B"]))] = {
            "T_eq": pm(row["T_eq"]), "T_neq": pm(row["T_neq"]), "T_adb": pm(row["T_adb"])}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table", help="tb_table.json of the larger run")
    ap.add_argument("--docs", default="docs/calibration.md")
    args = ap.parse_args()
    small = docs_table(args.docs)
    big = json.load(open(args.table, encoding="utf-8"))
    n = big["params"]["N"]
    print(f"| c | B | T_eq (5·10⁴) | T_eq ({n:.0e}) | Δ | z | T_neq (5·10⁴) | T_neq ({n:.0e}) "
          "| Δ | z | T_eq/T_adb |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in big["rows"]:
        c = float(row["c"])
        for j, b in enumerate(row["B"]):
            ref = small.get((c, float(b)))
            if ref is None:
                continue
            cells = [f"{c:g}", f"{b:g}"]
            for key in ("T_eq", "T_neq"):
                v, e = row[key][j], row[f"{key}_err"][j]
                v0, e0 = ref[key]
                d = v - v0
                s = math.hypot(e, e0)
                z = d / s if s > 0 else float("nan")
                cells += [f"{v0:.4f} ± {e0:.4f}", f"{v:.4f} ± {e:.4f}", f"{d:+.4f}", f"{z:+.1f}"]
            cells.append(f"{row['T_eq'][j] / row['T_adb'][j]:.3f}")
            print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
