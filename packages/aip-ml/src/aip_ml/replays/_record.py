"""Play evaluation episodes in the engine and keep every frame's positions: a `Replay`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

import aip_engine
from aip_ml.replays._format import Replay

__all__ = ["Actor", "record_episodes"]


class Actor(Protocol):
    """Anything that chooses a role's actions: an exported policy, a `TorchPolicy`."""

    def act(self, obs: npt.ArrayLike) -> npt.NDArray[np.float32]: ...


_STATE = {  # replay array -> (engine state name, dtype)
    "player_pos": ("player_pos", np.float32),
    "player_vel": ("player_vel", np.float32),
    "enemy_pos": ("enemy_pos", np.float32),
    "enemy_active": ("enemy_active", np.bool_),
    "enemy_fade": ("enemy_fade", np.int16),
    "missile_pos": ("missile_pos", np.float32),
    "missile_alive": ("missile_alive", np.bool_),
    "invulnerable": ("player_invulnerable", np.int16),
}


def record_episodes(
    task: str,
    policies: Mapping[str, Actor],
    *,
    episodes: int = 3,
    seed: int = 12345,
    header: Mapping[str, Any] | None = None,
) -> Replay:
    """Play ``episodes`` episodes of ``task`` (one per world) and record them frame by frame.

    The worlds are reset with ``seed`` exactly as :func:`aip_ml.evaluate` resets them, so episode
    ``k`` is the evaluation's episode ``k`` with the same seed. Policies act deterministically; the
    roles not in ``policies`` are played by the task's controllers.

    Args:
        task: The task.
        policies: Role to actor, for the task's agent roles (every one of them).
        episodes: How many episodes.
        seed: Their seed.
        header: More header fields (``update``, ``global_step``, ``label``...).

    Returns:
        The replay.

    Raises:
        aip_ml.ConfigError: A bad count, or roles that are not the task's agent roles.
    """
    from aip_ml._errors import ConfigError

    spec = aip_engine.task_spec(task)
    if episodes < 1:
        raise ConfigError(f"episodes must be at least 1, got {episodes}")
    if set(policies) != set(spec.agents):
        raise ConfigError(
            f"{task!r} needs a policy for each of its agent roles {list(spec.agents)}; got {sorted(policies)}"
        )
    worlds = aip_engine.Worlds(task, episodes, seed=seed, threads=1, auto_reset=False)
    obs = worlds.reset(seed=seed)
    limit = worlds.time_limit or 3600
    rewarded = spec.agents[0]
    states: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in _STATE}
    events: list[npt.NDArray[np.uint8]] = [np.zeros((episodes, len(aip_engine.EVENTS)), np.uint8)]
    rewards: list[npt.NDArray[np.float32]] = [np.zeros(episodes, np.float32)]

    def keep() -> None:
        st = worlds.state()
        for name, (source, dtype) in _STATE.items():
            states[name].append(np.array(st[source], dtype=dtype))

    keep()
    frames = np.zeros(episodes, np.int32)
    done = np.zeros(episodes, bool)
    success = np.zeros(episodes, bool)
    returns = np.zeros(episodes, np.float32)
    for _ in range(limit + 1):
        if len(spec.agents) == 1:
            result = worlds.step(np.ascontiguousarray(policies[rewarded].act(np.asarray(obs)), np.float32))
        else:
            assert isinstance(obs, dict)
            actions = {role: np.ascontiguousarray(policies[role].act(obs[role]), np.float32) for role in spec.agents}
            result = worlds.step(actions)
        obs = result.obs
        keep()
        events.append(np.array(worlds.events, np.uint8))
        rewards.append(np.array(worlds.rewards(rewarded), np.float32))
        ended = (np.asarray(result.terminated) | np.asarray(result.truncated)) & ~done
        if ended.any():
            frames[ended] = np.asarray(worlds.episode_frames)[ended]
            success[ended] = np.asarray(worlds.success_of(rewarded))[ended]
            returns[ended] = np.asarray(worlds.episode_return(rewarded))[ended]
            done |= ended
        if done.all():
            break
    frames[~done] = len(events) - 1
    arrays: dict[str, npt.NDArray[Any]] = {name: np.stack(values, axis=1) for name, values in states.items()}
    arrays["events"] = np.stack(events, axis=1)
    arrays["rewards"] = np.stack(rewards, axis=1)
    # Past an episode's end the world went on; those frames are no part of it.
    beyond = np.arange(arrays["rewards"].shape[1])[None, :] > frames[:, None]
    arrays["events"][beyond] = 0
    arrays["rewards"][beyond] = 0.0
    arrays.update(frames=frames, success=success, returns=returns)
    roles = {role: ("agent" if role in policies else controller) for role, controller in worlds.controllers.items()}
    info: dict[str, Any] = {
        "task": task,
        "roles": roles,
        "agents": list(spec.agents),
        "seed": int(seed),
        "config": worlds.config.to_dict(),
        "events": list(aip_engine.EVENTS),
    }
    info.update(header or {})
    return Replay(info, arrays)
