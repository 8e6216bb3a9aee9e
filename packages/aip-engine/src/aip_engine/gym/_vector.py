"""`AipVectorEnv`: a whole batch of worlds of a single-agent task as a Gymnasium `VectorEnv`.

One engine call steps every world. Finished worlds reset inside the same step
(``AutoresetMode.SAME_STEP``): the returned observation is the new episode's first and
the finished episode's last one is in ``infos["final_obs"]`` (an object array, with the
mask ``infos["_final_obs"]``), as Gymnasium 1.x's vector environments report it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from ._spaces import action_space, clean_kwargs, make_worlds, observation_space, single_agent

__all__ = ["AipVectorEnv"]


class AipVectorEnv(VectorEnv[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]):
    """``num_envs`` worlds of a single-agent task stepped together by the engine.

    ``infos`` always holds ``events`` (N, 5) uint8 (columns: `aip_engine.EVENTS`); for the
    worlds whose episode ended in the step, ``final_obs`` and ``final_info`` (with
    ``success``, ``episode_frames``, ``episode_return``), each with its ``_key`` mask.

    Args:
        task: The task's name.
        num_envs: How many worlds.
        config: Rule numbers overriding the task's.
        controllers: Role -> bot overrides for the non-agent roles.
        threads: Engine threads (0 = all cores).
        backend: The engine backend (``"cpu"``).
        reference: Step the Python reference instead of the compiled engine.
        copy: Return copies of the observations (the engine overwrites its buffers each step).
    """

    def __init__(
        self,
        task: str = "chase-v1",
        num_envs: int = 1,
        config: Mapping[str, Any] | None = None,
        controllers: Mapping[str, str] | None = None,
        threads: int = 0,
        backend: str = "cpu",
        reference: bool = False,
        copy: bool = True,
    ) -> None:
        self.task = task
        self.role = single_agent(task)
        self.num_envs = num_envs
        self.metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}
        self.render_mode = None
        self.single_observation_space = observation_space(self.role)
        self.single_action_space = action_space(self.role)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        kwargs = clean_kwargs(config, controllers)
        if not reference:
            kwargs["backend"] = backend
        self._worlds = make_worlds(task, num_envs, reference=reference, threads=threads, auto_reset=True, **kwargs)
        self._copy = copy
        self._act_size = self.single_action_space.shape[0] if self.single_action_space.shape else 1

    @property
    def worlds(self) -> Any:
        """The underlying `Worlds` batch (its params can be changed between steps)."""
        return self._worlds

    def _out(self, obs: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.array(obs, copy=True) if self._copy else obs

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reset all worlds, or those in ``options["reset_mask"]``.

        Args:
            seed: Reseed each reset world from ``(seed, world index)``; None draws on. A list
                is accepted when all its entries are equal (worlds are seeded by index).
            options: ``{"reset_mask": bool array (num_envs,)}`` to reset only some worlds.

        Returns:
            The observations and an empty info dict.
        """
        if isinstance(seed, list):
            distinct = set(seed)
            if len(distinct) != 1:
                raise ValueError("AipVectorEnv seeds every world from one seed and its index; pass one int")
            seed = distinct.pop()
        mask = None if options is None else options.get("reset_mask")
        obs = self._worlds.reset(seed=seed, mask=None if mask is None else np.asarray(mask, dtype=bool))
        return self._out(obs), {}

    def step(self, actions: NDArray[np.float32]) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Advance every world by one frame; finished worlds reset in the same step.

        Args:
            actions: ``(num_envs, act_size)``; converted to float32.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``.
        """
        a = np.ascontiguousarray(actions, dtype=np.float32).reshape(self.num_envs, self._act_size)
        w = self._worlds
        res = w.step(a)
        infos: dict[str, Any] = {"events": np.array(res.events)}
        done = res.terminated | res.truncated
        if done.any():
            final = w.final_observations(self.role)
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = np.array(final[i])
            infos["final_obs"] = final_obs
            infos["_final_obs"] = done.copy()
            infos["final_info"] = {
                "success": np.where(done, w.success, False),
                "_success": done.copy(),
                "episode_frames": np.where(done, w.episode_frames, 0).astype(np.int32),
                "_episode_frames": done.copy(),
                "episode_return": np.where(done, w.episode_return(self.role), 0.0).astype(np.float32),
                "_episode_return": done.copy(),
            }
            infos["_final_info"] = done.copy()
        return (
            self._out(res.obs),
            np.array(res.reward, dtype=np.float32),
            np.array(res.terminated),
            np.array(res.truncated),
            infos,
        )

    def close_extras(self, **kwargs: Any) -> None:
        """Release the batch."""
        self._worlds = None
