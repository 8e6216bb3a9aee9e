"""The one place the game imports the engine (the package checks its API version at import)."""

from __future__ import annotations

import os
from typing import Any

import aip_engine as ae

__all__ = ["ENGINE_API_VERSION", "ENGINE_ENV", "ae", "worlds_class"]

#: The engine API version (docs/engine-api.md) this game is written for.
ENGINE_API_VERSION = 1


#: Environment variable: ``reference`` runs the game on the engine's pure-Python reference
#: implementation (same rules, much slower), to compare the two by eye or in tests.
ENGINE_ENV = "AIP_GAME_ENGINE"


def worlds_class() -> Any:
    """Return the `Worlds` class the game uses: the compiled engine's, or the reference's.

    Raises:
        ImportError: The compiled engine is not built (the message says how to build it).
    """
    if os.environ.get(ENGINE_ENV, "") == "reference":
        from aip_engine.reference import Worlds as ReferenceWorlds

        return ReferenceWorlds
    try:
        return ae.Worlds
    except ImportError as exc:
        raise ImportError(
            f"the compiled aip-engine is not available ({exc}); build it with "
            "'pip install --no-build-isolation -e packages/aip-engine', or set "
            f"{ENGINE_ENV}=reference to run on the slow Python reference"
        ) from exc
