"""Dynamics: what a chain does at each update.

``specs`` holds the frozen parameter records (:class:`Metropolis`, :class:`SGD`), ``rules`` turns a
spec into the integer tables and workspaces a kernel reads, and ``kernels`` holds the numba sweeps.
This face re-exports the specs, the names a user writes.
"""

from mcsgd.dynamics.specs import (
    MAX_TABLE_DEGREE,
    ORDERS,
    SGD,
    Dynamics,
    Metropolis,
    from_params,
    heatbath_flip_thresholds,
    heatbath_weights,
    metropolis_thresholds,
    sgd_thresholds,
)

__all__ = ["MAX_TABLE_DEGREE", "ORDERS", "SGD", "Dynamics", "Metropolis", "from_params",
           "heatbath_flip_thresholds", "heatbath_weights", "metropolis_thresholds",
           "sgd_thresholds"]
