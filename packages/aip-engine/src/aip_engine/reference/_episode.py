"""One world playing one task: reset, the frame, rewards and episode ends (docs/rules.md, "Tasks").

`World` is the readable heart of the reference: ``reset`` is the task's common reset
followed by the bots' and the task's own draws; ``step`` is one frame (``_frame.py``)
followed by step 6, the task's rewards, terminations and truncations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from aip_engine._batch_args import episode_time_limit
from aip_engine._config import Config
from aip_engine._tasks import AGENT, RANDOM, TaskSpec, bots, task_spec

from ._bots import TARGET_MOTIONS, reset_enemy_bot, reset_player_bot
from ._frame import Events, FrameInput, fire_missile, place_enemy, run_frame
from ._geometry import Arena
from ._observe import observe
from ._rng import Rng
from ._state import Params, WorldState

__all__ = ["Outcome", "World", "success_role"]

_FRAME_MAX = 2**31 - 1
"""The frame counter is an int32 that stops at its largest value."""
MIN_SHAPING_SPEED = 1e-3
"""Shaping divides by the mover's base speed, never by less than this (px/frame): rewards stay finite."""


def _role_success(role: str, ev: Events) -> bool:
    """A role's success event: the enemy catches, the player hits, missile slot 0 hits."""
    if role == "enemy":
        return ev.catch > 0
    if role == "player":
        return ev.hit > 0
    return ev.slot0_hit


def _role_failure(role: str, ev: Events) -> bool:
    """A role's failure event: the enemy is hit, the player caught, missile slot 0 expires."""
    if role == "enemy":
        return ev.hit > 0
    if role == "player":
        return ev.catch > 0
    return ev.slot0_expired


def _terminated(task: str, ev: Events) -> bool:
    """Whether the task ends the episode on this frame's events."""
    if task in ("chase-v1", "chase-flee-v1"):
        return ev.catch > 0
    if task in ("dodge-v1", "duel-v1"):
        return ev.catch > 0 or ev.hit > 0
    if task == "intercept-v1":
        return ev.hit > 0 or ev.slot0_expired
    return False


@dataclass
class Outcome:
    """What one step of one world produced."""

    events: Events
    rewards: dict[str, float] = field(default_factory=dict)
    terminated: bool = False
    truncated: bool = False
    success: dict[str, bool] = field(default_factory=dict)
    episode_frames: int = 0  # every world's, before any reset
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
        self.time_limit = episode_time_limit(spec, config)
        # Rewards go to the task's agent roles and to any role an override made an agent.
        self.reward_roles = tuple(
            r for r in ("player", "enemy", "missile") if r in spec.agents or self.controllers[r] == AGENT
        )
        self.episode_return = dict.fromkeys(self.reward_roles, 0.0)

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
        s.player_driver = self.params.player_driver
        s.enemy_driver = self.params.enemy_driver
        if self.bot_drives("player"):
            reset_player_bot(self._player_bot(), s, rng, cfg)
        if self.bot_drives("enemy"):
            # No enemy bot named ("random"): draw one of the target motions.
            enemy_bot = self._enemy_bot()
            if enemy_bot is None:
                enemy_bot = TARGET_MOTIONS[rng.randint(0, 3)]
            s.enemy_bot = enemy_bot
            reset_enemy_bot(enemy_bot, s, rng, cfg, self.params)
        if self.spec.name == "intercept-v1":
            fire_missile(s, rng, cfg, arena)
        self.episode_return = dict.fromkeys(self.reward_roles, 0.0)

    def bot_drives(self, role: str) -> bool:
        """Whether the role's bot drives it this episode: not an agent, or handed to its bot at reset."""
        if self.controllers[role] != AGENT:
            return True
        driver = {"player": self.state.player_driver, "enemy": self.state.enemy_driver}.get(role, 0)
        return driver >= 1

    def _player_bot(self) -> str:
        if self.controllers["player"] == AGENT and self.state.player_driver >= 1:
            return bots("player")[self.state.player_driver - 1]
        return self.params.player_bot or "idle"

    def _enemy_bot(self) -> str | None:
        if self.controllers["enemy"] == AGENT and self.state.enemy_driver >= 1:
            return bots("enemy")[self.state.enemy_driver - 1]
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
        return self.arena.distance(s.enemy_x, s.enemy_y, s.player_x, s.player_y)

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
        # The enemy bot parameter is read every frame; "random" plays the motion drawn at reset.
        enemy_bot = self._enemy_bot() or s.enemy_bot or "chase"
        inp = FrameInput(
            player_bot=self._player_bot(),
            enemy_bot=enemy_bot,
            guidance=self.params.guidance or "straight",
            player_action=None if self.bot_drives("player") else player_action,
            enemy_action=None if self.bot_drives("enemy") else enemy_action,
            missile_action=missile_action if self.controllers["missile"] == AGENT else None,
        )
        ev = run_frame(s, self.rng, cfg, self.params, self.arena, inp)
        s.frame = min(s.frame + 1, _FRAME_MAX)  # saturates (play-v1 never ends)
        out = Outcome(events=ev)
        for role in self.reward_roles:
            after = self._target_distance(role)
            d_before = before[role]
            r = 0.0
            speed = self._base_speed(role)
            if d_before is not None and after is not None and speed > 0.0:
                # The player (duel-v1, play-v1) is paid for increasing its distance from the enemy.
                progress = after - d_before if role == "player" else d_before - after
                r = cfg.shaping_scale * progress / max(speed, MIN_SHAPING_SPEED)
            if _role_success(role, ev):
                r += cfg.reward_success
            if _role_failure(role, ev):
                r += cfg.reward_failure
            out.rewards[role] = r
            self.episode_return[role] += r
        out.terminated = _terminated(self.spec.name, ev)
        out.truncated = not out.terminated and self.time_limit > 0 and s.frame >= self.time_limit
        done = out.terminated or out.truncated
        out.success = {role: done and _role_success(role, ev) for role in ("player", "enemy", "missile")}
        # Every world reports these, finished or not: for a world that goes on they are the
        # current frame count, running return and observation (docs/engine-api.md).
        out.episode_frames = s.frame
        out.episode_return = dict(self.episode_return)
        out.final_observations = {role: self.observe(role) for role in ("player", "enemy", "missile")}
        if done and auto_reset:
            self.reset()
        return out


def _bot_or_none(controller: str) -> str | None:
    return None if controller in (AGENT, RANDOM) else controller


def success_role(task: str) -> str | None:
    """The role whose success is a world's ``success``: the task's first agent (None for play-v1)."""
    spec = task_spec(task)
    return spec.agents[0] if spec.success != "none" and spec.agents else None
