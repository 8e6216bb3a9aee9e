"""One game: the engine's world plus the playable game's own rules (score, lives, levels, game over).

The engine is the only source of the rules of motion, firing, collisions and respawns; this module
turns its events into score, lives and difficulty (SPEC.md §3, with the numbers of `balance.toml`)
and publishes them to mods. It also keeps what a recording needs to replay the game exactly: every
change of the engine's per-world parameters, with the frame it first applied to.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ._balance import Balance, default_balance
from ._engine import ae, worlds_class
from ._modhost import LoadedMod, ModHost
from ._opponents import Opponent
from .mods import (
    CatchEvent,
    FireEvent,
    FrameEvent,
    GameEndEvent,
    GameEvent,
    GameStartEvent,
    HitEvent,
    LevelUpEvent,
    LifeLostEvent,
    RespawnEvent,
)
from .recording import RecordingWriter

__all__ = ["FPS", "GameSession", "Timings", "state_check", "state_check_fields"]

#: Frames per second of the game (the rules count frames).
FPS = 60

_EVENT_INDEX = {name: i for i, name in enumerate(ae.EVENTS)}
_STATE_FIELDS: tuple[str, ...] | None = None


def state_check(state: Mapping[str, npt.NDArray[Any]], fields: Sequence[str]) -> int:
    """CRC-32 of world 0's state arrays `fields`, in that order: equal checks mean equal states.

    Args:
        state: A `Worlds.state()` mapping (arrays with the world axis first).
        fields: The names to include (a recording keeps the list it used).

    Raises:
        KeyError: The engine has no array of one of the names.
    """
    crc = 0
    for name in fields:
        world: npt.NDArray[Any] = np.ascontiguousarray(state[name][0])  # a view when already contiguous
        crc = zlib.crc32(world.data, crc)
    return crc


def state_check_fields() -> tuple[str, ...]:
    """The state arrays a new recording's per-frame check covers: all of the engine's, sorted by name."""
    global _STATE_FIELDS
    if _STATE_FIELDS is None:
        probe = worlds_class()("play-v1", 1, seed=0, threads=1)
        _STATE_FIELDS = tuple(sorted(probe.state()))
    return _STATE_FIELDS


@dataclass
class Timings:
    """Seconds spent in the last frame's parts (the benchmark and the FPS readout use them)."""

    opponent: float = 0.0
    engine: float = 0.0
    events: float = 0.0


class GameSession:
    """A game in progress (it is the `GameView` mods receive).

    Args:
        side: The human's role, ``"player"`` or ``"enemy"``, or ``"watch"`` (no human).
        opponent: Controls the role the human does not play (the enemy in ``"watch"``).
        seed: The engine seed.
        partner: In ``"watch"``, the player's controller.
        host: The mods (events, rule changes, overlays).
        recorder: Receives every frame of the human's role when recording (it may also be attached
            later, before the first step).
        config: Extra engine ``Config`` changes (applied after the game's own).
        balance: The game's numbers (default: the packaged `balance.toml`).
        base_config: The engine config to use as it is, instead of the balance's and the mods'
            (a replay passes the recorded one).
        apply_levels: Set each level's engine parameters when it begins (a replay applies the recorded
            parameter changes instead).
        missiles: What steers the player's missiles: a missile-role bot (``homing``) or a learned
            missile policy (intercept-v1), which steers missile slot 0 (the engine's missile role;
            the other slots fly straight). None: they fly straight.
    """

    def __init__(
        self,
        side: str,
        opponent: Opponent,
        *,
        seed: int = 0,
        partner: Opponent | None = None,
        host: ModHost | None = None,
        recorder: RecordingWriter | None = None,
        config: Mapping[str, Any] | None = None,
        balance: Balance | None = None,
        base_config: Any = None,
        apply_levels: bool = True,
        missiles: Opponent | None = None,
    ) -> None:
        if side not in ("player", "enemy", "watch"):
            raise ValueError(f"side must be 'player', 'enemy' or 'watch', got {side!r}")
        self.side = side
        self.human_role: str | None = side if side != "watch" else None
        self.opponent_obj = opponent
        self.opponent = opponent.label
        self.partner = partner
        self.missiles = missiles
        self.seed = seed
        self.host = host
        self.recorder = recorder
        self.balance = balance if balance is not None else default_balance()
        self.apply_levels = apply_levels
        self.frame = 0
        self.score = 0
        self.lives = self.balance.lives
        self.level = 1
        self.over = False
        self.end_reason = ""
        self.timings = Timings()
        self.score_log: list[tuple[int, int, str]] = []
        #: Every change of a per-world engine parameter: (the step it first applied to, name, value).
        self.param_log: list[tuple[int, str, float]] = []
        self.controllers = self._controllers()
        self.config = base_config if base_config is not None else self._config(config or {})
        for who in self.controlled:
            who.prepare()
        self.worlds = worlds_class()(
            "play-v1", 1, seed=seed, config=self.config, controllers=self.controllers, threads=1
        )
        self.agents = tuple(role for role in ae.roles() if self.controllers.get(role) == "agent")
        self.worlds.reset(seed)
        self._params = self.worlds.params
        self._used_params = self._param_values()
        # parameter changes since the last step, in order: (name, value before, the mod that made it)
        self._param_changes: list[tuple[str, Any, LoadedMod | None]] = []
        self._base_fire_probability = float(self._params["fire_probability"][0])
        self._actions = {role: np.zeros((1, ae.role_layout(role).act_size), dtype=np.float32) for role in self.agents}
        self.human_action = np.zeros(
            ae.role_layout(self.human_role).act_size if self.human_role else 0, dtype=np.float32
        )
        self.frame_events = np.zeros(len(ae.EVENTS), dtype=np.uint8)
        self.opponent_observation: npt.NDArray[np.float32] | None = None
        if self.apply_levels:
            self._set_level_params(1)
        self._apply_mod_params()
        for who in self.controlled:
            who.reset(seed)
        if host is not None:
            host.set_game(self)
        self._publish(GameStartEvent(0, side, opponent.label, seed))

    # ------------------------------------------------------------------ setup

    @property
    def controlled(self) -> tuple[Opponent, ...]:
        """Everything the game controls: the opponent, the partner in Watch, the missiles' guidance."""
        return tuple(who for who in (self.opponent_obj, self.partner, self.missiles) if who is not None)

    def _controllers(self) -> dict[str, str]:
        controllers = self._sides()
        if self.missiles is not None:
            self._check_role(self.missiles, "missile")
            controllers["missile"] = self.missiles.controller
        return controllers

    def _sides(self) -> dict[str, str]:
        opp = self.opponent_obj
        if self.side == "player":
            self._check_role(opp, "enemy")
            return {"player": "agent", "enemy": opp.controller}
        if self.side == "enemy":
            self._check_role(opp, "player")
            return {"player": opp.controller, "enemy": "agent"}
        if self.partner is None:
            raise ValueError("watch needs a player controller (partner) as well as the enemy opponent")
        self._check_role(opp, "enemy")
        self._check_role(self.partner, "player")
        return {"player": self.partner.controller, "enemy": opp.controller}

    @staticmethod
    def _check_role(who: Opponent, role: str) -> None:
        if who.role != role:
            raise ValueError(f"{who.label!r} controls the {who.role}; the {role} is needed here")

    def _config(self, extra: Mapping[str, Any]) -> Any:
        config = self.balance.engine_config()
        if self.host is not None:
            for record in list(self.host.active()):
                assert record.ctx is not None
                changes = record.ctx.config_changes
                if changes:
                    changed = self.host.call(record, "its config changes", config.replace, **changes)
                    config = changed if changed is not None else config
        return config.replace(**extra) if extra else config

    def _apply_mod_params(self) -> None:
        if self.host is None:
            return
        for record, changes in self.host.param_changes():
            for name, value in changes.items():
                self.host.call(record, f"setting param {name!r}", self.set_param, name, value)

    # ------------------------------------------------------------------ GameView

    def state(self) -> dict[str, npt.NDArray[Any]]:
        """The engine's state of the one world, without the world axis (read-only views)."""
        return {name: value[0] for name, value in self.worlds.state().items()}

    def param(self, name: str) -> float:
        """Read a per-world engine parameter."""
        return float(self._params[name][0])

    def set_param(self, name: str, value: float) -> None:
        """Change a per-world engine parameter from the next frame on.

        Raises:
            KeyError: The engine has no such parameter (the message lists them).
        """
        if name not in self._params:
            raise KeyError(f"unknown engine parameter {name!r}; known: {', '.join(sorted(self._params))}")
        blame = self.host.current if self.host is not None else None
        self._param_changes.append((name, self._params[name][0].copy(), blame))
        self._params[name][0] = value

    def add_score(self, points: int, reason: str = "") -> None:
        """Add points (negative to remove); the score never drops below 0."""
        self.score = max(0, self.score + int(points))
        self.score_log.append((self.frame, int(points), reason))

    def to_screen(self, x: float, y: float) -> tuple[int, int]:
        """Map arena coordinates to logical screen pixels (1280 × 720)."""
        return int(x * 1280.0 / self.config.arena_width), int(y * 720.0 / self.config.arena_height)

    # ------------------------------------------------------------------ the frame

    def set_human_action(self, action: npt.ArrayLike) -> None:
        """Set the human's action for the next frame (in the human role's action layout)."""
        self.human_action[:] = np.asarray(action, dtype=np.float32).reshape(-1)

    def step(self, *, observe_opponent: bool = False) -> None:
        """Play one frame: the opponent's decision, one engine step, then score, lives and events.

        Args:
            observe_opponent: Also keep the opponent's observation for the debug overlay when the
                engine runs it (a bot).
        """
        if self.over:
            return
        t0 = time.perf_counter()
        record_obs = None
        if self.human_role is not None:
            self._actions[self.human_role][0] = self.human_action
        if self.recorder is not None:
            record_obs = self.worlds.observations(self.record_role)[0].copy()
        for who in self.controlled:
            if who.controller == "agent":
                obs = self.worlds.observations(who.role)[0]
                self._actions[who.role][0] = who.act(obs, self)
                if who is self.opponent_obj:
                    self.opponent_observation = obs.copy()
            elif who is self.opponent_obj and observe_opponent:
                self.opponent_observation = self.worlds.observations(who.role)[0].copy()
        t1 = time.perf_counter()
        try:
            self._engine_step()
        except ae.ConfigError as exc:
            self._step_without_bad_mod_params(exc)
        self._param_changes.clear()
        self._log_params()
        t2 = time.perf_counter()
        self.frame += 1
        self.frame_events[:] = self.worlds.events[0]
        self._rules()
        if self.recorder is not None and record_obs is not None:
            self._record(record_obs)
        if self.lives <= 0 and not self.over:
            self.end("game over")
        self.timings = Timings(opponent=t1 - t0, engine=t2 - t1, events=time.perf_counter() - t2)

    @property
    def record_role(self) -> str:
        """The role whose observations a recording keeps: the human's, the player's in Watch."""
        return self.human_role or "player"

    def _param_values(self) -> dict[str, float]:
        return {name: float(values[0]) for name, values in self._params.items()}

    def _log_params(self) -> None:
        """Log the parameters that differ from those of the previous step (the step just taken used them)."""
        now = self._param_values()
        changes = [(name, value) for name, value in now.items() if value != self._used_params.get(name)]
        if not changes:
            return
        self._used_params = now
        for name, value in changes:
            self.param_log.append((self.frame, name, value))
        if self.recorder is not None:
            self.recorder.add_params(self.frame, changes)

    def _record(self, observation: npt.NDArray[np.float32]) -> None:
        assert self.recorder is not None
        role = self.record_role
        inputs = [self._actions[r][0] for r in self.agents]
        self.recorder.add(
            self.frame - 1,
            observation,
            self._actions[role][0] if role in self._actions else np.zeros(ae.role_layout(role).act_size),
            float(self.worlds.rewards(role)[0]) if role in self.agents else 0.0,
            self.frame_events,
            inputs=np.concatenate(inputs) if inputs else None,
            score=self.score,
            lives=self.lives,
            check=state_check(self.worlds.state(), self.recorder.check_fields) if self.recorder.check_fields else 0,
        )

    def recording_header(self) -> dict[str, Any]:
        """What a recording of this game must hold to replay it exactly (`aip_game.recording`'s header)."""
        role = self.record_role
        lay = ae.role_layout(role)
        return {
            "role": role,
            "side": self.side,
            "layout": lay.name,
            "layout_version": lay.version,
            "observation_fields": [f.name for f in lay.observation],
            "action_fields": [f.name for f in lay.action],
            "events": list(ae.EVENTS),
            "task": "play-v1",
            "seed": self.seed,
            "config": self.config.to_dict(),
            "controllers": dict(self.controllers),
            "inputs": [[r, ae.role_layout(r).act_size] for r in self.agents],
            "opponent": self.opponent_obj.describe(),
            "partner": self.partner.describe() if self.partner is not None else None,
            "missiles": self.missiles.describe() if self.missiles is not None else None,
            "balance": self.balance.to_dict(),
            "check_fields": list(state_check_fields()),
            "engine": {"version": ae.__version__, "api": ae.API_VERSION},
            "mods": [[m.name, m.version] for m in self.host.active()] if self.host is not None else [],
        }

    def _engine_step(self) -> None:
        if len(self.agents) == 1:
            self.worlds.step(self._actions[self.agents[0]])
        elif self.agents:
            self.worlds.step(self._actions)
        else:
            self.worlds.step(None)

    def _step_without_bad_mod_params(self, exc: Exception) -> None:
        """The engine refused a parameter: undo mods' changes, latest first, disabling each, until it steps."""
        for name, before, mod in reversed(self._param_changes):
            if mod is None or self.host is None:
                continue
            self._params[name][0] = before
            self.host.disable(mod, f"set the engine parameter {name!r} to a value the engine refused", exc)
            try:
                self._engine_step()
                return
            except ae.ConfigError as again:
                exc = again
        raise exc

    def _rules(self) -> None:
        ev = self.frame_events
        st = self.worlds.state()
        player = (float(st["player_pos"][0, 0]), float(st["player_pos"][0, 1]))
        enemy = (float(st["enemy_pos"][0, 0]), float(st["enemy_pos"][0, 1]))
        human_is_enemy = self.side == "enemy"
        if ev[_EVENT_INDEX["fire"]]:
            self._publish(FireEvent(self.frame, player))
        for _ in range(int(ev[_EVENT_INDEX["hit"]])):
            if human_is_enemy:
                self._lose_life()
            else:
                self.add_score(self.balance.points_per_hit, "hit")
            self._publish(HitEvent(self.frame, enemy))
        if ev[_EVENT_INDEX["catch"]]:
            if human_is_enemy:
                self.add_score(self.balance.points_per_catch, "catch")
            else:
                self._lose_life()
            self._publish(CatchEvent(self.frame, player))
        if ev[_EVENT_INDEX["respawn"]]:
            self._publish(RespawnEvent(self.frame, enemy))
        if self.frame % FPS == 0 and self.balance.points_per_second:
            self.add_score(self.balance.points_per_second, "survived a second")
        level = self.balance.level_at(self.frame)
        if level != self.level:
            self.level = level
            if self.apply_levels:
                self._set_level_params(level)
            self._publish(LevelUpEvent(self.frame, level, self.difficulty_scale))
        self._publish(FrameEvent(self.frame, self.score, self.lives, self.level))

    def _set_level_params(self, level: int) -> None:
        for name, value in self.balance.level_params(self.side, level).items():
            self.set_param(name, value)

    def _lose_life(self) -> None:
        self.lives = max(0, self.lives - 1)
        self._publish(LifeLostEvent(self.frame, self.lives))

    def end(self, reason: str) -> None:
        """End the game (``"game over"`` or ``"quit"``); publishes `GameEndEvent` once and closes the recording."""
        if self.end_reason:
            return
        self.over = True
        self.end_reason = reason
        if self.recorder is not None:
            self.recorder.close(self.outcome())
        self._publish(GameEndEvent(self.frame, self.score, reason))
        if self.host is not None:
            self.host.set_game(None)

    def _publish(self, event: GameEvent) -> None:
        if self.host is not None:
            self.host.publish(event)

    def outcome(self) -> dict[str, Any]:
        """How the game ended so far: reason, score, lives, level and frames (a recording keeps it)."""
        return {
            "reason": self.end_reason or "playing",
            "score": self.score,
            "lives": self.lives,
            "level": self.level,
            "frames": self.frame,
        }

    @property
    def difficulty_scale(self) -> float:
        """How much harder the current level is than level 1.

        The enemy's speed scale; hunting, the player bot's fire probability relative to level 1's.
        """
        if self.side == "enemy":
            first = self.balance.level_params("enemy", 1).get("fire_probability", self._base_fire_probability)
            return self.param("fire_probability") / first if first > 0 else 1.0
        return self.param("enemy_speed_scale")

    @property
    def enemy_speed_scale(self) -> float:
        """The enemy's current speed scale."""
        return self.param("enemy_speed_scale")
