"""mcsgd: Metropolis Monte Carlo and SGD-like mini-batch dynamics side by side.

The mini-batch fraction B of a zero-temperature descent acts like a temperature T(B); mcsgd
measures it on planted colouring and spin problems (see ``docs/`` and the project README).
"""

__version__ = "0.3.0"
