"""Stored configurations and the fastest B: ``recover --save-states``, ``run --init FILE``,
``recover --best``.

Fails before this change: recover had no --save-states/--best, run's --init accepted only
random/planted (argparse error, exit 2).
"""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

from mcsgd.cli import main
from mcsgd.driver import RunResult
from mcsgd.experiments.recover import fastest, format_best

GEN = ["generate", "coloring", "--n", "300", "--q", "5", "--c", "8", "--seed", "3",
       "--instance", "1"]


@pytest.fixture
def inst(tmp_path):
    p = tmp_path / "i.h5"
    assert main([*GEN, "-o", str(p)]) == 0
    return p


def _run(inst, *extra):
    return ["run", str(inst), "--dynamics", "sgd", "--sweeps", "20", "--quiet", *extra]


def test_sgd_then_greedy_quench_is_two_commands(inst, tmp_path):
    sgd, q = tmp_path / "sgd.h5", tmp_path / "q.h5"
    assert main(_run(inst, "--B", "0.5", "--replicas", "3", "-o", str(sgd))) == 0
    assert main(_run(inst, "--B", "1", "--init", str(sgd), "-o", str(q))) == 0
    a, b = RunResult.load(sgd), RunResult.load(q)
    assert b.energy.shape[0] == 3  # replicas taken from the file
    # the quench starts exactly where the SGD run ended, and greedy never raises the energy
    np.testing.assert_array_equal(b.energy[:, 0], a.energy[:, -1])
    assert np.all(b.energy[:, -1] <= b.energy[:, 0])
    assert b.params["init"] == "array" and b.params["init_file"] == f"{sgd}:final/state"
    # explicit dataset name, same result
    q2 = tmp_path / "q2.h5"
    assert main(_run(inst, "--B", "1", "--init", f"{sgd}:final/state", "-o", str(q2))) == 0
    np.testing.assert_array_equal(RunResult.load(q2).final_state, b.final_state)


def test_init_replicas_match_or_broadcast_one(inst, tmp_path, capsys):
    one, three = tmp_path / "one.h5", tmp_path / "three.h5"
    assert main(_run(inst, "--B", "0.5", "-o", str(one))) == 0
    assert main(_run(inst, "--B", "0.5", "--replicas", "3", "-o", str(three))) == 0
    b = tmp_path / "b.h5"
    assert main(_run(inst, "--B", "0.9", "--init", str(one), "--replicas", "4",
                     "-o", str(b))) == 0
    r = RunResult.load(b)
    assert r.energy.shape[0] == 4
    # all four start from the one stored state, then follow their own dynamics streams
    np.testing.assert_array_equal(r.energy[:, 0], RunResult.load(one).energy[0, -1])
    assert len({r.final_state[k].tobytes() for k in range(4)}) > 1
    capsys.readouterr()
    assert main(_run(inst, "--B", "0.9", "--init", str(three), "--replicas", "2")) == 2
    assert "--replicas 2 does not match the 3 stored" in capsys.readouterr().err


def test_init_refuses_another_instance_and_bad_files(inst, tmp_path, capsys):
    other = tmp_path / "other.h5"
    assert main([*GEN[:-2], "--instance", "2", "-o", str(other)]) == 0
    r = tmp_path / "r.h5"
    assert main(_run(other, "--B", "0.5", "-o", str(r))) == 0
    capsys.readouterr()
    assert main(_run(inst, "--B", "1", "--init", str(r))) == 2
    assert "another instance" in capsys.readouterr().err
    assert main(_run(inst, "--B", "1", "--init", f"{r}:window/trace")) == 2
    assert "final/state" in capsys.readouterr().err
    assert main(_run(inst, "--B", "1", "--init", str(tmp_path / "nope.h5"))) == 2
    assert "--init: " in capsys.readouterr().err
    assert main(_run(inst, "--B", "1", "--init", str(inst))) == 2  # an instance file
    assert "'instance'" in capsys.readouterr().err


def test_recover_save_states_then_run_init(inst, tmp_path, capsys):
    rec = tmp_path / "rec.h5"
    # instances 0..1 of (n 300, q 5, c 8, seed 3): inst is instance 1
    assert main(["recover", "--c", "8", "--B", "0.9", "--n", "300", "--instances", "2",
                 "--replicas", "2", "--sweeps", "30", "--seed", "3", "--save-states",
                 "--quiet", "-o", str(rec)]) == 0
    with h5py.File(rec) as f:
        ds = f["rows/0000/final_state"]
        assert ds.shape == (4, 300) and ds.dtype == np.int8
        assert ds.attrs["instances"] == 2 and ds.attrs["replicas"] == 2
        states = ds[()]
        assert "save_states" in json.loads(f.attrs["params"])
    q = tmp_path / "q.h5"
    assert main(_run(inst, "--B", "1", "--init", str(rec), "-o", str(q))) == 0
    res = RunResult.load(q)
    assert res.energy.shape[0] == 2
    # instance 1's runs are rows 2, 3 of the row's states: same starting energies
    from mcsgd import problems
    i = problems.load(inst)
    n = i.n
    np.testing.assert_allclose(res.energy[:, 0], [i.energy(s) / n for s in states[2:]])
    capsys.readouterr()
    assert main(["recover", "--c", "8", "--B", "0.9", "--n", "300", "--sweeps", "5",
                 "--save-states", "--quiet"]) == 2
    assert "--save-states needs -o" in capsys.readouterr().err


def _row(B, med, ci, recovered=4):
    return {"c": 20.0, "B": B, "t_rec_median": med, "t_rec_median_ci": ci,
            "recovered": recovered}


def test_fastest_ranks_only_with_separated_intervals():
    ranked = fastest([_row(0.8, 100.0, [80.0, 120.0]), _row(0.9, 300.0, [200.0, 400.0]),
                      _row(0.95, None, [None, None], recovered=0)])["20"]
    assert ranked == {"param": "B", "value": 0.8, "t_rec_median": 100.0,
                      "t_rec_median_ci": [80.0, 120.0], "ranked": True, "reason": None}
    assert format_best({"20": ranked}) == [
        "best (c = 20): B = 0.8  t_rec median 100 [95% 80, 120]"]
    # 4 runs per B: Wilson-wide intervals overlap -> named, but not ranked
    wide = fastest([_row(0.8, 100.0, [50.0, 400.0]), _row(0.9, 150.0, [60.0, None])])["20"]
    assert wide["value"] == 0.8 and not wide["ranked"] and "overlap" in wide["reason"]
    assert "cannot rank the B values" in format_best({"20": wide})[0]
    open_end = fastest([_row(0.8, 100.0, [50.0, None]), _row(0.9, 900.0, [800.0, 1e3])])["20"]
    assert not open_end["ranked"] and "no finite upper end" in open_end["reason"]
    single = fastest([_row(0.8, 100.0, [80.0, 120.0])])["20"]
    assert not single["ranked"] and single["reason"] == "only one B value"
    none = fastest([_row(0.8, None, [None, None], 1)])["20"]
    assert none["value"] is None and "cannot rank" in format_best({"20": none})[0]


def test_recover_best_cli_line_and_json_key(tmp_path, capsys):
    argv = ["recover", "--c", "8", "--B", "0.8,0.9", "--n", "300", "--instances", "1",
            "--replicas", "2", "--sweeps", "20", "--seed", "3", "--quiet", "--best"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("best (c = 8): ")
    assert main([*argv, "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert set(obj["best"]["8"]) == {"param", "value", "t_rec_median", "t_rec_median_ci",
                                     "ranked", "reason"}
    assert "best" not in obj["params"]  # an output option, not a parameter of the rows
