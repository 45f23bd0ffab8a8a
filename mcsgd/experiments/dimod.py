"""dimod samplers running mcsgd's dynamics: the dwave ecosystem in one line (``mcsgd.dimod``).

:class:`MetropolisSampler` (simulated annealing: sequential Metropolis along a beta schedule, as
dwave-samplers' ``SimulatedAnnealingSampler``) and :class:`SGDLikeSampler` (the SGD-like
mini-batch descent at mini-batch fraction B) implement dimod's ``Sampler`` interface:
``sample(bqm)``, and through dimod ``sample_ising(h, J)`` and ``sample_qubo(Q)``. Each read is
one replica of :class:`mcsgd.driver.Runner` from a random start (replica r's streams as in
:mod:`mcsgd.seeds`); the returned ``SampleSet`` carries the final configurations, their energies
``bqm.energies(samples)`` (dimod's sign convention, offset included) and ``info`` with
``timing`` (``preprocessing_ns``, ``sampling_ns``, ``postprocessing_ns``) and the ``seed`` used.

What maps (sign convention in :mod:`mcsgd.problems.bqm`): a SPIN (or BINARY, converted) BQM with
no field in the SPIN vartype and couplings of one magnitude c (J_ij = +-c). mcsgd's kernels have
no field term: a nonzero h, or couplings of several magnitudes, raise
:class:`~mcsgd.errors.ParameterError`. The dimod energy is c times mcsgd's, so the Metropolis
temperature at inverse temperature beta is T = 1 / (beta c); the SGD-like dynamics is
scale-free.
"""

from __future__ import annotations

import math
import secrets
import time
import warnings
from typing import Any

import dimod
import numpy as np

from mcsgd.driver import Runner
from mcsgd.dynamics import SGD, Dynamics, Metropolis
from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.problems import Instance
from mcsgd.problems.bqm import bqm_arrays, spin_bqm
from mcsgd.problems.custom import from_edges

SCHEDULES = ("linear", "geometric")


def ising_instance(bqm: Any) -> tuple[Instance, list, float]:
    """mcsgd's Ising instance of a BQM, its variables (node order) and the coupling scale c.

    ``instance.energy(s) * c + bqm.offset == bqm.energy(s)`` (SPIN samples). Raises
    ParameterError on a nonzero field or couplings of different magnitudes.
    """
    spin = spin_bqm(bqm)
    variables, u, v, j = bqm_arrays(spin)
    scale = float(np.abs(j[0])) if j.size else 1.0
    if np.any(np.abs(j) != scale):
        k = int(np.flatnonzero(np.abs(j) != scale)[0])
        raise ParameterError(
            f"the BQM couplings have several magnitudes (|J| = {scale:g} and {abs(j[k]):g}): "
            "mcsgd's Ising dynamics need J_ij = +-c with one c"
        )
    inst = from_edges(len(variables), u, v, problem="ising",
                      couplings=np.where(j > 0, -1, 1).astype(np.int8),
                      params={"generator": "bqm"})
    return inst, variables, scale


def default_beta_range(instance: Instance, scale: float = 1.0) -> list[float]:
    """dwave-samplers' default beta range for a field-free BQM with couplings +-``scale``.

    Hot: ln 2 / (2 c d_max), every spin flips with probability >= 1/2; cold:
    ln(n_coupled / 0.01) / (2 c), the chance of an excitation on the last sweep is about 0.01
    (``dwave.samplers.sa.sampler._default_ising_beta_range`` with h = 0).
    """
    deg = instance.degrees
    coupled = int(np.count_nonzero(deg))
    if coupled == 0:
        warnings.warn("the BQM has no couplings (every energy is equal): beta range set "
                      "arbitrarily to [0.1, 1]", stacklevel=3)
        return [0.1, 1.0]
    hot = math.log(2) / (2 * scale * int(deg.max()))
    cold = math.log(coupled / 0.01) / (2 * scale)
    return [hot, cold]


def beta_schedule(beta_range: tuple[float, float], num_betas: int, kind: str) -> np.ndarray:
    """The betas of the stages, as dwave-samplers draws them: ``np.linspace`` or
    ``np.geomspace`` from ``beta_range[0]`` to ``beta_range[1]`` (one stage: the last value)."""
    check_choice("beta_schedule_type", kind, SCHEDULES)
    if len(beta_range) != 2:
        raise ParameterError(f"beta_range = {beta_range!r} must be two numbers (hot, cold)")
    for b in beta_range:
        check_range("beta_range value", b, 0, None, lo_open=True)
    if num_betas <= 1:
        return np.array([float(beta_range[-1])] * num_betas)
    fn = np.linspace if kind == "linear" else np.geomspace
    return fn(float(beta_range[0]), float(beta_range[1]), num=num_betas)


class _RunnerSampler(dimod.Sampler):
    """Common part: BQM -> instance -> Runner over stages -> SampleSet."""

    def _stages(self, inst: Instance, scale: float, num_sweeps: int,
                kw: dict[str, Any]) -> tuple[list[tuple[Dynamics, int]], dict[str, Any]]:
        raise NotImplementedError

    def _sample(self, bqm: Any, num_reads: int | None, num_sweeps: int | None,
                seed: int | None, kw: dict[str, Any]) -> dimod.SampleSet:
        t0 = time.perf_counter_ns()
        num_reads = 1 if num_reads is None else num_reads
        num_sweeps = 1000 if num_sweeps is None else num_sweeps
        check_range("num_reads", num_reads, 1, None, integer=True)
        check_range("num_sweeps", num_sweeps, 0, None, integer=True)
        if seed is None:
            seed = secrets.randbits(63)
        check_range("seed", seed, 0, 2**64 - 1, integer=True)
        if bqm.num_variables == 0:
            info = {"seed": int(seed), "timing": {"preprocessing_ns": 0, "sampling_ns": 0,
                                                  "postprocessing_ns": 0}}
            return dimod.SampleSet.from_samples([], bqm.vartype, energy=[], info=info)
        inst, variables, scale = ising_instance(bqm)
        stages, info = self._stages(inst, scale, int(num_sweeps), kw)
        runner = Runner(inst, stages[0][0], replicas=int(num_reads), seed=int(seed))
        for sweeps in {n for _, n in stages}:
            runner.warm(sweeps)  # compile or load the kernels before the sampling clock
        t1 = time.perf_counter_ns()
        for k, (dyn, sweeps) in enumerate(stages):
            if k:
                runner.set_dynamics(dyn)
            runner.advance(sweeps)
        t2 = time.perf_counter_ns()
        samples = runner.s.copy()
        if bqm.vartype is dimod.BINARY:
            samples = (samples + 1) // 2
        info["seed"] = int(seed)
        out = dimod.SampleSet.from_samples_bqm((samples, variables), bqm, info=info)
        out.info["timing"] = {"preprocessing_ns": t1 - t0, "sampling_ns": t2 - t1,
                              "postprocessing_ns": time.perf_counter_ns() - t2}
        return out


class MetropolisSampler(_RunnerSampler):
    """Simulated annealing with mcsgd's sequential Metropolis dynamics (a dimod ``Sampler``).

    ``sample(bqm, beta_range=None, num_reads=1, num_sweeps=1000, num_sweeps_per_beta=1,
    beta_schedule_type="geometric", seed=None)``: ``num_sweeps / num_sweeps_per_beta`` stages,
    stage k at inverse temperature beta_k (dimod's energy units) for ``num_sweeps_per_beta``
    sweeps, the betas spaced as in dwave-samplers' ``SimulatedAnnealingSampler`` (default
    ``beta_range``: its default, :func:`default_beta_range`). A constant beta is
    ``beta_range=(b, b)``.
    """

    parameters = {"beta_range": [], "num_reads": [], "num_sweeps": [],
                  "num_sweeps_per_beta": [], "beta_schedule_type": ["beta_schedule_options"],
                  "seed": []}
    properties = {"beta_schedule_options": SCHEDULES}

    def sample(self, bqm: Any, *, beta_range: tuple[float, float] | None = None,
               num_reads: int | None = None, num_sweeps: int | None = None,
               num_sweeps_per_beta: int = 1, beta_schedule_type: str = "geometric",
               seed: int | None = None, **kwargs: Any) -> dimod.SampleSet:
        """Sample ``bqm`` (class docstring); unknown keyword arguments warn and are ignored."""
        self.remove_unknown_kwargs(**kwargs)
        kw = {"beta_range": beta_range, "num_sweeps_per_beta": num_sweeps_per_beta,
              "beta_schedule_type": beta_schedule_type}
        return self._sample(bqm, num_reads, num_sweeps, seed, kw)

    def _stages(self, inst, scale, num_sweeps, kw):
        per = kw["num_sweeps_per_beta"]
        check_range("num_sweeps_per_beta", per, 1, None, integer=True)
        if num_sweeps % per:
            raise ParameterError(f"num_sweeps = {num_sweeps} is not a multiple of "
                                 f"num_sweeps_per_beta = {per}")
        br = kw["beta_range"]
        br = default_beta_range(inst, scale) if br is None else [float(b) for b in br]
        betas = beta_schedule(br, num_sweeps // int(per), kw["beta_schedule_type"])
        stages = [(Metropolis(1.0 / (b * scale)), int(per)) for b in betas]
        if not stages:  # zero sweeps: the random initial states
            stages = [(Metropolis(1.0 / (br[-1] * scale)), 0)]
        return stages, {"beta_range": br, "beta_schedule_type": kw["beta_schedule_type"]}


class SGDLikeSampler(_RunnerSampler):
    """mcsgd's SGD-like mini-batch descent at mini-batch fraction ``B`` (a dimod ``Sampler``).

    ``sample(bqm, B, num_reads=1, num_sweeps=1000, seed=None)``: ``num_sweeps`` sweeps of the
    reference SGD-like dynamics (:class:`mcsgd.dynamics.SGD`: sequential order, a fresh
    Bernoulli(B) mini-batch of half-edges each sweep, a move accepted iff the mini-batch energy
    does not rise) from random starts. B = 1 is the greedy zero-temperature quench; smaller B
    acts as a temperature T(B) (``mcsgd calibrate``).
    """

    parameters = {"B": [], "num_reads": [], "num_sweeps": [], "seed": []}
    properties: dict[str, Any] = {}

    def sample(self, bqm: Any, *, B: float, num_reads: int | None = None,
               num_sweeps: int | None = None, seed: int | None = None,
               **kwargs: Any) -> dimod.SampleSet:
        """Sample ``bqm`` (class docstring); unknown keyword arguments warn and are ignored."""
        self.remove_unknown_kwargs(**kwargs)
        return self._sample(bqm, num_reads, num_sweeps, seed, {"B": B})

    def _stages(self, inst, scale, num_sweeps, kw):
        return [(SGD(kw["B"]), num_sweeps)], {"B": float(kw["B"])}
