"""One world playing one task: reset, the frame, rewards and episode ends (docs/rules.md, "Tasks").

`World` is the readable heart of the reference: ``reset`` is the task's common reset
followed by the bots' and the task's own draws; ``step`` is one frame (``_frame.py``)
followed by step 6, the task's rewards, terminations and truncations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from aip_engine._config import Config
from aip_engine._tasks import AGENT, RANDOM, TaskSpec

from ._bots import TARGET_MOTIONS, reset_enemy_bot, reset_player_bot
from ._frame import Events, FrameInput, fire_missile, place_enemy, run_frame
from ._geometry import Arena
from ._observe import observe
from ._rng import Rng
from ._state import Params, WorldState

__all__ = ["Outcome", "World"]

# Which event ends an episode, per task: (success events by role, failure events by role).
_SUCCESS: Mapping[str, Mapping[str, str]] = {
    "chase-v1": {"enemy": "catch"},
    "chase-flee-v1": {"enemy": "catch"},
    "dodge-v1": {"enemy": "catch"},
    "intercept-v1": {"missile": "hit"},
    "duel-v1": {"player": "hit", "enemy": "catch"},
    "play-v1": {"player": "hit", "enemy": "catch"},
}
_FAILURE: Mapping[str, Mapping[str, str]] = {
    "chase-v1": {},
    "chase-flee-v1": {},
    "dodge-v1": {"enemy": "hit"},
    "intercept-v1": {"missile": "expire"},
    "duel-v1": {"player": "catch", "enemy": "hit"},
    "play-v1": {"player": "catch", "enemy": "hit"},
}
_ENDS: Mapping[str, tuple[str, ...]] = {
    "chase-v1": ("catch",),
    "chase-flee-v1": ("catch",),
    "dodge-v1": ("catch", "hit"),
    "intercept-v1": ("hit", "expire"),
    "duel-v1": ("catch", "hit"),
    "play-v1": (),
}


@dataclass
class Outcome:
    """What one step of one world produced."""

    events: Events
    rewards: dict[str, float] = field(default_factory=dict)
    terminated: bool = False
    truncated: bool = False
    success: dict[str, bool] = field(default_factory=dict)
    episode_frames: int = 0
    episode_return: dict[str, float] = field(default_factory=dict)
    final_observations: dict[str, list[float]] = field(default_factory=dict)


class World:
    """One world of a task, stepped one frame at a time.

    Args:
        spec: The task.
        config: The rule numbers (shared by the batch).
        controllers: Role -> ``"agent"``, a bot name or ``"random"``.
        index: The world's index in the batch (it seeds the generator).
    """

    def __init__(self, spec: TaskSpec, config: Config, controllers: Mapping[str, str], index: int) -> None:
        self.spec = spec
        self.config = config
        self.controllers = dict(controllers)
        self.index = index
        self.rng = Rng(0, index)
        self.state = WorldState()
        self.params = Params(
            player_speed=config.player_speed,
            enemy_speed=config.enemy_speed,
            enemy_speed_scale=1.0,
            missile_speed=config.missile_speed,
            arena_width=config.arena_width,
            arena_height=config.arena_height,
            fire_probability=config.fire_probability,
            max_missiles=config.max_missiles,
            player_bot=_bot_or_none(self.controllers["player"]),
            enemy_bot=_bot_or_none(self.controllers["enemy"]),
            guidance=_bot_or_none(self.controllers["missile"]),
        )
        self.arena = self._arena()
        limit = config.time_limit if config.time_limit is not None else spec.time_limit
        self.time_limit = limit
        self.reward_roles = spec.agents
        self.episode_return = {role: 0.0 for role in self.reward_roles}

    # --- reset ------------------------------------------------------------------------------

    def _arena(self) -> Arena:
        return Arena(self.params.arena_width, self.params.arena_height, self.config.boundary == "wrap")

    def reset(self, seed: int | None = None) -> None:
        """Start a new episode; reseed from ``(seed, index)`` first when a seed is given.

        Args:
            seed: The batch seed, or None to draw on from the generator.
        """
        if seed is not None:
            self.rng.seed(seed, self.index)
        cfg = self.config
        rng = self.rng
        self.arena = arena = self._arena()
        s = self.state = WorldState()
        m = cfg.respawn_margin
        s.player_x = rng.uniform(m, arena.width - m)
        s.player_y = rng.uniform(m, arena.height - m)
        place_enemy(s, rng, cfg, arena)
        s.enemy_active = True
        s.enemy_fade = 60
        if self.controllers["player"] != AGENT:
            reset_player_bot(self._player_bot(), s, rng, cfg)
        enemy_bot = self._enemy_bot_param()
        if self.controllers["enemy"] != AGENT and enemy_bot is not None:
            s.enemy_bot = enemy_bot
            reset_enemy_bot(enemy_bot, s, rng, cfg, self.params)
        if self.spec.name == "intercept-v1":
            if self.controllers["enemy"] != AGENT and enemy_bot is None:
                s.enemy_bot = TARGET_MOTIONS[rng.randint(0, 3)]
                reset_enemy_bot(s.enemy_bot, s, rng, cfg, self.params)
            fire_missile(s, rng, cfg, self.params, arena)
        self.episode_return = {role: 0.0 for role in self.reward_roles}

    def _player_bot(self) -> str:
        return self.params.player_bot or "idle"

    def _enemy_bot_param(self) -> str | None:
        return self.params.enemy_bot

    # --- step -------------------------------------------------------------------------------

    def observe(self, role: str) -> list[float]:
        """The current observation of a role."""
        return observe(role, self.state, self.config, self.params, self.arena)

    def _target_distance(self, role: str) -> float | None:
        """The shortest distance from a role's entity to its target, None when either is missing."""
        s = self.state
        if not s.enemy_active:
            return None
        if role == "missile":
            m = s.missiles[0]
            if not m.alive:
                return None
            return self.arena.distance(m.x, m.y, s.enemy_x, s.enemy_y)
        return self.arena.distance(s.player_x, s.player_y, s.enemy_x, s.enemy_y)

    def _base_speed(self, role: str) -> float:
        p = self.params
        return {"player": p.player_speed, "enemy": p.enemy_speed, "missile": p.missile_speed}[role]

    def step(
        self,
        player_action: tuple[float, float, float] | None = None,
        enemy_action: tuple[float, float] | None = None,
        missile_action: float | None = None,
        auto_reset: bool = True,
    ) -> Outcome:
        """Run one frame and the task's step 6.

        Args:
            player_action: ``(move_x, move_y, fire)`` when the player is an agent.
            enemy_action: ``(move_x, move_y)`` when the enemy is an agent.
            missile_action: The turn of missile slot 0 when the missile is an agent.
            auto_reset: Reset the world in this step when its episode ends.

        Returns:
            The step's outcome.
        """
        cfg = self.config
        s = self.state
        self.arena = self._arena()
        before = {role: self._target_distance(role) for role in self.reward_roles}
        enemy_bot = s.enemy_bot if s.enemy_bot is not None else (self.params.enemy_bot or "chase")
        inp = FrameInput(
            player_bot=self._player_bot(),
            enemy_bot=enemy_bot,
            guidance=self.params.guidance or "straight",
            player_action=player_action if self.controllers["player"] == AGENT else None,
            enemy_action=enemy_action if self.controllers["enemy"] == AGENT else None,
            missile_action=missile_action if self.controllers["missile"] == AGENT else None,
        )
        ev = run_frame(s, self.rng, cfg, self.params, self.arena, inp)
        s.frame += 1
        counts = {"fire": ev.fire, "hit": ev.hit, "catch": ev.catch, "respawn": ev.respawn, "expire": ev.expire}
        out = Outcome(events=ev)
        task = self.spec.name
        for role in self.reward_roles:
            after = self._target_distance(role)
            d_before = before[role]
            r = 0.0
            if d_before is not None and after is not None:
                speed = self._base_speed(role)
                if speed != 0.0:
                    progress = d_before - after
                    if role == "player":
                        progress = after - d_before
                    r = cfg.shaping_scale * progress / speed
            if counts[_SUCCESS[task][role]] if role in _SUCCESS[task] else False:
                r += cfg.reward_success
            failure = _FAILURE[task].get(role)
            if failure is not None and counts[failure]:
                r += cfg.reward_failure
            out.rewards[role] = r
            self.episode_return[role] += float(_f32(r))
        out.success = {role: bool(counts[ev_name]) for role, ev_name in _SUCCESS[task].items()}
        out.terminated = any(counts[name] for name in _ENDS[task])
        out.truncated = not out.terminated and self.time_limit > 0 and s.frame >= self.time_limit
        if out.terminated or out.truncated:
            out.episode_frames = s.frame
            out.episode_return = dict(self.episode_return)
            if auto_reset:
                out.final_observations = {role: self.observe(role) for role in ("player", "enemy", "missile")}
                self.reset()
        return out


def _bot_or_none(controller: str) -> str | None:
    return None if controller in (AGENT, RANDOM) else controller


def _f32(x: float) -> float:
    """Round a float to the nearest float32, as the batch's output arrays do."""
    import struct

    return float(struct.unpack("f", struct.pack("f", x))[0])


_ = math
