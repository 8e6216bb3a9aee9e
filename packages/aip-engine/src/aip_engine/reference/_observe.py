"""The role observations of docs/rules.md ("Roles: observation and action layouts", version 1).

Values are computed as Python floats (float64); the batch writes them as float32.
Missing entities (an inactive enemy, an empty missile slot) read as 0.
"""

from __future__ import annotations

from aip_engine._config import Config

from ._geometry import Arena, norm
from ._state import Params, WorldState

__all__ = ["observe", "observe_enemy", "observe_missile", "observe_player"]


def _per_speed(v: float, speed: float) -> float:
    # A speed set to 0 reads as 0 rather than dividing by it.
    return v / speed if speed > 0.0 else 0.0


def observe_enemy(s: WorldState, cfg: Config, par: Params, arena: Arena) -> list[float]:
    """``enemy-v1`` (24 values): itself, the player, the 3 nearest alive missiles.

    The enemy always sees itself and the player (also while it is inactive, between a
    hit or a catch and its respawn); empty missile places read as 0.
    """
    obs = [0.0] * 24
    obs[0] = 2.0 * s.enemy_x / arena.width - 1.0
    obs[1] = 2.0 * s.enemy_y / arena.height - 1.0
    obs[2] = _per_speed(s.enemy_vx, par.enemy_speed)
    obs[3] = _per_speed(s.enemy_vy, par.enemy_speed)
    dx, dy = arena.displacement(s.enemy_x, s.enemy_y, s.player_x, s.player_y)
    obs[4] = dx / arena.norm_x
    obs[5] = dy / arena.norm_y
    obs[6] = norm(dx, dy) / arena.half_diagonal
    obs[7] = _per_speed(s.player_vx, par.player_speed)
    obs[8] = _per_speed(s.player_vy, par.player_speed)
    # The nearest alive missiles by distance; sorting (distance, slot) breaks ties by slot.
    near: list[tuple[float, int, float, float]] = []
    for i, m in enumerate(s.missiles):
        if m.alive:
            mx, my = arena.displacement(s.enemy_x, s.enemy_y, m.x, m.y)
            near.append((norm(mx, my), i, mx, my))
    near.sort()
    for k, (_, i, mx, my) in enumerate(near[:3]):
        m = s.missiles[i]
        base = 9 + 5 * k
        obs[base] = mx / arena.norm_x
        obs[base + 1] = my / arena.norm_y
        obs[base + 2] = m.hx  # velocity / missile_speed is the heading
        obs[base + 3] = m.hy
        obs[base + 4] = 1.0
    return obs


def observe_missile(s: WorldState, cfg: Config, par: Params, arena: Arena) -> list[float]:
    """``missile-v1`` (10 values), for missile slot 0."""
    obs = [0.0] * 10
    m = s.missiles[0]
    if not m.alive:
        return obs
    obs[5] = m.hx
    obs[6] = m.hy
    obs[7] = m.life / cfg.missile_life_max
    if not s.enemy_active:
        return obs
    ex, ey = arena.displacement(m.x, m.y, s.enemy_x, s.enemy_y)
    dist = norm(ex, ey)
    obs[0] = ex / arena.norm_x
    obs[1] = ey / arena.norm_y
    obs[2] = dist / arena.half_diagonal
    obs[3] = _per_speed(s.enemy_vx, par.enemy_speed)
    obs[4] = _per_speed(s.enemy_vy, par.enemy_speed)
    if dist == 0.0:
        obs[8] = 1.0
    else:
        obs[8] = (m.hx * ex + m.hy * ey) / dist
        obs[9] = (m.hx * ey - m.hy * ex) / dist
    return obs


def observe_player(s: WorldState, cfg: Config, par: Params, arena: Arena) -> list[float]:
    """``player-v1`` (26 values): itself, the enemy, the cooldown and missile slots 0 to 2."""
    obs = [0.0] * 26
    obs[0] = 2.0 * s.player_x / arena.width - 1.0
    obs[1] = 2.0 * s.player_y / arena.height - 1.0
    obs[2] = _per_speed(s.player_vx, par.player_speed)
    obs[3] = _per_speed(s.player_vy, par.player_speed)
    if s.enemy_active:
        dx, dy = arena.displacement(s.player_x, s.player_y, s.enemy_x, s.enemy_y)
        obs[4] = dx / arena.norm_x
        obs[5] = dy / arena.norm_y
        obs[6] = norm(dx, dy) / arena.half_diagonal
        obs[7] = _per_speed(s.enemy_vx, par.enemy_speed)
        obs[8] = _per_speed(s.enemy_vy, par.enemy_speed)
        obs[9] = 1.0
    if cfg.fire_cooldown > 0:
        obs[10] = s.player_cooldown / cfg.fire_cooldown
    for i, m in enumerate(s.missiles):
        if not m.alive:
            continue
        base = 11 + 5 * i
        mx, my = arena.displacement(s.player_x, s.player_y, m.x, m.y)
        obs[base] = mx / arena.norm_x
        obs[base + 1] = my / arena.norm_y
        obs[base + 2] = m.hx
        obs[base + 3] = m.hy
        obs[base + 4] = 1.0
    return obs


_OBSERVERS = {"enemy": observe_enemy, "missile": observe_missile, "player": observe_player}


def observe(role: str, s: WorldState, cfg: Config, par: Params, arena: Arena) -> list[float]:
    """The observation of a role.

    Args:
        role: ``"player"``, ``"enemy"`` or ``"missile"``.
        s: The world.
        cfg: The rule numbers.
        par: The world's parameters.
        arena: The world's arena.

    Returns:
        The observation values, in the order of the role's layout.
    """
    return _OBSERVERS[role](s, cfg, par, arena)
