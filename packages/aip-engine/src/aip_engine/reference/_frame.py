"""One frame of one world, in the order of docs/rules.md ("One frame", steps 1 to 5).

Step 6 (observations, rewards, episode ends) belongs to the task and lives in
``_episode.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aip_engine._config import Config

from ._bots import enemy_move, guidance_turn, player_fire, player_move, staged_speed_factor
from ._geometry import Arena, clip_to_unit_disc, norm, rotate
from ._rng import Rng
from ._state import Params, WorldState

__all__ = ["Events", "FrameInput", "fire_missile", "place_enemy", "run_frame"]


@dataclass
class Events:
    """Counts of the events of one frame, in the order of ``aip_engine.EVENTS``."""

    fire: int = 0
    hit: int = 0
    catch: int = 0
    respawn: int = 0
    expire: int = 0
    # Missile slot 0 is the missile role's own missile: its hit and its expiry decide intercept-v1.
    slot0_hit: bool = False
    slot0_expired: bool = False

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        """The counts as ``(fire, hit, catch, respawn, expire)``."""
        return (self.fire, self.hit, self.catch, self.respawn, self.expire)


@dataclass
class FrameInput:
    """Who drives each role in this frame, and the agents' actions.

    A ``None`` action means the role is driven by the named bot.
    """

    player_bot: str
    enemy_bot: str
    guidance: str
    player_action: tuple[float, float, float] | None = None  # move_x, move_y, fire
    enemy_action: tuple[float, float] | None = None  # move_x, move_y
    missile_action: float | None = None  # turn of missile slot 0


def place_enemy(s: WorldState, rng: Rng, cfg: Config, arena: Arena) -> None:
    """The respawn rule: the first candidate far enough from the player, else the farthest."""
    m = cfg.respawn_margin
    best_x = best_y = 0.0
    best_d = -1.0
    for _ in range(cfg.respawn_tries):
        x = rng.uniform(m, arena.width - m)
        y = rng.uniform(m, arena.height - m)
        d = arena.distance(s.player_x, s.player_y, x, y)
        if d >= cfg.respawn_min_distance:
            best_x, best_y = x, y
            break
        if d > best_d:
            best_x, best_y, best_d = x, y, d
    s.enemy_x = best_x
    s.enemy_y = best_y


def fire_missile(s: WorldState, rng: Rng, cfg: Config, arena: Arena) -> None:
    """Put a missile in the lowest free slot, aimed at the enemy, and start the cooldown.

    The aim is the direction to the enemy (``(1, 0)`` when they coincide) rotated by
    ``uniform(-aim_error, aim_error)``; the lifetime is ``randint(missile_life_min,
    missile_life_max)``. The caller checks that a slot is free.
    """
    slot = next(m for m in s.missiles if not m.alive)
    dx, dy = arena.displacement(s.player_x, s.player_y, s.enemy_x, s.enemy_y)
    dist = norm(dx, dy)
    if dist < 1e-9:
        ux, uy = 1.0, 0.0
    else:
        ux, uy = dx / dist, dy / dist
    err = rng.uniform(-cfg.aim_error, cfg.aim_error)
    slot.hx, slot.hy = rotate(ux, uy, err)
    slot.x = s.player_x
    slot.y = s.player_y
    slot.life = rng.randint(cfg.missile_life_min, cfg.missile_life_max)
    slot.alive = True
    s.player_cooldown = cfg.fire_cooldown


def run_frame(s: WorldState, rng: Rng, cfg: Config, par: Params, arena: Arena, inp: FrameInput) -> Events:
    """Run steps 1 to 5 of one frame on one world.

    Args:
        s: The world's state; updated in place.
        rng: The world's generator.
        cfg: The rule numbers.
        par: The world's parameters for this frame.
        arena: The world's arena.
        inp: Controllers and agent actions.

    Returns:
        The frame's events.
    """
    ev = Events()
    enemy_was_active = s.enemy_active
    pmove, fire, emove, speed_factor = _actions(s, rng, cfg, par, arena, inp)
    _movement(s, rng, cfg, par, arena, ev, pmove, fire, emove, speed_factor)
    _guidance_and_expiry(s, cfg, arena, inp, ev)
    caught = _collisions(s, cfg, arena, ev)
    _respawns(s, rng, cfg, arena, ev, enemy_was_active, caught)
    return ev


Move = tuple[float, float]


def _actions(
    s: WorldState, rng: Rng, cfg: Config, par: Params, arena: Arena, inp: FrameInput
) -> tuple[Move, bool, Move, float]:
    """1. Actions, from the state at the start of the frame: player (move, fire), then enemy.

    Agent moves are clipped to the unit disc; bot moves are unit vectors or shorter already.
    Returns the player's move, its fire wish, the enemy's move and the enemy bot's speed factor.
    """
    if inp.player_action is None:
        pmove = player_move(inp.player_bot, s, rng, cfg, par, arena)
        fire = player_fire(s, rng, cfg, par, arena)
    else:
        pmove = clip_to_unit_disc(inp.player_action[0], inp.player_action[1])
        fire = inp.player_action[2] >= 0.5
    emove = (0.0, 0.0)
    speed_factor = 1.0
    if s.enemy_active:
        if inp.enemy_action is None:
            emove = enemy_move(inp.enemy_bot, s, rng, cfg, par, arena)
            if inp.enemy_bot == "staged":
                speed_factor = staged_speed_factor(s)
        else:
            emove = clip_to_unit_disc(inp.enemy_action[0], inp.enemy_action[1])
    return pmove, fire, emove, speed_factor


def _movement(
    s: WorldState,
    rng: Rng,
    cfg: Config,
    par: Params,
    arena: Arena,
    ev: Events,
    pmove: Move,
    fire: bool,
    emove: Move,
    speed_factor: float,
) -> None:
    """2. Movement: player, enemy, the fire decision, then the missiles alive at the frame's start."""
    s.player_vx = pmove[0] * par.player_speed
    s.player_vy = pmove[1] * par.player_speed
    s.player_x, s.player_y = arena.bound_body(s.player_x + s.player_vx, s.player_y + s.player_vy, cfg.player_radius)
    if s.enemy_active:
        s.enemy_vx = emove[0] * par.enemy_speed * par.enemy_speed_scale * speed_factor
        s.enemy_vy = emove[1] * par.enemy_speed * par.enemy_speed_scale * speed_factor
        s.enemy_x, s.enemy_y = arena.bound_body(s.enemy_x + s.enemy_vx, s.enemy_y + s.enemy_vy, cfg.enemy_radius)
    else:
        s.enemy_vx = 0.0
        s.enemy_vy = 0.0
    moving = [m.alive for m in s.missiles]  # a missile fired in this frame does not move in it
    if fire and s.player_cooldown == 0 and s.alive_missiles() < par.max_missiles:
        fire_missile(s, rng, cfg, arena)
        ev.fire += 1
    elif s.player_cooldown > 0:
        s.player_cooldown -= 1
    for i, (m, moves) in enumerate(zip(s.missiles, moving, strict=True)):
        if not moves:
            continue
        x = m.x + m.hx * par.missile_speed
        y = m.y + m.hy * par.missile_speed
        if arena.wrap:
            m.x, m.y = arena.wrap_point(x, y)
        else:
            m.x, m.y = x, y
            if not arena.inside(x, y):
                m.alive = False
                ev.expire += 1
                ev.slot0_expired |= i == 0


def _guidance_and_expiry(s: WorldState, cfg: Config, arena: Arena, inp: FrameInput, ev: Events) -> None:
    """3. Guidance and expiry, in slot order (slot 0 takes the missile agent's turn)."""
    max_turn = cfg.missile_max_turn_deg * math.pi / 180.0
    for i, m in enumerate(s.missiles):
        if not m.alive:
            continue
        if i == 0 and inp.missile_action is not None:
            turn = inp.missile_action
        else:
            turn = guidance_turn(inp.guidance, m, s, max_turn, arena)
        turn = min(max(turn, -1.0), 1.0)
        if turn != 0.0:
            m.hx, m.hy = rotate(m.hx, m.hy, turn * max_turn)
        m.life -= 1
        if m.life <= 0:
            m.alive = False
            ev.expire += 1
            ev.slot0_expired |= i == 0


def _collisions(s: WorldState, cfg: Config, arena: Arena, ev: Events) -> bool:
    """4. Collisions: missiles against the active enemy, then the enemy against the player.

    Returns whether the enemy caught the player.
    """
    hit_range = cfg.missile_radius + cfg.enemy_radius
    for i, m in enumerate(s.missiles):
        if not s.enemy_active:
            break
        if m.alive and arena.distance(m.x, m.y, s.enemy_x, s.enemy_y) < hit_range:
            m.alive = False
            s.enemy_active = False
            s.enemy_respawn_timer = cfg.respawn_delay
            ev.hit += 1
            ev.slot0_hit = i == 0
    caught = (
        s.enemy_active
        and s.player_invulnerable == 0
        and arena.distance(s.enemy_x, s.enemy_y, s.player_x, s.player_y) < cfg.player_radius + cfg.enemy_radius
    )
    if caught:
        ev.catch += 1
        s.enemy_active = False
        s.enemy_respawn_timer = cfg.respawn_delay
        s.player_invulnerable = cfg.catch_invulnerability
    elif s.player_invulnerable > 0:
        s.player_invulnerable -= 1
    return caught


def _respawns(
    s: WorldState, rng: Rng, cfg: Config, arena: Arena, ev: Events, enemy_was_active: bool, caught: bool
) -> None:
    """5. Respawns; the fade counter of an enemy active all frame; the staged bot's clock."""
    if not enemy_was_active:
        s.enemy_respawn_timer -= 1
        if s.enemy_respawn_timer <= 0:
            s.enemy_respawn_timer = 0
            place_enemy(s, rng, cfg, arena)
            s.enemy_active = True
            s.enemy_fade = 0
            ev.respawn += 1
    elif s.enemy_active and s.enemy_fade < 65535:
        s.enemy_fade += 1
    s.stage_clock = 0 if caught else min(s.stage_clock + 1, 2**31 - 1)
