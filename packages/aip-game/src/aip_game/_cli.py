"""The ``aip-game`` command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__, _paths

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    p = argparse.ArgumentParser(
        prog="aip-game",
        description="Pixel Pursuit: dodge and shoot the enemy, or hunt as the enemy. Without options, the menu opens.",
    )
    p.add_argument(
        "--opponent",
        help="start a game at once against this opponent: a bot name (chase, "
        "intercept, dodge, staged, ...), a policy file (.aipp) or a menu label",
    )
    p.add_argument(
        "--side",
        choices=("player", "enemy", "watch"),
        default="player",
        help="the side you play with --opponent (watch: AI against AI); default: player",
    )
    p.add_argument("--player-bot", help="with --side watch: the player's controller (a bot or policy)")
    p.add_argument(
        "--player-label", help="with --player-bot: the name the game shows and logs for it (a registered model's)"
    )
    p.add_argument("--replay", type=Path, metavar="FILE", help="open the replay viewer on a recording (.aiprec)")
    p.add_argument(
        "--verify",
        action="store_true",
        help="with --replay: no window; replay the whole recording, say whether every frame matched (exit 1 if not)",
    )
    p.add_argument("--headless", action="store_true", help="no window (SDL_VIDEODRIVER=dummy), for servers and tests")
    p.add_argument("--seed", type=int, help="engine seed (default: a new one each game)")
    p.add_argument("--fullscreen", action=argparse.BooleanOptionalAction, default=None, help="start in fullscreen")
    p.add_argument("--record", action="store_true", help="with --opponent: record your frames as a demonstration")
    p.add_argument("--frames", type=int, help="quit after this many frames")
    p.add_argument("--screenshot", type=Path, help="save the last frame to this PNG file when quitting")
    p.add_argument("--fps", type=int, default=60, help="frame-rate limit; 0 = unlimited (default 60)")
    p.add_argument(
        "--mods-dir",
        type=Path,
        action="append",
        help="folder of loose mods (repeatable; default: the data folder's mods/)",
    )
    p.add_argument("--no-installed-mods", action="store_true", help="do not load mods installed as packages")
    p.add_argument(
        "--data-dir", type=Path, help=f"user data folder (default: ${_paths.HOME_ENV} or {_paths.data_dir()})"
    )
    p.add_argument("--version", action="version", version=f"aip-game {__version__}")
    return p


def main(
    argv: Sequence[str] | None = None,
    *,
    opponent_loader: Callable[[], tuple[str, str]] | None = None,
    opponent_label: str | None = None,
) -> int:
    """Run the game; return the exit status.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).
        opponent_loader: Finds an opponent that takes time to find (a registered model), in the
            background while the window shows a loading line; returns what ``--opponent`` would be (a
            bot name or a policy file) and the name to show. Replaces ``--opponent``.
        opponent_label: The name the loading line shows while `opponent_loader` runs.
    """
    args = build_parser().parse_args(argv)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if args.verify:
        return _verify(args.replay)
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if args.data_dir is not None:
        os.environ[_paths.HOME_ENV] = str(args.data_dir)
    _setup_log()
    try:
        from ._app import App, Options
    except ImportError as exc:
        print(f"aip-game: {exc}", file=sys.stderr)
        return 2
    options = Options(
        opponent=args.opponent,
        side=args.side,
        player_bot=args.player_bot,
        player_label=args.player_label,
        headless=args.headless,
        seed=args.seed,
        fullscreen=args.fullscreen,
        record=args.record,
        frames=args.frames,
        screenshot=args.screenshot,
        fps=args.fps,
        mod_dirs=args.mods_dir,
        entry_point_mods=not args.no_installed_mods,
        opponent_loader=opponent_loader,
        opponent_label=opponent_label,
        replay=args.replay,
    )
    app = App(options)
    if app.start_error is not None and args.headless:
        # Nobody can pick another opponent from the menu: fail instead of idling there. The reason is
        # already on stderr (the notice's log line).
        app.close()
        return 2
    return app.run()


def _verify(path: Path | None) -> int:
    """``--replay FILE --verify``: replay without a window and report."""
    if path is None:
        print("aip-game: --verify needs --replay FILE", file=sys.stderr)
        return 2
    from .recording import RecordingError
    from .replay import verify

    try:
        result = verify(path)
    except (OSError, RecordingError) as exc:
        print(f"aip-game: {exc}", file=sys.stderr)
        return 2
    seconds = result.frames / 60
    if result.exact:
        print(f"{path}: {result.frames} frames ({seconds:.1f} s) replayed exactly; score {result.score}")
        return 0
    print(f"{path}: the replay differs from the recording from frame {result.diverged_at} on", file=sys.stderr)
    return 1


def _setup_log() -> None:
    """Log to stderr (warnings) and to the data folder's game.log (everything from INFO).

    Called once per game; a later game in the same process whose data folder differs (another
    ``--data-dir`` or ``$AIP_GAME_HOME``) moves the file handler to that folder's log.
    """
    log = logging.getLogger("aip_game")
    log.setLevel(logging.INFO)
    if not any(getattr(h, "_aip_stderr", False) for h in log.handlers):
        stderr = logging.StreamHandler()
        stderr.setLevel(logging.WARNING)
        stderr.setFormatter(logging.Formatter("aip-game: %(message)s"))
        stderr._aip_stderr = True  # type: ignore[attr-defined]
        log.addHandler(stderr)
    path = _paths.log_path()
    for handler in list(log.handlers):
        if isinstance(handler, logging.FileHandler) and getattr(handler, "_aip_log", False):
            if Path(handler.baseFilename) == path.resolve():
                return
            log.removeHandler(handler)
            handler.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._aip_log = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    except OSError as exc:
        log.warning("cannot write the log file: %s", exc)
