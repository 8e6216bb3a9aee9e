"""Bots, events and the tasks of version 1 (docs/rules.md, "Bots" and "Tasks")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ._config import Config
from ._errors import unknown_name_error
from ._layouts import roles

__all__ = [
    "AGENT",
    "BOTS",
    "EVENTS",
    "RANDOM",
    "TASKS",
    "TaskSpec",
    "bot_code",
    "bots",
    "task_spec",
    "tasks",
]

#: Event counters reported per world and step, in column order.
EVENTS: tuple[str, ...] = ("fire", "hit", "catch", "respawn", "expire")

#: Controller name of a role that a learner (the caller's actions) drives.
AGENT = "agent"

#: Controller name meaning "the task draws a bot per episode" (intercept-v1's enemy motion).
RANDOM = "random"

#: Scripted bots per role; a bot's position is its integer code in `Worlds.params`.
BOTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "player": ("idle", "wander", "patterns", "kite", "flee"),
        "enemy": ("chase", "intercept", "dodge", "staged", "linear", "circular", "zigzag", "evasive"),
        "missile": ("straight", "homing"),
    }
)


def bots(role: str) -> tuple[str, ...]:
    """Return the scripted bots of a role, in the order of their integer codes.

    Args:
        role: ``"player"``, ``"enemy"`` or ``"missile"``.

    Returns:
        The bot names.

    Raises:
        UnknownNameError: Not a role.
    """
    try:
        return BOTS[role]
    except (KeyError, TypeError):
        raise unknown_name_error("role", role, roles()) from None


def bot_code(role: str, name: str) -> int:
    """Return the integer code of a bot (its index in `bots(role)`); ``"random"`` is -1.

    Args:
        role: The role.
        name: The bot's name.

    Returns:
        The code.

    Raises:
        UnknownNameError: Not a role, or not a bot of that role.
    """
    names = bots(role)
    if name == RANDOM:
        return -1
    if name not in names:
        raise unknown_name_error(f"{role} bot", name, names)
    return names.index(name)


@dataclass(frozen=True)
class TaskSpec:
    """A named, versioned task: who controls each role, how episodes end and pay.

    Attributes:
        name: The task's name, e.g. ``"chase-v1"``.
        version: Its version.
        agents: The roles driven by the caller's actions, in the order of multi-agent dicts.
        controllers: Every role -> ``"agent"``, a bot name, or ``"random"`` (the task draws one).
        success: The event that counts as success of the world (``"catch"``, ``"hit"``, ``"none"``);
            for several agents, the first agent's.
        time_limit: Frames before truncation; 0 = none.
        reference_bots: Per agent role, the scripted bots to compare a learner with.
        config: The task's default rule numbers.
        autoreset_mode: Always ``"same-step"``.
        benchmark: Whether the task belongs to the benchmark suite.
        description: One line on what is learned.
    """

    name: str
    version: int
    agents: tuple[str, ...]
    controllers: Mapping[str, str]
    success: str
    time_limit: int
    reference_bots: Mapping[str, tuple[str, ...]]
    config: Config
    autoreset_mode: str = "same-step"
    benchmark: bool = True
    description: str = ""


def _spec(
    name: str,
    controllers: dict[str, str],
    success: str,
    time_limit: int,
    reference_bots: dict[str, tuple[str, ...]],
    config: Config,
    description: str,
    benchmark: bool = True,
) -> TaskSpec:
    agents = tuple(r for r in ("player", "enemy", "missile") if controllers[r] == AGENT)
    return TaskSpec(
        name=name,
        version=int(name.rsplit("-v", 1)[1]),
        agents=agents,
        controllers=MappingProxyType(controllers),
        success=success,
        time_limit=time_limit,
        reference_bots=MappingProxyType(reference_bots),
        config=config,
        benchmark=benchmark,
        description=description,
    )


_NO_MISSILES = Config(max_missiles=0, fire_probability=0.0)

TASKS: Mapping[str, TaskSpec] = MappingProxyType(
    {
        t.name: t
        for t in (
            _spec(
                "chase-v1",
                {"player": "patterns", "enemy": AGENT, "missile": "straight"},
                "catch",
                600,
                {"enemy": ("chase", "intercept")},
                _NO_MISSILES,
                "The enemy learns to catch a player that wanders, circles and runs diagonals.",
            ),
            _spec(
                "chase-flee-v1",
                {"player": "flee", "enemy": AGENT, "missile": "straight"},
                "catch",
                900,
                {"enemy": ("chase", "intercept")},
                _NO_MISSILES.replace(player_speed=4.5),
                "The enemy learns to catch a slightly slower player that runs away.",
            ),
            _spec(
                "dodge-v1",
                {"player": "kite", "enemy": AGENT, "missile": "homing"},
                "catch",
                900,
                {"enemy": ("chase", "intercept", "dodge")},
                # Speeds below the enemy's 5: at equal speeds a kite that retreats can never be caught and a
                # homing missile can never be outrun, so no policy could succeed (measured: every bot 0 %).
                Config(max_missiles=3, fire_probability=0.05, player_speed=4.5, missile_speed=4.5),
                "The enemy learns to catch a kiting player without being hit by its homing missiles.",
            ),
            _spec(
                "intercept-v1",
                {"player": "idle", "enemy": RANDOM, "missile": AGENT},
                "hit",
                720,
                {"missile": ("straight", "homing")},
                Config(enemy_speed=3.5, max_missiles=1, fire_probability=0.0),
                "The missile learns to hit an enemy moving linearly, in circles, zigzags or evasively.",
            ),
            _spec(
                "duel-v1",
                {"player": AGENT, "enemy": AGENT, "missile": "straight"},
                "hit",
                1800,
                {"player": ("wander", "kite", "flee"), "enemy": ("chase", "intercept", "dodge", "staged")},
                Config(max_missiles=3),
                "Player and enemy learn against each other: the player survives and hits, the enemy catches.",
            ),
            _spec(
                "play-v1",
                {"player": AGENT, "enemy": "chase", "missile": "straight"},
                "none",
                0,
                {"player": ("kite", "flee")},
                Config(max_missiles=3),
                "The playable game: a person (or a policy) plays the player; episodes never end by rule.",
                benchmark=False,
            ),
        )
    }
)


def tasks() -> tuple[str, ...]:
    """Return the names of all tasks."""
    return tuple(TASKS)


def task_spec(name: str) -> TaskSpec:
    """Return a task's specification.

    Args:
        name: The task's name, e.g. ``"chase-v1"``.

    Returns:
        The task spec.

    Raises:
        UnknownNameError: No task of that name.
    """
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise unknown_name_error("task", name, tasks()) from None
