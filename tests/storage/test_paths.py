"""Outputs never clobber inputs and are checked before computing; figures on edge cases;
sizes, corrupted instance files, non-finite values and the shared parameter validator (issue 10).
"""

from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from mcsgd import problems
from mcsgd.cli import main
from mcsgd.errors import FileFormatError, ParameterError, check_range

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def inst(tmp_path):
    p = tmp_path / "inst.h5"
    problems.coloring(100, 5, 3.0, seed=1).save(p)
    return p


def _err_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---- outputs that clobber inputs -----------------------------------------------------------------
def test_run_and_bp_refuse_to_overwrite_their_instance(inst, tmp_path, capsys):
    """`run -o` / `bp -o` onto the instance file (directly, through a symlink or a hard link)
    used to replace it; now exit 2 and the instance is byte-for-byte intact."""
    data = inst.read_bytes()
    (tmp_path / "link.h5").symlink_to(inst)
    os.link(inst, tmp_path / "hard.h5")
    for out in (inst, tmp_path / "link.h5", tmp_path / "hard.h5"):
        for argv in (["run", str(inst), "--dynamics", "sgd", "--B", "0.5", "--sweeps", "2"],
                     ["bp", str(inst)]):
            assert main([*argv, "-o", str(out), "--force"]) == 2
            assert "is an input" in _err_line(capsys)
    assert inst.read_bytes() == data


def test_from_edges_refuses_to_overwrite_the_edge_list(tmp_path, capsys):
    """`generate from-edges f.txt -o f.txt` used to replace the edge list with HDF5."""
    f = tmp_path / "f.txt"
    f.write_text("0 1\n1 2\n")
    assert main(["generate", "from-edges", str(f), "-o", str(f), "--force"]) == 2
    assert "is an input" in _err_line(capsys)
    assert f.read_text() == "0 1\n1 2\n"


def _tiny_scan(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('out = "o"\nseed = 1\n[instance]\nproblem = "coloring"\nn = 50\nq = 5\n'
                    'c = 3.0\n[run]\nsweeps = 3\n[[dynamics]]\ndynamics = "sgd"\nB = 0.5\n')
    assert main(["scan", "run", str(spec), "--workers", "1", "--quiet"]) == 0
    return spec, tmp_path / "o"


def test_collect_refuses_the_scan_bookkeeping(tmp_path, capsys):
    """`scan collect out -o out/scan.json` used to replace the manifest (the scan was then
    unusable) and `-o` onto a task file replaced a result; both are refused, the scan still
    works, and a summary next to the bookkeeping is still fine."""
    _, out = _tiny_scan(tmp_path)
    manifest = (out / "scan.json").read_bytes()
    task = next((out / "tasks").glob("*.h5"))
    result = task.read_bytes()
    for target in (out / "scan.json", out / "scan.toml", task, out / "tasks" / "new.h5"):
        assert main(["scan", "collect", str(out), "-o", str(target), "--force"]) == 2
        assert "bookkeeping" in _err_line(capsys)
    assert (out / "scan.json").read_bytes() == manifest and task.read_bytes() == result
    assert main(["scan", "status", str(out)]) == 0
    assert "1 done" in capsys.readouterr().out
    assert main(["scan", "collect", str(out)]) == 0  # default DIR/summary.h5
    assert main(["scan", "collect", str(out)]) == 0  # replacing its own summary is fine


def test_scan_run_out_dot_keeps_the_users_scan_toml(tmp_path, capsys, monkeypatch):
    """`scan run my.toml --out .` in a directory holding the user's own scan.toml used to
    overwrite it with the scan's copy."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scan.toml").write_text("# my precious scan file\n")
    (tmp_path / "my.toml").write_text('[instance]\nproblem = "coloring"\nn = 50\nq = 5\nc = 3.0\n'
                                      '[run]\nsweeps = 3\n[[dynamics]]\ndynamics = "sgd"\n'
                                      'B = 0.5\n')
    assert main(["scan", "run", "my.toml", "--out", ".", "--quiet"]) == 2
    assert "scan.toml" in _err_line(capsys)
    assert (tmp_path / "scan.toml").read_text() == "# my precious scan file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my.toml", "scan.toml"]


def test_existing_unrelated_file_needs_force(inst, tmp_path, capsys):
    """`-o` onto an existing file that is not a previous result of the command is refused with
    a message saying --force; --force replaces it; a previous result is replaced freely."""
    other = tmp_path / "notes.h5"
    other.write_text("my notes")
    argv = ["generate", "coloring", "--n", "50", "--q", "5", "--c", "3", "--seed", "2"]
    assert main([*argv, "-o", str(other)]) == 2
    assert "--force" in _err_line(capsys)
    assert other.read_text() == "my notes"
    assert main([*argv, "-o", str(other), "--force"]) == 0
    assert problems.load(other).n == 50
    assert main([*argv, "-o", str(other)]) == 0  # now a previous instance: no --force needed
    run_out = tmp_path / "r.h5"
    run = ["run", str(inst), "--dynamics", "sgd", "--B", "0.5", "--sweeps", "2", "--quiet"]
    assert main([*run, "-o", str(run_out)]) == 0
    assert main([*run, "-o", str(run_out)]) == 0
    capsys.readouterr()
    assert main([*run, "-o", str(other)]) == 2  # an instance is not a previous run result
    assert "--force" in _err_line(capsys)


# ---- outputs checked before computing ------------------------------------------------------------
def _forbid(monkeypatch, target: str):
    def boom(*a, **k):
        raise AssertionError(f"{target} ran before the outputs were checked")
    monkeypatch.setattr(target, boom)


@pytest.mark.parametrize("argv, target", [
    (["calibrate", "--c", "5", "--n", "100", "--B", "0.5", "--plot", "T.h5"],
     "mcsgd.experiments.calibrate.calibrate"),
    (["calibrate", "--c", "5", "--n", "100", "--B", "0.5", "-o", "afile/c.h5"],
     "mcsgd.experiments.calibrate.calibrate"),
    (["recover", "--c", "5", "--n", "100", "--B", "0.5", "--plot", "r.h5"],
     "mcsgd.experiments.recover.recovery_scan"),
    (["recover", "--c", "5", "--n", "100", "--B", "0.5", "-o", "afile/r.h5"],
     "mcsgd.experiments.recover.recovery_scan"),
    (["continuous", "escape", "--batch-size", "4", "--eta", "0.1", "--plot", "e.h5"],
     "mcsgd.experiments.continuous.run_task"),
    (["continuous", "fdr", "--model", "quadratic", "--eta", "0.05", "--batch-size", "4", "-o",
      "afile/f.h5"], "mcsgd.experiments.continuous.run_task"),
    (["scan", "collect", "SCAN", "-o", "s.png"], "mcsgd.experiments.scan.gather"),
])
def test_outputs_are_checked_before_computing(argv, target, tmp_path, capsys, monkeypatch):
    """calibrate, recover, continuous and scan collect used to check -o/--plot after the run:
    a .h5 figure name or an impossible path lost the whole computation with a traceback. The
    computation is replaced by a function that fails the test if it is called."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("x")
    if "SCAN" in argv:
        _, out = _tiny_scan(tmp_path)
        argv = [str(out) if a == "SCAN" else a for a in argv]
    _forbid(monkeypatch, target)
    assert main(argv) == 2
    _err_line(capsys)


# ---- figures on valid edge-case input ------------------------------------------------------------
def test_recover_plot_when_nothing_recovered(tmp_path, capsys):
    """`recover --plot` crashed on its log axis when no run recovered (all medians None)."""
    png = tmp_path / "r.png"
    assert main(["recover", "--c", "2", "--B", "0.5", "--n", "100", "--sweeps", "10",
                 "--instances", "1", "--replicas", "2", "--threshold", "0.99", "--quiet",
                 "--json", "--plot", str(png)]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert all(r["t_rec_median"] is None for r in rows)  # really nothing recovered
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_escape_plot_with_one_batch_size(tmp_path, capsys):
    """`continuous escape --plot` crashed formatting the slope, undefined for one B value."""
    png = tmp_path / "e.png"
    assert main(["continuous", "escape", "--batch-size", "4", "--eta", "0.1", "--chains", "8",
                 "--max-steps", "500", "--json", "--plot", str(png)]) == 0
    assert json.loads(capsys.readouterr().out)["slope"] is None
    assert png.read_bytes()[:8] == PNG_MAGIC


# ---- sizes ---------------------------------------------------------------------------------------
def test_memory_check_says_how_much_is_needed():
    """Sizes beyond the available memory are refused with the amount needed."""
    from mcsgd.resources import check_memory

    with pytest.raises(ParameterError, match=r"needs about 1 KiB of memory, more than the "
                                             r"512 B available"):
        check_memory("x", 1024, available=512)
    check_memory("x", 512, available=512)


@pytest.mark.parametrize("line", [f"0 {2**31}", f"{2**31 - 1} 0", f"0 {2**64}", "0 -3"])
def test_edge_file_node_ids_out_of_int32(tmp_path, line):
    """Node ids >= 2**31 - 1 (or beyond int64) used to give numpy tracebacks or a huge
    allocation; they are a FileFormatError naming the line."""
    f = tmp_path / "e.txt"
    f.write_text(f"0 1\n{line}\n")
    with pytest.raises(FileFormatError, match="line 2: node ids"):
        problems.from_edge_file(f)


def test_edge_file_that_is_not_a_regular_file(tmp_path):
    """A directory or /dev/zero as edge file (the latter read forever into memory)."""
    for p in (tmp_path, "/dev/zero"):
        with pytest.raises(FileFormatError, match="not a regular file"):
            problems.from_edge_file(p)


# ---- corrupted instance files --------------------------------------------------------------------
@pytest.mark.parametrize("edit, match", [
    (lambda f: f.attrs.__setitem__("params", "{not json"), "params"),
    (lambda f: f.attrs.__setitem__("params", "[1, 2]"), "params"),
    (lambda f: (f.__delitem__("indptr"), f.__setitem__("indptr", np.array([b"a", b"b"]))),
     "indptr"),
    (lambda f: f.attrs.__setitem__("q", "five"), "'q'"),
    (lambda f: f.attrs.__setitem__("q", 4.5), "'q'"),
    (lambda f: f.attrs.__setitem__("problem", 3), "problem"),
    (lambda f: (lambda ind: (f.__delitem__("indices"),
                             f.__setitem__("indices", ind.astype(float) + 0.25)))(
        f["indices"][...]), "indices"),
    (lambda f: (lambda ind: (f.__delitem__("indices"),
                             f.__setitem__("indices", ind.astype(np.int64) + 2**32)))(
        f["indices"][...]), "indices"),
    (lambda f: (f.__delitem__("planted"), f.__setitem__("planted", np.full(100, 257))),
     "int8"),
    (lambda f: f.create_group("couplings"), "couplings"),
])
def test_corrupted_instance_files(tmp_path, edit, match):
    """Readable but corrupted instance files gave tracebacks, and non-integer indices were
    silently truncated and accepted (0.25 -> 0); each is now a FileFormatError naming what is
    wrong."""
    p = tmp_path / "i.h5"
    problems.coloring(100, 5, 3.0, seed=1).save(p)
    with h5py.File(p, "r+") as f:
        edit(f)
    with pytest.raises(FileFormatError, match=match):
        problems.load(p)


# ---- one validator for generate and the scan checker ---------------------------------------------
PARAMS = [
    ("coloring", dict(n=50, q=5, c=3.0, graph="er")),
    ("coloring", dict(n=50, q=5, c=4.0, graph="regular")),
    ("coloring", dict(n=50, q=5, c=2.5, graph="regular")),
    ("coloring", dict(n=50, q=5, c=60.0, graph="regular")),
    ("coloring", dict(n=55, q=5, c=3.0, graph="regular")),
    ("coloring", dict(n=10, q=5, c=9.0, graph="regular")),
    ("coloring", dict(n=10, q=5, c=8.0, graph="er-simple")),
    ("coloring", dict(n=10**12, q=5, c=3.0, graph="er")),
    ("coloring", dict(n=50, q=5, c=1e12, graph="er")),
    ("ising", dict(n=50, d=3.0, graph="regular")),
    ("ising", dict(n=51, d=3.0, graph="regular")),
    ("ising", dict(n=50, d=3.5, graph="regular")),
    ("ising", dict(n=50, d=50.0, graph="regular")),
    ("ising", dict(n=50, d=1e9, graph="er")),
]


@pytest.mark.parametrize("problem, kw", PARAMS, ids=[f"{p}-{kw}" for p, kw in PARAMS])
def test_scan_checker_accepts_exactly_what_generate_accepts(problem, kw, tmp_path):
    """The scan-file checker accepted what generate rejects (fractional or too large regular
    degree, odd n*d, n = 1e12): both now use the generators' validator, so they agree."""
    from mcsgd.experiments.scan import spec_from_text

    def generate_ok():
        try:
            if problem == "coloring":
                problems.check_coloring_params(**kw)
            else:
                problems.check_ising_params(**kw)
        except ParameterError:
            return False
        return True

    text = "\n".join(["out = 'o'", "[instance]", f"problem = '{problem}'"]
                     + [f"{k} = {json.dumps(v)}" for k, v in kw.items()]
                     + ["[run]", "sweeps = 3", "[[dynamics]]", "dynamics = 'sgd'", "B = 0.5"])
    try:
        spec_from_text(text, path=str(tmp_path / "s.toml"))
        scan_ok = True
    except ParameterError:
        scan_ok = False
    assert scan_ok == generate_ok()
    if generate_ok() and kw["n"] <= 100:  # and the generator really builds what both accept
        (problems.coloring if problem == "coloring" else problems.ising)(
            **{k: v for k, v in kw.items() if k != "q" or problem == "coloring"}, seed=1)


def test_scan_checker_refuses_a_run_file_as_instance(tmp_path, inst, capsys):
    """A run file (or any non-instance HDF5) as instance path passed the checker and failed in
    every worker; now `scan plan` refuses it naming instance.path."""
    run = tmp_path / "r.h5"
    assert main(["run", str(inst), "--dynamics", "sgd", "--B", "0.5", "--sweeps", "2",
                 "--quiet", "-o", str(run)]) == 0
    spec = tmp_path / "s.toml"
    spec.write_text(f"out = 'o'\n[instance]\nproblem = 'file'\npath = '{run}'\n"
                    "[[dynamics]]\ndynamics = 'sgd'\nB = 0.5\n")
    assert main(["scan", "plan", str(spec)]) == 2
    assert "instance.path" in _err_line(capsys)


# ---- inf -----------------------------------------------------------------------------------------
def test_check_range_rejects_inf_unless_allowed():
    """inf passed check_range (T = inf in a scan, --c inf, --eta inf); it is refused unless the
    caller allows it (the theory's T = inf limit)."""
    for v in (float("inf"), -float("inf")):
        with pytest.raises(ParameterError, match="not finite"):
            check_range("c", v, 0, None)
        with pytest.raises(ParameterError):
            check_range("c", v, None, None)
    check_range("T", float("inf"), 0, None, allow_inf=True)
    with pytest.raises(ParameterError, match="NaN"):
        check_range("T", float("nan"), 0, None, allow_inf=True)
    with pytest.raises(ParameterError, match="not a number"):
        check_range("n", "abc", 0, None, integer=True)
    from mcsgd.theory import metropolis_table

    assert np.all(metropolis_table(4, float("inf")) == 1.0)  # the allowed limit still works


# ---- demo ----------------------------------------------------------------------------------------
def test_demo_validates_before_writing(tmp_path, capsys):
    """`mcsgd demo --sweeps 0 --out dm` left dm/instance.h5 behind."""
    dm = tmp_path / "dm"
    assert main(["demo", "--sweeps", "0", "--n", "100", "--out", str(dm)]) == 2
    assert "sweeps = 0" in _err_line(capsys)
    assert not dm.exists()


def test_demo_does_not_replace_unrelated_files(tmp_path, capsys):
    """demo writes fixed names under --out: an unrelated file there is kept (exit 2) unless
    --force."""
    dm = tmp_path / "dm"
    dm.mkdir()
    (dm / "instance.h5").write_text("mine")
    assert main(["demo", "--sweeps", "5", "--n", "100", "--out", str(dm)]) == 2
    assert "--force" in _err_line(capsys)
    assert (dm / "instance.h5").read_text() == "mine"
    assert sorted(p.name for p in dm.iterdir()) == ["instance.h5"]


def test_check_range_compares_integers_exactly():
    """Large integer bounds (seeds < 2**64) were compared as floats: 2**64 - 1 rounded up to
    2**64 and was refused, and messages printed both as 1.8446744073709552e+19."""
    check_range("seed", 2**64 - 1, 0, 2**64 - 1, integer=True)
    check_range("seed", np.uint64(2**64 - 1), 0, 2**64 - 1, integer=True)
    with pytest.raises(ParameterError, match=r"seed = 18446744073709551616 is not in "
                                             r"\[0, 18446744073709551615\]"):
        check_range("seed", 2**64, 0, 2**64 - 1, integer=True)


def test_hdf5_outputs_keep_any_name_but_a_foreign_extension(tmp_path):
    """Contract of -o before issue 10: an HDF5 output may have any name (``-o inst`` worked);
    only names that say they are another kind of file (.txt, .json, a figure, ...) are refused
    as mistakes, and a figure must end in .png/.pdf/.svg."""
    from mcsgd.cli import main

    inst = tmp_path / "inst"
    assert main(["generate", "coloring", "--n", "99", "--q", "3", "--c", "3", "--seed", "1",
                 "-o", str(inst)]) == 0
    assert main(["run", str(inst), "--dynamics", "sgd", "--B", "0.5", "--sweeps", "5",
                 "-o", str(tmp_path / "run.result")]) == 0
    for bad in ("x.txt", "x.json", "x.png"):
        try:
            code = main(["run", str(inst), "--dynamics", "sgd", "--B", "0.5", "--sweeps", "5",
                         "-o", str(tmp_path / bad)])
        except SystemExit as e:
            code = e.code
        assert code == 2
        assert not (tmp_path / bad).exists()
