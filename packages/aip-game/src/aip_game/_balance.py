"""The playable game's numbers: lives, points, levels and the engine config over play-v1, from one file.

`balance.toml` beside this module is the one source; the game, the recordings (which copy it into
their header, so a replay uses the numbers it was played with) and the balance benchmark read it
through `load_balance`.
"""

from __future__ import annotations

import functools
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ._engine import ae

__all__ = ["BALANCE_FILE", "Balance", "BalanceError", "default_balance", "load_balance"]

#: The packaged file (inside `aip_game`).
BALANCE_FILE = "balance.toml"

_GAME_KEYS = {
    "lives": (1, 1_000_000),
    "points_per_hit": (0, 1_000_000),
    "points_per_catch": (0, 1_000_000),
    "points_per_second": (0, 1_000_000),
    "seconds_per_level": (1, 86_400),
    "get_ready_frames": (0, 3_600),
}
_SIDES = ("player", "enemy")


class BalanceError(ValueError):
    """The balance numbers are malformed (the message names the field and what is allowed)."""


@dataclass(frozen=True)
class Balance:
    """The game's numbers.

    Attributes:
        lives: Lives at the start.
        points_per_hit: Points for a missile hit (playing the player).
        points_per_catch: Points for a catch (playing the enemy).
        points_per_second: Points for each full second survived.
        seconds_per_level: Seconds between two levels.
        get_ready_frames: Frames of the "get ready" count before a game's first frame.
        config: Engine ``Config`` fields applied over the play-v1 task's config.
        levels: Per side (``"player"``, ``"enemy"``), per engine parameter, its value at each level.
    """

    lives: int = 3
    points_per_hit: int = 100
    points_per_catch: int = 100
    points_per_second: int = 1
    seconds_per_level: int = 60
    get_ready_frames: int = 120
    config: Mapping[str, Any] = field(default_factory=dict)
    levels: Mapping[str, Mapping[str, tuple[float, ...]]] = field(default_factory=dict)

    @property
    def frames_per_level(self) -> int:
        """Frames between two levels (the game runs at 60 frames per second)."""
        return self.seconds_per_level * 60

    @functools.cached_property
    def max_level(self) -> int:
        """The last level."""
        lengths = [len(v) for side in self.levels.values() for v in side.values()]
        return max(lengths, default=1)

    def level_at(self, frame: int) -> int:
        """The level after `frame` frames (1 at the start)."""
        return min(self.max_level, 1 + frame // self.frames_per_level)

    def level_params(self, side: str, level: int) -> dict[str, float]:
        """The engine parameters of `level` (1-based) when a person plays `side` (``"watch"``: the player's)."""
        table = self.levels.get("enemy" if side == "enemy" else "player", {})
        return {name: values[min(level, len(values)) - 1] for name, values in table.items()}

    def engine_config(self) -> Any:
        """The engine config of a game: play-v1's, then this file's changes."""
        return ae.task_spec("play-v1").config.replace(**dict(self.config))

    def to_dict(self) -> dict[str, Any]:
        """The numbers as JSON-ready data (a recording's header keeps them)."""
        return {
            **{key: getattr(self, key) for key in _GAME_KEYS},
            "config": dict(self.config),
            "levels": {side: {k: list(v) for k, v in table.items()} for side, table in self.levels.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "balance") -> Balance:
        """Build and check the numbers from `to_dict`'s form (or the file's tables).

        Args:
            data: ``lives``, ..., ``config`` and ``levels`` as in `to_dict`.
            where: Names the source in error messages.

        Raises:
            BalanceError: A field is unknown, missing or out of range.
        """
        known = {*_GAME_KEYS, "config", "levels"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BalanceError(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {}
        for key, (low, high) in _GAME_KEYS.items():
            value = data.get(key, getattr(cls, key))
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise BalanceError(f"{where}: {key} is {value!r}; it must be an integer in [{low}, {high}]")
            values[key] = value
        config = dict(data.get("config", {}))
        try:
            ae.task_spec("play-v1").config.replace(**config)
        except (TypeError, ValueError) as exc:
            raise BalanceError(f"{where}: [config]: {exc}") from None
        return cls(**values, config=config, levels=_levels(data.get("levels", {}), where))


def _levels(raw: Any, where: str) -> dict[str, dict[str, tuple[float, ...]]]:
    if not isinstance(raw, Mapping) or set(raw) - set(_SIDES):
        raise BalanceError(f"{where}: [levels] must hold the tables {' and '.join(_SIDES)}")
    out: dict[str, dict[str, tuple[float, ...]]] = {}
    for side, table in raw.items():
        if not isinstance(table, Mapping):
            raise BalanceError(f"{where}: [levels.{side}] must be a table of parameter = [values per level]")
        out[side] = {}
        for name, values in table.items():
            if (
                not isinstance(values, list | tuple)
                or not values
                or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values)
            ):
                raise BalanceError(f"{where}: [levels.{side}] {name} must be a non-empty list of finite numbers")
            out[side][name] = tuple(float(v) for v in values)
    return out


def load_balance(text: str | None = None, where: str = BALANCE_FILE) -> Balance:
    """Read the balance file (the packaged one unless `text` is given).

    Args:
        text: TOML text in the file's form; None reads the packaged `balance.toml`.
        where: Names the source in error messages.

    Raises:
        BalanceError: The text is not valid TOML or a field is malformed.
    """
    if text is None:
        text = resources.files("aip_game").joinpath(BALANCE_FILE).read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BalanceError(f"{where}: not valid TOML ({exc})") from None
    if data.pop("version", 1) != 1:
        raise BalanceError(f"{where}: version must be 1")
    flat = {**data.pop("game", {}), **data}
    return Balance.from_dict(flat, where)


_DEFAULT: Balance | None = None


def default_balance() -> Balance:
    """The packaged numbers (read once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_balance()
    return _DEFAULT
