"""`reference.Worlds`: the batch API of docs/engine-api.md over per-world `World` objects.

N worlds stepped by a plain Python loop. It exists to be read and to check the
compiled engine against; it is orders of magnitude slower.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from aip_engine._config import Config
from aip_engine._errors import ActionError, BackendError, ConfigError, ShapeError, unknown_name_error
from aip_engine._layouts import role_layout, roles
from aip_engine._tasks import AGENT, EVENTS, RANDOM, bot_code, bots, task_spec

from ._episode import World, success_role, time_limit
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


class Worlds:
    """N worlds of one task, with the same API as `aip_engine.Worlds`.

    Args:
        task: The task's name.
        num_worlds: How many worlds.
        seed: The seed of the first reset.
        config: Rule numbers; None takes the task's.
        controllers: Role -> ``"agent"`` or a bot name, overriding the task's.
        threads: Accepted for compatibility; the reference runs on one thread.
        auto_reset: Reset finished worlds inside `step` (same-step mode).
        backend: Only ``"cpu"``.

    Raises:
        UnknownNameError: Unknown task, role or bot.
        ConfigError: A bad config or world count.
        BackendError: A backend other than ``"cpu"``.
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
        auto_reset: bool = True,
        backend: str = "cpu",
    ) -> None:
        spec = task_spec(task)
        if backend != "cpu":
            raise BackendError(f"the reference implementation has only the 'cpu' backend, not {backend!r}")
        if isinstance(num_worlds, bool) or not isinstance(num_worlds, int) or num_worlds < 1:
            raise ConfigError(f"num_worlds must be a positive integer, got {num_worlds!r}")
        if config is None:
            cfg = spec.config
        elif isinstance(config, Config):
            cfg = config
        else:
            cfg = Config.from_mapping(config, base=spec.config)
        ctrl = dict(spec.controllers)
        for role, name in (controllers or {}).items():
            if role not in roles():
                raise unknown_name_error("role", role, roles())
            allowed = (AGENT, *bots(role)) + ((RANDOM,) if role == "enemy" else ())
            if name not in allowed:
                raise unknown_name_error(f"{role} controller", name, allowed)
            ctrl[role] = name
        self.task = task
        self.num_worlds = num_worlds
        self.config = cfg
        self.controllers = ctrl
        self.agents = tuple(r for r in ("player", "enemy", "missile") if ctrl[r] == AGENT)
        self.threads = 1
        self.backend = "cpu"
        self.time_limit = time_limit(spec, cfg)
        self.auto_reset = auto_reset
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
        """Reject per-world parameters out of their ranges, as the engine does, naming the world."""
        p = self.params
        checks: list[tuple[str, float, float]] = [
            ("player_speed", 0, 1000),
            ("enemy_speed", 0, 1000),
            ("enemy_speed_scale", 0, 1000),
            ("missile_speed", 0, 1000),
            ("arena_width", 100, 1e6),
            ("arena_height", 100, 1e6),
            ("fire_probability", 0, 1),
            ("max_missiles", 0, MAX_MISSILE_SLOTS),
            ("player_bot", 0, len(bots("player")) - 1),
            ("enemy_bot", -1, len(bots("enemy")) - 1),
            ("guidance", 0, len(bots("missile")) - 1),
        ]
        for key, low, high in checks:
            bad = ~((p[key] >= low) & (p[key] <= high))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ConfigError(f"params[{key!r}][{i}] is {p[key][i]}; allowed range is [{low}, {high}]")

    def _load_params(self, i: int) -> None:
        p = self._worlds[i].params
        for key in _FLOAT_PARAMS:
            setattr(p, key, float(self.params[key][i]))
        p.max_missiles = int(self.params["max_missiles"][i])
        for key, role in _BOT_PARAMS.items():
            code = int(self.params[key][i])
            setattr(p, key, bots(role)[code] if code >= 0 else None)

    # --- reset and step ---------------------------------------------------------------------

    def reset(self, seed: int | None = None, mask: NDArray[np.bool_] | None = None) -> Obs:
        """Start new episodes in all worlds, or in the masked ones.

        Args:
            seed: Reseed each reset world from ``(seed, world index)``; None draws on.
            mask: Boolean (N,) selecting the worlds to reset; None resets all.

        Returns:
            The observations of the agent roles.
        """
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != (self.num_worlds,) or mask.dtype != np.bool_:
                raise ShapeError(
                    f"mask must be a bool array of shape ({self.num_worlds},), got {mask.dtype} {mask.shape}"
                )
        self._check_params()
        for i, w in enumerate(self._worlds):
            if mask is not None and not mask[i]:
                continue
            self._load_params(i)
            w.reset(seed)
            self.frame[i] = 0
        self._write_observations()
        return self._agent_obs()

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
        acts = self._check_actions(actions)
        self._check_params()
        n = self.num_worlds
        self.events[:] = 0
        self.terminated[:] = False
        self.truncated[:] = False
        self.success[:] = False
        for r in roles():
            self._rewards[r][:] = 0.0
            self._success_of[r][:] = False
        for i, w in enumerate(self._worlds):
            self._load_params(i)
            pa = acts.get("player")
            ea = acts.get("enemy")
            ma = acts.get("missile")
            out = w.step(
                player_action=(float(pa[i, 0]), float(pa[i, 1]), float(pa[i, 2])) if pa is not None else None,
                enemy_action=(float(ea[i, 0]), float(ea[i, 1])) if ea is not None else None,
                missile_action=float(ma[i, 0]) if ma is not None else None,
                auto_reset=self.auto_reset,
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
            if out.terminated or out.truncated:
                self.episode_frames[i] = out.episode_frames
                for role, total in out.episode_return.items():
                    self._returns[role][i] = total
                for role, last in out.final_observations.items():
                    self._final[role][i] = last
            self.frame[i] = w.state.frame
        del n
        self._write_observations()
        rewards: Any
        rewards = self._rewards[self.agents[0]] if len(self.agents) == 1 else {r: self._rewards[r] for r in self.agents}
        return StepResult(self._agent_obs(), rewards, self.terminated, self.truncated, self.events)

    def _check_actions(
        self, actions: NDArray[np.float32] | Mapping[str, NDArray[np.float32]] | None
    ) -> dict[str, NDArray[np.float64]]:
        if not self.agents:
            if actions is not None:
                raise ShapeError("this batch has no agent role; step() takes actions=None")
            return {}
        if actions is None:
            raise ShapeError(f"this batch has agent roles {self.agents}; step() needs their actions")
        if not isinstance(actions, Mapping):
            if len(self.agents) != 1:
                raise ShapeError(f"this batch has agents {self.agents}; pass a dict role -> actions")
            actions = {self.agents[0]: actions}
        out: dict[str, NDArray[np.float64]] = {}
        for role in self.agents:
            if role not in actions:
                raise ShapeError(f"missing actions for agent role {role!r}")
            a = actions[role]
            size = role_layout(role).act_size
            if not isinstance(a, np.ndarray) or a.dtype != np.float32 or a.shape != (self.num_worlds, size):
                got = f"{a.dtype} {a.shape}" if isinstance(a, np.ndarray) else type(a).__name__
                raise ShapeError(
                    f"actions for {role!r} must be float32 of shape ({self.num_worlds}, {size}), got {got}"
                )
            bad = ~np.isfinite(a)
            if bad.any():
                i, j = np.argwhere(bad)[0]
                field = role_layout(role).action[j].name
                raise ActionError(f"action {role}.{field} of world {i} is {a[i, j]}; actions must be finite")
            out[role] = a.astype(np.float64)
        return out

    # --- outputs ----------------------------------------------------------------------------

    def _write_observations(self) -> None:
        for i, w in enumerate(self._worlds):
            for role in roles():
                self._obs[role][i] = w.observe(role)

    def _agent_obs(self) -> Obs:
        if len(self.agents) == 1:
            return self._obs[self.agents[0]]
        return {r: self._obs[r] for r in self.agents}

    def observations(self, role: str) -> NDArray[np.float32]:
        """The current observations of a role, (N, obs_size) float32."""
        role_layout(role)
        return self._obs[role]

    def final_observations(self, role: str) -> NDArray[np.float32]:
        """The last observations of the episodes that ended in the last step."""
        role_layout(role)
        return self._final[role]

    def rewards(self, role: str) -> NDArray[np.float32]:
        """The rewards of a role in the last step."""
        role_layout(role)
        return self._rewards[role]

    def success_of(self, role: str) -> NDArray[np.bool_]:
        """Whether each world's finished episode was a success for a role."""
        role_layout(role)
        return self._success_of[role]

    def episode_return(self, role: str) -> NDArray[np.float32]:
        """The return of a role over each episode that ended in the last step."""
        role_layout(role)
        return self._returns[role]

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
            out["rng"][i] = w.rng.state
        for a in out.values():
            a.flags.writeable = False
        return out
