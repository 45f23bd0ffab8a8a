"""The package structure of docs/architecture.md, checked so it cannot rot (issue 11).

* the layer contract (``[tool.importlinter]`` in pyproject.toml) holds: ``lint-imports`` runs on
  the installed layout (``problems/`` installs as ``mcsgd.problems`` through a package-dir
  mapping, which import-linter cannot follow in the source tree, so the test assembles it);
* the explicit ``packages`` list of pyproject.toml names every package folder, and only those;
* the distribution installs one top-level import name, ``mcsgd`` (no generic ``problems``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
def installed_tree(tmp_path_factory) -> Path:
    """The import layout an install of this checkout has: ``mcsgd/`` with every package-dir
    mapping of pyproject applied (``problems/`` -> ``mcsgd/problems/``), copied from the sources
    (no build step, so the test needs neither ``wheel`` nor network)."""
    tree = tmp_path_factory.mktemp("installed")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "mcsgd", tree / "mcsgd", ignore=ignore)
    for pkg, folder in _setuptools_config().get("package-dir", {}).items():
        dest = tree.joinpath(*pkg.split("."))
        assert not dest.exists(), f"package-dir {pkg} = {folder} shadows a folder of mcsgd/"
        shutil.copytree(ROOT / folder, dest, ignore=ignore)
    return tree


def test_only_mcsgd_is_installed():
    """``problems/`` ships as ``mcsgd.problems``: every package of the distribution lives under
    the one top-level name ``mcsgd`` (no generic ``problems`` in site-packages)."""
    cfg = _setuptools_config()
    assert {p.split(".")[0] for p in cfg["packages"]} == {"mcsgd"}
    assert cfg.get("package-dir") == {"mcsgd.problems": "problems"}


def test_packages_list_names_every_package_folder():
    """pyproject's explicit ``packages`` list is the set of package folders (a folder with
    ``__init__.py``); a new subpackage missing from it would be left out of the wheel."""
    cfg = _setuptools_config()
    roots = {"mcsgd": ROOT / "mcsgd"}
    roots.update({pkg: ROOT / folder for pkg, folder in cfg.get("package-dir", {}).items()})
    found = {".".join((pkg, *init.parent.relative_to(folder).parts))
             for pkg, folder in roots.items() for init in folder.rglob("__init__.py")}
    assert set(cfg["packages"]) == found


def test_layer_contract(installed_tree):
    """``lint-imports`` keeps every contract of ``[tool.importlinter]`` (output shown on
    failure). Run by hand: ``python -m pytest tests/test_architecture.py`` (plain ``lint-imports``
    in the checkout cannot see ``mcsgd.problems``, which exists through the mapping only)."""
    exe = Path(sys.executable).with_name("lint-imports")
    exe = str(exe) if exe.exists() else shutil.which("lint-imports")
    if exe is None:
        pytest.fail("lint-imports not found: install the test extra (pip install -e '.[test]')")
    env = {**os.environ, "PYTHONPATH": str(installed_tree)}
    out = subprocess.run([exe, str(PYPROJECT), "--no-cache"], cwd=installed_tree, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
