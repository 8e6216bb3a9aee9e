"""``aip play``: start the game against a registered model, a policy file or a scripted bot."""

from __future__ import annotations

import typer

from aip_cli._common import TRACKING_OPTION, client_for, parse_policy_choice, require_store
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console

__all__ = ["register"]

_SIDES = ("player", "enemy")


def _opponent_arg(opponent: str, opponent_role: str, tracking_uri: str | None) -> str:
    """The game's ``--opponent`` value: a bot's name or a local policy file's path."""
    choice = parse_policy_choice(opponent)
    if choice.kind == "bot":
        import aip_engine

        if choice.value not in aip_engine.bots(opponent_role):
            raise CliError(
                f"unknown {opponent_role} bot {choice.value!r}; {opponent_role} bots: "
                f"{', '.join(aip_engine.bots(opponent_role))}",
                ExitCode.USAGE,
            )
        return choice.value
    if choice.kind == "file":
        return str(choice.path.resolve())
    from aip_ml.tracking import cached_policy, resolve_version

    uri = require_store(tracking_uri)
    client = client_for(uri)
    info = resolve_version(client, choice.value)
    if info.role != opponent_role:
        raise CliError(
            f"{info.reference} plays the {info.role} role, but your opponent plays {opponent_role}; "
            f"choose a {opponent_role} model or --side {'enemy' if opponent_role == 'player' else 'player'}",
            ExitCode.USAGE,
        )
    console.print(f"Opponent: {info.reference}", markup=False)
    return str(cached_policy(str(client.tracking_uri), info.name, info.version))


def play_command(
    opponent: str | None = typer.Option(
        None,
        "--opponent",
        "-o",
        metavar="MODEL|bot:NAME|FILE",
        help="Who you play against: a registered model (chase-v1-enemy@champion), a scripted bot "
        "(bot:intercept) or a .aipp file [default: the game's menu choice].",
    ),
    side: str = typer.Option("player", "--side", "-s", metavar="player|enemy", help="The side you play."),
    fullscreen: bool = typer.Option(False, "--fullscreen", help="Start in full screen (F toggles)."),
    tracking_uri: str | None = TRACKING_OPTION,
) -> None:
    """Play Pixel Pursuit against a trained model or a scripted bot.

    Keys: arrows/WASD move, SPACE fires, P pauses, F full screen, ESC menu. Registered models are
    also offered in the game's opponent menu.
    """
    if side not in _SIDES:
        raise CliError(f"--side must be player or enemy, not {side!r}", ExitCode.USAGE)
    opponent_role = "enemy" if side == "player" else "player"
    argv: list[str] = ["--side", side]
    if opponent is not None:
        argv += ["--opponent", _opponent_arg(opponent, opponent_role, tracking_uri)]
    if fullscreen:
        argv.append("--fullscreen")
    import aip_game

    entry = getattr(aip_game, "main", None)
    if entry is None:
        raise CliError("this aip-game has no main(); update aip-game", ExitCode.UNAVAILABLE)
    status = entry(argv)
    if isinstance(status, int) and status != 0:
        raise typer.Exit(status)


def register(app: typer.Typer) -> None:
    """Add ``aip play`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("play")(play_command)
