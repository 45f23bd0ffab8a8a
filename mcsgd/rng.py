"""Per-replica random streams: xoshiro256** advanced inside numba kernels.

Every replica owns one row of a ``uint64[R, 4]`` state array. Rows are seeded from
``numpy.random.SeedSequence(entropy, spawn_key=key + (r,))``, so replica ``r`` of a task draws
the same numbers whatever the number of replicas, threads, workers or the execution order.
The project's callers pass keys that lead with a purpose word (:mod:`mcsgd.seeds`), so no two
purposes share a stream.
The state array is part of a run's state: saving it makes a resume bit-exact.

Draws
-----
``next_u64``   : 64 random bits (xoshiro256**, Blackman & Vigna 2018); ``xoshiro`` is the same
                 step on a state held in locals (the kernels' form: one implementation).
``uniform``    : float64 in [0, 1) with 53 random bits.
``randbelow``  : integer in [0, n) for n < 2**32 by the multiply-shift map of the high 32 bits;
                 its bias is below n / 2**32 (< 1e-8 for every n used here).
``u32``        : the low 32 bits, used against 32-bit fixed-point acceptance thresholds
                 (a threshold of 2**32 always accepts, 0 never does: T = 0 and B = 1 are exact).
"""

from __future__ import annotations

import numpy as np

from mcsgd._numba import njit

_U64 = np.uint64


@njit(inline="always")
def _rotl(x, k):
    return (x << _U64(k)) | (x >> _U64(64 - k))


@njit(inline="always")
def xoshiro(s0, s1, s2, s3):
    """One xoshiro256** step on a state held in four uint64 locals: ``(64 random bits, s0, s1,
    s2, s3)``. Kernels keep a replica's row in locals for a whole call (:func:`load_row`,
    :func:`store_row`); :func:`next_u64` is the same step on a row of the state array."""
    result = _rotl(s1 * _U64(5), 7) * _U64(9)
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, s0, s1, s2, s3


@njit(inline="always")
def load_row(state, r):
    """Row ``r`` of ``state`` as four locals (for :func:`xoshiro`)."""
    return state[r, 0], state[r, 1], state[r, 2], state[r, 3]


@njit(inline="always")
def store_row(state, r, s0, s1, s2, s3):
    """Write four locals back into row ``r`` of ``state``."""
    state[r, 0] = s0
    state[r, 1] = s1
    state[r, 2] = s2
    state[r, 3] = s3


@njit(inline="always")
def next_u64(state, r):
    """Advance row ``r`` of ``state`` and return 64 random bits."""
    x, s0, s1, s2, s3 = xoshiro(state[r, 0], state[r, 1], state[r, 2], state[r, 3])
    store_row(state, r, s0, s1, s2, s3)
    return x


@njit(inline="always")
def below(x, n):
    """An integer in [0, n) from the high 32 bits of the draw ``x`` (multiply-shift)."""
    return np.int64(((x >> _U64(32)) * _U64(n)) >> _U64(32))


@njit(inline="always")
def uniform(state, r):
    """A float64 uniform in [0, 1)."""
    return np.float64(next_u64(state, r) >> _U64(11)) * (1.0 / 9007199254740992.0)


@njit(inline="always")
def randbelow(state, r, n):
    """An integer uniform in [0, n), ``n < 2**32``."""
    return below(next_u64(state, r), n)


def stream_states(entropy: int, key: tuple[int, ...], replicas: int) -> np.ndarray:
    """Seed ``replicas`` independent xoshiro256** streams.

    Parameters
    ----------
    entropy : int
        Root seed (any non-negative integer).
    key : tuple of int
        Spawn-key prefix identifying the task (``()`` for a single run).
    replicas : int
        Number of streams R.

    Returns
    -------
    numpy.ndarray
        ``uint64[R, 4]`` state array; row ``r`` comes from
        ``SeedSequence(entropy, spawn_key=key + (r,))``.
    """
    out = np.empty((replicas, 4), dtype=np.uint64)
    for r in range(replicas):
        ss = np.random.SeedSequence(entropy, spawn_key=tuple(key) + (r,))
        st = ss.generate_state(4, np.uint64)
        if not st.any():  # the all-zero state is the one fixed point of xoshiro
            st[0] = 1
        out[r] = st
    return out


def generator(entropy: int, key: tuple[int, ...] = ()) -> np.random.Generator:
    """A numpy ``Generator`` from ``SeedSequence(entropy, spawn_key=key)`` (no namespace word:
    the project's own streams use :func:`mcsgd.seeds.namespaced_generator`)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy, spawn_key=key)))


def threshold32(p: np.ndarray) -> np.ndarray:
    """Acceptance probabilities -> 32-bit fixed-point thresholds (``u32 < thr`` accepts).

    ``p = 1`` maps to ``2**32`` (always), ``p = 0`` to 0 (never); otherwise ``floor(p * 2**32)``,
    so the acceptance probability is exact to within 2**-32.
    """
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    thr = np.floor(p * 4294967296.0).astype(np.uint64)
    thr[p >= 1.0] = np.uint64(4294967296)
    return thr
