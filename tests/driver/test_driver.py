"""The driver's checkpoint: ``run(..., checkpoint=PATH)`` resumes from an HDF5 file.

An in-memory run and a run interrupted mid-way and resumed through its HDF5 checkpoint must give
identical chains (every recorded array, the final configurations and RNG rows), for Metropolis
and for SGD-like dynamics on explicit mini-batch flags; a checkpoint written by a run with other
parameters is refused.
"""

import h5py
import numpy as np
import pytest

from mcsgd import problems
from mcsgd.driver import ChunkInfo, LoopState, record_loop, run
from mcsgd.dynamics import SGD, Metropolis
from mcsgd.errors import ParameterError


class Interrupt(Exception):
    """Raised by the progress hook to simulate a killed run."""


def _kill_after(chunks: int):
    calls = [0]

    def progress(done: int, total: int) -> None:
        calls[0] += 1
        if calls[0] > chunks:
            raise Interrupt(f"killed at sweep {done} of {total}")

    return progress


CASES = {
    "metropolis-coloring": (lambda: problems.planted_coloring(400, 5, 8.0, seed=3),
                            Metropolis(0.6)),
    "metropolis-ising-random": (lambda: problems.ising(300, 3, noise=0.05, seed=4),
                                Metropolis(1.2, order="random")),
    "sgd-halfedge-flags": (lambda: problems.planted_coloring(400, 5, 8.0, seed=3),
                           SGD(0.6, method="flags")),
    "sgd-edge-fixed-tau3": (lambda: problems.planted_coloring(400, 5, 8.0, seed=3),
                            SGD(0.5, flags="edge", batch="fixed", tau=3)),
}

KW = {"sweeps": 90, "replicas": 3, "seed": 11, "grid_points": 12, "chunk_updates": 400 * 3 * 7}


def _same(a, b) -> None:
    for name in ("time", "energy", "acceptance", "trace", "final_state", "final_rng"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.overlap is None:
        assert b.overlap is None
    else:
        np.testing.assert_array_equal(a.overlap, b.overlap)
    assert a.params == b.params
    assert (a.w0, a.blk, a.n) == (b.w0, b.blk, b.n)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_interrupted_and_resumed_run_equals_in_memory_run(tmp_path, case):
    make, dyn = CASES[case]
    inst = make()
    ref = run(inst, dyn, **KW)
    ckpt = tmp_path / "run.ckpt.h5"
    with pytest.raises(Interrupt):
        run(inst, dyn, **KW, checkpoint=ckpt, progress=_kill_after(5))
    with h5py.File(ckpt, "r") as f:  # readable with h5py alone (layout: mcsgd.storage.run)
        assert f.attrs["mcsgd_kind"] == "checkpoint"
        t_saved = int(f["runner/t"][()])
        assert 0 < t_saved < KW["sweeps"]
        assert ("flags" in f["runner"]) == isinstance(dyn, SGD)
    resumed = run(inst, dyn, **KW, checkpoint=ckpt)
    _same(ref, resumed)
    with h5py.File(ckpt, "r") as f:  # the final state is kept
        assert int(f["runner/t"][()]) == KW["sweeps"]
    again = run(inst, dyn, **KW, checkpoint=ckpt)  # a finished checkpoint reproduces the result
    _same(ref, again)


def test_checkpoint_every_chunk_is_resumable_at_every_chunk(tmp_path):
    """Killing after every possible chunk and resuming gives the in-memory chain each time."""
    inst = problems.planted_coloring(210, 3, 5.0, seed=1)
    dyn = SGD(0.7, flags="edge", tau=2)
    kw = {"sweeps": 30, "replicas": 2, "seed": 5, "grid_points": 6, "chunk_updates": 210 * 2 * 4}
    ref = run(inst, dyn, **kw)
    for k in range(1, 9):
        ckpt = tmp_path / f"c{k}.h5"
        with pytest.raises(Interrupt):
            run(inst, dyn, **kw, checkpoint=ckpt, progress=_kill_after(k))
        _same(ref, run(inst, dyn, **kw, checkpoint=ckpt))


@pytest.mark.parametrize("change", [{"seed": 12}, {"sweeps": 91}, {"replicas": 2},
                                    {"grid_points": 13}, {"dynamics": Metropolis(0.7)}],
                         ids=["seed", "sweeps", "replicas", "grid", "dynamics"])
def test_checkpoint_of_other_parameters_is_refused(tmp_path, change):
    inst = problems.planted_coloring(400, 5, 8.0, seed=3)
    ckpt = tmp_path / "run.ckpt.h5"
    with pytest.raises(Interrupt):
        run(inst, Metropolis(0.6), **KW, checkpoint=ckpt, progress=_kill_after(2))
    before = ckpt.read_bytes()
    kw = {**KW, **change}
    dyn = kw.pop("dynamics", Metropolis(0.6))
    with pytest.raises(ParameterError, match="other parameters"):
        run(inst, dyn, **kw, checkpoint=ckpt)
    assert ckpt.read_bytes() == before  # refused: nothing overwritten


def test_other_initial_configurations_are_refused(tmp_path):
    inst = problems.planted_coloring(99, 3, 4.0, seed=2)
    init = np.zeros((1, inst.n), np.int8)
    kw = {"sweeps": 20, "grid_points": 4, "seed": 1}
    ckpt = tmp_path / "run.ckpt.h5"
    run(inst, Metropolis(0.5), init=init, checkpoint=ckpt, **kw)
    init[0, 0] = 1
    with pytest.raises(ParameterError, match="init_sha256"):
        run(inst, Metropolis(0.5), init=init, checkpoint=ckpt, **kw)


def test_on_chunk_reports_an_info_record_per_chunk():
    """The driver's hook receives the record and a ChunkInfo per chunk; the chunks tile the run."""
    from mcsgd.driver import prepare_run

    inst = problems.planted_coloring(99, 3, 4.0, seed=2)
    runner, times = prepare_run(inst, Metropolis(0.5), sweeps=50, replicas=2, seed=1,
                                grid_points=5)
    infos: list[ChunkInfo] = []
    loop = record_loop(runner, times, chunk_updates=99 * 2 * 8,
                       on_chunk=lambda st, info: infos.append(info))
    assert isinstance(loop, LoopState) and loop.idx == len(times)
    assert sum(i.sweeps for i in infos) == 50
    assert [i.t for i in infos] == list(np.cumsum([i.sweeps for i in infos]))
    assert all(0 < i.sweeps <= 8 and i.total == 50 for i in infos)
