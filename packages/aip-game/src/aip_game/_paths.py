"""Where the game keeps its files: the user data folder and the files inside it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = [
    "HOME_ENV",
    "data_dir",
    "highscores_path",
    "log_path",
    "mods_dir",
    "policy_dirs",
    "recordings_dir",
    "settings_path",
]

#: Environment variable that moves the whole user data folder (tests and portable installs use it).
HOME_ENV = "AIP_GAME_HOME"


def data_dir() -> Path:
    r"""Return the user data folder (not created here).

    ``$AIP_GAME_HOME`` when set; otherwise ``$XDG_DATA_HOME/aip-game`` (default
    ``~/.local/share/aip-game``) on Linux, ``~/Library/Application Support/aip-game`` on macOS and
    ``%APPDATA%\\aip-game`` on Windows. A relative value of any of these variables is ignored (the
    XDG rule; ``~`` counts as absolute): mods are code, and they must never load from whatever
    folder the game happens to be started in.

    Returns:
        The folder's path (absolute).
    """
    override = _absolute(os.environ.get(HOME_ENV))
    if override is not None:
        return override
    if sys.platform == "win32":
        base = _absolute(os.environ.get("APPDATA")) or Path.home() / "AppData" / "Roaming"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = _absolute(os.environ.get("XDG_DATA_HOME")) or Path.home() / ".local" / "share"
    return base / "aip-game"


def _absolute(value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else None


def highscores_path() -> Path:
    """Return the high-score table's file."""
    return data_dir() / "highscores.json"


def settings_path() -> Path:
    """Return the settings file."""
    return data_dir() / "settings.json"


def recordings_dir() -> Path:
    """Return the folder demonstration recordings are written to."""
    return data_dir() / "recordings"


def mods_dir() -> Path:
    """Return the folder of loose mods (``*.py`` files and packages)."""
    return data_dir() / "mods"


def log_path() -> Path:
    """Return the game's log file."""
    return data_dir() / "game.log"


def policy_dirs() -> tuple[Path, ...]:
    """Return the folders searched for policy files (``*.aipp``): ``./policies`` then the data folder's."""
    return (Path.cwd() / "policies", data_dir() / "policies")
