"""Rules: a dynamics spec -> the integer tables and workspaces its kernel reads.

A :class:`Rule` is everything a kernel needs from a :mod:`~mcsgd.dynamics.specs` record on a
given instance, in kernel form:

``mode = "table"``
    32-bit acceptance thresholds ``thr`` (:func:`mcsgd.rng.threshold32`): Metropolis
    ``min(1, exp(-dE/T))`` and the Ising heat-bath flip probability ``1/(1+exp(dE/T))`` as
    ``uint64[1, 2D+1]`` tables of dE = -D..D (``use2d = False``), the reference SGD-like rule as
    the ``uint64[D+1, D+1]`` table P_acc(n_old, n_new; B) (``use2d = True``, SPEC §2.2).
``mode = "heatbath"``
    colour heat-bath weights ``wtab[k] = exp(-k/T)``, k = 0..D.
``mode = "flags"``
    explicit mini-batch flags: flag index ``eid`` of every half-edge, ``fixed_k`` (-1 for
    Bernoulli flags) and the threshold ``thr_b`` of B; the per-replica flag workspaces come from
    :func:`flag_workspace`.

Switching dynamics (docs/dynamics.md, "Switching dynamics") starts a fresh mini-batch at the
next sweep: :func:`flag_workspace` returns cleared flags, stamps and the identity permutation
(reusing the old buffers when their layout fits), and the epochs of ``tau`` restart at the
switch. The run then continues exactly as a fresh run of the new dynamics started from the
current configurations and RNG states would.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from mcsgd.dynamics.specs import SGD, Dynamics, Metropolis
from mcsgd.errors import ParameterError
from mcsgd.rng import threshold32

MAX_TABLE_DEGREE = 512  # the 2-d P_acc table is (D+1)^2: beyond, the flag kernel is used
FIELD_MAX_DEGREE = 16384  # Ising local fields are int16


def metropolis_thresholds(T: float, dmax: int, scale: int) -> np.ndarray:
    """uint64[1, 2D+1] thresholds of min(1, exp(-scale*dE/T)) for dE = -D..D (T = 0 exact)."""
    de = np.arange(-dmax, dmax + 1, dtype=np.float64) * scale
    with np.errstate(divide="ignore", over="ignore"):
        p = np.where(de <= 0, 1.0, np.exp(-de / T) if T > 0 else 0.0)
    return threshold32(p)[None, :]


def heatbath_flip_thresholds(T: float, dmax: int, scale: int) -> np.ndarray:
    """uint64[1, 2D+1] thresholds of the Ising heat-bath flip probability 1/(1+exp(dE/T))."""
    de = np.arange(-dmax, dmax + 1, dtype=np.float64) * scale
    if T == 0:
        p = np.where(de < 0, 1.0, np.where(de == 0, 0.5, 0.0))
    else:
        with np.errstate(over="ignore"):
            p = 1.0 / (1.0 + np.exp(de / T))
    return threshold32(p)[None, :]


def sgd_thresholds(B: float, dmax: int) -> np.ndarray:
    """uint64[D+1, D+1] thresholds of P_acc(n_old, n_new; B) (SPEC §2.2)."""
    from mcsgd.theory import p_acc_table

    return threshold32(p_acc_table(dmax, B))


def heatbath_weights(T: float, dmax: int) -> np.ndarray:
    """float64[D+1] weights exp(-k/T), k = 0..D (exactly [1, 0, 0, ...] at T = 0)."""
    k = np.arange(dmax + 1, dtype=np.float64)
    if T == 0:
        return (k == 0).astype(np.float64)
    return np.exp(-k / T) if math.isfinite(T) else np.ones_like(k)


@dataclasses.dataclass(frozen=True, eq=False)
class Rule:
    """The kernel form of one dynamics on one instance (module docstring).

    Attributes
    ----------
    mode : {"table", "heatbath", "flags"}
    dmax : int                 D = max(max degree, 1)
    random_order : bool        sites drawn uniformly instead of i = 0..N-1
    thr, use2d                 threshold table (mode "table")
    wtab                       heat-bath weights float64[D+1] (mode "heatbath")
    eid, fixed_k, thr_b, tau   flag index per half-edge int32[2M], batch size (-1: Bernoulli),
                               uint64 threshold of B, sweeps per mini-batch (mode "flags")
    layout : (F, batch)        number of flags and batch kind (mode "flags")
    """

    mode: str
    dmax: int
    random_order: bool
    thr: np.ndarray | None = None
    use2d: bool = False
    wtab: np.ndarray | None = None
    eid: np.ndarray | None = None
    fixed_k: int = -1
    thr_b: np.uint64 = np.uint64(0)
    tau: int = 1
    layout: tuple[int, str] | None = None


def build(instance, dynamics: Dynamics) -> Rule:
    """The :class:`Rule` of ``dynamics`` on ``instance`` (tables rebuilt from the spec)."""
    if not isinstance(dynamics, (Metropolis, SGD)):
        raise ParameterError("dynamics must be a Metropolis or SGD instance")
    ising = instance.problem == "ising"
    dmax = max(instance.max_degree, 1)
    scale = 2 if ising else 1
    rnd = dynamics.order == "random"
    if isinstance(dynamics, Metropolis):
        if dynamics.rule == "heatbath" and not ising:
            return Rule("heatbath", dmax, rnd, wtab=heatbath_weights(dynamics.T, dmax))
        if dynamics.rule == "heatbath":
            return Rule("table", dmax, rnd, thr=heatbath_flip_thresholds(dynamics.T, dmax, scale))
        return Rule("table", dmax, rnd, thr=metropolis_thresholds(dynamics.T, dmax, scale))
    use_table = dynamics.is_reference and dynamics.method != "flags"
    if use_table and dmax > MAX_TABLE_DEGREE:
        if dynamics.method == "table":
            raise ParameterError(
                f"method = 'table' needs max degree <= {MAX_TABLE_DEGREE} (got {dmax})"
            )
        use_table = False
    if use_table:
        return Rule("table", dmax, rnd, thr=sgd_thresholds(dynamics.B, dmax), use2d=True)
    if dynamics.flags == "edge":
        eid, nf = instance.edge_ids()
    else:
        nf = instance.indices.shape[0]
        eid = np.arange(nf, dtype=np.int32)
    return Rule(
        "flags", dmax, rnd, eid=eid,
        fixed_k=int(round(dynamics.B * nf)) if dynamics.batch == "fixed" else -1,
        thr_b=np.uint64(threshold32(np.array([dynamics.B]))[0]), tau=int(dynamics.tau),
        layout=(nf, dynamics.batch),
    )


def uses_fields(rule: Rule, ising: bool) -> bool:
    """Whether the table rule runs on cached Ising local fields (sequential Ising sweeps;
    bit-identical to the plain table sweep, faster)."""
    return (rule.mode == "table" and ising and not rule.random_order
            and rule.dmax < FIELD_MAX_DEGREE)


def flag_workspace(
    rule: Rule, replicas: int, old: tuple[np.ndarray, ...] | None = None,
    old_layout: tuple[int, str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Fresh mini-batch workspaces ``(flags uint8[R, F], stamp int64[R, F or 0],
    perm int32[R, F or 0])`` of a flag rule (None for other modes).

    A fresh mini-batch: no flag set, no Bernoulli flag drawn (stamps 0 < every epoch), the
    fixed-size permutation back to the identity; so the state after a switch is (s, rng, t)
    alone, as at the start of a run. The buffers of ``old`` are reused if ``old_layout`` fits.
    """
    if rule.mode != "flags":
        return None
    nf, batch = rule.layout
    if old is not None and old_layout == rule.layout:
        flags, stamp, perm = old
        flags.fill(0)
        stamp.fill(0)
        perm[:] = np.arange(perm.shape[1], dtype=np.int32)[None, :]
        return flags, stamp, perm
    flags = np.zeros((replicas, nf), np.uint8)
    stamp = np.zeros((replicas, nf if batch == "bernoulli" else 0), np.int64)
    perm = (
        np.tile(np.arange(nf, dtype=np.int32), (replicas, 1))
        if batch == "fixed"
        else np.zeros((replicas, 0), np.int32)
    )
    return flags, stamp, perm


LANE_MAX_DEGREE = 255  # lane kernels count neighbours in uint8


def lane_kind(rule: Rule, ising: bool) -> str | None:
    """The lane kernel of a rule (:mod:`mcsgd.dynamics.kernels.lanes`): ``"color"`` (sequential
    colouring table sweeps), ``"ising"`` (sequential Ising on cached fields), ``"random"``
    (random-site table sweeps), ``"heatbath"``/``"heatbath-random"`` (colour heat-bath), or
    None (explicit mini-batch flags, or degrees beyond the lane kernels: scalar layout only).
    Chains advance together only with the same kind."""
    if rule.mode == "flags":
        return None
    if rule.mode == "heatbath":
        return "heatbath-random" if rule.random_order else "heatbath"
    if rule.random_order:
        return "random" if rule.dmax <= LANE_MAX_DEGREE else None
    if ising:
        return "ising" if uses_fields(rule, ising) else None
    return "color" if rule.dmax <= LANE_MAX_DEGREE else None


def lane_table(rule: Rule) -> np.ndarray:
    """The thresholds of a table rule as a 2-d table uint64[D+1, D+1] of (n_old, n_new): a 1-d
    table of dE = n_new - n_old becomes ``thr2[n_old, n_new] = thr[0, n_new - n_old + D]``
    (the same thresholds, so the same decisions)."""
    if rule.use2d:
        return rule.thr
    d = rule.dmax
    no, nn = np.meshgrid(np.arange(d + 1), np.arange(d + 1), indexing="ij")
    return np.ascontiguousarray(rule.thr[0, nn - no + d])
