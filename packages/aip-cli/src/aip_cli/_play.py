"""``aip play``: start the game against a registered model, a policy file or a scripted bot."""

from __future__ import annotations

import functools
import os

import typer

from aip_cli._common import TRACKING_OPTION, client_for, parse_policy_choice, require_store
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console

__all__ = ["register"]

_SIDES = ("player", "enemy", "watch")
# Watch mode without --opponent: the enemy of the game's own later levels, and of survive-v1.
_WATCH_ENEMY = "bot:staged"


def _wrong_role(what: str, role: str, wanted: str, who: str | None = "Opponent") -> str:
    if who == "Player":
        return f"{what} plays the {role} role, but --player flies the player; choose a player policy"
    return (
        f"{what} plays the {role} role, but your opponent plays the {wanted} role; choose a {wanted} "
        f"policy, or play the other side with --side {wanted}"
    )


def _opponent_arg(opponent: str, opponent_role: str, tracking_uri: str | None, *, announce: str = "Opponent") -> str:
    """The game's ``--opponent`` (or ``--player-bot``) value: a bot's name or a local policy file's path."""
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
        import aip_engine

        try:
            file_role = aip_engine.load_policy(choice.path).layout.role
        except (OSError, ValueError) as exc:
            raise CliError(f"{choice.path} is not a readable policy file: {exc}", ExitCode.USAGE) from None
        if file_role != opponent_role:
            raise CliError(_wrong_role(str(choice.path), file_role, opponent_role, announce), ExitCode.USAGE)
        return str(choice.path.resolve())
    path, _ = _load_model(choice.value, opponent_role, tracking_uri, announce=announce)
    return path


def _load_model(
    reference: str, opponent_role: str, tracking_uri: str | None, *, announce: str | None
) -> tuple[str, str]:
    """The local policy file of a registered model version, and the name the game shows for it."""
    from aip_ml.tracking import cached_policy, resolve_version

    uri = require_store(tracking_uri)
    client = client_for(uri)
    info = resolve_version(client, reference)
    if info.role != opponent_role:
        raise CliError(_wrong_role(info.reference, info.role, opponent_role, announce), ExitCode.USAGE)
    if announce:
        console.print(f"{announce}: {info.reference}", markup=False)
    name = f"{info.name} v{info.version}" + "".join(f" @{alias}" for alias in info.aliases)
    return str(cached_policy(str(client.tracking_uri), info.name, info.version)), name


def play_command(
    opponent: str | None = typer.Option(
        None,
        "--opponent",
        "-o",
        metavar="MODEL|bot:NAME|FILE",
        help="Who you play against: a registered model (chase-v1-enemy@champion), a scripted bot "
        "(bot:intercept) or a .aipp file [default: the game's menu choice].",
    ),
    side: str = typer.Option(
        "player",
        "--side",
        "-s",
        metavar="player|enemy|watch",
        help="The side you play; watch: nobody plays, the --player controller against the --opponent enemy.",
    ),
    player: str | None = typer.Option(
        None,
        "--player",
        "-p",
        metavar="MODEL|bot:NAME|FILE",
        help="With --side watch: who flies the player, a registered model (survive-v1-player@champion), "
        "a scripted bot (bot:kite) or a .aipp file [default: the game's player bot setting].",
    ),
    fullscreen: bool = typer.Option(False, "--fullscreen", help="Start in full screen (F toggles)."),
    seed: int | None = typer.Option(None, "--seed", help="Engine seed [default: a new one each game]."),
    headless: bool = typer.Option(False, "--headless", help="No window (for servers and tests)."),
    frames: int | None = typer.Option(None, "--frames", min=1, help="Quit after this many frames."),
    tracking_uri: str | None = TRACKING_OPTION,
) -> None:
    """Play Pixel Pursuit against a trained model or a scripted bot.

    Keys: arrows/WASD move, SPACE fires, P pauses, F full screen, ESC menu. Registered models are
    also offered in the game's opponent menu.
    """
    if side not in _SIDES:
        raise CliError(f"--side must be player, enemy or watch, not {side!r}", ExitCode.USAGE)
    if player is not None and side != "watch":
        raise CliError(
            "--player chooses who flies the player when you watch; add --side watch, or leave --player out "
            "to fly the player yourself",
            ExitCode.USAGE,
        )
    opponent_role = "player" if side == "enemy" else "enemy"
    argv: list[str] = ["--side", side]
    if side == "watch":
        if opponent is None:
            opponent = _WATCH_ENEMY
        chosen = parse_policy_choice(player) if player is not None else None
        if chosen is not None and chosen.kind == "model":
            # the cached file is always policy.aipp: the game shows the model's name and version instead
            path, name = _load_model(chosen.value, "player", tracking_uri, announce="Player")
            argv += ["--player-bot", path, "--player-label", name]
        elif player is not None:
            argv += ["--player-bot", _opponent_arg(player, "player", tracking_uri, announce="Player")]
    loader = None
    if opponent is not None and not headless and parse_policy_choice(opponent).kind == "model":
        # MLflow takes seconds to import: the game's window shows a loading line meanwhile
        loader = functools.partial(
            _load_model, parse_policy_choice(opponent).value, opponent_role, tracking_uri, announce=None
        )
    elif opponent is not None:
        argv += ["--opponent", _opponent_arg(opponent, opponent_role, tracking_uri)]
    if fullscreen:
        argv.append("--fullscreen")
    if seed is not None:
        argv += ["--seed", str(seed)]
    if headless:
        argv.append("--headless")
    if frames is not None:
        argv += ["--frames", str(frames)]
    if tracking_uri:
        os.environ["MLFLOW_TRACKING_URI"] = tracking_uri  # the game's menu lists this store's models
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import aip_game

    status = aip_game.main(argv, opponent_loader=loader, opponent_label=opponent if loader else None)
    if status != 0:
        raise typer.Exit(int(status))


def register(app: typer.Typer) -> None:
    """Add ``aip play`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("play")(play_command)
