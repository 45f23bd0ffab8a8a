"""dimod-compatible samplers (the optional extra ``mcsgd[dwave]``): the package face of
:mod:`mcsgd.experiments.dimod`.

>>> from mcsgd.dimod import MetropolisSampler, SGDLikeSampler
>>> ss = SGDLikeSampler().sample_ising({}, {(0, 1): -1, (1, 2): 1}, B=0.5, num_reads=4, seed=1)
"""

try:
    import dimod  # noqa: F401
except ImportError as e:  # pragma: no cover - the extra is installed in the test environment
    raise ImportError(
        "mcsgd.dimod needs the dimod package: pip install 'mcsgd[dwave]'"
    ) from e

from mcsgd.experiments.dimod import (
    MetropolisSampler,
    SGDLikeSampler,
    beta_schedule,
    default_beta_range,
    ising_instance,
)

__all__ = ["MetropolisSampler", "SGDLikeSampler", "beta_schedule", "default_beta_range",
           "ising_instance"]
