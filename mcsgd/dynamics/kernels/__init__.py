"""Numba kernels: single-variable dynamics on CSR graphs, many replicas in parallel.

All kernels run ``nsweeps`` sweeps (one sweep = N attempted single-variable updates) on every
replica ``r`` in parallel (``prange`` over replicas; each replica uses only its own RNG row, so
the result does not depend on the number of threads), update the configuration ``s[r]`` and the
integer total energy ``energy[r]`` in place, add accepted moves to ``accepted[r]``, and add the
energy after each sweep falling in the measurement window to ``trace``. Their arguments come in
named bundles (:mod:`~mcsgd.dynamics.kernels.common`): ``Graph``, ``Chain``, ``Recorder``,
``FlagWork``; the random numbers are xoshiro256** (:func:`mcsgd.rng.xoshiro`), one row per
replica.

Problems (``ising`` flag)
-------------------------
Colouring: ``s`` holds colours 0..q-1, E = #monochromatic edges; a move a -> b is proposed
uniformly among the q-1 other colours; ``n_old``/``n_new`` count neighbours of colour a/b and
dE = n_new - n_old.
Ising: ``s`` holds spins +-1, E = -sum J_ij s_i s_j; a move flips s_i; ``n_old`` counts violated
couplings at i (J s_i s_j = -1), ``n_new`` satisfied ones, and dE = 2 (n_new - n_old).

Modules
-------
``table``     table-driven sweeps (Metropolis, Ising heat-bath, reference SGD-like; Ising on cached
              local fields);
``flags``     SGD-like descent on explicit mini-batch flags;
``heatbath``  colour heat-bath;
``measure``   random initial configurations, the confusion matrix of the overlap.

Every ``prange`` kernel has a ``*_serial`` twin (same code, one thread) for small calls.

Performance notes (semantics and RNG consumption are those of the plain loops): the RNG row lives
in locals for a whole replica and is written back at its end; neighbour loops run over an
unsigned range, so numba emits no negative-index wraparound and LLVM vectorises the
gather-and-compare loop; the sweep bodies are inline functions called with literal flags for the
common cases (colouring or Ising, sequential order), so LLVM removes the dead branches from the
hot loop; the acceptance is branch-free (select + unconditional store): at acceptance rates near
1/2 (SGD-like, Ising at high T) a mispredicted branch per update costs more than the store.
"""

from mcsgd.dynamics.kernels.common import Chain, FlagWork, Graph, Recorder
from mcsgd.dynamics.kernels.flags import flag_sweeps, flag_sweeps_serial
from mcsgd.dynamics.kernels.heatbath import heatbath_sweeps, heatbath_sweeps_serial
from mcsgd.dynamics.kernels.measure import confusion_kernel, init_random
from mcsgd.dynamics.kernels.table import (
    ising_field_sweeps,
    ising_field_sweeps_serial,
    ising_fields,
    table_sweeps,
    table_sweeps_serial,
)

__all__ = ["Chain", "FlagWork", "Graph", "Recorder", "confusion_kernel", "flag_sweeps",
           "flag_sweeps_serial", "heatbath_sweeps", "heatbath_sweeps_serial", "init_random",
           "ising_field_sweeps", "ising_field_sweeps_serial", "ising_fields", "table_sweeps",
           "table_sweeps_serial"]
