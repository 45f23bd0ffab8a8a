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
                                                (:mod:`problems.seeds`)
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
"""

from __future__ import annotations

import numpy as np

from mcsgd.problems.seeds import (
    INSTANCE,
    MAX_SEED,
    WORD,
    SeedError,
    check_key,
    check_seed,
    instance_key,
    instance_rng,
    params_words,
    seed_sequence,
    tag,
)
from mcsgd.rng import stream_states

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
