r"""Vectorised mini-batch SGD with momentum, dampening and weight decay.

Update rule (PyTorch convention, dampening applied from the first step on):

    g_t     = ∇f_B(θ_t) + λ θ_t                (mini-batch gradient; λ: weight decay)
    v_{t+1} = μ v_t + (1 − ν) g_t              (μ: momentum, ν: dampening; v_0 = 0)
    θ_{t+1} = θ_t − η v_{t+1}

Without momentum (μ = ν = 0) this is θ_{t+1} = θ_t − η g_t. Yaida's convention
(v ← μv − (1−ν)g, θ ← θ + ηv) is the same dynamics with v_Yaida = −v: |v|² is unchanged, but the
sign of μ v·∇f terms flips. With this convention the stationary FDR1 reads
⟨(θ−θ_c)·∇f⟩ = (η/2)(1+μ)/(1−ν)⟨|v|²⟩, and the effective learning rate at small η is
η_eff = η(1−ν)/(1−μ), so the SDE temperature for isotropic per-sample variance s is
T = η_eff s / (2B).

Mini-batches (data models): ``sampling="with"`` draws B indices uniformly with replacement at
every step (the i.i.d. noise the theory assumes: covariance C_conn/B); ``sampling="without"`` is
epoch shuffling — every chain walks through its own random permutation, B indices at a time,
reshuffling when fewer than B remain (the remainder is dropped), which anti-correlates the noise
within an epoch. Additive-noise models without a finite noise set draw ∇U + N(0, C/B) directly.

The random stream is a numpy Generator from :func:`mcsgd.rng.generator`; a run is a deterministic
function of (entropy, key).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mcsgd.continuous.models import Model, with_weight_decay
from mcsgd.errors import ParameterError, check_choice, check_range

SAMPLING_CHOICES = ("with", "without")

# SGD steps between two calls of a ``progress(done, total)`` counter: a call (a tqdm refresh or a
# time check) costs microseconds, a vectorised step about as much, so never once per step
PROGRESS_EVERY = 500


class Ticker:
    """Counts the SGD steps of one engine call and reports ``progress(done, total)`` every
    :data:`PROGRESS_EVERY` steps (and at :meth:`finish`); with ``progress=None`` it only counts.

    Reporting draws nothing from the random stream: results do not depend on ``progress``.
    """

    def __init__(self, progress: Callable[[int, int], None] | None, total: int):
        self.progress = progress
        self.total = max(int(total), 1)
        self.done = 0
        self._last = 0

    def advance(self, n: int = 1) -> None:
        """``n`` more steps done."""
        self.done += n
        if self.progress is not None and self.done - self._last >= PROGRESS_EVERY:
            self._last = self.done
            self.progress(min(self.done, self.total), self.total)

    def skip_to(self, done: int) -> None:
        """Jump to ``done`` steps (e.g. a loop that stopped early) and report it."""
        self.done = self._last = int(done)
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def finish(self) -> None:
        """All ``total`` steps done."""
        self.skip_to(self.total)


def offset(progress: Callable[[int, int], None] | None, start: int,
           total: int) -> Callable[[int, int], None] | None:
    """The counter of a sub-run whose steps start at ``start`` of ``total`` (``progress``'s
    scale): ``(d, n)`` becomes ``progress(start + d, total)``; None stays None."""
    if progress is None:
        return None
    return lambda d, n: progress(start + d, total)


def check_sgd_params(
    eta: float | np.ndarray,
    B: int,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    sampling: str = "with",
    n_data: int | None = None,
) -> None:
    """Validate SGD hyper-parameters, raising :class:`ParameterError` naming the bad one."""
    for e in np.atleast_1d(np.asarray(eta, dtype=float)):
        check_range("eta", float(e), 0, None, lo_open=True)
    check_range("B", B, 1, None, integer=True)
    if n_data is not None:
        check_range("B", B, 1, n_data, integer=True)
    check_range("momentum", momentum, 0, 1, hi_open=True)
    check_range("dampening", dampening, 0, 1, hi_open=True)
    check_range("weight_decay", weight_decay, 0, None)
    check_choice("sampling", sampling, SAMPLING_CHOICES)


def effective_eta(eta: float, momentum: float = 0.0, dampening: float = 0.0) -> float:
    """η_eff = η (1 − ν)/(1 − μ): the step size of the equivalent plain SDE."""
    return float(eta) * (1.0 - dampening) / (1.0 - momentum)


class SGD:
    """R independent SGD chains on one model.

    Parameters
    ----------
    model : Model
        The loss (without weight decay; ``weight_decay`` wraps it in :class:`~.models.L2`).
    eta : float or ndarray (R,)
        Learning rate(s) (per chain when an array).
    B : int
        Mini-batch size.
    theta0 : ndarray (R, P)
        Initial parameters (copied).
    rng : numpy.random.Generator
        The chains' random stream.
    momentum, dampening : float in [0, 1)
    weight_decay : float ≥ 0
    sampling : {"with", "without"}

    Attributes
    ----------
    objective : Model
        The loss SGD actually descends (model + weight decay); use it for every observable.
    theta, v : ndarray (R, P)
    t : int
        Steps done.
    """

    def __init__(
        self,
        model: Model,
        eta: float | np.ndarray,
        B: int,
        theta0: np.ndarray,
        rng: np.random.Generator,
        *,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        sampling: str = "with",
    ):
        check_sgd_params(eta, B, momentum, dampening, weight_decay, sampling, model.n_data)
        self.objective = with_weight_decay(model, weight_decay)
        self.model = model
        self.theta = np.array(theta0, dtype=np.float64, ndmin=2)
        R, P = self.theta.shape
        if P != model.dim:
            raise ParameterError(f"theta0 has {P} parameters, the model {model.dim}")
        self.R, self.P = R, P
        self.B = int(B)
        self.set_eta(eta)
        self.mu, self.nu = float(momentum), float(dampening)
        self.sampling = sampling
        self.rng = rng
        self.v = np.zeros_like(self.theta)
        self.t = 0
        self._perm = None
        self._pos = 0

    def set_eta(self, eta: float | np.ndarray) -> None:
        """Change the learning rate(s); an array gives one per chain."""
        e = np.asarray(eta, dtype=np.float64)
        self.eta = e.reshape(-1, 1) if e.ndim else e

    @property
    def momentum_factor(self) -> float:
        """(1+μ)/(1−ν): the factor of (η/2)⟨|v|²⟩ in FDR1."""
        return (1.0 + self.mu) / (1.0 - self.nu)

    def _indices(self) -> np.ndarray:
        N = self.model.n_data
        if self.sampling == "with":
            return self.rng.integers(0, N, size=(self.R, self.B))
        if self._perm is None or self._pos + self.B > N:
            base = np.broadcast_to(np.arange(N), (self.R, N))
            self._perm = self.rng.permuted(base, axis=1)
            self._pos = 0
        idx = self._perm[:, self._pos : self._pos + self.B]
        self._pos += self.B
        return idx

    def minibatch_grad(self, theta: np.ndarray) -> np.ndarray:
        """A fresh mini-batch gradient of the objective at ``theta`` (R, P)."""
        if self.model.n_data is None:
            return self.objective.grad_noisy(theta, self.B, self.rng)
        return self.objective.grad_batch(theta, self._indices())

    def step(self) -> tuple[np.ndarray, np.ndarray]:
        """One update of every chain.

        Returns
        -------
        theta_t : ndarray (R, P)
            Parameters *before* the update (where the gradient was taken).
        g_t : ndarray (R, P)
            The mini-batch gradient used (weight decay included). After the call ``self.v`` is
            v_{t+1} and ``self.theta`` is θ_{t+1}.
        """
        th = self.theta
        g = self.minibatch_grad(th)
        if self.mu == 0.0 and self.nu == 0.0:
            self.v = g
        else:
            self.v = self.mu * self.v + (1.0 - self.nu) * g
        self.theta = th - self.eta * self.v
        self.t += 1
        return th, g

    def keep(self, mask: np.ndarray) -> None:
        """Drop the chains where ``mask`` is False (e.g. chains that already escaped)."""
        mask = np.asarray(mask, dtype=bool)
        self.theta = self.theta[mask]
        self.v = self.v[mask]
        if np.ndim(self.eta):
            self.eta = self.eta[mask]
        if self._perm is not None:
            self._perm = self._perm[mask]
        self.R = int(self.theta.shape[0])

    def run(self, steps: int, ticker: Ticker | None = None) -> None:
        """Advance ``steps`` updates without recording anything (counted on ``ticker``)."""
        for _ in range(int(steps)):
            self.step()
            if ticker is not None:
                ticker.advance()
        if not np.all(np.isfinite(self.theta)):
            raise ParameterError("SGD diverged (non-finite parameters): lower eta")


def resolve_burn_in(burn_in: int | None, steps: int, divisor: int) -> int:
    """Discarded steps: ``burn_in``, or ``steps // divisor`` when it is None; checked >= 0."""
    burn_in = int(steps) // divisor if burn_in is None else int(burn_in)
    check_range("burn_in", burn_in, 0, None, integer=True)
    return burn_in


def epoch_steps(model: Model, B: int) -> int:
    """Steps per epoch, max(1, N // B), or 1 with infinite data: the default spacing of the
    full-gradient measurements."""
    return 1 if model.n_data is None else max(1, model.n_data // int(B))


def check_finite(sgd: SGD) -> None:
    """Raise :class:`ParameterError` if any chain diverged."""
    if not np.all(np.isfinite(sgd.theta)):
        raise ParameterError(
            "SGD diverged (non-finite parameters): eta is too large for this model"
        )
