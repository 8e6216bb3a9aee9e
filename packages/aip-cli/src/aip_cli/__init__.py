"""aip_cli: the ``aip`` command of AIP (train, eval, play, models, bench, doctor).

Run ``aip --help``. The command is thin: it parses and validates, shows progress, and calls
aip-ml, aip-game and aip-engine.
"""

from __future__ import annotations

import sys

from aip_engine._deprecation import require_engine_api

require_engine_api(1, "aip-cli")  # the engine API version this command is written against

from aip_cli._app import app  # noqa: E402
from aip_cli._app import main as _run  # noqa: E402
from aip_cli._errors import ExitCode  # noqa: E402

__all__ = ["ExitCode", "__version__", "app", "main"]

__version__ = "0.1.0"


def main() -> None:
    """The console-script entry point: run ``aip`` and exit with its status."""
    sys.exit(_run())
