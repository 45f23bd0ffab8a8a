"""Memory checks: how much this host has, and whether a job of a given size fits.

Every command that allocates in proportion to its parameters calls :func:`check_memory` (or
:func:`check_run_memory` for a run of R replicas) before any computation, so a too-large job
fails with a :class:`~mcsgd.errors.ParameterError` naming the sizes instead of being killed
by the kernel's OOM killer. A leaf module: it imports only :mod:`mcsgd.errors`.
"""

from __future__ import annotations

import os

from mcsgd.errors import ParameterError


def _meminfo(field: str) -> int | None:
    """Bytes of ``field`` (e.g. ``MemAvailable``) in /proc/meminfo, or None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _physical_memory() -> int | None:
    """Bytes of physical memory (``SC_PHYS_PAGES * SC_PAGE_SIZE``), or None."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _first_known(*values: int | None) -> int:
    """The first value that is not None, else 2**40."""
    return next((v for v in values if v is not None), 2**40)


def available_memory() -> int:
    """Bytes of memory available to this process: ``MemAvailable`` from /proc/meminfo, else
    the physical memory (``SC_PHYS_PAGES * SC_PAGE_SIZE``), else 2**40."""
    return _first_known(_meminfo("MemAvailable"), _physical_memory())


def total_memory() -> int:
    """Bytes of physical memory of this host (``SC_PHYS_PAGES * SC_PAGE_SIZE``, else
    ``MemTotal``, else 2**40): the bound for work that may run later or elsewhere (scan tasks)."""
    return _first_known(_physical_memory(), _meminfo("MemTotal"))


def _fmt_bytes(b: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if b < 1024 or unit == "EiB":
            return f"{b:.3g} {unit}"
        b /= 1024
    return f"{b:.3g} EiB"  # pragma: no cover


def check_memory(what: str, nbytes: float, available: int | None = None) -> None:
    """Raise :class:`ParameterError` when ``nbytes`` (an estimate of what ``what`` needs)
    exceeds the memory available (:func:`available_memory`), saying how much is needed."""
    avail = available_memory() if available is None else available
    if not (nbytes <= avail):
        raise ParameterError(f"{what} needs about {_fmt_bytes(float(nbytes))} of memory, more "
                             f"than the {_fmt_bytes(float(avail))} available")


def run_memory_bytes(n: int, m: int, replicas: int, grid_points: int, sgd: bool) -> float:
    """A lower bound on the bytes a run of ``replicas`` replicas of an N-node, M-edge instance
    holds: per replica the state (N bytes) and local fields (2N), SGD flags and stamps
    (9 bytes per half-edge), and three float64 records per grid point."""
    per = 3.0 * n + (18.0 * m if sgd else 0.0) + 24.0 * grid_points + 64.0
    return float(replicas) * per + 16.0 * grid_points


def check_run_memory(n: int, m: int, replicas: int, grid_points: int, sgd: bool,
                     what: str = "the run", available: int | None = None) -> None:
    """:func:`check_memory` of :func:`run_memory_bytes` (names the sizes in the message)."""
    check_memory(f"{what} ({replicas} replicas of N = {n}, M = {m}, {grid_points} grid "
                 "points)", run_memory_bytes(n, m, replicas, grid_points, sgd), available)
