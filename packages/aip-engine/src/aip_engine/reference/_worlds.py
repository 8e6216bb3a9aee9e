"""`reference.Worlds`: the batch API of docs/engine-api.md over per-world `World` objects.

N worlds stepped by a plain Python loop. It exists to be read and to check the
compiled engine against; it is orders of magnitude slower.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from aip_engine._backends import cuda_device
from aip_engine._batch_args import (
    check_batch_size,
    check_export,
    check_mask,
    episode_time_limit,
    resolve_autoreset,
    resolve_config,
    resolve_controllers,
    resolve_seed,
)
from aip_engine._config import Config
from aip_engine._errors import ActionError, BackendError, ConfigError, EngineError, ShapeError, unknown_name_error
from aip_engine._layouts import role_layout, roles
from aip_engine._tasks import AGENT, EVENTS, bot_code, bots, task_spec

from ._episode import World, success_role
from ._state import MAX_MISSILE_SLOTS

__all__ = ["StepResult", "Worlds"]

Obs = NDArray[np.float32] | dict[str, NDArray[np.float32]]


class StepResult(NamedTuple):
    """What `Worlds.step` returns (docs/engine-api.md)."""

    obs: Any
    reward: Any
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    events: NDArray[np.uint8]


_FLOAT_PARAMS = (
    "player_speed",
    "enemy_speed",
    "enemy_speed_scale",
    "missile_speed",
    "arena_width",
    "arena_height",
    "fire_probability",
)
_BOT_PARAMS = {"player_bot": "player", "enemy_bot": "enemy", "guidance": "missile"}
_MARGIN_RULE = "at least 2 * respawn_margin (the config's)"
_BODY_RULE = "at least 2 * the largest body radius (the config's)"
# Integer parameters: (key, low, high, what the codes are), in the engine's order of checks.
_CODE_RANGES = (
    ("max_missiles", 0, MAX_MISSILE_SLOTS, ""),
    ("player_bot", 0, len(bots("player")) - 1, " (bots('player'))"),
    ("enemy_bot", -1, len(bots("enemy")) - 1, " (bots('enemy'); -1 draws a target motion)"),
    ("guidance", 0, len(bots("missile")) - 1, " (bots('missile'))"),
    ("player_driver", 0, len(bots("player")), " (0: the caller's actions; 1 + k: bots('player')[k])"),
    ("enemy_driver", 0, len(bots("enemy")), " (0: the caller's actions; 1 + k: bots('enemy')[k])"),
)
_ROLES = ("player", "enemy", "missile")


class Worlds:
    """N worlds of one task, with the same API as `aip_engine.Worlds`.

    Args:
        task: The task's name.
        num_worlds: How many worlds.
        seed: The seed of the first reset.
        config: Rule numbers; None takes the task's.
        controllers: Role -> ``"agent"`` or a bot name, overriding the task's.
        threads: Checked like the engine's (an integer >= 0); the reference runs on one thread.
        auto_reset: The autoreset mode, as the engine's: True/``"same-step"``, ``"next-step"``,
            False/``"disabled"``.
        backend: Only ``"cpu"``.

    Raises:
        UnknownNameError: Unknown task, role, bot, config key or backend name.
        ConfigError: A bad config, world count, thread count or seed.
        BackendError: A CUDA backend (the reference has only ``"cpu"``).
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
        # The checks run in the engine's order, with its error classes and messages.
        spec = task_spec(task)
        mode = resolve_autoreset(auto_reset)
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
        if backend != "cpu":
            cuda_device(backend)  # UnknownNameError for a name that is no backend
        cfg = resolve_config(spec, config)
        ctrl = resolve_controllers(spec, controllers)
        if backend != "cpu":
            raise BackendError(f"the reference implementation has only the 'cpu' backend, not {backend!r}")
        self.task = task
        self.num_worlds = num_worlds
        self.config = cfg
        self.controllers = ctrl
        self.agents = tuple(r for r in ("player", "enemy", "missile") if ctrl[r] == AGENT)
        self.threads = 1
        self.backend = "cpu"
        self.time_limit = episode_time_limit(spec, cfg)
        self.autoreset_mode = mode
        self.auto_reset = mode != "disabled"
        self.spec = spec
        self._worlds = [World(spec, cfg, ctrl, i) for i in range(num_worlds)]
        n = num_worlds
        self.params: dict[str, NDArray[Any]] = {
            "player_speed": np.full(n, cfg.player_speed),
            "enemy_speed": np.full(n, cfg.enemy_speed),
            "enemy_speed_scale": np.ones(n),
            "missile_speed": np.full(n, cfg.missile_speed),
            "arena_width": np.full(n, cfg.arena_width),
            "arena_height": np.full(n, cfg.arena_height),
            "fire_probability": np.full(n, cfg.fire_probability),
            "max_missiles": np.full(n, cfg.max_missiles, dtype=np.int32),
        }
        for key, role in _BOT_PARAMS.items():
            name = ctrl[role]
            # An agent's slot holds bot 0 (unused); "random" is -1 (the task draws a motion).
            code = 0 if name == AGENT else bot_code(role, name)
            self.params[key] = np.full(n, code, dtype=np.int32)
        for key in ("player_driver", "enemy_driver"):
            self.params[key] = np.zeros(n, dtype=np.int32)
        self._obs = {r: np.zeros((n, role_layout(r).obs_size), np.float32) for r in roles()}
        self._final = {r: np.zeros((n, role_layout(r).obs_size), np.float32) for r in roles()}
        self._rewards = {r: np.zeros(n, np.float32) for r in roles()}
        self._returns = {r: np.zeros(n, np.float32) for r in roles()}
        self._success_of = {r: np.zeros(n, bool) for r in roles()}
        self.terminated = np.zeros(n, bool)
        self.truncated = np.zeros(n, bool)
        self.events = np.zeros((n, len(EVENTS)), np.uint8)
        self.success = np.zeros(n, bool)
        self.episode_frames = np.zeros(n, np.int32)
        self.frame = np.zeros(n, np.int32)
        self.reset(seed)

    # --- per-world parameters ---------------------------------------------------------------

    def _check_params(self) -> None:
        """Reject per-world parameters out of their ranges, as the engine does.

        The engine names the first faulty world, and in it the first faulty field in the order
        below; an arena must also be at least ``2 * respawn_margin`` and twice the largest body
        radius wide and high.
        """
        p = self.params
        cfg = self.config
        margin2 = 2 * cfg.respawn_margin
        body2 = 2 * max(cfg.player_radius, cfg.enemy_radius, cfg.missile_radius)
        width, height = p["arena_width"], p["arena_height"]
        checks: list[tuple[str, NDArray[np.bool_], str]] = []
        for key in ("player_speed", "enemy_speed", "enemy_speed_scale", "missile_speed"):
            checks.append((key, ~((p[key] >= 0) & (p[key] <= 1000)), "[0, 1000]"))
        checks += [
            ("arena_width", ~((width >= 100) & (width <= 1e6)), "[100, 1000000]"),
            ("arena_height", ~((height >= 100) & (height <= 1e6)), "[100, 1000000]"),
            ("arena_width", width < margin2, _MARGIN_RULE),
            ("arena_height", height < margin2, _MARGIN_RULE),
            ("arena_width", width < body2, _BODY_RULE),
            ("arena_height", height < body2, _BODY_RULE),
            ("fire_probability", ~((p["fire_probability"] >= 0) & (p["fire_probability"] <= 1)), "[0, 1]"),
        ]
        for key, low, high, note in _CODE_RANGES:
            checks.append((key, (p[key] < low) | (p[key] > high), f"[{low}, {high}]{note}"))
        bad = np.stack([np.asarray(b, bool) for _, b, _ in checks])
        if not bad.any():
            return
        i = int(np.flatnonzero(bad.any(axis=0))[0])
        key, _, allowed = checks[int(np.flatnonzero(bad[:, i])[0])]
        value = p[key][i]
        shown = f"{float(value):.17g}" if np.issubdtype(p[key].dtype, np.floating) else str(int(value))
        rule = f"allowed range is {allowed}" if allowed.startswith("[") else f"it must be {allowed}"
        raise ConfigError(f"params[{key!r}][{i}] is {shown}; {rule}")

    def _load_params(self, i: int) -> None:
        p = self._worlds[i].params
        for key in _FLOAT_PARAMS:
            setattr(p, key, float(self.params[key][i]))
        p.max_missiles = int(self.params["max_missiles"][i])
        p.player_driver = int(self.params["player_driver"][i])
        p.enemy_driver = int(self.params["enemy_driver"][i])
        for key, role in _BOT_PARAMS.items():
            code = int(self.params[key][i])
            setattr(p, key, bots(role)[code] if code >= 0 else None)

    # --- reset and step ---------------------------------------------------------------------

    def reset(self, seed: int | Sequence[int | None] | None = None, mask: NDArray[np.bool_] | None = None) -> Obs:
        """Start new episodes in all worlds, or in the masked ones.

        Args:
            seed: Reseed each reset world from ``(seed, world index)``; None draws on. A sequence
                of N entries reseeds world i from ``(seed[i], 0)`` (None entries draw on).
            mask: Boolean (N,) selecting the worlds to reset; None resets all.

        Returns:
            The observations of the agent roles.

        Raises:
            ConfigError: A seed that is not an integer, or a per-world parameter out of range.
            ShapeError: The mask is not a C-contiguous bool array of shape (N,).

        A reset world's step outputs are cleared as the engine clears them: rewards, returns,
        successes, ``terminated``, ``truncated``, events and ``episode_frames`` are zero, and its
        final observations are its new observations.
        """
        self._check_open()
        seed, world_seeds, seeded = resolve_seed(seed, self.num_worlds)
        if mask is not None:
            check_mask(mask, self.num_worlds)
        self._check_params()
        for i, w in enumerate(self._worlds):
            if mask is not None and not mask[i]:
                continue
            self._load_params(i)
            if world_seeds is not None and seeded is not None and seeded[i]:
                w.rng.seed(int(world_seeds[i]), 0)
            w.reset(seed)
            self.frame[i] = 0
            self._clear_outputs(i)
        self._write_observations()
        for i in range(self.num_worlds):
            if mask is None or mask[i]:
                for r in roles():
                    self._final[r][i] = self._obs[r][i]
        return self._agent_obs()

    def _clear_outputs(self, i: int) -> None:
        for r in roles():
            self._rewards[r][i] = 0.0
            self._returns[r][i] = 0.0
            self._success_of[r][i] = False
        self.success[i] = False
        self.terminated[i] = False
        self.truncated[i] = False
        self.events[i] = 0
        self.episode_frames[i] = 0

    def step(self, actions: NDArray[np.float32] | Mapping[str, NDArray[np.float32]] | None = None) -> StepResult:
        """Advance every world by one frame.

        Args:
            actions: ``(N, act_size)`` float32 for one agent role, a dict per agent role for
                several, None when no role is an agent.

        Returns:
            ``(obs, reward, terminated, truncated, events)``.

        Raises:
            ShapeError: Actions of the wrong shape or dtype.
            ActionError: A NaN or infinite action.
        """
        self._check_open()
        acts = self._check_actions(actions)
        self._check_params()
        # Next-step autoreset: the worlds that ended in the last step start anew instead of a frame.
        restart = (
            (self.terminated | self.truncated)
            if self.autoreset_mode == "next-step"
            else np.zeros(self.num_worlds, bool)
        )
        self.events[:] = 0
        self.terminated[:] = False
        self.truncated[:] = False
        self.success[:] = False
        for r in roles():
            self._rewards[r][:] = 0.0
            self._success_of[r][:] = False
        for i, w in enumerate(self._worlds):
            self._load_params(i)
            if restart[i]:
                w.reset()
                self.frame[i] = 0
                self._clear_outputs(i)
                continue
            pa = acts.get("player")
            ea = acts.get("enemy")
            ma = acts.get("missile")
            out = w.step(
                player_action=(float(pa[i, 0]), float(pa[i, 1]), float(pa[i, 2])) if pa is not None else None,
                enemy_action=(float(ea[i, 0]), float(ea[i, 1])) if ea is not None else None,
                missile_action=float(ma[i, 0]) if ma is not None else None,
                auto_reset=self.autoreset_mode == "same-step",
            )
            self.events[i] = out.events.as_tuple()
            for role, value in out.rewards.items():
                self._rewards[role][i] = value
            for role, ok in out.success.items():
                self._success_of[role][i] = ok
            winner = success_role(self.task)
            self.success[i] = out.success[winner] if winner is not None else False
            self.terminated[i] = out.terminated
            self.truncated[i] = out.truncated
            # Every world's, finished or not (docs/engine-api.md): before any automatic reset.
            self.episode_frames[i] = out.episode_frames
            for role in roles():
                self._returns[role][i] = out.episode_return.get(role, 0.0)
            for role, last in out.final_observations.items():
                self._final[role][i] = last
            self.frame[i] = w.state.frame
        self._write_observations()
        for r in roles():
            self._final[r][restart] = self._obs[r][restart]
        rewards: Any
        rewards = self._rewards[self.agents[0]] if len(self.agents) == 1 else {r: self._rewards[r] for r in self.agents}
        return StepResult(self._agent_obs(), rewards, self.terminated, self.truncated, self.events)

    def _check_actions(
        self, actions: NDArray[np.float32] | Mapping[str, NDArray[np.float32]] | None
    ) -> dict[str, NDArray[np.float64]]:
        """The engine's checks, in its order: the structure, every role's array, then finiteness."""
        agents = self.agents
        if len(agents) == 1 and not isinstance(actions, Mapping):
            given: dict[str, Any] = {agents[0]: actions}
        elif isinstance(actions, Mapping):
            given = dict(actions)
            for role in given:
                if role not in agents:
                    raise unknown_name_error(f"agent role of {self.task}", role, agents)
        elif actions is None and not agents:
            given = {}
        else:
            raise ShapeError(
                f"{self.task} has agent roles {agents}: pass a mapping role -> float32 array of shape "
                f"(N, act_size), got {type(actions).__name__}"
            )
        n = self.num_worlds
        for role in agents:
            if given.get(role) is None:
                raise ShapeError(
                    f"missing actions for the agent role {role!r}: expected a float32 array of shape "
                    f"({n}, {role_layout(role).act_size})"
                )
        for role in _ROLES:
            if role in given:
                self._check_action_array(role, given[role])
        out: dict[str, NDArray[np.float64]] = {}
        for role in agents:
            size = role_layout(role).act_size
            a = np.asarray(given[role]).reshape(n, size)
            bad = ~np.isfinite(a)
            if bad.any():
                i, j = (int(k) for k in np.argwhere(bad)[0])
                field = role_layout(role).action[j].name
                raise ActionError(
                    f"action of role {role!r} is not finite: world {i}, field {field!r} is {float(a[i, j])}; "
                    "every action value must be a finite number"
                )
            out[role] = a.astype(np.float64)
        return out

    def _check_action_array(self, role: str, a: Any) -> None:
        """An agent's actions: a C-contiguous float32 array (N, act_size); (N,) for one column."""
        n = self.num_worlds
        size = role_layout(role).act_size
        what = f"actions of role {role!r}"
        if not isinstance(a, np.ndarray):
            raise ShapeError(
                f"{what} must be a numpy array of shape ({n}, {size}) and dtype float32, got {type(a).__name__}"
            )
        if a.dtype != np.float32:
            raise ShapeError(
                f"{what} must have dtype float32, got {a.dtype}; convert with np.asarray(actions, dtype=np.float32)"
            )
        if a.shape != (n, size) and not (size == 1 and a.shape == (n,)):
            shape = "(" + ", ".join(str(d) for d in a.shape) + ")"
            raise ShapeError(f"{what} must have shape ({n}, {size}), got {shape}")
        if not a.flags.c_contiguous:
            raise ShapeError(f"{what} must be C-contiguous; pass np.ascontiguousarray(actions, dtype=np.float32)")

    # --- outputs ----------------------------------------------------------------------------

    def _write_observations(self) -> None:
        for i, w in enumerate(self._worlds):
            for role in roles():
                self._obs[role][i] = w.observe(role)

    def _agent_obs(self) -> Obs:
        if len(self.agents) == 1:
            return self._obs[self.agents[0]]
        return {r: self._obs[r] for r in self.agents}

    def _role(self, role: str) -> str:
        if role not in _ROLES:
            raise unknown_name_error("role", role, roles())
        return role

    def observations(self, role: str) -> NDArray[np.float32]:
        """The current observations of a role, (N, obs_size) float32."""
        return self._obs[self._role(role)]

    def final_observations(self, role: str) -> NDArray[np.float32]:
        """Observations at the end of the last step before any automatic reset, (N, obs_size) float32.

        For worlds that finished in the last step it is the last observation of the finished
        episode; for the others it equals `observations(role)`. Only agent roles have them.

        Raises:
            UnknownNameError: Not a role, or not an agent role of this batch.
        """
        role = self._role(role)
        if role not in self.agents:
            raise unknown_name_error(f"agent role of {self.task}", role, self.agents)
        return self._final[role]

    def rewards(self, role: str) -> NDArray[np.float32]:
        """The rewards of a role in the last step."""
        return self._rewards[self._role(role)]

    def success_of(self, role: str) -> NDArray[np.bool_]:
        """Whether each world's finished episode was a success for a role."""
        return self._success_of[self._role(role)]

    def episode_return(self, role: str) -> NDArray[np.float32]:
        """The return of a role's episode up to the last step, before any reset: the finished one where done."""
        return self._returns[self._role(role)]

    def state(self) -> dict[str, NDArray[Any]]:
        """A snapshot of the world state as arrays (the field names of docs/engine-api.md)."""
        n = self.num_worlds
        out: dict[str, NDArray[Any]] = {
            "player_pos": np.zeros((n, 2)),
            "player_vel": np.zeros((n, 2)),
            "enemy_pos": np.zeros((n, 2)),
            "enemy_vel": np.zeros((n, 2)),
            "enemy_active": np.zeros(n, bool),
            "enemy_respawn_timer": np.zeros(n, np.int32),
            "enemy_fade": np.zeros(n, np.int32),
            "missile_pos": np.zeros((n, MAX_MISSILE_SLOTS, 2)),
            "missile_heading": np.zeros((n, MAX_MISSILE_SLOTS, 2)),
            "missile_alive": np.zeros((n, MAX_MISSILE_SLOTS), bool),
            "missile_life": np.zeros((n, MAX_MISSILE_SLOTS), np.int32),
            "player_cooldown": np.zeros(n, np.int32),
            "player_invulnerable": np.zeros(n, np.int32),
            "stage": np.zeros(n, np.int32),
            # Beyond docs/engine-api.md, as the engine also shows them: bookkeeping and generator.
            "stage_clock": np.zeros(n, np.int32),
            "frame": np.zeros(n, np.int32),
            "episode_return": np.zeros((n, 3)),
            "player_driver_episode": np.zeros(n, np.int32),
            "enemy_driver_episode": np.zeros(n, np.int32),
            "rng": np.zeros(n, np.uint64),
        }
        for i, w in enumerate(self._worlds):
            s = w.state
            out["player_pos"][i] = (s.player_x, s.player_y)
            out["player_vel"][i] = (s.player_vx, s.player_vy)
            out["enemy_pos"][i] = (s.enemy_x, s.enemy_y)
            out["enemy_vel"][i] = (s.enemy_vx, s.enemy_vy)
            out["enemy_active"][i] = s.enemy_active
            out["enemy_respawn_timer"][i] = s.enemy_respawn_timer
            out["enemy_fade"][i] = s.enemy_fade
            for k, m in enumerate(s.missiles):
                out["missile_pos"][i, k] = (m.x, m.y)
                out["missile_heading"][i, k] = (m.hx, m.hy)
                out["missile_alive"][i, k] = m.alive
                out["missile_life"][i, k] = m.life
            out["player_cooldown"][i] = s.player_cooldown
            out["player_invulnerable"][i] = s.player_invulnerable
            out["stage"][i] = min(3, s.stage_clock // 600)
            out["stage_clock"][i] = s.stage_clock
            out["frame"][i] = s.frame
            out["episode_return"][i] = [w.episode_return.get(role, 0.0) for role in ("player", "enemy", "missile")]
            out["player_driver_episode"][i] = s.player_driver
            out["enemy_driver_episode"][i] = s.enemy_driver
            out["rng"][i] = w.rng.state
        for a in out.values():
            a.flags.writeable = False
        return out

    # --- full state, copies and closing -----------------------------------------------------

    def export_state(self) -> dict[str, Any]:
        """A deep copy of everything the batch remembers (as the engine's `export_state`).

        Returns:
            ``{"format", "implementation", "task", "num_worlds", "autoreset_mode", "arrays", "worlds"}``.
        """
        self._check_open()
        arrays = {name: np.array(value) for name, value in vars(self).items() if isinstance(value, np.ndarray)}
        for name in ("params", "_obs", "_final", "_rewards", "_returns", "_success_of"):
            for key, a in getattr(self, name).items():
                arrays[f"{name}/{key}"] = np.array(a)
        return {
            "format": 1,
            "implementation": "reference",
            "task": self.task,
            "num_worlds": self.num_worlds,
            "autoreset_mode": self.autoreset_mode,
            "arrays": arrays,
            "worlds": [
                {
                    "rng": w.rng.state,
                    "state": copy.deepcopy(w.state),
                    "params": copy.deepcopy(w.params),
                    "arena": copy.deepcopy(w.arena),
                    "episode_return": dict(w.episode_return),
                }
                for w in self._worlds
            ],
        }

    def import_state(self, exported: Mapping[str, Any]) -> None:
        """Overwrite the whole batch with what `export_state` returned.

        Raises:
            ConfigError: Not a reference export, or of a batch made with other arguments.
            ShapeError: An array missing, or of another shape or dtype.
        """
        self._check_open()
        arrays = check_export(exported, "reference", self.task, self.num_worlds, self.autoreset_mode)
        targets: list[tuple[NDArray[Any], NDArray[Any]]] = []
        for key, value in self.export_state()["arrays"].items():
            given = arrays.get(key)
            if not isinstance(given, np.ndarray) or given.shape != value.shape or given.dtype != value.dtype:
                raise ShapeError(f"exported array {key!r} must be {value.dtype} of shape {value.shape}")
            name, _, sub = key.partition("/")
            targets.append((getattr(self, name)[sub] if sub else getattr(self, name), given))
        for target, given in targets:
            np.copyto(target, given)
        worlds = list(exported["worlds"])
        if len(worlds) != self.num_worlds:
            raise ShapeError(f"exported state has {len(worlds)} worlds, this batch {self.num_worlds}")
        for w, saved in zip(self._worlds, worlds, strict=True):
            w.rng.state = int(saved["rng"])
            w.state = copy.deepcopy(saved["state"])
            w.params = copy.deepcopy(saved["params"])
            w.arena = copy.deepcopy(saved["arena"])
            w.episode_return = dict(saved["episode_return"])

    def __reduce__(self) -> tuple[Any, ...]:
        # As the engine's: re-created from the arguments, then the exported state imported.
        self._check_open()
        return (_rebuild, (self._init_args, self.export_state()))

    def close(self) -> None:
        """Drop the worlds; later calls raise `EngineError` (as the engine's `close`)."""
        self._worlds = []
        self._closed = True

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return bool(self.__dict__.get("_closed", False))

    def _check_open(self) -> None:
        if self.__dict__.get("_closed"):
            raise EngineError(f"this {self.task} Worlds batch is closed; create a new Worlds to go on")


def _rebuild(init_args: dict[str, Any], exported: dict[str, Any]) -> Worlds:
    args = {k: v for k, v in init_args.items() if k not in ("task", "num_worlds")}
    worlds = Worlds(init_args["task"], init_args["num_worlds"], **args)
    worlds.import_state(exported)
    return worlds
