"""Table-driven bad input over every command, subcommand and scan-file key (issue 10).

Guards the CLI contract for bad input: every case exits with code 2, prints exactly one line on
stderr that names the offending parameter (``mcsgd: error: ...``), raises no traceback, leaves no
output file (nor temporary file) behind and leaves every input untouched. Inputs must be refused
*before* any heavy work, so the cases run in-process (``mcsgd.cli.main``) and are fast; a few
run as real subprocesses to check the exit code and stderr of the installed entry point.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from mcsgd.cli import main

# ---- inputs shared by every case (module scope: built once) ---------------------------------


def _corrupt(src: Path, dst: Path, fn) -> Path:
    import shutil

    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        fn(f)
    return dst


def _set_attr(name, value):
    def fn(f):
        f.attrs[name] = value
    return fn


def _replace_ds(name, data):
    def fn(f):
        del f[name]
        f[name] = data
    return fn


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from mcsgd import problems
    from mcsgd.experiments.scan.spec import load_spec
    from mcsgd.experiments.scan.store import prepare_dir
    from mcsgd.storage.h5 import atomic_h5

    d = tmp_path_factory.mktemp("inputs")
    inst = d / "inst.h5"
    problems.coloring(100, 5, 3.0, seed=1).save(inst)
    with atomic_h5(d / "run.h5", "run") as f:  # a (minimal) file of another kind
        f.attrs["note"] = "not an instance"
    (d / "foreign.h5").write_text("hello")
    (d / "edges.txt").write_text("0 1\n1 2\n2 0\n")
    (d / "afile").write_text("a regular file used as a directory")
    (d / "empty.txt").write_text("# nothing\n")
    (d / "badline.txt").write_text("0 1\n1 x\n")
    (d / "fourcol.txt").write_text("0 1 1 1\n")
    (d / "big31.txt").write_text(f"0 {2**31}\n")
    (d / "big64.txt").write_text(f"0 {2**70}\n")
    (d / "neg.txt").write_text("0 -1\n")
    (d / "loop.txt").write_text("0 1\n2 2\n")
    (d / "j0.txt").write_text("0 1 0\n")
    ind = problems.load(inst).indices
    _corrupt(inst, d / "c_params.h5", _set_attr("params", "{not json"))
    _corrupt(inst, d / "c_indptr.h5", _replace_ds("indptr", np.array([b"a", b"b"])))
    _corrupt(inst, d / "c_q.h5", _set_attr("q", "five"))
    _corrupt(inst, d / "c_float.h5", _replace_ds("indices", ind.astype(float) + 0.5))
    _corrupt(inst, d / "c_noq.h5", lambda f: f.attrs.__delitem__("q"))
    _corrupt(inst, d / "c_planted.h5", _replace_ds("planted", np.full(100, 1000, np.int64)))
    # a scan directory (manifest + spec copy; no task run) and damaged copies of it
    (d / "s.toml").write_text(_toml(_BASE))
    spec = load_spec(d / "s.toml", out=str(d / "scan"))
    prepare_dir(spec)
    m = json.loads((d / "scan" / "scan.json").read_text())
    for name, edit in (("m_notasks", lambda m: m.pop("tasks")),
                       ("m_noseed", lambda m: m.pop("seed")),
                       ("m_noname", lambda m: m.pop("name")),
                       ("m_noparams", lambda m: m["tasks"][0].pop("params")),
                       ("m_badid", lambda m: m["tasks"][0].__setitem__("id", "0" * 16)),
                       ("m_tasksdict", lambda m: m.__setitem__("tasks", {}))):
        mm = json.loads(json.dumps(m))
        edit(mm)
        (d / name).mkdir()
        (d / name / "scan.json").write_text(json.dumps(mm))
    (d / "m_list").mkdir()
    (d / "m_list" / "scan.json").write_text("[1, 2]")
    (d / "foreign_toml").mkdir()
    (d / "foreign_toml" / "scan.toml").write_text("# the user's own scan file\n")
    (d / "spec_bad.toml").write_text("this is = = not toml")
    (d / "spec_nosec.toml").write_text("[problem]\nq = 5\n")
    (d / "spec_unknown.toml").write_text("[problem]\n[experiment]\nc = [5]\nB = [0.5]\nfoo = 1\n")
    (d / "spec_rec.toml").write_text("[problem]\n[experiment]\nc = [5]\n")
    (d / "spec_tb_n.toml").write_text('[problem]\n[experiment]\nc = [5]\nB = [0.5]\n'
                                      'n = "big"\ninstances = 1\nreplicas = 2\nsweeps = 10\n')
    (d / "spec_tb_c.toml").write_text('[problem]\n[experiment]\nc = [1e12]\nB = [0.5]\n'
                                      'n = 100\ninstances = 1\nreplicas = 2\nsweeps = 10\n')
    (d / "spec_tb_inf.toml").write_text('[problem]\n[experiment]\nc = [5]\nB = [inf]\n'
                                        'n = 100\ninstances = 1\nreplicas = 2\nsweeps = 10\n')
    (d / "spec_rec_n.toml").write_text('[problem]\n[experiment]\nc = [5]\nB = [0.5]\n'
                                       'T = [1.0]\nn = 1.5\ninstances = 1\nreplicas = 2\n'
                                       'sweeps = 10\n')
    (d / "spec_rec_T.toml").write_text('[problem]\n[experiment]\nc = [5]\nB = [0.5]\n'
                                       'T = [-1.0]\nn = 100\ninstances = 1\nreplicas = 2\n'
                                       'sweeps = 10\n')
    (d / "spec_rec_B.toml").write_text('[problem]\n[experiment]\nc = [5]\nB = 0.5\n'
                                       'T = [1.0]\nn = 100\ninstances = 1\nreplicas = 2\n'
                                       'sweeps = 10\n')
    return d


def _snapshot(d: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(d)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(d.rglob("*")) if p.is_file()}


# ---- the table -------------------------------------------------------------------------------
GEN_C = "generate coloring --n 100 --q 5 --c 3 --seed 1"
GEN_I = "generate ising --n 100 --d 3 --seed 1"
RUN_S = "run {in}/inst.h5 --dynamics sgd --B 0.5 --sweeps 3"
RUN_M = "run {in}/inst.h5 --dynamics metropolis --T 1 --sweeps 3"
BP = "bp {in}/inst.h5"
CAL = "calibrate --c 5 --n 100 --B 0.5 --sweeps 10"
REC = "recover --c 5 --n 100 --B 0.5 --sweeps 10"

CLI_CASES: list[tuple[str, str]] = [
    # generate coloring
    (f"{GEN_C} --n 0 -o {{out}}/x.h5".replace("--n 100 ", ""), "n = 0"),
    ("generate coloring --n -5 --q 5 --c 3 --seed 1 -o {out}/x.h5", "n = -5"),
    ("generate coloring --n 1e12 --q 5 --c 3 --seed 1 -o {out}/x.h5", "--n"),
    ("generate coloring --n 1000000000000 --q 5 --c 3 --seed 1 -o {out}/x.h5", "n = "),
    ("generate coloring --n abc --q 5 --c 3 --seed 1 -o {out}/x.h5", "--n"),
    ("generate coloring --n 101 --q 5 --c 3 --seed 1 -o {out}/x.h5", "divisible"),
    ("generate coloring --n 100 --q 1 --c 3 --seed 1 -o {out}/x.h5", "q = 1"),
    ("generate coloring --n 100 --q 128 --c 3 --seed 1 -o {out}/x.h5", "q = 128"),
    ("generate coloring --n 100 --q x --c 3 --seed 1 -o {out}/x.h5", "--q"),
    ("generate coloring --n 100 --q 5 --c -1 --seed 1 -o {out}/x.h5", "c = -1"),
    ("generate coloring --n 100 --q 5 --c inf --seed 1 -o {out}/x.h5", "c = inf"),
    ("generate coloring --n 100 --q 5 --c nan --seed 1 -o {out}/x.h5", "c is NaN"),
    ("generate coloring --n 100 --q 5 --c 1e12 --seed 1 -o {out}/x.h5", "2M"),
    ("generate coloring --n 100 --q 5 --c abc --seed 1 -o {out}/x.h5", "--c"),
    ("generate coloring --n 100 --q 5 --c 3 --seed -1 -o {out}/x.h5", "seed = -1"),
    ("generate coloring --n 100 --q 5 --c 3 --seed x -o {out}/x.h5", "--seed"),
    ("generate coloring --n 100 --q 5 --c 3 --seed 1 --graph bogus -o {out}/x.h5", "--graph"),
    ("generate coloring --n 100 --q 5 --c 2.5 --seed 1 --graph regular -o {out}/x.h5",
     "c (degree"),
    ("generate coloring --n 100 --q 5 --c 100 --seed 1 --graph regular -o {out}/x.h5",
     "c (degree"),
    ("generate coloring --n 105 --q 5 --c 3 --seed 1 --graph regular -o {out}/x.h5", "n*c"),
    ("generate coloring --n 10 --q 5 --c 9 --seed 1 --graph regular -o {out}/x.h5",
     "c = 9"),
    ("generate coloring --n 100 --q 5 --c 3 --seed 1 --random --planted -o {out}/x.h5",
     "--planted"),
    ("generate coloring --n 100 --q 5 --c 3 --seed 1", "-o"),
    ("generate coloring --q 5 --c 3 --seed 1 -o {out}/x.h5", "--n"),
    (f"{GEN_C} -o {{out}}/x.txt", "-o"),
    (f"{GEN_C} -o {{out}}", "is a directory"),
    (f"{GEN_C} -o {{in}}/run.h5", "--force"),
    (f"{GEN_C} -o {{in}}/foreign.h5", "--force"),
    (f"{GEN_C} -o {{in}}/edges.txt", "-o"),
    (f"{GEN_C} -o {{in}}/scan/scan.json", "bookkeeping"),
    (f"{GEN_C} -o {{in}}/scan/tasks/x.h5", "bookkeeping"),
    (f"{GEN_C} -o {{in}}/afile/x.h5", "not a directory"),
    (f"{GEN_C} -o ''", "-o"),
    # generate ising
    ("generate ising --n 1 --d 3 --seed 1 -o {out}/x.h5", "n = 1"),
    ("generate ising --n 1000000000000 --d 3 --seed 1 -o {out}/x.h5", "n = "),
    ("generate ising --n 100 --d -1 --seed 1 -o {out}/x.h5", "d = -1"),
    ("generate ising --n 100 --d inf --seed 1 -o {out}/x.h5", "d = inf"),
    ("generate ising --n 100 --d 2.5 --seed 1 -o {out}/x.h5", "d (degree"),
    ("generate ising --n 100 --d 100 --seed 1 -o {out}/x.h5", "d (degree"),
    ("generate ising --n 1000 --d 1000000000 --seed 1 -o {out}/x.h5", "d (degree"),
    ("generate ising --n 1000 --d 1000000000 --graph er --seed 1 -o {out}/x.h5", "2M"),
    ("generate ising --n 11 --d 3 --seed 1 -o {out}/x.h5", "n*d"),
    ("generate ising --n 100 --d 3 --noise 1.5 --seed 1 -o {out}/x.h5", "noise = 1.5"),
    ("generate ising --n 100 --d 3 --noise -0.1 --seed 1 -o {out}/x.h5", "noise = -0.1"),
    ("generate ising --n 100 --d 3 --noise nan --seed 1 -o {out}/x.h5", "noise is NaN"),
    ("generate ising --n 100 --d 3 --noise inf --seed 1 -o {out}/x.h5", "noise = inf"),
    ("generate ising --n 100 --d 3 --graph bogus --seed 1 -o {out}/x.h5", "--graph"),
    ("generate ising --n 100 --d 3 --seed -2 -o {out}/x.h5", "seed = -2"),
    (f"{GEN_I} -o {{out}}/x.json", "-o"),
    (f"{GEN_I} -o {{in}}/foreign.h5", "--force"),
    (f"{GEN_I} -o {{in}}/scan/scan.toml", "bookkeeping"),
    ("generate ising --n 100 --d 3 --seed 1 --planted --spin-glass -o {out}/x.h5",
     "--spin-glass"),
    ("generate bogus --n 3", "bogus"),
    ("generate", "KIND"),
    # generate from-edges
    ("generate from-edges {in}/missing.txt -o {out}/x.h5", "does not exist"),
    ("generate from-edges {in} -o {out}/x.h5", "not a regular file"),
    ("generate from-edges /dev/zero -o {out}/x.h5", "not a regular file"),
    ("generate from-edges {in}/empty.txt -o {out}/x.h5", "no edges"),
    ("generate from-edges {in}/badline.txt -o {out}/x.h5", "line 2"),
    ("generate from-edges {in}/fourcol.txt -o {out}/x.h5", "line 1"),
    ("generate from-edges {in}/big31.txt -o {out}/x.h5", "node ids"),
    ("generate from-edges {in}/big64.txt -o {out}/x.h5", "node ids"),
    ("generate from-edges {in}/neg.txt -o {out}/x.h5", "node ids"),
    ("generate from-edges {in}/loop.txt -o {out}/x.h5", "self-loop"),
    ("generate from-edges {in}/j0.txt --problem ising -o {out}/x.h5", "coupling J"),
    ("generate from-edges {in}/edges.txt --q 1 -o {out}/x.h5", "q = 1"),
    ("generate from-edges {in}/edges.txt --q 200 -o {out}/x.h5", "q = 200"),
    ("generate from-edges {in}/edges.txt --problem bogus -o {out}/x.h5", "--problem"),
    ("generate from-edges {in}/edges.txt -o {in}/edges.txt", "is an input"),
    ("generate from-edges {in}/edges.txt -o {out}/x.txt", "-o"),
    ("generate from-edges {in}/edges.txt -o {in}/run.h5", "--force"),
    ("generate from-edges {in}/edges.txt", "-o"),
    # run
    ("run {in}/inst.h5 --B 0.5 --sweeps 3", "--dynamics"),
    ("run {in}/inst.h5 --dynamics bogus --sweeps 3", "--dynamics"),
    ("run {in}/inst.h5 --dynamics metropolis --sweeps 3", "--T is required"),
    ("run {in}/inst.h5 --dynamics sgd --sweeps 3", "--B is required"),
    ("run {in}/inst.h5 --dynamics metropolis --T 1 --B 0.5 --sweeps 3", "--B applies"),
    ("run {in}/inst.h5 --dynamics sgd --T 1 --B 0.5 --sweeps 3", "--T applies"),
    ("run {in}/inst.h5 --dynamics metropolis --T -1 --sweeps 3", "T = -1"),
    ("run {in}/inst.h5 --dynamics metropolis --T inf --sweeps 3", "T = inf"),
    ("run {in}/inst.h5 --dynamics metropolis --T nan --sweeps 3", "T is NaN"),
    ("run {in}/inst.h5 --dynamics metropolis --T x --sweeps 3", "--T"),
    ("run {in}/inst.h5 --dynamics sgd --B 0 --sweeps 3", "B = 0"),
    ("run {in}/inst.h5 --dynamics sgd --B 1.5 --sweeps 3", "B = 1.5"),
    ("run {in}/inst.h5 --dynamics sgd --B -0.5 --sweeps 3", "B = -0.5"),
    ("run {in}/inst.h5 --dynamics sgd --B inf --sweeps 3", "B = inf"),
    ("run {in}/inst.h5 --dynamics sgd --B nan --sweeps 3", "B is NaN"),
    (f"{RUN_S} --tau 0", "tau = 0"),
    (f"{RUN_S} --tau -1", "tau = -1"),
    (f"{RUN_S} --order bogus", "--order"),
    (f"{RUN_M} --rule bogus", "--rule"),
    (f"{RUN_S} --flags bogus", "--flags"),
    (f"{RUN_S} --batch bogus", "--batch"),
    (f"{RUN_S} --method bogus", "--method"),
    (f"{RUN_S} --batch fixed", "batch"),
    ("run {in}/inst.h5 --dynamics sgd --B 0.5 --sweeps 0", "sweeps = 0"),
    ("run {in}/inst.h5 --dynamics sgd --B 0.5 --sweeps -3", "sweeps = -3"),
    ("run {in}/inst.h5 --dynamics sgd --B 0.5 --sweeps 1.5", "--sweeps"),
    ("run {in}/inst.h5 --dynamics sgd --B 0.5", "--sweeps"),
    (f"{RUN_S} --replicas 0", "replicas = 0"),
    (f"{RUN_S} --replicas 1e9", "--replicas"),
    (f"{RUN_S} --replicas 1000000000", "memory"),
    (f"{RUN_M} --replicas 100000000000", "memory"),
    (f"{RUN_S} --seed -1", "seed = -1"),
    (f"{RUN_S} --init bogus", "--init"),
    (f"{RUN_S} --grid bogus", "--grid"),
    (f"{RUN_S} --grid-points 0", "grid-points = 0"),
    (f"{RUN_S} --grid-points 1000000000", "memory"),
    (f"{RUN_S} --window 1", "window = 1"),
    (f"{RUN_S} --window -0.1", "window = -0.1"),
    (f"{RUN_S} --window inf", "window = inf"),
    (f"{RUN_S} --window nan", "window is NaN"),
    (f"{RUN_S} --threads 0", "threads = 0"),
    (f"{RUN_S} --bogus", "--bogus"),
    ("run {in}/missing.h5 --dynamics sgd --B 0.5 --sweeps 3", "does not exist"),
    ("run {in}/foreign.h5 --dynamics sgd --B 0.5 --sweeps 3", "not a readable"),
    ("run {in}/run.h5 --dynamics sgd --B 0.5 --sweeps 3", "'run'"),
    ("run {in}/edges.txt --dynamics sgd --B 0.5 --sweeps 3", "not a readable"),
    ("run {in} --dynamics sgd --B 0.5 --sweeps 3", "not a readable"),
    ("run {in}/c_params.h5 --dynamics sgd --B 0.5 --sweeps 3", "params"),
    ("run {in}/c_indptr.h5 --dynamics sgd --B 0.5 --sweeps 3", "indptr"),
    ("run {in}/c_q.h5 --dynamics sgd --B 0.5 --sweeps 3", "'q'"),
    ("run {in}/c_float.h5 --dynamics sgd --B 0.5 --sweeps 3", "indices"),
    ("run {in}/c_noq.h5 --dynamics sgd --B 0.5 --sweeps 3", "'q'"),
    ("run {in}/c_planted.h5 --dynamics sgd --B 0.5 --sweeps 3", "planted"),
    (f"{RUN_S} -o {{in}}/inst.h5", "is an input"),
    (f"{RUN_S} -o {{in}}/../inputs0/inst.h5".replace("inputs0", "INPUTNAME"), "is an input"),
    (f"{RUN_S} -o {{out}}/x.png", "-o"),
    (f"{RUN_S} -o {{out}}", "is a directory"),
    (f"{RUN_S} -o {{in}}/foreign.h5", "--force"),
    (f"{RUN_S} -o {{in}}/c_q.h5", "--force"),
    (f"{RUN_S} -o {{in}}/scan/tasks/0000000000000000.h5", "bookkeeping"),
    (f"{RUN_S} -o {{in}}/afile/x.h5", "not a directory"),
    ("run", "instance"),
    # demo
    ("demo --sweeps 0 --out {out}/dm", "sweeps = 0"),
    ("demo --sweeps -1 --out {out}/dm", "sweeps = -1"),
    ("demo --n 0 --out {out}/dm", "n = 0"),
    ("demo --n 7 --out {out}/dm", "divisible"),
    ("demo --n 1000000000000 --out {out}/dm", "n = "),
    ("demo --c -1 --out {out}/dm", "c = -1"),
    ("demo --c inf --out {out}/dm", "c = inf"),
    ("demo --c 1e12 --out {out}/dm", "2M"),
    ("demo --seed -1 --out {out}/dm", "seed = -1"),
    ("demo --out {in}/afile", "not a directory"),
    ("demo --out {in}/scan/tasks", "bookkeeping"),
    ("demo --out {in}/afile/sub", "not a directory"),
    ("demo --sweeps x --out {out}/dm", "--sweeps"),
    # bp
    (f"{BP} --T -1", "T = -1"),
    (f"{BP} --T inf", "T = inf"),
    (f"{BP} --T nan", "T is NaN"),
    (f"{BP} --damping 1", "damping = 1"),
    (f"{BP} --damping -0.1", "damping = -0.1"),
    (f"{BP} --perturbation 1", "perturbation = 1"),
    (f"{BP} --perturbation inf", "perturbation = inf"),
    (f"{BP} --max-iter 0", "max-iter = 0"),
    (f"{BP} --tol 0", "tol = 0"),
    (f"{BP} --tol inf", "tol = inf"),
    (f"{BP} --seed -1", "seed = -1"),
    (f"{BP} --init bogus", "--init"),
    (f"{BP} --schedule bogus", "--schedule"),
    (f"{BP} -o {{in}}/inst.h5", "is an input"),
    (f"{BP} -o {{out}}/x.txt", "-o"),
    (f"{BP} -o {{in}}/run.h5", "--force"),
    (f"{BP} -o {{in}}/scan/scan.json", "bookkeeping"),
    ("bp {in}/missing.h5", "does not exist"),
    ("bp {in}/run.h5", "'run'"),
    ("bp {in}/c_params.h5", "params"),
    # calibrate
    ("calibrate --n 100 --B 0.5", "--c"),
    ("calibrate --c 5 --n 100", "--B"),
    (f"{CAL} --c -1", "c = -1"),
    (f"{CAL} --c inf", "c = inf"),
    (f"{CAL} --c nan", "c is NaN"),
    (f"{CAL} --n 1", "n = 1"),
    (f"{CAL} --n 1000000000000", "n = "),
    (f"{CAL} --n 101", "divisible"),
    (f"{CAL} --q 1", "q = 1"),
    (f"{CAL} --B 0", "B = 0"),
    (f"{CAL} --B 1.5", "B = 1.5"),
    (f"{CAL} --B inf", "B = inf"),
    (f"{CAL} --B nan", "B is NaN"),
    (f"{CAL} --B a,b", "--B"),
    (f"{CAL} --B ,", "--B"),
    (f"{CAL} --window 0", "window = 0"),
    (f"{CAL} --window 1", "window = 1"),
    (f"{CAL} --instances 0", "instances = 0"),
    (f"{CAL} --replicas 0", "replicas = 0"),
    (f"{CAL} --instances 1 --replicas 1", "instances x replicas"),
    (f"{CAL} --replicas 1000000000", "memory"),
    (f"{CAL} --instances 1000000000", "memory"),
    (f"{CAL} --sweeps 3", "sweeps = 3"),
    (f"{CAL} --seed -1", "seed = -1"),
    (f"{CAL} --threads 0", "threads = 0"),
    (f"{CAL} --T-grid -1", "T-grid = -1"),
    (f"{CAL} --T-grid 0.5,-0.1", "T-grid = -0.1"),
    (f"{CAL} --T-grid 0", "T-grid = 0"),
    (f"{CAL} --T-grid inf", "T-grid = inf"),
    (f"{CAL} --T-grid ,", "--T-grid"),
    (f"{CAL} --mode bogus", "--mode"),
    (f"{CAL} --problem bogus", "--problem"),
    (f"{CAL} --graph bogus", "--graph"),
    (f"{CAL} --graph regular --c 2.5", "c (degree"),
    (f"{CAL} --problem ising --noise 2", "noise = 2"),
    (f"{CAL} --problem ising --c 2.5", "d (degree"),
    (f"{CAL} -o {{out}}/x.txt", "-o"),
    (f"{CAL} -o {{in}}/foreign.h5", "--force"),
    (f"{CAL} -o {{in}}/scan/scan.json", "bookkeeping"),
    (f"{CAL} -o {{in}}/afile/x.h5", "not a directory"),
    (f"{CAL} --plot {{out}}/x.h5", "--plot"),
    (f"{CAL} --plot {{out}}", "is a directory"),
    (f"{CAL} --plot {{in}}/afile/x.png", "not a directory"),
    (f"{CAL} --plot {{in}}/scan/tasks/x.png", "bookkeeping"),
    # reproduce
    ("reproduce tb-curve --spec {in}/missing.toml", "does not exist"),
    ("reproduce tb-curve --spec {in}/spec_bad.toml", "spec_bad.toml: invalid TOML"),
    ("reproduce tb-curve --spec {in}/spec_nosec.toml", "spec_nosec.toml: experiment: missing"),
    ("reproduce tb-curve --spec {in}/spec_unknown.toml", "experiment.foo: unknown key"),
    ("reproduce tb-curve --c-index 99 --out {out}/tb", "c-index = 99"),
    ("reproduce tb-curve --out {in}/afile", "not a directory"),
    ("reproduce tb-curve --out {in}/scan/tasks", "bookkeeping"),
    ("reproduce recovery --spec {in}/missing.toml", "does not exist"),
    ("reproduce recovery --spec {in}/spec_bad.toml", "spec_bad.toml: invalid TOML"),
    ("reproduce recovery --spec {in}/spec_rec.toml", "spec_rec.toml: experiment.B: missing"),
    ("reproduce recovery --out {in}/afile", "not a directory"),
    ("reproduce tb-curve --spec {in}/spec_tb_n.toml --out {out}/tb",
     "spec_tb_n.toml: experiment.n: 'big' is not a number"),
    ("reproduce tb-curve --spec {in}/spec_tb_c.toml --out {out}/tb",
     "experiment.c[0]: the colouring instance would have"),
    ("reproduce tb-curve --spec {in}/spec_tb_inf.toml --out {out}/tb",
     "experiment.B[0]: inf is not finite"),
    ("reproduce recovery --spec {in}/spec_rec_n.toml --out {out}/r",
     "experiment.n: 1.5 must be an integer"),
    ("reproduce recovery --spec {in}/spec_rec_T.toml --out {out}/r",
     "experiment.T[0]: -1 is not in [0, inf)"),
    ("reproduce recovery --spec {in}/spec_rec_B.toml --out {out}/r",
     "experiment.B: 0.5 must be a non-empty array"),
    ("reproduce bogus", "bogus"),
    # recover
    ("recover --n 100 --B 0.5", "--c"),
    ("recover --c 5 --n 100", "one of the arguments"),
    (f"{REC} --T 1", "not allowed with"),
    (f"{REC} --q 1", "q = 1"),
    (f"{REC} --n 1", "n = 1"),
    (f"{REC} --n 101", "divisible"),
    (f"{REC} --n 1000000000000", "n = "),
    (f"{REC} --c -1", "c = -1"),
    (f"{REC} --c inf", "c = inf"),
    (f"{REC} --c 1e12", "2M"),
    (f"{REC} --B 0", "B = 0"),
    (f"{REC} --B 1.5", "B = 1.5"),
    (f"{REC} --B inf", "B = inf"),
    ("recover --c 5 --n 100 --T -1 --sweeps 10", "T = -1"),
    ("recover --c 5 --n 100 --T inf --sweeps 10", "T = inf"),
    ("recover --c 5 --n 100 --anneal-T 1,2,3 --sweeps 10", "START,STOP"),
    ("recover --c 5 --n 100 --anneal-T=-1,0.5 --sweeps 10", "anneal T"),
    ("recover --c 5 --n 100 --anneal-B 0,0.5 --sweeps 10", "anneal B"),
    (f"{REC} --instances 0", "instances = 0"),
    (f"{REC} --replicas 0", "replicas = 0"),
    (f"{REC} --replicas 1000000000", "memory"),
    (f"{REC} --sweeps 0", "sweeps = 0"),
    (f"{REC} --threshold 0", "threshold = 0"),
    (f"{REC} --threshold 1.5", "threshold = 1.5"),
    (f"{REC} --seed -1", "seed = -1"),
    (f"{REC} --check-every 0", "check-every = 0"),
    (f"{REC} --quench -1", "quench = -1"),
    (f"{REC} --graph bogus", "--graph"),
    (f"{REC} -o {{out}}/x.txt", "-o"),
    (f"{REC} -o {{in}}/run.h5", "--force"),
    (f"{REC} --plot {{out}}/x.h5", "--plot"),
    (f"{REC} --plot {{in}}/afile/x.png", "not a directory"),
    # scan
    ("scan plan {in}/missing.toml", "does not exist"),
    ("scan plan {in}/spec_bad.toml", "invalid TOML"),
    ("scan plan", "spec"),
    ("scan bogus", "bogus"),
    ("scan", "SUBCOMMAND"),
    ("scan run {in}/missing.toml --out {out}/o", "does not exist"),
    ("scan run {in}/s.toml --out {out}/o --workers 0", "--workers = 0"),
    ("scan run {in}/s.toml --out {out}/o --threads 0", "--threads = 0"),
    ("scan run {in}/s.toml --out {out}/o --shard 3/2", "--shard"),
    ("scan run {in}/s.toml --out {out}/o --shard x", "--shard"),
    ("scan run {in}/s.toml --out {out}/o --shard 0/0", "--shard"),
    ("scan run {in}/s.toml --out {out}/o --scheduler tcp://x:1", "--scheduler"),
    ("scan run {in}/s.toml --out {out}/o --wait", "--wait"),
    ("scan run {in}/s.toml --out {out}/o --executor bogus", "--executor"),
    ("scan run {in}/s.toml --out {in}/afile", "not a directory"),
    ("scan run {in}/s.toml --out {in}/foreign_toml", "scan.toml"),
    ("scan run {in}/s.toml --out {in}/m_noseed", "'seed'"),
    ("scan run {in}/s.toml --out {in}/scan/tasks", "bookkeeping"),
    ("scan status {in}/missing", "not a scan output directory"),
    ("scan status {in}", "not a scan output directory"),
    ("scan status {in}/m_notasks", "'tasks'"),
    ("scan status {in}/m_noseed", "'seed'"),
    ("scan status {in}/m_noname", "'name'"),
    ("scan status {in}/m_noparams", "'params'"),
    ("scan status {in}/m_badid", "does not match"),
    ("scan status {in}/m_tasksdict", "'tasks'"),
    ("scan status {in}/m_list", "manifest"),
    ("scan status", "dir"),
    ("scan collect {in}/m_notasks -o {out}/s.h5", "'tasks'"),
    ("scan collect {in}/m_noparams --json", "'params'"),
    ("scan collect {in} -o {out}/s.h5", "not a scan output directory"),
    ("scan collect {in}/scan -o {in}/scan/scan.json", "bookkeeping"),
    ("scan collect {in}/scan -o {in}/scan/scan.toml", "bookkeeping"),
    ("scan collect {in}/scan -o {in}/scan/tasks/0123456789abcdef.h5", "bookkeeping"),
    ("scan collect {in}/scan -o {out}/s.txt", "-o"),
    ("scan collect {in}/scan -o {out}", "is a directory"),
    ("scan collect {in}/scan -o {in}/foreign.h5", "--force"),
    ("scan collect {in}/scan -o {in}/afile/s.h5", "not a directory"),
    ("scan example extra", "extra"),
    # options added on main (seed namespaces, planting, task limit, template)
    (f"{GEN_C} --instance -1 -o {{out}}/x.h5", "instance = -1"),
    (f"{GEN_C} --instance 4294967296 -o {{out}}/x.h5", "instance = 4294967296"),
    (f"{GEN_I} --instance -1 -o {{out}}/x.h5", "instance = -1"),
    ("generate ising --n 100 --d 3 --seed 18446744073709551616 -o {out}/x.h5",
     "seed = 18446744073709551616"),
    (f"{GEN_C} --planting bogus -o {{out}}/x.h5", "--planting"),
    (f"{CAL} --planting bogus", "--planting"),
    (f"{REC} --planting bogus", "--planting"),
    (f"{REC} --shuffle --planting index", "--shuffle"),
    ("scan template extra", "extra"),
    ("scan plan {in}/s.toml --max-tasks 0", "--max-tasks = 0"),
    ("scan run {in}/s.toml --out {out}/o --max-tasks 0", "--max-tasks = 0"),
]

# continuous: every command with the same families of bad values
_CONT = {
    "fdr": "continuous fdr --model quadratic --eta 0.05 --batch-size 4 --steps 100 --chains 2",
    "adaptive": "continuous adaptive --eta 0.05 --batch-size 4 --steps 100 --chains 2",
    "linear-fdt": "continuous linear-fdt --eta 0.05 --batch-size 4 --steps 100 --chains 2",
    "ivf": "continuous ivf --noise isotropic --steps 100 --chains 2",
    "escape": "continuous escape --batch-size 4 --eta 0.1 --chains 2",
    "occupation": "continuous occupation --batch-size 4 --eta 0.1 --steps 100 --chains 2",
    "temperature": "continuous temperature --model quadratic --batch-size 4 --eta 0.1 --steps 100 "
                   "--chains 2",
}
for _name, _base in _CONT.items():
    CLI_CASES += [
        (f"{_base} --eta 0", "eta = 0"),
        (f"{_base} --eta -1", "eta = -1"),
        (f"{_base} --eta inf", "eta = inf"),
        (f"{_base} --eta nan", "eta"),
        (f"{_base} --batch-size 0", "B = 0"),
        (f"{_base} --chains 0", "chains = 0"),
        (f"{_base} --chains 1000000000", "memory"),
        (f"{_base} --momentum 1", "momentum = 1"),
        (f"{_base} --seed -1", "seed = -1"),
        (f"{_base} -o {{out}}/x.png", "-o"),
        (f"{_base} -o {{in}}/run.h5", "--force"),
        (f"{_base} -o {{in}}/scan/scan.json", "bookkeeping"),
        (f"{_base} --plot {{out}}/x.h5", "--plot"),
        (f"{_base} --plot {{in}}/afile/x.png", "not a directory"),
    ]
    if _name not in ("escape", "occupation"):
        CLI_CASES += [(f"{_base} --steps 0", "steps = 0"),
                      (f"{_base} --weight-decay -1", "weight_decay = -1"),
                      (f"{_base} --weight-decay inf", "weight_decay = inf")]
CLI_CASES += [
    ("continuous fdr --model bogus --eta 0.05 --batch-size 4", "model = 'bogus'"),
    ("continuous fdr --model quadratic --eta 0.05 --batch-size 4 --noise bogus", "noise = 'bogus'"),
    ("continuous fdr --model quadratic --eta 0.05 --batch-size 4 --eta-scan 0.1,-1",
     "eta_scan = -1"),
    ("continuous fdr --model quadratic --eta 0.05 --batch-size 4 --hmin 0", "hmin = 0"),
    ("continuous fdr --model quadratic --eta 0.05 --batch-size 4 --dim 0", "dim = 0"),
    ("continuous fdr --model quadratic --eta 0.05 --batch-size 4 --dim 1000000000000", "memory"),
    ("continuous fdr --model linreg --eta 0.05 --batch-size 4 --n-data 1000000000000", "memory"),
    ("continuous fdr --model linreg --eta 0.05 --batch-size 4 --data bogus", "--data"),
    ("continuous adaptive --eta 0.05 --batch-size 4 --X 0", "X = 0"),
    ("continuous adaptive --eta 0.05 --batch-size 4 --Y 1", "Y = 1"),
    ("continuous linear-fdt --eta 0.05 --batch-size 4 --grid-batch-size 0,2", "grid_B = 0"),
    ("continuous linear-fdt --eta 0.05 --batch-size 4 --grid-eta 0.1,inf", "grid_eta = inf"),
    ("continuous ivf --noise bogus", "noise = 'bogus'"),
    ("continuous ivf --noise isotropic --level 1", "level = 1"),
    ("continuous escape --batch-size 0.5 --eta 0.1", "--batch-size"),
    ("continuous escape --batch-size 4 --eta 0.1 --depth 0", "depth = 0"),
    ("continuous escape --batch-size 4 --eta 0.1 --s inf", "s = inf"),
    ("continuous escape --batch-size 4 --eta 0.1 --max-steps 0", "max_steps = 0"),
    ("continuous occupation --batch-size 4 --eta 0.1 --kappa -1", "kappa = -1"),
    ("continuous temperature --model bogus --batch-size 4 --eta 0.1", "model = 'bogus'"),
    ("continuous bogus", "bogus"),
]


@pytest.mark.parametrize("argv, message", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_command_line(argv, message, inputs, tmp_path, capsys, monkeypatch):
    """Exit code 2, one line naming the parameter, no traceback, nothing written anywhere."""
    out = tmp_path / "outdir"
    out.mkdir()
    monkeypatch.chdir(tmp_path)
    args = [a.format(**{"in": str(inputs), "out": str(out)}).replace(
        "INPUTNAME", inputs.name) for a in shlex.split(argv)]
    before = _snapshot(inputs)
    code = main(args)
    cap = capsys.readouterr()
    err = cap.err
    assert code == 2, (code, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mcsgd"), err
    assert "error" in lines[0] and "Traceback" not in err
    assert message in err, err
    assert not list(out.iterdir()), list(out.iterdir())  # nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outdir"]
    assert _snapshot(inputs) == before  # inputs untouched


# ---- every scan-file key ---------------------------------------------------------------------
_BASE = {
    "": {"seed": 1, "out": "o", "max_tasks": 2},
    "instance": {"problem": "coloring", "n": 50, "q": 5, "c": 3.0},
    "run": {"sweeps": 5, "replicas": 2},
    "dynamics": [{"dynamics": "sgd", "B": 0.5}],
}
_CBASE = {
    "": {"seed": 1, "out": "o", "experiment": "continuous"},
    "continuous": [{"experiment": "fdr", "eta": 0.05, "B": 4, "steps": 100, "chains": 2}],
}
_DEL = object()


def _val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, (int,)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_val(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_val(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def _toml(d: dict) -> str:
    lines = [f"{k} = {_val(v)}" for k, v in d.get("", {}).items()]
    for sec, body in d.items():
        if sec == "":
            continue
        if isinstance(body, list):
            for t in body:
                lines.append(f"[[{sec}]]")
                lines += [f"{k} = {_val(v)}" for k, v in t.items()]
        else:
            lines.append(f"[{sec}]")
            lines += [f"{k} = {_val(v)}" for k, v in body.items()]
    return "\n".join(lines) + "\n"


def _edit(base: dict, path: str, value) -> dict:
    d = json.loads(json.dumps(base))
    sec, _, key = path.rpartition(".")
    if sec.endswith("]"):
        name, idx = sec[:-1].split("[")
        table = d.setdefault(name, [{}])[int(idx)]
    else:
        table = d.setdefault(sec, {})
    if value is _DEL:
        table.pop(key, None)
    else:
        table[key] = value
    return d


INF, NAN = float("inf"), float("nan")
# (dotted key ("" section for top-level keys), value, expected message part); discrete base
SCAN_CASES: list[tuple[str, object, str]] = [
    (".name", 5, "name"), (".seed", -1, "seed"), (".seed", 1.5, "seed"), (".seed", "x", "seed"),
    (".seed", INF, "seed"), (".seed", 2**63, "seed"),
    (".instances", 0, "instances"), (".instances", 1.5, "instances"),
    (".instances", INF, "instances"), (".out", 5, "out"), (".out", _DEL, "out"),
    (".experiment", "bogus", "experiment"), (".bogus", 1, "bogus"),
    (".continuous", [1], "continuous"),
    (".max_tasks", 0, "max_tasks"), (".max_tasks", 1.5, "max_tasks"),
    (".max_tasks", INF, "max_tasks"), ("dynamics[0].B", [0.5, 0.6, 0.7], "max_tasks"),
    ("instance.problem", "bogus", "instance.problem"), ("instance.n", 0, "instance.n"),
    ("instance.n", 1.5, "instance.n"), ("instance.n", 1e12, "instance.n"),
    ("instance.n", 10**12, "instance.n"), ("instance.n", "50", "instance.n"),
    ("instance.n", 51, "instance.n"), ("instance.n", _DEL, "instance.n"),
    ("instance.q", 1, "instance.q"), ("instance.q", 128, "instance.q"),
    ("instance.q", 2.5, "instance.q"), ("instance.c", -1.0, "instance.c"),
    ("instance.c", INF, "instance.c"), ("instance.c", NAN, "instance.c"),
    ("instance.c", 1e12, "reduce n or c"), ("instance.c", "3", "instance.c"),
    ("instance.c", _DEL, "instance.c"), ("instance.c", [], "instance.c"),
    ("instance.planted", "yes", "instance.planted"), ("instance.graph", "bogus", "instance.graph"),
    ("instance.shuffle", 1, "instance.shuffle"), ("instance.bogus", 1, "instance.bogus"),
    ("instance.d", 3, "instance.d"),
    ("instance.zip", ["n", "q"], "instance.n: is zipped"), ("instance.zip", 5, "instance.zip"),
    ("instance.zip", ["bogus"], "instance.zip"),
    ("run.sweeps", 0, "run.sweeps"), ("run.sweeps", 1.5, "run.sweeps"),
    ("run.sweeps", INF, "run.sweeps"), ("run.sweeps", "5", "run.sweeps"),
    ("run.replicas", 0, "run.replicas"), ("run.replicas", 10**9, "run.replicas"),
    ("run.replicas", 1e9, "run.replicas"), ("run.replicas", INF, "run.replicas"),
    ("run.init", "bogus", "run.init"), ("run.grid", "bogus", "run.grid"),
    ("run.grid_points", 0, "run.grid_points"), ("run.grid_points", 10**9, "run.grid_points"),
    ("run.window", 1.0, "run.window"), ("run.window", -0.1, "run.window"),
    ("run.window", NAN, "run.window"), ("run.window", INF, "run.window"),
    ("run.bogus", 1, "run.bogus"), ("run.zip", ["sweeps"], "run.sweeps"),
    ("dynamics[0].dynamics", "bogus", "dynamics[0].dynamics"),
    ("dynamics[0].dynamics", _DEL, "dynamics[0].dynamics"),
    ("dynamics[0].B", 0.0, "dynamics[0].B"), ("dynamics[0].B", 1.5, "dynamics[0].B"),
    ("dynamics[0].B", INF, "dynamics[0].B"), ("dynamics[0].B", NAN, "dynamics[0].B"),
    ("dynamics[0].B", "0.5", "dynamics[0].B"), ("dynamics[0].B", _DEL, "dynamics[0].B"),
    ("dynamics[0].B", [], "dynamics[0].B"), ("dynamics[0].B", [0.5, 0.5], "duplicate"),
    ("dynamics[0].tau", 0, "dynamics[0].tau"), ("dynamics[0].tau", 1.5, "dynamics[0].tau"),
    ("dynamics[0].flags", "bogus", "dynamics[0].flags"),
    ("dynamics[0].batch", "bogus", "dynamics[0].batch"),
    ("dynamics[0].batch", "fixed", "dynamics[0]"),
    ("dynamics[0].method", "bogus", "dynamics[0].method"),
    ("dynamics[0].order", "bogus", "dynamics[0].order"),
    ("dynamics[0].T", 1.0, "dynamics[0].T"), ("dynamics[0].bogus", 1, "dynamics[0].bogus"),
    ("dynamics[0].sweeps", 0, "dynamics[0].sweeps"),
    ("dynamics[0].replicas", 10**9, "dynamics[0].replicas"),
    ("dynamics[0].init", "bogus", "dynamics[0].init"),
    ("dynamics[0].zip", ["B"], "dynamics[0].B"),
    ("dynamics[0].zip", [["B"], ["B"]], "dynamics[0].B: is zipped"),
    ("execution.workers", -1, "execution.workers"),
    ("execution.workers", 1.5, "execution.workers"),
    ("execution.threads", -1, "execution.threads"),
    ("execution.checkpoint_seconds", -1, "execution.checkpoint_seconds"),
    ("execution.checkpoint_seconds", INF, "execution.checkpoint_seconds"),
    ("execution.checkpoint_seconds", NAN, "execution.checkpoint_seconds"),
    ("execution.chunk_updates", 0, "execution.chunk_updates"),
    ("execution.bogus", 1, "execution.bogus"),
    ("slurm.cpus_per_task", 0, "slurm.cpus_per_task"),
    ("slurm.array_size", -1, "slurm.array_size"),
    ("slurm.concurrency", -1, "slurm.concurrency"),
    ("slurm.partition", 5, "slurm.partition"), ("slurm.extra", "x", "slurm.extra"),
    ("slurm.extra", [1], "slurm.extra"), ("slurm.template", 5, "slurm.template"),
    ("slurm.bogus", 1, "slurm.bogus"),
    ("dask.jobs", 0, "dask.jobs"), ("dask.processes", 0, "dask.processes"),
    ("dask.threads", -1, "dask.threads"), ("dask.memory", 5, "dask.memory"),
    ("dask.job_extra", "x", "dask.job_extra"), ("dask.bogus", 1, "dask.bogus"),
]
# ising and file instances
_ISING = {"problem": "ising", "n": 50, "d": 3}
SCAN_INSTANCE_CASES: list[tuple[dict, str]] = [
    ({**_ISING, "n": 1}, "instance.n"), ({**_ISING, "n": 10**12}, "instance.n"),
    ({**_ISING, "d": -1}, "instance.d"), ({**_ISING, "d": INF}, "instance.d"),
    ({**_ISING, "d": 2.5}, "instance.d"), ({**_ISING, "d": 50}, "instance.d"),
    ({**_ISING, "n": 51}, "instance.n"), ({**_ISING, "noise": 2.0}, "instance.noise"),
    ({**_ISING, "noise": NAN}, "instance.noise"), ({**_ISING, "graph": "bogus"}, "instance.graph"),
    ({**_ISING, "q": 5}, "instance.q"), ({**_ISING, "d": 1e9, "graph": "er"}, "instance"),
    ({"problem": "coloring", "n": 50, "q": 5, "c": 2.5, "graph": "regular"}, "instance.c"),
    ({"problem": "coloring", "n": 50, "q": 5, "c": 50, "graph": "regular"}, "instance.c"),
    ({"problem": "coloring", "n": 55, "q": 5, "c": 3, "graph": "regular"}, "instance"),
    ({"problem": "coloring", "n": 10, "q": 5, "c": 9, "graph": "regular"}, "instance.c"),
    ({"problem": "coloring", "n": 10, "q": 5, "c": 40.0, "graph": "er-simple"}, "instance.c"),
    ({"problem": "file", "path": "missing.h5"}, "instance.path"),
    ({"problem": "file", "path": "run.h5"}, "instance.path"),
    ({"problem": "file", "path": "foreign.h5"}, "instance.path"),
    ({"problem": "file", "path": "edges.txt"}, "instance.path"),
    ({"problem": "file", "path": "."}, "instance.path"),
    ({"problem": "file", "path": 5}, "instance.path"),
    ({"problem": "file"}, "instance.path"),
    ({"problem": "file", "path": "inst.h5", "n": 5}, "instance.n"),
]
SCAN_CONT_CASES: list[tuple[str, object, str]] = [
    ("continuous[0].experiment", "bogus", "continuous[0].experiment"),
    ("continuous[0].experiment", _DEL, "continuous[0].experiment"),
    ("continuous[0].eta", 0.0, "continuous[0].eta"), ("continuous[0].eta", INF, "eta"),
    ("continuous[0].eta", NAN, "eta"), ("continuous[0].B", 0, "continuous[0].B"),
    ("continuous[0].chains", 0, "continuous[0].chains"),
    ("continuous[0].chains", 10**9, "continuous[0]"),
    ("continuous[0].steps", 0, "continuous[0].steps"),
    ("continuous[0].momentum", 1.0, "continuous[0].momentum"),
    ("continuous[0].model", "bogus", "continuous[0].model"),
    ("continuous[0].bogus", 1, "bogus"),
    (".instances", 0, "instances"),
]


def _scan_case(tmp_path, inputs, text, message, capsys, monkeypatch):
    spec = tmp_path / "s.toml"
    spec.write_text(text)
    monkeypatch.chdir(tmp_path)
    before = _snapshot(inputs)
    for argv in (["scan", "plan", str(spec)], ["scan", "run", str(spec), "--quiet"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("mcsgd: error:"), err
        assert "Traceback" not in err and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]  # no out dir, nothing
    assert _snapshot(inputs) == before


@pytest.mark.parametrize("key, value, message", SCAN_CASES,
                         ids=[f"{k}={v!r}" for k, v, _ in SCAN_CASES])
def test_bad_scan_key(key, value, message, inputs, tmp_path, capsys, monkeypatch):
    """Every scan-file key with a bad value: `scan plan` and `scan run` exit 2 naming the key,
    before any output directory exists."""
    _scan_case(tmp_path, inputs, _toml(_edit(_BASE, key, value)), message, capsys,
               monkeypatch)


@pytest.mark.parametrize("instance, message", SCAN_INSTANCE_CASES,
                         ids=[json.dumps(i, default=str) for i, _ in SCAN_INSTANCE_CASES])
def test_bad_scan_instance(instance, message, inputs, tmp_path, capsys, monkeypatch):
    """The scan checker refuses what `mcsgd generate` refuses (one validator for both), and
    instance files that are not mcsgd instances."""
    d = dict(_BASE)
    inst = dict(instance)
    if isinstance(inst.get("path"), str):
        inst["path"] = str(inputs / inst["path"])
    d["instance"] = inst
    _scan_case(tmp_path, inputs, _toml(d), message, capsys, monkeypatch)


@pytest.mark.parametrize("key, value, message", SCAN_CONT_CASES,
                         ids=[f"{k}={v!r}" for k, v, _ in SCAN_CONT_CASES])
def test_bad_scan_continuous_key(key, value, message, inputs, tmp_path, capsys, monkeypatch):
    """Continuous scan files: bad [[continuous]] values are refused naming the key."""
    _scan_case(tmp_path, inputs, _toml(_edit(_CBASE, key, value)), message, capsys,
               monkeypatch)


def test_table_is_large():
    """The probe's breadth stays in the suite (issue 10 asked for >= 250 cases)."""
    n = len(CLI_CASES) + len(SCAN_CASES) + len(SCAN_INSTANCE_CASES) + len(SCAN_CONT_CASES)
    assert n >= 250, n


# ---- a handful as real processes: exit code and stderr of the entry point --------------------
SUBPROCESS_CASES = [
    ("generate coloring --n 1000000000000 --q 5 --c 3 --seed 1 -o {out}/x.h5", "n = "),
    ("run {in}/inst.h5 --dynamics sgd --B 0.5 --sweeps 3 -o {in}/inst.h5", "is an input"),
    ("generate from-edges /dev/zero -o {out}/x.h5", "not a regular file"),
    ("continuous fdr --model quadratic --eta inf --batch-size 4", "eta = inf"),
    ("demo --sweeps 0 --out {out}/dm", "sweeps = 0"),
]


@pytest.mark.parametrize("argv, message", SUBPROCESS_CASES,
                         ids=[c[0] for c in SUBPROCESS_CASES])
def test_bad_input_subprocess(argv, message, inputs, tmp_path):
    """The installed entry point: exit status 2, one stderr line, no traceback, no file."""
    out = tmp_path / "outdir"
    out.mkdir()
    args = [a.format(**{"in": str(inputs), "out": str(out)}) for a in shlex.split(argv)]
    before = _snapshot(inputs)
    r = subprocess.run([sys.executable, "-m", "mcsgd.cli", *args], capture_output=True,
                       text=True, timeout=120, cwd=tmp_path, env={**os.environ})
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert message in r.stderr
    assert not list(out.iterdir()) and _snapshot(inputs) == before
