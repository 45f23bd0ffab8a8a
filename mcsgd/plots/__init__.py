"""Figures (matplotlib is an optional extra: ``pip install 'mcsgd[plot]'``).

One convention (:mod:`mcsgd.plots._figure`): object-oriented matplotlib, no pyplot state and no
global backend; every plot function returns its Figure and writes it when given a path (format
from the extension: PDF, SVG, PNG), and takes ``ax=`` (draw into existing Axes), ``figsize``,
``dpi`` and ``style`` (applied to that call only); see docs/figures.md. Calibration figures in
:mod:`~mcsgd.plots.calibration`, recovery figures in :mod:`~mcsgd.plots.recovery`, continuous
experiments in :mod:`~mcsgd.plots.continuous`.
"""

from __future__ import annotations

from mcsgd.plots._figure import require_matplotlib
from mcsgd.plots.calibration import plot_relaxation, plot_tb
from mcsgd.plots.continuous import plot_result
from mcsgd.plots.recovery import plot_recovery, plot_recovery_map

__all__ = [
    "require_matplotlib",
    "plot_tb",
    "plot_relaxation",
    "plot_recovery",
    "plot_recovery_map",
    "plot_result",
]
