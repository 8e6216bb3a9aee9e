"""`Worlds`: a batch of N worlds of one task, stepped together by the compiled engine."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ._backends import cuda_device, require_cuda
from ._batch_args import (
    AUTORESET_MODES,
    MAX_THREADS,
    check_batch_size,
    check_export,
    check_mask,
    episode_time_limit,
    resolve_autoreset,
    resolve_config,
    resolve_controllers,
    resolve_seed,
    seed_states,
)
from ._config import BOUNDARIES, Config
from ._errors import BackendError, ConfigError, EngineError, ShapeError, unknown_name_error
from ._layouts import role_layout, roles
from ._tasks import AGENT, TASKS, bot_code, task_spec

__all__ = ["Obs", "StepResult", "Worlds"]

Obs: TypeAlias = NDArray[np.float32] | dict[str, NDArray[np.float32]]

_ROLES = ("player", "enemy", "missile")
_TASK_CODES = {name: code for code, name in enumerate(TASKS)}
# Version of the dictionaries of `Worlds.export_state` (the reference's carry the same).
_STATE_FORMAT = 1
_PUBLIC_STATE = (
    "player_pos",
    "player_vel",
    "enemy_pos",
    "enemy_vel",
    "enemy_active",
    "enemy_respawn_timer",
    "enemy_fade",
    "missile_pos",
    "missile_heading",
    "missile_alive",
    "missile_life",
    "player_cooldown",
    "player_invulnerable",
    "stage",
)


class StepResult(NamedTuple):
    """What `Worlds.step` returns; the arrays are views the next call overwrites.

    Attributes:
        obs: Observations of the agent roles (an array for one agent, a dict role -> array for several).
        reward: Rewards of the agent roles (same structure as `obs`).
        terminated: (N,) bool, episodes that ended by success or failure this step.
        truncated: (N,) bool, episodes that hit the time limit this step.
        events: (N, 5) uint8 counts per `aip_engine.EVENTS`.
    """

    obs: Obs
    reward: NDArray[np.float32] | dict[str, NDArray[np.float32]]
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    events: NDArray[np.uint8]


def _load_core() -> Any:
    try:
        from . import _core
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise BackendError(
            "the compiled engine aip_engine._core is not built in this installation "
            f"({exc}); reinstall with `pip install --no-build-isolation -e packages/aip-engine`"
        ) from exc
    check_task_table(_core)
    return _core


def check_task_table(core: Any) -> None:
    """Refuse a compiled module built from other task declarations than this package's ``tasks.toml``.

    Raises:
        BackendError: The module's task names (in code order) differ from the declarations'.
    """
    built = list(core.task_names()) if hasattr(core, "task_names") else None
    if built != list(TASKS):
        raise BackendError(
            f"the compiled engine {core.__name__} was built from other task declarations ({built}) than "
            f"aip_engine/tasks.toml ({list(TASKS)}); rebuild it: `python3 tools/dev.py setup` or "
            "`pip install --no-build-isolation -e packages/aip-engine`"
        )


def _readonly(array: NDArray[Any]) -> NDArray[Any]:
    if not isinstance(array, np.ndarray):  # a CUDA DeviceArray: exported through DLPack as it is
        return array
    view = array.view()
    view.flags.writeable = False
    return view


def _default_threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_THREADS))


def _state_values(name: str, values: Any, shape: tuple[int, ...], dtype: np.dtype[Any]) -> NDArray[Any]:
    """`values` as a C-contiguous array of `shape` and `dtype`, or a clear error (no cast warnings)."""
    try:
        source = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"values for state {name!r} must be numbers, got {type(values).__name__} ({exc})") from None
    if source.dtype.kind not in "biuf":
        raise ShapeError(
            f"values for state {name!r} must be numbers (bool, integer or float), got dtype {source.dtype}"
        )
    try:
        source = np.broadcast_to(source, shape)
    except ValueError:
        raise ShapeError(f"values for state {name!r} must broadcast to shape {shape}, got {np.shape(values)}") from None
    if source.dtype.kind == "f" and not np.isfinite(source).all():
        where = tuple(int(k) for k in np.argwhere(~np.isfinite(source))[0])
        raise ConfigError(
            f"values for state {name!r} must be finite; {list(where)} is {source[where]!r}. NaN or infinite "
            "state would spread to every later frame"
        )
    if dtype.kind in "iu" and source.size:
        info = np.iinfo(dtype)
        # Python numbers: numpy cannot compare a uint64 with a negative bound (OverflowError).
        low, high = source.min().item(), source.max().item()
        if low < info.min or high > info.max:
            raise ConfigError(
                f"values for state {name!r} ({dtype.name}) must lie in [{info.min}, {info.max}], "
                f"got {low!r} to {high!r}"
            )
    return np.ascontiguousarray(source.astype(dtype))


class Worlds:
    """N worlds of one task, stepped together (docs/engine-api.md).

    Args:
        task: A task name from `aip_engine.tasks()`.
        num_worlds: Number of worlds N (>= 1).
        seed: Seed of the first reset; world i draws from (seed, i).
        config: The rule numbers: a `Config`, a mapping of fields that override the task's
            defaults, or None for the task's config.
        controllers: Overrides of who drives each role: ``"agent"`` or a bot name (see `bots`).
        threads: CPU threads; 0 = every core this process may use.
        auto_reset: What `step` does with a finished world (Gymnasium's autoreset modes):
            ``True`` or ``"same-step"`` resets it in the same step, ``"next-step"`` in the next step
            (instead of simulating a frame, its action ignored), ``False`` or ``"disabled"`` leaves
            it to the caller (`reset` with a mask).
        backend: ``"cpu"``; ``"cuda"`` (or ``"cuda:N"``) where the CUDA backend is built and a
            GPU is visible: arrays then live on the GPU and export through DLPack (docs/gpu.md).

    Raises:
        UnknownNameError: Unknown task, role, bot or config key.
        ConfigError: A value out of range.
        BackendError: The backend is not available.
    """

    def __init__(
        self,
        task: str,
        num_worlds: int,
        *,
        seed: int = 0,
        config: Config | Mapping[str, Any] | None = None,
        controllers: Mapping[str, str] | None = None,
        threads: int = 0,
        auto_reset: bool | str = True,
        backend: str = "cpu",
    ) -> None:
        spec = task_spec(task)
        mode = resolve_autoreset(auto_reset)
        # What a copy is re-created from (`__reduce__`); the state then comes from export_state.
        self._init_args: dict[str, Any] = {
            "task": task,
            "num_worlds": num_worlds,
            "config": config,
            "controllers": None if controllers is None else dict(controllers),
            "threads": threads,
            "auto_reset": mode,
            "backend": backend,
        }
        check_batch_size(num_worlds, threads)
        # backend="cuda" or "cuda:N": the batch lives on that GPU (aip_engine._core_cuda, docs/gpu.md).
        device = -1 if backend == "cpu" else cuda_device(backend)
        self.task: str = task
        self.num_worlds: int = num_worlds
        self.backend: str = backend
        #: The autoreset mode: ``"same-step"``, ``"next-step"`` or ``"disabled"``.
        self.autoreset_mode: str = mode
        self.auto_reset: bool = mode != "disabled"
        self.config: Config = resolve_config(spec, config)
        self.controllers: dict[str, str] = resolve_controllers(spec, controllers)
        self.agents: tuple[str, ...] = tuple(r for r in _ROLES if self.controllers[r] == AGENT)
        self._rewarded = tuple(r for r in _ROLES if r in self.agents or r in spec.agents)
        cfg = self.config
        time_limit = episode_time_limit(spec, cfg)
        self.time_limit: int = time_limit
        rules = {
            "player_radius": cfg.player_radius,
            "enemy_radius": cfg.enemy_radius,
            "missile_radius": cfg.missile_radius,
            "aim_error": cfg.aim_error,
            "max_turn": cfg.missile_max_turn_deg * math.pi / 180,
            "respawn_min_distance": cfg.respawn_min_distance,
            "respawn_margin": cfg.respawn_margin,
            "fire_range": cfg.fire_range,
            "reward_success": cfg.reward_success,
            "reward_failure": cfg.reward_failure,
            "shaping_scale": cfg.shaping_scale,
            "boundary": BOUNDARIES.index(cfg.boundary),
            "fire_cooldown": cfg.fire_cooldown,
            "missile_life_min": cfg.missile_life_min,
            "missile_life_max": cfg.missile_life_max,
            "respawn_delay": cfg.respawn_delay,
            "respawn_tries": cfg.respawn_tries,
            "catch_invulnerability": cfg.catch_invulnerability,
            "wander_min": cfg.wander_min,
            "wander_max": cfg.wander_max,
            "time_limit": time_limit,
            "task": _TASK_CODES[task],
            "agent": [int(r in self.agents) for r in _ROLES],
            "rewarded": [int(r in self._rewarded) for r in _ROLES],
            "auto_reset": AUTORESET_MODES.index(mode),
        }

        def code(role: str) -> int:
            name = self.controllers[role]
            return 0 if name == AGENT else bot_code(role, name)

        params = {
            "player_speed": cfg.player_speed,
            "enemy_speed": cfg.enemy_speed,
            "enemy_speed_scale": 1.0,
            "missile_speed": cfg.missile_speed,
            "arena_width": cfg.arena_width,
            "arena_height": cfg.arena_height,
            "fire_probability": cfg.fire_probability,
            "max_missiles": cfg.max_missiles,
            "player_bot": code("player"),
            "enemy_bot": code("enemy"),
            "guidance": code("missile"),
        }
        if device >= 0:
            self._engine = require_cuda(device).Engine(num_worlds, rules, params, device)
        else:
            core = _load_core()
            self._engine = core.Engine(num_worlds, rules, params, threads or _default_threads())
        self.threads: int = int(self._engine.threads)
        self._state: dict[str, NDArray[Any]] = self._engine.arrays("state")
        self._params: dict[str, NDArray[Any]] = self._engine.arrays("params")
        out: dict[str, NDArray[Any]] = self._engine.arrays("outputs")
        self._out = out
        self._obs = {r: out[f"obs_{r}"] for r in _ROLES}
        self._final = {r: _readonly(out[f"final_obs_{r}"]) for r in _ROLES}
        self._rewards = {r: _readonly(out[f"reward_{r}"]) for r in _ROLES}
        self._returns = {r: _readonly(out[f"return_{r}"]) for r in _ROLES}
        self._success_of = {r: _readonly(out[f"success_{r}"]) for r in _ROLES}
        self._obs_ro = {r: _readonly(self._obs[r]) for r in _ROLES}
        self._terminated = _readonly(out["terminated"])
        self._truncated = _readonly(out["truncated"])
        self._events = _readonly(out["events"])
        self._success = _readonly(out["success"])
        self._episode_frames = _readonly(out["episode_frames"])
        self._frame = _readonly(self._state["frame"])
        self._state_ro = {name: _readonly(a) for name, a in self._state.items()}
        if len(self.agents) == 1:
            only = self.agents[0]
            self._obs_out: Obs = self._obs_ro[only]
            reward_out: NDArray[np.float32] | dict[str, NDArray[np.float32]] = self._rewards[only]
        else:
            self._obs_out = {r: self._obs_ro[r] for r in self.agents}
            reward_out = {r: self._rewards[r] for r in self.agents}
        self._result = StepResult(self._obs_out, reward_out, self._terminated, self._truncated, self._events)
        # The per-step fast path of a task with one agent role: one call into the engine with that
        # role's array (the CPU backend's `step_one`; other backends go through `step`).
        self._step_one: Any = getattr(self._engine, "step_one", None) if len(self.agents) == 1 else None
        self._one_code: int = _ROLES.index(self.agents[0]) if len(self.agents) == 1 else -1
        self.reset(seed)

    # ---- stepping ------------------------------------------------------------------------------

    def reset(self, seed: int | Sequence[int | None] | None = None, mask: NDArray[np.bool_] | None = None) -> Obs:
        """Start new episodes.

        Args:
            seed: Reseed the worlds from (seed, world index); None draws on from their generators.
                A sequence of N entries seeds world i from ``(seed[i], 0)``, so that it plays what a
                batch of one reset with ``seed[i]`` plays (None entries draw on).
            mask: (N,) bool selecting the worlds to reset; None resets all.

        Returns:
            The observations of the agent roles (views; copy what you keep).

        Raises:
            ConfigError: A seed that is no integer.
            ShapeError: The mask has the wrong dtype or shape, or the seed sequence the wrong length.
        """
        batch_seed, world_seeds, seeded = resolve_seed(seed, self.num_worlds)
        if world_seeds is not None and seeded is not None:
            if mask is not None:
                check_mask(mask, self.num_worlds)  # before any generator changes
                seeded = seeded & mask
            rng = self._state["rng"]
            states = rng.to_numpy() if not isinstance(rng, np.ndarray) else np.array(rng)
            states[seeded] = seed_states(world_seeds[seeded])
            if isinstance(rng, np.ndarray):
                # Installed by the reset itself, under its guard, once the parameters are checked.
                self._engine.reset(batch_seed, mask, np.ascontiguousarray(states, dtype=np.uint64))
                return self._obs_out
            rng.copy_from(states)
        self._engine.reset(batch_seed, mask)
        return self._obs_out

    def step(self, actions: NDArray[np.float32] | Mapping[str, NDArray[np.float32]] | None = None) -> StepResult:
        """Advance every world by one frame.

        Args:
            actions: (N, act_size) float32 for a task with one agent role, a mapping role -> array
                for several, None when no role is an agent.

        Returns:
            The `StepResult` (views the next call overwrites).

        Raises:
            ShapeError: Missing actions, or the wrong dtype, shape or memory layout.
            ActionError: A NaN or infinite action (the message names the world and the field).
            ConfigError: A per-world parameter out of range.
        """
        if self._step_one is not None and type(actions) is np.ndarray:
            self._step_one(self._one_code, actions)
            return self._result
        agents = self.agents
        if len(agents) == 1 and not isinstance(actions, Mapping):
            acts: dict[str, Any] = {agents[0]: actions}
        elif isinstance(actions, Mapping):
            acts = dict(actions)
            for role in acts:
                if role not in agents:
                    raise unknown_name_error(f"agent role of {self.task}", role, agents)
        elif actions is None and not agents:
            acts = {}
        else:
            raise ShapeError(
                f"{self.task} has agent roles {agents}: pass a mapping role -> float32 array of shape "
                f"(N, act_size), got {type(actions).__name__}"
            )
        for role in agents:
            if acts.get(role) is None:
                raise ShapeError(
                    f"missing actions for the agent role {role!r}: expected a float32 array of shape "
                    f"({self.num_worlds}, {role_layout(role).act_size})"
                )
        self._engine.step(acts.get("player"), acts.get("enemy"), acts.get("missile"))
        return self._result

    # ---- per-role outputs ----------------------------------------------------------------------

    def _role(self, role: str) -> str:
        if role not in _ROLES:
            raise unknown_name_error("role", role, roles())
        return role

    def observations(self, role: str) -> NDArray[np.float32]:
        """Current observations of a role, (N, obs_size) float32 (computed on request for non-agents)."""
        role = self._role(role)
        if role not in self.agents:
            self._engine.observe(_ROLES.index(role))
        return self._obs_ro[role]

    def final_observations(self, role: str) -> NDArray[np.float32]:
        """Observations at the end of this step before any automatic reset, (N, obs_size) float32.

        For worlds that finished this step it is the last observation of the finished episode; for
        the others it equals `observations(role)`. Only agent roles have them.
        """
        role = self._role(role)
        if role not in self.agents:
            raise unknown_name_error(f"agent role of {self.task}", role, self.agents)
        return self._final[role]

    def rewards(self, role: str) -> NDArray[np.float32]:
        """Rewards of this step for a role, (N,) float32 (zeros for a role the task does not reward)."""
        return self._rewards[self._role(role)]

    def episode_return(self, role: str) -> NDArray[np.float32]:
        """Return of the episode up to this step, before any reset: the finished one where done."""
        return self._returns[self._role(role)]

    def success_of(self, role: str) -> NDArray[np.bool_]:
        """(N,) bool: the episode ended this step with the role's success (enemy: catch; others: hit)."""
        return self._success_of[self._role(role)]

    @property
    def terminated(self) -> NDArray[np.bool_]:
        """(N,) bool: episodes that ended by success or failure this step."""
        return self._terminated

    @property
    def truncated(self) -> NDArray[np.bool_]:
        """(N,) bool: episodes that reached the time limit this step."""
        return self._truncated

    @property
    def events(self) -> NDArray[np.uint8]:
        """(N, 5) uint8 event counts of this step, columns as `aip_engine.EVENTS`."""
        return self._events

    @property
    def success(self) -> NDArray[np.bool_]:
        """(N,) bool: the episode ended this step with the task's success."""
        return self._success

    @property
    def episode_frames(self) -> NDArray[np.int32]:
        """(N,) int32 frames of the episode at the end of this step, before any reset."""
        return self._episode_frames

    @property
    def frame(self) -> NDArray[np.int32]:
        """(N,) int32 frames in the current episode."""
        return self._frame

    # ---- state and parameters ------------------------------------------------------------------

    def state(self) -> dict[str, NDArray[Any]]:
        """Read-only views of the world state (docs/engine-api.md), plus the bots' own state."""
        return dict(self._state_ro)

    @property
    def params(self) -> dict[str, NDArray[Any]]:
        """Writable per-world task parameters, read at every frame (checked at every step)."""
        return self._params

    def set_state(self, name: str, values: Any) -> None:
        """Overwrite one state array (a testing and debugging hook; it bypasses the rules).

        The agents' observations are recomputed from the new state. Values are broadcast to the
        array's shape and cast to its dtype; the write takes the batch like a step does, so it is
        refused (EngineError) while another thread steps it, before anything is written.

        Args:
            name: A key of `state()`.
            values: The new values: numbers (bool, integer or float) that broadcast to the array's shape.

        Raises:
            UnknownNameError: No such state array.
            ShapeError: The values are not numbers or do not broadcast to the array's shape.
            ConfigError: A value is NaN or infinite, or outside the range of an integer array's dtype.
        """
        if name not in self._state:
            raise unknown_name_error("state array", name, tuple(self._state))
        target = self._state[name]
        prepared = _state_values(name, values, tuple(target.shape), np.dtype(target.dtype))
        if not isinstance(target, np.ndarray):  # CUDA: one host-to-device copy of the prepared values
            target.copy_from(prepared)
            for role in self.agents:
                self._engine.observe(_ROLES.index(role))
            return
        self._engine.write_state(name, prepared)

    # ---- full state, copies and closing -------------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """A copy of everything the batch remembers: state, per-world parameters and step outputs.

        `import_state` on a batch made with the same arguments puts it back, after which both
        batches step identically (the same actions give bit-identical results). The copy is plain
        data (numpy arrays, strings, integers), so it pickles.

        Returns:
            ``{"format", "implementation", "task", "num_worlds", "autoreset_mode", "arrays"}``.
        """
        self._check_open()
        arrays: dict[str, NDArray[Any]] = {}
        for group, table in (("state", self._state), ("params", self._params), ("outputs", self._out)):
            for name, a in table.items():
                arrays[f"{group}/{name}"] = np.array(a) if isinstance(a, np.ndarray) else a.to_numpy()
        return {
            "format": _STATE_FORMAT,
            "implementation": "engine",
            "task": self.task,
            "num_worlds": self.num_worlds,
            "autoreset_mode": self.autoreset_mode,
            "arrays": arrays,
        }

    def import_state(self, exported: Mapping[str, Any]) -> None:
        """Overwrite the whole batch with what `export_state` returned (of this or another batch).

        Raises:
            ConfigError: Not an export of the engine, or of another task, world count or autoreset mode.
            ShapeError: An array missing, or of another shape or dtype.
        """
        self._check_open()
        arrays = check_export(exported, "engine", self.task, self.num_worlds, self.autoreset_mode)
        targets: dict[str, Any] = {}
        for group, table in (("state", self._state), ("params", self._params), ("outputs", self._out)):
            for name, a in table.items():
                key = f"{group}/{name}"
                value = arrays.get(key)
                if not isinstance(value, np.ndarray) or value.shape != tuple(a.shape) or value.dtype != a.dtype:
                    got = (
                        "missing"
                        if value is None
                        else f"{getattr(value, 'dtype', type(value).__name__)} {np.shape(value)}"
                    )
                    raise ShapeError(f"exported array {key!r} must be {a.dtype} of shape {tuple(a.shape)}, got {got}")
                targets[key] = (a, value)
        if all(isinstance(a, np.ndarray) for a, _ in targets.values()):
            # One guarded call: refused while another thread uses the batch, parameters checked
            # before anything is written, and the imported parameters in effect at once.
            self._engine.write_arrays(
                [(*key.split("/", 1), np.ascontiguousarray(value)) for key, (_, value) in targets.items()]
            )
            return
        for a, value in targets.values():
            a.copy_from(value)

    def close(self) -> None:
        """Free the engine and its arrays now; later calls raise `EngineError` (closing twice is fine).

        Views handed out before (observations, state) keep their memory alive until they are dropped.
        """
        if self.__dict__.get("_closed"):
            return
        keep = {
            "task",
            "num_worlds",
            "backend",
            "autoreset_mode",
            "auto_reset",
            "config",
            "controllers",
            "agents",
            "time_limit",
            "threads",
            "_init_args",
        }
        for name in list(self.__dict__):
            if name not in keep:
                del self.__dict__[name]
        self._closed = True

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return bool(self.__dict__.get("_closed", False))

    def _check_open(self) -> None:
        if self.__dict__.get("_closed"):
            raise EngineError(f"this {self.task} Worlds batch is closed; create a new Worlds to go on")

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy.deepcopy re-create the batch from its arguments, then import its state:
        # the copy continues the same trajectories (the engine itself cannot be pickled).
        self._check_open()
        return (_rebuild, (self._init_args, self.export_state()))

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes that are missing: after close() the engine and arrays are.
        if self.__dict__.get("_closed") and name.startswith("_"):
            self._check_open()
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return (
            f"Worlds(task={self.task!r}, num_worlds={self.num_worlds}, agents={self.agents}, "
            f"threads={self.threads}, backend={self.backend!r})"
        )


def _rebuild(init_args: dict[str, Any], exported: dict[str, Any]) -> Worlds:
    args = {k: v for k, v in init_args.items() if k not in ("task", "num_worlds")}
    worlds = Worlds(init_args["task"], init_args["num_worlds"], **args)
    worlds.import_state(exported)
    return worlds
