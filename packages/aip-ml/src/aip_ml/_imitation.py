"""Behaviour cloning from a scripted bot: a starting point for PPO on tasks that are hard to explore.

The bot plays the agent's role in the same task; its move is read back from the engine's state (an
entity's velocity is its last displacement, ``move * speed``), so no bot needs to expose its actions.
The actor's mean is fitted to those moves by mean squared error; the observation statistics are taken
from the same data. Only roles whose action is a move (the enemy) can be cloned this way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

import aip_engine

from ._errors import ConfigError

if TYPE_CHECKING:
    from .ppo import PPO

__all__ = ["clone_bot"]


def clone_bot(ppo: PPO, bot: str, samples: int, epochs: int, seed: int) -> dict[str, float]:
    """Fit the actor of ``ppo`` to the moves of a scripted bot.

    Args:
        ppo: The learner (its model, observation statistics and generator are used).
        bot: A bot of the learner's role, e.g. ``"dodge"``.
        samples: Observation-action pairs to collect.
        epochs: Passes over them.
        seed: Engine seed of the demonstration worlds.

    Returns:
        ``{"imitation/loss": final mean squared error, "imitation/samples": pairs used}``.

    Raises:
        ConfigError: The role cannot be cloned or the bot is not one of the role's.
    """
    cfg, role = ppo.config, ppo.role
    if role != "enemy":
        raise ConfigError(f"config key 'imitate_bot': only the enemy role can be cloned, this task's agent is {role!r}")
    if bot not in aip_engine.bots(role):
        raise ConfigError(
            f"config key 'imitate_bot' = {bot!r}: not an {role} bot; valid: {', '.join(aip_engine.bots(role))}"
        )
    n = cfg.num_worlds
    worlds: Any = aip_engine.Worlds(cfg.task, n, seed=seed, controllers={role: bot}, threads=cfg.engine_threads)
    worlds.reset(seed=seed)
    steps = max(1, samples // n)
    obs = np.zeros((steps, n, ppo.layout.obs_size), np.float32)
    act = np.zeros((steps, n, 2), np.float32)
    keep = np.zeros((steps, n), bool)
    params = worlds.params
    for t in range(steps):
        obs[t] = worlds.observations(role)
        result = worlds.step(None)
        state = worlds.state()
        speed = params["enemy_speed"] * params["enemy_speed_scale"]
        act[t] = state["enemy_vel"] / speed[:, None]
        # A finished world was reset inside the step: its velocity belongs to the new episode.
        keep[t] = ~(result.terminated | result.truncated) & state["enemy_active"]
    x = obs[keep]
    y = np.clip(act[keep], -1.0, 1.0)
    if cfg.obs_norm:
        ppo.obs_rms.update(x)
        ppo.normalizer.refresh(ppo.obs_rms, ppo.layout.obs_size)
    xt = ppo.normalizer(torch.from_numpy(x))
    yt = torch.from_numpy(y)
    optimizer = torch.optim.Adam(ppo.model.actor.parameters(), lr=1e-3)
    batch = 4096
    loss = torch.zeros(())
    for _ in range(epochs):
        perm = torch.randperm(len(xt), generator=ppo.generator)
        for start in range(0, len(xt), batch):
            idx = perm[start : start + batch]
            loss = ((ppo.model.mean(xt[idx]) - yt[idx]) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
    return {"imitation/loss": float(loss.item()), "imitation/samples": float(len(xt))}
