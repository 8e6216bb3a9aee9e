"""Evaluation on a task: a policy beside every reference bot of its role, on the same seeds."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

import aip_engine

from ._errors import ConfigError

__all__ = ["EvalReport", "EvalResult", "evaluate", "evaluate_bot"]


class _Actor(Protocol):
    def act(self, obs: npt.ArrayLike) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class EvalResult:
    """How one controller did on the evaluation episodes.

    Attributes:
        name: ``"agent"`` or the bot's name.
        episodes: Episodes run.
        success_rate: Fraction of episodes that ended in success.
        mean_frames_to_success: Mean episode length of the successful episodes (NaN when none).
        mean_return: Mean episode return (the task's reward, unscaled).
        mean_frames: Mean episode length of all episodes.
    """

    name: str
    episodes: int
    success_rate: float
    mean_frames_to_success: float
    mean_return: float
    mean_frames: float

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values (NaN as None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items()}


def _rank(r: EvalResult) -> tuple[float, float, float]:
    frames = r.mean_frames_to_success if not math.isnan(r.mean_frames_to_success) else math.inf
    return (-r.success_rate, frames, -r.mean_return)


@dataclass(frozen=True)
class EvalReport:
    """A policy's evaluation beside the scripted reference bots of its role.

    Attributes:
        task: The task.
        role: The agent role evaluated.
        episodes: Episodes per controller.
        seed: The seed of the episodes (the same for every controller).
        agent: The policy's result.
        bots: Each reference bot's result.
        best: The best controller: highest success rate, then fewest frames to success, then return.
    """

    task: str
    role: str
    episodes: int
    seed: int
    agent: EvalResult
    bots: Mapping[str, EvalResult] = field(default_factory=dict)

    @property
    def best(self) -> str:
        """The name of the best controller (``"agent"`` or a bot)."""
        everyone = [self.agent, *self.bots.values()]
        return min(everyone, key=_rank).name

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values (NaN as None)."""
        return {
            "task": self.task,
            "role": self.role,
            "episodes": self.episodes,
            "seed": self.seed,
            "agent": self.agent.to_dict(),
            "bots": {k: v.to_dict() for k, v in self.bots.items()},
            "best": self.best,
        }


def _load(policy: Any, role: str) -> _Actor:
    if isinstance(policy, (str, os.PathLike)):
        path = Path(policy)
        if path.suffix == ".ckpt":
            from ._checkpoint import load_checkpoint

            loaded: _Actor = load_checkpoint(path).policy
            return loaded
        return aip_engine.load_policy(path, role=role)
    if not callable(getattr(policy, "act", None)):
        raise TypeError(f"cannot evaluate {policy!r}: expected a policy file path or an object with .act(obs)")
    layout = getattr(policy, "layout", None)
    if layout is not None and getattr(layout, "role", role) != role:
        raise ConfigError(f"the policy plays the {layout.role!r} role; the task's agent role is {role!r}")
    actor: _Actor = policy
    return actor


def _run(
    task: str,
    role: str,
    episodes: int,
    seed: int,
    name: str,
    actor: _Actor | None,
    controllers: Mapping[str, str] | None,
    time_limit: int,
) -> EvalResult:
    worlds = aip_engine.Worlds(task, episodes, seed=seed, controllers=controllers)
    obs = worlds.reset(seed=seed)
    finished = np.zeros(episodes, bool)
    returns = np.zeros(episodes, np.float64)
    frames = np.zeros(episodes, np.int64)
    success = np.zeros(episodes, bool)
    for _ in range(time_limit + 1):
        if actor is not None:
            result = worlds.step(actor.act(np.asarray(obs)))
            obs = result.obs
        else:
            result = worlds.step(None)
        new = (result.terminated | result.truncated) & ~finished
        if new.any():
            returns[new] = worlds.episode_return(role)[new]
            frames[new] = worlds.episode_frames[new]
            success[new] = worlds.success_of(role)[new]
            finished |= new
            if finished.all():
                break
    nan = float("nan")
    return EvalResult(
        name=name,
        episodes=episodes,
        success_rate=float(success.mean()),
        mean_frames_to_success=float(frames[success].mean()) if success.any() else nan,
        mean_return=float(returns.mean()),
        mean_frames=float(frames.mean()),
    )


def _evaluable(task: str, episodes: int) -> tuple[aip_engine.TaskSpec, str]:
    """The task's spec and its single agent role, or a ConfigError saying why it can't be evaluated."""
    spec = aip_engine.task_spec(task)
    if len(spec.agents) != 1:
        raise ConfigError(f"evaluation of {task!r} is not supported: it needs exactly one learning role")
    if spec.time_limit <= 0:
        raise ConfigError(f"evaluation of {task!r} is not supported: its episodes have no time limit")
    if episodes < 1:
        raise ConfigError(f"episodes must be at least 1, got {episodes}")
    return spec, spec.agents[0]


def evaluate(
    policy: Any,
    task: str,
    *,
    episodes: int = 200,
    seed: int = 12345,
    bots: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> EvalReport:
    """Evaluate a policy on a task beside the task's reference bots, on the same seeds.

    Each controller runs ``episodes`` episodes, one per world, from the worlds reset with ``seed``;
    the policy acts deterministically.

    Args:
        policy: A ``.aipp`` file, a ``.ckpt`` checkpoint, or an object with ``act(obs)``.
        task: The task (single agent role).
        episodes: Episodes per controller.
        seed: The episodes' seed.
        bots: Also measure every reference bot of the agent's role.
        progress: Called as ``progress(done, total)`` after each controller.

    Returns:
        The report.

    Raises:
        ConfigError: A task with several or no learning roles, or no time limit, or a bad count.
        aip_engine.PolicyError: A policy file for another role or a corrupt one.
    """
    spec, role = _evaluable(task, episodes)
    actor = _load(policy, role)
    reference = spec.reference_bots.get(role, ()) if bots else ()
    total = 1 + len(reference)
    agent = _run(task, role, episodes, seed, "agent", actor, None, spec.time_limit)
    if progress is not None:
        progress(1, total)
    results: dict[str, EvalResult] = {}
    for i, bot in enumerate(reference):
        results[bot] = _run(task, role, episodes, seed, bot, None, {role: bot}, spec.time_limit)
        if progress is not None:
            progress(2 + i, total)
    return EvalReport(task=task, role=role, episodes=episodes, seed=seed, agent=agent, bots=results)


def evaluate_bot(bot: str, task: str, *, episodes: int = 200, seed: int = 12345) -> EvalResult:
    """Evaluate a scripted bot in a task's agent slot, scored exactly as a policy would be.

    Args:
        bot: A bot of the task's agent role (``aip_engine.bots(role)``).
        task: The task (single agent role).
        episodes: Episodes, one per world.
        seed: The episodes' seed (the same seed as a policy's evaluation gives the same episodes).

    Returns:
        The bot's result.

    Raises:
        ConfigError: A task with several or no learning roles, no time limit, a bad count, or a bot
            that does not play the agent's role.
    """
    spec, role = _evaluable(task, episodes)
    if bot not in aip_engine.bots(role):
        raise ConfigError(f"{bot!r} is not a {role} bot; the {role} bots are: {', '.join(aip_engine.bots(role))}")
    return _run(task, role, episodes, seed, bot, None, {role: bot}, spec.time_limit)
