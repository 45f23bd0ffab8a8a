"""``mcsgd continuous ...`` shows progress (issue 12 §2): a tqdm bar with ETA over the SGD steps
when stderr is a terminal, stage lines when it is not; with --json stdout stays exactly one JSON
object either way. Subprocesses (a real pty for the terminal case), tiny sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ARGS = ("continuous", "fdr", "--model", "quadratic", "--eta", "0.05", "--batch-size", "4",
        "--seed", "0", "--steps", "3000", "--chains", "2", "--json")


def _env() -> dict:
    return {**os.environ, "NUMBA_NUM_THREADS": "1"}


def _one_json(stdout: str) -> dict:
    lines = stdout.splitlines()
    assert len(lines) == 1, stdout[:500]
    obj = json.loads(lines[0])
    assert isinstance(obj, dict) and "ratio" in obj
    return obj


def test_continuous_pipe_stage_lines_and_one_json(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mcsgd", *ARGS], cwd=tmp_path, env=_env(),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    _one_json(r.stdout)
    lines = r.stderr.splitlines()
    assert lines[0] == "[continuous] fdr: running (seed 0)", r.stderr
    assert lines[-1].startswith("[continuous] fdr: done in "), r.stderr
    assert "\r" not in r.stderr and "%|" not in r.stderr  # no bar in a batch log


def test_continuous_terminal_shows_bar_with_eta(tmp_path):
    pty = pytest.importorskip("pty")
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([sys.executable, "-m", "mcsgd", *ARGS], cwd=tmp_path, env=_env(),
                             stdout=subprocess.PIPE, stderr=slave)
    finally:
        os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    out, _ = p.communicate(timeout=300)
    text = err.decode("utf-8", "replace")
    assert p.returncode == 0, text
    _one_json(out.decode())
    # before: only the two stage lines, no bar
    assert "[continuous] fdr: running (seed 0): 100%|" in text, text[-2000:]
    assert "3000/3000 [" in text and "step/s]" in text  # tqdm's [elapsed<eta, rate]
    assert "[continuous] fdr: done in " in text
