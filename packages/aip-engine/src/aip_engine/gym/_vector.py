"""`AipVectorEnv`: a whole batch of worlds of a single-agent task as a Gymnasium `VectorEnv`.

One engine call steps every world, and the engine also does the autoreset of the chosen mode
(Gymnasium's ``AutoresetMode``), so no Python loop runs over the worlds:

- ``SAME_STEP`` (the default): a finished world resets inside the step that ended it; the
  returned observation is the new episode's first and the finished episode's last one is in
  ``infos["final_obs"]`` (an object array, with the mask ``infos["_final_obs"]``).
- ``NEXT_STEP``: the step that ends an episode returns its last observation; the next step
  resets that world instead of simulating a frame (its action is ignored, reward 0, not done).
- ``DISABLED``: finished worlds wait for ``reset(options={"reset_mask": mask})``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from aip_engine._errors import EngineError

from ._render import render_world
from ._spaces import action_space, clean_kwargs, make_worlds, observation_space, single_agent

__all__ = ["AipVectorEnv"]

_MODES = {
    AutoresetMode.SAME_STEP: "same-step",
    AutoresetMode.NEXT_STEP: "next-step",
    AutoresetMode.DISABLED: "disabled",
}


def autoreset_mode_of(value: AutoresetMode | str) -> AutoresetMode:
    """Gymnasium's `AutoresetMode` for a member, its value or a spelling (``"NextStep"``, ``"next_step"``)."""
    if isinstance(value, AutoresetMode):
        return value
    if isinstance(value, str):
        key = value.replace("-", "").replace("_", "").lower()
        for member in AutoresetMode:
            if key == member.value.lower():
                return member
    names = ", ".join(repr(m.value) for m in AutoresetMode)
    raise ValueError(f"autoreset_mode must be a gymnasium.vector.AutoresetMode or one of {names}, got {value!r}")


class AipVectorEnv(VectorEnv[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]):
    """``num_envs`` worlds of a single-agent task stepped together by the engine.

    ``infos`` always holds ``events`` (N, 5) uint8 (columns: `aip_engine.EVENTS`). When
    episodes end, their ``success``, ``episode_frames`` and ``episode_return`` are reported: in
    ``SAME_STEP`` mode inside ``infos["final_info"]`` next to ``infos["final_obs"]``; in the other
    modes directly in ``infos``. Each key has its ``_key`` mask, as Gymnasium's vector envs do.

    Args:
        task: The task's name.
        num_envs: How many worlds.
        config: Rule numbers overriding the task's.
        controllers: Role -> bot overrides for the non-agent roles.
        threads: Engine threads (0 = all cores).
        backend: The engine backend (``"cpu"``).
        reference: Step the Python reference instead of the compiled engine.
        copy: Return copies of the observations (the engine overwrites its buffers each step).
        autoreset_mode: A `gymnasium.vector.AutoresetMode` (or its value, e.g. ``"next_step"``).
        render_mode: None, or ``"rgb_array"``: `render` returns one image per world of
            ``render_worlds``.
        render_worlds: The indices of the worlds `render` draws; None draws every world.
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
        autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP,
        render_mode: str | None = None,
        render_worlds: Sequence[int] | None = None,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode {render_mode!r} is not supported; use None or 'rgb_array'")
        mode = autoreset_mode_of(autoreset_mode)
        self.task = task
        self.role = single_agent(task)
        self.num_envs = num_envs
        self.metadata = {"autoreset_mode": mode, "render_modes": ["rgb_array"], "render_fps": 60}
        self.autoreset_mode = mode  # as on Gymnasium's own vector envs (TorchRL reads it)
        self.render_mode = render_mode
        self.render_worlds: tuple[int, ...] | None = None
        if render_worlds is not None:
            self.render_worlds = tuple(int(i) for i in render_worlds)
            bad = [i for i in self.render_worlds if not 0 <= i < num_envs]
            if bad:
                raise ValueError(f"render_worlds {bad} are not world indices of a batch of {num_envs}")
        self.single_observation_space = observation_space(self.role)
        self.single_action_space = action_space(self.role)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        kwargs = clean_kwargs(config, controllers)
        if not reference:
            kwargs["backend"] = backend
        self._worlds = make_worlds(
            task, num_envs, reference=reference, threads=threads, auto_reset=_MODES[mode], **kwargs
        )
        self._same_step = mode == AutoresetMode.SAME_STEP
        self._copy = copy
        self._act_size = self.single_action_space.shape[0] if self.single_action_space.shape else 1

    @property
    def worlds(self) -> Any:
        """The underlying `Worlds` batch (its params can be changed between steps)."""
        return self._worlds

    def _out(self, obs: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.array(obs, copy=True) if self._copy else obs

    def _check_open(self) -> None:
        if self.closed:
            raise EngineError("this AipVectorEnv is closed; make a new one to go on")

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reset all worlds, or those in ``options["reset_mask"]``.

        Args:
            seed: One int reseeds world i from ``(seed, i)``; a list of ``num_envs`` seeds gives
                world i its own (world i then plays what ``AipEnv`` reset with ``seed[i]`` plays;
                None entries draw on); None draws on.
            options: ``{"reset_mask": bool array (num_envs,)}`` to reset only some worlds.

        Returns:
            The observations and an empty info dict.
        """
        self._check_open()
        if isinstance(seed, int):
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        mask = None if options is None else options.get("reset_mask")
        if mask is not None:
            mask = np.ascontiguousarray(mask, dtype=bool)
        obs = self._worlds.reset(seed=seed, mask=mask)
        return self._out(obs), {}

    def step(self, actions: NDArray[np.float32]) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Advance every world by one frame (finished worlds reset as the autoreset mode says).

        Args:
            actions: ``(num_envs, act_size)``; converted to float32.

        Returns:
            ``(observations, rewards, terminations, truncations, infos)``.
        """
        self._check_open()
        a = np.ascontiguousarray(actions, dtype=np.float32).reshape(self.num_envs, self._act_size)
        w = self._worlds
        res = w.step(a)
        # Every world has events each step; the mask is Gymnasium's vector-info convention (its
        # DictInfoToList before 1.2 needs it).
        infos: dict[str, Any] = {"events": np.array(res.events), "_events": np.ones(self.num_envs, dtype=np.bool_)}
        done = res.terminated | res.truncated
        if done.any():
            episode = {
                "success": np.where(done, w.success, False),
                "_success": done.copy(),
                "episode_frames": np.where(done, w.episode_frames, 0).astype(np.int32),
                "_episode_frames": done.copy(),
                "episode_return": np.where(done, w.episode_return(self.role), 0.0).astype(np.float32),
                "_episode_return": done.copy(),
            }
            if self._same_step:
                final = w.final_observations(self.role)
                final_obs = np.full(self.num_envs, None, dtype=object)
                for i in np.flatnonzero(done):
                    final_obs[i] = np.array(final[i])
                infos["final_obs"] = final_obs
                infos["_final_obs"] = done.copy()
                infos["final_info"] = episode
                infos["_final_info"] = done.copy()
            else:
                infos.update(episode)
        return (
            self._out(res.obs),
            np.array(res.reward, dtype=np.float32),
            np.array(res.terminated),
            np.array(res.truncated),
            infos,
        )

    def render(self) -> tuple[NDArray[np.uint8], ...] | None:
        """One RGB image per world of ``render_worlds`` (all worlds when None) for ``"rgb_array"``."""
        self._check_open()
        if self.render_mode != "rgb_array":
            return None
        indices = self.render_worlds if self.render_worlds is not None else range(self.num_envs)
        return tuple(render_world(self._worlds, i) for i in indices)

    def close_extras(self, **kwargs: Any) -> None:
        """Free the engine batch; later calls raise `aip_engine.EngineError`."""
        worlds = self.__dict__.get("_worlds")
        if worlds is not None:
            worlds.close()
