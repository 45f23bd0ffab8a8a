"""The one figure convention of :mod:`mcsgd.plots`: object-oriented matplotlib.

Every plot function builds a :class:`matplotlib.figure.Figure` (no pyplot state, no global
backend: saving picks the canvas from the file extension), returns it, and writes it when given
a path. matplotlib is an optional extra (``pip install 'mcsgd[plot]'``) imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from mcsgd.errors import ParameterError

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def require_matplotlib() -> type[Figure]:
    """matplotlib's Figure class, or a clear ParameterError if matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ParameterError("--plot needs matplotlib: pip install 'mcsgd[plot]'") from None
    return Figure


def new_figure(figsize: tuple[float, float], **kwargs: Any) -> Figure:
    """A new Figure of ``figsize`` inches (``kwargs`` go to the Figure, e.g. ``layout``)."""
    return require_matplotlib()(figsize=figsize, **kwargs)


def save(fig: Figure, path: str | None, dpi: float) -> Figure:
    """Write ``fig`` to ``path`` (format from its extension) unless ``path`` is None."""
    if path is not None:
        fig.savefig(path, dpi=dpi)
    return fig


def color_cycle() -> list[str]:
    """The colours of the current matplotlib property cycle."""
    import matplotlib

    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


def nan_array(values: Iterable[Any]) -> np.ndarray:
    """float64 array of ``values`` with None as NaN (JSON-style tables)."""
    return np.array([np.nan if x is None else x for x in values], dtype=float)
