"""CLI contracts: commands, JSON keys, bad input -> one-line error, exit code 2, no output."""

import json

import numpy as np
import pytest

from mcsgd.cli import main


@pytest.fixture(scope="module")
def inst_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("cli") / "inst.h5"
    assert main(["generate", "coloring", "--n", "1000", "--q", "5", "--c", "10",
                 "--seed", "1", "-o", str(p)]) == 0
    return p


def test_run_json_contract(inst_file, tmp_path, capsys):
    out = tmp_path / "run.h5"
    code = main(["run", str(inst_file), "--dynamics", "sgd", "--B", "0.8", "--sweeps", "40",
                 "--replicas", "2", "--seed", "3", "-o", str(out), "--json"])
    assert code == 0
    obj = json.loads(capsys.readouterr().out)  # exactly one JSON object
    for k in ("params", "time", "energy", "overlap", "stationary", "timing"):
        assert k in obj
    assert obj["params"]["B"] == 0.8 and obj["params"]["seed"] == 3
    assert obj["params"]["sweeps"] == 40 and obj["params"]["replicas"] == 2
    assert set(obj["stationary"]) >= {"energy", "energy_err"}
    assert set(obj["timing"]) >= {"prepare_s", "run_s", "updates"}
    assert obj["timing"]["updates"] == 1000 * 2 * 40
    assert len(obj["time"]) == len(obj["energy"]) == len(obj["overlap"])
    assert obj["time"][0] == 0 and obj["time"][-1] == 40
    from mcsgd.driver import RunResult

    res = RunResult.load(out)
    assert np.allclose(res.energy.mean(0), obj["energy"])


def test_run_without_planted_has_null_overlap(tmp_path, capsys):
    p = tmp_path / "r.h5"
    assert main(["generate", "coloring", "--n", "500", "--q", "3", "--c", "4", "--random",
                 "--seed", "1", "-o", str(p)]) == 0
    assert main(["run", str(p), "--dynamics", "metropolis", "--T", "1", "--sweeps", "5",
                 "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert obj["overlap"] is None


def test_generate_ising_and_edges(tmp_path, capsys):
    p = tmp_path / "s.h5"
    assert main(["generate", "ising", "--n", "100", "--d", "3", "--planted", "--noise", "0.1",
                 "--seed", "2", "-o", str(p)]) == 0
    e = tmp_path / "edges.txt"
    e.write_text("0 1\n1 2\n2 0\n")
    q = tmp_path / "e.h5"
    assert main(["generate", "from-edges", str(e), "--q", "3", "-o", str(q)]) == 0
    assert main(["run", str(q), "--dynamics", "metropolis", "--T", "0", "--sweeps", "20",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["stationary"]["energy"] == 0.0


BAD = [
    (["generate", "coloring", "--n", "100", "--q", "1", "--c", "3", "--seed", "1"], "q = 1"),
    (["generate", "coloring", "--n", "0", "--q", "3", "--c", "3", "--seed", "1"], "n = 0"),
    (["generate", "coloring", "--n", "100", "--q", "3", "--c", "-2", "--seed", "1"], "c = -2"),
    (["generate", "coloring", "--n", "101", "--q", "5", "--c", "3", "--seed", "1"], "divisible"),
    (["run", "INST", "--dynamics", "sgd", "--B", "1.5", "--sweeps", "3"],
     "B = 1.5 is not in (0, 1]"),
    (["run", "INST", "--dynamics", "sgd", "--B", "0", "--sweeps", "3"], "B = 0 is not in (0, 1]"),
    (["run", "INST", "--dynamics", "metropolis", "--T", "-1", "--sweeps", "3"], "T = -1"),
    (["run", "INST", "--dynamics", "metropolis", "--sweeps", "3"], "--T is required"),
    (["run", "INST", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "0"], "sweeps = 0"),
    (["run", "INST", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "3", "--bogus"], "--bogus"),
    (["run", "MISSING", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "3"], "does not exist"),
    (["run", "FOREIGN", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "3"], "not a readable"),
    (["run", "INST", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "3", "--tau", "0"], "tau = 0"),
]


@pytest.mark.parametrize("argv, message", BAD)
def test_bad_input(argv, message, inst_file, tmp_path, capsys):
    foreign = tmp_path / "foreign.h5"
    foreign.write_text("hello")
    out = tmp_path / "out.h5"
    subst = {"INST": str(inst_file), "MISSING": str(tmp_path / "nope.h5"),
             "FOREIGN": str(foreign)}
    argv = [subst.get(a, a) for a in argv] + ["-o", str(out)]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".*tmp-*"))  # no temporary left behind


def test_every_command_has_help(capsys):
    for argv in (["--help"], ["generate", "--help"], ["generate", "coloring", "--help"],
                 ["run", "--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 0
        assert "usage:" in capsys.readouterr().out


def test_demo_writes_results(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n", "2000", "--sweeps", "60"]) == 0
    text = capsys.readouterr().out
    assert "metropolis T=1.0" in text and "sgd B=0.9" in text
    files = sorted(p.name for p in out.iterdir())
    assert "instance.h5" in files and len([f for f in files if f.startswith("run_")]) == 4
    from mcsgd.driver import RunResult

    res = RunResult.load(out / "run_1_metropolis.h5")
    # Metropolis at T = 1 on c = 10: the paramagnetic energy (SPEC §3) within 0.02
    x = np.exp(-1.0)
    assert abs(res.stationary()["energy"] - 5 * x / (4 + x)) < 0.02


def test_usage_errors_name_the_subcommand_once(capsys):
    """Issue 12 §3: a usage error read ``mcsgd: error: mcsgd generate coloring: ...`` (the
    program named twice); it now reads ``mcsgd: error: generate coloring: ...``."""
    assert main(["generate", "coloring", "--n", "abc"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "mcsgd: error: generate coloring: argument --n: invalid int value: 'abc'"


def test_python_dash_m_mcsgd_is_the_cli():
    """Issue 12 §3: ``python -m mcsgd`` works like the ``mcsgd`` script."""
    import subprocess
    import sys

    import mcsgd

    r = subprocess.run([sys.executable, "-m", "mcsgd", "--version"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"mcsgd {mcsgd.__version__}"
    r = subprocess.run([sys.executable, "-m", "mcsgd", "run"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and r.stderr.startswith("mcsgd: error: run: ")


def test_a_run_does_not_import_scipy_stats_or_optimize():
    """Start-up (issue 13, fixed costs): building the SGD acceptance table imported
    scipy.stats and scipy.optimize (~0.3 s of every ``mcsgd run``) although it needs neither.
    A run, Metropolis or SGD, imports neither now (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, problems\n"
        "from mcsgd.dynamics import SGD, Metropolis\n"
        "from mcsgd.driver import run\n"
        "inst = problems.planted_coloring(500, 5, 5.0, seed=1)\n"
        "run(inst, SGD(0.5), sweeps=3); run(inst, Metropolis(1.0), sweeps=3)\n"
        "print(sorted(m for m in ('scipy.stats', 'scipy.optimize') if m in sys.modules))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_recover_text_output_shows_undefined_times_as_a_dash(capsys):
    """Issue 12 §2: `recover` printed `t_rec median None (q25 None, q75 None)` when fewer than
    half of the runs recovered; an undefined quantile is now a dash (the JSON keeps null)."""
    code = main(["recover", "--q", "5", "--c", "20", "--B", "0.8", "--n", "500",
                 "--instances", "2", "--sweeps", "5", "--seed", "1", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "t_rec median –" in out and "None" not in out


def test_run_layout_option(inst_file, capsys):
    """--layout changes the timing only: same JSON apart from it, no layout in params."""
    from mcsgd.cli._common import LAYOUT_CHOICES
    from mcsgd.driver import LAYOUTS

    assert LAYOUT_CHOICES == LAYOUTS
    base = ["run", str(inst_file), "--dynamics", "metropolis", "--T", "0.5", "--sweeps", "12",
            "--replicas", "3", "--seed", "2", "--threads", "1"]
    objs = {}
    for layout in LAYOUTS:
        assert main([*base, "--layout", layout, "--json"]) == 0
        objs[layout] = json.loads(capsys.readouterr().out)
    assert objs["scalar"]["timing"]["layout"] == "scalar"
    assert objs["lanes"]["timing"]["layout"] == "lanes"
    assert objs["lanes"]["timing"]["lanes"] == 3
    assert objs["auto"]["timing"]["layout"] == "scalar"  # 3 chains: below the crossover
    for o in objs.values():
        assert "ns_per_chain_update" in o["timing"] and "layout" not in o["params"]
        o.pop("timing")
    assert objs["scalar"] == objs["lanes"] == objs["auto"]
    assert main([*base, "--layout", "lanes"]) == 0
    out = capsys.readouterr().out
    assert "layout lanes (3 chains in one pass):" in out and "ns per chain-update" in out


def test_run_bad_layout_names_option_and_values(inst_file, capsys):
    code = main(["run", str(inst_file), "--dynamics", "sgd", "--B", "0.5", "--sweeps", "3",
                 "--layout", "diagonal"])
    err = capsys.readouterr().err
    assert code == 2 and "--layout" in err and "'auto', 'scalar', 'lanes'" in err
    assert len(err.strip().splitlines()) == 1
