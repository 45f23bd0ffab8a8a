"""Validation without silent fallbacks (issue 9, section 4): each test guards one input that
used to be accepted and silently give a wrong or mislabelled result."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from mcsgd import problems
from mcsgd.errors import ParameterError


# ---- START:STOP:STEP ranges ---------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("0.5:1.0:0.3", [0.5, 0.8]),                  # used to overshoot to 1.1
    ("0.2:0.9:0.15", [0.2, 0.35, 0.5, 0.65, 0.8]),  # used to add 0.95
    ("0.80:0.98:0.02", [0.8, 0.82, 0.84, 0.86, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98]),
    ("0.1:0.9:0.2", [0.1, 0.3, 0.5, 0.7, 0.9]),     # STOP hit within rounding: included
    ("2:10:2", [2.0, 4.0, 6.0, 8.0, 10.0]),
    ("0.9:0.5:0.1", [0.9, 0.8, 0.7, 0.6, 0.5]),     # descending, STEP as a magnitude
    ("0.9:0.5:-0.1", [0.9, 0.8, 0.7, 0.6, 0.5]),    # descending, signed STEP
    ("0.95:0.8:0.1", [0.95, 0.85]),               # descending, STOP not hit: not overshot
    ("0.3:0.3:0.1", [0.3]),
])
def test_range_parser_table(text, expected):
    """START:STOP:STEP never overshoots STOP, includes it only when hit, and descends."""
    from mcsgd.cli._common import float_list, parse_range

    assert parse_range(text) == expected
    assert float_list(text) == expected


@pytest.mark.parametrize("text", ["0.1:0.5", "0.1:0.5:0", "0.1:0.5:-0.1", "a:1:0.1",
                                  "0:1:nan", "0:inf:1", "0:1:0.1:2"])
def test_range_parser_rejects(text):
    from mcsgd.cli._common import float_list

    with pytest.raises(argparse.ArgumentTypeError):
        float_list(text)


def test_range_parser_cli_B_does_not_overshoot(capsys):
    """``--B 0.5:1.0:0.3`` used to reach B = 1.1 (rejected far from the parser, or worse)."""
    from mcsgd.cli import build_parser

    args = build_parser().parse_args(["calibrate", "--c", "5", "--B", "0.5:1.0:0.3"])
    assert args.B == [0.5, 0.8]


# ---- Instance with unsorted CSR rows -------------------------------------------------------
def _unsorted_ising():
    """A 4-cycle plus a chord, as CSR with row 0 deliberately unsorted, and its couplings."""
    # edges (0,1,+1) (0,2,-1) (0,3,+1) (1,2,-1) (2,3,+1)
    rows = {0: [(3, 1), (1, 1), (2, -1)],          # unsorted
            1: [(0, 1), (2, -1)],
            2: [(0, -1), (1, -1), (3, 1)],
            3: [(0, 1), (2, 1)]}
    indptr = np.cumsum([0] + [len(rows[i]) for i in range(4)])
    indices = np.array([j for i in range(4) for j, _ in rows[i]])
    J = np.array([w for i in range(4) for _, w in rows[i]])
    u = np.array([0, 0, 0, 1, 2])
    v = np.array([1, 2, 3, 2, 3])
    w = np.array([1, -1, 1, -1, 1], np.int8)
    return indptr, indices, J, (u, v, w)


def test_instance_unsorted_rows_are_sorted_and_edge_ids_pair_half_edges():
    """An unsorted row used to give one edge id to three half-edges (binary search in a row
    assumed sorted), so per-edge flags were shared by unrelated edges."""
    from mcsgd.problems.instance import Instance

    indptr, indices, J, (u, v, w) = _unsorted_ising()
    keep = indices.copy()
    inst = Instance("ising", 2, indptr, indices, J)
    assert np.array_equal(indices, keep), "the caller's arrays must not be modified"
    ref = problems.from_edges(4, u, v, problem="ising", couplings=w)
    assert np.array_equal(inst.indptr, ref.indptr)
    assert np.array_equal(inst.indices, ref.indices)
    assert np.array_equal(inst.couplings, ref.couplings)
    ids, m = inst.edge_ids()
    assert m == 5
    # every edge id on exactly two half-edges, i->j and j->i
    row = np.repeat(np.arange(inst.n), inst.degrees)
    for e in range(m):
        (h,) = np.nonzero(ids == e)
        assert len(h) == 2
        assert {(row[h[0]], inst.indices[h[0]]), (row[h[1]], inst.indices[h[1]])} == {
            (row[h[0]], inst.indices[h[0]]), (inst.indices[h[0]], row[h[0]])}


def test_instance_unsorted_rows_same_energy_law_as_sorted():
    """The sorted copy is the same graph: equal energies of a configuration, and SGD runs on the
    user-built instance equal runs on the generator-built one bit for bit."""
    from mcsgd.driver import run
    from mcsgd.dynamics import SGD
    from mcsgd.problems.instance import Instance

    indptr, indices, J, (u, v, w) = _unsorted_ising()
    inst = Instance("ising", 2, indptr, indices, J)
    ref = problems.from_edges(4, u, v, problem="ising", couplings=w)
    a = run(inst, SGD(0.5, flags="edge"), sweeps=8, replicas=2, seed=3)
    b = run(ref, SGD(0.5, flags="edge"), sweeps=8, replicas=2, seed=3)
    assert np.array_equal(a.energy, b.energy)


def test_networkx_instance_with_unsorted_adjacency():
    """from_networkx on a graph whose nodes are inserted out of order gives sorted rows."""
    import networkx as nx

    g = nx.Graph()
    g.add_edges_from([(3, 0), (3, 1), (0, 2), (2, 1), (1, 0)])
    inst = problems.from_networkx(g, q=3)
    for i in range(inst.n):
        r = inst.indices[inst.indptr[i]:inst.indptr[i + 1]]
        assert np.all(np.diff(r) >= 0)
    ids, m = inst.edge_ids()
    assert m == 5 and np.array_equal(np.bincount(ids), np.full(5, 2))


# ---- er-simple never returns a multigraph --------------------------------------------------
def test_er_simple_ising_too_dense_raises():
    """d = 3.5 on n = 4 asks for 7 distinct edges among 6 node pairs: this used to return a
    multigraph labelled ``er-simple`` after 1000 redraw rounds."""
    with pytest.raises(ParameterError, match="too dense"):
        problems.ising(4, 3.5, graph="er-simple", seed=1)


def test_er_simple_gives_up_with_an_error(monkeypatch):
    """When the redraw rounds run out, er-simple raises (naming c and n) instead of returning
    the multigraph it has. One round is not enough for c = 6 on n = 20, seed 1 (repeats remain:
    the draw is deterministic for a seed)."""
    import sys

    pc = sys.modules["mcsgd.problems.coloring"]  # the module (problems.coloring is the function)
    monkeypatch.setattr(pc, "ER_SIMPLE_ROUNDS", 1)
    with pytest.raises(ParameterError, match="er-simple.*c = 6 with n = 20"):
        problems.coloring(20, 2, 6.0, planted=False, graph="er-simple", seed=1)


def test_er_simple_result_is_simple():
    inst = problems.coloring(200, 5, 8.0, graph="er-simple", seed=2)
    ids, m = inst.edge_ids()
    row = np.repeat(np.arange(inst.n), inst.degrees)
    pairs = {(int(a), int(b)) for a, b in zip(row, inst.indices, strict=True) if a < b}
    assert len(pairs) == m == 800


# ---- calibrate: graph names, equal targets --------------------------------------------------
def test_calibrate_unknown_ising_graph_is_an_error():
    """An unknown Ising graph name used to become 'regular' silently."""
    from mcsgd.experiments.calibrate import Problem

    with pytest.raises(ParameterError, match="graph = 'bethe' is not one of 'er', 'er-simple'"):
        Problem(problem="ising", n=100, c=3, graph="bethe")
    with pytest.raises(ParameterError, match="graph"):
        Problem(problem="coloring", n=100, c=3, graph="regularr")


def test_reproduce_spec_unknown_graph_exit_2(tmp_path, capsys):
    """The same through a tb-curve spec: one-line error naming the choices, exit code 2."""
    from mcsgd.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text('[problem]\nproblem = "ising"\ngraph = "bethe"\n[experiment]\nc = [3]\n'
                    'B = [0.5]\nn = 100\ninstances = 1\nreplicas = 2\nsweeps = 8\n')
    assert main(["reproduce", "tb-curve", "--spec", str(spec), "--out",
                 str(tmp_path / "o"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "problem.graph: 'bethe' is not one of" in err and not list((tmp_path / "o").glob("*.h5"))


def test_calibrate_equal_targets_pair_their_own_planted_run():
    """``targets.index(dyn)`` paired every copy of an equal target with the planted run of the
    first copy. Target j's runs use keys (1, j) (random start) and (2, j) (planted start), so
    the initial-condition test of position 1 must be the same number whether position 0 holds
    an equal target or another one (the two calibrations share instances and keys)."""
    from mcsgd.dynamics import SGD
    from mcsgd.experiments.calibrate import Problem, calibrate

    prob = Problem(problem="coloring", n=300, q=3, c=4.0)
    kw = dict(instances=2, replicas=2, sweeps=16, seed=5, mode="equilibrium",
              T_grid=[0.3, 0.6, 1.0], refine=0, grid_points=6)
    same = calibrate(prob, [SGD(0.6), SGD(0.6)], **kw)
    other = calibrate(prob, [SGD(0.9), SGD(0.6)], **kw)
    assert same.table["energy"][1] == other.table["energy"][1]  # same random-start runs
    assert same.table["init_t"][1] == other.table["init_t"][1]
    assert same.table["init_t"][0] != same.table["init_t"][1]


# ---- map_T_window_to_B on all of (0, 1] ----------------------------------------------------
def test_map_T_window_to_B_below_one_half():
    """B was clamped to [0.5, 0.999]: a T window [T0(0.3), T0(0.2)] mapped to (0.5, 0.5).
    Through T0(B) = -1/ln(1-B) it must map back to [0.2, 0.3] (root search: |error| < 1e-8)."""
    from mcsgd.experiments.recover import map_T_window_to_B

    t0 = lambda B: -1 / np.log1p(-np.asarray(B))  # noqa: E731
    lo, hi = map_T_window_to_B(float(t0(0.3)), float(t0(0.2)), t0)
    assert abs(lo - 0.2) < 1e-8 and abs(hi - 0.3) < 1e-8
    lo, hi = map_T_window_to_B(float(t0(0.9995)), float(t0(0.9)), t0)  # above 0.999
    assert abs(lo - 0.9) < 1e-8 and abs(hi - 0.9995) < 1e-8


def test_map_T_window_to_B_out_of_range_says_so():
    """A T outside the range of the curve gives None for that end and a note (it used to be
    clamped to the end of the B grid, silently)."""
    from mcsgd.experiments.recover import map_T_window_to_B

    Bs, Ts = np.array([0.8, 0.85, 0.9]), np.array([0.5, 0.45, 0.4])
    curve = lambda B: np.interp(B, Bs, Ts, left=np.nan, right=np.nan)  # noqa: E731
    notes: list[str] = []
    lo, hi = map_T_window_to_B(0.42, 0.6, curve, note=notes.append)
    assert lo is None and abs(hi - 0.88) < 1e-8
    assert len(notes) == 1 and "T = 0.6 is outside the range [0.4, 0.5]" in notes[0]


# ---- reproduce tb-curve reuses a stored calibration only when everything matches -----------
def test_reproduce_tb_reuse_keys_on_all_parameters(tmp_path, capsys):
    """A stored calib_c*.h5 used to be reused when only problem and sweeps matched: a changed
    B list, replica count, seed, ... was silently ignored. Now any difference recomputes the
    file with a note on stderr naming what changed; an identical spec still skips."""
    from mcsgd.cli import main
    from mcsgd.experiments.calibrate import Calibration

    spec = tmp_path / "s.toml"
    out = tmp_path / "out"
    base = ('[problem]\nproblem = "coloring"\nq = 3\n[experiment]\nc = [3]\nn = 300\n'
            f'instances = 2\nsweeps = 16\nmode = "relaxation"\nout = "{out}"\n')
    spec.write_text(base + "B = [0.5]\nreplicas = 1\nseed = 4\n")
    assert main(["reproduce", "tb-curve", "--spec", str(spec), "--quiet", "--c-index", "0"]) == 0
    f = out / "calib_c3.h5"
    mtime = f.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["reproduce", "tb-curve", "--spec", str(spec), "--c-index", "0"]) == 0
    assert "skipped" in capsys.readouterr().err and f.stat().st_mtime_ns == mtime
    spec.write_text(base + "B = [0.5, 0.7]\nreplicas = 1\nseed = 4\n")  # the B list only
    assert main(["reproduce", "tb-curve", "--spec", str(spec), "--quiet", "--c-index", "0"]) == 0
    assert "other targets than the spec asks for; recomputing" in capsys.readouterr().err
    assert [t["B"] for t in Calibration.load(f).params["targets"]] == [0.5, 0.7]
    spec.write_text(base.replace('"relaxation"', '"equilibrium"')
                    + "B = [0.5, 0.7]\nreplicas = 2\nseed = 5\nwindow = 0.4\n")
    assert main(["reproduce", "tb-curve", "--spec", str(spec), "--quiet", "--c-index", "0"]) == 0
    assert "other replicas, seed, mode, window than the spec" in capsys.readouterr().err
    p = Calibration.load(f).params
    assert (p["replicas"], p["seed"], p["mode"], p["window"]) == (2, 5, "equilibrium", 0.4)
    # a result written by another mcsgd version (seeds and estimators change between versions)
    import h5py

    import mcsgd

    with h5py.File(f, "r+") as h:
        h.attrs["provenance"] = '{"mcsgd": "0.0.1"}'
    assert main(["reproduce", "tb-curve", "--spec", str(spec), "--quiet", "--c-index", "0"]) == 0
    assert "other mcsgd version than the spec asks for" in capsys.readouterr().err
    from mcsgd.experiments.reproduce import stored_version

    assert stored_version(str(f)) == mcsgd.__version__


# ---- continuous escape: a hopeless step budget is refused up front -------------------------
def test_escape_hopeless_budget_refused_before_running(tmp_path, capsys):
    """``escape --B 2,3,4 --eta 0.002`` used to run 3 x 400 chains x 2e5 steps and return
    ``slope: null`` without a word (SDE escape time 1.5e8 steps at B = 2). Now it exits 2
    before any chain runs, naming the predicted time and what to change, and writes nothing.
    (The refusal is decided by the prediction alone: had chains run, the 2e5-step budget of
    1200 chains would take minutes, not the seconds this test takes.)"""
    from mcsgd.cli import main

    out = tmp_path / "e.h5"
    code = main(["continuous", "escape", "--B", "2,3,4", "--eta", "0.002", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and not out.exists()
    assert "3 of 3 (B, eta) rows cannot be resolved within max_steps = 200000" in err
    assert "predicted mean escape time 1.5e+08 steps at B = 2" in err
    assert "larger eta, a smaller B, or max_steps >=" in err


def test_escape_budget_check_uses_expected_escapes():
    """The check refuses exactly when fewer than min(5, chains/2) escapes are expected."""
    from mcsgd.continuous.escape import check_escape_budget

    row = {"B": 3, "eta": 0.01, "T": 0.27, "barrier_over_T": 3.75, "sde_steps": 1000.0}
    check_escape_budget([row], 400, 13)  # 400 (1 - e^-0.013) = 5.17 expected escapes
    with pytest.raises(ParameterError, match="1 of 1"):
        check_escape_budget([row], 400, 12)  # 4.78 expected
    check_escape_budget([row], 4, 700)  # chains/2 = 2: 4 (1 - e^-0.7) = 2.01
    with pytest.raises(ParameterError):
        check_escape_budget([row], 4, 690)  # 1.99


def test_range_is_counted_before_it_is_expanded(monkeypatch):
    """Guards issue 10 (unbounded expansion): ``--B 0:1:1e-12`` used to build 1e12 floats in
    memory until the machine ran out. The range is counted first and refused above the limit
    (MCSGD_MAX_RANGE_POINTS overrides it); the CLI answers exit 2 in well under a second."""
    import subprocess
    import sys

    from mcsgd.cli._common import MAX_RANGE_POINTS, parse_range

    with pytest.raises(ValueError, match="more than the limit"):
        parse_range("0:1:1e-12")
    assert len(parse_range(f"1:{MAX_RANGE_POINTS}:1")) == MAX_RANGE_POINTS
    with pytest.raises(ValueError, match="more than the limit"):
        parse_range(f"1:{MAX_RANGE_POINTS + 1}:1")
    monkeypatch.setenv("MCSGD_MAX_RANGE_POINTS", str(MAX_RANGE_POINTS + 1))
    assert len(parse_range(f"1:{MAX_RANGE_POINTS + 1}:1")) == MAX_RANGE_POINTS + 1
    monkeypatch.delenv("MCSGD_MAX_RANGE_POINTS")
    r = subprocess.run([sys.executable, "-m", "mcsgd.cli", "recover", "--q", "5", "--c", "20",
                        "--B", "0:1:1e-12", "--n", "1000", "--sweeps", "10"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "more than the limit" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_recovery_table_marks_an_unreached_window_end():
    """A mapped B-window end that T(B) cannot reach (None since map_T_window_to_B solves on
    all of (0, 1]) reads "n/a" with a footnote, not a bare dash that looks like a range."""
    from mcsgd.experiments.reproduce import format_recovery

    row = {"c": 24.0, "T_window": [0.5, 0.8], "B_window_measured": [0.8, 0.9],
           "B_window_from_T_adb": [0.85, 0.93], "B_window_from_T_eq": [0.841, None],
           "B_best": 0.85, "B_best_t_rec_median": 530.0}
    text = format_recovery({"summary": [row], "metropolis": [], "sgd": [], "annealing": [],
                            "bp": []})
    assert "| 0.841–n/a |" in text and "n/a: that end of the T window" in text
