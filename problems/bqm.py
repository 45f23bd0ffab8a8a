"""Ising instances to and from dimod's binary quadratic models (optional extra ``mcsgd[dwave]``).

Sign convention. dimod's spin energy is E = sum_i h_i s_i + sum_(ij) J_ij s_i s_j + offset;
mcsgd's Ising energy is E = -sum_(ij) J_ij s_i s_j (:mod:`.energy`). A BQM coupling J maps to the
mcsgd coupling -J, so a configuration has the same energy on both sides (plus the BQM's offset).
mcsgd's Ising kernels have no field term and +-1 couplings: a BQM with a nonzero linear bias or a
coupling other than +-1 is refused with :class:`~mcsgd.errors.ParameterError`.

dimod is imported lazily, only when a BQM is built or read.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mcsgd.errors import ParameterError

from .custom import from_edges
from .instance import Instance


def spin_bqm(bqm: Any) -> Any:
    """``bqm`` in the SPIN vartype (the same object if it already is one)."""
    import dimod

    return bqm if bqm.vartype is dimod.SPIN else bqm.change_vartype(dimod.SPIN, inplace=False)


def bqm_arrays(bqm: Any) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
    """The variables of a SPIN ``bqm`` (its order is the node order) and its couplings as edge
    arrays ``u, v, J`` (nonzero quadratic biases only, dimod's sign).

    Raises ParameterError on a nonzero linear bias (mcsgd's kernels have no field).
    """
    variables = list(bqm.variables)
    lin, (irow, icol, qdata), _ = bqm.to_numpy_vectors(variable_order=variables)
    if np.any(lin != 0):
        i = int(np.flatnonzero(lin != 0)[0])
        raise ParameterError(
            f"the BQM has a nonzero field h[{variables[i]!r}] = {lin[i]:g} (in the SPIN "
            "vartype): mcsgd's Ising dynamics support h = 0 only"
        )
    keep = qdata != 0
    return (variables, np.asarray(irow[keep], np.int64), np.asarray(icol[keep], np.int64),
            np.asarray(qdata[keep], np.float64))


def from_bqm(bqm: Any) -> Instance:
    """The Ising instance of a dimod BQM (SPIN or BINARY; a BINARY one is converted to SPIN).

    Node i is ``list(bqm.variables)[i]``; the mcsgd coupling of edge (i, j) is -J_ij (module
    docstring), so ``instance.energy(s) + bqm.offset == bqm.energy(s)``. The offset, when
    nonzero, is kept in ``params["offset"]`` and restored by :meth:`Instance.to_bqm`.

    Raises ParameterError for a nonzero linear bias, a coupling other than +-1 or an empty BQM.
    """
    spin = spin_bqm(bqm)
    if spin.num_variables == 0:
        raise ParameterError("the BQM has no variables")
    variables, u, v, j = bqm_arrays(spin)
    if np.any(np.abs(j) != 1):
        k = int(np.flatnonzero(np.abs(j) != 1)[0])
        raise ParameterError(
            f"the BQM coupling J[{variables[u[k]]!r}, {variables[v[k]]!r}] = {j[k]:g} is not "
            "+1 or -1: mcsgd's Ising instances have +-1 couplings"
        )
    params: dict[str, Any] = {"generator": "bqm"}
    if spin.offset != 0:
        params["offset"] = float(spin.offset)
    return from_edges(len(variables), u, v, problem="ising", couplings=(-j).astype(np.int8),
                      params=params)


def to_bqm(instance: Instance) -> Any:
    """The SPIN ``dimod.BinaryQuadraticModel`` of an Ising instance, variables 0..N-1.

    Couplings -J (module docstring; parallel edges add up), no fields, the offset
    ``params["offset"]`` (0 if absent): ``bqm.energy(s) == instance.energy(s) + offset``.
    """
    import dimod

    if instance.problem != "ising":
        raise ParameterError(
            f"to_bqm: a {instance.problem} instance is not an Ising model (only Ising instances "
            "map to a BQM)"
        )
    row = np.repeat(np.arange(instance.n, dtype=np.int64), np.diff(instance.indptr))
    col = instance.indices.astype(np.int64)
    half = row < col  # each undirected edge once
    bqm = dimod.BinaryQuadraticModel.from_numpy_vectors(
        np.zeros(instance.n), (row[half], col[half], -instance.couplings[half].astype(float)),
        float(instance.params.get("offset", 0.0)), dimod.SPIN,
    )
    return bqm
