"""The planted assignment: index-ordered (floor(i/(N/q))) vs shuffled, and who uses which.

Guards issue 9 §5 (the planted order leak, docs/recovery.md): with the same seed both plantings
are balanced proper colourings, the shuffled one carries no index order; the calibration
``Problem``, the ``recover`` / ``calibrate`` commands and the reproduction specs all say which
planting they use, and the inference default is the one documented.
"""

import json
import math
from importlib import resources

import numpy as np
import pytest
import tomllib

from mcsgd import problems
from mcsgd.cli import main
from mcsgd.errors import ParameterError
from mcsgd.experiments.calibrate import Problem
from mcsgd.experiments.recover import DEFAULT_PLANTING
from mcsgd.experiments.reproduce import load_tb_curve_spec


def _edges(inst):
    return np.repeat(np.arange(inst.n), inst.degrees), inst.indices.astype(np.int64)


@pytest.mark.parametrize("graph, c", [("er", 12.0), ("er-simple", 12.0), ("regular", 6)])
@pytest.mark.parametrize("seed", [0, 7])
def test_same_seed_both_plantings_balanced_proper_shuffled_unordered(graph, c, seed):
    """Same seed: index planting is floor(i/(N/q)); shuffled is balanced, proper, unordered."""
    n, q = 5000, 5
    size = n // q
    idx = problems.planted_coloring(n, q, c, graph=graph, seed=seed)
    shf = problems.planted_coloring(n, q, c, graph=graph, shuffle=True, seed=seed)
    assert idx.params["shuffle"] is False and shf.params["shuffle"] is True
    assert np.array_equal(idx.planted, np.arange(n) // size)
    for inst in (idx, shf):
        assert np.all(np.bincount(inst.planted, minlength=q) == size)  # balanced
        rows, cols = _edges(inst)
        assert np.all(inst.planted[rows] != inst.planted[cols])  # proper colouring
        assert inst.energy(inst.planted) == 0
    # no index order left: agreement with floor(i/(N/q)) is that of a uniform balanced
    # permutation, mean 1/q, sigma <= sqrt((1/q)(1-1/q)/(N-1)) = 0.0057 (the permutation
    # variance is N(1/q)(1-1/q)^2 to O(1)); k = 5
    agree = np.mean(shf.planted == idx.planted)
    sigma = math.sqrt((1 / q) * (1 - 1 / q) / (n - 1))
    assert abs(agree - 1 / q) <= 5 * sigma
    # consecutive indices share a group with probability (size-1)/(n-1) ~ 1/q (vs 1 - (q-1)/N
    # for the index planting); binomial sigma over N-1 pairs, 5 sigma
    same_next = np.mean(shf.planted[1:] == shf.planted[:-1])
    p = (size - 1) / (n - 1)
    assert abs(same_next - p) <= 5 * math.sqrt(p * (1 - p) / (n - 1))
    assert np.mean(idx.planted[1:] == idx.planted[:-1]) == 1 - (q - 1) / (n - 1)


def test_calibration_problem_carries_the_planting():
    """calibrate.Problem(shuffle=True) builds exactly the shuffled instance; ising refuses."""
    for shuffle in (False, True):
        prob = Problem(n=1000, c=10.0, shuffle=shuffle)
        inst = prob.generate(3)
        ref = problems.planted_coloring(1000, 5, 10.0, shuffle=shuffle, seed=3)
        assert np.array_equal(inst.planted, ref.planted)
        assert np.array_equal(inst.indices, ref.indices)
    with pytest.raises(ParameterError, match="shuffle"):
        Problem(problem="ising", n=1000, c=3, shuffle=True)


def _recover_json(capsys, *extra):
    code = main(["recover", "--c", "20", "--B", "0.85", "--n", "500", "--instances", "1",
                 "--replicas", "2", "--sweeps", "10", "--seed", "4", "--json", *extra])
    assert code == 0
    return json.loads(capsys.readouterr().out)


def test_recover_planting_option_and_default(capsys):
    """--planting chooses the planting (recorded in params); --shuffle is its alias."""
    default = _recover_json(capsys)
    index = _recover_json(capsys, "--planting", "index")
    shuffled = _recover_json(capsys, "--planting", "shuffled")
    alias = _recover_json(capsys, "--shuffle")
    assert default["params"]["planting"] == DEFAULT_PLANTING
    assert index["params"]["planting"] == "index" and index["params"]["shuffle"] is False
    assert shuffled["params"]["planting"] == "shuffled" and shuffled["params"]["shuffle"] is True
    assert alias["rows"] == shuffled["rows"]  # the same instances and runs
    assert default["rows"] == (shuffled if DEFAULT_PLANTING == "shuffled" else index)["rows"]
    assert main(["recover", "--c", "20", "--B", "0.85", "--n", "500", "--planting", "index",
                 "--shuffle"]) == 2
    assert "--shuffle contradicts --planting index" in capsys.readouterr().err


def test_calibrate_planting_option(capsys):
    """``calibrate --planting shuffled`` calibrates on shuffled plantings (params record it)."""
    code = main(["calibrate", "--c", "10", "--B", "0.9", "--n", "500", "--instances", "1",
                 "--replicas", "2", "--sweeps", "8", "--mode", "equilibrium",
                 "--T-grid", "0.8,1.0", "--planting", "shuffled", "--json", "--quiet"])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["params"]["problem"]["shuffle"] is True


@pytest.mark.parametrize("name", ["recovery.toml", "tb_curve.toml"])
def test_reproduction_specs_state_their_planting(name):
    """Each reproduction spec states problem.shuffle explicitly (a bool), and it is usable."""
    spec = tomllib.loads(resources.files("mcsgd").joinpath(f"data/{name}").read_text())
    assert isinstance(spec["problem"].get("shuffle"), bool)
    if name == "recovery.toml":  # inference reproduces with the inference default
        assert spec["problem"]["shuffle"] == (DEFAULT_PLANTING == "shuffled")
    else:  # tb-curve builds calibration Problems from the [problem] table, shuffle included
        pr = load_tb_curve_spec(None, quick=True)["problem"]
        assert Problem(n=1000, c=5.0, **pr).shuffle == spec["problem"]["shuffle"]


def test_reproduce_recovery_refuses_a_non_bool_shuffle(tmp_path, capsys):
    """A spec's problem.shuffle must be a bool (no silent truthiness of "no" or 0)."""
    text = resources.files("mcsgd").joinpath("data/recovery.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("shuffle = false", 'shuffle = "no"', 1))
    assert main(["reproduce", "recovery", "--spec", str(bad), "--out", str(tmp_path)]) == 2
    assert "problem.shuffle: 'no' is not a boolean (true or false)" in capsys.readouterr().err
