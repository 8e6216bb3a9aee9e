"""aip_game: Pixel Pursuit, the playable game on top of the aip-engine simulation.

Start it with the ``aip-game`` command or ``python -m aip_game``; from Python, ``aip_game.main()``.
Public modules: `aip_game.mods` (the mod API), `aip_game.recording` (recordings: demonstrations and
replays, read without pygame) and `aip_game.replay` (re-simulating a recording frame for frame).
`GameSession` is one game without a window (the game's own rules over the engine: score, lives,
levels), driven frame by frame by whoever shows it; `BotOpponent` and `PolicyOpponent` control the
other side. The web dashboard plays games through them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aip_engine._deprecation import require_engine_api

from . import mods, recording
from ._engine import ENGINE_API_VERSION

# Refuse an engine whose API differs from the one this game was written for, with what to install.
require_engine_api(ENGINE_API_VERSION, "aip-game")

__all__ = [
    "App",
    "BotOpponent",
    "GameSession",
    "Options",
    "PolicyOpponent",
    "__version__",
    "main",
    "mods",
    "recording",
    "replay",
]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from . import replay
    from ._app import App, Options
    from ._cli import main
    from ._opponents import BotOpponent, PolicyOpponent
    from ._session import GameSession


def __getattr__(name: str) -> Any:
    # pygame and the engine load only when the game itself is used, so that `aip_game.recording`
    # and `aip_game.mods` stay light.
    if name in ("App", "Options"):
        from . import _app

        return getattr(_app, name)
    if name in ("BotOpponent", "PolicyOpponent"):
        from . import _opponents

        return getattr(_opponents, name)
    if name == "GameSession":
        from ._session import GameSession

        return GameSession
    if name == "replay":
        import importlib

        return importlib.import_module(".replay", __name__)
    if name == "main":
        from ._cli import main

        return main
    raise AttributeError(f"module 'aip_game' has no attribute {name!r}")
