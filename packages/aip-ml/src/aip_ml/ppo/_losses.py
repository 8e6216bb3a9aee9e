"""The PPO losses and advantage estimation, as functions of tensors (no learner state)."""

from __future__ import annotations

import math

import torch

__all__ = ["LOG_2PI", "clipped_policy_loss", "gae", "gaussian_entropy", "gaussian_log_prob", "value_loss"]

LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_prob(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Return the log-density ``(B,)`` of ``actions`` under a diagonal Gaussian ``(mean, exp(log_std))``."""
    z = (actions - mean) * torch.exp(-log_std)
    return (-0.5 * z * z - log_std - 0.5 * LOG_2PI).sum(-1)


def gaussian_entropy(log_std: torch.Tensor) -> torch.Tensor:
    """Return the entropy of a diagonal Gaussian with a state-independent ``log_std``."""
    return (log_std + 0.5 + 0.5 * LOG_2PI).sum()


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_value: torch.Tensor,
    nonterminal: torch.Tensor,
    gamma: float,
    lam: float,
) -> torch.Tensor:
    """Return the generalised advantage estimates ``(T, N)`` (Schulman et al. 2016).

    Args:
        rewards: ``(T, N)`` rewards (with any bootstrap of truncated episodes folded in).
        values: ``(T, N)`` value estimates of the observations acted on.
        next_value: ``(N,)`` value of the observation after the last step.
        nonterminal: ``(T, N)`` 0 where the episode ended at that step, else 1.
        gamma: Discount factor.
        lam: GAE lambda.
    """
    steps = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    last = torch.zeros(rewards.shape[1:], dtype=rewards.dtype)
    for t in range(steps - 1, -1, -1):
        nv = next_value if t == steps - 1 else values[t + 1]
        delta = rewards[t] + gamma * nv * nonterminal[t] - values[t]
        last = delta + gamma * lam * nonterminal[t] * last
        adv[t] = last
    return adv


def clipped_policy_loss(advantages: torch.Tensor, ratio: torch.Tensor, clip_range: float) -> torch.Tensor:
    """Return the clipped surrogate objective as a loss (Schulman et al. 2017, eq. 7)."""
    return torch.max(-advantages * ratio, -advantages * torch.clamp(ratio, 1 - clip_range, 1 + clip_range)).mean()


def value_loss(
    value: torch.Tensor, old_value: torch.Tensor, returns: torch.Tensor, clip_range_vf: float
) -> torch.Tensor:
    """Return half the mean squared error of the value, clipped around ``old_value`` when ``clip_range_vf > 0``."""
    if clip_range_vf > 0:
        value = old_value + torch.clamp(value - old_value, -clip_range_vf, clip_range_vf)
    return 0.5 * ((returns - value) ** 2).mean()
