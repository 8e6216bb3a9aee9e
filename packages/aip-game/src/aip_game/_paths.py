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
    ``%APPDATA%\\aip-game`` on Windows.

    Returns:
        The folder's path.
    """
    override = os.environ.get(HOME_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "aip-game"


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
