"""Scans: planning, seeds, resume, equality across workers/shards, integrity, bad input."""

from __future__ import annotations

import json
import os
import shutil

import h5py
import numpy as np
import pytest

from mcsgd.cli import main
from mcsgd.experiments.scan import check_result, load_spec, run_scan, status

from .test_scan_common import (
    assert_same_payload,
    assert_same_scan,
    collect_json,
    summary_payload,
    task_payload,
    write_spec,
)


def test_plan_ids_keys_and_instance_seeds(tmp_path, capsys):
    spec_p = write_spec(tmp_path / "s.toml", tmp_path / "out", instances=2)
    spec = load_spec(spec_p)
    assert len(spec.tasks) == 2 * 3
    ids = [t.id for t in spec.tasks]
    assert len(set(ids)) == len(ids) and all(len(i) == 16 for i in ids)
    # the same file -> the same ids and keys; the out dir does not matter
    again = load_spec(spec_p, out=str(tmp_path / "elsewhere"))
    assert [(t.id, t.key) for t in again.tasks] == [(t.id, t.key) for t in spec.tasks]
    # every dynamics runs on the same instances: instance points depend on the instance only
    by_inst: dict[str, set] = {}
    for t in spec.tasks:
        by_inst.setdefault(json.dumps(t.params["instance"], sort_keys=True), set()).add(
            json.dumps(t.params["dynamics"], sort_keys=True))
    assert len(by_inst) == 2 and all(len(v) == 3 for v in by_inst.values())
    # `scan plan` prints every id; --json gives params
    assert main(["scan", "plan", str(spec_p)]) == 0
    out = capsys.readouterr().out
    assert all(i in out for i in ids)
    assert main(["scan", "plan", str(spec_p), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    assert [t["id"] for t in obj["tasks"]] == ids
    assert not (tmp_path / "out").exists()  # plan writes nothing


def test_zip_and_grid_expansion(tmp_path):
    p = write_spec(tmp_path / "s.toml", tmp_path / "o",
                   extra_dyn='\n[[dynamics]]\ndynamics = "sgd"\nB = [0.3, 0.6]\n'
                   'sweeps = [100, 300]\norder = ["sequential", "random"]\nzip = ["B", "sweeps"]')
    spec = load_spec(p)
    z = [(t.params["dynamics"]["B"], t.params["run"]["sweeps"], t.params["dynamics"]["order"])
         for t in spec.tasks if t.params["dynamics"].get("B") in (0.3, 0.6)]
    assert sorted(z) == sorted([(0.3, 100, "sequential"), (0.3, 100, "random"),
                                (0.6, 300, "sequential"), (0.6, 300, "random")])


def test_result_file_equals_run_and_has_provenance(tmp_path):
    """A task's file holds what RunResult.save would hold for the same run (+ scan attrs)."""
    from mcsgd import problems
    from mcsgd.driver import RunResult, run

    spec = load_spec(write_spec(tmp_path / "s.toml", tmp_path / "out"))
    run_scan(spec, workers=1, quiet=True)
    t = spec.tasks[2]  # the sgd task
    got = RunResult.load(tmp_path / "out" / "tasks" / f"{t.id}.h5")
    ip = t.params["instance"]
    inst = problems.coloring(ip["n"], ip["q"], ip["c"], seed=spec.seed, instance=ip["index"])
    ref = run(inst, t.params["dynamics"], sweeps=200, replicas=2, seed=spec.seed, key=t.key,
              grid_points=12)
    for k in ("time", "energy", "acceptance", "overlap", "trace", "final_state", "final_rng"):
        assert np.array_equal(getattr(got, k), getattr(ref, k), equal_nan=True), k
    assert got.params == json.loads(json.dumps(ref.params))
    with h5py.File(tmp_path / "out" / "tasks" / f"{t.id}.h5") as f:
        prov = json.loads(f.attrs["provenance"])
        assert {"mcsgd", "numpy", "numba", "h5py", "host", "git_revision"} <= set(prov)
        seeds = json.loads(f.attrs["scan_seeds"])
        assert seeds["root_seed"] == 7 and seeds["spawn_key"] == list(t.key)
        assert seeds["instance_seed"] == 7 and seeds["instance_index"] == ip["index"]
        assert {"prepare_s", "run_s"} <= set(json.loads(f.attrs["timing"]))
        assert "wall_s" in json.loads(f.attrs["scan_timing"])


class _Stop(BaseException):
    pass


@pytest.mark.parametrize("extra", ["", 'method = "flags"\ntau = 3\nflags = "edge"'])
def test_interrupted_task_resumes_bit_identically(tmp_path, extra):
    from mcsgd.experiments.scan.task import execute
    from mcsgd.storage.scan import ckpt_path

    body = f'\n[[dynamics]]\ndynamics = "sgd"\nB = 0.7\n{extra}\n' if extra else ""
    spec = load_spec(write_spec(tmp_path / "s.toml", tmp_path / "a", sweeps=300, ckpt=0,
                                chunk=600 * 2 * 7, extra_dyn=body))
    t = spec.tasks[-1]
    ref_dir = tmp_path / "ref"
    ref_dir.mkdir()
    (ref_dir / "tasks").mkdir()
    assert execute(t, str(ref_dir), chunk_updates=600 * 2 * 13)["state"] == "done"
    out = tmp_path / "a"
    (out / "tasks").mkdir(parents=True)
    for stop_at in (40, 150, 290):  # interrupt three times, each after a checkpoint
        def prog(tid, done, total, stop_at=stop_at):
            if done >= stop_at:
                raise _Stop

        with pytest.raises(_Stop):
            execute(t, str(out), checkpoint_seconds=0, chunk_updates=600 * 2 * 7, progress=prog)
        assert ckpt_path(out, t.id).exists()
    info = execute(t, str(out), checkpoint_seconds=0, chunk_updates=600 * 2 * 7)
    assert info["state"] == "done" and info["resumed_at"] >= 280
    assert not ckpt_path(out, t.id).exists()
    name = f"{t.id}.h5"
    assert_same_payload(task_payload(ref_dir / "tasks" / name), task_payload(out / "tasks" / name))


def test_same_results_1_worker_2_workers_3_shards(tmp_path, capsys):
    spec_p = write_spec(tmp_path / "s.toml", tmp_path / "unused", instances=2)
    d1, d2, d3 = tmp_path / "w1", tmp_path / "w2", tmp_path / "sh"
    assert main(["scan", "run", str(spec_p), "--out", str(d1), "--workers", "1", "--quiet"]) == 0
    assert main(["scan", "run", str(spec_p), "--out", str(d2), "--workers", "2", "--quiet"]) == 0
    for i in (2, 0, 1):  # shards in any order, separately
        assert main(["scan", "run", str(spec_p), "--out", str(d3), "--shard", f"{i}/3",
                     "--workers", "1", "--quiet"]) == 0
    assert_same_scan(d1, d2)
    assert_same_scan(d1, d3)
    j = [collect_json(capsys, main, d) for d in (d1, d2, d3)]
    assert j[0]["tasks"] == j[1]["tasks"] == j[2]["tasks"] and j[0]["done"] == 6
    for d in (d1, d3):
        assert main(["scan", "collect", str(d), "-o", str(d / "summary.h5")]) == 0
    assert summary_payload(d1 / "summary.h5") == summary_payload(d3 / "summary.h5")
    with h5py.File(d1 / "summary.h5") as f:
        assert f.attrs["mcsgd_kind"] == "scan-summary" and f.attrs["n_done"] == 6
        assert len(f["table/task_id"]) == 6 and "dynamics.T" in f["table"]
        tid = f["table/task_id"][0].decode()
        assert f[f"series/{tid}/energy"].shape[0] == 2


def test_integrity_truncated_empty_foreign_files_are_redone(tmp_path, capsys):
    spec_p = write_spec(tmp_path / "s.toml", tmp_path / "out")
    spec = load_spec(spec_p)
    out = tmp_path / "out"
    assert main(["scan", "run", str(spec_p), "--workers", "1", "--quiet"]) == 0
    ref = tmp_path / "ref"
    shutil.copytree(out, ref)
    files = [out / "tasks" / f"{t.id}.h5" for t in spec.tasks]
    raw = files[0].read_bytes()
    files[0].write_bytes(raw[: len(raw) // 2])  # truncated
    files[1].write_bytes(b"")  # empty
    with h5py.File(files[2], "w") as f:  # foreign HDF5
        f["x"] = np.arange(3)
    st = status(out)
    assert st["counts"] == {"done": 0, "running": 0, "failed": 0, "missing": 3}
    reasons = " ".join(t["reason"] for t in st["tasks"])
    assert "empty file" in reasons and "foreign file" in reasons and "damaged file" in reasons
    assert main(["scan", "status", str(out)]) == 0
    assert "will be recomputed" in capsys.readouterr().out
    assert main(["scan", "run", str(spec_p), "--workers", "1", "--quiet"]) == 0
    assert status(out)["counts"]["done"] == 3
    assert_same_scan(ref, out)
    # a valid result of another task, a damaged dataset, a stale 'complete' flag: redone too
    shutil.copy(files[1], files[0])
    with h5py.File(files[1], "r+") as f:
        f["energy"][0, 1] += 1.0
    with h5py.File(files[2], "r+") as f:
        f.attrs["complete"] = False
    assert "belongs to task" in check_result(files[0], spec.tasks[0])
    assert "checksum" in check_result(files[1], spec.tasks[1])
    assert "checksum" in check_result(files[2], spec.tasks[2])
    assert main(["scan", "run", str(spec_p), "--workers", "1", "--quiet"]) == 0
    assert_same_scan(ref, out)


def test_status_reports_failed_with_reason(tmp_path, capsys):
    """A task that fails at run time (an instance file whose header passes the scan checker
    but whose adjacency is damaged) is reported as failed with its reason."""
    import h5py

    inst = tmp_path / "inst.h5"
    assert main(["generate", "coloring", "--n", "50", "--q", "5", "--c", "4", "--seed", "1",
                 "-o", str(inst)]) == 0
    with h5py.File(inst, "r+") as f:
        idx = f["indices"][...]
        idx[0] = (idx[0] + 1) % 50 or 2  # one half-edge without its mirror: asymmetric
        f["indices"][...] = idx
    p = tmp_path / "s.toml"
    p.write_text('out = "o"\n[instance]\nproblem = "file"\npath = "inst.h5"\n'
                 '[run]\nsweeps = 5\n[[dynamics]]\ndynamics = "sgd"\nB = 0.5\n')
    assert main(["scan", "run", str(p), "--quiet"]) == 1
    st = status(tmp_path / "o")
    assert st["counts"]["failed"] == 1 and st["tasks"][0]["reason"]
    assert main(["scan", "status", str(tmp_path / "o")]) == 0
    assert "failed" in capsys.readouterr().out


def test_example_prints_and_validates(tmp_path, capsys):
    assert main(["scan", "example"]) == 0
    text = capsys.readouterr().out
    for key in ("seed", "instances", "out", "[instance]", "[run]", "[[dynamics]]", "zip",
                "[execution]", "[slurm]", "[dask]", "checkpoint_seconds", "concurrency"):
        assert key in text
    (tmp_path / "ex.toml").write_text(text)
    spec = load_spec(tmp_path / "ex.toml")
    assert len(spec.tasks) == 16


def test_continuous_tasks_delegate_to_run_task(tmp_path, capsys):
    from mcsgd.experiments import continuous as ctasks
    p = tmp_path / "c.toml"
    p.write_text('experiment = "continuous"\nseed = 3\nout = "o"\n'
                 '[[continuous]]\nexperiment = "fdr"\nmodel = "quadratic"\neta = [0.02, 0.05]\n'
                 'B = 2\nsteps = 300\nchains = 2\n')
    spec = load_spec(p)
    assert len(spec.tasks) == 2
    assert main(["scan", "run", str(p), "--workers", "1", "--quiet"]) == 0
    t = spec.tasks[1]
    ref = ctasks.run_task(t.params["continuous"], spec.seed, t.key)
    with h5py.File(tmp_path / "o" / "tasks" / f"{t.id}.h5") as f:
        assert f.attrs["mcsgd_kind"] == "continuous"
        for k, v in ref["arrays"].items():
            assert np.array_equal(f["arrays"][k][...], np.asarray(v), equal_nan=True)
    j = collect_json(capsys, main, tmp_path / "o")
    assert j["done"] == 2 and j["tasks"][1]["params"]["continuous"]["eta"] == 0.05


BAD = [
    ("dynamics[1].B: 1.5 is not in (0, 1]",
     '[[dynamics]]\ndynamics = "metropolis"\nT = 1.0\n[[dynamics]]\ndynamics = "sgd"\nB = 1.5\n'),
    ("dynamics[0].B: 1.5 is not in (0, 1]",
     '[[dynamics]]\ndynamics = "sgd"\nB = [0.5, 1.5]\n'),
    ("dynamics[0].T: -1 is not in [0, inf)", '[[dynamics]]\ndynamics = "metropolis"\nT = -1\n'),
    ("dynamics[0].Tx: unknown key", '[[dynamics]]\ndynamics = "metropolis"\nTx = 1\n'),
    ("dynamics[0].T: missing", '[[dynamics]]\ndynamics = "metropolis"\n'),
    ("dynamics[0].dynamics: 'mc' is not one of", '[[dynamics]]\ndynamics = "mc"\nT = 1\n'),
    ("dynamics[0].zip: zipped lists must have equal lengths",
     '[[dynamics]]\ndynamics = "sgd"\nB = [0.1, 0.2]\nsweeps = [1, 2, 3]\nzip = ["B", "sweeps"]\n'),
    ("run.sweeps: 0 is not in [1, inf)", '[run]\nsweeps = 0\n[[dynamics]]\ndynamics = "sgd"\n'
     'B = 0.5\n'),
    ("run.window: 1 is not in [0, 1)", '[run]\nwindow = 1.0\n[[dynamics]]\ndynamics = "sgd"\n'
     'B = 0.5\n'),
    ("instance.q: 1 is not in [2, 127]", "@q = 1"),
    ("instance.n: 1001 must be divisible by q = 5", "@n = 1001"),
    ("instance.c: 'x' is not a number", '@c = "x"'),
    ("seed: -1 is not in [0,", "seed = -1\n" + '[[dynamics]]\ndynamics = "sgd"\nB = 0.5\n'),
    ("bogus: unknown key", 'bogus = 1\n[[dynamics]]\ndynamics = "sgd"\nB = 0.5\n'),
    ("execution.workers: 'two' is not a number",
     '[execution]\nworkers = "two"\n[[dynamics]]\ndynamics = "sgd"\nB = 0.5\n'),
    ("invalid TOML", "[[dynamics]\n"),
    ("dynamics: missing", ""),
]


@pytest.mark.parametrize("msg,body", BAD, ids=[b[0][:30] for b in BAD])
def test_bad_scan_files_exit_2_name_the_key_write_nothing(tmp_path, capsys, msg, body):
    inst = {"n": "1000", "q": "5", "c": "8.0"}
    if body.startswith("@"):
        k, v = body[1:].split(" = ")
        inst[k] = v
        body = '[[dynamics]]\ndynamics = "sgd"\nB = 0.5\n'
    head = "" if body.startswith("seed") else "seed = 1\n"
    top, sep, rest = body.partition("[")
    text = (head + f'out = "{tmp_path / "out"}"\n' + top
            + "[instance]\nproblem = \"coloring\"\n"
            + "".join(f"{k} = {v}\n" for k, v in inst.items()) + sep + rest)
    p = tmp_path / "bad.toml"
    p.write_text(text)
    for cmd in ("plan", "run"):
        capsys.readouterr()
        assert main(["scan", cmd, str(p)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("mcsgd: error: ") and msg in err, err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv,msg", [
    (["--shard", "3/2"], "--shard"),
    (["--shard", "x"], "--shard"),
    (["--workers", "0"], "--workers"),
    (["--threads", "-1"], "--threads"),
    (["--executor", "pbs"], "invalid choice"),
    (["--scheduler", "tcp://x:1"], "--scheduler applies to --executor dask"),
    (["--wait"], "--wait applies to --executor slurm"),
])
def test_bad_cli_input_exit_2_writes_nothing(tmp_path, capsys, argv, msg):
    spec_p = write_spec(tmp_path / "s.toml", tmp_path / "out")
    assert main(["scan", "run", str(spec_p), *argv]) == 2
    assert msg in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_paths_exit_2(tmp_path, capsys):
    assert main(["scan", "plan", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["scan", "status", str(tmp_path)]) == 2
    assert "not a scan output directory" in capsys.readouterr().err
    assert main(["scan", "collect", str(tmp_path), "-o", str(tmp_path / "s.h5")]) == 2
    assert not (tmp_path / "s.h5").exists()
    # an output directory of another scan is refused
    a = write_spec(tmp_path / "a.toml", tmp_path / "o")
    assert main(["scan", "run", str(a), "--quiet", "--workers", "1"]) == 0
    b = write_spec(tmp_path / "b.toml", tmp_path / "o", n=700)
    capsys.readouterr()
    assert main(["scan", "run", str(b), "--quiet"]) == 2
    assert "holds another scan" in capsys.readouterr().err
    assert not any("700" in x for x in os.listdir(tmp_path / "o"))


def test_file_instances_and_the_spec_copy_used_by_array_elements(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    assert main(["generate", "coloring", "--n", "500", "--q", "5", "--c", "6", "--seed", "1",
                 "-o", str(sub / "inst.h5")]) == 0
    (sub / "f.toml").write_text('out = "../o"\n[instance]\nproblem = "file"\npath = "inst.h5"\n'
                                '[run]\nsweeps = 20\n[[dynamics]]\ndynamics = "sgd"\n'
                                'B = [0.5, 0.8]\n')
    spec = load_spec(sub / "f.toml")
    assert main(["scan", "run", str(sub / "f.toml"), "--workers", "1", "--quiet"]) == 0
    copy = load_spec(tmp_path / "o" / "scan.toml", out=str(tmp_path / "o"))
    assert [t.id for t in copy.tasks] == [t.id for t in spec.tasks] and copy.name == "f"
    assert main(["scan", "run", str(tmp_path / "o" / "scan.toml"), "--out", str(tmp_path / "o"),
                 "--shard", "1/2", "--quiet"]) == 0


def test_serial_scan_leaves_the_callers_thread_count(tmp_path):
    """Guards issue 9 §7 (global state) in the scan paths: a serial in-process scan with
    ``threads=1`` (a discrete and a continuous task) used to call numba.set_num_threads for the
    whole process. Now each task scopes its threads; the caller's count is unchanged. Runs in
    a subprocess with NUMBA_NUM_THREADS = 2 so that 1 and 2 differ."""
    import subprocess
    import sys
    import textwrap

    d = tmp_path / "d.toml"
    write_spec(d, tmp_path / "od", n=300, sweeps=20)
    c = tmp_path / "c.toml"
    c.write_text('experiment = "continuous"\nseed = 3\nout = "oc"\n'
                 '[[continuous]]\nexperiment = "fdr"\nmodel = "quadratic"\neta = 0.02\n'
                 'B = 2\nsteps = 200\nchains = 2\n')
    code = textwrap.dedent(f"""
        import numba
        from mcsgd.experiments.scan import load_spec, run_scan
        numba.set_num_threads(2)
        for p in ({str(d)!r}, {str(c)!r}):
            run_scan(load_spec(p), workers=1, threads=1, quiet=True)
            print(numba.get_num_threads())
    """)
    env = {**os.environ, "NUMBA_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["2", "2"], out.stdout


def _with_layout(path, layout):
    path.write_text(path.read_text().replace("[run]\n", f'[run]\nlayout = "{layout}"\n'))
    return path


def test_run_layout_is_not_part_of_a_task_and_gives_the_same_results(tmp_path):
    """``layout`` in [run] changes how a task's replicas advance, never its id, key or
    result; a bad value names the key and the allowed values."""
    from mcsgd.errors import ParameterError

    base = load_spec(write_spec(tmp_path / "s.toml", tmp_path / "scalar", sweeps=30))
    assert base.layout == "auto"
    specs = {}
    for layout in ("scalar", "lanes"):
        p = _with_layout(write_spec(tmp_path / f"{layout}.toml", tmp_path / layout, sweeps=30),
                         layout)
        specs[layout] = spec = load_spec(p)
        assert spec.layout == layout
        assert [(t.id, t.key, t.params) for t in spec.tasks] == \
            [(t.id, t.key, t.params) for t in base.tasks]
        infos = run_scan(spec, workers=1, threads=1, quiet=True)["tasks"]
        assert {i["timing"]["layout"] for i in infos} == {layout}
    assert_same_scan(tmp_path / "scalar", tmp_path / "lanes")
    bad = _with_layout(write_spec(tmp_path / "bad.toml", tmp_path / "bad"), "diagonal")
    with pytest.raises(ParameterError, match=r"run\.layout.*'auto', 'scalar', 'lanes'"):
        load_spec(bad)


def test_a_checkpoint_resumes_in_the_other_layout(tmp_path):
    from mcsgd.experiments.scan.task import execute
    from mcsgd.storage.scan import ckpt_path

    spec = load_spec(write_spec(tmp_path / "s.toml", tmp_path / "a", sweeps=120))
    t = spec.tasks[0]
    for d in ("ref", "a"):
        (tmp_path / d / "tasks").mkdir(parents=True)
    assert execute(t, str(tmp_path / "ref"), layout="scalar")["state"] == "done"

    def stop(tid, done, total):
        if done >= 50:
            raise _Stop

    with pytest.raises(_Stop):
        execute(t, str(tmp_path / "a"), checkpoint_seconds=0, chunk_updates=600 * 2 * 7,
                progress=stop, layout="lanes")
    assert ckpt_path(tmp_path / "a", t.id).exists()
    info = execute(t, str(tmp_path / "a"), layout="scalar")
    assert info["state"] == "done" and 0 < info["resumed_at"] < 120
    name = f"{t.id}.h5"
    assert_same_payload(task_payload(tmp_path / "ref" / "tasks" / name),
                        task_payload(tmp_path / "a" / "tasks" / name))
