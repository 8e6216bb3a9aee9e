"""``aip dashboard``: the web dashboard (runs, replays, behaviour, models, play in the browser).

This package's modules import the web stack (Starlette, uvicorn) only inside the command, so that
``aip --help`` stays fast and works without the ``dashboard`` extra.
"""

from __future__ import annotations

from aip_cli._dashboard._command import register

__all__ = ["register"]
