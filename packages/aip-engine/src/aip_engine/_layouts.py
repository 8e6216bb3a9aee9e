"""Observation and action layouts of the learning roles (docs/rules.md, "Roles")."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import unknown_name_error

__all__ = ["LAYOUTS", "Field", "RoleLayout", "layout", "role_layout", "roles"]


@dataclass(frozen=True)
class Field:
    """One value of an observation or an action.

    Attributes:
        name: The field's name, unique within its layout.
        low: The smallest value it normally takes.
        high: The largest value it normally takes.
        description: What it measures and how it is normalised.
        mirror: How the value changes when the arena is mirrored: ``"x"`` (it changes sign when x is
            mirrored, x -> W - x), ``"y"`` (the same for y), ``"turn"`` (a sense of rotation: it changes
            sign under either mirror), ``""`` (it does not change).
    """

    name: str
    low: float
    high: float
    description: str
    mirror: str = ""


@dataclass(frozen=True)
class RoleLayout:
    """The observation and action layout of one role, versioned by name.

    Attributes:
        role: The role (``"player"``, ``"enemy"`` or ``"missile"``).
        name: The layout's name, e.g. ``"enemy-v1"``; a new version gets a new name.
        version: The layout's version number.
        observation: The observation's fields, in order.
        action: The action's fields, in order.
    """

    role: str
    name: str
    version: int
    observation: tuple[Field, ...]
    action: tuple[Field, ...]

    @property
    def obs_size(self) -> int:
        """Number of observation values."""
        return len(self.observation)

    @property
    def act_size(self) -> int:
        """Number of action values."""
        return len(self.action)

    def mirror_signs(self, axis: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Return the factors that mirror an observation and an action of this layout.

        The game's rules are symmetric under mirroring the arena, so a mirrored demonstration (each
        observation and action multiplied by these factors) is as valid as the one recorded; behaviour
        cloning uses that to learn from four times the data (``bc_augment = "mirror"``).

        Args:
            axis: ``"x"`` (x -> W - x) or ``"y"`` (y -> H - y).

        Returns:
            The factors (1 or -1) of the observation's fields and of the action's fields, in order.

        Raises:
            ValueError: ``axis`` is neither ``"x"`` nor ``"y"``.
        """
        if axis not in ("x", "y"):
            raise ValueError(f"mirror axis must be 'x' or 'y', not {axis!r}")

        def sign(f: Field) -> float:
            return -1.0 if f.mirror in (axis, "turn") else 1.0

        return tuple(sign(f) for f in self.observation), tuple(sign(f) for f in self.action)

    def obs_index(self, name: str) -> int:
        """Return the position of an observation field.

        Args:
            name: The field's name.

        Returns:
            Its index in the observation vector.

        Raises:
            UnknownNameError: No such field.
        """
        names = [f.name for f in self.observation]
        if name not in names:
            raise unknown_name_error(f"{self.name} observation field", name, names)
        return names.index(name)


_REL = "shortest displacement {what}, divided by (W/2, H/2) under wrap, (W, H) under clamp"
_DIST = "shortest distance to {what}, divided by the half-diagonal (wrap) or the diagonal (clamp)"


def _pos(prefix: str) -> tuple[Field, ...]:
    return (
        Field(f"{prefix}_x", -1.0, 1.0, "absolute x position as 2x/W - 1", "x"),
        Field(f"{prefix}_y", -1.0, 1.0, "absolute y position as 2y/H - 1", "y"),
    )


def _vel(prefix: str, whose: str, high: float = 1.0) -> tuple[Field, ...]:
    text = f"{whose} velocity (last displacement) divided by its base speed"
    return (
        Field(f"{prefix}_vx", -high, high, text + ", x", "x"),
        Field(f"{prefix}_vy", -high, high, text + ", y", "y"),
    )


def _rel(prefix: str, what: str) -> tuple[Field, ...]:
    return (
        Field(f"{prefix}_dx", -1.0, 1.0, _REL.format(what=what) + ", x", "x"),
        Field(f"{prefix}_dy", -1.0, 1.0, _REL.format(what=what) + ", y", "y"),
    )


def _missiles_enemy() -> tuple[Field, ...]:
    out: list[Field] = []
    for i in range(3):
        m = f"m{i}"
        out += _rel(m, f"enemy -> the {i + 1}. nearest alive missile")
        out += [
            Field(f"{m}_vx", -1.0, 1.0, "that missile's velocity divided by missile_speed (its heading), x", "x"),
            Field(f"{m}_vy", -1.0, 1.0, "that missile's velocity divided by missile_speed (its heading), y", "y"),
            Field(f"{m}_alive", 0.0, 1.0, "1 if that missile exists, else 0 (and the other values are 0)"),
        ]
    return tuple(out)


def _missiles_player() -> tuple[Field, ...]:
    out: list[Field] = []
    for i in range(3):
        m = f"m{i}"
        out += _rel(m, f"player -> missile slot {i}")
        out += [
            Field(f"{m}_hx", -1.0, 1.0, f"heading of missile slot {i} (unit vector), x", "x"),
            Field(f"{m}_hy", -1.0, 1.0, f"heading of missile slot {i} (unit vector), y", "y"),
            Field(f"{m}_alive", 0.0, 1.0, f"1 if missile slot {i} is alive, else 0 (and the other values are 0)"),
        ]
    return tuple(out)


_MOVE = (
    Field("move_x", -1.0, 1.0, "move x; (move_x, move_y) is clipped to the unit disc", "x"),
    Field("move_y", -1.0, 1.0, "move y; (move_x, move_y) is clipped to the unit disc", "y"),
)

ENEMY_V1 = RoleLayout(
    role="enemy",
    name="enemy-v1",
    version=1,
    observation=(
        *_pos("self"),
        *_vel("self", "the enemy's own", 2.25),
        *_rel("player", "enemy -> player"),
        Field("player_dist", 0.0, 1.0, _DIST.format(what="the player")),
        *_vel("player", "the player's"),
        *_missiles_enemy(),
    ),
    action=_MOVE,
)

MISSILE_V1 = RoleLayout(
    role="missile",
    name="missile-v1",
    version=1,
    observation=(
        *_rel("enemy", "missile slot 0 -> enemy (0 while the enemy is inactive)"),
        Field("enemy_dist", 0.0, 1.0, _DIST.format(what="the enemy") + " (0 while inactive)"),
        *_vel("enemy", "the enemy's", 2.25),
        Field("heading_x", -1.0, 1.0, "the missile's heading (unit vector), x", "x"),
        Field("heading_y", -1.0, 1.0, "the missile's heading (unit vector), y", "y"),
        Field("life", 0.0, 1.0, "remaining lifetime divided by missile_life_max"),
        Field("bearing_cos", -1.0, 1.0, "direction to the enemy in the missile's frame: h.e / |e|"),
        Field("bearing_sin", -1.0, 1.0, "direction to the enemy in the missile's frame: (h x e) / |e|", "turn"),
    ),
    action=(
        Field(
            "turn", -1.0, 1.0, "turn as a fraction of missile_max_turn_deg per frame; + turns from +x toward +y", "turn"
        ),
    ),
)

PLAYER_V1 = RoleLayout(
    role="player",
    name="player-v1",
    version=1,
    observation=(
        *_pos("self"),
        *_vel("self", "the player's own"),
        *_rel("enemy", "player -> enemy (0 while the enemy is inactive)"),
        Field("enemy_dist", 0.0, 1.0, _DIST.format(what="the enemy") + " (0 while inactive)"),
        *_vel("enemy", "the enemy's", 2.25),
        Field("enemy_active", 0.0, 1.0, "1 if the enemy is active, else 0"),
        Field("cooldown", 0.0, 1.0, "remaining fire cooldown divided by fire_cooldown (0 when that is 0)"),
        *_missiles_player(),
    ),
    action=(*_MOVE, Field("fire", 0.0, 1.0, "fires when >= 0.5 (if the cooldown and max_missiles allow)")),
)

#: Every layout ever defined, by name (old versions stay readable).
LAYOUTS: dict[str, RoleLayout] = {lay.name: lay for lay in (PLAYER_V1, ENEMY_V1, MISSILE_V1)}

_CURRENT: dict[str, RoleLayout] = {"player": PLAYER_V1, "enemy": ENEMY_V1, "missile": MISSILE_V1}


def roles() -> tuple[str, ...]:
    """Return the learning roles: ``("player", "enemy", "missile")``."""
    return tuple(_CURRENT)


def role_layout(role: str) -> RoleLayout:
    """Return the current layout of a role.

    Args:
        role: ``"player"``, ``"enemy"`` or ``"missile"``.

    Returns:
        The role's current layout.

    Raises:
        UnknownNameError: Not a role.
    """
    try:
        return _CURRENT[role]
    except (KeyError, TypeError):
        raise unknown_name_error("role", role, roles()) from None


def layout(name: str) -> RoleLayout:
    """Return a layout by name, e.g. ``"enemy-v1"``.

    Args:
        name: The layout's name.

    Returns:
        The layout.

    Raises:
        UnknownNameError: No layout of that name.
    """
    try:
        return LAYOUTS[name]
    except (KeyError, TypeError):
        raise unknown_name_error("layout", name, tuple(LAYOUTS)) from None
