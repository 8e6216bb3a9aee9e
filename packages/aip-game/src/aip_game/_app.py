"""The application: the window, the screen being shown, and the frame loop."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pygame

from . import _paths
from ._highscores import HighScoreTable
from ._hud import Hud
from ._modhost import ModHost, discover
from ._screens import MainMenu, start_from_options
from ._settings import Settings
from ._sound import Sounds
from ._sprites import LOGICAL_SIZE, Sprites
from ._text import Text

__all__ = ["App", "Options", "Screen"]

log = logging.getLogger("aip_game")


@dataclass
class Options:
    """How the game starts (the command line fills these in).

    Attributes:
        opponent: Start a game at once against this opponent (a bot name, a policy file, or a menu
            label); None shows the main menu.
        side: ``"player"``, ``"enemy"`` or ``"watch"`` (with `opponent`).
        player_bot: In ``"watch"``, the player's controller (default: the settings' player bot).
        headless: No window (``SDL_VIDEODRIVER=dummy``), for tests and servers.
        seed: The engine seed (None: a new one each game).
        fullscreen: Start in fullscreen.
        record: Record the human's frames (with `opponent`).
        frames: Quit after this many frames of the loop (None: run until Quit).
        screenshot: Save the screen to this PNG file when quitting.
        fps: Frame rate limit (0: as fast as possible, e.g. headless benchmarks).
        mod_dirs: Folders of loose mods (default: the data folder's ``mods``).
        entry_point_mods: Load mods installed as packages.
        data_dir: Overrides the user data folder.
    """

    opponent: str | None = None
    side: str = "player"
    player_bot: str | None = None
    headless: bool = False
    seed: int | None = None
    fullscreen: bool | None = None
    record: bool = False
    frames: int | None = None
    screenshot: Path | None = None
    fps: int = 60
    mod_dirs: list[Path] | None = None
    entry_point_mods: bool = True
    data_dir: Path | None = None


class Screen(Protocol):
    """What the app shows: it handles events, advances a frame, and draws."""

    def handle(self, event: pygame.event.Event) -> None:
        """React to one pygame event (mouse positions already in logical coordinates)."""

    def update(self) -> None:
        """Advance one frame."""

    def draw(self, surface: pygame.Surface) -> None:
        """Draw onto the logical 1280 × 720 surface."""


@dataclass
class _Notice:
    text: str
    frames: int


class App:
    """The game. Create it, then `run()` (or `tick()` frame by frame, as the tests do).

    Args:
        options: How to start.
    """

    def __init__(self, options: Options | None = None) -> None:
        self.options = options or Options()
        if self.options.data_dir is not None:
            os.environ[_paths.HOME_ENV] = str(self.options.data_dir)
        if self.options.headless:
            # Must be set before pygame initialises its video system.
            os.environ["SDL_VIDEODRIVER"] = "dummy"
            os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        pygame.display.init()
        pygame.font.init()
        self.notices: list[_Notice] = []
        self.settings = Settings(_paths.settings_path())
        self.fullscreen = bool(
            self.options.fullscreen if self.options.fullscreen is not None else self.settings.get("fullscreen")
        )
        self.window = self._set_mode()
        pygame.display.set_caption("Pixel Pursuit")
        self.logical_size = LOGICAL_SIZE
        self.surface = pygame.Surface(LOGICAL_SIZE).convert()
        self.text = Text()
        self.sprites = Sprites()
        self.hud = Hud(self.text, self.sprites)
        self.highscores = HighScoreTable(_paths.highscores_path())
        self.sounds = Sounds(bool(self.settings.get("sound")))
        self.clock = pygame.time.Clock()
        self.running = True
        self.frames = 0
        self.mode_switched_at = -(10**9)
        self.host = ModHost(self.settings, on_problem=lambda message: self.notify(message, logged=True))
        mod_dirs = self.options.mod_dirs if self.options.mod_dirs is not None else [_paths.mods_dir()]
        discover(self.host, mod_dirs, entry_points=self.options.entry_point_mods)
        for problem in (self.settings.problem, self.highscores.problem):
            if problem:
                self.notify(problem)
        self.frame_times: list[tuple[float, float, float, float]] = []
        self.measure = False
        self.screen: Screen = MainMenu(self)
        #: Why the game the options asked for could not start (shown as a notice over the menu).
        self.start_error: str | None = None
        if self.options.opponent is not None:
            start_from_options(self)

    # ------------------------------------------------------------------ window

    def _set_mode(self) -> pygame.Surface:
        pg = pygame
        if self.fullscreen:
            try:
                return pg.display.set_mode((0, 0), pg.FULLSCREEN)
            except pg.error as exc:
                self.notify(f"fullscreen is not available here ({exc})")
                self.fullscreen = False
        # Leaving fullscreen, a resizable window would keep the desktop's size: reset it first.
        pg.display.set_mode((1280, 720))
        return pg.display.set_mode((1280, 720), pg.RESIZABLE)

    def toggle_fullscreen(self) -> None:
        """Switch between fullscreen and a window; the game's state is untouched."""
        self.fullscreen = not self.fullscreen
        self.window = self._set_mode()
        self.mode_switched_at = self.frames

    def _viewport(self) -> tuple[float, int, int]:
        win = pygame.display.get_surface()
        ww, wh = win.get_size()
        lw, lh = self.logical_size
        scale = min(ww / lw, wh / lh)
        return scale, int((ww - lw * scale) / 2), int((wh - lh * scale) / 2)

    def to_logical(self, pos: tuple[int, int]) -> tuple[int, int]:
        """Map a window position (a mouse event's) to logical 1280 × 720 coordinates."""
        scale, ox, oy = self._viewport()
        return int((pos[0] - ox) / scale), int((pos[1] - oy) / scale)

    def to_window(self, pos: tuple[int, int]) -> tuple[int, int]:
        """Map a logical position to the window (tests use it to click)."""
        scale, ox, oy = self._viewport()
        return int(pos[0] * scale + ox), int(pos[1] * scale + oy)

    def present(self) -> None:
        """Scale the logical surface into the window (letterboxed) and flip."""
        pg = pygame
        win = pg.display.get_surface()
        if win.get_size() == self.logical_size:
            win.blit(self.surface, (0, 0))
        else:
            scale, ox, oy = self._viewport()
            size = (max(1, int(self.logical_size[0] * scale)), max(1, int(self.logical_size[1] * scale)))
            win.fill((0, 0, 0))
            win.blit(pg.transform.smoothscale(self.surface, size), (ox, oy))
        pg.display.flip()

    # ------------------------------------------------------------------ screens and notices

    def switch(self, screen: Screen) -> None:
        """Show another screen from the next frame on."""
        self.screen = screen

    def notify(self, message: str, frames: int = 600, *, logged: bool = False) -> None:
        """Show a notice at the bottom of the screen for `frames` frames (and log it unless `logged`)."""
        if not logged:
            log.warning(message)
        self.notices.append(_Notice(message, frames))
        del self.notices[:-6]

    def notice_lines(self) -> list[str]:
        """The notices shown now."""
        return [n.text for n in self.notices]

    def quit(self) -> None:
        """Stop the loop after this frame."""
        self.running = False

    # ------------------------------------------------------------------ the loop

    def tick(self) -> None:
        """One frame: events, one update of the current screen, draw, present."""
        pg = pygame
        t0 = time.perf_counter()
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.quit()
                continue
            if event.type in (pg.MOUSEMOTION, pg.MOUSEBUTTONDOWN, pg.MOUSEBUTTONUP):
                attrs = dict(event.dict)
                attrs["pos"] = self.to_logical(event.pos)
                event = pg.event.Event(event.type, attrs)
            self.screen.handle(event)
        t1 = time.perf_counter()
        self.screen.update()
        t2 = time.perf_counter()
        self.screen.draw(self.surface)
        for notice in self.notices:
            notice.frames -= 1
        self.notices = [n for n in self.notices if n.frames > 0]
        self.present()
        t3 = time.perf_counter()
        if self.measure:
            self.frame_times.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0))
        self.frames += 1
        if self.options.frames is not None and self.frames >= self.options.frames:
            self.quit()
        if self.options.fps > 0:
            self.clock.tick(self.options.fps)
        else:
            self.clock.tick()

    def run(self) -> int:
        """Run until Quit (or `Options.frames`); return the exit status."""
        try:
            while self.running:
                self.tick()
        except Exception:
            log.exception("the game stopped on an error (this is a bug; please report it with %s)", _paths.log_path())
            raise
        finally:
            self.close()
        return 0

    def close(self) -> None:
        """End a running game (closing any recording), save a requested screenshot, and shut pygame down."""
        end: Callable[[], None] | None = getattr(self.screen, "abandon", None)
        if end is not None:
            end()
        if self.options.screenshot is not None:
            self.options.screenshot.parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(self.surface, str(self.options.screenshot))
        pygame.quit()
