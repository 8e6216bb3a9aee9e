"""Self-play learners started from a scripted bot: behaviour cloning before the first update.

PPO alone learns slowly to dodge missiles (dodge-v1 clones the ``dodge`` bot for the same reason);
``selfplay_imitate = "enemy:dodge"`` clones the enemy learner from the ``dodge`` bot playing duel-v1
against the other role's pool bots (``selfplay_bots``, or the task's reference bots of that role),
one bot per world in turn, through the engine's per-world driver parameters. The learner then goes on
with PPO against its pool; ``critic_warmup_updates`` lets its critic catch up first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import aip_engine

from .._config import TrainConfig
from .._errors import ConfigError
from ..imitation._bots import _bot_actions, _valid, check_bot
from ..imitation._dataset import DemoDataset

__all__ = ["duel_demonstrations", "imitate_pairs"]


def imitate_pairs(config: TrainConfig) -> list[tuple[str, str]]:
    """The ``(role, bot)`` pairs of ``selfplay_imitate``.

    Raises:
        ConfigError: An entry that is not ``ROLE:BOT`` with a learning role and a bot that can be cloned.
    """
    roles = aip_engine.task_spec(config.task).agents
    out: list[tuple[str, str]] = []
    for item in (part.strip() for part in config.selfplay_imitate.split(",")):
        if not item:
            continue
        role, sep, bot = (x.strip() for x in item.partition(":"))
        if not sep or role not in roles:
            raise ConfigError(
                f"config key 'selfplay_imitate': {item!r} is not ROLE:BOT with ROLE one of {', '.join(roles)} "
                "(e.g. 'enemy:dodge')"
            )
        check_bot(role, bot, "selfplay_imitate")
        if any(r == role for r, _ in out):
            raise ConfigError(f"config key 'selfplay_imitate': the {role} is named twice")
        out.append((role, bot))
    return out


def duel_demonstrations(
    task: str,
    role: str,
    bot: str,
    opponents: tuple[str, ...],
    samples: int,
    *,
    num_worlds: int,
    seed: int,
    threads: int = 0,
) -> DemoDataset:
    """Let ``bot`` play ``role`` of a two-role task against scripted ``opponents`` and record it.

    Args:
        task: The task (both of its roles are agents).
        role: The role the bot plays.
        bot: The bot.
        opponents: Bots of the other role; world ``w`` faces ``opponents[w % len(opponents)]``.
        samples: Pairs wanted (about; whole steps of all worlds).
        num_worlds: Worlds stepped together.
        seed: Engine seed.
        threads: Engine threads.

    Returns:
        The demonstrations, each world's episodes numbered in order.
    """
    check_bot(role, bot, "selfplay_imitate")
    roles = aip_engine.task_spec(task).agents
    other = next(r for r in roles if r != role)
    if not opponents:
        raise ConfigError(f"config key 'selfplay_imitate': no {other} bot to play the demonstrations against")
    worlds: Any = aip_engine.Worlds(task, num_worlds, seed=seed, threads=threads)
    params = worlds.params
    params[f"{role}_driver"][:] = 1 + aip_engine.bots(role).index(bot)
    codes = np.array([1 + aip_engine.bots(other).index(b) for b in opponents], dtype=np.int32)
    params[f"{other}_driver"][:] = codes[np.arange(num_worlds) % len(codes)]
    worlds.reset(seed=seed)
    layout = aip_engine.role_layout(role)
    zeros = {r: np.zeros((num_worlds, aip_engine.role_layout(r).act_size), np.float32) for r in roles}
    steps = max(1, samples // num_worlds)
    obs = np.zeros((steps, num_worlds, layout.obs_size), np.float32)
    act = np.zeros((steps, num_worlds, layout.act_size), np.float32)
    keep = np.zeros((steps, num_worlds), bool)
    ep = np.zeros((steps, num_worlds), np.int64)
    counter = np.arange(num_worlds, dtype=np.int64)
    for t in range(steps):
        obs[t] = worlds.observations(role)
        result = worlds.step(zeros)
        act[t] = _bot_actions(worlds, role)
        keep[t] = _valid(worlds, result, role)
        ep[t] = counter
        done = np.asarray(result.terminated | result.truncated)
        counter[done] += num_worlds
    order = np.argsort(ep.T.reshape(-1), kind="stable")
    flat_keep = keep.T.reshape(-1)[order]
    _, episode = np.unique(ep.T.reshape(-1)[order][flat_keep], return_inverse=True)
    return DemoDataset(
        obs.transpose(1, 0, 2).reshape(-1, layout.obs_size)[order][flat_keep],
        act.transpose(1, 0, 2).reshape(-1, layout.act_size)[order][flat_keep],
        episode.astype(np.int32),
        role=role,
        layout=layout.name,
        layout_version=layout.version,
        sources=[
            {"bot": bot, "task": task, "seed": seed, "samples": int(flat_keep.sum()), "opponents": list(opponents)}
        ],
    )
