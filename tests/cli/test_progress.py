"""Progress on every long command (issue 12 §2): stage lines on a non-terminal stderr, bars with
ETA on a terminal, kept with --json (stdout one JSON object), silenced by -q, debug lines with -v.

Tiny sizes; stderr is a pipe in every test here (the batch-log form) except the Progress unit
tests, which give it a fake terminal. The process-level contract (stdout, stderr, -q, -v) runs in
subprocesses, the per-command stage lines in-process (main(argv)) to stay fast."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from mcsgd.progress import LOGGER, Progress, configure


def mcsgd(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "mcsgd", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_json(stdout: str) -> dict:
    """stdout is exactly one JSON object (one line)."""
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout[:500]
    obj = json.loads(lines[0])
    assert isinstance(obj, dict)
    return obj


def stage_lines(stderr: str, prefix: str) -> list[str]:
    return [ln for ln in stderr.splitlines() if ln.startswith(f"[{prefix}] ")]


@pytest.fixture(scope="module")
def inst(tmp_path_factory):
    d = tmp_path_factory.mktemp("progress")
    r = mcsgd("generate", "coloring", "--n", "300", "--q", "5", "--c", "20", "--seed", "1",
              "-o", "col.h5", cwd=d)
    assert r.returncode == 0, r.stderr
    return d


# ---- run: --json keeps the stage line; -q silences; -v adds debug lines ----------------------
RUN = ("run", "col.h5", "--dynamics", "sgd", "--B", "0.5", "--sweeps", "20", "--json")


def test_run_json_keeps_progress(inst):
    r = mcsgd(*RUN, cwd=inst)
    assert r.returncode == 0, r.stderr
    one_json(r.stdout)
    assert stage_lines(r.stderr, "run")  # before: --json silenced progress


def test_root_quiet_silences_and_verbose_adds_debug(inst):
    q = mcsgd("-q", *RUN, cwd=inst)
    assert q.returncode == 0, q.stderr
    one_json(q.stdout)
    assert q.stderr == ""
    v = mcsgd("-v", *RUN, cwd=inst)
    assert v.returncode == 0, v.stderr
    one_json(v.stdout)
    assert "[mcsgd] command line: mcsgd -v run" in v.stderr
    assert stage_lines(v.stderr, "run")


def test_quiet_and_verbose_exclude_each_other(inst, capfd):
    from mcsgd.cli import main

    assert main(["-q", "-v", *RUN]) == 2
    assert "not allowed with" in capfd.readouterr().err


# ---- calibrate, recover, bp, demo, continuous: readable stage lines, also with --json -------
# in-process (main(argv); stderr is a pipe under capfd, the batch-log form) to keep them fast
def cli(capfd, cwd, *args: str) -> tuple[int, str, str]:
    from mcsgd.cli import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(list(args))
    finally:
        os.chdir(old)
        configure(0)
    out, err = capfd.readouterr()
    return code, out, err


def test_calibrate_json_stage_lines(inst, capfd):
    args = ("calibrate", "--c", "8", "--n", "300", "--B", "0.5", "--sweeps", "20",
            "--instances", "1", "--replicas", "2", "--mode", "relaxation", "--json",
            "--threads", "1")
    code, out, err = cli(capfd, inst, *args)
    assert code == 0, err
    one_json(out)
    lines = stage_lines(err, "calibrate")
    # before: a dict repr {'dynamics': ..}; every run of a stage advances in one pass
    assert "[calibrate] targets: SGD B = 0.5" in lines
    assert any(ln.startswith("[calibrate] Metropolis grid: ") for ln in lines)
    assert "{'" not in err
    code, out, err = cli(capfd, inst, "-q", *args)
    assert code == 0
    one_json(out)
    assert not stage_lines(err, "calibrate")


def test_recover_json_readable_stage_lines(inst, capfd):
    code, out, err = cli(capfd, inst, "recover", "--c", "20", "--B", "0.8", "--n", "300",
                         "--instances", "1", "--replicas", "2", "--sweeps", "20", "--json")
    assert code == 0, err
    one_json(out)
    lines = stage_lines(err, "recover")
    assert lines and all("{'" not in ln and "None" not in ln for ln in lines), lines
    assert any(ln.startswith("[recover] c = 20, B = 0.8: success ") for ln in lines)
    code, out, err = cli(capfd, inst, "recover", "--c", "20", "--B", "0.8", "--n", "300",
                         "--instances", "1", "--replicas", "2", "--sweeps", "20", "--json",
                         "--quiet")  # the command's own --quiet: as the root -q
    assert code == 0 and not stage_lines(err, "recover")


def test_bp_json_stage_line(inst, capfd):
    code, out, err = cli(capfd, inst, "bp", "col.h5", "--max-iter", "20", "--json")
    assert code == 0, err
    one_json(out)
    assert stage_lines(err, "bp")  # before: nothing at all


def test_demo_stage_lines(inst, capfd):
    code, out, err = cli(capfd, inst, "demo", "--out", "demo", "--n", "200", "--sweeps", "10")
    assert code == 0, err
    assert len(stage_lines(err, "demo")) == 4  # one per dynamics
    assert "results written under" in out


def test_continuous_json_stage_lines(inst, capfd):
    code, out, err = cli(capfd, inst, "continuous", "occupation", "--B", "4", "--eta", "0.05",
                         "--steps", "200", "--chains", "4", "--json")
    assert code == 0, err
    one_json(out)
    assert stage_lines(err, "continuous")


# ---- the Progress API itself ----------------------------------------------------------------
class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def logging_default():
    yield configure(0)
    configure(0)


def test_progress_terminal_bar_has_eta(logging_default):
    s = _Tty()
    p = Progress("x", stream=s, unit="sweep")
    p.stage("stage one", 10)
    for i in range(11):
        p.update(i)
    p.close()
    out = s.getvalue()
    assert "[x] stage one" in out and "10/10" in out and "<" in out  # tqdm's elapsed<eta


def test_progress_batch_log_one_line_per_stage(logging_default):
    s = io.StringIO()
    p = Progress("x", stream=s)
    p.stage("a", 5)
    for i in range(6):
        p(i, 5)  # the driver's progress(done, total)
    p("b")  # an experiment's progress(msg)
    assert s.getvalue().splitlines() == ["[x] a", "[x] b"]


def test_progress_quiet_when_logger_above_info():
    configure(-1)
    try:
        s = io.StringIO()
        p = Progress("x", stream=s)
        p.stage("a", 3)
        p.update(3)
        assert s.getvalue() == "" and p.quiet
    finally:
        configure(0)
    assert LOGGER.level == 20
