"""Instance generators for mcsgd: planted/random colouring, planted spin systems, user graphs.

Every generator is a deterministic function of its arguments and ``seed``; instances store
int32 CSR adjacency, couplings where needed, the planted solution when there is one, and their
generation parameters, and round-trip through HDF5 with validation on load. Ising instances
convert to and from dimod's binary quadratic models (:func:`from_bqm`, :meth:`Instance.to_bqm`;
the ``dwave`` extra).
"""

from .bqm import from_bqm
from .coloring import check_coloring_params, coloring, planted_coloring, random_coloring
from .custom import from_edge_file, from_edges, from_networkx
from .factory import from_params
from .instance import Instance, load
from .spins import check_ising_params, ising

__all__ = [
    "Instance",
    "check_coloring_params",
    "check_ising_params",
    "coloring",
    "from_bqm",
    "from_edge_file",
    "from_edges",
    "from_networkx",
    "from_params",
    "ising",
    "load",
    "planted_coloring",
    "random_coloring",
]
