"""Theory of the effective temperature T(B) of SGD-like mini-batch dynamics (SPEC §2.2, §3).

One module per topic; this face re-exports the public names (``from mcsgd import theory;
theory.T0(0.5)``):

- :mod:`mcsgd.theory.acceptance`: the exact mini-batch acceptance P_acc(n_old, n_new; B), its
  Metropolis counterpart and T0(B) = -1/ln(1-B);
- :mod:`mcsgd.theory.paramagnet`: paramagnetic energy densities e_para(T) on tree-like graphs,
  their derivatives and inverses;
- :mod:`mcsgd.theory.adb`: the averaged-detailed-balance (ADB) temperature T_adb(B).

Models and units: colouring (antiferromagnetic Potts, q colours; E = number of monochromatic
edges, a move changes it by dE = n_new - n_old) and +-J Ising (E = -sum J_ij s_i s_j, a spin
flip changes it by 2 (n_new - n_old)). Temperatures are in the energy units of the model
(k_B = 1); energies are per node. The derivations and tables are in ``docs/theory.md``.
"""

from __future__ import annotations

from mcsgd.theory.acceptance import T0, metropolis_table, p_acc, p_acc_table
from mcsgd.theory.adb import (
    CONDITIONS,
    DEGREES,
    MODELS,
    T_adb,
    T_adb_curve,
    T_adb_from_table,
    T_adb_ising,
    adb_residual,
)
from mcsgd.theory.paramagnet import (
    T_from_e_para_coloring,
    T_from_e_para_ising,
    de_para_coloring_dT,
    de_para_ising_dT,
    e_para_coloring,
    e_para_ising,
)

__all__ = [
    "p_acc",
    "p_acc_table",
    "metropolis_table",
    "T0",
    "e_para_coloring",
    "T_from_e_para_coloring",
    "de_para_coloring_dT",
    "e_para_ising",
    "T_from_e_para_ising",
    "de_para_ising_dT",
    "adb_residual",
    "T_adb_from_table",
    "T_adb",
    "T_adb_ising",
    "T_adb_curve",
    "DEGREES",
    "CONDITIONS",
    "MODELS",
]
