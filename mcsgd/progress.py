"""Progress and log lines on stderr, for terminals and batch logs alike (a thin layer over tqdm).

One API for every long command and experiment:

* :func:`configure` sets the level of the ``mcsgd`` :mod:`logging` logger once per process
  (the CLI's root ``-q``/``-v``): ``-1`` warnings and errors only (no bars, no stage lines),
  ``0`` stage lines and bars (default), ``1`` also debug lines.
* :class:`Progress` reports one command: ``stage(msg, total=None)`` starts a stage (a plain line
  ``[desc] msg``), ``update(done, total)`` advances a counter inside it (sweeps, iterations,
  tasks) and ``debug(msg)`` logs a detail. When stderr is a terminal a stage with a counter is a
  tqdm bar with ETA; otherwise (batch logs, pipes) each stage is one plain line and a counter
  adds at most one line every ``interval`` seconds. Calling the object with a string starts a
  stage and with ``(done, total)`` updates the counter, so it is both kinds of ``progress``
  callback the experiments and :func:`mcsgd.driver.run` take.
* :func:`counter` gives an experiment the counter of a ``progress`` callback, if it has one.

Only the standard library and tqdm are imported (a leaf module). Nothing here goes to stdout.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

LOGGER = logging.getLogger("mcsgd")

# verbosity -> logging level of the "mcsgd" logger
_LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}


class _TqdmHandler(logging.StreamHandler):
    """A stream handler writing through ``tqdm.write`` so a line never breaks an open bar."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=self.stream)
            self.flush()
        except Exception:  # pragma: no cover - logging must never raise
            self.handleError(record)


def configure(verbosity: int = 0, stream: TextIO | None = None) -> None:
    """Set the ``mcsgd`` logger: ``verbosity`` -1 (quiet), 0 (default) or 1 (verbose).

    Installs one handler on stderr (``stream``; replaced on a second call) printing the bare
    message; the logger does not propagate to the root logger.
    """
    level = _LEVELS[max(-1, min(1, int(verbosity)))]
    for h in list(LOGGER.handlers):
        if isinstance(h, _TqdmHandler):
            LOGGER.removeHandler(h)
    h = _TqdmHandler(stream if stream is not None else sys.stderr)
    h.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.addHandler(h)
    LOGGER.setLevel(level)
    LOGGER.propagate = False


def _fmt_s(s: float) -> str:
    return f"{s:.0f}s" if s < 120 else f"{s / 60:.1f}min"


class Progress:
    """Stages and counters of one command on stderr (module docstring).

    Parameters
    ----------
    desc : str
        Label of the command (``[desc] ...`` lines, the bar's prefix).
    total : int, optional
        Total of a counter started at once (e.g. the sweeps of ``mcsgd run``).
    quiet : bool
        Print nothing (also when the ``mcsgd`` logger is below INFO: root ``-q``).
    interval : float
        Seconds between counter lines when stderr is not a terminal.
    stream : file, optional
        Where bars and lines go (default ``sys.stderr``).
    unit : str
        Unit of the counter on a bar (e.g. ``"sweep"``).
    """

    def __init__(self, desc: str = "", total: int | None = None, *, quiet: bool = False,
                 interval: float = 10.0, stream: TextIO | None = None,
                 unit: str = "it") -> None:
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet or not LOGGER.isEnabledFor(logging.INFO)
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval
        self.label = ""
        self.total: int | None = None
        self.done = 0
        self._bar: Any = None
        self._t0 = time.monotonic()
        self._last = -1e18
        self._counted = False
        self._deferred = False
        if total is not None:
            self.total = max(int(total), 1)

    # -- stages ------------------------------------------------------------------------------
    def stage(self, msg: str, total: int | None = None, *, defer: bool = False) -> None:
        """Start a stage: a ``[desc] msg`` line (and a bar over ``total`` on a terminal).

        ``defer``: show it at the first :meth:`update` only (a command that may still refuse
        its input prints nothing before its one-line error).
        """
        self._close_bar()
        self.label, self.done = msg, 0
        self.total = None if total is None else max(int(total), 1)
        self._t0, self._last = time.monotonic(), time.monotonic()
        self._counted = False
        self._deferred = defer
        if self.quiet or defer:
            return
        if self.tty and self.total is not None:
            self._open_bar()
        else:
            self._line(msg)

    def update(self, done: int, total: int | None = None) -> None:
        """The current stage (or the whole command) has done ``done`` of ``total`` units."""
        if total is not None:
            self.total = max(int(total), 1)
        self.done = int(done)
        if self.quiet or self.total is None:
            return
        if self._deferred:
            self._deferred = False
            if not self.tty:
                self._line(self.label)
                self._last = time.monotonic()
        if self.tty:
            if self._bar is None:
                self._open_bar()
            elif self._bar.desc != self._title():  # a caller changed desc (e.g. the scan)
                self._bar.set_description_str(self._title(), refresh=False)
            self._bar.total = self.total
            self._bar.n = min(self.done, self.total)
            self._bar.refresh()
            return
        now = time.monotonic()
        # batch logs: a line every `interval` s; the end of a stage only if it took a line
        finished = self.done >= self.total and (self._counted or now - self._t0 >= self.interval)
        if not finished and now - self._last < self.interval:
            return
        if self.done >= self.total and not finished:
            return
        self._last, self._counted = now, True
        frac = min(self.done / self.total, 1.0)
        el = now - self._t0
        eta = f"eta {_fmt_s(el / frac - el)}" if 0 < frac < 1 else f"elapsed {_fmt_s(el)}"
        what = f"{self.label}: " if self.label else ""
        self._line(f"{what}{self.done}/{self.total} ({100 * frac:.0f}%), {eta}")

    def debug(self, msg: str) -> None:
        """A detail, shown with ``-v`` only."""
        if not self.quiet:
            LOGGER.debug(self._prefix(msg))

    def __call__(self, *args: Any) -> None:
        """``progress(msg)`` starts a stage; ``progress(done, total)`` updates the counter."""
        if len(args) == 1 and isinstance(args[0], str):
            self.stage(args[0])
        else:
            self.update(*args)

    def close(self) -> None:
        """End the bar of the current stage, if any."""
        self._close_bar()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- output ------------------------------------------------------------------------------
    def _prefix(self, msg: str) -> str:
        return f"[{self.desc}] {msg}" if self.desc else msg

    def _title(self) -> str:
        return self._prefix(self.label) if self.label else self.desc

    def _line(self, msg: str) -> None:
        if any(getattr(h, "stream", None) is self.stream for h in LOGGER.handlers):
            LOGGER.info(self._prefix(msg))
        else:  # not configured (library use), or another stream than the handler's
            from tqdm import tqdm

            tqdm.write(self._prefix(msg), file=self.stream)
            self.stream.flush()

    def _open_bar(self) -> None:
        import shutil

        from tqdm import tqdm

        # a terminal that reports no size (e.g. a bare pty) would get an empty, hidden bar
        size = shutil.get_terminal_size((0, 0))
        wide = size.columns > 0
        self._bar = tqdm(total=self.total, desc=self._title(), file=self.stream, leave=True,
                         dynamic_ncols=wide, ncols=None if wide else 100,
                         nrows=None if size.lines > 0 else 24, mininterval=0.2, unit=self.unit)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def counter(progress: Callable[..., None] | None) -> Callable[[int, int], None] | None:
    """The ``(done, total)`` counter of an experiment's ``progress`` callback, if it has one
    (a :class:`Progress`); None for a plain ``progress(msg)`` function."""
    return progress.update if isinstance(progress, Progress) else None


def stage(progress: Callable[..., None] | None, msg: str, total: int | None = None) -> None:
    """Start a stage on ``progress`` (a :class:`Progress` gets ``total`` for its bar; a plain
    callback gets ``msg`` only; None: nothing)."""
    if isinstance(progress, Progress):
        progress.stage(msg, total)
    elif progress is not None:
        progress(msg)
