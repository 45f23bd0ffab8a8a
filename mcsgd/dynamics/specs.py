"""Dynamics specifications: what to run, validated before any kernel sees it.

``Metropolis(T, order, rule)``
    Single-variable Metropolis at temperature T >= 0 (``rule="metropolis"``: propose one of the
    q-1 other colours / a spin flip, accept with min(1, exp(-dE/T))) or heat-bath
    (``rule="heatbath"``: draw the new value with probability prop. to exp(-E/T)).
    ``order="sequential"`` visits i = 0..N-1 (the reference), ``"random"`` draws sites uniformly.

``SGD(B, flags, tau, batch, order, method)``
    Zero-temperature descent on the energy of a random mini-batch of interactions, B in (0, 1] the
    mini-batch fraction (SPEC §2.2): a move is accepted iff dE_B <= 0.
    ``flags="halfedge"`` (reference: each end of an edge has its own flag) or ``"edge"`` (one
    flag per undirected edge shared by both ends); ``tau`` sweeps a mini-batch persists
    (reference: 1); ``batch="bernoulli"`` (each flag 1 w.p. B; reference) or ``"fixed"``
    (exactly round(B M) edges, shared by both ends); ``order`` as for Metropolis.
    ``method="auto"`` uses the exact P_acc table for the reference semantics (sequential,
    half-edge, tau = 1, Bernoulli) and explicit flags otherwise; ``"flags"`` forces explicit flags.
    B = 1 is the greedy zero-temperature quench.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mcsgd.errors import ParameterError, check_choice, check_range

ORDERS = ("sequential", "random")


@dataclasses.dataclass(frozen=True)
class Metropolis:
    """Metropolis (or heat-bath) Monte Carlo at temperature ``T`` (energy units, T >= 0)."""

    T: float
    order: str = "sequential"
    rule: str = "metropolis"

    name = "metropolis"

    def __post_init__(self) -> None:
        check_range("T", self.T, 0, None)
        check_choice("order", self.order, ORDERS)
        check_choice("rule", self.rule, ("metropolis", "heatbath"))

    def params(self) -> dict[str, Any]:
        """Plain-dict description (JSON-able), inverse of :func:`from_params`."""
        return {"dynamics": "metropolis", "T": float(self.T), "order": self.order,
                "rule": self.rule}


@dataclasses.dataclass(frozen=True)
class SGD:
    """SGD-like mini-batch descent with mini-batch fraction ``B`` in (0, 1]."""

    B: float
    flags: str = "halfedge"
    tau: int = 1
    batch: str = "bernoulli"
    order: str = "sequential"
    method: str = "auto"

    name = "sgd"

    def __post_init__(self) -> None:
        check_range("B", self.B, 0, 1, lo_open=True)
        check_choice("flags", self.flags, ("halfedge", "edge"))
        check_range("tau", self.tau, 1, None, integer=True)
        check_choice("batch", self.batch, ("bernoulli", "fixed"))
        check_choice("order", self.order, ORDERS)
        check_choice("method", self.method, ("auto", "table", "flags"))
        if self.batch == "fixed" and self.flags != "edge":
            raise ParameterError("batch = 'fixed' draws whole edges: use flags = 'edge'")
        if self.method == "table" and not self.is_reference:
            raise ParameterError(
                "method = 'table' is exact only for the reference semantics (sequential order, "
                "halfedge flags, tau = 1, bernoulli batch); use method = 'flags' or 'auto'"
            )

    @property
    def is_reference(self) -> bool:
        """True for the reference semantics, whose law is the per-update P_acc table."""
        return (
            self.order == "sequential"
            and self.flags == "halfedge"
            and self.tau == 1
            and self.batch == "bernoulli"
        )

    def params(self) -> dict[str, Any]:
        """Plain-dict description (JSON-able), inverse of :func:`from_params`."""
        return {
            "dynamics": "sgd",
            "B": float(self.B),
            "flags": self.flags,
            "tau": int(self.tau),
            "batch": self.batch,
            "order": self.order,
            "method": self.method,
        }


Dynamics = Metropolis | SGD


def from_params(p: dict[str, Any]) -> Dynamics:
    """Build a dynamics from :meth:`params` output (unknown keys are an error)."""
    p = dict(p)
    kind = p.pop("dynamics", None)
    cls = {"metropolis": Metropolis, "sgd": SGD}.get(kind)
    if cls is None:
        raise ParameterError(f"dynamics = {kind!r} is not one of 'metropolis', 'sgd'")
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = set(p) - fields
    if unknown:
        raise ParameterError(f"unknown {kind} parameter(s): {', '.join(sorted(unknown))}")
    return cls(**p)
