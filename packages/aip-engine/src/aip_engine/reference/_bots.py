"""The scripted bots of docs/rules.md ("Bots"): player bots, enemy bots, target motions, guidance.

Each bot reads the state at the start of the frame and returns a move (a vector the
frame clips to the unit disc) or a turn. Draws from the world's generator happen only
where the rules say, in the order they say.
"""

from __future__ import annotations

import math

from aip_engine._config import Config

from ._geometry import Arena, norm, rotate, unit_or_zero
from ._rng import Rng
from ._state import Missile, Params, PatternsState, TargetMotion, Wander, WorldState

__all__ = [
    "DIAGONAL",
    "advance_wander",
    "draw_wander",
    "enemy_move",
    "enter_pattern",
    "guidance_turn",
    "player_fire",
    "player_move",
    "reset_enemy_bot",
    "reset_player_bot",
    "staged_speed_factor",
]

DIAGONAL = 0.7071067811865476
"""1/√2, the component of a diagonal unit move."""

_COS_CIRCLE = math.cos(0.02)
_SIN_CIRCLE = math.sin(0.02)
_STAGE_FACTORS = (0.5, 5.0 / 6.0, 7.0 / 6.0, 1.5)
_STAGE_FRAMES = 600
_INTERCEPT_HORIZON = 120.0
_DODGE_RANGE = 150.0
_EVASIVE_RANGE = 200.0
_EPS = 1e-9
TARGET_MOTIONS = ("linear", "circular", "zigzag", "evasive")


# --- wander ---------------------------------------------------------------------------------


def draw_wander(w: Wander, rng: Rng, cfg: Config) -> None:
    """Draw a wander memory at reset: ``θ = angle(); timer = randint(wander_min, wander_max)``."""
    theta = rng.angle()
    w.hx = math.cos(theta)
    w.hy = math.sin(theta)
    w.timer = rng.randint(cfg.wander_min, cfg.wander_max)


def advance_wander(w: Wander, rng: Rng, cfg: Config) -> None:
    """Advance a wander memory by one frame: a new heading when its timer runs out."""
    if w.timer == 0:
        theta = rng.angle()
        w.hx = math.cos(theta)
        w.hy = math.sin(theta)
        w.timer = rng.randint(cfg.wander_min, cfg.wander_max)
    w.timer -= 1


# --- player bots ----------------------------------------------------------------------------


def enter_pattern(p: PatternsState, s: WorldState, rng: Rng) -> None:
    """Enter a new ``patterns`` mode (wander, circle or diagonal) and draw its geometry."""
    p.mode = rng.randint(0, 2)
    p.mode_timer = rng.randint(180, 300)
    if p.mode == 1:
        p.centre_x = s.player_x
        p.centre_y = s.player_y
        p.radius = rng.uniform(50.0, 150.0)
        phi = rng.angle()
        p.c = math.cos(phi)
        p.s = math.sin(phi)
    elif p.mode == 2:
        k = rng.randint(0, 3)
        p.diag_x = (-1.0 if k & 1 else 1.0) * DIAGONAL
        p.diag_y = (-1.0 if k & 2 else 1.0) * DIAGONAL


def reset_player_bot(bot: str, s: WorldState, rng: Rng, cfg: Config) -> None:
    """Draw a player bot's state at reset (the wander state first, for every bot)."""
    draw_wander(s.player_wander, rng, cfg)
    if bot == "patterns":
        enter_pattern(s.patterns, s, rng)
    elif bot == "kite":
        s.kite_side = rng.randint(0, 1) * 2 - 1


def _player_to_enemy(s: WorldState, arena: Arena) -> tuple[float, float, float, float, float]:
    """``d``, ``dist`` and ``u`` from the player to the enemy."""
    dx, dy = arena.displacement(s.player_x, s.player_y, s.enemy_x, s.enemy_y)
    dist = norm(dx, dy)
    if dist < _EPS:
        return dx, dy, dist, 1.0, 0.0
    return dx, dy, dist, dx / dist, dy / dist


def player_move(bot: str, s: WorldState, rng: Rng, cfg: Config, par: Params, arena: Arena) -> tuple[float, float]:
    """A player bot's move for this frame (advances its wander state first).

    Args:
        bot: The player bot's name.
        s: The world, at the start of the frame.
        rng: The world's generator.
        cfg: The rule numbers.
        par: The world's parameters.
        arena: The world's arena.

    Returns:
        The move ``(dx, dy)``.
    """
    w = s.player_wander
    advance_wander(w, rng, cfg)
    if bot == "idle":
        return 0.0, 0.0
    if bot == "wander":
        return w.hx, w.hy
    if bot == "patterns":
        return _patterns_move(s, rng, par, arena)
    _, _, dist, ux, uy = _player_to_enemy(s, arena)
    if bot == "kite":
        if not s.enemy_active:
            return w.hx, w.hy
        radial = min(max((dist - 200.0) / 20.0, -1.0), 1.0)
        tx = -uy * s.kite_side
        ty = ux * s.kite_side
        vx = radial * ux + (1.0 - abs(radial)) * tx
        vy = radial * uy + (1.0 - abs(radial)) * ty
        n = norm(vx, vy)
        return vx / n, vy / n
    if bot == "flee":
        if s.enemy_active and dist < 250.0:
            nu = rng.uniform(-0.3, 0.3)
            return rotate(-ux, -uy, nu)
        return w.hx, w.hy
    raise ValueError(f"unknown player bot {bot!r}")


def _patterns_move(s: WorldState, rng: Rng, par: Params, arena: Arena) -> tuple[float, float]:
    p = s.patterns
    if p.mode_timer == 0:
        enter_pattern(p, s, rng)
    p.mode_timer -= 1
    if p.mode == 0:
        return s.player_wander.hx, s.player_wander.hy
    if p.mode == 2:
        return p.diag_x, p.diag_y
    c = p.c
    sn = p.s
    p.c = c * _COS_CIRCLE - sn * _SIN_CIRCLE
    p.s = sn * _COS_CIRCLE + c * _SIN_CIRCLE
    tx = p.centre_x + p.radius * p.c
    ty = p.centre_y + p.radius * p.s
    ex, ey = arena.displacement(s.player_x, s.player_y, tx, ty)
    n = norm(ex, ey)
    if n == 0.0:
        return 0.0, 0.0
    if n > par.player_speed:
        return ex / n, ey / n
    return ex / par.player_speed, ey / par.player_speed


def player_fire(s: WorldState, rng: Rng, cfg: Config, par: Params, arena: Arena) -> bool:
    """A player bot's fire decision (one draw only when every condition allows a shot)."""
    if par.fire_probability <= 0.0 or not s.enemy_active or s.player_cooldown != 0:
        return False
    if s.alive_missiles() >= par.max_missiles:
        return False
    _, _, dist, _, _ = _player_to_enemy(s, arena)
    if dist > cfg.fire_range:
        return False
    return rng.uniform() < par.fire_probability


# --- enemy bots -----------------------------------------------------------------------------


def reset_enemy_bot(bot: str, s: WorldState, rng: Rng, cfg: Config, par: Params) -> None:
    """Draw an enemy bot's state at reset."""
    s.stage_clock = 0
    if bot == "staged":
        draw_wander(s.enemy_wander, rng, cfg)
    elif bot in ("linear", "evasive"):
        theta = rng.angle()
        s.target.hx = math.cos(theta)
        s.target.hy = math.sin(theta)
    elif bot == "circular":
        t = s.target
        theta = rng.angle()
        t.hx = math.cos(theta)
        t.hy = math.sin(theta)
        radius = rng.uniform(80.0, 200.0)
        side = rng.randint(0, 1) * 2 - 1
        turn = side * (par.enemy_speed * par.enemy_speed_scale) / radius
        t.turn_cos = math.cos(turn)
        t.turn_sin = math.sin(turn)
    elif bot == "zigzag":
        t = s.target
        t.base = rng.angle()
        t.leg = rng.randint(20, 60)
        t.zig = 1


def staged_speed_factor(s: WorldState) -> float:
    """The ``staged`` bot's speed factor for its current stage."""
    return _STAGE_FACTORS[min(3, s.stage_clock // _STAGE_FRAMES)]


def _enemy_to_player(s: WorldState, arena: Arena) -> tuple[float, float, float, float, float]:
    dx, dy = arena.displacement(s.enemy_x, s.enemy_y, s.player_x, s.player_y)
    dist = norm(dx, dy)
    if dist < _EPS:
        return dx, dy, dist, 0.0, 0.0
    return dx, dy, dist, dx / dist, dy / dist


def _chase(s: WorldState, arena: Arena) -> tuple[float, float]:
    _, _, _, ux, uy = _enemy_to_player(s, arena)
    return ux, uy


def _intercept(s: WorldState, par: Params, arena: Arena) -> tuple[float, float]:
    dx, dy, dist, ux, uy = _enemy_to_player(s, arena)
    if dist < _EPS:
        return ux, uy
    vx = s.player_vx
    vy = s.player_vy
    speed = par.enemy_speed * par.enemy_speed_scale
    # Smallest τ > 0 with |d + v_p τ| = s τ:  a τ² + b τ + c = 0.
    a = (vx * vx + vy * vy) - speed * speed
    b = 2.0 * (dx * vx + dy * vy)
    c = dx * dx + dy * dy
    tau: float | None = None
    if abs(a) < _EPS:
        if b < 0.0:
            tau = -c / b
    else:
        disc = b * b - 4.0 * a * c
        if disc >= 0.0:
            root = math.sqrt(disc)
            r1 = (-b - root) / (2.0 * a)
            r2 = (-b + root) / (2.0 * a)
            lo = min(r1, r2)
            hi = max(r1, r2)
            if lo > 0.0:
                tau = lo
            elif hi > 0.0:
                tau = hi
    if tau is None:
        tau = dist / speed if speed != 0.0 else math.inf
    if not tau <= _INTERCEPT_HORIZON:  # also catches NaN
        tau = _INTERCEPT_HORIZON
    px = dx + vx * tau
    py = dy + vy * tau
    n = norm(px, py)
    if n < _EPS:
        return ux, uy
    return px / n, py / n


def _dodge(s: WorldState, arena: Arena) -> tuple[float, float]:
    vx, vy = _chase(s, arena)
    for m in s.missiles:
        if not m.alive:
            continue
        ex, ey = arena.displacement(m.x, m.y, s.enemy_x, s.enemy_y)
        n = norm(ex, ey)
        if 0.0 < n < _DODGE_RANGE:
            w = min(_DODGE_RANGE / n, 3.0)
            vx += ex / n * w
            vy += ey / n * w
    n = norm(vx, vy)
    if n < _EPS:
        return 0.0, 0.0
    return vx / n, vy / n


def _half_and_half(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return 0.5 * a[0] + 0.5 * b[0], 0.5 * a[1] + 0.5 * b[1]


def _staged(s: WorldState, rng: Rng, cfg: Config, par: Params, arena: Arena) -> tuple[float, float]:
    """The difficulty ramp: a blend that moves from wandering to intercepting and dodging."""
    w = s.enemy_wander
    advance_wander(w, rng, cfg)
    k = min(3, s.stage_clock // _STAGE_FRAMES)
    if k == 0:
        vx, vy = w.hx, w.hy
    elif k == 1:
        vx, vy = _half_and_half((w.hx, w.hy), _chase(s, arena))
    elif k == 2:
        vx, vy = _half_and_half(_chase(s, arena), _intercept(s, par, arena))
    else:
        vx, vy = _half_and_half(_intercept(s, par, arena), _dodge(s, arena))
    return unit_or_zero(vx, vy)


def _nearest_missile(s: WorldState, arena: Arena) -> tuple[Missile | None, float, float, float]:
    best: Missile | None = None
    best_d = math.inf
    bex = bey = 0.0
    for m in s.missiles:
        if not m.alive:
            continue
        ex, ey = arena.displacement(m.x, m.y, s.enemy_x, s.enemy_y)
        d = norm(ex, ey)
        if d < best_d:
            best, best_d, bex, bey = m, d, ex, ey
    return best, best_d, bex, bey


def _target_motion(bot: str, s: WorldState, rng: Rng, arena: Arena) -> tuple[float, float]:
    """The scripted target motions of intercept-v1: linear, circular, zigzag, evasive."""
    t: TargetMotion = s.target
    if bot == "linear":
        return t.hx, t.hy
    if bot == "circular":
        # Turn by side * speed / R (its cos and sin drawn at reset), then move along the heading.
        hx = t.hx
        hy = t.hy
        t.hx = hx * t.turn_cos - hy * t.turn_sin
        t.hy = hx * t.turn_sin + hy * t.turn_cos
        return t.hx, t.hy
    if bot == "zigzag":
        # Legs of randint(20, 60) frames at base + 45°, then base - 45°, alternating.
        if t.leg == 0:
            t.zig = -t.zig
            t.leg = rng.randint(20, 60)
        t.leg -= 1
        angle = t.base + t.zig * (math.pi / 4.0)
        return math.cos(angle), math.sin(angle)
    # evasive: linear, but sideways from the nearest alive missile within 200 px.
    m, d, ex, ey = _nearest_missile(s, arena)
    if m is None or d >= _EVASIVE_RANGE:
        return t.hx, t.hy
    nx = -m.hy
    ny = m.hx
    if nx * ex + ny * ey < 0.0:
        nx = -nx
        ny = -ny
    return nx, ny


def enemy_move(bot: str, s: WorldState, rng: Rng, cfg: Config, par: Params, arena: Arena) -> tuple[float, float]:
    """An enemy bot's move for this frame (called only while the enemy is active).

    Args:
        bot: The enemy bot's name.
        s: The world, at the start of the frame.
        rng: The world's generator.
        cfg: The rule numbers.
        par: The world's parameters.
        arena: The world's arena.

    Returns:
        The move ``(dx, dy)``.
    """
    if bot == "chase":
        return _chase(s, arena)
    if bot == "intercept":
        return _intercept(s, par, arena)
    if bot == "dodge":
        return _dodge(s, arena)
    if bot == "staged":
        return _staged(s, rng, cfg, par, arena)
    if bot in TARGET_MOTIONS:
        return _target_motion(bot, s, rng, arena)
    raise ValueError(f"unknown enemy bot {bot!r}")


# --- missile guidance -----------------------------------------------------------------------


def guidance_turn(bot: str, m: Missile, s: WorldState, max_turn: float, arena: Arena) -> float:
    """A guidance bot's turn for one missile, in [-1, 1] (``max_turn`` in radians)."""
    if bot == "straight" or not s.enemy_active or not max_turn > 0.0:
        return 0.0
    if bot != "homing":
        raise ValueError(f"unknown guidance {bot!r}")
    tx = s.enemy_x + s.enemy_vx * 0.5
    ty = s.enemy_y + s.enemy_vy * 0.5
    ex, ey = arena.displacement(m.x, m.y, tx, ty)
    angle = math.atan2(m.hx * ey - m.hy * ex, m.hx * ex + m.hy * ey)
    return min(max(angle / max_turn, -1.0), 1.0)
