"""One-hidden-layer tanh network with a softmax output and the cross-entropy loss."""

from __future__ import annotations

import numpy as np

from mcsgd.continuous.models.base import Classifier, _as2d
from mcsgd.errors import check_range


class MLP(Classifier):
    """One hidden tanh layer, softmax output, cross-entropy loss.

    θ = (W1 (H, D), b1 (H), W2 (K, H), b2 (K)) flattened in that order. Initialisation:
    W ~ N(0, 1/fan_in), b = 0. Tr H is estimated by Hutchinson's method with central
    differences of the gradient (``n_probe`` Rademacher vectors).
    """

    name = "mlp"

    def __init__(
        self, X: np.ndarray, labels: np.ndarray, hidden: int = 8, data_name: str = ""
    ):
        check_range("hidden", hidden, 1, None, integer=True)
        self._set_data(np.asarray(X, dtype=np.float64), labels, data_name)
        self.Hd = int(hidden)
        H, D, K = self.Hd, self.D, self.K
        self._shapes = [(H, D), (H,), (K, H), (K,)]
        self._sizes = [int(np.prod(s)) for s in self._shapes]
        self.dim = int(sum(self._sizes))
        self.n_probe = 4

    def _unpack(self, theta):
        th = _as2d(theta)
        R = th.shape[0]
        out, o = [], 0
        for s, n in zip(self._shapes, self._sizes, strict=True):
            out.append(th[:, o : o + n].reshape((R, *s)))
            o += n
        return out

    def _fb(self, theta, Xb, Yb, want_grad=True):
        W1, b1, W2, b2 = self._unpack(theta)
        a1 = np.tanh(Xb @ W1.transpose(0, 2, 1) + b1[:, None, :])  # (R, B, H)
        z2 = a1 @ W2.transpose(0, 2, 1) + b2[:, None, :]  # (R, B, K)
        zmax = z2.max(axis=-1, keepdims=True)
        e = np.exp(z2 - zmax)
        se = e.sum(axis=-1, keepdims=True)
        if not want_grad:
            lse = np.log(se[..., 0]) + zmax[..., 0]
            return np.mean(lse - np.sum(z2 * Yb, axis=-1), axis=1)
        Bn = Xb.shape[1]
        dz2 = (e / se - Yb) / Bn
        gW2 = dz2.transpose(0, 2, 1) @ a1
        gb2 = dz2.sum(axis=1)
        dz1 = (dz2 @ W2) * (1 - a1 * a1)
        gW1 = dz1.transpose(0, 2, 1) @ Xb
        gb1 = dz1.sum(axis=1)
        R = gW1.shape[0]
        return np.concatenate(
            [gW1.reshape(R, -1), gb1, gW2.reshape(R, -1), gb2], axis=1
        )

    def loss(self, theta):
        return self._fb(theta, self.X[None], self.Y[None], want_grad=False)

    def grad(self, theta):
        return self._fb(theta, self.X[None], self.Y[None])

    def grad_batch(self, theta, idx):
        return self._fb(theta, self.X[idx], self.Y[idx])

    def per_sample_grads(self, theta):
        th = np.asarray(theta, float).ravel()[None]
        out = np.empty((self.n_data, self.dim))
        for i0 in range(0, self.n_data, 256):
            sl = np.arange(i0, min(i0 + 256, self.n_data))
            Xb = self.X[sl][:, None, :]
            Yb = self.Y[sl][:, None, :]
            out[sl] = self._fb(np.repeat(th, sl.size, axis=0), Xb, Yb)
        return out

    def laplacian(self, theta, rng=None):
        th = _as2d(theta)
        rng = rng if rng is not None else np.random.default_rng(0)
        eps = 1e-4
        acc = np.zeros(th.shape[0])
        for _ in range(self.n_probe):
            z = rng.choice([-1.0, 1.0], size=th.shape)
            hz = (self.grad(th + eps * z) - self.grad(th - eps * z)) / (2 * eps)
            acc += np.sum(z * hz, axis=1)
        return acc / self.n_probe

    def init(self, rng, R):
        parts = []
        for s in self._shapes:
            if len(s) == 2:
                parts.append(rng.standard_normal((R, s[0] * s[1])) / np.sqrt(s[1]))
            else:
                parts.append(np.zeros((R, s[0])))
        return np.concatenate(parts, axis=1)

    def describe(self):
        return {**super().describe(), "data": self.data_name, "hidden": self.Hd}
