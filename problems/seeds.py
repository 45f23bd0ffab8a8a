"""The random stream of an instance: instance k of (problem parameters, seed).

Every random stream of the project comes from ``numpy.random.SeedSequence(seed, spawn_key=...)``
whose first spawn-key word names its purpose (the namespaces are listed in :mod:`mcsgd.seeds`,
which re-exports this module's :data:`INSTANCE`). Instances live in the ``INSTANCE`` namespace::

    SeedSequence(seed, spawn_key=(INSTANCE, h1, h2, k))

with ``(h1, h2)`` the first two 32-bit words of SHA-256 of the generator's canonical parameters
(every argument except ``seed`` and ``instance``, normalised as stored in ``Instance.params``)
and ``k`` the instance index. So the same (parameters, seed, k) gives the same graph whichever
command builds it (``mcsgd generate --seed S --instance K``, ``calibrate``, ``recover``, a scan
task), and different parameters or indices give independent graphs.

This module imports nothing from :mod:`mcsgd` (``problems`` sits below ``mcsgd``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

WORD = 2**32  # every spawn-key word must be < 2**32 (a larger int is split into several words)
MAX_SEED = 2**64  # seeds >= 2**128 alias spawn keys in SeedSequence; 64 bits is plenty


def tag(name: str) -> int:
    """The 32-bit namespace word of a 4-letter ASCII tag (e.g. ``tag("inst")``)."""
    b = name.encode("ascii")
    if len(b) != 4:
        raise ValueError(f"namespace tag {name!r} must be 4 ASCII characters")
    return int.from_bytes(b, "big")


INSTANCE = tag("inst")  #: namespace word of instance generation


class SeedError(ValueError):
    """A seed, instance index or spawn-key word outside its allowed range."""


def check_seed(seed: int, name: str = "seed") -> int:
    """``seed`` as an int in [0, 2**64); :class:`SeedError` otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) \
            or not 0 <= int(seed) < MAX_SEED:
        raise SeedError(f"{name} = {seed!r} must be an integer in [0, 2**64)")
    return int(seed)


def check_key(key: tuple[int, ...], name: str = "spawn key") -> tuple[int, ...]:
    """``key`` as a tuple of ints in [0, 2**32) (SeedSequence splits larger words, which
    would alias different keys); :class:`SeedError` otherwise."""
    out = []
    for w in key:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 0 <= int(w) < WORD:
            raise SeedError(f"{name} word {w!r} must be an integer in [0, 2**32)")
        out.append(int(w))
    return tuple(out)


def seed_sequence(seed: int, key: tuple[int, ...]) -> np.random.SeedSequence:
    """``SeedSequence(seed, spawn_key=key)`` after range checks (seed < 2**64, words < 2**32)."""
    return np.random.SeedSequence(check_seed(seed), spawn_key=check_key(tuple(key)))


def params_words(params: dict[str, Any]) -> tuple[int, int]:
    """Two 32-bit words of SHA-256 of the canonical JSON of ``params`` without ``seed`` and
    ``instance`` (sorted keys, no spaces)."""
    p = {k: v for k, v in params.items() if k not in ("seed", "instance")}
    s = json.dumps(p, sort_keys=True, separators=(",", ":"), allow_nan=False)
    h = hashlib.sha256(s.encode()).digest()
    return int.from_bytes(h[0:4], "little"), int.from_bytes(h[4:8], "little")


def instance_key(params: dict[str, Any], k: int) -> tuple[int, ...]:
    """Spawn key ``(INSTANCE, h1, h2, k)`` of instance ``k`` of the generator ``params``."""
    h1, h2 = params_words(params)
    return (INSTANCE, h1, h2) + check_key((k,), "instance")


def instance_rng(params: dict[str, Any], seed: int, k: int = 0) -> np.random.Generator:
    """The generator's stream for instance ``k`` of (``params``, ``seed``): a PCG64 ``Generator``
    seeded from ``SeedSequence(seed, spawn_key=instance_key(params, k))``.

    ``params`` are the generator's canonical parameters (as stored in ``Instance.params``;
    ``seed`` and ``instance`` entries are ignored).
    """
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, instance_key(params, k))))
