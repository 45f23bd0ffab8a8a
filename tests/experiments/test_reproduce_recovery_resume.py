"""``reproduce recovery`` stores every finished row and resumes (issue 12, §4).

A run killed after k rows, re-run, recomputes only the missing rows and ends with the same
``recovery.json``, ``recovery_table.md`` and ``recovery_{sgd,metropolis}.h5`` (rows attribute
and every dataset) as an uninterrupted run, bit for bit. Fails before the row store existed
(a re-run recomputed every row and ``out/rows/`` was never written).
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from mcsgd.experiments import recover
from mcsgd.experiments import reproduce as rp

SPEC = """
[problem]
q = 3
graph = "er"
[experiment]
c = [6]
B = [0.8, 1.0]
T = [0.4, 0.9]
n = 60
instances = 2
replicas = 1
sweeps = 40
threshold = 0.5
seed = 3
calibration_B = [0.8, 0.9]
calibration_sweeps = 20
anneal_c = [6]
anneal_T = [1.0, 0.4]
anneal_B = [0.7, 0.96]
quench = 2
bp_c = [6]
bp_n = 300
"""
N_RUN_ROWS = 2 + 2 + 2  # metropolis, sgd, annealing rows (each: `instances` runs)
INSTANCES = 2
_REAL_RUNS = recover.recovery_runs


@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "rec.toml"
    p.write_text(SPEC)
    return rp.load_recovery_spec(str(p))


def _counting(monkeypatch, fail_after: int | None = None) -> list[int]:
    """Count the runs (settings x instances) of ``recover.recovery_runs``; raise at the call
    that starts when ``fail_after`` runs have begun."""
    calls = [0]
    real = _REAL_RUNS

    def runs(inst, settings, *a, **kw):
        if fail_after is not None and calls[0] >= fail_after:
            raise RuntimeError("killed (test)")
        calls[0] += len(settings)
        return real(inst, settings, *a, **kw)

    monkeypatch.setattr(recover, "recovery_runs", runs)
    return calls


def _same_files(a, b) -> None:
    for name in ("recovery.json", "recovery_table.md"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    for name in ("recovery_sgd.h5", "recovery_metropolis.h5"):
        with h5py.File(a / name, "r") as fa, h5py.File(b / name, "r") as fb:
            assert fa.attrs["rows"] == fb.attrs["rows"]
            assert fa.attrs["params"] == fb.attrs["params"]
            names = []
            fa.visit(lambda n, names=names: names.append(n))
            for n in names:
                if isinstance(fa[n], h5py.Dataset):
                    x, y = fa[n][()], fb[n][()]
                    assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), n


@pytest.mark.filterwarnings("ignore::mcsgd.errors.DisorderErrorWarning")
def test_killed_reproduce_recovery_resumes_without_recomputing(spec, tmp_path, monkeypatch):
    full, part = tmp_path / "full", tmp_path / "part"
    calls = _counting(monkeypatch)
    rp.reproduce_recovery(spec, str(full))
    assert calls[0] == N_RUN_ROWS * INSTANCES
    # the missing rows of one c are computed together: the 4 Metropolis and SGD-like rows of
    # c = 6 in one pass, then the 2 annealing rows; killed during the annealing pass
    k = 4
    _counting(monkeypatch, fail_after=k * INSTANCES + 1)
    with pytest.raises(RuntimeError, match="killed"):
        rp.reproduce_recovery(spec, str(part))
    assert len(list((part / rp.ROWS_DIR).glob("*.h5"))) == k + 1  # + the calibration row
    assert not (part / "recovery.json").exists()
    calls = _counting(monkeypatch)
    rp.reproduce_recovery(spec, str(part))
    assert calls[0] == (N_RUN_ROWS - k) * INSTANCES  # finished rows are not recomputed
    _same_files(full, part)
    calls = _counting(monkeypatch)  # a third run recomputes nothing and changes nothing
    said: list[str] = []
    rp.reproduce_recovery(spec, str(part), progress=said.append)
    assert calls[0] == 0
    # every row, also the calibration and the BP point, comes from out/rows/
    assert sum("reused" in m for m in said) == N_RUN_ROWS + 2
    assert not any("calibrating" in m or m.startswith("BP") for m in said)
    _same_files(full, part)


@pytest.mark.filterwarnings("ignore::mcsgd.errors.DisorderErrorWarning")
def test_stored_rows_are_reused_only_with_the_same_parameters_and_version(spec, tmp_path,
                                                                          monkeypatch):
    out = tmp_path / "o"
    rp.reproduce_recovery(spec, str(out))
    spec["experiment"]["sweeps"] = 41  # every run row depends on it
    calls = _counting(monkeypatch)
    rp.reproduce_recovery(spec, str(out))
    assert calls[0] == N_RUN_ROWS * INSTANCES
    import mcsgd

    monkeypatch.setattr(mcsgd, "__version__", "0.0.0-other")  # a new version may change results
    calls = _counting(monkeypatch)
    rp.reproduce_recovery(spec, str(out))
    assert calls[0] == N_RUN_ROWS * INSTANCES


def test_row_store_keeps_nan_inf_and_key_order(tmp_path):
    from mcsgd.storage.recovery import read_row, write_row

    row = {"c": 6.0, "T": 0.5, "x": np.float64(np.nan), "y": np.inf, "n": np.int64(3),
           "ci": [np.float64(0.1), None], "t_rec": np.array([1.0, np.inf]),
           "final_overlap": np.array([0.2, 0.9]), "curve": (np.arange(3), np.ones(3))}
    write_row(tmp_path / "r.h5", row, {"a": 1})
    got, params, _ = read_row(tmp_path / "r.h5")
    assert list(got) == list(row) and params == {"a": 1}
    assert np.isnan(got["x"]) and got["y"] == np.inf and got["n"] == 3
    assert type(got["n"]) is int and got["ci"] == [0.1, None]
    assert got["t_rec"].tobytes() == row["t_rec"].tobytes()


@pytest.mark.filterwarnings("ignore::mcsgd.errors.DisorderErrorWarning")
def test_reproduce_recovery_same_files_in_scalar_and_lanes_layouts(spec, tmp_path):
    rp.reproduce_recovery(spec, str(tmp_path / "scalar"), layout="scalar")
    rp.reproduce_recovery(spec, str(tmp_path / "lanes"), layout="lanes")
    _same_files(tmp_path / "scalar", tmp_path / "lanes")
