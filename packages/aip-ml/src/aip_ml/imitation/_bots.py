"""Demonstrations by scripted bots, and DAgger (Ross et al. 2011) with a scripted bot as the expert.

A bot plays the agent's role inside the engine; its action is read back from the state (a move is
the entity's last displacement divided by its speed; fire is the step's fire event), so no bot needs
to expose its actions. For DAgger the learner plays, and a copy of each world (the whole state,
generator included) is handed to the bot for one step to see what it would have done there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import torch

import aip_engine

from .._errors import ConfigError
from ._dataset import DemoDataset

__all__ = ["bot_demonstrations", "check_bot", "dagger_round"]

_FIRE = aip_engine.EVENTS.index("fire")


def check_bot(role: str, bot: str, key: str = "imitate_bot") -> None:
    """Raise `ConfigError` unless ``bot`` is a scripted bot of ``role`` whose actions can be read back."""
    if role == "missile":
        raise ConfigError(f"config key {key!r}: missile bots cannot be cloned (their turn is not in the state)")
    bots = aip_engine.bots(role)
    if bot not in bots or bot in ("idle", "linear", "circular", "zigzag", "evasive"):
        usable = [b for b in bots if b not in ("idle", "linear", "circular", "zigzag", "evasive")]
        raise ConfigError(f"config key {key!r} = {bot!r}: not an {role} bot to clone; valid: {', '.join(usable)}")


def _bot_actions(worlds: Any, role: str) -> npt.NDArray[np.float32]:
    """The actions the bot took in the step just made (for worlds that did not reset in it)."""
    state, params = worlds.state(), worlds.params
    if role == "enemy":
        speed = params["enemy_speed"] * params["enemy_speed_scale"]
        move = state["enemy_vel"] / np.maximum(speed, 1e-9)[:, None]
        out: npt.NDArray[np.float32] = np.clip(move, -1.0, 1.0).astype(np.float32)
        return out
    move = np.clip(state["player_vel"] / np.maximum(params["player_speed"], 1e-9)[:, None], -1.0, 1.0)
    fire = (worlds.events[:, _FIRE] > 0).astype(np.float32)[:, None]
    return np.concatenate([move, fire], axis=1).astype(np.float32)


def _valid(worlds: Any, result: Any, role: str) -> npt.NDArray[np.bool_]:
    # A finished world was reset inside the step: its state belongs to the new episode.
    keep = ~(result.terminated | result.truncated)
    if role == "enemy":
        keep &= worlds.state()["enemy_active"]
    return np.asarray(keep)


def bot_demonstrations(
    task: str, role: str, bot: str, samples: int, *, num_worlds: int, seed: int, threads: int = 0
) -> DemoDataset:
    """Let a bot play the agent's role of a task and record its observations and actions.

    Args:
        task: The task.
        role: The agent role the bot plays.
        bot: The bot.
        samples: Pairs wanted (about; whole steps of all worlds).
        num_worlds: Worlds stepped together.
        seed: Engine seed.
        threads: Engine threads.

    Returns:
        The demonstrations (each world's episodes numbered in order).
    """
    check_bot(role, bot)
    worlds: Any = aip_engine.Worlds(task, num_worlds, seed=seed, controllers={role: bot}, threads=threads)
    worlds.reset(seed=seed)
    layout = aip_engine.role_layout(role)
    steps = max(1, samples // num_worlds)
    # World-major, so that the samples are already in episode order (world by world, time in order)
    # and the kept ones are packed in place: the observations are held once, whatever the size.
    obs = np.zeros((num_worlds, steps, layout.obs_size), np.float32)
    act = np.zeros((num_worlds, steps, layout.act_size), np.float32)
    keep = np.zeros((num_worlds, steps), bool)
    ep = np.zeros((num_worlds, steps), np.int64)
    counter = np.arange(num_worlds, dtype=np.int64) * steps  # episode ids, increasing world by world
    for t in range(steps):
        obs[:, t] = worlds.observations(role)
        result = worlds.step(None)
        act[:, t] = _bot_actions(worlds, role)
        keep[:, t] = _valid(worlds, result, role)
        ep[:, t] = counter
        counter[np.asarray(result.terminated | result.truncated)] += 1
    kept = np.flatnonzero(keep.reshape(-1))
    observations = _pack(obs.reshape(-1, layout.obs_size), kept)
    actions = _pack(act.reshape(-1, layout.act_size), kept)
    _, episode = np.unique(ep.reshape(-1)[kept], return_inverse=True)
    return DemoDataset(
        observations,
        actions,
        episode.astype(np.int32),
        role=role,
        layout=layout.name,
        layout_version=layout.version,
        sources=[{"bot": bot, "task": task, "seed": seed, "samples": len(kept)}],
    )


def _pack(rows: npt.NDArray[np.float32], kept: npt.NDArray[np.intp], chunk: int = 16384) -> npt.NDArray[np.float32]:
    """``rows[kept]`` for increasing ``kept``, moved in place: row i goes to i' <= i, chunk by chunk."""
    for start in range(0, len(kept), chunk):
        part = kept[start : start + chunk]
        rows[start : start + len(part)] = rows[part]
    return rows[: len(kept)]


def dagger_round(
    learner: Any, task: str, bot: str, samples: int, *, seed: int, threads: int = 0, num_worlds: int | None = None
) -> DemoDataset:
    """One DAgger round: the learner's deterministic policy plays; the bot labels every state it visits.

    Args:
        learner: The PPO learner (its current policy acts).
        task: The task.
        bot: The expert bot of the learner's role.
        samples: Pairs wanted.
        seed: Engine seed of this round.
        threads: Engine threads.
        num_worlds: Worlds played at once (default: the learner's). Each plays ``samples // num_worlds``
            frames, so fewer worlds reach later states of an episode with the same number of samples.

    Returns:
        The visited observations with the bot's actions.
    """
    role = learner.role
    n = learner.config.num_worlds if num_worlds is None else num_worlds
    if n < 1:
        raise ValueError(f"num_worlds must be at least 1, got {n}")
    play: Any = aip_engine.Worlds(task, n, seed=seed, threads=threads)
    expert: Any = aip_engine.Worlds(task, n, seed=seed, controllers={role: bot}, threads=threads)
    play.reset(seed=seed)
    policy = learner.policy()
    layout = learner.layout
    steps = max(1, samples // n)
    obs = np.zeros((steps, n, layout.obs_size), np.float32)
    act = np.zeros((steps, n, layout.act_size), np.float32)
    keep = np.zeros((steps, n), bool)
    names = list(play.state())
    for t in range(steps):
        obs[t] = play.observations(role)
        state = play.state()
        for name in names:
            expert.set_state(name, state[name])
        expert_result = expert.step(None)
        act[t] = _bot_actions(expert, role)
        keep[t] = _valid(expert, expert_result, role)
        with torch.no_grad():
            actions = policy.act(obs[t])
        play.step(np.ascontiguousarray(actions, dtype=np.float32))
    flat = keep.reshape(-1)
    return DemoDataset(
        obs.reshape(-1, layout.obs_size)[flat],
        act.reshape(-1, layout.act_size)[flat],
        np.zeros(int(flat.sum()), np.int32),
        role=role,
        layout=layout.name,
        layout_version=layout.version,
        sources=[{"bot": bot, "task": task, "seed": seed, "dagger": True}],
    )
