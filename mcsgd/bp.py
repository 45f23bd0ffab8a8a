r"""Belief propagation (BP) for planted q-colouring and planted Ising: the Bayes-optimal reference.

Model
-----
Boltzmann weight :math:`P(s) \propto \prod_i \pi_i(s_i) \prod_{(ij)} W_{ij}(s_i, s_j)` at
inverse temperature :math:`\beta = 1/T` (``T = 0``: :math:`\beta = \infty`, the hard limit),
with optional node weights :math:`\pi_i` (``prior``; default 1) and

* colouring (antiferromagnetic Potts): :math:`W(s, s') = e^{-\beta \delta_{ss'}}
  = 1 - (1 - x)\,\delta_{ss'}`, :math:`x = e^{-\beta}` (``x = 0`` exactly at :math:`\beta = \infty`:
  the proper-colouring constraint);
* Ising: :math:`W_{ij}(s, s') = e^{\beta (J_{ij} s s' - 1)} = \kappa\,(1 + t J_{ij} s s')`,
  :math:`t = \tanh\beta`, :math:`\kappa = (1 + e^{-2\beta})/2`. The energy is measured from
  :math:`E_0 = -M` (all couplings satisfied) so that every quantity stays finite at
  :math:`\beta = \infty`. Spin index 0 is :math:`s = +1`, index 1 is :math:`s = -1`.

Messages and update
-------------------
One normalised message :math:`\psi_{i\to j}(s)` per directed edge (half-edge ``h`` of row ``i``
of the CSR adjacency, ``indices[h] = j``), stored as ``float64[2M, q]``; ``rev[h]`` is the
half-edge ``j -> i`` (the k-th parallel edge i-j is paired with the k-th parallel edge j-i, as in
``Instance.edge_ids``). The update is

.. math::
    \psi_{i\to j}(s) \propto \pi_i(s) \prod_{k \in \partial i \setminus j} u_{k\to i}(s),
    \qquad u_{k\to i}(s) = \sum_{s'} \tilde W(s, s')\,\psi_{k\to i}(s'),

i.e. :math:`u = 1 - (1 - x)\,\psi_{k\to i}(s)` (colouring) and
:math:`u = 1 + t J_{ik}\, s\, m_{k\to i}`, :math:`m = \psi(+) - \psi(-)` (Ising). The
leave-one-out products are prefix x suffix products (no division, exact with the zeros of the
hard limit; rescaled against under/overflow). A node whose messages all vanish (a contradiction
of the hard constraints) sends uniform messages and is counted in ``contradictions``.

Schedules: ``"random"`` sweeps the nodes in a fresh random order each iteration, updating all
outgoing messages of a node from the current incoming ones (in place); ``"parallel"`` updates all
messages synchronously from the previous iteration. Damping ``d``:
:math:`\psi \leftarrow (1 - d)\,\psi_{\rm new} + d\,\psi_{\rm old}`. Converged when the largest
absolute change of a message component in an iteration is below ``tol``.

Initialisation: ``"uninformative"``: uniform messages :math:`(1 + \epsilon\xi)/q`, normalised,
:math:`\xi \sim U(-1, 1)` (``perturbation`` :math:`= \epsilon`) — the paramagnetic fixed point
plus a seed for its instabilities; ``"random"``: :math:`\psi \propto -\log U` (uniform on the
simplex); ``"planted"``: :math:`(1 - \epsilon)\,\delta_{s, s^*_i} + \epsilon/q` (needs a planted
solution; probes the retrieval fixed point).

Outputs
-------
Marginals :math:`\mu_i(s) \propto \pi_i(s) \prod_{k\in\partial i} u_{k\to i}(s)`; the argmax
assignment (colours 0..q-1, or spins +-1; ties to the lowest index) and its overlap with the
planted solution (:func:`mcsgd.dynamics.measure.overlap`). Bethe free energy per node
(dimensionless, :math:`\beta(F - E_0)/N`):

.. math::
    -f = \frac{1}{N}\Big[\sum_i \log Z_i - \sum_{(ij)} \log Z_{ij}\Big] + \frac{M}{N}\log\kappa,
    \quad Z_i = \sum_s \pi_i(s) \prod_{k\in\partial i} u_{k\to i}(s),
    \quad Z_{ij} = \sum_{s, s'} \psi_{i\to j}(s)\,\tilde W_{ij}(s, s')\,\psi_{j\to i}(s'),

(:math:`\kappa = 1` for colouring), exact on trees. Energy per node :math:`e = \langle E\rangle/N`
from the BP edge marginals (colouring: monochromatic edges; Ising:
:math:`-\sum J\langle s s'\rangle`), and entropy :math:`s = -f + \beta(e - e_0)`
(at :math:`\beta = \infty`: :math:`s = -f`, the Bethe entropy of the zero-energy states).

Paramagnet (uniform messages, any graph, no prior): :math:`-f = \log q + \frac{c}{2}
\log\big(1 - \frac{1 - e^{-\beta}}{q}\big)` for colouring and
:math:`-f = \log 2 + \frac{c}{2}\log\frac{1 + e^{-2\beta}}{2}` for Ising (c = 2M/N), the annealed
values. Planted q-colouring: BP from the uninformative start recovers the planted colouring iff
c > c_KS = (q - 1)^2 (Kesten-Stigum; see ``docs/bp.md``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from mcsgd._numba import njit
from mcsgd.errors import ParameterError, check_choice, check_range
from mcsgd.rng import randbelow
from mcsgd.seeds import BP_MESSAGES, BP_ORDER, namespaced_generator, namespaced_states

INITS = ("uninformative", "random", "planted")
SCHEDULES = ("random", "parallel")
_EMPTY_J = np.zeros(0, np.int8)
_TINY = 1e-100
_HUGE = 1e100


# ---------------------------------------------------------------------------------------------
# kernels
# ---------------------------------------------------------------------------------------------
@njit
def _shuffle(order, rng):
    """Fisher-Yates shuffle of ``order`` in place with the xoshiro stream ``rng[0]``."""
    for k in range(order.shape[0] - 1, 0, -1):
        r = randbelow(rng, 0, k + 1)
        tmp = order[k]
        order[k] = order[r]
        order[r] = tmp


@njit(inline="always")
def _incoming(lo, d, rev, couplings, ising, a, src, u):
    """Edge factors u[k, s] of the d messages entering the node whose row starts at ``lo``."""
    q = src.shape[1]
    for k in range(d):
        r = rev[lo + k]
        if ising:
            tm = a * couplings[lo + k] * (src[r, 0] - src[r, 1])
            u[k, 0] = 1.0 + tm
            u[k, 1] = 1.0 - tm
        else:
            for s in range(q):
                u[k, s] = 1.0 - a * src[r, s]


@njit(inline="always")
def _mul_row(dst, kd, a, ka, b, kb, q):
    """dst[kd] = a[ka] * b[kb], rescaled by its max when it leaves [1e-100, 1e100];
    returns log of the factor divided out (0 when not rescaled)."""
    mx = 0.0
    for s in range(q):
        v = a[ka, s] * b[kb, s]
        dst[kd, s] = v
        if v > mx:
            mx = v
    if mx > 0.0 and (mx < _TINY or mx > _HUGE):
        inv = 1.0 / mx
        for s in range(q):
            dst[kd, s] *= inv
        return math.log(mx)
    return 0.0


@njit
def _sweep(indptr, rev, couplings, ising, a, prior, has_prior, src, dst, order, damping,
           u, pre, suf, tmp):
    """One BP iteration over the nodes in ``order``.

    Reads incoming messages from ``src`` and writes outgoing ones to ``dst`` (the same array for
    the random sequential schedule, two buffers for the parallel one). Returns the largest
    absolute change of a message component and the number of contradictions.
    """
    q = src.shape[1]
    maxdiff = 0.0
    bad = 0
    for oi in range(order.shape[0]):
        i = order[oi]
        lo = indptr[i]
        d = indptr[i + 1] - lo
        if d == 0:
            continue
        _incoming(lo, d, rev, couplings, ising, a, src, u)
        for s in range(q):
            pre[0, s] = prior[i, s] if has_prior else 1.0
            suf[d, s] = 1.0
        for k in range(d - 1):
            _mul_row(pre, k + 1, pre, k, u, k, q)
        for k in range(d - 1, 0, -1):
            _mul_row(suf, k, suf, k + 1, u, k, q)
        for k in range(d):
            h = lo + k
            tot = 0.0
            for s in range(q):
                v = pre[k, s] * suf[k + 1, s]
                tmp[s] = v
                tot += v
            if not (tot > 0.0 and tot < np.inf):
                bad += 1
                for s in range(q):
                    tmp[s] = 1.0
                tot = float(q)
            inv = 1.0 / tot
            for s in range(q):
                old = src[h, s]
                new = (1.0 - damping) * (tmp[s] * inv) + damping * old
                diff = abs(new - old)
                if diff > maxdiff:
                    maxdiff = diff
                dst[h, s] = new
    return maxdiff, bad


@njit
def _observables(indptr, rev, couplings, ising, a, x, prior, has_prior, msg, u, pre, marg):
    """Marginals (into ``marg``) and the Bethe sums.

    Returns (sum_i log Z_i, sum_(ij) log Z_ij, sum_(ij) <E_ij> with Ising energies measured from
    -1 per edge, number of nodes with Z_i = 0).
    """
    n = indptr.shape[0] - 1
    q = msg.shape[1]
    node_sum = 0.0
    edge_sum = 0.0
    energy = 0.0
    bad = 0
    for i in range(n):
        lo = indptr[i]
        d = indptr[i + 1] - lo
        _incoming(lo, d, rev, couplings, ising, a, msg, u)
        for s in range(q):
            pre[0, s] = prior[i, s] if has_prior else 1.0
        logscale = 0.0
        for k in range(d):
            logscale += _mul_row(pre, k + 1, pre, k, u, k, q)
        tot = 0.0
        for s in range(q):
            tot += pre[d, s]
        if tot > 0.0:
            node_sum += math.log(tot) + logscale
            for s in range(q):
                marg[i, s] = pre[d, s] / tot
        else:
            node_sum += -np.inf
            bad += 1
            for s in range(q):
                marg[i, s] = 1.0 / q
        for h in range(lo, lo + d):
            r = rev[h]
            if h > r:
                continue
            if ising:
                jmm = couplings[h] * (msg[h, 0] - msg[h, 1]) * (msg[r, 0] - msg[r, 1])
                z = 1.0 + a * jmm
                # E_ij - (-1) = 1 - J<s s'>,  <J s s'> = (J m m' + t) / (1 + t J m m')
                e = 1.0 - (jmm + a) / z if z > 0.0 else np.nan
            else:
                sp = 0.0
                for s in range(q):
                    sp += msg[h, s] * msg[r, s]
                z = 1.0 - a * sp
                e = x * sp / z if z > 0.0 else np.nan
            edge_sum += math.log(z) if z > 0.0 else -np.inf
            energy += e
    return node_sum, edge_sum, energy, bad


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class BPResult:
    """The outcome of :func:`bp`.

    Attributes
    ----------
    marginals : float64[N, q]
        BP marginals (Ising: columns s = +1, s = -1).
    messages : float64[2M, q]
        Final messages, indexed by half-edge (row i, slot k -> message i -> indices[k]).
    assignment : int8[N]
        Argmax of the marginals: colours 0..q-1, or spins +-1 (ties: lowest index / +1).
    converged : bool
        Whether the largest message change fell below ``tol`` within ``max_iter`` iterations.
    iterations : int
        Iterations done.
    max_change : float
        Largest absolute message change in the last iteration.
    history : float64[iterations]
        Largest absolute message change of every iteration (convergence diagnostic).
    bethe_free_energy : float
        f = -(1/N) log Z_Bethe, dimensionless, energies from E_0 (module docstring).
    energy : float
        Energy per node <E>/N from the BP edge marginals (Ising: the usual -sum J s s').
    entropy : float
        Bethe entropy per node, -f + beta (e - e_0) (-f at beta = infinity).
    overlap : float or None
        Overlap of ``assignment`` with the planted solution (None without one).
    contradictions : int
        Nodes whose incoming messages were incompatible in the last iteration (hard limit), plus
        nodes with Z_i = 0 at the end.
    params : dict
        Parameters actually used (beta, T, schedule, seed, ...).
    timing : dict
        ``prepare_s``, ``run_s``, ``post_s``, ``ns_per_message`` (per directed-message update).
    """

    marginals: np.ndarray
    messages: np.ndarray
    assignment: np.ndarray
    converged: bool
    iterations: int
    max_change: float
    history: np.ndarray
    bethe_free_energy: float
    energy: float
    entropy: float
    overlap: float | None
    contradictions: int
    params: dict[str, Any]
    timing: dict[str, float]

    def __repr__(self) -> str:
        ov = "None" if self.overlap is None else f"{self.overlap:.4f}"
        state = "converged" if self.converged else "not converged"
        return (f"BPResult(N={self.marginals.shape[0]}, q={self.marginals.shape[1]}, {state} "
                f"after {int(self.iterations)} iterations, max change {self.max_change:.3g}, "
                f"f={self.bethe_free_energy:.6g}, e={self.energy:.6g}, overlap={ov})")

    def summary(self) -> dict[str, Any]:
        """Scalars, parameters and timings as a JSON-ready dict (``mcsgd bp --json``)."""
        return {
            "overlap": self.overlap,
            "converged": bool(self.converged),
            "iterations": int(self.iterations),
            "max_change": float(self.max_change),
            "bethe_free_energy": float(self.bethe_free_energy),
            "energy": float(self.energy),
            "entropy": float(self.entropy),
            "contradictions": int(self.contradictions),
            "params": dict(self.params),
            "timing": dict(self.timing),
        }

    def save(self, path: str | os.PathLike, *, messages: bool = False) -> None:
        """Write the result to HDF5 (``mcsgd_kind = "bp"``), atomically.

        Datasets ``marginals``, ``assignment``, ``history`` (and ``messages`` if asked); scalars
        as attributes; ``params``, ``timing`` and ``provenance`` as JSON attributes (layout:
        :mod:`mcsgd.storage.bp`, read back with :func:`mcsgd.storage.bp.read`).
        """
        from mcsgd.storage import bp as layout

        layout.write(path, marginals=self.marginals, assignment=self.assignment,
                     history=self.history, messages=self.messages if messages else None,
                     scalars=self.summary(), overlap=self.overlap, params=self.params,
                     timing=self.timing)


# ---------------------------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------------------------
def reverse_half_edges(instance) -> np.ndarray:
    """int32[2M]: ``rev[h]`` is the half-edge j -> i of the half-edge h = i -> j.

    The k-th parallel copy of edge i-j in row i is paired with the k-th copy in row j
    (through :meth:`Instance.edge_ids`).
    """
    ids, m = instance.edge_ids()
    order = np.argsort(ids, kind="stable")
    rev = np.empty(ids.shape[0], np.int32)
    h1 = order[0::2]
    h2 = order[1::2]
    rev[h1] = h2
    rev[h2] = h1
    return rev


def nishimori_beta(noise: float) -> float:
    """Bayes-optimal (Nishimori) inverse temperature of the planted Ising model with coupling
    flip probability ``noise`` in [0, 1/2): tanh(beta) = 1 - 2 noise (infinite for noise = 0)."""
    check_range("noise", noise, 0, 0.5, hi_open=True)
    return math.inf if noise == 0 else math.atanh(1.0 - 2.0 * noise)


def default_temperature(instance) -> float:
    """The default T of :func:`bp`: 0 (hard constraints) for colouring; for a planted Ising
    instance the Nishimori temperature of its generator's ``noise`` (ParameterError if unknown)."""
    if instance.problem == "coloring":
        return 0.0
    noise = instance.params.get("noise") if instance.planted is not None else None
    if noise is None or not 0 <= float(noise) < 0.5:
        raise ParameterError(
            "T is required (T >= 0) for an Ising instance without a planted noise in [0, 0.5)"
        )
    b = nishimori_beta(float(noise))
    return 0.0 if b == math.inf else 1.0 / b


def bp(
    instance,
    *,
    T: float | None = None,
    damping: float = 0.0,
    init: str = "uninformative",
    perturbation: float = 1e-3,
    max_iter: int = 1000,
    tol: float = 1e-8,
    seed: int = 0,
    schedule: str = "random",
    prior: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BPResult:
    """Run belief propagation on a colouring or Ising instance.

    Parameters
    ----------
    instance : problems.Instance
        ``problem="coloring"`` (any q) or ``"ising"``.
    T : float or None
        Temperature, in [0, inf] (0: the hard limit beta = inf; inf: beta = 0). None: 0 for
        colouring, the Nishimori temperature tanh(1/T) = 1 - 2 noise for a planted Ising instance.
    damping : float
        Damping d in [0, 1): new = (1 - d) * update + d * old.
    init : {"uninformative", "random", "planted"}
        Initial messages (module docstring).
    perturbation : float
        Amplitude epsilon in [0, 1) of the perturbation of the uniform messages (uninformative)
        or of the uniform admixture (planted); unused by ``"random"``.
    max_iter : int
        Maximum number of iterations (>= 1).
    tol : float
        Convergence threshold (> 0) on the largest absolute message change of an iteration.
    seed : int
        Seed in [0, 2**64): initial messages from ``SeedSequence(seed, (BP_MESSAGES,))``, the
        random update order from ``SeedSequence(seed, (BP_ORDER, 0))`` (:mod:`mcsgd.seeds`;
        streams of their own, shared with no instance or dynamics).
    schedule : {"random", "parallel"}
        Random sequential or synchronous updates.
    prior : float64[N, q] or None
        Non-negative node weights pi_i(s) (an external field; Ising columns s = +1, -1), each
        row with a positive sum. None: no field.
    progress : callable(iterations_done, max_iter), optional
        Called after every iteration (no effect on the result).

    Returns
    -------
    BPResult
    """
    t0 = time.perf_counter()
    if not hasattr(instance, "problem") or not hasattr(instance, "indptr"):
        raise ParameterError("instance must be a problems.Instance")
    q = int(instance.q)
    n = instance.n
    ising = instance.problem == "ising"
    if T is None:
        T = default_temperature(instance)
    check_range("T", T, 0, None, allow_inf=True)  # documented: [0, inf]
    T = float(T)
    check_range("damping", damping, 0, 1, hi_open=True)
    check_choice("init", init, INITS)
    check_range("perturbation", perturbation, 0, 1, hi_open=True)
    check_range("max_iter", max_iter, 1, None, integer=True)
    check_range("tol", tol, 0, None, lo_open=True)
    check_range("seed", seed, 0, 2**64 - 1, integer=True)
    check_choice("schedule", schedule, SCHEDULES)
    if init == "planted" and instance.planted is None:
        raise ParameterError("init = 'planted' needs an instance with a planted solution")
    has_prior = prior is not None
    if has_prior:
        prior = np.array(prior, dtype=np.float64, copy=True)
        if prior.shape != (n, q):
            raise ParameterError(f"prior must have shape (N, q) = ({n}, {q}), got {prior.shape}")
        if not np.all(np.isfinite(prior)) or prior.min() < 0:
            raise ParameterError("prior must be finite and non-negative")
        rmax = prior.max(axis=1)
        if np.any(rmax <= 0):
            raise ParameterError("every row of prior must have a positive entry")
        prior /= rmax[:, None]
        prior_log = float(np.log(rmax).sum())
    else:
        prior = np.ones((1, q))
        prior_log = 0.0
    max_iter, seed = int(max_iter), int(seed)

    beta = math.inf if T == 0 else 1.0 / T
    if ising:
        a = math.tanh(beta)  # t
        x = math.exp(-2.0 * beta)
        log_kappa = math.log1p(x) - math.log(2.0)
    else:
        x = math.exp(-beta)  # 0 exactly at beta = inf
        a = 1.0 - x
        log_kappa = 0.0
    couplings = instance.couplings if ising else _EMPTY_J
    indptr = instance.indptr
    rev = reverse_half_edges(instance)
    m2 = rev.shape[0]

    # initial messages
    rng = namespaced_generator(BP_MESSAGES, seed)
    if init == "uninformative":
        msg = 1.0 + perturbation * rng.uniform(-1.0, 1.0, size=(m2, q))
    elif init == "random":
        msg = -np.log1p(-rng.random((m2, q)))  # Exp(1): normalised -> uniform on the simplex
        msg += 1e-300
    else:
        pl = instance.planted.astype(np.int64)
        idx = (pl == -1).astype(np.int64) if ising else pl
        rows = np.repeat(idx, np.diff(indptr))
        msg = np.full((m2, q), perturbation / q)
        msg[np.arange(m2), rows] += 1.0 - perturbation
    msg /= msg.sum(axis=1, keepdims=True)
    msg = np.ascontiguousarray(msg)

    dmax = instance.max_degree
    u = np.empty((max(dmax, 1), q))
    pre = np.empty((dmax + 1, q))
    suf = np.empty((dmax + 1, q))
    tmp = np.empty(q)
    order = np.arange(n, dtype=np.int32)
    state = namespaced_states(BP_ORDER, seed, (), 1)
    other = np.empty_like(msg) if schedule == "parallel" else msg
    history: list[float] = []
    t1 = time.perf_counter()

    converged = False
    it = 0
    bad = 0
    change = math.inf
    src, dst = msg, other
    while it < max_iter:
        if schedule == "random":
            _shuffle(order, state)
        change, bad = _sweep(indptr, rev, couplings, ising, a, prior, has_prior, src, dst,
                             order, float(damping), u, pre, suf, tmp)
        history.append(change)
        it += 1
        if progress is not None:
            progress(it, max_iter)
        if schedule == "parallel":
            src, dst = dst, src
        if change < tol:
            converged = True
            break
    msg = src
    t2 = time.perf_counter()

    marg = np.empty((n, q))
    node_sum, edge_sum, e_sum, bad_nodes = _observables(
        indptr, rev, couplings, ising, a, x, prior, has_prior, msg, u, pre, marg)
    m = instance.m
    phi = (node_sum + prior_log - edge_sum + m * log_kappa) / n
    e0 = -m / n if ising else 0.0
    e_shift = e_sum / n  # e - e0
    energy = e_shift + e0
    if beta == math.inf:
        entropy = phi
    else:
        entropy = phi + beta * e_shift
    arg = np.argmax(marg, axis=1)
    assignment = (1 - 2 * arg).astype(np.int8) if ising else arg.astype(np.int8)
    ov = None
    if instance.planted is not None:
        from mcsgd.dynamics.measure import overlap

        ov = float(overlap(instance, assignment[None, :])[0])
    t3 = time.perf_counter()

    params = {
        "problem": instance.problem,
        "n": n,
        "q": q,
        "m": m,
        "T": T,
        "beta": beta,
        "damping": float(damping),
        "init": init,
        "perturbation": float(perturbation),
        "max_iter": max_iter,
        "tol": float(tol),
        "seed": seed,
        "schedule": schedule,
        "prior": has_prior,
        "instance": dict(instance.params),
    }
    timing = {
        "prepare_s": t1 - t0,
        "run_s": t2 - t1,
        "post_s": t3 - t2,
        "ns_per_message": 1e9 * (t2 - t1) / max(1, it * m2),
    }
    return BPResult(
        marginals=marg,
        messages=msg,
        assignment=assignment,
        converged=converged,
        iterations=it,
        max_change=float(change),
        history=np.array(history, dtype=np.float64),
        bethe_free_energy=-phi,
        energy=energy,
        entropy=entropy,
        overlap=ov,
        contradictions=int(bad) + int(bad_nodes),
        params=params,
        timing=timing,
    )
