"""The player's settings: a small record of choices, saved atomically as JSON."""

from __future__ import annotations

import logging
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._atomic import write_json_atomic
from ._datafile import DamagedFile, keep_aside, read_json

__all__ = ["BUILTIN_SETTINGS", "MISSILE_GUIDANCE", "SettingSpec", "Settings"]

log = logging.getLogger("aip_game")


@dataclass(frozen=True)
class SettingSpec:
    """A setting the Settings screen shows: the player cycles through `choices`.

    Attributes:
        key: The key it is stored under (a mod's keys are prefixed with ``"<mod name>."``).
        label: What the screen shows.
        choices: The allowed values (JSON values: bool, int, float or str).
        default: The value before the player changes it; one of `choices`.
        help: One line of explanation.
        open_choices: The choices can grow while the game runs (policies found later): a stored
            text value outside them is kept, not reset (the game reports it when it is not found).
    """

    key: str
    label: str
    choices: tuple[Any, ...]
    default: Any
    help: str = ""
    open_choices: bool = False

    def __post_init__(self) -> None:
        if not self.choices:
            raise ValueError(f"setting {self.key!r} needs at least one choice")
        if self.default not in self.choices:
            raise ValueError(f"setting {self.key!r}: default {self.default!r} is not one of {self.choices!r}")


BUILTIN_SETTINGS: tuple[SettingSpec, ...] = (
    SettingSpec("fullscreen", "Fullscreen", (False, True), False, "Start in fullscreen (F toggles in game)"),
    SettingSpec("show_fps", "Show FPS", (True, False), True, "Frames per second in the HUD"),
    SettingSpec("trails", "Missile trails", (True, False), True, "Draw a fading trail behind missiles"),
    SettingSpec("explosions", "Explosions", (True, False), True, "Particles when the enemy is hit"),
    SettingSpec("sound", "Sound", (True, False), True, "Sound effects"),
    SettingSpec("debug_overlay", "Debug overlay", (False, True), False, "What the opponent sees (F3 in game)"),
    SettingSpec(
        "player_bot",
        "Player bot (hunt/watch)",
        ("patterns", "wander", "kite", "flee", "idle"),
        "patterns",
        "The player bot you hunt as the enemy, and in Watch",
    ),
    SettingSpec(
        "missile_guidance",
        "Missile guidance",
        ("bot: straight", "bot: homing"),
        "bot: straight",
        "What steers your missiles: straight, homing, or a learned missile policy (intercept-v1)",
        open_choices=True,
    ),
    SettingSpec("player_name", "Name", ("PLAYER",), "PLAYER", "Type a name when you enter the high scores"),
)

#: The setting that chooses what steers the player's missiles (a label of the missile role's choices).
MISSILE_GUIDANCE = "missile_guidance"


@dataclass
class Settings:
    """The current values of every known setting, loaded from and saved to one JSON file.

    Unknown keys in the file are kept (a mod that is not loaded today keeps its settings).

    Args:
        path: The settings file; None keeps them in memory only.
    """

    path: Path | None = None
    values: dict[str, Any] = field(default_factory=dict)
    specs: dict[str, SettingSpec] = field(default_factory=dict)
    problem: str | None = None

    def __post_init__(self) -> None:
        if self.path is not None:
            self._load(self.path)
        for spec in BUILTIN_SETTINGS:  # after loading: a stored value outside its choices is reset
            self.register(spec)

    def _load(self, path: Path) -> None:
        try:
            data = read_json(path, "settings file")
            if data is None:
                return
            if not isinstance(data, dict):
                raise DamagedFile("expected a JSON object of settings")
        except DamagedFile as exc:
            try:
                backup = keep_aside(path)
            except OSError as err:
                self.problem = f"the settings file {path} is damaged ({exc}) and could not be moved aside ({err})"
            else:
                self.problem = f"the settings file {path} is damaged ({exc}); it was kept as {backup.name}"
            self.problem += "; using the defaults"
            log.warning(self.problem)
            return
        except OSError as exc:  # unreadable, or not a regular file (left alone)
            self.problem = f"the settings file {path} could not be read ({exc}); using the defaults"
            log.warning(self.problem)
            return
        self.values.update(data)

    def register(self, spec: SettingSpec) -> None:
        """Make a setting known (the Settings screen shows it); a stored value outside its choices is reset."""
        self.specs[spec.key] = spec
        if spec.key == "player_name":
            name = self.values.get(spec.key)
            if not isinstance(name, str) or not name.isprintable() or not 0 < len(name) <= 64:
                self.values[spec.key] = spec.default
            return
        stored = self.values.get(spec.key, spec.default)
        if spec.open_choices and isinstance(stored, str) and stored.isprintable() and 0 < len(stored) <= 200:
            return
        # Same type as well as equal: True is not accepted for 1, nor 1.0 for True.
        if not any(type(stored) is type(choice) and stored == choice for choice in spec.choices):
            if spec.key in self.values:
                log.warning(
                    "setting %r: stored value %s is not one of %r; using %r",
                    spec.key,
                    reprlib.repr(stored),
                    spec.choices,
                    spec.default,
                )
            self.values[spec.key] = spec.default
        self.values.setdefault(spec.key, spec.default)

    def visible(self) -> Sequence[SettingSpec]:
        """Return the settings the Settings screen lists, built-in first."""
        return [s for s in self.specs.values() if s.key != "player_name"]

    def get(self, key: str) -> Any:
        """Return a setting's value (its default when never set)."""
        if key in self.values:
            return self.values[key]
        spec = self.specs.get(key)
        return spec.default if spec is not None else None

    def set(self, key: str, value: Any) -> None:
        """Change a setting and save the file."""
        self.values[key] = value
        self.save()

    def cycle(self, key: str, step: int = 1) -> Any:
        """Move a setting to its next (or previous) choice, save, and return the new value."""
        spec = self.specs[key]
        current = self.get(key)
        index = spec.choices.index(current) if current in spec.choices else 0
        value = spec.choices[(index + step) % len(spec.choices)]
        self.set(key, value)
        return value

    def save(self) -> None:
        """Write the settings atomically (nothing when the path is None)."""
        if self.path is None:
            return
        try:
            write_json_atomic(self.path, self.values)
        except (OSError, TypeError, ValueError) as exc:  # a mod's value that is not plain JSON: logged
            log.warning("could not save the settings to %s: %s", self.path, exc)
