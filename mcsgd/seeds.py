"""Seed namespaces: one spawn-key namespace per purpose, so no two purposes share a stream.

Every random stream is ``numpy.random.SeedSequence(seed, spawn_key=(NAMESPACE, ...))`` with the
user's seed (< 2**64) and a first spawn-key word naming the purpose. The words are 4-letter ASCII
tags read as 32-bit integers; every spawn-key word is < 2**32 (a larger integer would be split
into several words and alias another key). Two streams of different purposes therefore never
coincide, whatever the seed and the task keys.

================ ============================== ========================================
purpose          namespace word                 spawn key
================ ============================== ========================================
instance k       ``INSTANCE`` ("inst")          ``(INSTANCE, h1, h2, k)``, (h1, h2) = hash
                                                of the generator's parameters
                                                (:func:`instance_key`)
initial config.  ``INIT`` ("init")              ``(INIT, *K, r)``: replica r, task key K
dynamics         ``DYNAMICS`` ("dyna")          ``(DYNAMICS, *K, r)``
BP messages      ``BP_MESSAGES`` ("bpms")       ``(BP_MESSAGES,)``: random initial messages
BP update order  ``BP_ORDER`` ("bpor")          ``(BP_ORDER, 0)``: random-schedule shuffles
continuous model ``CONTINUOUS_MODEL`` ("cmod")  ``(CONTINUOUS_MODEL, *K)``: data, model, θ0
continuous SGD   ``CONTINUOUS_SGD`` ("csgd")    ``(CONTINUOUS_SGD, *K)``: batches and noise
================ ============================== ========================================

The task key K says which run a stream belongs to and leads with a word naming the command
that made the task (a direct ``run`` / ``mcsgd run`` has K = ``()`` unless the caller gives one):

=========== =========================== =============================================
origin      word                        task key K
=========== =========================== =============================================
calibrate   ``CALIBRATION`` ("cali")    ``(CALIBRATION, k, role, *j)``: role
                                        ``CAL_TARGET`` (target j), ``CAL_PLANTED``
                                        (target j from the planted start) or
                                        ``CAL_GRID`` (Metropolis grid point; j = the
                                        two 32-bit words of round(T * 1e6))
recover     ``RECOVERY`` ("reco")       ``(RECOVERY, h1, h2, k)``, (h1, h2) = hash of
                                        (c, the setting's parameters)
scan task   ``SCAN`` ("scan")           ``(SCAN, h1, h2)``, (h1, h2) = hash of the task
demo        ``DEMO`` ("demo")           ``(DEMO, j)`` for the demo's j-th dynamics
=========== =========================== =============================================

Instances never depend on the dynamics: instance k of (parameters, seed) is the same graph for
``mcsgd generate --seed S --instance k``, ``calibrate``/``recover``/``reproduce`` with seed S,
and a scan with root seed S (scan instance index k).

The instance stream in detail::

    SeedSequence(seed, spawn_key=(INSTANCE, h1, h2, k))

with ``(h1, h2)`` the first two 32-bit words of SHA-256 of the generator's canonical parameters
(every argument except ``seed`` and ``instance``, normalised as stored in ``Instance.params``)
and ``k`` the instance index. So the same (parameters, seed, k) gives the same graph whichever
command builds it, and different parameters or indices give independent graphs.

This module is a leaf (it imports only :mod:`mcsgd.rng`), so ``mcsgd.problems`` may use it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from mcsgd.rng import stream_states

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

# ---- purposes (first spawn-key word) -----------------------------------------------------------
INIT = tag("init")
DYNAMICS = tag("dyna")
BP_MESSAGES = tag("bpms")
BP_ORDER = tag("bpor")
CONTINUOUS_MODEL = tag("cmod")
CONTINUOUS_SGD = tag("csgd")

# ---- origins (first word of a task key) --------------------------------------------------------
CALIBRATION = tag("cali")
RECOVERY = tag("reco")
SCAN = tag("scan")
DEMO = tag("demo")
CAL_TARGET, CAL_PLANTED, CAL_GRID = 1, 2, 3

PURPOSES: dict[str, int] = {
    "instance": INSTANCE, "init": INIT, "dynamics": DYNAMICS, "bp_messages": BP_MESSAGES,
    "bp_order": BP_ORDER, "continuous_model": CONTINUOUS_MODEL, "continuous_sgd": CONTINUOUS_SGD,
}
ORIGINS: dict[str, int] = {"calibration": CALIBRATION, "recovery": RECOVERY, "scan": SCAN,
                           "demo": DEMO}
assert len(set(PURPOSES.values())) == len(PURPOSES), "purpose words must be distinct"
assert len(set(ORIGINS.values())) == len(ORIGINS), "origin words must be distinct"

__all__ = [
    "BP_MESSAGES", "BP_ORDER", "CALIBRATION", "CAL_GRID", "CAL_PLANTED", "CAL_TARGET",
    "CONTINUOUS_MODEL", "CONTINUOUS_SGD", "DEMO", "DYNAMICS", "INIT", "INSTANCE", "MAX_SEED",
    "ORIGINS", "PURPOSES", "RECOVERY", "SCAN", "WORD", "SeedError", "check_key", "check_seed",
    "dynamics_states", "init_states", "instance_key", "instance_rng", "namespaced_generator",
    "namespaced_states", "params_words", "seed_sequence", "tag",
]


def namespaced_states(purpose: int, seed: int, key: tuple[int, ...], replicas: int) -> np.ndarray:
    """``uint64[R, 4]`` xoshiro256** rows; row r from ``SeedSequence(seed, (purpose, *key, r))``."""
    return stream_states(check_seed(seed), (purpose,) + check_key(tuple(key)), replicas)


def dynamics_states(seed: int, key: tuple[int, ...], replicas: int) -> np.ndarray:
    """Dynamics streams of the R replicas of a run with task key ``key``."""
    return namespaced_states(DYNAMICS, seed, key, replicas)


def init_states(seed: int, key: tuple[int, ...], replicas: int) -> np.ndarray:
    """Initial-configuration streams of the R replicas of a run with task key ``key``."""
    return namespaced_states(INIT, seed, key, replicas)


def namespaced_generator(purpose: int, seed: int, key: tuple[int, ...] = ()) -> np.random.Generator:
    """A PCG64 ``Generator`` from ``SeedSequence(seed, spawn_key=(purpose, *key))``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(seed, (purpose,) + tuple(key))))
