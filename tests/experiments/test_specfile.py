"""The one spec-file loader: a bad value in every kind of spec file (scan, reproduce tb-curve,
reproduce recovery) is reported as ``<file>: <path in the file>: <what is wrong>``, exit code 2,
before any work or output."""

from __future__ import annotations

from importlib import resources

import pytest

from mcsgd.cli import main

SCAN = """\
seed = 1
out = "o"
[instance]
problem = "coloring"
n = 100
q = 5
c = 4.0
[run]
sweeps = {sweeps}
[[dynamics]]
kind = "metropolis"
T = 1.0
"""


def _embedded(name: str) -> str:
    return resources.files("mcsgd").joinpath(f"data/{name}").read_text()


def _set(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


CASES = [
    # (command, file name, spec text, expected message)
    ("scan plan", "s.toml", SCAN.format(sweeps='"x"'), "run.sweeps: 'x' is not a number"),
    ("reproduce tb-curve", "tb.toml",
     _set(_embedded("tb_curve.toml"), "sweeps = 2000", 'sweeps = "x"'),
     "tb.toml: experiment.sweeps: 'x' is not a number"),
    ("reproduce tb-curve", "tb.toml",
     _set(_embedded("tb_curve.toml"), "n = 20000", "n = 1.5"),
     "tb.toml: quick.n: 1.5 must be an integer"),
    ("reproduce tb-curve", "tb.toml",
     _set(_embedded("tb_curve.toml"), 'mode = "both"', 'mode = "fast"'),
     "tb.toml: experiment.mode: 'fast' is not one of"),
    ("reproduce tb-curve", "tb.toml",
     _set(_embedded("tb_curve.toml"), "B = [0.1, 0.3, 0.5, 0.7, 0.9]",
          "B = [0.1, 1.3]"),
     "tb.toml: quick.B[1]: 1.3 is not in (0, 1]"),
    ("reproduce recovery", "rec.toml",
     _set(_embedded("recovery.toml"), "threshold = 0.5", "threshold = 2"),
     "rec.toml: experiment.threshold: 2 is not in (0, 1]"),
    ("reproduce recovery", "rec.toml",
     _set(_embedded("recovery.toml"), "anneal_T = [1.0, 0.45]", "anneal_T = [1.0]"),
     "rec.toml: experiment.anneal_T: [1.0] must have exactly 2 elements"),
    ("reproduce recovery", "rec.toml",
     _set(_embedded("recovery.toml"), "bp_n = 30000", 'bp_n = "many"'),
     "rec.toml: quick.bp_n: 'many' is not a number"),
    ("reproduce recovery", "rec.toml",
     _set(_embedded("recovery.toml"), "T = [0.50, 0.60, 0.70, 0.80]", "T = [0.5, -0.6]"),
     "rec.toml: quick.T[1]: -0.6 is not in [0, inf)"),
]


@pytest.mark.parametrize("cmd, name, text, message", CASES,
                         ids=[f"{c[0]}:{c[3].split(':')[1].strip()}" for c in CASES])
def test_a_bad_spec_value_names_its_path(cmd, name, text, message, tmp_path, capsys,
                                         monkeypatch):
    """Fails before the one loader for the reproduce specs (their values were checked late,
    some not at all, with messages naming neither the file nor the [quick] table)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    argv = [*cmd.split(), str(name)] if cmd.startswith("scan") else \
        [*cmd.split(), "--spec", name, "--quick", "--out", "o"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcsgd: error: ") and len(err.strip().splitlines()) == 1, err
    assert message in err, err
    assert not (tmp_path / "o").exists()
