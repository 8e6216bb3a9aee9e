"""The rollout buffer: what one update collects from the batch of worlds, time-major ``(T, N, ...)``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["RolloutBuffer"]


@dataclass
class RolloutBuffer:
    """Storage for ``T`` steps of ``N`` worlds, allocated once and overwritten by every rollout.

    Attributes:
        obs: ``(T, N, D)`` normalised observations the actions were chosen from.
        raw_obs: ``(T, N, D)`` raw observations (for the running statistics).
        actions: ``(T, N, A)`` unclipped Gaussian samples.
        logprobs: ``(T, N)`` log-probabilities of those samples.
        rewards: ``(T, N)`` raw rewards.
        returns_acc: ``(T, N)`` discounted-return accumulators (for reward scaling).
        dones: ``(T, N)`` the episode ended at this step (terminated or truncated).
        boot_values: ``(T, N)`` value of the final observation where truncated, else 0.
        values: ``(T, N)`` value estimates of ``obs``.
    """

    obs: torch.Tensor
    raw_obs: np.ndarray
    actions: torch.Tensor
    logprobs: torch.Tensor
    rewards: np.ndarray
    returns_acc: np.ndarray
    dones: np.ndarray
    boot_values: torch.Tensor
    values: torch.Tensor

    @classmethod
    def zeros(cls, steps: int, worlds: int, obs_size: int, act_size: int) -> RolloutBuffer:
        """Return a zeroed buffer of ``steps`` steps of ``worlds`` worlds."""
        t, n, d, a = steps, worlds, obs_size, act_size
        return cls(
            obs=torch.zeros((t, n, d)),
            raw_obs=np.zeros((t, n, d), np.float32),
            actions=torch.zeros((t, n, a)),
            logprobs=torch.zeros((t, n)),
            rewards=np.zeros((t, n), np.float32),
            returns_acc=np.zeros((t, n), np.float64),
            dones=np.zeros((t, n), bool),
            boot_values=torch.zeros((t, n)),
            values=torch.zeros((t, n)),
        )
