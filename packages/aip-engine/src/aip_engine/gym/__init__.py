"""Gymnasium and PettingZoo adapters of the engine (the ``aip-engine[gymnasium]`` extra).

Importing this module registers the single-agent tasks with Gymnasium (id: task, agent role), every
task whose declaration in ``aip_engine/tasks.toml`` names a ``gym_id``:

- ``aip/Chase-v1``: ``chase-v1``, enemy
- ``aip/ChaseFlee-v1``: ``chase-flee-v1``, enemy
- ``aip/Dodge-v1``: ``dodge-v1``, enemy
- ``aip/Intercept-v1``: ``intercept-v1``, missile

``gymnasium.make("aip/Chase-v1")`` gives an `AipEnv` (one world) and
``gymnasium.make_vec("aip/Chase-v1", num_envs=1024)`` an `AipVectorEnv` (one engine batch; the
engine does the autoreset of the ``autoreset_mode`` chosen, same-step by default). The ids are
found with no import: aip-engine declares `register_envs` in the ``gymnasium.envs`` entry-point
group, and a start-up hook it installs calls it when Gymnasium is imported (docs/gymnasium.md).
Importing this module registers them too.
``duel-v1`` is a PettingZoo `ParallelEnv`, `DuelParallelEnv`, and an `AECEnv` from `duel_aec_env`
(both need ``pettingzoo``).
"""

from __future__ import annotations

from typing import Any

import gymnasium

from .._tasks import TASKS
from ._env import AipEnv
from ._vector import AipVectorEnv

__all__ = ["ENV_IDS", "AipEnv", "AipVectorEnv", "DuelParallelEnv", "duel_aec_env", "register_envs"]

#: Gymnasium id -> task name: every task whose declaration (aip_engine/tasks.toml) names a ``gym_id``.
ENV_IDS: dict[str, str] = {spec.gym_id: name for name, spec in TASKS.items() if spec.gym_id}


def register_envs() -> None:
    """Register the ids of `ENV_IDS` with Gymnasium (again registering an id is a no-op)."""
    for env_id, task in ENV_IDS.items():
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point="aip_engine.gym._env:AipEnv",
            vector_entry_point="aip_engine.gym._vector:AipVectorEnv",
            kwargs={"task": task},
            # The task ends its own episodes (truncation at its time limit), so no TimeLimit wrapper.
            max_episode_steps=None,
            disable_env_checker=False,
        )


def __getattr__(name: str) -> Any:
    # PettingZoo is imported only when the duel adapter is asked for.
    if name in ("DuelParallelEnv", "duel_aec_env"):
        from . import _pettingzoo

        return getattr(_pettingzoo, name)
    raise AttributeError(f"module 'aip_engine.gym' has no attribute {name!r}")


register_envs()
