"""Parameter scans: TOML scan files expanded into content-addressed, resumable tasks.

``load_spec`` (validate + expand a scan file), ``run_scan`` (local / SLURM / Dask),
``status`` and ``gather``/``write_summary`` (collect). Reference: ``docs/scans.md``.
"""

from mcsgd.experiments.scan.collect import gather, summary_json, write_summary
from mcsgd.experiments.scan.executors import run_scan
from mcsgd.experiments.scan.spec import (
    MAX_TASKS,
    Spec,
    Task,
    check_task_count,
    load_spec,
    spec_from_text,
)
from mcsgd.experiments.scan.store import DiskFullError, check_result, status

__all__ = [
    "MAX_TASKS",
    "DiskFullError",
    "Spec",
    "Task",
    "check_result",
    "check_task_count",
    "gather",
    "load_spec",
    "run_scan",
    "spec_from_text",
    "status",
    "summary_json",
    "write_summary",
]
