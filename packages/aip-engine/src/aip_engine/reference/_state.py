"""The state of one world: entities, timers and the scripted bots' memories.

Plain mutable objects with Python floats, one per world. The field names follow
``Worlds.state()`` of docs/engine-api.md where such a field exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["MAX_MISSILE_SLOTS", "Missile", "Params", "PatternsState", "TargetMotion", "Wander", "WorldState"]

MAX_MISSILE_SLOTS = 3
"""Missile slots per world; ``max_missiles`` (0 to 3) limits how many are used at once."""


@dataclass
class Params:
    """Per-world task parameters, read at every frame (``Worlds.params``).

    Bot fields hold a bot name, or None for "the task's default draw".
    """

    player_speed: float
    enemy_speed: float
    enemy_speed_scale: float
    missile_speed: float
    arena_width: float
    arena_height: float
    fire_probability: float
    max_missiles: int
    player_bot: str | None
    enemy_bot: str | None
    guidance: str | None
    # Who drives an agent role from the world's next reset on: 0 the caller's actions, 1 + k bot k.
    player_driver: int = 0
    enemy_driver: int = 0


@dataclass
class Missile:
    """One missile slot."""

    x: float = 0.0
    y: float = 0.0
    hx: float = 0.0
    hy: float = 0.0
    alive: bool = False
    life: int = 0


@dataclass
class Wander:
    """A wander memory: a unit heading and the frames until the next one."""

    hx: float = 1.0
    hy: float = 0.0
    timer: int = 0


@dataclass
class PatternsState:
    """The ``patterns`` player bot: its mode and the mode's geometry."""

    mode: int = 0  # 0 wander, 1 circle, 2 diagonal
    mode_timer: int = 0
    centre_x: float = 0.0
    centre_y: float = 0.0
    radius: float = 0.0
    c: float = 1.0  # cos and sin of the circle's phase
    s: float = 0.0
    diag_x: float = 0.0
    diag_y: float = 0.0


@dataclass
class TargetMotion:
    """The scripted target motions of ``intercept-v1`` (linear, circular, zigzag, evasive)."""

    hx: float = 1.0  # heading (linear, circular, evasive)
    hy: float = 0.0
    turn_cos: float = 1.0  # circular: the per-frame turn
    turn_sin: float = 0.0
    base: float = 0.0  # zigzag: base angle, leg timer, current side (+1 / -1)
    leg: int = 0
    zig: int = 1


@dataclass
class WorldState:
    """Everything one world remembers between frames."""

    player_x: float = 0.0
    player_y: float = 0.0
    player_vx: float = 0.0
    player_vy: float = 0.0
    enemy_x: float = 0.0
    enemy_y: float = 0.0
    enemy_vx: float = 0.0
    enemy_vy: float = 0.0
    enemy_active: bool = True
    enemy_respawn_timer: int = 0
    enemy_fade: int = 0
    missiles: list[Missile] = field(default_factory=lambda: [Missile() for _ in range(MAX_MISSILE_SLOTS)])
    player_cooldown: int = 0
    player_invulnerable: int = 0
    # Scripted bots.
    player_wander: Wander = field(default_factory=Wander)
    patterns: PatternsState = field(default_factory=PatternsState)
    kite_side: int = 1
    enemy_wander: Wander = field(default_factory=Wander)
    stage_clock: int = 0
    target: TargetMotion = field(default_factory=TargetMotion)
    # The enemy bot chosen for this episode (intercept-v1 draws one at reset).
    enemy_bot: str | None = None
    # Episode bookkeeping; the drivers are latched from the parameters at reset.
    frame: int = 0
    player_driver: int = 0
    enemy_driver: int = 0

    def alive_missiles(self) -> int:
        """How many missile slots are alive."""
        return sum(1 for m in self.missiles if m.alive)
