"""All of a pool's snapshots evaluated in one batched pass, whatever their number.

Calling each snapshot's policy on its own worlds costs a fixed overhead per call (a dozen small torch
operations), which a full pool pays a dozen times per step. Here the snapshots' actor weights are
stacked: the worlds are sorted by snapshot and padded into one ``(snapshots, worlds, features)`` block,
and each layer is one batched matrix product (``torch.bmm``) for every snapshot at once. The
arithmetic per world is the snapshot's own network; the actions equal its `TorchPolicy` up to float
rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["StackedSnapshots"]


class StackedSnapshots:
    """The deterministic actors of several snapshots (`TorchPolicy` objects of one role and shape).

    Args:
        policies: The snapshots' policies, in the order of their codes ``0 .. len - 1``.
    """

    def __init__(self, policies: Sequence[Any]) -> None:
        self.size = len(policies)
        first = policies[0]
        self._mid, self._half = first._mid, first._half
        self._activation = next(m for m in first.model.actor if not isinstance(m, nn.Linear))
        layers = [[m for m in p.model.actor if isinstance(m, nn.Linear)] for p in policies]
        self.weights = [
            torch.stack([ls[i].weight.detach().T for ls in layers]).contiguous() for i in range(len(layers[0]))
        ]
        self.biases = [torch.stack([ls[i].bias.detach() for ls in layers])[:, None, :] for i in range(len(layers[0]))]
        norms = [p.normalizer for p in policies]
        self.mean = torch.stack([n.mean for n in norms])[:, None, :]
        self.scale = torch.stack([n.scale for n in norms])[:, None, :]
        self.clip = float(norms[0].clip)
        self.normalize = bool(norms[0].enabled)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, which: np.ndarray) -> np.ndarray:
        """Actions of the worlds ``obs`` (``(M, obs_size)``), world j played by snapshot ``which[j]``."""
        m = len(which)
        order = np.argsort(which, kind="stable")
        sorted_which = which[order]
        counts = np.bincount(sorted_which, minlength=self.size)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pos = np.arange(m) - starts[sorted_which]
        k = torch.from_numpy(sorted_which)
        p = torch.from_numpy(pos)
        x = torch.zeros((self.size, int(counts.max()), obs.shape[1]))
        x[k, p] = torch.from_numpy(np.ascontiguousarray(obs[order], dtype=np.float32))
        if self.normalize:
            x = torch.clamp((x - self.mean) * self.scale, -self.clip, self.clip)
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = self._activation(x)
        y = self._mid + self._half * torch.clamp(x[k, p], -1.0, 1.0)
        out = np.empty((m, y.shape[1]), np.float32)
        out[order] = y.numpy()
        return out
