"""Validation of the ``[slurm]`` and ``[dask]`` settings of a scan file (what reaches sbatch).

The values of these tables are written into job scripts (``#SBATCH`` lines and shell commands),
so each must be something SLURM (or dask-jobqueue) accepts and nothing more: no newline or other
control character (a newline in a ``#SBATCH`` line would start a shell command), a job time in
one of SLURM's formats, a memory size with a unit, names from a safe character set, and extra
directives as single ``--option[=value]`` words. Errors name the key, e.g.
``slurm.job_name: 'x\\ntouch ...' contains a control character`` (a
:class:`~mcsgd.errors.ParameterError`, exit 2).
"""

from __future__ import annotations

import re
from typing import Any

from mcsgd.errors import ParameterError

_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,127}")
_PARTITION = re.compile(r"[A-Za-z0-9_.\-]{1,64}(,[A-Za-z0-9_.\-]{1,64})*")
_MEM = re.compile(r"[0-9]{1,12}[KMGT]?")
_DASK_MEM = re.compile(r"[0-9]{1,12}(\.[0-9]{1,6})? ?([kKMGTP]i?B|B)?")
_IFACE = re.compile(r"[A-Za-z0-9_.:\-]{1,32}")
_OPTION = re.compile(r"--[a-z][a-z0-9\-]{0,63}(=[A-Za-z0-9_.,:=@%+/\-]{1,256})?")
_ADDRESS = re.compile(r"([a-z]+://)?[A-Za-z0-9_.\-\[\]:]{1,255}(/[A-Za-z0-9_.\-/]*)?")
# SLURM --time formats: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
# days-hours:minutes, days-hours:minutes:seconds (sbatch(1)); plus UNLIMITED / INFINITE
_TIME = re.compile(
    r"(?P<m>[0-9]{1,7})"
    r"|(?P<m2>[0-9]{1,7}):(?P<s2>[0-5]?[0-9])"
    r"|(?P<h3>[0-9]{1,6}):(?P<m3>[0-5]?[0-9]):(?P<s3>[0-5]?[0-9])"
    r"|(?P<d>[0-9]{1,5})-(?P<dh>[01]?[0-9]|2[0-3])"
    r"(:(?P<dm>[0-5]?[0-9])(:(?P<ds>[0-5]?[0-9]))?)?"
    r"|UNLIMITED|INFINITE|unlimited|infinite"
)
TIME_FORMATS = ("MM", "MM:SS", "HH:MM:SS", "D-HH", "D-HH:MM", "D-HH:MM:SS")


def _fail(path: str, v: Any, why: str) -> ParameterError:
    return ParameterError(f"{path}: {v!r} {why}")


def no_control(path: str, v: str) -> str:
    """``v`` unless it holds a newline or another control character."""
    if _CTRL.search(v):
        raise _fail(path, v, "contains a control character (newline, tab, ...)")
    return v


def _match(path: str, v: Any, rx: re.Pattern, what: str, allow_empty: bool = False) -> str:
    if not isinstance(v, str):
        raise _fail(path, v, "is not a string")
    if allow_empty and v == "":
        return v
    no_control(path, v)
    if not rx.fullmatch(v):
        raise _fail(path, v, f"is not {what}")
    return v


def slurm_time(path: str, v: Any) -> str:
    """A SLURM time limit (``TIME_FORMATS``, or UNLIMITED)."""
    return _match(path, v, _TIME, f"a SLURM time ({', '.join(TIME_FORMATS)} or UNLIMITED)")


def slurm_option(path: str, v: Any) -> str:
    """One ``#SBATCH`` directive: ``--name`` or ``--name=value`` (no spaces or quotes)."""
    return _match(path, v, _OPTION, "a single sbatch option --name[=value] (value of letters, "
                  "digits and _.,:=@%+/-; no spaces, quotes or shell characters)")


def _options(path: str, v: Any) -> list[str]:
    if not isinstance(v, list):
        raise _fail(path, v, "is not a list of sbatch options")
    return [slurm_option(f"{path}[{i}]", x) for i, x in enumerate(v)]


def check_slurm(s: dict[str, Any], path: str = "slurm") -> dict[str, Any]:
    """Validate the string values of a ``[slurm]`` table (numbers are checked by the loader)."""
    _match(f"{path}.job_name", s["job_name"], _NAME,
           "a job name of letters, digits and _.+- (at most 128, not starting with . + -)")
    slurm_time(f"{path}.time", s["time"])
    _match(f"{path}.mem_per_cpu", s["mem_per_cpu"], _MEM,
           "a memory size: an integer with an optional unit K, M, G or T (default M)")
    _match(f"{path}.partition", s["partition"], _PARTITION,
           "a partition name (letters, digits, _.-; several separated by commas)",
           allow_empty=True)
    _options(f"{path}.extra", s["extra"])
    if not isinstance(s["template"], str):
        raise _fail(f"{path}.template", s["template"], "is not a string")
    no_control(f"{path}.template", s["template"])
    return s


def check_dask(d: dict[str, Any], path: str = "dask") -> dict[str, Any]:
    """Validate the string values of a ``[dask]`` table."""
    _match(f"{path}.memory", d["memory"], _DASK_MEM,
           "a memory size with a unit, e.g. 1GB, 500MB, 2GiB")
    slurm_time(f"{path}.walltime", d["walltime"])
    _match(f"{path}.queue", d["queue"], _PARTITION,
           "a partition name (letters, digits, _.-; several separated by commas)",
           allow_empty=True)
    _match(f"{path}.interface", d["interface"], _IFACE, "a network interface name",
           allow_empty=True)
    _match(f"{path}.scheduler", d["scheduler"], _ADDRESS,
           "a scheduler address such as tcp://host:8786", allow_empty=True)
    _options(f"{path}.job_extra", d["job_extra"])
    return d
