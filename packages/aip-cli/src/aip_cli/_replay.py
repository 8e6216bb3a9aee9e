"""``aip replay FILE``: watch a recorded game again in the game's replay viewer, or check it."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from aip_cli._errors import CliError, ExitCode

__all__ = ["register"]


def replay_command(
    file: str = typer.Argument(..., metavar="FILE", help="A recording (.aiprec) made by the game."),
    verify: bool = typer.Option(
        False, "--verify", help="No window: replay every frame and say whether it matches the recording."
    ),
    fullscreen: bool = typer.Option(False, "--fullscreen", help="Start in full screen (F toggles)."),
    headless: bool = typer.Option(False, "--headless", help="No window (for servers and tests)."),
    frames: int | None = typer.Option(None, "--frames", min=1, help="Quit after this many frames."),
) -> None:
    """Replay a recorded game: SPACE play/pause, Left/Right seek, Up/Down speed, Esc back.

    Recordings are in the game's data folder (``recordings/``); the game's Record screen lists them.
    With --verify the exit status is 0 when every frame matched, 1 when the replay differs.
    """
    if not Path(file).is_file():
        raise CliError(f"recording not found: {file}", ExitCode.NOT_FOUND)
    argv = ["--replay", file]
    if verify:
        argv.append("--verify")
    if fullscreen:
        argv.append("--fullscreen")
    if headless:
        argv.append("--headless")
    if frames is not None:
        argv += ["--frames", str(frames)]
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import aip_game

    status = aip_game.main(argv)
    if status != 0:
        raise typer.Exit(int(status))


def register(app: typer.Typer) -> None:
    """Add ``aip replay`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("replay")(replay_command)
