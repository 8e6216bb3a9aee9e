"""GAIL (Ho & Ermon 2016) as a reward signal, in the manner of ML-Agents' ``gail`` reward signal.

A discriminator D(s, a) learns to tell the demonstrations (label 1) from the learner's own rollouts
(label 0); the learner is paid ``weight * -log(1 - D(s, a))`` on top of the task's reward, so acting
like the demonstrator pays. Observations enter the discriminator normalised by the demonstrations'
statistics. After every update the discriminator takes ``epochs`` passes over that update's samples
against as many demonstration samples; its loss and accuracies are logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional as F

from .._plugins import PluginBase, PluginContext
from ._dataset import DemoDataset

__all__ = ["GailReward"]


class GailReward(PluginBase):
    """The GAIL reward signal (a `aip_ml._plugins.Plugin`).

    Args:
        dataset: The demonstrations.
        weight: Weight of the GAIL reward added to the task's.
        epochs: Discriminator passes per update.
        seed: Seed of the discriminator and of its sampling.
        hidden: Hidden layer sizes of the discriminator.
        learning_rate: Its Adam learning rate.
    """

    name = "gail"
    uses_observations = True

    def __init__(
        self,
        dataset: DemoDataset,
        weight: float,
        epochs: int = 1,
        seed: int = 0,
        hidden: tuple[int, ...] = (64, 64),
        learning_rate: float = 3e-4,
    ) -> None:
        self.dataset = dataset
        self.weight = float(weight)
        self.epochs = max(1, int(epochs))
        torch.manual_seed(seed + 7)
        obs_size = dataset.observations.shape[1]
        act_size = dataset.actions.shape[1]
        sizes = [obs_size + act_size, *hidden, 1]
        layers: list[nn.Module] = []
        for i in range(len(sizes) - 1):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(sizes) - 2:
                layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=learning_rate)
        self.generator = torch.Generator().manual_seed(seed + 11)
        mean = dataset.observations.mean(axis=0)
        std = dataset.observations.std(axis=0) + 1e-3
        self._mean = torch.from_numpy(mean.astype(np.float32))
        self._scale = torch.from_numpy((1.0 / std).astype(np.float32))
        self._expert = self._inputs(dataset.observations, dataset.actions)
        self._seen: list[torch.Tensor] = []
        self._rewards: list[float] = []

    def _inputs(self, obs: npt.NDArray[np.float32], actions: npt.NDArray[np.float32]) -> torch.Tensor:
        x = (torch.from_numpy(np.asarray(obs, np.float32)) - self._mean) * self._scale
        return torch.cat([torch.clamp(x, -10, 10), torch.from_numpy(np.asarray(actions, np.float32))], dim=1)

    def setup(self, context: PluginContext) -> None:
        """Check that the learner's actions are those of the demonstrations."""
        import aip_engine

        from .._errors import ConfigError

        layout = aip_engine.role_layout(context.role)
        if layout.name != self.dataset.layout:
            raise ConfigError(
                f"config key 'demos': demonstrations of {self.dataset.layout}, but {context.config.task} trains "
                f"{layout.name}"
            )

    def on_step(self, obs: Any, actions: Any, result: Any) -> npt.NDArray[np.float32] | None:
        """The GAIL reward of this step's actions; the samples are kept to train the discriminator."""
        if obs is None:
            return None
        x = self._inputs(obs, np.asarray(actions))
        self._seen.append(x)
        with torch.no_grad():
            logits = self.net(x).squeeze(-1)
            # -log(1 - D) = softplus(logit): positive, large where the discriminator takes it for the expert's.
            reward = F.softplus(logits).numpy().astype(np.float32)
        self._rewards.append(float(reward.mean()))
        return self.weight * reward

    def after_update(self, update: int, metrics: Mapping[str, float]) -> dict[str, float]:
        """Train the discriminator on this update's samples; return its loss and accuracies."""
        if not self._seen:
            return {}
        policy = torch.cat(self._seen)
        self._seen = []
        n = len(policy)
        batch = min(4096, n)
        losses, acc_e, acc_p = [], [], []
        for _ in range(self.epochs):
            perm = torch.randperm(n, generator=self.generator)
            for start in range(0, n, batch):
                pol = policy[perm[start : start + batch]]
                idx = torch.randint(0, len(self._expert), (len(pol),), generator=self.generator)
                exp = self._expert[idx]
                logits_e = self.net(exp).squeeze(-1)
                logits_p = self.net(pol).squeeze(-1)
                loss = F.binary_cross_entropy_with_logits(
                    logits_e, torch.ones_like(logits_e)
                ) + F.binary_cross_entropy_with_logits(logits_p, torch.zeros_like(logits_p))
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                self.optimizer.step()
                losses.append(float(loss.item()))
                acc_e.append(float((logits_e > 0).float().mean().item()))
                acc_p.append(float((logits_p < 0).float().mean().item()))
        reward_mean = float(np.mean(self._rewards)) if self._rewards else float("nan")
        self._rewards = []
        return {
            "gail/loss": float(np.mean(losses)),
            "gail/accuracy": float((np.mean(acc_e) + np.mean(acc_p)) / 2),
            "gail/accuracy_expert": float(np.mean(acc_e)),
            "gail/accuracy_policy": float(np.mean(acc_p)),
            "gail/reward_mean": reward_mean,
        }

    def state_dict(self) -> dict[str, Any]:
        """The discriminator, its optimiser and its generator."""
        return {
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"])

    def lineage(self) -> dict[str, str]:
        """The demonstrations' checksum."""
        return {"demos.sha256": self.dataset.checksum}
