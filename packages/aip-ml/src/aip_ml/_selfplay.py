"""Self-play: one PPO learner per role of a multi-agent task (duel-v1), stepping one shared batch.

Each step, every learner chooses its role's actions from its own observations; the engine steps all
worlds once with the dict of actions; each learner stores its own reward. Then each learner learns
from its own rollout. Both roles improve against each other's current policy.
"""

from __future__ import annotations

import time
from typing import Any

import aip_engine

from ._config import TrainConfig
from .ppo import PPO, episode_metrics

__all__ = ["SelfPlay"]


class SelfPlay:
    """PPO learners for all agent roles of a task, sharing the engine's batch.

    Args:
        config: The training config (each learner uses the same one).
        worlds: The engine's batch of a multi-agent task.
    """

    def __init__(self, config: TrainConfig, worlds: Any) -> None:
        self.config = config
        self.worlds = worlds
        self.roles = aip_engine.task_spec(config.task).agents
        self.learners = {
            role: PPO(config, worlds, role=role, seed_offset=1000 * i) for i, role in enumerate(self.roles)
        }

    @property
    def update_index(self) -> int:
        """Updates completed."""
        return self.learners[self.roles[0]].update_index

    @property
    def global_step(self) -> int:
        """World-steps completed (each world-step moves every role once)."""
        return self.learners[self.roles[0]].global_step

    def reseed(self, seed: int) -> None:
        """Reset every world from ``seed``; every learner takes its role's observations."""
        obs = self.worlds.reset(seed=seed)
        for learner in self.learners.values():
            learner.start_episodes(obs)

    def update(self) -> dict[str, float]:
        """Collect one rollout with every role's policy, then let each learner learn.

        Returns:
            Each learner's metrics prefixed with its role (``"enemy/success_rate"``), and the first
            role's metrics also without the prefix (what a progress display shows).
        """
        start = time.perf_counter()
        for learner in self.learners.values():
            learner.begin_rollout()
        for t in range(self.config.rollout_steps):
            actions = {role: learner.act(t) for role, learner in self.learners.items()}
            result = self.worlds.step(actions)
            for learner in self.learners.values():
                learner.record(t, result)
        metrics: dict[str, float] = {}
        for role, learner in self.learners.items():
            role_metrics = episode_metrics(learner.end_rollout())
            role_metrics.update(learner.learn())
            metrics.update({f"{role}/{k}": v for k, v in role_metrics.items()})
            if role == self.roles[0]:
                metrics.update(role_metrics)
        metrics["update_seconds"] = time.perf_counter() - start
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """Return every learner's state (see `PPO.state_dict`)."""
        return {
            "learners": {role: learner.state_dict() for role, learner in self.learners.items()},
            "update_index": self.update_index,
            "global_step": self.global_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        for role, learner in self.learners.items():
            learner.load_state_dict(state["learners"][role])
