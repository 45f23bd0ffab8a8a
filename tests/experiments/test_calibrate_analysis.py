"""Calibration for analysts: to_dataframe, one-line repr, ``calibrate --invert T=...``.

Fails before this change: Calibration had no to_dataframe, its repr dumped every array, and
``calibrate`` had no --invert/--from (argparse error, exit 2).
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from mcsgd import theory as th
from mcsgd.cli import main
from mcsgd.experiments.calibrate import Calibration, invert_T

C, Q = 10.0, 5
BS = [0.3, 0.6, 0.9]


@functools.lru_cache(maxsize=1)
def _tadb() -> tuple[float, ...]:
    return tuple(float(t) for t in th.T_adb(np.array(BS), C, Q, "poisson", "flux"))


def _cal(ratio: float = 1.0, err: float = 0.01) -> Calibration:
    """A synthetic calibration whose T_eq is ``ratio`` x T_adb (no run needed)."""
    tadb = list(_tadb())
    nan = [None] * len(BS)
    table = {"B": BS, "T": nan, "T0": [float(th.T0(b)) for b in BS], "T_adb": tadb,
             "T_drift": tadb, "T_eq": [ratio * t for t in tadb], "T_eq_err": [err] * 3,
             "stationary": [True, True, False], "init_agree": [True, False, True]}
    params = {"problem": {"problem": "coloring", "n": 1000, "q": Q, "c": C, "graph": "er",
                          "planted": True, "noise": 0.0, "shuffle": False},
              "instances": 2, "replicas": 2, "sweeps": 200}
    z = np.zeros(2)
    return Calibration(params=params, table=table, T_grid=np.array([0.5, 1.0]), e_mc=z,
                       e_mc_err=z, times=np.arange(2), curves_sgd=np.zeros((3, 2)),
                       curves_mc=np.zeros((2, 2)), timing={}, errors={"n_instances": 2})


def test_to_dataframe_one_row_per_target_with_table_columns():
    pytest.importorskip("pandas")
    cal = _cal()
    df = cal.to_dataframe()
    assert len(df) == 3 and list(df["B"]) == BS and (df["c"] == C).all()
    for k in cal.table:
        assert k in df.columns
    assert df["T"].isna().all() and df["T"].dtype == float  # None -> NaN
    assert df["stationary"].dtype == bool
    np.testing.assert_allclose(df["T_eq_over_T_adb"], 1.0)


def test_repr_is_one_line():
    r = repr(_cal())
    assert "\n" not in r and "array(" not in r
    assert r.startswith("Calibration(coloring c=10.0 N=1000, B=[0.3, 0.6, 0.9]")


def test_invert_recovers_B_where_T_eq_follows_the_theory_shape():
    # T_eq = 1.02 T_adb exactly: the shaped interpolation is exact up to the 400-point grid
    cal = _cal(ratio=1.02)
    T = 0.8
    res = invert_T(T, calibration=cal)
    assert res["bracket"] == [0.6, 0.9]
    got = 1.02 * float(th.T_adb(res["B"], C, Q, "poisson", "flux"))
    assert abs(got - T) < 2e-3 * T
    # error: T_eq -+ 0.01 at the ends moves B by about 0.01 / |dT/dB| (> 0, finite)
    assert 0 < res["B_err"] < 0.05
    assert res["B_adb"] is not None and res["B_adb"] < res["B"]  # T_eq above T_adb -> larger B


def test_invert_outside_range_does_not_extrapolate():
    res = invert_T(50.0, calibration=_cal())
    assert res["B"] is None and "no extrapolation" in res["note"]


def test_cli_invert_from_file_and_from_theory(tmp_path, capsys):
    f = tmp_path / "cal.h5"
    _cal().save(f)
    assert main(["calibrate", "--invert", "T=0.65", "--from", str(f), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["T"] == 0.65 and 0.6 < obj["B"] < 0.9 and obj["B_err"] > 0
    assert obj["file"] == str(f)
    assert main(["calibrate", "--invert", "T=0.65", "--from", str(f)]) == 0
    assert "gives T_eq = 0.65" in capsys.readouterr().out
    # without a file: the theory, T_adb(B) = T
    assert main(["calibrate", "--invert", "T=0.65", "--c", "10", "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["B_err"] is None and "T_adb" in obj["source"]
    assert abs(float(th.T_adb(obj["B"], C, Q, "poisson", "flux")) - 0.65) < 1e-3
    assert main(["calibrate", "--invert", "T=0.65", "--c", "10"]) == 0
    assert "gives T_adb = 0.65" in capsys.readouterr().out


@pytest.mark.parametrize("argv, msg", [
    (["--invert", "X=1", "--c", "10"], "T=VALUE"),
    (["--invert", "T=-1", "--c", "10"], "invert T = -1"),
    (["--invert", "T=1"], "--c"),
    (["--c", "10", "--B", "0.5", "--from", "x.h5"], "--invert only"),
])
def test_cli_invert_bad_input(argv, msg, capsys):
    assert main(["calibrate", *argv]) == 2
    assert msg in capsys.readouterr().err
