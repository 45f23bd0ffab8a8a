"""The ``mcsgd scan`` commands as Python calls: plan, run, status, collect.

Each function checks its values (:class:`~mcsgd.errors.ParameterError`, in the order the
command reports them) before any work, then calls the scan machinery (:func:`load_spec`,
:func:`run_scan`, :func:`status`, :func:`gather`); printing is left to the caller.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from mcsgd.errors import ParameterError, check_range
from mcsgd.experiments.scan.spec import Spec


def _check_max_tasks(max_tasks: int | None) -> int | None:
    if max_tasks is not None:
        check_range("--max-tasks", max_tasks, 1, None, integer=True)
    return max_tasks


def parse_shard(text: str | None) -> tuple[int, int]:
    """``"I/N"`` -> ``(I, N)`` with 0 <= I < N; None -> ``(0, 1)`` (every task)."""
    if text is None:
        return (0, 1)
    try:
        i_s, n_s = text.split("/")
        i, n = int(i_s), int(n_s)
    except ValueError:
        raise ParameterError(f"--shard = {text!r} must be I/N with integers 0 <= I < N") \
            from None
    if n < 1 or not 0 <= i < n:
        raise ParameterError(f"--shard = {text!r} must be I/N with integers 0 <= I < N")
    return (i, n)


def plan_scan(spec_path: str, *, out: str | None = None,
              max_tasks: int | None = None) -> Spec:
    """The validated, expanded scan file (``out`` overrides its output directory)."""
    from mcsgd.experiments.scan.spec import load_spec

    return load_spec(spec_path, out=out, max_tasks=_check_max_tasks(max_tasks))


@dataclasses.dataclass
class ScanRun:
    """Result of :func:`run_scan_file`: the spec, the executor's report and, unless a SLURM
    array was only submitted, the status of the tasks this call was responsible for."""

    spec: Spec
    report: dict[str, Any]
    tasks: list[dict[str, Any]] | None = None   # status rows (None: submitted, not waited)

    @property
    def counts(self) -> dict[str, int]:
        """Number of this call's tasks per state (done, running, failed, missing)."""
        return {k: sum(t["state"] == k for t in self.tasks or ())
                for k in ("done", "running", "failed", "missing")}

    @property
    def ok(self) -> bool:
        """Every task of this call is done."""
        return self.counts["done"] == len(self.tasks or ())


def run_scan_file(spec_path: str, *, out: str | None = None, max_tasks: int | None = None,
                  executor: str = "local", workers: int | None = None,
                  threads: int | None = None, shard: str | None = None,
                  scheduler: str | None = None, wait: bool = False,
                  quiet: bool = False) -> ScanRun:
    """Run the tasks of a scan file that are not done (``shard`` ``"I/N"``: shard I of N).

    Raises :class:`~mcsgd.experiments.scan.task.Terminated` on SIGTERM (rerun to resume) and
    :class:`~mcsgd.storage.h5.DiskFullError` when the disk is full.
    """
    from mcsgd.experiments.scan.executors import run_scan
    from mcsgd.experiments.scan.manifest_check import check_scan_out
    from mcsgd.experiments.scan.spec import load_spec
    from mcsgd.experiments.scan.spec import shard as select
    from mcsgd.experiments.scan.store import status

    shard_ = parse_shard(shard)
    if workers is not None:
        check_range("--workers", workers, 1, None, integer=True)
    if threads is not None:
        check_range("--threads", threads, 1, None, integer=True)
    if scheduler is not None and executor != "dask":
        raise ParameterError("--scheduler applies to --executor dask")
    if wait and executor != "slurm":
        raise ParameterError("--wait applies to --executor slurm")
    spec = load_spec(spec_path, out=out, max_tasks=_check_max_tasks(max_tasks))
    check_scan_out(spec)
    report = run_scan(spec, executor=executor, workers=workers, threads=threads, shard=shard_,
                      scheduler=scheduler, wait=wait, quiet=quiet)
    if executor == "slurm" and not wait:
        return ScanRun(spec, report)
    st = status(spec.out)
    if executor == "slurm":
        mine = st["tasks"]
    else:
        ids = {t.id for t in select(spec.tasks, *shard_)}
        mine = [t for t in st["tasks"] if t["id"] in ids]
    return ScanRun(spec, report, mine)


def scan_status(directory: str) -> dict[str, Any]:
    """Status of every task of the scan in ``directory`` (:func:`status`), after checking it
    is a scan directory."""
    from mcsgd.experiments.scan.manifest_check import check_scan_dir
    from mcsgd.experiments.scan.store import status

    check_scan_dir(directory)
    return status(directory)


def collect_scan(directory: str, output: str | None = None, *, default_output: bool = True,
                 force: bool = False) -> tuple[dict[str, Any], str | None]:
    """Gather every finished task of the scan in ``directory``; write the summary to
    ``output`` (None: ``directory/summary.h5`` if ``default_output``, else no file).

    Returns the gathered data and the path written (or None).
    """
    from mcsgd.experiments.scan.collect import gather
    from mcsgd.experiments.scan.manifest_check import check_scan_dir
    from mcsgd.storage.paths import check_output
    from mcsgd.storage.scan import write_summary

    if output is None and default_output:
        output = os.path.join(directory, "summary.h5")
    if output is not None and os.path.isdir(output):
        raise ParameterError(f"-o = {output!r} is a directory")
    check_output(output, option="-o", mcsgd_kind="scan-summary", force=force)
    check_scan_dir(directory)
    data = gather(directory)
    if output is not None:
        write_summary(data, output)
    return data, output
