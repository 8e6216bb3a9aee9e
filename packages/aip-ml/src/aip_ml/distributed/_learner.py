"""`DistributedPPO`: `PPO` whose ranks share one batch N times larger.

Each rank steps its own worlds (seeded by rank) and computes its minibatch gradients locally; the
gradients are then averaged over the ranks with one all-reduce of a flat buffer per minibatch, before
the gradient-norm clip and Adam's step. Every rank therefore applies the same update to the same
weights, as if one process had taken the mean loss over the N ranks' minibatches. The running
observation and return statistics fold in all ranks' samples (their moments are gathered and combined
in rank order, so every rank holds the same numbers), and the episode statistics are summed.

A manual all-reduce rather than ``DistributedDataParallel``: the learner calls its network's heads
(``model.mean``, ``model.value``) outside ``forward``, which DDP's reducer does not follow, and the
reduction must sit between the backward pass and the clip; one flat all-reduce per minibatch is all
DDP would do for a network this small (a single bucket), without wrapping the model.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from .._config import TrainConfig
from ..ppo import PPO, DevicePPO, ObsNormalizer, RunningMeanStd, TorchRunningMeanStd
from ._group import RankGroup, lr_factor, rank_seed

__all__ = [
    "DistributedDevicePPO",
    "DistributedPPO",
    "SharedRunningMeanStd",
    "SharedTorchRunningMeanStd",
    "combine_moments",
]


def combine_moments(parts: list[tuple[float, Any, Any]]) -> tuple[float, Any, Any]:
    """Combine ``(count, mean, var)`` of several batches into those of their union (Chan et al.), in order.

    Args:
        parts: Each batch's sample count, mean and (population) variance: float64 numpy arrays or
            torch tensors.

    Returns:
        The union's count, mean and variance.
    """
    n, mean, var = parts[0]
    for m, b_mean, b_var in parts[1:]:
        if m == 0:
            continue
        if n == 0:
            n, mean, var = m, b_mean, b_var
            continue
        total = n + m
        delta = b_mean - mean
        mean = mean + delta * (m / total)
        var = (var * n + b_var * m + delta * delta * (n * m / total)) / total
        n = total
    return n, mean, var


class SharedRunningMeanStd(RunningMeanStd):
    """`RunningMeanStd` whose every `update` folds in the batches of all ranks (each rank calls it).

    Args:
        group: The ranks.
        shape: Shape of one sample.
        what: Named in the error when a rank is lost.
    """

    def __init__(self, group: RankGroup, shape: tuple[int, ...] = (), what: str = "statistics") -> None:
        super().__init__(shape)
        self.group = group
        self.what = what

    def update(self, batch: npt.NDArray[Any], rows: npt.NDArray[np.intp] | None = None) -> None:
        """Fold every rank's batch ``(B, *shape)`` (or its ``rows``) into the statistics (a collective)."""
        n, mean, var = self.moments(batch, rows)
        size = int(np.prod(self.mean.shape))
        local = np.zeros(1 + 2 * size, dtype=np.float64)
        local[0] = n
        if n:
            local[1 : 1 + size] = mean.reshape(-1)
            local[1 + size :] = var.reshape(-1)
        gathered = self.group.all_gather(torch.from_numpy(local), f"the {self.what} all-gather")
        shape = self.mean.shape
        parts = [
            (float(g[0]), g[1 : 1 + size].numpy().reshape(shape), g[1 + size :].numpy().reshape(shape))
            for g in gathered
        ]
        total_n, b_mean, b_var = combine_moments(parts)
        if total_n:
            self.fold(b_mean, b_var, total_n)  # the union of the ranks' batches as the batch


class SharedTorchRunningMeanStd(TorchRunningMeanStd):
    """`TorchRunningMeanStd` (statistics on a device) whose every `update` folds in all ranks' batches.

    Args:
        group: The ranks.
        shape: Shape of one sample.
        device: Where the statistics live.
        what: Named in the error when a rank is lost.
    """

    def __init__(self, group: RankGroup, shape: tuple[int, ...], device: torch.device, what: str) -> None:
        super().__init__(shape, device)
        self.group = group
        self.what = what

    def update(self, batch: Any) -> None:
        """Fold every rank's batch ``(B, *shape)`` into the statistics (a collective: all ranks call it)."""
        x = torch.as_tensor(batch, device=self.device).to(torch.float64)
        n = x.shape[0]
        size = int(self.mean.numel())
        local = torch.zeros(1 + 2 * size, dtype=torch.float64, device=self.device)
        local[0] = n
        if n:
            local[1 : 1 + size] = x.mean(dim=0).reshape(-1)
            local[1 + size :] = x.var(dim=0, correction=0).reshape(-1)
        shape = self.mean.shape
        gathered = self.group.all_gather(local, f"the {self.what} all-gather")
        parts = [(float(g[0]), g[1 : 1 + size].reshape(shape), g[1 + size :].reshape(shape)) for g in gathered]
        total_n, b_mean, b_var = combine_moments(parts)
        if total_n:
            self.fold(b_mean, b_var, total_n)  # the union of the ranks' batches as the batch


class DistributedPPO(PPO):
    """`PPO` on one rank of a data-parallel run (the CPU learner; gloo).

    Args:
        config: The training config (the same on every rank); ``num_worlds`` is per rank.
        worlds: This rank's worlds.
        group: The ranks (`aip_ml.distributed.init`).
    """

    def __init__(self, config: TrainConfig, worlds: Any, group: RankGroup) -> None:
        self.group = group
        super().__init__(config, worlds)
        w = group.world_size
        self.total_updates = max(1, math.ceil(config.total_steps / (config.batch_size * w)))
        self.lr_factor = lr_factor(config.lr_scale, w)
        self.generator.manual_seed(rank_seed(config.seed + 1, group.rank))
        self._params = list(self.model.parameters())
        self.allreduce_seconds = 0.0
        self.broadcast_weights()

    def _allocate(self) -> None:
        super()._allocate()
        d = self.layout.obs_size
        self.obs_rms = SharedRunningMeanStd(self.group, (d,), "observation statistics")
        self.ret_rms = SharedRunningMeanStd(self.group, (), "return statistics")
        self.normalizer = ObsNormalizer(self.obs_rms if self.config.obs_norm else None, d, self.config.obs_clip)

    def broadcast_weights(self) -> None:
        """Give every rank rank 0's network (they start equal by seeding; this makes it certain)."""
        flat = torch.cat([p.detach().reshape(-1) for p in self._params])
        shared = self.group.broadcast(flat, "the weights broadcast")
        with torch.no_grad():
            offset = 0
            for p in self._params:
                p.copy_(shared[offset : offset + p.numel()].view_as(p))
                offset += p.numel()

    def reseed(self, seed: int) -> None:
        """Reset this rank's worlds from its own seed derived from ``seed``."""
        super().reseed(rank_seed(seed, self.group.rank))

    def _sync_gradients(self) -> None:
        start = time.perf_counter()
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self._params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        self.group.all_reduce_sum(flat, "the gradient all-reduce")
        flat /= self.group.world_size
        offset = 0
        for p, g in zip(self._params, grads, strict=True):
            p.grad = flat[offset : offset + g.numel()].view_as(g)
            offset += g.numel()
        self.allreduce_seconds += time.perf_counter() - start

    def _shared_kl(self, approx_kl: torch.Tensor) -> float:
        kl = approx_kl.detach().reshape(1).to(torch.float64)
        return float(self.group.all_reduce_sum(kl, "the KL all-reduce").item()) / self.group.world_size

    def end_rollout(self) -> dict[str, Any]:
        """Finish the rollout; return the totals of the episodes that ended on all ranks."""
        episodes = super().end_rollout()
        self.global_step += (self.group.world_size - 1) * self.config.batch_size
        frames, success = episodes["frames"], episodes["success"]
        totals = torch.tensor(
            [
                float(len(frames)),
                float(episodes["returns"].astype(np.float64).sum()),
                float(frames.astype(np.float64).sum()),
                float(success.sum()),
                float(frames[success].astype(np.float64).sum()),
            ],
            dtype=torch.float64,
        )
        count, ret, frame_sum, successes, success_frames = self.group.all_reduce_sum(
            totals, "the episode statistics all-reduce"
        ).tolist()
        return {
            "totals": {
                "episodes": count,
                "return_sum": ret,
                "frames_sum": frame_sum,
                "successes": successes,
                "success_frames_sum": success_frames,
            }
        }

    def update(self) -> dict[str, float]:
        """One update of every rank; its metrics add ``allreduce_seconds`` (time in the gradient all-reduce)."""
        self.allreduce_seconds = 0.0
        metrics = super().update()
        metrics["allreduce_seconds"] = self.allreduce_seconds
        return metrics


class DistributedDevicePPO(DistributedPPO, DevicePPO):
    """`DevicePPO` (worlds, rollout and network on a device) on one rank of a data-parallel run.

    With CUDA the ranks exchange through NCCL, each rank on its own GPU (``cuda:LOCAL_RANK``); the
    gradients, statistics and episode totals never leave the device.

    Args:
        config: The training config (the same on every rank); ``num_worlds`` is per rank.
        worlds: This rank's worlds on its device.
        group: The ranks (`aip_ml.distributed.init`).
    """

    def _allocate(self) -> None:
        DevicePPO._allocate(self)
        d, dev = self.layout.obs_size, self.device
        self.obs_stats = SharedTorchRunningMeanStd(self.group, (d,), dev, "observation statistics")
        self.ret_stats = SharedTorchRunningMeanStd(self.group, (), dev, "return statistics")
        self.obs_rms = self.obs_stats  # type: ignore[assignment]
        self.ret_rms = self.ret_stats  # type: ignore[assignment]
        self._refresh_normalizer()

    def end_rollout(self) -> dict[str, Any]:
        """Finish the rollout; return the totals of the episodes that ended on all ranks (summed on the device)."""
        self.group.all_reduce_sum(self._totals, "the episode statistics all-reduce")
        episodes = DevicePPO.end_rollout(self)
        self.global_step += (self.group.world_size - 1) * self.config.batch_size
        return episodes
