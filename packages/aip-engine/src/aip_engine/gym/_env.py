"""`AipEnv`: one world of a single-agent task as a `gymnasium.Env`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

from aip_engine._errors import EngineError

from ._render import render_world
from ._spaces import action_space, clean_kwargs, make_worlds, observation_space, single_agent

__all__ = ["AipEnv"]


class AipEnv(gymnasium.Env[NDArray[Any], NDArray[Any]]):
    """One world of a single-agent task (``chase-v1``, ``chase-flee-v1``, ``dodge-v1``, ``intercept-v1``).

    Episodes end by the task's rules (termination on success or failure, truncation at its
    time limit); call `reset` after either. The env pickles and deep-copies (the copy goes on
    from the same state); `close` frees the engine. ``info`` carries the step's ``events`` and, when
    the episode ends, ``success``, ``episode_frames`` and ``episode_return``.

    Args:
        task: The task's name.
        config: Rule numbers overriding the task's (a mapping of `aip_engine.Config` fields).
        controllers: Role -> bot overrides for the non-agent roles.
        reference: Step the Python reference instead of the compiled engine.
        render_mode: None, or ``"rgb_array"`` for a small top-down image from `render`
            (half the arena's size; the game draws the real thing).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}  # noqa: RUF012 - Gymnasium's class attribute

    def __init__(
        self,
        task: str = "chase-v1",
        config: Mapping[str, Any] | None = None,
        controllers: Mapping[str, str] | None = None,
        reference: bool = False,
        render_mode: str | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r} is not supported; use None or 'rgb_array'")
        self.render_mode = render_mode
        self.task = task
        self.role = single_agent(task)
        self.observation_space = observation_space(self.role)
        self.action_space = action_space(self.role)
        self._worlds = make_worlds(
            task, 1, reference=reference, threads=1, auto_reset=False, **clean_kwargs(config, controllers)
        )
        self._needs_reset = True

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Start an episode; a seed reseeds the world's generator, None draws on from it.

        Args:
            seed: The seed.
            options: Unused.

        Returns:
            The first observation and an empty info dict.
        """
        self._check_open()
        super().reset(seed=seed)
        obs = self._worlds.reset(seed=seed)
        self._needs_reset = False
        return np.array(obs[0], dtype=np.float32), {}

    def step(self, action: NDArray[np.float32]) -> tuple[NDArray[np.float32], float, bool, bool, dict[str, Any]]:
        """Advance the world by one frame.

        Args:
            action: The agent role's action, shape ``(act_size,)``.

        Returns:
            ``(observation, reward, terminated, truncated, info)``.

        Raises:
            RuntimeError: The episode has ended and `reset` was not called.
        """
        self._check_open()
        if self._needs_reset:
            raise RuntimeError("AipEnv.step() called before reset() or after the episode ended; call reset() first")
        a = np.asarray(action, dtype=np.float32).reshape(1, -1)
        w = self._worlds
        res = w.step(np.ascontiguousarray(a))
        terminated = bool(res.terminated[0])
        truncated = bool(res.truncated[0])
        info: dict[str, Any] = {"events": np.array(res.events[0])}
        if terminated or truncated:
            self._needs_reset = True
            info["success"] = bool(w.success[0])
            info["episode_frames"] = int(w.episode_frames[0])
            info["episode_return"] = float(w.episode_return(self.role)[0])
        return np.array(res.obs[0], dtype=np.float32), float(res.reward[0]), terminated, truncated, info

    def close(self) -> None:
        """Free the engine; later calls of `reset`, `step` and `render` raise `aip_engine.EngineError`."""
        self._worlds.close()

    def _check_open(self) -> None:
        if self._worlds.closed:
            raise EngineError("this AipEnv is closed; make a new one to go on")

    def render(self) -> NDArray[np.uint8] | None:
        """The current frame as an RGB array when ``render_mode="rgb_array"``, else None."""
        self._check_open()
        if self.render_mode != "rgb_array":
            return None
        return render_world(self._worlds, 0)
