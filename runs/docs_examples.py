"""Rewrite the example outputs in README.md and docs/*.md from the commands that produce them.

    python runs/docs_examples.py                 # run every marked command, rewrite the blocks
    python runs/docs_examples.py --check         # exit 1 (and show a diff) if a block is stale
    python runs/docs_examples.py --fast          # only the blocks not marked `slow`
    python runs/docs_examples.py --only escape   # only the commands containing this text

An output block in a markdown file is everything between a marker line and ``<!-- end -->``::

    <!-- output: mcsgd continuous fdr --model quadratic --batch-size 4 --json | keys=ratio -->
    ```
    $ mcsgd continuous fdr --model quadratic --batch-size 4 --json
    {"ratio": 1.0001, ...}
    ```
    <!-- end -->

The command (it starts with ``mcsgd``) runs in a fresh temporary directory with this
interpreter (``python -m mcsgd ...``); its stdout is the output (stderr, where progress goes, is
not). Options after ``|``:

* ``keys=a,b,c``: stdout is one JSON object; show these keys only (abridged, ``...`` at the end);
  ``rows=a,b``: also its ``rows`` list with these keys;
* ``file=PATH``: show the file the command wrote (relative to its directory) instead of stdout;
* ``raw``: insert the output as markdown (a table), not as a fenced block with the command;
* ``slow``: skip with ``--fast`` (tests/test_docs_commands.py checks the other blocks with
  ``--check --fast``, so a code change that alters a documented output fails a test).

Numbers are seeded, so a block changes only when the code's results or printing change.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_MARKER = re.compile(r"^<!-- output: (?P<spec>.*?) -->\s*$")
_END = "<!-- end -->"
WIDTH = 100


@dataclass
class Block:
    """One marked output block: its command, options and line span (0-based, exclusive)."""

    path: Path
    start: int
    stop: int
    cmd: str
    opts: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        """What identifies the block when the file has changed meanwhile."""
        return (self.cmd, tuple(sorted(self.opts.items())))

    @property
    def slow(self) -> bool:
        return "slow" in self.opts


def parse_marker(spec: str) -> tuple[str, dict[str, str]]:
    """``"CMD | keys=a,b | slow"`` -> ``("CMD", {"keys": "a,b", "slow": ""})``."""
    cmd, *parts = [p.strip() for p in spec.split(" | ")]
    opts = {}
    for p in parts:
        k, _, v = p.partition("=")
        opts[k.strip()] = v.strip()
    if not cmd.startswith("mcsgd "):
        raise ValueError(f"output marker command must start with 'mcsgd ': {cmd!r}")
    return cmd, opts


def blocks(path: Path) -> list[Block]:
    """The marked output blocks of one markdown file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    i = 0
    while i < len(lines):
        m = _MARKER.match(lines[i])
        if m:
            j = next((k for k in range(i + 1, len(lines)) if lines[k].strip() == _END), None)
            if j is None:
                raise ValueError(f"{path}:{i + 1}: output marker without {_END}")
            cmd, opts = parse_marker(m.group("spec"))
            out.append(Block(path, i + 1, j, cmd, opts))
            i = j
        i += 1
    return out


def g(x: float, n: int) -> str:
    """``n`` significant digits, trailing zeros kept."""
    return f"{x:#.{n}g}".rstrip(".")


def fmt(v: object, key: str = "") -> str:
    """Integers as such, errors to 2 significant digits (>= 100: whole), other values to 5
    (>= 1000: whole; short exact decimals as they are)."""
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e3:
            return repr(v)
        if abs(v) >= 100 if "_err" in key else abs(v) >= 1e3:
            return str(round(v))
        if "_err" in key:
            return g(v, 2)
        if v == round(v, 6):
            return repr(round(v, 6))
        return g(v, 5)
    if isinstance(v, list):
        return "[...]"
    if isinstance(v, dict):
        return "{...}"
    return json.dumps(v)


def abridge(stdout: str, keys: list[str], row_keys: list[str]) -> str:
    """The JSON object on stdout reduced to ``keys`` (and ``rows`` to ``row_keys``), wrapped at
    WIDTH between ``"key": value`` items."""
    d = json.loads(stdout)
    atoms: list[str] = []
    if row_keys:
        rows = []
        for r in d["rows"]:
            items = [f'"{k}": {fmt(r[k], k)}' for k in row_keys]
            items[0], items[-1] = "{" + items[0], items[-1] + "}"
            rows += items
        rows[0], rows[-1] = '"rows": [' + rows[0], rows[-1] + "]"
        atoms += rows
    atoms += [f'"{k}": {fmt(d[k], k)}' for k in keys] + ["...}"]
    atoms[0] = "{" + atoms[0]
    lines = [atoms[0]]
    for atom in atoms[1:]:
        if len(lines[-1]) + 2 + len(atom) > WIDTH:
            lines[-1] += ","
            lines.append(" " + atom)
        else:
            lines[-1] += ", " + atom
    return "\n".join(lines)


def render(block: Block) -> list[str]:
    """The lines between the marker and ``<!-- end -->``, from running the command."""
    argv = shlex.split(block.cmd)[1:]
    with tempfile.TemporaryDirectory(prefix="mcsgd-docs-") as tmp:
        res = subprocess.run([sys.executable, "-m", "mcsgd", *argv], cwd=tmp,
                             capture_output=True, text=True, env=_env())
        if res.returncode != 0:
            raise RuntimeError(f"{block.path.name}:{block.start}: `{block.cmd}` exited with "
                               f"{res.returncode}:\n{res.stderr[-2000:]}")
        if "file" in block.opts:
            text = (Path(tmp) / block.opts["file"]).read_text(encoding="utf-8")
        elif "keys" in block.opts or "rows" in block.opts:
            split = [k for k in block.opts.get("keys", "").split(",") if k]
            text = abridge(res.stdout, split,
                           [k for k in block.opts.get("rows", "").split(",") if k])
        else:
            text = res.stdout
    body = text.rstrip("\n").splitlines()
    if "raw" in block.opts:
        return body
    return ["```", f"$ {block.cmd}", *body, "```"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    return env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare instead of rewriting; exit 1 if a block differs")
    ap.add_argument("--fast", action="store_true", help="skip the blocks marked slow")
    ap.add_argument("--only", default="", help="only the commands containing this text")
    ap.add_argument("files", nargs="*", type=Path, help="markdown files (default: all docs)")
    a = ap.parse_args(argv)
    stale = 0
    for path in [p.resolve() for p in a.files] or FILES:
        todo = [b for b in blocks(path) if not (a.fast and b.slow) and a.only in b.cmd]
        new = {b.key: render(b) for b in todo}  # may take minutes: render first,
        lines = path.read_text(encoding="utf-8").splitlines()  # then read the file as it is now
        for b in reversed(blocks(path)):  # from the end, so earlier spans stay valid
            if b.key not in new:
                continue
            text = new[b.key]
            if text != lines[b.start:b.stop]:
                stale += 1
                print(f"{path.relative_to(ROOT)}:{b.start}: {b.cmd}: "
                      f"{'differs' if a.check else 'rewritten'}", file=sys.stderr)
                if a.check:
                    sys.stderr.writelines(difflib.unified_diff(
                        [x + "\n" for x in lines[b.start:b.stop]], [x + "\n" for x in text],
                        "docs", "command"))
            lines[b.start:b.stop] = text
        if todo and not a.check:
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 1 if a.check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
