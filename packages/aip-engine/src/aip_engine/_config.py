"""The rule numbers of docs/rules.md as one validated, immutable record."""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from ._errors import ConfigError, shown, unknown_name_error

__all__ = ["BOUNDARIES", "Config"]

#: Boundary rules, in the order of their integer codes.
BOUNDARIES: tuple[str, ...] = ("wrap", "clamp")

_BIG = 1_000_000.0

# name -> (kind, low, high); kind is "float", "int" or "choice"; bounds are inclusive.
_RANGES: dict[str, tuple[str, float, float]] = {
    "arena_width": ("float", 100.0, _BIG),
    "arena_height": ("float", 100.0, _BIG),
    "player_radius": ("float", 0.5, 1000.0),
    "player_speed": ("float", 0.0, 1000.0),
    "enemy_radius": ("float", 0.5, 1000.0),
    "enemy_speed": ("float", 0.0, 1000.0),
    "missile_radius": ("float", 0.5, 1000.0),
    "missile_speed": ("float", 0.0, 1000.0),
    "max_missiles": ("int", 0, 3),
    "fire_cooldown": ("int", 0, _BIG),
    "aim_error": ("float", 0.0, math.pi),
    "missile_life_min": ("int", 1, _BIG),
    "missile_life_max": ("int", 1, _BIG),
    "missile_max_turn_deg": ("float", 0.0, 180.0),
    "respawn_delay": ("int", 1, _BIG),
    "respawn_min_distance": ("float", 0.0, _BIG),
    "respawn_margin": ("float", 0.0, _BIG / 2),
    "respawn_tries": ("int", 1, 1024),
    "catch_invulnerability": ("int", 0, _BIG),
    "fire_probability": ("float", 0.0, 1.0),
    "fire_range": ("float", 0.0, _BIG),
    "wander_min": ("int", 1, _BIG),
    "wander_max": ("int", 1, _BIG),
    "reward_success": ("float", -_BIG, _BIG),
    "reward_failure": ("float", -_BIG, _BIG),
    "shaping_scale": ("float", 0.0, _BIG),
    "time_limit": ("int", 0, 1_000_000_000),
}


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass(frozen=True)
class Config:
    """Every number of the rules (docs/rules.md); defaults are the specification's.

    Distances are in pixels, speeds in pixels per frame, durations in frames.
    Construction validates every field and raises `ConfigError` naming the field, the value and
    the allowed range. Use `replace` to derive a changed copy.

    Attributes:
        arena_width: Arena width W (px).
        arena_height: Arena height H (px).
        boundary: ``"wrap"`` (toroidal) or ``"clamp"`` (walls).
        player_radius: Player collision radius.
        player_speed: Player base speed.
        enemy_radius: Enemy collision radius.
        enemy_speed: Enemy base speed.
        missile_radius: Missile collision radius.
        missile_speed: Missile speed.
        max_missiles: Missiles alive at once (0 to 3).
        fire_cooldown: Frames between two shots.
        aim_error: Uniform aim error of a new missile, radians (±).
        missile_life_min: Shortest missile lifetime (frames).
        missile_life_max: Longest missile lifetime (frames).
        missile_max_turn_deg: Largest missile turn per frame (degrees).
        respawn_delay: Frames the enemy stays inactive after a hit or a catch.
        respawn_min_distance: Wanted distance of a respawned enemy from the player.
        respawn_margin: Distance of respawn and reset positions from the arena's edges.
        respawn_tries: Candidates drawn by the respawn rule.
        catch_invulnerability: Frames the player is immune after a catch (0 in every task).
        fire_probability: Per-frame fire probability of player bots.
        fire_range: Largest distance at which player bots fire.
        wander_min: Shortest wander leg (frames).
        wander_max: Longest wander leg (frames).
        reward_success: Terminal reward on success.
        reward_failure: Terminal reward on failure.
        shaping_scale: Scale of the potential-based shaping term.
        time_limit: Frames per episode before truncation; 0 = none; None = the task's.
    """

    arena_width: float = 1280.0
    arena_height: float = 720.0
    boundary: str = "wrap"
    player_radius: float = 25.0
    player_speed: float = 5.0
    enemy_radius: float = 25.0
    enemy_speed: float = 5.0
    missile_radius: float = 5.0
    missile_speed: float = 5.0
    max_missiles: int = 3
    fire_cooldown: int = 30
    aim_error: float = 0.1
    missile_life_min: int = 480
    missile_life_max: int = 720
    missile_max_turn_deg: float = 12.0
    respawn_delay: int = 60
    respawn_min_distance: float = 200.0
    respawn_margin: float = 50.0
    respawn_tries: int = 16
    catch_invulnerability: int = 0
    fire_probability: float = 0.05
    fire_range: float = 400.0
    wander_min: int = 30
    wander_max: int = 90
    reward_success: float = 10.0
    reward_failure: float = -5.0
    shaping_scale: float = 1.0
    time_limit: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "boundary":
                if value not in BOUNDARIES:
                    raise ConfigError(
                        f"config field 'boundary' is {shown(value)}; allowed: {', '.join(map(repr, BOUNDARIES))}"
                    )
                continue
            if f.name == "time_limit" and value is None:
                continue
            kind, low, high = _RANGES[f.name]
            object.__setattr__(self, f.name, _check_number(f.name, value, kind, low, high))
        self._check_pairs()

    def _check_pairs(self) -> None:
        if self.missile_life_max < self.missile_life_min:
            raise ConfigError(
                f"config field 'missile_life_max' is {self.missile_life_max}; it must be >= "
                f"missile_life_min ({self.missile_life_min})"
            )
        if self.wander_max < self.wander_min:
            raise ConfigError(
                f"config field 'wander_max' is {self.wander_max}; it must be >= wander_min ({self.wander_min})"
            )
        limit = min(self.arena_width, self.arena_height) / 2
        for body in ("player_radius", "enemy_radius", "missile_radius"):
            if getattr(self, body) > limit:
                raise ConfigError(
                    f"config field {body!r} is {_fmt(getattr(self, body))}; allowed range is "
                    f"[0.5, {_fmt(limit)}] (half the smaller arena side: every body must fit in the arena)"
                )
        if self.respawn_margin > limit:
            raise ConfigError(
                f"config field 'respawn_margin' is {_fmt(self.respawn_margin)}; allowed range is "
                f"[0, {_fmt(limit)}] (half the smaller arena side)"
            )

    def replace(self, **changes: Any) -> Config:
        """Return a validated copy with some fields changed.

        Args:
            **changes: Field names and their new values.

        Returns:
            The new config.

        Raises:
            UnknownNameError: A key is not a config field.
            ConfigError: A value is out of range.
        """
        _check_keys(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (JSON-serialisable)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any], base: Config | None = None) -> Config:
        """Build a config from a mapping of field names to values.

        Args:
            mapping: Fields to set; fields not named keep the value of `base`.
            base: The config to start from; the defaults when None.

        Returns:
            The validated config.

        Raises:
            UnknownNameError: A key is not a config field (with a "did you mean" suggestion).
            ConfigError: A value is out of range.
        """
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"config must be a Config or a mapping of field names, got {type(mapping).__name__}")
        changes = dict(mapping)
        _check_keys(changes)
        return dataclasses.replace(base if base is not None else cls(), **changes)

    @staticmethod
    def field_names() -> tuple[str, ...]:
        """Return the names of all config fields, in declaration order."""
        return tuple(f.name for f in fields(Config))


def _check_keys(changes: Mapping[str, Any]) -> None:
    names = Config.field_names()
    for key in changes:
        if key not in names:
            raise unknown_name_error("config key", key, names)


def _check_number(name: str, value: Any, kind: str, low: float, high: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"config field {shown(name)} must be a number, got {shown(value)} ({type(value).__name__})")
    if kind == "int":
        if not isinstance(value, numbers.Integral):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ConfigError(f"config field {shown(name)} must be an integer, got {shown(value)}")
        result: float | int = int(value)
    else:
        result = float(value)
        if not math.isfinite(result):
            raise ConfigError(f"config field {shown(name)} must be finite, got {shown(value)}")
    if not low <= result <= high:
        raise ConfigError(f"config field {shown(name)} is {shown(value)}; allowed range is [{_fmt(low)}, {_fmt(high)}]")
    return result
