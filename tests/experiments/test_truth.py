"""Issue 12 §1, "Tell the truth on screen": flagged calibration points, an undetermined
time-scale factor left blank, tables that carry their parameters, recover saying when its runs
cannot rank the B values, and run showing disagreeing replica overlaps.

Everything here runs on synthetic tables or rows (no dynamics), except the tb-curve check,
which is in test_calibrate.py (test_reproduce_tb_curve_small_spec).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mcsgd.cli import main
from mcsgd.experiments import calibrate as cal_mod
from mcsgd.experiments.calibrate import (
    Calibration,
    flag_warnings,
    format_table,
    point_flags,
    scale_determined,
)
from mcsgd.experiments.recover import RecoveryRun, format_ranking, ranking
from mcsgd.experiments.reproduce import tb_table_json
from mcsgd.experiments.run import run_summary

nan = math.nan


def _table(**over) -> dict[str, list]:
    """A two-row calibration table (B = 0.5 clean, B = 0.9 as in the README's quick run:
    T_eq_para - T_eq = 0.021 at sigma 0.002, halves p = 0.001, init p = 4e-16)."""
    t = {
        "B": [0.5, 0.9], "T": [None, None], "T0": [1.44, 0.43], "T_adb": [2.06, 0.57],
        "T_drift": [2.02, 0.56], "energy": [0.1, 0.01], "energy_err": [1e-4, 1e-4],
        "T_eq": [2.0194, 0.5602], "T_eq_err": [0.0009, 0.0017],
        "T_eq_para": [2.0182, 0.5812], "T_eq_para_err": [0.0009, 0.0010],
        "T_neq": [2.0267, 0.5769], "T_neq_err": [0.0052, 0.0014],
        "T_neq_rescaled": [2.0232, 0.5650], "T_neq_rescaled_err": [0.005, 0.0011],
        "time_scale": [0.895, 0.892], "time_scale_err": [0.019, 0.006],
        "time_scale_err_thermal": [0.018, 0.005],
        "halves_t": [0.6, 4.0], "halves_p": [0.53, 0.001], "stationary": [True, False],
        "tau_int": [3.0, 30.0], "init_t": [0.6, 20.0], "init_p": [0.54, 4e-16],
        "init_agree": [True, False],
    }
    t.update(over)
    return t


def _cal(table=None, c=20.0, mode="both") -> Calibration:
    params = {"problem": {"problem": "coloring", "n": 20000, "q": 5, "c": c, "graph": "er",
                          "planted": True, "noise": 0.0, "shuffle": False},
              "targets": [{"dynamics": "sgd", "B": 0.5}, {"dynamics": "sgd", "B": 0.9}],
              "instances": 4, "replicas": 2, "sweeps": 400, "seed": 1, "mode": mode,
              "window": 0.5, "grid_points": 30, "T_grid": "auto"}
    return Calibration(params=params, table=table or _table(), T_grid=np.array([0.5, 1.0]),
                       e_mc=np.array([0.02, 0.05]), e_mc_err=np.array([1e-4, 1e-4]),
                       times=np.array([0, 1, 2]), curves_sgd=np.zeros((2, 3)),
                       curves_mc=np.zeros((2, 3)), timing={"total_s": 1.0},
                       errors={"n_instances": 4, "err_dof": 3, "disorder_err": True,
                               "err_kind": "instance-clustered jackknife"})


def test_flags_name_each_failed_check():
    # the README's c = 20, B = 0.9 fails stationarity, the init test and e_para (|z| ~ 10.7:
    # p = 0.0017 at 3 dof), and says so; B = 0.5 passes (|z| = 0.94)
    assert point_flags(_table(), "both", 3) == [
        [], ["nonstationary", "init_disagree", "not_paramagnetic"]]
    # lambda: undetermined when its larger error exceeds 10% of it, or it is NaN (fit at bound)
    t = _table(time_scale=[1.757, nan], time_scale_err=[0.817, nan])
    assert point_flags(t, "both", 3)[0] == ["scale_unidentified"]
    assert "scale_unidentified" in point_flags(t, "both", 3)[1]
    # the thermal error counts too (c = 5, B = 0.3 of the quick run: 1.598 +- 0.095, 0.47)
    assert not scale_determined(1.598, 0.095, 0.471)
    assert scale_determined(0.946, 0.031, 0.010)
    # each flag only where its measurement exists: no lambda in equilibrium mode, no T_eq in
    # relaxation mode, no init test without planted starts (None)
    t = _table(time_scale=[nan, nan], time_scale_err=[nan, nan], init_agree=[None, None])
    assert point_flags(t, "equilibrium", 3) == [[], ["nonstationary", "not_paramagnetic"]]
    assert point_flags(_table(), "relaxation", 3) == [[], ["nonstationary", "init_disagree"]]


def test_flags_in_table_and_json_but_not_stored(tmp_path):
    cal = _cal()
    assert cal.table["flags"] == [[], ["nonstationary", "init_disagree", "not_paramagnetic"]]
    js = json.loads(json.dumps(cal.to_json(), default=lambda x: x.tolist()))
    assert js["flags"] == cal.table["flags"]
    path = tmp_path / "c.h5"
    cal.save(path)
    import h5py

    with h5py.File(path) as f:
        assert "flags" not in f["table"]  # derived on load: older files get flags too
    assert Calibration.load(path).table["flags"] == cal.table["flags"]


def test_table_blanks_lambda_and_carries_parameters():
    t = _table(time_scale=[1.757, 0.892], time_scale_err=[0.817, 0.006])
    md = format_table([_cal(t)], with_params=True)
    first = md.splitlines()[0]
    for part in ("N = 20000", "q = 5", "c = 20", "ensemble = er", "sweeps = 400",
                 "window = 0.5", "instances x replicas = 4 x 2", "seed = 1", "mcsgd "):
        assert part in first, part
    rows = [r for r in md.splitlines() if r.startswith("| 20 |")]
    assert rows[0].split("|")[10].strip() == "–"  # lambda undetermined: blank
    assert rows[1].split("|")[10].strip() == "0.892 ± 0.006"
    assert rows[0].split("|")[15].strip() == "scale_unidentified"
    assert rows[1].split("|")[15].strip() == "nonstationary, init_disagree, not_paramagnetic"


def test_flag_warnings_one_line_per_flagged_point():
    lines = flag_warnings([_cal()])
    assert len(lines) == 1
    assert lines[0].startswith("c = 20, B = 0.9: nonstationary (halves p = 0.001), "
                               "init_disagree (random vs planted p = 4e-16), not_paramagnetic")


def test_calibrate_cli_prints_warning_summary_also_with_json(monkeypatch, capsys):
    monkeypatch.setattr(cal_mod, "run_calibration", lambda *a, **k: _cal())
    assert main(["calibrate", "--c", "20", "--B", "0.5,0.9", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["flags"][1] == ["nonstationary", "init_disagree", "not_paramagnetic"]
    assert "mcsgd: warning: c = 20, B = 0.9: nonstationary" in err
    assert main(["calibrate", "--c", "20", "--B", "0.5,0.9", "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "| flags |" in out and out.startswith("coloring: N = 20000")
    assert err.count("mcsgd: warning: c = 20, B = 0.9") == 1


def test_tb_table_json_has_params_rows_flags_and_no_T():
    obj = tb_table_json([_cal(c=5.0), _cal(c=20.0)])
    p = obj["params"]
    assert (p["N"], p["q"], p["c"], p["ensemble"], p["sweeps"], p["window"]) == (
        20000, 5, [5.0, 20.0], "er", 400, 0.5)
    assert (p["instances"], p["replicas"], p["seed"], p["B"]) == (4, 2, 1, [0.5, 0.9])
    assert "version" in p
    assert [r["c"] for r in obj["rows"]] == [5.0, 20.0]
    assert all("T" not in r and len(r["flags"]) == 2 for r in obj["rows"])


def _row(B, lo, hi, med, mlo, mhi, c=20.0):
    return {"c": c, "B": B, "success_ci": [lo, hi], "t_rec_median": med,
            "t_rec_median_ci": [mlo, mhi], "success_probability": 0.5}


def test_recover_says_when_runs_cannot_rank():
    # 4 runs per B: Wilson [0.15, 0.85] for both; median intervals overlap -> no ranking
    rows = [_row(0.8, 0.15, 0.85, 300.0, 100.0, None), _row(0.9, 0.15, 0.85, 200.0, 90.0, None)]
    (r,) = ranking(rows, "B")
    assert (r["best"], r["ranked"], r["tied"]) == (0.9, False, [0.8])
    assert "cannot rank it against B = 0.8" in format_ranking(r)
    # separated success intervals (or median intervals) rank it
    rows = [_row(0.8, 0.0, 0.3, None, None, None), _row(0.9, 0.6, 1.0, 200.0, 90.0, 400.0),
            _row(0.95, 0.5, 1.0, 900.0, 500.0, None)]
    (r,) = ranking(rows, "B")
    assert (r["best"], r["ranked"], r["tied"]) == (0.9, True, [])
    assert "separate it from every other B" in format_ranking(r)
    assert ranking([_row(0.8, 0.0, 0.5, None, None, None)], "B")[0]["best"] is None


def test_recover_cli_prints_ranking(monkeypatch, capsys):
    import mcsgd.experiments.recover as rec

    rows = [dict(_row(0.8, 0.15, 0.85, 300.0, 100.0, None), success_probability=0.5,
                 t_rec_q25=100.0, t_rec_q75=None, final_overlap_mean=0.5),
            dict(_row(0.9, 0.15, 0.85, 200.0, 90.0, None), success_probability=0.5,
                 t_rec_q25=90.0, t_rec_q75=None, final_overlap_mean=0.5)]
    monkeypatch.setattr(rec, "run_recovery", lambda *a, **k: RecoveryRun(rows, {}))
    assert main(["recover", "--c", "20", "--B", "0.8,0.9"]) == 0
    assert "c = 20: fastest B = 0.9" in capsys.readouterr().out
    assert main(["recover", "--c", "20", "--B", "0.8,0.9", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ranking"][0]["ranked"] is False


class _FakeRun:
    def __init__(self, finals):
        self.overlap = np.array([[0.0, f] for f in finals])

    def summary(self):
        return {"stationary": {"overlap": float(self.overlap[:, -1].mean())}}


@pytest.mark.parametrize("finals,disagree", [([0.96, 0.97, 0.95, 0.24], True),
                                             ([0.96, 0.97, 0.95, 0.94], False)])
def test_run_summary_shows_replica_overlaps_when_they_disagree(finals, disagree):
    st = run_summary(_FakeRun(finals))["stationary"]
    assert st["replica_overlaps"] == finals
    assert st["overlaps_disagree"] is disagree


def test_reproduce_recovery_table_says_best_B_is_not_ranked():
    from mcsgd.experiments.reproduce import format_recovery

    rows = [_row(0.8, 0.15, 0.85, 300.0, 100.0, None), _row(0.9, 0.15, 0.85, 200.0, 90.0, None)]
    s = {"c": 20.0, "T_window": [0.5, 0.7], "B_window_measured": [0.8, 0.9],
         "B_window_from_T_adb": [0.8, 0.9], "B_window_from_T_eq": [None, None],
         "B_best": 0.9, "B_best_t_rec_median": 200.0, "B_ranking": ranking(rows, "B")[0]}
    res = {"summary": [s], "metropolis": [], "sgd": [], "annealing": [], "bp": []}
    assert "| 0.90 (not ranked vs 0.8) |" in format_recovery(res)
