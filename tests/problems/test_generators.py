"""Instance generators: ensembles, invariants, determinism, HDF5 round trip, validation."""

import h5py
import networkx as nx
import numpy as np
import pytest

from mcsgd import problems
from mcsgd.errors import FileFormatError, ParameterError


def _pairs(inst):
    rows = np.repeat(np.arange(inst.n), inst.degrees)
    return rows, inst.indices.astype(np.int64)


@pytest.mark.parametrize("graph", ["er", "er-simple"])
def test_planted_coloring_er(graph):
    n, q, c = 10_000, 5, 12.0
    inst = problems.planted_coloring(n, q, c, graph=graph, seed=3)
    assert inst.m == round(c * n / 2)  # M = round(cN/2) exactly
    assert inst.indptr.dtype == np.int32 and inst.indices.dtype == np.int32
    assert inst.planted.dtype == np.int8
    # planted colours floor(i / (N/q)), equal groups
    assert np.array_equal(inst.planted, np.arange(n) // (n // q))
    rows, cols = _pairs(inst)
    assert np.all(rows != cols)  # no self-loops
    assert np.all(inst.planted[rows] != inst.planted[cols])  # planted colouring proper
    assert inst.energy(inst.planted) == 0
    assert inst.mean_degree == pytest.approx(c, abs=1e-3)
    # degrees ~ Poisson(c): variance c within 5 sigma of the sample variance's spread
    var = inst.degrees.var()
    assert abs(var - c) < 5 * c * np.sqrt(2.0 / n) + 0.3
    up = rows < cols  # each undirected edge once
    keys = rows[up] * n + cols[up]
    n_multi = keys.size - np.unique(keys).size
    if graph == "er-simple":
        assert n_multi == 0
    else:
        # the reference ensemble keeps double edges: expected about c^2 q / (4 (q-1)) of them
        assert n_multi > 0


def test_random_and_regular():
    r = problems.random_coloring(5000, 4, 6.0, seed=1)
    assert r.planted is None and r.m == 15000
    reg = problems.coloring(3000, 5, 7, graph="regular", seed=2)
    assert np.all(reg.degrees == 7)
    rows, cols = _pairs(reg)
    assert np.all(reg.planted[rows] != reg.planted[cols])
    keys = rows[rows < cols] * reg.n + cols[rows < cols]
    assert np.unique(keys).size == keys.size == reg.m  # simple
    bip = problems.coloring(1000, 2, 3, graph="regular", seed=5)
    assert np.all(bip.degrees == 3) and bip.energy(bip.planted) == 0


def test_shuffled_planted_is_balanced_and_proper():
    inst = problems.planted_coloring(2000, 4, 10.0, shuffle=True, seed=9)
    assert np.all(np.bincount(inst.planted) == 500)
    assert not np.array_equal(inst.planted, np.arange(2000) // 500)
    assert inst.energy(inst.planted) == 0


def test_ising_planted_and_spin_glass():
    inst = problems.ising(4000, 3, graph="regular", noise=0.0, seed=4)
    assert np.all(inst.degrees == 3)
    # epsilon = 0: the planted configuration satisfies every coupling, E = -M
    assert inst.energy(inst.planted) == -inst.m
    noisy = problems.ising(20000, 3, noise=0.2, seed=4)
    rows, cols = _pairs(noisy)
    frac = np.mean(noisy.couplings != noisy.planted[rows] * noisy.planted[cols])
    assert abs(frac - 0.2) < 4 * np.sqrt(0.2 * 0.8 / noisy.m)  # 4 sigma, binomial
    sg = problems.ising(20000, 4.0, graph="er", planted=False, seed=1)
    assert sg.planted is None and abs(sg.couplings.mean()) < 4 / np.sqrt(2 * sg.m)


def test_determinism_from_seed():
    a = problems.planted_coloring(3000, 3, 8.0, seed=11)
    b = problems.planted_coloring(3000, 3, 8.0, seed=11)
    c = problems.planted_coloring(3000, 3, 8.0, seed=12)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.indptr, b.indptr)
    assert not np.array_equal(a.indices, c.indices)
    i1 = problems.ising(1000, 3, noise=0.1, seed=2)
    i2 = problems.ising(1000, 3, noise=0.1, seed=2)
    assert np.array_equal(i1.couplings, i2.couplings)


def test_hdf5_round_trip(tmp_path):
    for inst in (
        problems.planted_coloring(600, 3, 5.0, seed=1),
        problems.ising(600, 3, noise=0.1, seed=1),
        problems.random_coloring(100, 3, 2.0, seed=0),
    ):
        p = tmp_path / "i.h5"
        inst.save(p)
        back = problems.load(p)
        assert back.problem == inst.problem and back.q == inst.q
        assert np.array_equal(back.indices, inst.indices)
        assert np.array_equal(back.indptr, inst.indptr)
        for f in ("planted", "couplings"):
            x, y = getattr(inst, f), getattr(back, f)
            assert (x is None and y is None) or np.array_equal(x, y)
        assert back.params == inst.params


def test_validation_on_load(tmp_path):
    inst = problems.planted_coloring(300, 3, 4.0, seed=1)
    p = tmp_path / "bad.h5"
    inst.save(p)
    with h5py.File(p, "r+") as f:  # break symmetry: one half-edge redirected
        idx = f["indices"][...]
        idx[0] = (idx[0] + 1) % 300 if (idx[0] + 1) % 300 != 0 else 2
        f["indices"][...] = idx
    with pytest.raises(FileFormatError, match="symmetric|self-loop|proper"):
        problems.load(p)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(FileFormatError, match="not an mcsgd file"):
        problems.load(foreign)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(FileFormatError, match="not a readable HDF5"):
        problems.load(junk)


def test_user_graphs(tmp_path):
    g = nx.petersen_graph()
    inst = problems.from_networkx(g, q=3)
    assert inst.n == 10 and inst.m == 15 and np.all(inst.degrees == 3)
    f = tmp_path / "e.txt"
    f.write_text("# a triangle and a tail\n0 1\n1 2\n2 0\n\n2 3\n")
    e = problems.from_edge_file(f, q=3)
    assert e.n == 4 and e.m == 4
    assert e.energy(np.array([0, 1, 2, 0], np.int8)) == 0
    assert e.energy(np.array([0, 0, 0, 0], np.int8)) == 4
    back = problems.from_networkx(e.to_networkx(), q=3)
    assert np.array_equal(back.indices, e.indices)
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1\n1 x\n")
    with pytest.raises(FileFormatError, match="line 2"):
        problems.from_edge_file(bad)
    loop = tmp_path / "loop.txt"
    loop.write_text("0 1\n1 1\n")
    with pytest.raises(ParameterError, match="self-loop"):
        problems.from_edge_file(loop)


def test_edge_ids_pair_half_edges():
    inst = problems.planted_coloring(2000, 4, 10.0, seed=2)  # has double edges
    eid, m = inst.edge_ids()
    assert m == inst.m
    assert np.all(np.bincount(eid, minlength=m) == 2)  # every edge id on exactly two half-edges
    rows, cols = _pairs(inst)
    order = np.argsort(eid, kind="stable")
    first, second = order[0::2], order[1::2]
    # the two half-edges of an id are the two directions of one edge
    assert np.array_equal(rows[first], cols[second])
    assert np.array_equal(cols[first], rows[second])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n=0, q=3, c=2.0), "n = 0"),
        (dict(n=10, q=1, c=2.0), "q = 1"),
        (dict(n=10, q=5, c=-1.0), "c = -1"),
        (dict(n=11, q=5, c=2.0), "divisible"),
        (dict(n=10, q=5, c=2.0, graph="lattice"), "graph"),
    ],
)
def test_generator_bad_input(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        problems.coloring(**kwargs)


# ---- the one instance factory ------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: problems.coloring(60, 3, 4.0, graph="er", shuffle=True, seed=7, instance=2),
    lambda: problems.coloring(60, 4, 3.0, graph="regular", planted=False, seed=7, instance=1),
    lambda: problems.ising(60, 3.0, graph="regular", noise=0.1, seed=9, instance=3),
    lambda: problems.ising(60, 2.5, graph="er-simple", planted=False, seed=9),
])
def test_from_params_rebuilds_the_stored_instance(make):
    """``from_params(inst.params, seed, k)`` (the stored parameters, with their ``generator``,
    ``seed`` and ``instance`` entries) is the same instance: one factory for every command."""
    inst = make()
    again = problems.from_params(inst.params, inst.params["seed"], inst.params["instance"])
    assert again.params == inst.params
    for name in ("indptr", "indices", "couplings", "planted"):
        a, b = getattr(inst, name), getattr(again, name)
        assert (a is None and b is None) or np.array_equal(a, b), name


def test_from_params_refuses_unknown_and_missing_keys(tmp_path):
    with pytest.raises(ParameterError, match="unknown parameter"):
        problems.from_params({"problem": "coloring", "n": 60, "q": 3, "c": 4.0, "d": 3}, 0)
    with pytest.raises(ParameterError, match="missing parameter"):
        problems.from_params({"problem": "ising", "n": 60}, 0)
    with pytest.raises(ParameterError, match="problem"):
        problems.from_params({"problem": "potts", "n": 60}, 0)
    p = tmp_path / "i.h5"
    problems.coloring(30, 3, 2.0, seed=1).save(p)
    assert problems.from_params({"problem": "file", "path": str(p)}, 5, 3).m \
        == problems.load(p).m


def test_instance_layout_reads_back_through_storage_alone(tmp_path):
    """The instance layout lives in mcsgd.storage.instance: its reader returns the stored
    attributes, arrays and params without the problems package, unvalidated."""
    from mcsgd.storage.instance import ARRAYS, read_instance

    inst = problems.ising(40, 3.0, seed=2, instance=1)
    p = tmp_path / "i.h5"
    inst.save(p)
    attrs, arrays, params = read_instance(p)
    assert attrs == {"problem": "ising", "q": 2}
    assert params == inst.params
    assert set(arrays) == set(ARRAYS)
    for name in ARRAYS:
        assert np.array_equal(arrays[name], getattr(inst, name)), name
    with h5py.File(p, "r") as f:
        assert (f.attrs["n"], f.attrs["m"]) == (inst.n, inst.m)


def test_instance_repr_is_one_line_summary():
    """repr(Instance) summarises (fails before: the dataclass repr dumped the CSR arrays)."""
    inst = problems.planted_coloring(300, 5, 8.0, seed=3)
    r = repr(inst)
    assert "\n" not in r and "array(" not in r and len(r) < 200
    assert r.startswith("Instance(coloring q=5, N=300, M=") and "planted" in r
    assert "seed=3" in r
