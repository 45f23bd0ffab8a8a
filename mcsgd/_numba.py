"""The one place that configures numba for mcsgd.

``MCSGD_NUMBA_CACHE=0`` disables the on-disk cache (default: enabled). No ``fastmath``:
it would break the exact handling of ``inf`` (T = 0) and ``nan``.
"""

from __future__ import annotations

import os

import numba

CACHE = os.environ.get("MCSGD_NUMBA_CACHE", "1") not in ("0", "false", "no")


def njit(*args, **kwargs):
    """``numba.njit`` with mcsgd's defaults (``cache`` from the environment, no fastmath)."""
    kwargs.setdefault("cache", CACHE)
    kwargs.setdefault("nogil", True)
    return numba.njit(*args, **kwargs)


prange = numba.prange


def set_threads(n: int | None) -> int:
    """Set numba's thread count (``None``: leave as is); returns the count in force."""
    if n is not None:
        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    return numba.get_num_threads()
