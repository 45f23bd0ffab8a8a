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


def _noalias_dispatcher_class():
    """A numba dispatcher class whose compiles mark array arguments ``noalias`` (LLVM) and
    that shares the CPU target's typing and lowering contexts (so ordinary kernels can call its
    functions). Built on first use: it touches numba internals."""
    from numba.core.cpu import CPUTargetOptions
    from numba.core.registry import CPUDispatcher, CPUTarget, cpu_target

    class _Options(CPUTargetOptions):
        def finalize(self, flags, options):
            super().finalize(flags, options)
            flags.noalias = True

    class _Target(CPUTarget):
        options = _Options

        @property
        def target_context(self):
            return cpu_target.target_context

        @property
        def typing_context(self):
            return cpu_target.typing_context

    class NoAliasDispatcher(CPUDispatcher):
        targetdescr = _Target("cpu")

    return NoAliasDispatcher


_NOALIAS = None


def njit_noalias(func):
    """Compile ``func`` (nopython, nogil, mcsgd's cache setting) with every array argument
    marked ``noalias``: a promise that no two array arguments of a call share memory, which
    lets LLVM keep per-lane accumulators in vector registers across loops (without it, any
    store may alias any load). Only for private kernels whose callers keep that promise."""
    global _NOALIAS
    if _NOALIAS is None:
        _NOALIAS = _noalias_dispatcher_class()
    d = _NOALIAS(func, targetoptions={"nopython": True, "nogil": True})
    if CACHE:
        d.enable_caching()
    return d
