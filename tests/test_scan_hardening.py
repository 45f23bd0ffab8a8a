"""Scans under hostile input and faults (issue 10): injection, integrity, full disk, dead and
orphaned workers, unbounded expansion, read-only status, broken pipes, the local SLURM helper."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from mcsgd.cli import main
from mcsgd.errors import ParameterError
from mcsgd.scan import load_spec

from .test_scan_common import write_spec

ROOT = Path(__file__).resolve().parents[1]

# ---- shell injection through [slurm] / [dask] ----------------------------------------------------
HOSTILE = [
    ("slurm", "job_name", '"x\\ntouch /tmp/pwned\\n#"'),
    ("slurm", "job_name", '"a b"'),
    ("slurm", "job_name", '"$(touch pwned)"'),
    ("slurm", "time", '"01:00:00\\ntouch pwned"'),
    ("slurm", "time", '"1 hour"'),
    ("slurm", "time", '"01:99:00"'),
    ("slurm", "mem_per_cpu", '"1G; touch pwned"'),
    ("slurm", "mem_per_cpu", '"lots"'),
    ("slurm", "partition", '"cpu\\n#SBATCH --x"'),
    ("slurm", "partition", '"cpu`id`"'),
    ("slurm", "extra", '["--account=abc\\ntouch pwned"]'),
    ("slurm", "extra", '["--account=a b"]'),
    ("slurm", "extra", '["-A abc"]'),
    ("slurm", "extra", '["--comment=$(id)"]'),
    ("slurm", "template", '"t\\nx"'),
    ("dask", "memory", '"1GB\\ntouch pwned"'),
    ("dask", "memory", '"much"'),
    ("dask", "walltime", '"1 day"'),
    ("dask", "queue", '"q;id"'),
    ("dask", "interface", '"eth0 && id"'),
    ("dask", "scheduler", '"tcp://h:1\\nx"'),
    ("dask", "job_extra", '["--qos=x y"]'),
]


@pytest.mark.parametrize("table,key,value", HOSTILE)
def test_hostile_slurm_and_dask_values_are_refused_exit_2(tmp_path, capsys, table, key, value):
    """Guards the shell injection through [slurm]/[dask] values: each value that is not what
    SLURM accepts (control characters, shell syntax, bad time/memory formats) is refused at
    load time with exit 2 and a message naming the key path."""
    sp = write_spec(tmp_path / "s.toml", tmp_path / "o")
    with open(sp, "a") as f:
        f.write(f"\n[{table}]\n{key} = {value}\n")
    with pytest.raises(ParameterError, match=rf"^{table}\.{key}(\[0\])?: "):
        load_spec(sp)
    assert main(["scan", "plan", str(sp)]) == 2
    assert f"{table}.{key}" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("value", ["30", "90:00", "02:00:00", "2-0", "1-12:30", "7-00:00:00",
                                   "UNLIMITED"])
def test_every_slurm_time_format_is_accepted(tmp_path, value):
    """The time validator accepts SLURM's formats (MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM,
    D-HH:MM:SS, UNLIMITED) -- hardening must not refuse valid settings."""
    sp = write_spec(tmp_path / "s.toml", tmp_path / "o")
    with open(sp, "a") as f:
        f.write(f'\n[slurm]\ntime = "{value}"\nmem_per_cpu = "512"\npartition = "a,b-c"\n'
                'extra = ["--account=abc", "--exclusive", "--gres=gpu:1"]\n'
                f'[dask]\nwalltime = "{value}"\nmemory = "2GiB"\n')
    assert load_spec(sp).slurm["time"] == value


def test_rendered_script_runs_nothing_but_the_scan_command(tmp_path, monkeypatch):
    """Guards the injection at render time: a Spec built without the loader (hostile values)
    is refused by render_sbatch; valid but shell-hostile paths (spaces, $(...), quotes,
    backticks in the output directory, working directory) are quoted, so running the rendered
    script executes exactly one command, the scan, with the paths passed literally."""
    from mcsgd.scan.executors import DEFAULT_TEMPLATE, render_sbatch

    spec = load_spec(write_spec(tmp_path / "s.toml", tmp_path / "o"))
    for key, bad in [("job_name", "x\ntouch /tmp/pwned\n#"), ("time", "1\nid"),
                     ("mem_per_cpu", "1G\nid"), ("partition", "p\nid"),
                     ("extra", ["--a=b\nid"])]:
        hostile = dataclasses.replace(spec, slurm={**spec.slurm, key: bad})
        with pytest.raises(ParameterError, match=f"slurm.{key}"):
            render_sbatch(hostile, 2)
    with pytest.raises(ParameterError, match="^out: "):
        render_sbatch(dataclasses.replace(spec, out=str(tmp_path / "o\ntouch pwned")), 2)
    # valid values, hostile-looking paths: run the script with a stub interpreter
    weird = tmp_path / "w $(touch PWNED) `touch PWNED` 'q' \"d\" ;touch PWNED"
    weird.mkdir()
    out = weird / "out dir"
    stub = weird / "py stub"
    stub.write_text("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > \"$ARGV_FILE\"\n")
    stub.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(stub))
    monkeypatch.chdir(weird)
    tpl = tmp_path / "t.sbatch"
    tpl.write_text(DEFAULT_TEMPLATE)
    spec = dataclasses.replace(spec, out=str(out), slurm={
        **spec.slurm, "template": str(tpl), "partition": "a,b", "extra": ["--account=x"]})
    script = render_sbatch(spec, 3)
    sp = tmp_path / "job.sh"
    sp.write_text(script)
    env = {"PATH": "/usr/bin:/bin", "ARGV_FILE": str(tmp_path / "argv"),
           "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_CPUS_PER_TASK": "2"}
    r = subprocess.run(["bash", str(sp)], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv == ["-m", "mcsgd.cli", "scan", "run", str(out / "scan.toml"), "--out", str(out),
                    "--executor", "local", "--workers", "1", "--threads", "2", "--shard", "1/3"]
    assert not list(tmp_path.rglob("PWNED")) and not list(Path.cwd().rglob("PWNED"))
    # every #SBATCH line is a single directive; no line outside them but the template's own
    sb = [ln for ln in script.splitlines() if ln.startswith("#SBATCH")]
    assert len(sb) == 8 and all(len(ln.split(None, 1)) == 2 for ln in sb)
