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
from aip_engine._tasks import AGENT, EVENTS, RANDOM, TaskSpec, bots, task_spec

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


def _conditions(ev: Events, truncated: bool) -> frozenset[str]:
    """The conditions a frame ended with (names of ``aip_engine._task_decl.CONDITIONS``)."""
    out = {name for name, count in zip(EVENTS, ev.as_tuple(), strict=True) if count > 0}
    if ev.slot0_hit:
        out.add("slot0-hit")
    if ev.slot0_expired:
        out.add("slot0-expire")
    if truncated:
        out.add("time-limit")
    return frozenset(out)


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
        # The reward weights of the task's declaration, Config fields resolved (TaskSpec.reward_weights).
        self.weights = {role: spec.reward_weights(role, config) for role in self.reward_roles}

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
        if "launch-missile" in self.spec.at_reset:
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
        events = _conditions(ev, False)
        out.terminated = bool(events & set(self.spec.ends))
        out.truncated = not out.terminated and self.time_limit > 0 and s.frame >= self.time_limit
        done = out.terminated or out.truncated
        conditions = _conditions(ev, out.truncated)
        roles = self.spec.roles
        for role in self.reward_roles:
            rules = roles[role]
            w = self.weights[role]
            after = self._target_distance(role)
            d_before = before[role]
            r = 0.0
            speed = self._base_speed(role)
            if d_before is not None and after is not None and speed > 0.0:
                # "toward": paid for decreasing the distance; "away" (the player's): for increasing it.
                progress = after - d_before if rules.shaping == "away" else d_before - after
                r = w.get("shaping", 0.0) * progress / max(speed, MIN_SHAPING_SPEED)
            if conditions & set(rules.success):
                r += w.get("success", 0.0)
            if conditions & set(rules.failure):
                r += w.get("failure", 0.0)
            if w.get("alive", 0.0) != 0.0:
                r += w["alive"]
            for name, count in zip(EVENTS, ev.as_tuple(), strict=True):
                if w.get(name, 0.0) != 0.0 and count > 0:
                    r += w[name] * count
            out.rewards[role] = r
            self.episode_return[role] += r
        out.success = {
            role: done and bool(conditions & set(roles[role].success)) for role in ("player", "enemy", "missile")
        }
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
    """The role whose success is a world's ``success`` (the declaration's; None for play-v1)."""
    return task_spec(task).success_role
