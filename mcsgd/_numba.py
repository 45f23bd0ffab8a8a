"""The one place that configures numba for mcsgd.

``MCSGD_NUMBA_CACHE=0`` disables the on-disk cache (default: enabled). No ``fastmath``:
it would break the exact handling of ``inf`` (T = 0) and ``nan``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

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


@contextlib.contextmanager
def threads_scope(n: int | None) -> Iterator[int]:
    """Run the body with numba's thread count set to ``n`` (``None``: leave as is) and restore
    the previous count afterwards, even on error; yields the count in force.

    numba's count is per calling (Python) thread, so the scope affects only the caller.
    """
    if n is None:
        yield numba.get_num_threads()
        return
    prev = numba.get_num_threads()
    try:
        yield set_threads(n)
    finally:
        numba.set_num_threads(prev)
