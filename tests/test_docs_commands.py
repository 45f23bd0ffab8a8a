"""Every command example of README.md and docs/*.md runs and exits with code 0.

The examples are read from the docs when the test runs (no list here), so an example added to
the docs is tested from then on. What counts as an example:

* a line inside a fenced block tagged ``bash`` (or ``sh``/``shell``/``console``) that starts
  with ``mcsgd `` or ``python `` (a leading ``$ `` is ignored); a ``\\`` at the end continues
  it on the next line; a leading ``pip install ... &&`` is dropped (the test runs in the
  installed environment);
* a trailing comment ending in ``test: --n 300 --sweeps 20`` (prose may come first) gives
  the reduced size the test uses: each ``--opt value`` replaces that option's value in the
  command, or is appended when the command does not have it (a lone ``--flag`` is
  appended); ``{repo}`` stands for the checkout. ``# test: skip REASON`` leaves the command
  out (say why). Any other trailing comment is prose and is dropped.

The commands of one file run in order, in one temporary directory (so ``mcsgd run inst.h5``
finds the ``inst.h5`` an earlier ``mcsgd generate`` wrote), with ``mcsgd`` and ``python``
meaning this interpreter, and the checkout's ``benchmarks/`` linked into it (``python
benchmarks/...``). Synopsis blocks (``[--T T]``) belong in untagged fences.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_TAGS = {"bash", "sh", "shell", "console"}
TIMEOUT_S = 240  # per command; the whole test stays well under 3 min on 2 cores

_FENCE = re.compile(r"^\s*```\s*(\S*)")
_COMMENT = re.compile(r"\s+#(?P<c>[^'\"]*)$")


def split_comment(line: str) -> tuple[str, str]:
    """``(command, comment)`` for a line with an optional trailing ``# comment``."""
    m = _COMMENT.search(line)
    if m is None:
        return line.rstrip(), ""
    return line[: m.start()].rstrip(), m.group("c").strip()


def commands(text: str) -> list[tuple[int, str, str]]:
    """``(line number, command, comment)`` of every command example in a markdown text."""
    out: list[tuple[int, str, str]] = []
    tag: str | None = None
    pending: tuple[int, str] | None = None
    for i, raw in enumerate(text.splitlines(), start=1):
        m = _FENCE.match(raw)
        if m:
            tag = m.group(1).lower() if tag is None else None
            pending = None
            continue
        if tag not in SHELL_TAGS:
            continue
        line = raw.strip()
        if pending is not None:
            start, acc = pending
            line = acc + " " + line
        else:
            start = i
            line = line[2:] if line.startswith("$ ") else line
        if line.endswith("\\"):
            pending = (start, line[:-1].rstrip())
            continue
        pending = None
        cmd, comment = split_comment(line)
        cmd = re.sub(r"^pip install [^&]*&&\s*", "", cmd)
        if cmd.startswith(("mcsgd ", "python ")):
            out.append((start, cmd, comment))
    return out


def reduce(cmd: str, comment: str) -> str | None:
    """The command the test runs: the ``# test:`` overrides applied; None to skip it."""
    if "test:" not in comment:
        return cmd
    spec = comment.split("test:", 1)[1].strip().replace("{repo}", str(ROOT))
    if spec.startswith("skip"):
        return None
    over = shlex.split(spec)
    # the last command of a `a && b` chain (or a `| ...` pipe's first part) gets the overrides
    head, sep, last = cmd.rpartition(" && ")
    last, redirect = re.match(r"(.*?)((?:\s+[>|].*)?)$", last).groups()
    tokens = shlex.split(last)
    k = 0
    while k < len(over):
        opt = over[k]
        has_value = k + 1 < len(over) and not over[k + 1].startswith("--")
        value = over[k + 1] if has_value else None
        if has_value and opt in tokens and tokens.index(opt) + 1 < len(tokens):
            tokens[tokens.index(opt) + 1] = value
        elif opt not in tokens:
            tokens += [opt] + ([value] if has_value else [])
        k += 2 if has_value else 1
    return head + sep + shlex.join(tokens) + redirect


def _examples() -> list:
    params = []
    for path in DOCS:
        cmds = commands(path.read_text(encoding="utf-8"))
        if cmds:
            params.append(pytest.param(path, cmds, id=path.relative_to(ROOT).as_posix()))
    return params


def _shims(bindir: Path) -> dict[str, str]:
    """``mcsgd`` and ``python`` on PATH as this interpreter (the tested install)."""
    bindir.mkdir()
    for name, line in (("mcsgd", f'exec "{sys.executable}" -m mcsgd "$@"'),
                       ("python", f'exec "{sys.executable}" "$@"')):
        p = bindir / name
        p.write_text(f"#!/bin/sh\n{line}\n")
        p.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    return env


def test_parser_reads_blocks_markers_and_continuations():
    text = "\n".join([
        "```bash",
        "pip install -e . && mcsgd demo --n 1000   # test: --n 100 --sweeps 5",
        "mcsgd calibrate --c 5 \\",
        "    --B 0.5 -o c.h5      # prose comment",
        "$ python -m mcsgd --version",
        "ls -l",
        "```",
        "```",
        "mcsgd bp inst.h5 [--T T]",
        "```",
    ])
    got = commands(text)
    assert [(n, c) for n, c, _ in got] == [
        (2, "mcsgd demo --n 1000"), (3, "mcsgd calibrate --c 5 --B 0.5 -o c.h5"),
        (5, "python -m mcsgd --version")]
    assert reduce(got[0][1], got[0][2]) == "mcsgd demo --n 100 --sweeps 5"
    assert reduce(got[1][1], got[1][2]) == got[1][1]
    assert reduce("mcsgd scan example > s.toml && mcsgd scan run s.toml", "test: --workers 1") \
        == "mcsgd scan example > s.toml && mcsgd scan run s.toml --workers 1"
    assert reduce("mcsgd scan example > s.toml", "test: --x 1") \
        == "mcsgd scan example --x 1 > s.toml"
    assert reduce("mcsgd reproduce x", "test: skip needs SLURM") is None
    assert reduce("mcsgd bp i.h5", "BP · test: --tol 0.1") == "mcsgd bp i.h5 --tol 0.1"
    assert reduce("mcsgd a --quick", "test: --spec {repo}/s.toml --quick") \
        == f"mcsgd a --quick --spec {ROOT}/s.toml"


@pytest.mark.slow
@pytest.mark.parametrize("path,cmds", _examples())
def test_doc_commands_run(path, cmds, tmp_path):
    env = _shims(tmp_path / "bin")
    work = tmp_path / "work"
    work.mkdir()
    (work / "benchmarks").symlink_to(ROOT / "benchmarks")
    failures = []
    for line, cmd, comment in cmds:
        run = reduce(cmd, comment)
        if run is None:
            continue
        res = subprocess.run(["bash", "-c", f"set -o pipefail; {run}"], cwd=work, env=env,
                             capture_output=True, text=True, timeout=TIMEOUT_S)
        if res.returncode != 0:
            tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
            failures.append(f"{path.name}:{line}: exit {res.returncode}: {run}\n    "
                            + "\n    ".join(tail))
    assert not failures, "\n".join(failures)


def _docs_examples():
    spec = importlib.util.spec_from_file_location("docs_examples",
                                                  ROOT / "runs" / "docs_examples.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("docs_examples", mod)  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_output_markers_and_abridged_json(tmp_path):
    de = _docs_examples()
    md = tmp_path / "x.md"
    md.write_text("text\n<!-- output: mcsgd demo --n 10 | keys=a,b | slow -->\n```\nold\n```\n"
                  "<!-- end -->\nmore\n")
    (b,) = de.blocks(md)
    assert (b.start, b.stop, b.cmd, b.slow) == (2, 5, "mcsgd demo --n 10", True)
    assert b.opts["keys"] == "a,b"
    out = de.abridge('{"rows": [{"B": 1, "x": 0.123456789}], "a": 2.0, "a_err": 0.0123, "b": [1]}',
                     ["a", "a_err", "b"], ["B", "x"])
    assert out == '{"rows": [{"B": 1, "x": 0.12346}], "a": 2.0, "a_err": 0.012, "b": [...], ...}'


@pytest.mark.slow
def test_doc_output_blocks_match_what_the_commands_print(tmp_path):
    """The output blocks not marked ``slow`` (README.md, docs/*.md) equal what
    ``runs/docs_examples.py`` writes: a change of results or printing shows up here."""
    res = subprocess.run([sys.executable, str(ROOT / "runs" / "docs_examples.py"), "--check",
                          "--fast"], capture_output=True, text=True, timeout=TIMEOUT_S,
                         env=_shims(tmp_path / "bin"))
    assert res.returncode == 0, ("stale output blocks; regenerate with "
                                 "`python runs/docs_examples.py`:\n" + res.stderr[-3000:])
