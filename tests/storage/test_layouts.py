"""File layouts of mcsgd.storage: each file kind is readable through storage alone."""

from __future__ import annotations

import subprocess
import sys

import h5py
import numpy as np
import pytest

from mcsgd.errors import FileFormatError


def test_storage_imports_no_upper_layer():
    code = ("import sys\n"
            "import mcsgd.storage.bp, mcsgd.storage.calibration, mcsgd.storage.continuous\n"
            "import mcsgd.storage.h5, mcsgd.storage.paths, mcsgd.storage.scan\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('mcsgd'))))\n")
    mods = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split()
    upper = [m for m in mods if m != "mcsgd" and m.split(".")[1] not in ("storage", "errors")]
    assert upper == []


def test_bp_file_reads_back_without_the_bp_module(tmp_path):
    from mcsgd import problems
    from mcsgd.bp import bp
    from mcsgd.storage import bp as layout

    inst = problems.coloring(60, 3, 3.0, planted=True, seed=2)
    res = bp(inst, T=0.3, init="random", seed=1, max_iter=50)
    for messages in (False, True):
        path = tmp_path / f"bp{messages}.h5"
        res.save(path, messages=messages)
        got = layout.read(path)
        np.testing.assert_array_equal(got["marginals"], res.marginals)
        np.testing.assert_array_equal(got["assignment"], res.assignment)
        np.testing.assert_array_equal(got["history"], res.history)
        if messages:
            np.testing.assert_array_equal(got["messages"], res.messages)
        else:
            assert got["messages"] is None
        summary = res.summary()
        for k in layout.SCALARS:
            assert got[k] == summary[k] and type(got[k]) is type(summary[k])
        assert got["overlap"] == res.overlap
        assert got["params"] == res.params
    with pytest.raises(FileFormatError, match="holds an mcsgd 'bp', expected 'calibration'"):
        from mcsgd.storage import calibration

        calibration.read(path)


def test_calibration_round_trip_restores_none_and_bools(tmp_path):
    from mcsgd.experiments.calibrate import Calibration
    from mcsgd.storage import calibration as layout

    cal = Calibration(
        params={"problem": {"c": 3.0}}, table={"B": [0.5, None], "stationary": [True, None],
                                               "energy": [0.1, 0.2]},
        T_grid=np.array([0.2, 0.4]), e_mc=np.array([0.01, 0.05]),
        e_mc_err=np.array([0.001, 0.002]), times=np.array([1, 10], np.int64),
        curves_sgd=np.ones((2, 2)), curves_mc=np.zeros((2, 2)), timing={"run_s": 1.5},
        errors={"err_kind": "thermal"},
    )
    path = tmp_path / "cal.h5"
    cal.save(path)
    got = layout.read(path)
    assert got["table"] == {"B": [0.5, None], "stationary": [True, None], "energy": [0.1, 0.2]}
    back = Calibration.load(path)
    assert back.table == cal.table and back.errors == cal.errors and back.params == cal.params
    np.testing.assert_array_equal(back.curves_sgd, cal.curves_sgd)
    with h5py.File(path) as f:
        assert f["table/stationary"].dtype == np.float64


def test_calibration_curve_errors_round_trip_and_old_files_read_none(tmp_path):
    """relaxation/sgd_err and relaxation/metropolis_err survive a round trip; a file written
    without them (the older layout) loads with None. Fails before: they were not stored."""
    from mcsgd.experiments.calibrate import Calibration
    from mcsgd.storage import calibration as layout

    kw = dict(params={"problem": {"c": 3.0}}, table={"B": [0.5, 0.7], "energy": [0.1, 0.2]},
              T_grid=np.array([0.2, 0.4]), e_mc=np.array([0.01, 0.05]),
              e_mc_err=np.array([0.001, 0.002]), times=np.array([1, 10], np.int64),
              curves_sgd=np.ones((2, 2)), curves_mc=np.zeros((2, 2)), timing={}, errors={})
    cal = Calibration(**kw, curves_sgd_err=np.array([[0.1, 0.2], [0.3, 0.4]]),
                      curves_mc_err=np.array([[0.5, 0.6], [0.7, np.nan]]))
    cal.save(tmp_path / "new.h5")
    back = Calibration.load(tmp_path / "new.h5")
    np.testing.assert_array_equal(back.curves_sgd_err, cal.curves_sgd_err)
    np.testing.assert_array_equal(back.curves_mc_err, cal.curves_mc_err)
    Calibration(**kw).save(tmp_path / "old.h5")
    with h5py.File(tmp_path / "old.h5") as f:
        assert sorted(f["relaxation"]) == ["metropolis", "sgd", "time"]  # the older layout
    old = Calibration.load(tmp_path / "old.h5")
    assert old.curves_sgd_err is None and old.curves_mc_err is None
    assert layout.read(tmp_path / "old.h5")["curves_sgd_err"] is None


def test_continuous_cli_file_and_scan_body_share_one_layout(tmp_path):
    from mcsgd.storage import continuous as layout
    from mcsgd.storage.h5 import atomic_h5_file

    res = {"arrays": {"x": np.arange(4.0)}, "params": {"eta": 0.1}, "scalars": {"r": None},
           "model": {"name": "L2"}}
    layout.write(tmp_path / "a.h5", res, 7, (1, 2))
    with atomic_h5_file(tmp_path / "b.h5", "continuous") as f:
        layout.write_body(f, res, 7, (1, 2))
    a, b = layout.load(tmp_path / "a.h5"), layout.load(tmp_path / "b.h5")
    for got in (a, b):
        np.testing.assert_array_equal(got["arrays"]["x"], res["arrays"]["x"])
        assert got["seed"] == {"entropy": 7, "key": [1, 2]}
        assert got["params"] == res["params"] and got["scalars"] == {"r": None}
