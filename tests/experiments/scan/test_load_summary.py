"""load_summary and the docs' pandas/xarray snippet (docs/scans.md) on a tiny scan.

Fails before load_summary / RunResult.to_xarray existed (ImportError on the snippet's imports).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from mcsgd.cli import main

from .test_scan_common import write_spec

pd = pytest.importorskip("pandas")
pytest.importorskip("xarray")

DOCS = Path(__file__).resolve().parents[3] / "docs" / "scans.md"


def _snippet() -> str:
    text = DOCS.read_text()
    m = re.search(r"<!-- analysis-snippet:[^\n]*-->\n```python\n(.*?)```", text, re.S)
    assert m, "docs/scans.md lost its analysis snippet"
    return m.group(1)


@pytest.fixture(scope="module")
def tiny_scan(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("scan")
    spec = write_spec(d / "s.toml", Path("scan-example"), n=300, sweeps=60)
    assert main(["scan", "run", str(spec), "--workers", "1", "--quiet"]) == 0
    return d


def test_docs_snippet_runs(tiny_scan, monkeypatch, capsys):
    monkeypatch.chdir(tiny_scan)
    exec(compile(_snippet(), str(DOCS), "exec"), {})
    out = capsys.readouterr().out
    assert "energy" in out and "dynamics.B" in out


def test_load_summary_dir_equals_file_and_decodes(tiny_scan):
    from mcsgd.experiments.scan import load_summary

    d = tiny_scan / "scan-example"
    assert main(["scan", "collect", str(d), "-o", str(tiny_scan / "summary.h5")]) == 0
    a, b = load_summary(d), load_summary(tiny_scan / "summary.h5")
    assert len(a) == 3 and list(a.columns) == list(b.columns) and a.columns[0] == "task_id"
    for c in a.columns:
        if a[c].dtype == object:
            assert all(isinstance(x, str) for x in a[c]) and list(a[c]) == list(b[c]), c
        else:
            np.testing.assert_array_equal(a[c].to_numpy(), b[c].to_numpy(), err_msg=c)
    assert set(a["dynamics.dynamics"]) == {"metropolis", "sgd"}
    assert a["dynamics.B"].isna().sum() == 2  # metropolis rows: NaN


def test_load_summary_missing_path(tmp_path):
    from mcsgd.errors import ParameterError
    from mcsgd.experiments.scan import load_summary

    with pytest.raises(ParameterError, match="no such scan"):
        load_summary(tmp_path / "nope")
