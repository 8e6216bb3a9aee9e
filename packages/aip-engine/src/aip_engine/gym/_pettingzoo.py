"""``duel-v1`` (player against enemy, two learners) for PettingZoo: `DuelParallelEnv` and `duel_aec_env`.

The AEC form is PettingZoo's own conversion of the parallel env (`parallel_to_aec`): agents act in
turn, and the world steps once every agent has acted. For many duels at once use SuperSuit's
``pettingzoo_env_to_vec_env_v1`` and ``concat_vec_envs_v1`` on the parallel env (docs/gymnasium.md).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from aip_engine._errors import EngineError
from aip_engine._tasks import task_spec

from ._render import render_world
from ._spaces import action_space, clean_kwargs, make_worlds, observation_space

__all__ = ["DuelParallelEnv", "duel_aec_env"]

AgentID = str


class DuelParallelEnv(ParallelEnv[AgentID, NDArray[np.float32], NDArray[np.float32]]):  # type: ignore[misc]
    """One world of ``duel-v1``: agents ``"player"`` and ``"enemy"`` act at once every frame.

    Both agents' episodes end together (a hit, a catch, or the time limit); ``agents`` is
    then empty until `reset`. Rewards follow the task: a hit pays the player +10 and the
    enemy −5, a catch the reverse, plus each side's distance shaping.

    Args:
        config: Rule numbers overriding the task's.
        reference: Step the Python reference instead of the compiled engine.
        render_mode: None, or ``"rgb_array"`` for a small top-down image from `render`.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "name": "aip_duel_v1",
        "render_modes": ["rgb_array"],
        "render_fps": 60,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        reference: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r} is not supported; use None or 'rgb_array'")
        self.task = "duel-v1"
        self.possible_agents = list(task_spec(self.task).agents)
        self.agents: list[AgentID] = []
        self.render_mode = render_mode
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
        self._check_open()
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
        self._check_open()
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

    def render(self) -> NDArray[np.uint8] | None:
        """The current frame as an RGB array when ``render_mode="rgb_array"``, else None."""
        self._check_open()
        if self.render_mode != "rgb_array":
            return None
        return render_world(self._worlds, 0)

    def close(self) -> None:
        """Free the engine; later calls raise `aip_engine.EngineError`."""
        self._worlds.close()

    def _check_open(self) -> None:
        if self._worlds.closed:
            raise EngineError("this DuelParallelEnv is closed; make a new one to go on")


def duel_aec_env(
    config: Mapping[str, Any] | None = None, reference: bool = False, render_mode: str | None = None
) -> AECEnv[AgentID, NDArray[np.float32], NDArray[np.float32]]:
    """``duel-v1`` as a PettingZoo `AECEnv`: `DuelParallelEnv` through PettingZoo's `parallel_to_aec`.

    Args:
        config: Rule numbers overriding the task's.
        reference: Step the Python reference instead of the compiled engine.
        render_mode: None or ``"rgb_array"``.

    Returns:
        The AEC env (agents ``"player"`` then ``"enemy"``).
    """
    env: AECEnv[AgentID, NDArray[np.float32], NDArray[np.float32]] = parallel_to_aec(
        DuelParallelEnv(config=config, reference=reference, render_mode=render_mode)
    )
    return env
