"""`DuelParallelEnv`: ``duel-v1`` (player against enemy, two learners) as a PettingZoo `ParallelEnv`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import ParallelEnv

from aip_engine._tasks import task_spec

from ._spaces import action_space, clean_kwargs, make_worlds, observation_space

__all__ = ["DuelParallelEnv"]

AgentID = str


class DuelParallelEnv(ParallelEnv[AgentID, NDArray[np.float32], NDArray[np.float32]]):  # type: ignore[misc]
    """One world of ``duel-v1``: agents ``"player"`` and ``"enemy"`` act at once every frame.

    Both agents' episodes end together (a hit, a catch, or the time limit); ``agents`` is
    then empty until `reset`. Rewards follow the task: a hit pays the player +10 and the
    enemy −5, a catch the reverse, plus each side's distance shaping.

    Args:
        config: Rule numbers overriding the task's.
        reference: Step the Python reference instead of the compiled engine.
        render_mode: Only None.
    """

    metadata: ClassVar[dict[str, Any]] = {"name": "aip_duel_v1", "render_modes": [], "is_parallelizable": True}

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        reference: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported")
        self.task = "duel-v1"
        self.possible_agents = list(task_spec(self.task).agents)
        self.agents: list[AgentID] = []
        self.render_mode = None
        self._worlds = make_worlds(
            self.task, 1, reference=reference, threads=1, auto_reset=False, **clean_kwargs(config, None)
        )

    @functools.cache  # noqa: B019 - spaces must be the same object each call
    def observation_space(self, agent: AgentID) -> spaces.Box:
        """The agent's observation space (its role layout)."""
        return observation_space(agent)

    @functools.cache  # noqa: B019
    def action_space(self, agent: AgentID) -> spaces.Box:
        """The agent's action space (its role layout)."""
        return action_space(agent)

    def _obs(self) -> dict[AgentID, NDArray[np.float32]]:
        return {a: np.array(self._worlds.observations(a)[0], dtype=np.float32) for a in self.possible_agents}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[AgentID, NDArray[np.float32]], dict[AgentID, dict[str, Any]]]:
        """Start an episode; a seed reseeds the world's generator, None draws on.

        Args:
            seed: The seed.
            options: Unused.

        Returns:
            Observations and (empty) infos per agent.
        """
        self._worlds.reset(seed=seed)
        self.agents = list(self.possible_agents)
        return self._obs(), {a: {} for a in self.agents}

    def step(
        self, actions: dict[AgentID, NDArray[np.float32]]
    ) -> tuple[
        dict[AgentID, NDArray[np.float32]],
        dict[AgentID, float],
        dict[AgentID, bool],
        dict[AgentID, bool],
        dict[AgentID, dict[str, Any]],
    ]:
        """Advance the duel by one frame.

        Args:
            actions: Per live agent, its action.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)`` per agent.
        """
        if not self.agents:
            raise RuntimeError("DuelParallelEnv.step() called with no live agents; call reset() first")
        w = self._worlds
        acts = {a: np.ascontiguousarray(np.asarray(actions[a], dtype=np.float32).reshape(1, -1)) for a in self.agents}
        w.step(acts)
        terminated = bool(w.terminated[0])
        truncated = bool(w.truncated[0])
        events = np.array(w.events[0])
        obs = self._obs()
        rewards = {a: float(w.rewards(a)[0]) for a in self.agents}
        infos: dict[AgentID, dict[str, Any]] = {a: {"events": events} for a in self.agents}
        if terminated or truncated:
            for a in self.agents:
                infos[a]["success"] = bool(w.success_of(a)[0])
                infos[a]["episode_return"] = float(w.episode_return(a)[0])
                infos[a]["episode_frames"] = int(w.episode_frames[0])
        terms = dict.fromkeys(self.agents, terminated)
        truncs = dict.fromkeys(self.agents, truncated)
        if terminated or truncated:
            self.agents = []
        return obs, rewards, terms, truncs, infos
