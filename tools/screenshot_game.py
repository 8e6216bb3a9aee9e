"""Save the docs' screenshots of the game (docs/images/), taken from a real X window.

    python tools/screenshot_game.py                 # a private Xvfb; every picture
    python tools/screenshot_game.py --headless      # no X server: the game's own surface (dummy driver)

Pictures: ``game.png`` (a game in progress: a scripted pilot steers and fires until a lively moment),
``ready.png`` (the get-ready count of the first game, with the keys), ``menu.png`` (the main menu)
and ``replay.png`` (the replay viewer on a recording of the game just played). With an X server the
picture is what the server shows in the game's window (read from Xvfb's frame buffer), so it shows
SDL's scaling and presentation, not only what the game drew.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

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
    return session.score >= 100 and 160 < math.hypot(ex - px, ey - py) < 380 and min(near) < 220


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


class XvfbScreen:
    """A private Xvfb whose frame buffer is a file (XWD format) that can be read at any moment."""

    def __init__(self, width: int = 1920, height: int = 1080) -> None:
        if shutil.which("Xvfb") is None:
            raise SystemExit("Xvfb is not installed (python3 tools/dev.py setup installs it as root); or --headless")
        self.folder = tempfile.mkdtemp(prefix="aip-xvfb-")
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [
                *("Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24"),
                *("-fbdir", self.folder, "-nolisten", "tcp"),
            ],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as pipe:
            self.display = ":" + pipe.readline().strip()

    def grab(self, rect: tuple[int, int, int, int]) -> Any:
        """The screen's pixels inside `rect` (x, y, width, height) as a pygame surface."""
        import numpy as np
        import pygame

        data = Path(self.folder, "Xvfb_screen0").read_bytes()
        fields = struct.unpack(">25I", data[:100])
        header_size, height = fields[0], fields[5]
        bits, line, ncolors = fields[11], fields[12], fields[19]
        if bits != 32:
            raise SystemExit(f"unexpected Xvfb frame buffer: {bits} bits per pixel")
        start = header_size + 12 * ncolors
        pixels = np.frombuffer(data, dtype=np.uint8, count=line * height, offset=start).reshape(height, line // 4, 4)
        x, y, w, h = rect
        rgb = pixels[y : y + h, x : x + w, 2::-1]  # BGRX to RGB
        return pygame.surfarray.make_surface(np.ascontiguousarray(rgb.transpose(1, 0, 2)))

    def close(self) -> None:
        """Stop the server and remove its frame buffer."""
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def _window_rect() -> tuple[int, int, int, int]:
    import pygame
    from pygame._sdl2 import video

    window = video.Window.from_display_module()
    x, y = window.position
    w, h = pygame.display.get_window_size()
    return int(x), int(y), int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    """Play until each picture's moment and save it."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=REPO / "docs" / "images", help="folder of the pictures")
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--opponent", default="intercept")
    p.add_argument("--width", type=int, default=960, help="width of the saved images (the game draws at 1280)")
    p.add_argument("--max-frames", type=int, default=20000)
    p.add_argument("--headless", action="store_true", help="no X server: save the game's own surface")
    args = p.parse_args(argv)
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    screen_server = None
    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    else:
        screen_server = XvfbScreen()
        os.environ["DISPLAY"] = screen_server.display
        os.environ["SDL_VIDEODRIVER"] = "x11"
    try:
        return _shoot(args, screen_server)
    finally:
        if screen_server is not None:
            screen_server.close()


def _shoot(args: argparse.Namespace, server: XvfbScreen | None) -> int:
    import pygame

    from aip_game._app import App, Options
    from aip_game._play import GameScreen
    from aip_game._replay_view import ReplayScreen
    from aip_game._screens import MainMenu

    args.out.mkdir(parents=True, exist_ok=True)

    def save(app: App, name: str) -> None:
        app.tick()  # the picture as presented
        image = server.grab(_window_rect()) if server is not None else app.surface
        height = round(args.width * image.get_height() / image.get_width())
        pygame.image.save(pygame.transform.smoothscale(image, (args.width, height)), str(args.out / name))
        print(f"saved {args.out / name}")

    with tempfile.TemporaryDirectory() as home:
        options = Options(
            seed=args.seed, mod_dirs=[], entry_point_mods=False, data_dir=Path(home), fps=0, fullscreen=False
        )
        app = App(options)
        app.settings.values.update({"show_fps": False, "sound": False})
        for _ in range(40):
            app.tick()
        save(app, "menu.png")
        from aip_game._opponents import BotOpponent
        from aip_game._screens import start_game

        start_game(app, "player", BotOpponent("enemy", args.opponent), record=True)
        screen = app.screen
        assert isinstance(screen, GameScreen)
        screen.show_fps = False
        for _ in range(screen.ready_frames // 2):
            app.tick()
        save(app, "ready.png")
        while screen.ready_frames > 0:
            app.tick()
        for i in range(args.max_frames):
            screen.keys = {pygame.K_SPACE, *pilot(screen.session)}
            if i == 300:
                screen.hint_frames = 0  # the picture of a game in progress, without the first game's keys
            app.tick()
            if screen.session.over:
                print("the game ended before a lively frame; try another --seed", file=sys.stderr)
                return 1
            if i > 300 and lively(screen.session):
                break
        else:
            print("no lively frame found; try another --seed", file=sys.stderr)
            return 1
        save(app, "game.png")
        frames = screen.session.frame
        assert screen.recorder is not None
        path = screen.recorder.path
        screen.abandon()
        app.switch(MainMenu(app))
        viewer = ReplayScreen(app, path)
        app.switch(viewer)
        viewer.seek(max(0, frames - 200))
        app.tick()
        for _ in range(30):
            app.tick()
        save(app, "replay.png")
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
