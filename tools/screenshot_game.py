"""Save a screenshot of a game in progress for the docs (docs/images/game.png).

    python tools/screenshot_game.py [--out docs/images/game.png] [--seed 11] [--width 960]

Runs the game headless with a scripted pilot (it steers in a circle and fires), waits for a lively
moment (the enemy on screen, missiles in flight, some points scored), and saves the screen.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"

REPO = Path(__file__).resolve().parents[1]


def lively(session: object) -> bool:
    """Whether the frame shows the game well: enemy in full view, two missiles flying, points scored."""
    from aip_game._session import GameSession

    assert isinstance(session, GameSession)
    st = session.state()
    if not bool(st["enemy_active"]) or int(st["enemy_fade"]) < 60 or int(st["missile_alive"].sum()) < 2:
        return False
    ex, ey = float(st["enemy_pos"][0]), float(st["enemy_pos"][1])
    px, py = float(st["player_pos"][0]), float(st["player_pos"][1])
    if not (120 < ex < 1160 and 140 < ey < 600 and 120 < px < 1160 and 140 < py < 600):
        return False
    near = [
        math.hypot(float(m[0]) - ex, float(m[1]) - ey)
        for m, alive in zip(st["missile_pos"], st["missile_alive"], strict=True)
        if alive
    ]
    return session.score >= 200 and 160 < math.hypot(ex - px, ey - py) < 380 and min(near) < 220


def pilot(session: object) -> set[int]:
    """Keys of a simple pilot: keep away from the enemy, sideways, so that missiles get their chance."""
    import pygame

    from aip_game._session import GameSession

    assert isinstance(session, GameSession)
    st = session.state()
    d = st["enemy_pos"] - st["player_pos"]
    dx = (float(d[0]) + 640.0) % 1280.0 - 640.0
    dy = (float(d[1]) + 360.0) % 720.0 - 360.0
    if not bool(st["enemy_active"]) or math.hypot(dx, dy) > 330:
        return set()
    a = math.atan2(-dy, -dx) + 0.6  # away from the enemy, bending to one side
    keys = set()
    if math.cos(a) > 0.38:
        keys.add(pygame.K_RIGHT)
    elif math.cos(a) < -0.38:
        keys.add(pygame.K_LEFT)
    if math.sin(a) > 0.38:
        keys.add(pygame.K_DOWN)
    elif math.sin(a) < -0.38:
        keys.add(pygame.K_UP)
    return keys


def main(argv: list[str] | None = None) -> int:
    """Play until a lively frame and save it."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "game.png")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--opponent", default="intercept")
    p.add_argument("--width", type=int, default=960, help="width of the saved image (the game draws at 1280)")
    p.add_argument("--max-frames", type=int, default=20000)
    args = p.parse_args(argv)

    import pygame

    from aip_game._app import App, Options
    from aip_game._play import GameScreen

    with tempfile.TemporaryDirectory() as home:
        app = App(
            Options(
                headless=True,
                fps=0,
                opponent=args.opponent,
                seed=args.seed,
                mod_dirs=[],
                entry_point_mods=False,
                data_dir=Path(home),
            )
        )
        screen = app.screen
        if not isinstance(screen, GameScreen):
            print(f"could not start a game: {app.notice_lines()}", file=sys.stderr)
            return 1
        app.settings.values["show_fps"] = False
        screen.show_fps = False
        for _ in range(args.max_frames):
            screen.keys = {pygame.K_SPACE, *pilot(screen.session)}
            app.tick()
            if screen.session.over:
                print("the game ended before a lively frame; try another --seed", file=sys.stderr)
                return 1
            if lively(screen.session):
                break
        else:
            print("no lively frame found; try another --seed", file=sys.stderr)
            return 1
        height = round(args.width * 720 / 1280)
        image = pygame.transform.smoothscale(app.surface, (args.width, height))
        args.out.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(image, str(args.out))
        app.close()
    print(f"saved {args.out} (frame {screen.session.frame}, score {screen.session.score})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
