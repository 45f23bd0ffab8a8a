"""The one figure convention of :mod:`mcsgd.plots`: object-oriented matplotlib.

Every plot function builds a :class:`matplotlib.figure.Figure` (no pyplot state, no global
backend: saving picks the canvas from the file extension: ``.pdf``, ``.svg``, ``.png``, ...),
returns it, and writes it when given a path. matplotlib is an optional extra
(``pip install 'mcsgd[plot]'``) imported lazily.

The common keywords of every plot function:

``ax``
    draw into existing Axes instead of a new Figure (the Axes' Figure is returned; its size
    and layout are left alone). One Axes draws the main panel only; a sequence of Axes, one per
    panel, draws every panel.
``figsize``, ``dpi``
    size in inches of a new Figure, and resolution of raster output (PNG).
``style``
    a matplotlib style name (``"seaborn-v0_8-paper"``), a path, an rc dict
    (``{"font.size": 8}``) or a list of them, applied for this call only
    (:func:`matplotlib.style.context`: rcParams are restored on return).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mcsgd.errors import ParameterError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Style = str | dict[str, Any] | Sequence[str | dict[str, Any]] | None
FLAGGED_COLOR = "0.6"  # grey of flagged (diagnostics failed) points


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


@contextlib.contextmanager
def styled(style: Style) -> Iterator[None]:
    """Apply ``style`` (name, path, rc dict or list) for the ``with`` block only."""
    if style is None:
        yield
        return
    require_matplotlib()
    import matplotlib.style

    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(matplotlib.style.context(style))
        except (OSError, ValueError, KeyError) as e:
            raise ParameterError(f"style {style!r}: {e}") from None
        yield


def panels(ax: Axes | Sequence[Axes] | None, n: int, figsize: tuple[float, float],
           layout: str | None = None, horizontal: bool = False,
           **subplots_kw: Any) -> tuple[Figure, list[Axes], bool]:
    """The Figure and the ``n`` panel Axes to draw into, and whether the Figure is new.

    ``ax`` None: a new Figure of ``figsize`` (and ``layout``) with ``n`` stacked panels (side
    by side if ``horizontal``; ``subplots_kw`` go to :meth:`Figure.subplots`). One Axes: the
    main panel only (the others are drawn into a scratch Figure that is discarded). A
    sequence: one Axes per panel.
    """
    if ax is None:
        fig = new_figure(figsize, layout=layout)
        shape = (1, n) if horizontal else (n, 1)
        axes = fig.subplots(*shape, squeeze=False, **subplots_kw).ravel()
        return fig, list(axes), True
    given = [ax] if not isinstance(ax, Sequence) and not isinstance(ax, np.ndarray) \
        else list(np.ravel(np.asarray(ax, dtype=object)))
    if len(given) not in (1, n):
        raise ParameterError(f"ax: {len(given)} Axes given, this figure has {n} panel(s) "
                             f"(give one Axes for the main panel, or {n})")
    if len(given) < n:
        scratch = new_figure((1, 1))
        given += list(scratch.subplots(n - 1, 1, squeeze=False)[:, 0])
    fig = given[0].figure
    while getattr(fig, "figure", fig) is not fig:  # a SubFigure's root Figure
        fig = fig.figure
    return fig, given, False


def describe(params: dict[str, Any] | None) -> str:
    """One line of run sizes from a result's params: N, q, instances × replicas, sweeps.

    Looks at the top level, then ``problem`` and ``experiment`` tables (a stored spec's
    ``spec`` with its ``[quick]`` overrides when ``quick`` is true). Missing keys are left out.
    """
    if not params:
        return ""
    flat: dict[str, Any] = {}
    spec = params.get("spec") if isinstance(params.get("spec"), dict) else None
    for src in ([spec.get("problem"), spec.get("experiment"),
                 spec.get("quick") if params.get("quick") else None] if spec else []) \
            + [params.get("problem"), params.get("experiment"), params]:
        if isinstance(src, dict):
            flat.update({k: v for k, v in src.items() if not isinstance(v, dict)})
    n = flat.get("n", flat.get("N"))
    bits = []
    if n is not None:
        bits.append(f"N = {n}")
    if flat.get("q") is not None and flat.get("problem", "coloring") == "coloring":
        bits.append(f"q = {flat['q']}")
    if flat.get("instances") is not None and flat.get("replicas") is not None:
        ni, nr = flat["instances"], flat["replicas"]
        bits.append(f"{ni} instance{'s' * (ni != 1)} × {nr} replica{'s' * (nr != 1)}")
    elif flat.get("instances") is not None:
        bits.append(f"{flat['instances']} instances")
    if flat.get("sweeps") is not None:
        bits.append(f"{flat['sweeps']} sweeps")
    return ", ".join(bits)


def flags_of(table: dict[str, list], nrows: int) -> list[tuple[str, ...]]:
    """Per-row diagnostic flags of a calibration table (``table["flags"]``: a list of strings
    per row, empty when fine; a comma-separated string is accepted); all empty when absent."""
    raw = table.get("flags")
    if raw is None:
        return [()] * nrows
    out = []
    for f in raw:
        if not f:
            out.append(())
        elif isinstance(f, str):
            out.append(tuple(x.strip() for x in f.split(",") if x.strip()))
        else:
            out.append(tuple(str(x) for x in f))
    return out


def color_cycle() -> list[str]:
    """The colours of the current matplotlib property cycle."""
    import matplotlib

    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


def nan_array(values: Iterable[Any]) -> np.ndarray:
    """float64 array of ``values`` with None as NaN (JSON-style tables)."""
    return np.array([np.nan if x is None else x for x in values], dtype=float)
