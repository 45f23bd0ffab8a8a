"""Paramagnetic energy densities on tree-like graphs, their derivatives and inverses.

Temperatures are in the energy units of the model (k_B = 1); energies are per node.
Colouring: given the colour a of a node, its neighbours' colours are i.i.d. with
P(a) = x/(x+q-1) and P(b) = 1/(x+q-1) for each b != a, x = exp(-1/T); hence
e_para(T) = (c/2) x/(q-1+x). Ising: each coupling at a node is satisfied independently with
probability 1/(1+y), y = exp(-2/T); e_para(T) = -(c/2) tanh(1/T).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mcsgd.errors import check_range
from mcsgd.theory._checks import as_array, check_array, check_q, scalar_out


def x_of_T(t: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Boltzmann factor exp(-scale/T) of one energy step, 0 at T = 0 (T an array >= 0)."""
    with np.errstate(divide="ignore"):
        return np.where(t == 0, 0.0, np.exp(-scale / np.where(t == 0, 1.0, t)))


def _inv_T2(t: np.ndarray) -> np.ndarray:
    """1/T^2, 0 at T = 0 (where both paramagnetic derivatives vanish)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0.0, 1.0 / np.where(t == 0, 1.0, t) ** 2)


def e_para_coloring(T: Any, c: float, q: int) -> Any:
    """Paramagnetic energy density of q-colouring on a tree-like graph.

    Parameters
    ----------
    T : float or array_like
        Temperature >= 0 (``inf`` allowed), energy units.
    c : float
        Mean degree >= 0 (Poisson graphs) or degree d (regular graphs).
    q : int
        Number of colours >= 2.

    Returns
    -------
    float or numpy.ndarray
        e = (c/2) x / (q-1+x), x = exp(-1/T): monochromatic edges per node; 0 at T = 0 and
        c/(2q) at T = inf.
    """
    t = check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    q = check_q(q)
    x = x_of_T(t)
    return scalar_out(0.5 * float(c) * x / (q - 1 + x), T)


def de_para_coloring_dT(T: Any, c: float, q: int) -> Any:
    """Derivative de/dT of :func:`e_para_coloring` (energy per node per unit temperature).

    de/dT = (c/2) (q-1) x / ((q-1+x)^2 T^2), x = exp(-1/T); 0 at T = 0 and T = inf.
    Parameters as in :func:`e_para_coloring`.
    """
    t = check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    q = check_q(q)
    x = x_of_T(t)
    inv_t2 = _inv_T2(t)
    out = 0.5 * float(c) * (q - 1) * x * inv_t2 / (q - 1 + x) ** 2
    return scalar_out(out, T)


def T_from_e_para_coloring(e: Any, c: float, q: int) -> Any:
    """Inverse of :func:`e_para_coloring`: the temperature of a paramagnet of energy ``e``.

    Parameters
    ----------
    e : float or array_like
        Energy density (monochromatic edges per node).
    c : float
        Mean degree > 0 (or degree d of a regular graph).
    q : int
        Number of colours >= 2.

    Returns
    -------
    float or numpy.ndarray
        T = -1/ln x with x = (q-1) e / (c/2 - e): T = 0 at e = 0, T = inf at e = c/(2q), ``nan``
        outside [0, c/(2q)] (e > c/(2q) would be a negative temperature).
    """
    ea = as_array("e", e)
    check_range("c", c, 0, None, lo_open=True)
    q = check_q(q)
    half = 0.5 * float(c)
    ok = (ea >= 0) & (ea <= half / q)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (q - 1) * ea / (half - ea)
        t = -1.0 / np.log(x)
    t = np.where(ea == 0, 0.0, t)
    t = np.where(ea == half / q, np.inf, t)
    t = np.where(ok, t, np.nan)
    return scalar_out(t, e)


def e_para_ising(T: Any, c: float) -> Any:
    """Paramagnetic energy density of a +-J Ising model on a tree-like graph.

    Parameters
    ----------
    T : float or array_like
        Temperature >= 0 (``inf`` allowed), energy units.
    c : float
        Mean degree >= 0 (d for regular graphs).

    Returns
    -------
    float or numpy.ndarray
        e = -(c/2) tanh(1/T) per node, whatever the signs of the couplings (SPEC §1.2).
    """
    t = check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    with np.errstate(divide="ignore"):
        beta = np.where(t == 0, np.inf, 1.0 / np.where(t == 0, 1.0, t))
    return scalar_out(-0.5 * float(c) * np.tanh(beta), T)


def de_para_ising_dT(T: Any, c: float) -> Any:
    """Derivative de/dT of :func:`e_para_ising`: (c/2) sech^2(1/T) / T^2 (0 at T = 0, inf).

    Parameters as in :func:`e_para_ising`; sech^2(1/T) = 4y/(1+y)^2, y = exp(-2/T), so no
    overflow at small T.
    """
    t = check_array("T", T, 0, None)
    check_range("c", c, 0, None)
    y = x_of_T(t, 2.0)
    inv_t2 = _inv_T2(t)
    out = 0.5 * float(c) * 4.0 * y / (1.0 + y) ** 2 * inv_t2
    return scalar_out(out, T)


def T_from_e_para_ising(e: Any, c: float) -> Any:
    """Inverse of :func:`e_para_ising`: T = 1 / artanh(-2e/c).

    Parameters
    ----------
    e : float or array_like
        Energy density per node.
    c : float
        Mean degree > 0 (d for regular graphs).

    Returns
    -------
    float or numpy.ndarray
        T = 0 at e = -c/2, T = inf at e = 0, ``nan`` outside [-c/2, 0].
    """
    ea = as_array("e", e)
    check_range("c", c, 0, None, lo_open=True)
    t = -2.0 * ea / float(c)
    ok = (t >= 0) & (t <= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        T = 1.0 / np.arctanh(np.clip(t, 0.0, 1.0))
    T = np.where(t == 1, 0.0, T)
    T = np.where(t == 0, np.inf, T)
    return scalar_out(np.where(ok, T, np.nan), e)
