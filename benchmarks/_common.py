"""Helpers shared by the benchmark scripts (not part of the package)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE / "build"
ROOT = HERE.parent


def build_dir() -> Path:
    """``benchmarks/build`` (git-ignored), created on demand."""
    BUILD.mkdir(exist_ok=True)
    return BUILD


def machine() -> str:
    """One line describing the CPU, the core count and the Python/numba versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numba
    import numpy as np

    return (
        f"{cpu}; {os.cpu_count()} logical CPUs; Python {platform.python_version()}; "
        f"numpy {np.__version__}; numba {numba.__version__}"
    )


def median(xs):
    """Median of a non-empty sequence."""
    ys = sorted(xs)
    k = len(ys)
    return ys[k // 2] if k % 2 else 0.5 * (ys[k // 2 - 1] + ys[k // 2])


def run_python(code: str, *args: str, env: dict | None = None, python: str | None = None) -> str:
    """Run ``python -c code args...`` in a fresh process; return its stdout (raise on failure)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    out = subprocess.run(
        [python or sys.executable, "-c", code, *args],
        capture_output=True, text=True, env=e, cwd=ROOT,
    )
    if out.returncode != 0:
        raise RuntimeError(f"subprocess failed ({out.returncode}):\n{out.stderr}")
    return out.stdout
