"""The package structure of docs/architecture.md, checked so it cannot rot (issue 11).

* the layer contract (``[tool.importlinter]`` in pyproject.toml) holds: ``lint-imports`` runs on
  the installed layout, built as a wheel (``problems/`` installs as ``mcsgd.problems`` through a
  package-dir mapping, which import-linter cannot follow in the source tree);
* the explicit ``packages`` list of pyproject.toml names every package folder, and only those;
* the wheel installs one top-level import name, ``mcsgd`` (no generic ``problems``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"


def _setuptools_config() -> dict:
    with open(PYPROJECT, "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


@pytest.fixture(scope="module")
def wheel_tree(tmp_path_factory) -> Path:
    """The wheel of this checkout, built from a copy of its sources and unpacked."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in {"mcsgd", *_setuptools_config().get("package-dir", {}).values()}:
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp / "dist"), str(src)],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    (whl,) = (tmp / "dist").glob("mcsgd-*.whl")
    tree = tmp / "tree"
    with zipfile.ZipFile(whl) as z:
        z.extractall(tree)
    return tree


def test_wheel_installs_only_mcsgd(wheel_tree):
    """``problems/`` ships as ``mcsgd.problems``: no generic top-level name in site-packages."""
    top = {p.name for p in wheel_tree.iterdir() if not p.name.endswith(".dist-info")}
    assert top == {"mcsgd"}
    assert (wheel_tree / "mcsgd" / "problems" / "__init__.py").is_file()


def test_packages_list_names_every_package_folder():
    """pyproject's explicit ``packages`` list is the set of package folders (a folder with
    ``__init__.py``); a new subpackage missing from it would be left out of the wheel."""
    cfg = _setuptools_config()
    roots = {"mcsgd": ROOT / "mcsgd"}
    roots.update({pkg: ROOT / folder for pkg, folder in cfg.get("package-dir", {}).items()})
    found = {".".join((pkg, *init.parent.relative_to(folder).parts))
             for pkg, folder in roots.items() for init in folder.rglob("__init__.py")}
    assert set(cfg["packages"]) == found


def test_layer_contract(wheel_tree):
    """``lint-imports`` keeps every contract of ``[tool.importlinter]`` (output shown on
    failure). Run by hand: build the wheel, unpack it, and run ``lint-imports
    path/to/pyproject.toml`` from the unpacked directory."""
    exe = Path(sys.executable).with_name("lint-imports")
    exe = str(exe) if exe.exists() else shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports not found: install the test extra (pip install -e '.[test]')")
    env = {**os.environ, "PYTHONPATH": str(wheel_tree)}
    out = subprocess.run([exe, str(PYPROJECT), "--no-cache"], cwd=wheel_tree, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
