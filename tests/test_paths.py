"""Stale paths (issue 9, section 8): every repository path that README.md, docs/*.md and the
CLI's --help texts cite must exist, and package resources must be found from any directory."""

from __future__ import annotations

import argparse
import glob
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# a repository path: one of the top-level directories, then path characters (globs allowed)
PATH_RE = re.compile(r"(?<![\w./-])((?:runs|mcsgd|problems|docs|benchmarks|tests)/[\w./*<>-]*)")
# outputs the commands write (git-ignored), cited as results, not as inputs
OUTPUTS = ("runs/out/", "runs/demo", "benchmarks/build/")


def _code(markdown: str) -> str:
    """The code of a Markdown text: fenced blocks and inline `spans` (where paths are cited)."""
    fenced = re.findall(r"```.*?\n(.*?)```", markdown, flags=re.S)
    rest = re.sub(r"```.*?```", "", markdown, flags=re.S)
    return "\n".join(fenced + re.findall(r"`([^`\n]+)`", rest))


def _cited(text: str) -> set[str]:
    out = set()
    for p in PATH_RE.findall(text):
        p = p.rstrip(".,;:")
        if "<" in p or p.startswith(OUTPUTS):
            continue
        out.add(p)
    return out


def _help_texts() -> str:
    from mcsgd.cli import build_parser

    texts = []

    def walk(p: argparse.ArgumentParser) -> None:
        texts.append(p.format_help())
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for sp in a.choices.values():
                    walk(sp)

    walk(build_parser())
    return "\n".join(texts)


def _exists(p: str) -> bool:
    return bool(glob.glob(str(ROOT / p))) if "*" in p else (ROOT / p).exists()


def test_paths_cited_in_readme_docs_and_help_exist():
    """README, docs and --help used to cite runs/tb_curve.toml and runs/recovery.toml (homes in
    mcsgd/data/) and runs/slurm/array.sbatch.template; README cited runs/out/example, where the
    example scan never writes."""
    sources = {"README.md": _code((ROOT / "README.md").read_text())}
    for f in sorted((ROOT / "docs").glob("*.md")):
        sources[f"docs/{f.name}"] = _code(f.read_text())
    sources["--help"] = _help_texts()
    missing = sorted((src, p) for src, text in sources.items() for p in _cited(text)
                     if not _exists(p))
    assert not missing, f"cited paths that do not exist: {missing}"
    assert "runs/out/example" not in sources["README.md"]


def test_the_path_checker_sees_citations():
    """The checker is not vacuous: it finds the citations it is meant to check."""
    readme = _cited(_code((ROOT / "README.md").read_text()))
    assert {"mcsgd/data/tb_curve.toml", "runs/slurm/tb_curve.sbatch", "docs/dynamics.md"} <= readme
    assert not _exists("runs/tb_curve.toml")  # one home: mcsgd/data/


def test_package_data_globs_match_files():
    """pyproject's package-data named templates/*, which does not exist."""
    import tomllib

    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    for pkg, pats in cfg["tool"]["setuptools"]["package-data"].items():
        for pat in pats:
            assert glob.glob(str(ROOT / pkg / pat)), f"package-data {pkg}/{pat} matches nothing"
    # the template is package data
    assert any(glob.fnmatch.fnmatch("data/array.sbatch.template", p)
               for p in cfg["tool"]["setuptools"]["package-data"]["mcsgd"])


def test_sbatch_template_one_copy_found_from_any_cwd(tmp_path):
    """The template was looked up relative to the current directory (and duplicated inside
    executors.py): from another directory an installed package silently used a different one."""
    code = ("from mcsgd.experiments.scan.executors import find_template\n"
            "from mcsgd.experiments.scan.spec import load_spec\n"
            "import sys\n"
            "text, where = find_template(load_spec(sys.argv[1]))\n"
            "print(where)\n"
            "assert '# sbatch job-array template' in text and '{{array}}' in text\n")
    spec = tmp_path / "s.toml"
    spec.write_text('out = "o"\n[instance]\nproblem = "coloring"\nn = 30\nq = 3\nc = 2.0\n'
                    '[[dynamics]]\ndynamics = "sgd"\nB = 0.5\n[run]\nsweeps = 4\n')
    r = subprocess.run([sys.executable, "-c", code, str(spec)], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "mcsgd/data/array.sbatch.template" in r.stdout
    copies = [p for p in ROOT.rglob("*sbatch.template") if ".git" not in p.parts]
    assert copies == [ROOT / "mcsgd" / "data" / "array.sbatch.template"]
    from mcsgd.experiments.scan import executors

    assert not hasattr(executors, "DEFAULT_TEMPLATE")  # no second copy in the code


def test_scan_template_command_prints_the_template(capsys):
    from mcsgd.cli import main

    assert main(["scan", "template"]) == 0
    assert "{{python}} -m mcsgd.cli scan run" in capsys.readouterr().out


@pytest.mark.slow
def test_readme_scan_lines_work(tmp_path, monkeypatch):
    """README's `mcsgd scan status runs/out/example` failed: the example writes to
    scan-example next to the scan file. Run the README's scan lines as written (the run limited
    to one shard of 16 to stay fast) and the status/collect line on the directory it names."""
    from mcsgd.cli import main

    readme = (ROOT / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.startswith("mcsgd scan status"))
    m = re.fullmatch(r"mcsgd scan status (\S+) && mcsgd scan collect (\S+) -o (\S+)", line)
    assert m and m[1] == m[2], line
    assert "mcsgd scan example > scan.toml && mcsgd scan run scan.toml" in readme
    monkeypatch.chdir(tmp_path)
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["scan", "example"]) == 0
    (tmp_path / "scan.toml").write_text(buf.getvalue())
    assert main(["scan", "run", "scan.toml", "--workers", "1", "--shard", "0/16",
                 "--quiet"]) == 0
    assert main(["scan", "status", m[1]]) == 0
    assert main(["scan", "collect", m[2], "-o", m[3]]) == 0
    assert (tmp_path / m[3]).exists()
