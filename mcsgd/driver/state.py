"""The chain state: everything a run needs to continue bit-identically, and nothing else.

A :class:`ChainState` holds the configurations int8[R, N], the xoshiro256** rows uint64[R, 4],
the integer total energies and accepted-move counters int64[R], the number of sweeps done ``t``,
the sweep ``epoch0`` at which the current dynamics started (mini-batch epochs count from there),
the measurement-window trace (``trace``, ``w0``, ``blk``, ``window_len``) and, while the
dynamics runs on explicit mini-batch flags, the flag workspaces. Its :meth:`~ChainState.to_dict`
is the ``runner/`` group of the one checkpoint layout (:mod:`mcsgd.storage.run`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mcsgd.errors import ParameterError

FLAG_KEYS = ("flags", "stamp", "perm")


@dataclasses.dataclass(eq=False)
class ChainState:
    """State of R replicas of one chain (module docstring); arrays are mutated in place."""

    s: np.ndarray
    rng: np.ndarray
    energy: np.ndarray
    accepted: np.ndarray
    t: int = 0
    epoch0: int = 0
    trace: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros((0, 0)))
    w0: int = 0
    blk: int = 1
    window_len: int = 0
    flags: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-identically (arrays are references, not copies).

        ``flags``, ``stamp`` and ``perm`` (the mini-batch workspaces) are present iff the
        current dynamics runs on explicit flags.
        """
        d: dict[str, Any] = {
            "s": self.s, "rng": self.rng, "energy": self.energy, "accepted": self.accepted,
            "trace": self.trace, "t": self.t, "w0": self.w0, "blk": self.blk,
            "window_len": self.window_len, "epoch0": self.epoch0,
        }
        if self.flags is not None:
            d.update(zip(FLAG_KEYS, self.flags, strict=True))
        return d

    def check_dict(self, d: dict[str, Any], what: str = "state_dict", dynamics: Any = None) -> None:
        """Raise ParameterError if ``d`` cannot be loaded into this state: an array with another
        shape, or flag workspaces on exactly one side (saved under other ``dynamics``)."""
        has, want = "flags" in d, self.flags is not None
        if has != want:
            raise ParameterError(
                f"{what} " + ("has" if has else "lacks") + " mini-batch flag workspaces "
                "(flags/stamp/perm) but this chain's dynamics "
                + ("uses none" if has else "needs them")
                + ("" if dynamics is None else f" ({dynamics!r})")
                + ": the state was saved under other dynamics"
            )
        mine = self.to_dict()
        names = ["s", "rng", "energy", "accepted"] + (list(FLAG_KEYS) if want else [])
        for name in names:
            if np.shape(d[name]) != np.shape(mine[name]):
                raise ParameterError(
                    f"{what} array {name!r} has shape {np.shape(d[name])}, this chain "
                    f"needs {np.shape(mine[name])}"
                )

    def load_dict(self, d: dict[str, Any], dynamics: Any = None) -> None:
        """Restore a :meth:`to_dict` (after :meth:`check_dict`; changes nothing if it fails).

        A missing ``epoch0`` or ``window_len`` (states written before they existed) means 0.
        """
        self.check_dict(d, dynamics=dynamics)
        self.s[:] = d["s"]
        self.rng[:] = d["rng"]
        self.energy[:] = d["energy"]
        self.accepted[:] = d["accepted"]
        self.trace = np.array(d["trace"], dtype=np.float64)
        self.t, self.w0, self.blk = int(d["t"]), int(d["w0"]), int(d["blk"])
        self.window_len = int(d.get("window_len", 0))
        self.epoch0 = int(d.get("epoch0", 0))
        if self.flags is not None:
            for dst, key in zip(self.flags, FLAG_KEYS, strict=True):
                dst[...] = d[key]
