"""The mod API (version 1): what a mod can see and do. A stable, versioned public interface.

A mod is a `Mod` subclass found through the entry-point group ``aip_game.mods`` or in the folder
of loose mods (see docs/mods.md). It declares the API version it was written for in `Mod.api_version`;
a mod whose version differs from `MOD_API_VERSION` is reported in the menu and not loaded. In
`Mod.setup` it receives a `ModContext` through which it can:

- subscribe to the game's typed events (`GameStartEvent`, `FrameEvent`, `HitEvent`, ...);
- add an opponent: a `Controller` for the ``"enemy"`` or ``"player"`` role;
- draw an overlay over the arena each frame;
- add settings to the Settings screen;
- change the engine's rule numbers (``Config`` fields) and per-world parameters (``params``).

Every call into a mod is isolated: a mod that raises is disabled, reported on screen and in the log,
and the game goes on.

Changes to this module follow the project's deprecation policy; an incompatible change raises
`MOD_API_VERSION`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import pygame

__all__ = [
    "EVENT_TYPES",
    "MOD_API_VERSION",
    "CatchEvent",
    "Controller",
    "FireEvent",
    "FrameEvent",
    "GameEndEvent",
    "GameEvent",
    "GameStartEvent",
    "GameView",
    "HitEvent",
    "LevelUpEvent",
    "LifeLostEvent",
    "Mod",
    "ModContext",
    "RespawnEvent",
]

#: The mod API version this game provides. A mod must declare exactly this version.
MOD_API_VERSION = 1


# ----------------------------------------------------------------------------- events


@dataclass(frozen=True)
class GameEvent:
    """Base of every event; subscribing to it receives all events.

    Attributes:
        frame: The game's frame number when the event happened (0 before the first step).
    """

    frame: int


@dataclass(frozen=True)
class GameStartEvent(GameEvent):
    """A game started. `side` is the human's role (``"player"``, ``"enemy"``, or ``"watch"``)."""

    side: str
    opponent: str
    seed: int


@dataclass(frozen=True)
class GameEndEvent(GameEvent):
    """A game ended; `reason` is ``"game over"`` or ``"quit"``."""

    score: int
    reason: str


@dataclass(frozen=True)
class FrameEvent(GameEvent):
    """Published after every engine step (keep handlers fast)."""

    score: int
    lives: int
    level: int


@dataclass(frozen=True)
class FireEvent(GameEvent):
    """The player fired a missile from `position` (arena pixels, the player's centre)."""

    position: tuple[float, float]


@dataclass(frozen=True)
class HitEvent(GameEvent):
    """A missile hit the enemy at `position`."""

    position: tuple[float, float]


@dataclass(frozen=True)
class CatchEvent(GameEvent):
    """The enemy caught the player at `position`."""

    position: tuple[float, float]


@dataclass(frozen=True)
class RespawnEvent(GameEvent):
    """The enemy reappeared at `position`."""

    position: tuple[float, float]


@dataclass(frozen=True)
class LifeLostEvent(GameEvent):
    """The human lost a life; `lives` are left."""

    lives: int


@dataclass(frozen=True)
class LevelUpEvent(GameEvent):
    """The difficulty rose to `level` (1 is the start); `enemy_speed_scale` is the new scale."""

    level: int
    enemy_speed_scale: float


#: Every concrete event type, in a stable order.
EVENT_TYPES: tuple[type[GameEvent], ...] = (
    GameStartEvent,
    GameEndEvent,
    FrameEvent,
    FireEvent,
    HitEvent,
    CatchEvent,
    RespawnEvent,
    LifeLostEvent,
    LevelUpEvent,
)

E = TypeVar("E", bound=GameEvent)


# ----------------------------------------------------------------------------- the game as mods see it


@runtime_checkable
class GameView(Protocol):
    """The running game as a mod sees it (handlers, overlays and controllers receive it).

    Attributes:
        frame: Frames played.
        score: The current score.
        lives: Lives left.
        level: The difficulty level (1 at the start).
        side: The human's role, or ``"watch"``.
        opponent: The opponent's label.
    """

    frame: int
    score: int
    lives: int
    level: int
    side: str
    opponent: str

    def state(self) -> Mapping[str, npt.NDArray[Any]]:
        """The engine's state of the one world, indexed without the world axis (read-only views)."""
        ...

    def param(self, name: str) -> float:
        """Read a per-world engine parameter (``engine-api.md``: ``params``)."""
        ...

    def set_param(self, name: str, value: float) -> None:
        """Change a per-world engine parameter from the next frame on."""
        ...

    def add_score(self, points: int, reason: str = "") -> None:
        """Add (or with a negative number, remove) points."""
        ...

    def to_screen(self, x: float, y: float) -> tuple[int, int]:
        """Map arena coordinates to the pixel of the surface an overlay draws on."""
        ...


@runtime_checkable
class Controller(Protocol):
    """A mod-provided opponent: it chooses the actions of one role every frame.

    `act` receives the role's observation (``float32``, in the role's layout: see
    ``aip_engine.role_layout(role)``) and the game view, and returns the action in the role's action
    layout (e.g. ``[move_x, move_y]`` for the enemy). An optional ``reset(seed: int)`` is called at
    the start of each game.
    """

    def act(self, observation: npt.NDArray[np.float32], view: GameView) -> Sequence[float] | npt.NDArray[Any]:
        """Return the role's action for this frame."""
        ...


Overlay = Callable[["pygame.Surface", GameView], None]


# ----------------------------------------------------------------------------- the mod and its context


class Mod:
    """Base class of a mod. Subclass it, set `api_version` (and a `name`), and override `setup`.

    Attributes:
        name: A short unique name (defaults to the entry point's or file's name).
        version: The mod's own version string.
        api_version: The mod API version the mod was written for; must equal `MOD_API_VERSION`.
        description: One line shown in the menu.
    """

    name: str = ""
    version: str = "0"
    api_version: int = -1
    description: str = ""

    def setup(self, ctx: ModContext) -> None:
        """Register what the mod adds; called once when the game loads the mod.

        Args:
            ctx: The mod's handle on the game.
        """


@dataclass(frozen=True)
class OpponentOffer:
    """An opponent added by a mod: `factory()` makes a fresh `Controller` for each game."""

    label: str
    role: str
    factory: Callable[[], Controller]


@dataclass(frozen=True)
class SettingOffer:
    """A setting added by a mod (the key is stored as ``"<mod name>.<key>"``)."""

    key: str
    label: str
    choices: tuple[Any, ...]
    default: Any
    help: str


class ModContext:
    """What a mod registers in `Mod.setup`; the game reads it back when it runs.

    Args:
        mod_name: The mod's name (prefixes its settings and its log).
        settings: Reads a setting's current value by full key.
    """

    def __init__(self, mod_name: str, settings: Callable[[str], Any]) -> None:
        self.mod_name = mod_name
        self.log = logging.getLogger(f"aip_game.mods.{mod_name}")
        self.handlers: list[tuple[type[GameEvent], Callable[[Any], None]]] = []
        self.opponents: list[OpponentOffer] = []
        self.overlays: list[Overlay] = []
        self.settings: list[SettingOffer] = []
        self.config_changes: dict[str, Any] = {}
        self.param_changes: dict[str, float] = {}
        self._read_setting = settings
        self.game: GameView | None = None

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """Call `handler(event)` for every event of `event_type` (or a subclass) the game publishes.

        Raises:
            TypeError: `event_type` is not a `GameEvent` class.
        """
        if not (isinstance(event_type, type) and issubclass(event_type, GameEvent)):
            raise TypeError(f"subscribe() needs a GameEvent class, got {event_type!r}")
        self.handlers.append((event_type, handler))

    def add_opponent(self, label: str, role: str, factory: Callable[[], Controller]) -> None:
        """Offer an opponent for `role` (``"enemy"`` or ``"player"``) in the Play and Watch menus.

        Raises:
            ValueError: `role` is not ``"enemy"`` or ``"player"``.
        """
        if role not in ("enemy", "player"):
            raise ValueError(f"an opponent's role must be 'enemy' or 'player', got {role!r}")
        self.opponents.append(OpponentOffer(label, role, factory))

    def add_overlay(self, draw: Overlay) -> None:
        """Call `draw(surface, view)` every frame after the arena is drawn, before the HUD."""
        self.overlays.append(draw)

    def add_setting(self, key: str, label: str, choices: Sequence[Any], default: Any, help: str = "") -> None:
        """Add a setting to the Settings screen; read it with `setting(key)`."""
        self.settings.append(SettingOffer(key, label, tuple(choices), default, help))

    def setting(self, key: str) -> Any:
        """Return the current value of one of this mod's settings."""
        return self._read_setting(f"{self.mod_name}.{key}")

    def set_config(self, **fields: Any) -> None:
        """Change engine ``Config`` fields (e.g. ``missile_speed=7``) for the games that start later."""
        self.config_changes.update(fields)

    def set_param(self, name: str, value: float) -> None:
        """Set a per-world engine parameter (e.g. ``player_speed``) at the start of every game."""
        self.param_changes[name] = float(value)
