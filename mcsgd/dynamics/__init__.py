"""Dynamics: what a chain does at each update.

``specs`` holds the frozen parameter records (:class:`Metropolis`, :class:`SGD`), ``rules`` turns a
spec into the integer tables and workspaces a kernel reads, ``kernels`` holds the numba sweeps and
``measure`` the overlap with a planted solution. This face re-exports the specs, the names a user
writes; internal code imports ``mcsgd.dynamics.rules`` and ``mcsgd.dynamics.kernels`` directly.
"""

from mcsgd.dynamics.specs import ORDERS, SGD, Dynamics, Metropolis, from_params

__all__ = ["ORDERS", "SGD", "Dynamics", "Metropolis", "from_params"]
