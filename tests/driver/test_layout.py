"""The layout of the chains changes speed only: a checkpoint written in one layout resumes in
the other, bit-identical to an uninterrupted run (the checkpoint's ``params`` carry no layout)."""

import numpy as np
import pytest

from mcsgd import problems
from mcsgd.driver import run
from mcsgd.dynamics import SGD, Metropolis


@pytest.fixture(scope="module")
def inst():
    return problems.planted_coloring(1200, 5, 10.0, seed=4)


def _interrupted(inst, dyn, layout, ck):
    calls = []

    def stop(d, t):
        calls.append(d)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(inst, dyn, sweeps=16, replicas=4, seed=2, grid_points=5, layout=layout,
            checkpoint=ck, progress=stop, chunk_updates=1)
    assert ck.exists()


@pytest.mark.parametrize("first, then", [("lanes", "scalar"), ("scalar", "lanes")])
@pytest.mark.parametrize("dyn", [SGD(0.4), Metropolis(0.6)], ids=["sgd", "metropolis"])
def test_checkpoint_resumes_in_the_other_layout(inst, tmp_path, dyn, first, then):
    ref = run(inst, dyn, sweeps=16, replicas=4, seed=2, grid_points=5, layout="scalar")
    ck = tmp_path / "ck.h5"
    _interrupted(inst, dyn, first, ck)
    res = run(inst, dyn, sweeps=16, replicas=4, seed=2, grid_points=5, layout=then,
              checkpoint=ck, chunk_updates=1)
    assert res.timing["layout"] == then
    for name in ("time", "energy", "acceptance", "overlap", "trace", "final_state",
                 "final_rng"):
        np.testing.assert_array_equal(getattr(ref, name), getattr(res, name), err_msg=name)
    assert res.params == ref.params and "layout" not in res.params
