"""Progress reporting that suits both terminals and batch logs.

On a TTY: one self-overwriting bar line on stderr. Otherwise (batch logs): a plain line at most
every ``interval`` seconds. ``quiet=True``: nothing at all.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """Report ``done/total`` of some unit of work.

    Parameters
    ----------
    total : int
        Amount of work (e.g. sweeps or tasks).
    desc : str
        Label printed before the bar.
    quiet : bool
        Print nothing.
    interval : float
        Seconds between plain lines when stderr is not a TTY.
    """

    def __init__(self, total: int, desc: str = "", *, quiet: bool = False,
                 interval: float = 10.0, stream=None) -> None:
        self.total = max(int(total), 1)
        self.desc = desc
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if not self.tty else 0.2
        self.t0 = time.monotonic()
        self.last = -1e9
        self.done = 0

    def __call__(self, done: int, total: int | None = None) -> None:
        """Update to ``done`` units (optionally changing the total)."""
        if total is not None:
            self.total = max(int(total), 1)
        self.done = int(done)
        if self.quiet:
            return
        now = time.monotonic()
        if now - self.last < self.interval and self.done < self.total:
            return
        self.last = now
        frac = min(self.done / self.total, 1.0)
        el = now - self.t0
        eta_s = f"{el / frac - el:6.1f}s" if frac > 0 else "    --"
        if self.tty:
            width = 30
            bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
            self.stream.write(
                f"\r{self.desc} [{bar}] {self.done}/{self.total} {el:6.1f}s eta {eta_s}"
            )
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(
                f"{self.desc}: {self.done}/{self.total} ({100 * frac:.0f}%) "
                f"elapsed {el:.1f}s eta {eta_s.strip()}\n"
            )
        self.stream.flush()

    def close(self) -> None:
        """Finish the line (TTY) if the work stopped early."""
        if not self.quiet and self.tty and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()
