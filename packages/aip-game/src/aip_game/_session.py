"""One game: the engine's world plus the playable game's own rules (score, lives, levels, game over).

The engine is the only source of the rules of motion, firing, collisions and respawns; this module
turns its events into score, lives and difficulty (SPEC.md §3) and publishes them to mods.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

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

__all__ = [
    "FPS",
    "FRAMES_PER_LEVEL",
    "INVULNERABILITY_FRAMES",
    "LIVES",
    "MAX_LEVEL",
    "POINTS_PER_CATCH",
    "POINTS_PER_HIT",
    "GameSession",
    "Timings",
]

#: Frames per second of the game (the rules count frames).
FPS = 60
#: Lives at the start.
LIVES = 3
#: Points per missile hit (playing the player) and per catch (playing the enemy).
POINTS_PER_HIT = 100
POINTS_PER_CATCH = 100
#: Frames of invulnerability after a catch (the engine's ``catch_invulnerability``).
INVULNERABILITY_FRAMES = 120
#: Frames between two difficulty levels (60 s), the speed step per level, and the last level.
FRAMES_PER_LEVEL = 60 * FPS
LEVEL_STEP = 0.10
MAX_LEVEL = 6  # levels 1..6: scale 1.0 .. 1.5

_EVENT_INDEX = {name: i for i, name in enumerate(ae.EVENTS)}


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
        recorder: Receives every frame of the human's role when recording.
        config: Extra engine ``Config`` changes (applied after the game's own).
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
    ) -> None:
        if side not in ("player", "enemy", "watch"):
            raise ValueError(f"side must be 'player', 'enemy' or 'watch', got {side!r}")
        self.side = side
        self.human_role: str | None = side if side != "watch" else None
        self.opponent_obj = opponent
        self.opponent = opponent.label
        self.partner = partner
        self.seed = seed
        self.host = host
        self.recorder = recorder
        self.frame = 0
        self.score = 0
        self.lives = LIVES
        self.level = 1
        self.over = False
        self.end_reason = ""
        self.timings = Timings()
        self.score_log: list[tuple[int, int, str]] = []
        self.controllers = self._controllers()
        self.config = self._config(config or {})
        for who in (opponent, partner):
            if who is not None:
                who.prepare()
        self.worlds = worlds_class()(
            "play-v1", 1, seed=seed, config=self.config, controllers=self.controllers, threads=1
        )
        self.agents = tuple(role for role in ("player", "enemy") if self.controllers[role] == "agent")
        self.worlds.reset(seed)
        self._params = self.worlds.params
        # parameter changes since the last step, in order: (name, value before, the mod that made it)
        self._param_changes: list[tuple[str, Any, LoadedMod | None]] = []
        self._base_fire_probability = float(self._params["fire_probability"][0])
        self._actions = {role: np.zeros((1, ae.role_layout(role).act_size), dtype=np.float32) for role in self.agents}
        self.human_action = np.zeros(
            ae.role_layout(self.human_role).act_size if self.human_role else 0, dtype=np.float32
        )
        self.frame_events = np.zeros(len(ae.EVENTS), dtype=np.uint8)
        self.opponent_observation: npt.NDArray[np.float32] | None = None
        self._apply_mod_params()
        for who in (opponent, partner):
            if who is not None:
                who.reset(seed)
        if host is not None:
            host.set_game(self)
        self._publish(GameStartEvent(0, side, opponent.label, seed))

    # ------------------------------------------------------------------ setup

    def _controllers(self) -> dict[str, str]:
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
        config = ae.task_spec("play-v1").config.replace(catch_invulnerability=INVULNERABILITY_FRAMES)
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
                record_obs = self.worlds.observations(self.human_role)[0].copy()
        for who in (self.opponent_obj, self.partner):
            if who is None:
                continue
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
        t2 = time.perf_counter()
        self.frame += 1
        self.frame_events[:] = self.worlds.events[0]
        if self.recorder is not None and self.human_role is not None and record_obs is not None:
            reward = float(self.worlds.rewards(self.human_role)[0])
            self.recorder.add(self.frame - 1, record_obs, self.human_action, reward, self.frame_events)
        self._rules()
        self.timings = Timings(opponent=t1 - t0, engine=t2 - t1, events=time.perf_counter() - t2)

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
                self.add_score(POINTS_PER_HIT, "hit")
            self._publish(HitEvent(self.frame, enemy))
        if ev[_EVENT_INDEX["catch"]]:
            if human_is_enemy:
                self.add_score(POINTS_PER_CATCH, "catch")
            else:
                self._lose_life()
            self._publish(CatchEvent(self.frame, player))
        if ev[_EVENT_INDEX["respawn"]]:
            self._publish(RespawnEvent(self.frame, enemy))
        if self.frame % FPS == 0:
            self.add_score(1, "survived a second")
        level = min(MAX_LEVEL, 1 + self.frame // FRAMES_PER_LEVEL)
        if level != self.level:
            self.level = level
            scale = 1.0 + LEVEL_STEP * (level - 1)
            if human_is_enemy:
                # Hunting, a faster enemy would help the human: the player bot fires more often instead.
                self.set_param("fire_probability", min(1.0, self._base_fire_probability * scale))
            else:
                self.set_param("enemy_speed_scale", scale)
            self._publish(LevelUpEvent(self.frame, level, scale))
        self._publish(FrameEvent(self.frame, self.score, self.lives, self.level))
        if self.lives <= 0 and not self.over:
            self.end("game over")

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
            self.recorder.close()
        self._publish(GameEndEvent(self.frame, self.score, reason))
        if self.host is not None:
            self.host.set_game(None)

    def _publish(self, event: GameEvent) -> None:
        if self.host is not None:
            self.host.publish(event)

    @property
    def difficulty_scale(self) -> float:
        """The current level's scale (1.0 at level 1, +0.1 per level): enemy speed, or the prey's fire rate."""
        return 1.0 + LEVEL_STEP * (self.level - 1)

    @property
    def enemy_speed_scale(self) -> float:
        """The enemy's current speed scale."""
        return self.param("enemy_speed_scale")
