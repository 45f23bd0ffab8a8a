"""The one instance factory: an instance from its parameter dict, a seed and an index.

Every command that builds an instance from parameters (``mcsgd generate``, ``calibrate``,
``recover``/``reproduce``, a scan task) calls :func:`from_params`, so instance k of
(parameters, seed) is the same graph whichever command asks for it (:mod:`mcsgd.seeds`).
"""

from __future__ import annotations

from typing import Any

from mcsgd.errors import ParameterError, check_choice

from .coloring import coloring
from .instance import Instance, load
from .spins import ising

#: parameters of each problem and their defaults (None: required); the scan's ``[instance]``
#: table accepts the same keys
PARAMS: dict[str, dict[str, Any]] = {
    "coloring": {"n": None, "q": None, "c": None, "planted": True, "graph": "er",
                 "shuffle": False},
    "ising": {"n": None, "d": None, "graph": "regular", "planted": True, "noise": 0.0},
    "file": {"path": None},
}
#: keys a parameter dict may carry that do not describe the generator (stored provenance, the
#: scan's instance index)
IGNORED = ("problem", "generator", "seed", "instance", "index")


def from_params(params: dict[str, Any], seed: int, instance: int = 0) -> Instance:
    """Instance ``instance`` of (``params``, ``seed``).

    Parameters
    ----------
    params : dict
        ``problem`` (or ``generator``, as stored in ``Instance.params``): ``"coloring"``,
        ``"ising"`` or ``"file"``, and that problem's keys of :data:`PARAMS` (missing optional
        keys take their defaults; ``seed``, ``instance`` and ``index`` entries are ignored).
        ``"file"`` loads ``params["path"]`` (seed and index unused).
    seed : int
        Seed in [0, 2**64).
    instance : int
        Instance index k in [0, 2**32).

    Raises :class:`~mcsgd.errors.ParameterError` for an unknown problem, an unknown key or a
    missing required key, and whatever the generator raises for bad values.
    """
    problem = params.get("problem", params.get("generator"))
    check_choice("problem", problem, tuple(PARAMS))
    allowed = PARAMS[problem]
    unknown = sorted(k for k in params if k not in allowed and k not in IGNORED)
    if unknown:
        raise ParameterError(f"unknown parameter(s) {unknown} for problem = {problem!r} "
                             f"(allowed: {sorted(allowed)})")
    p = {**allowed, **{k: v for k, v in params.items() if k in allowed}}
    missing = sorted(k for k, v in p.items() if v is None)
    if missing:
        raise ParameterError(f"missing parameter(s) {missing} for problem = {problem!r}")
    if problem == "coloring":
        return coloring(p["n"], p["q"], p["c"], planted=p["planted"], graph=p["graph"],
                        shuffle=p["shuffle"], seed=seed, instance=instance)
    if problem == "ising":
        return ising(p["n"], p["d"], graph=p["graph"], planted=p["planted"], noise=p["noise"],
                     seed=seed, instance=instance)
    return load(p["path"])
