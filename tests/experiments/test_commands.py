"""The commands' work is callable from Python: one experiments call gives what the CLI writes.

(Issue 11, thin CLI: a handler is argparse -> one experiments call -> print/emit JSON.)
"""

import json

import pytest

from mcsgd.cli import main
from mcsgd.errors import ParameterError


@pytest.fixture(scope="module")
def inst_file(tmp_path_factory):
    from mcsgd.experiments.generate import generate_instance

    p = tmp_path_factory.mktemp("commands") / "inst.h5"
    inst = generate_instance({"problem": "coloring", "n": 500, "q": 5, "c": 8.0,
                              "planted": True}, 2, 0, str(p))
    assert inst.n == 500 and p.exists()
    return p


def test_generate_instance_is_the_cli_instance(inst_file, tmp_path):
    from mcsgd.problems import load

    cli = tmp_path / "cli.h5"
    assert main(["generate", "coloring", "--n", "500", "--q", "5", "--c", "8", "--seed", "2",
                 "-o", str(cli)]) == 0
    a, b = load(inst_file), load(cli)
    assert (a.indptr == b.indptr).all() and (a.indices == b.indices).all()
    assert (a.planted == b.planted).all()


def test_run_instance_file_is_the_cli_run(inst_file, tmp_path, capsys):
    from mcsgd.driver import RunResult
    from mcsgd.dynamics import SGD
    from mcsgd.experiments.run import run_instance_file, run_summary
    from mcsgd.storage.h5 import to_jsonable

    out = tmp_path / "run.h5"
    seen = []
    res = run_instance_file(str(inst_file), SGD(0.7), sweeps=20, replicas=2, seed=5,
                            output=str(out), progress=lambda d, t: seen.append((d, t)))
    assert seen and seen[-1] == (20, 20)
    assert main(["run", str(inst_file), "--dynamics", "sgd", "--B", "0.7", "--sweeps", "20",
                 "--replicas", "2", "--seed", "5", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    mine = to_jsonable(run_summary(res))
    assert mine["energy"] == cli["energy"] and mine["stationary"] == cli["stationary"]
    assert RunResult.load(out).energy.tolist() == res.energy.tolist()


def test_run_instance_file_checks_before_writing(inst_file, tmp_path):
    from mcsgd.dynamics import Metropolis
    from mcsgd.experiments.run import run_instance_file

    out = tmp_path / "never.h5"
    with pytest.raises(ParameterError, match="window"):
        run_instance_file(str(inst_file), Metropolis(1.0), sweeps=5, window=1.0,
                          output=str(out))
    assert not out.exists()


def test_bp_file_is_the_cli_bp(inst_file, capsys):
    from mcsgd.experiments.infer import bp_file

    res = bp_file(str(inst_file), seed=3, max_iter=50)
    assert main(["bp", str(inst_file), "--seed", "3", "--max-iter", "50", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["iterations"] == res.iterations
    assert cli["params"]["instance_file"] == res.params["instance_file"]


def test_scan_shard_parsing():
    from mcsgd.experiments.scan.commands import parse_shard

    assert parse_shard(None) == (0, 1) and parse_shard("1/3") == (1, 3)
    for bad in ("3/3", "a/b", "1"):
        with pytest.raises(ParameterError, match="--shard"):
            parse_shard(bad)


def test_run_recovery_refuses_before_work(tmp_path):
    from mcsgd.experiments.recover import run_recovery

    out = tmp_path / "rec.h5"
    with pytest.raises(ParameterError, match="divisible"):
        run_recovery([10.0], q=5, n=101, B=[0.5], output=str(out))
    with pytest.raises(ParameterError, match="contradicts"):
        run_recovery([10.0], q=5, n=100, B=[0.5], planting="index", shuffle=True,
                     output=str(out))
    assert not out.exists()
