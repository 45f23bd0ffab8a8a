"""Parameter scans: TOML scan files expanded into content-addressed, resumable tasks.

``load_spec`` (validate + expand a scan file), ``run_scan`` (local / SLURM / Dask),
``status``, ``gather``/``write_summary`` (collect) and ``load_summary`` (a scan as a
pandas DataFrame). Reference: ``docs/scans.md``; file
layouts: :mod:`mcsgd.storage.scan`.
"""

from mcsgd.experiments.scan.collect import gather, load_summary, summary_json
from mcsgd.experiments.scan.executors import run_scan
from mcsgd.experiments.scan.spec import (
    MAX_TASKS,
    Spec,
    Task,
    check_task_count,
    load_spec,
    spec_from_text,
)
from mcsgd.experiments.scan.store import check_result, status
from mcsgd.storage.h5 import DiskFullError
from mcsgd.storage.scan import write_summary

__all__ = [
    "MAX_TASKS",
    "DiskFullError",
    "Spec",
    "Task",
    "check_result",
    "check_task_count",
    "gather",
    "load_spec",
    "load_summary",
    "run_scan",
    "spec_from_text",
    "status",
    "summary_json",
    "write_summary",
]
