"""RunResult for analysts: one-line repr, to_xarray (dims replica x time), the lazy extra.

Fails before this change: repr was the dataclass dump of every array; to_xarray did not exist.
"""

from __future__ import annotations

import numpy as np
import pytest

from mcsgd import problems
from mcsgd.driver import run
from mcsgd.dynamics import SGD


@pytest.fixture(scope="module")
def res():
    inst = problems.planted_coloring(200, 5, 6.0, seed=3)
    return run(inst, SGD(0.7), sweeps=30, replicas=3, seed=1, grid_points=8)


def test_repr_is_one_line_summary(res):
    r = repr(res)
    assert "\n" not in r and len(r) < 200 and "array(" not in r
    for part in ("RunResult(sgd B=0.7", "coloring N=200", "replicas=3", "sweeps=30", "overlap="):
        assert part in r, r


def test_to_xarray_dims_coords_variables_attrs(res, tmp_path):
    pytest.importorskip("xarray")
    ds = res.to_xarray()
    assert set(ds.data_vars) == {"energy", "acceptance", "overlap"}
    for v in ds.data_vars.values():
        assert v.dims == ("replica", "time")
    np.testing.assert_array_equal(ds["time"].values, res.time)
    np.testing.assert_array_equal(ds["replica"].values, np.arange(3))
    np.testing.assert_array_equal(ds["energy"].values, res.energy)
    np.testing.assert_array_equal(ds["overlap"].values, res.overlap)
    assert ds.attrs["B"] == 0.7 and ds.attrs["dynamics"] == "sgd"
    assert ds.attrs["instance.n"] == 200 and ds.attrs["sweeps"] == 30
    assert ds.attrs["n"] == 200 and ds.attrs["w0"] == res.w0
    ds.to_netcdf(tmp_path / "r.nc")  # attrs are netCDF-safe scalars


def test_missing_extra_names_it(res, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "xarray", None)  # import xarray -> ImportError
    with pytest.raises(ImportError, match=r"RunResult.to_xarray\(\) needs xarray: pip install "
                       r"'mcsgd\[analysis\]'"):
        res.to_xarray()
