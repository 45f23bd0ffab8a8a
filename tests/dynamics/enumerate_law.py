"""Exact one-sweep transition matrices of every dynamics on tiny graphs (all q^N states).

States are indexed by x = sum_i v_i q^i (v_i in 0..q-1; spins are s = 2v - 1). For dynamics
whose acceptance depends on mini-batch flags shared between updates (edge flags, persistent
flags, fixed-size batches, random order), the sweep matrix is the exact average over every flag
configuration of the product of per-site matrices given the flags.
"""

from __future__ import annotations

import itertools

import numpy as np


class Tiny:
    """A tiny instance with all its states enumerated."""

    def __init__(self, inst):
        self.inst = inst
        self.n = inst.n
        self.q = inst.q
        self.ising = inst.problem == "ising"
        self.S = self.q**self.n
        x = np.arange(self.S)
        self.vals = np.stack([(x // self.q**i) % self.q for i in range(self.n)], axis=1)
        self.cfg = (2 * self.vals - 1) if self.ising else self.vals
        self.energy = np.array([inst.energy(c.astype(np.int8)) for c in self.cfg])
        self.eid, self.m = inst.edge_ids()

    def classes(self, i, b_off):
        """old/new masks [S, deg] of the neighbours of i for proposal offset b_off, and the
        target state indices [S]."""
        lo, hi = self.inst.indptr[i], self.inst.indptr[i + 1]
        nb = self.inst.indices[lo:hi]
        a = self.cfg[:, i]
        if self.ising:
            v = self.inst.couplings[lo:hi][None, :] * a[:, None] * self.cfg[:, nb]
            old, new = v < 0, v > 0
            bval = 1 - self.vals[:, i]
        else:
            bval = (self.vals[:, i] + b_off) % self.q
            old = self.vals[:, nb] == self.vals[:, [i]]
            new = self.vals[:, nb] == bval[:, None]
        target = np.arange(self.S) + (bval - self.vals[:, i]) * self.q**i
        return old, new, target, np.arange(lo, hi)

    def offsets(self):
        return [1] if self.ising else list(range(1, self.q))

    def site_matrix(self, i, accept):
        """P_i from ``accept(old, new, half_edges) -> prob[S]``."""
        P = np.zeros((self.S, self.S))
        offs = self.offsets()
        for o in offs:
            old, new, tgt, he = self.classes(i, o)
            acc = accept(old, new, he)
            P[np.arange(self.S), tgt] += acc / len(offs)
            P[np.arange(self.S), np.arange(self.S)] += (1 - acc) / len(offs)
        return P

    # ---- acceptance rules -------------------------------------------------------------
    def metropolis(self, T):
        scale = 2 if self.ising else 1

        def acc(old, new, he):
            de = scale * (new.sum(1) - old.sum(1))
            return np.minimum(1.0, np.exp(-de / T))

        return acc

    def heatbath_flip(self, T):
        def acc(old, new, he):
            de = 2 * (new.sum(1) - old.sum(1))
            return 1.0 / (1.0 + np.exp(de / T))

        return acc

    def table(self, B):
        from mcsgd.theory import p_acc_table

        tab = p_acc_table(int(self.inst.max_degree), B)

        def acc(old, new, he):
            return tab[old.sum(1), new.sum(1)]

        return acc

    def flagged(self, flag_of_halfedge):
        def acc(old, new, he):
            f = flag_of_halfedge[he][None, :]
            return ((new & f).sum(1) <= (old & f).sum(1)).astype(float)

        return acc

    def potts_heatbath_matrix(self, i, T):
        P = np.zeros((self.S, self.S))
        lo, hi = self.inst.indptr[i], self.inst.indptr[i + 1]
        nb = self.inst.indices[lo:hi]
        counts = np.stack([(self.vals[:, nb] == c).sum(1) for c in range(self.q)], 1)
        w = np.exp(-(counts - counts.min(1, keepdims=True)) / T)
        w /= w.sum(1, keepdims=True)
        for c in range(self.q):
            tgt = np.arange(self.S) + (c - self.vals[:, i]) * self.q**i
            P[np.arange(self.S), tgt] += w[:, c]
        return P

    # ---- sweep matrices ---------------------------------------------------------------
    def sweep(self, mats, order):
        if order == "sequential":
            out = np.eye(self.S)
            for P in mats:
                out = out @ P
            return out
        step = sum(mats) / len(mats)
        return np.linalg.matrix_power(step, self.n)

    def flag_average(self, B, flags, order, tau=1, fixed_k=None):
        """Exact tau-sweep matrix of the explicit-flag SGD variants."""
        nhe = self.inst.indices.shape[0]
        nf = self.m if flags == "edge" else nhe
        out = np.zeros((self.S, self.S))
        if fixed_k is None:
            configs = itertools.product([0, 1], repeat=nf)
        else:
            configs = (
                tuple(1 if k in sub else 0 for k in range(nf))
                for sub in itertools.combinations(range(nf), fixed_k)
            )
        total_w = 0.0
        for cfg in configs:
            cfg = np.array(cfg, bool)
            k = cfg.sum()
            w = 1.0 if fixed_k is not None else B**k * (1 - B) ** (nf - k)
            f_he = cfg[self.eid] if flags == "edge" else cfg
            acc = self.flagged(f_he)
            mats = [self.site_matrix(i, acc) for i in range(self.n)]
            out += w * np.linalg.matrix_power(self.sweep(mats, order), tau)
            total_w += w
        return out / total_w


def stationary(P):
    """Stationary law of a stochastic matrix, and the second-largest eigenvalue modulus."""
    w, v = np.linalg.eig(P.T)
    k = np.argmin(np.abs(w - 1))
    pi = np.real(v[:, k])
    pi = pi / pi.sum()
    lam2 = np.sort(np.abs(w))[-2]
    return pi, float(lam2)
