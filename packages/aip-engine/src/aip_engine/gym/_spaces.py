"""Gymnasium spaces of the role layouts, and the choice of implementation behind an adapter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces

from aip_engine._layouts import role_layout
from aip_engine._tasks import task_spec

__all__ = ["action_space", "make_worlds", "observation_space", "single_agent"]


def observation_space(role: str) -> spaces.Box:
    """The observation space of a role: its layout's fields and their ranges, float32."""
    fields = role_layout(role).observation
    low = np.array([f.low for f in fields], dtype=np.float32)
    high = np.array([f.high for f in fields], dtype=np.float32)
    return spaces.Box(low, high, dtype=np.float32)


def action_space(role: str) -> spaces.Box:
    """The action space of a role: its layout's fields and their ranges, float32."""
    fields = role_layout(role).action
    low = np.array([f.low for f in fields], dtype=np.float32)
    high = np.array([f.high for f in fields], dtype=np.float32)
    return spaces.Box(low, high, dtype=np.float32)


def single_agent(task: str) -> str:
    """The one agent role of a single-agent task.

    Raises:
        ValueError: The task has several agents (use the PettingZoo adapter) or none.
    """
    agents = task_spec(task).agents
    if len(agents) != 1:
        raise ValueError(
            f"task {task!r} has agents {agents}; the Gymnasium adapters need exactly one "
            "(use aip_engine.gym.DuelParallelEnv for duel-v1)"
        )
    return agents[0]


def make_worlds(task: str, num_worlds: int, *, reference: bool = False, **kwargs: Any) -> Any:
    """Build the batch behind an adapter: the compiled engine, or the Python reference.

    Args:
        task: The task's name.
        num_worlds: How many worlds.
        reference: Use `aip_engine.reference.Worlds` (slow, readable) instead of the engine.
        **kwargs: Passed to ``Worlds`` (seed, config, controllers, threads, auto_reset, backend).

    Returns:
        The batch.
    """
    if reference:
        from aip_engine.reference import Worlds as ReferenceWorlds

        kwargs.pop("threads", None)
        return ReferenceWorlds(task, num_worlds, **kwargs)
    from aip_engine import Worlds

    return Worlds(task, num_worlds, **kwargs)


def clean_kwargs(config: Mapping[str, Any] | None, controllers: Mapping[str, str] | None) -> dict[str, Any]:
    """The optional ``Worlds`` arguments that were given."""
    out: dict[str, Any] = {}
    if config is not None:
        out["config"] = config
    if controllers is not None:
        out["controllers"] = controllers
    return out
