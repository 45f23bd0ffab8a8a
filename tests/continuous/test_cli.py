"""CLI contracts of ``mcsgd continuous``: JSON keys, exit code 2 on bad input, no output file,
HDF5 contents, and identity with run_task (scan files)."""

import json

import numpy as np
import pytest

from mcsgd.cli import main
from mcsgd.continuous import data as cdata
from mcsgd.errors import ParameterError
from mcsgd.experiments.continuous import resolve_params, run_task
from mcsgd.storage.h5 import open_checked, read_json_attr

FAST = {
    "fdr": ["fdr", "--model", "quadratic", "--eta", "0.05", "--batch-size", "4", "--steps", "400",
            "--chains", "4"],
    "linear-fdt": ["linear-fdt", "--eta", "0.05", "--batch-size", "4", "--steps", "400", "--chains",
                   "4"],
    "ivf": ["ivf", "--noise", "isotropic", "--steps", "400", "--chains", "4"],
    "escape": ["escape", "--batch-size", "1,2", "--eta", "0.05", "--chains", "20", "--max-steps",
               "3000"],
    "temperature": ["temperature", "--model", "quadratic", "--batch-size", "1,4", "--eta", "0.02",
                    "--steps", "300", "--chains", "4"],
    "occupation": ["occupation", "--batch-size", "1", "--eta", "0.01", "--steps", "300", "--chains",
                   "4"],
    "adaptive": ["adaptive", "--eta", "0.1", "--batch-size", "4", "--steps", "600", "--chains", "2",
                 "--min-window", "200"],
}
KEYS = {
    "fdr": {"ratio", "fdr2_probe", "fdr2_exact"},
    "linear-fdt": {"excess_loss", "rhs_exact", "rhs_langevin"},
    "ivf": {"psi", "psi_err", "variance", "flatness"},
    "escape": {"rows", "slope", "slope_theory"},
    "temperature": {"rows"},
    "occupation": {"rows"},
    "adaptive": {"eta_final", "n_decays"},
}
ROW_KEYS = {
    "escape": {"B", "escape_steps_mean", "escape_steps_err"},
    "temperature": {"B", "T_conf", "T_conf_err", "T_theory"},
    "occupation": {"B", "p_flat", "p_flat_err", "p_flat_gibbs", "p_flat_laplace"},
}


def _run(capsys, argv):
    code = main(["continuous", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("cmd", list(FAST))
def test_json_contract_and_h5(cmd, capsys, tmp_path):
    h5 = tmp_path / "out.h5"
    code, out, err = _run(capsys, [*FAST[cmd], "--seed", "3", "--json", "-o", str(h5)])
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert KEYS[cmd] <= set(obj), set(obj)
    for row in obj.get("rows", []):
        assert ROW_KEYS.get(cmd, set()) <= set(row)
    with open_checked(h5, "continuous") as f:
        assert read_json_attr(f, "params")["experiment"] == cmd
        assert "provenance" in f.attrs
        assert read_json_attr(f, "seed")["entropy"] == 3
        assert len(f["arrays"]) > 0


def test_fdr_json_values_are_physical(capsys):
    code, out, _ = _run(capsys, [*FAST["fdr"], "--json"])
    obj = json.loads(out)
    assert code == 0
    assert obj["fdr2_exact"] == pytest.approx(obj["trace_H"] / 4)  # C = I on the quadratic
    assert obj["fdr2_probe"] > 0 and obj["ratio"] > 0


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["fdr", "--model", "quadratic", "--eta", "0", "--batch-size", "4"], "eta"),
        (["fdr", "--model", "quadratic", "--eta", "-0.1", "--batch-size", "4"], "eta"),
        (["fdr", "--model", "quadratic", "--eta", "0.1", "--batch-size", "0"], "B"),
        (["fdr", "--model", "resnet", "--eta", "0.1", "--batch-size", "4"], "model"),
        (["fdr", "--model", "quadratic", "--eta", "0.1", "--batch-size", "4", "--momentum", "1"],
         "momentum"),
        (["linear-fdt", "--eta", "0.1", "--batch-size", "0"], "B"),
        (["linear-fdt", "--eta", "0.1", "--batch-size", "4", "--n-data", "3"], "B"),
        (["ivf", "--noise", "weird"], "noise"),
        (["ivf", "--noise", "isotropic", "--level", "1"], "level"),
        (["escape", "--batch-size", "0,2", "--eta", "0.1"], "B"),
        (["escape", "--batch-size", "2", "--eta", "-1"], "eta"),
        (["escape", "--batch-size", "2.5", "--eta", "0.1"], "B"),
        (["temperature", "--model", "cnn", "--batch-size", "1", "--eta", "0.1"], "model"),
        (["temperature", "--model", "quadratic", "--batch-size", "1", "--eta", "0"], "eta"),
        (["occupation", "--batch-size", "1", "--eta", "0.1", "--kappa", "-1"], "kappa"),
        (["adaptive", "--eta", "0.1", "--batch-size", "4", "--X", "1.5"], "X"),
        (["fdr", "--model", "quadratic", "--eta", "0.1"], "--batch-size"),
    ],
)
def test_bad_input_exits_2_without_output(argv, needle, capsys, tmp_path):
    h5 = tmp_path / "bad.h5"
    code, out, err = _run(capsys, [*argv, "--json", "-o", str(h5)])
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcsgd: error:")
    assert needle in lines[0]
    assert not h5.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("cmd", [*FAST, ""])
def test_help(cmd, capsys):
    argv = ["continuous", cmd, "--help"] if cmd else ["continuous", "--help"]
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_plot_written(capsys, tmp_path):
    png = tmp_path / "t.png"
    code, _, err = _run(capsys, [*FAST["temperature"], "--plot", str(png)])
    assert code == 0, err
    assert png.stat().st_size > 1000


def test_run_task_is_deterministic_and_matches_cli(capsys):
    params = {"experiment": "linear-fdt", "eta": 0.05, "B": 4, "steps": 400, "chains": 4}
    a = run_task(params, 11, (2, 5))
    b = run_task(params, 11, (2, 5))
    c = run_task(params, 11, (2, 6))
    assert a["scalars"] == b["scalars"]
    np.testing.assert_array_equal(a["arrays"]["excess_per_chain"],
                                  b["arrays"]["excess_per_chain"])
    assert a["scalars"]["excess_loss"] != c["scalars"]["excess_loss"]
    code, out, _ = _run(capsys, ["linear-fdt", "--eta", "0.05", "--batch-size", "4", "--steps",
                                 "400", "--chains", "4", "--seed", "11", "--json"])
    cli = json.loads(out)
    direct = run_task(params, 11, ())["scalars"]
    assert cli["excess_loss"] == pytest.approx(direct["excess_loss"], rel=1e-12)


def test_run_task_validation_names_the_key():
    with pytest.raises(ParameterError, match="unknown parameter"):
        resolve_params({"experiment": "fdr", "etaa": 0.1})
    with pytest.raises(ParameterError, match="experiment"):
        resolve_params({"eta": 0.1})
    with pytest.raises(ParameterError, match="steps"):
        resolve_params({"experiment": "fdr", "steps": 0})
    p = resolve_params({"experiment": "fdr", "model": "softmax"})
    assert p["weight_decay"] == 1e-3 and p["B"] == 4


def test_data_without_scikit_learn(monkeypatch):
    monkeypatch.setattr(cdata, "have_sklearn", lambda: False)
    assert cdata.resolve_name("auto") == "synthetic"
    with pytest.raises(ParameterError, match="scikit-learn"):
        cdata.resolve_name("digits")
    with pytest.raises(ParameterError, match="data"):
        cdata.resolve_name("mnist")
