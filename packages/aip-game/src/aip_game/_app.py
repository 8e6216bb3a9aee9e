"""The application: the window, the screen being shown, and the frame loop."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pygame

from . import _paths
from ._highscores import HighScoreTable
from ._hud import Hud
from ._loading import start_from_options
from ._modhost import ModHost, discover
from ._pacing import Pacer
from ._ratings import RatingBook
from ._screens import MainMenu
from ._settings import Settings
from ._sound import Sounds
from ._sprites import HUD_ACCENT, HUD_TEXT, LOGICAL_SIZE, Sprites
from ._text import Text

__all__ = ["SCALING_ENV", "App", "Options", "Screen"]

log = logging.getLogger("aip_game")

#: Environment variable: ``software`` scales the picture with pygame instead of SDL's renderer.
SCALING_ENV = "AIP_GAME_SCALING"
_RATE = 60.0


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
        frames: Quit after this many simulation frames, not counting a loading screen's (None: run until Quit).
        screenshot: Save the screen to this PNG file when quitting.
        fps: Most frames drawn per second. The game always simulates 60 frames per second of real
            time; 0 runs as fast as possible, one frame simulated per frame drawn (benchmarks).
        mod_dirs: Folders of loose mods (default: the data folder's ``mods``).
        entry_point_mods: Load mods installed as packages.
        data_dir: Overrides the user data folder.
        get_ready: Start each game with the get-ready count (tests and benchmarks turn it off).
        opponent_loader: Finds the opponent when it takes time (a registered model): called in the
            background while the window shows a loading line, it returns the `opponent` value (a bot
            name or a policy file) and the name to show. Used instead of `opponent`.
        opponent_label: The name the loading line shows (default: `opponent`).
        player_label: The name shown for `player_bot` (a registered model's name and version; default:
            its menu label, a policy file's stem).
        replay: Open the replay viewer on this recording instead of the menu.
    """

    opponent: str | None = None
    side: str = "player"
    player_bot: str | None = None
    player_label: str | None = None
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
    get_ready: bool = True
    opponent_loader: Callable[[], tuple[str, str]] | None = None
    opponent_label: str | None = None
    replay: Path | None = None


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
        #: ``"hardware"``: SDL's renderer scales the picture to the window (``pygame.SCALED``);
        #: ``"software"``: pygame scales it (the dummy driver, or when SDL offers no renderer).
        self.scaling = "software"
        self.logical_size = LOGICAL_SIZE
        self.window = self._open_window()
        pygame.display.set_caption("Pixel Pursuit")
        self.surface = pygame.Surface(LOGICAL_SIZE).convert()
        self.text = Text()
        # The window shows at once; what follows (sprites, sounds, mods) takes a moment.
        self.show_loading("starting")
        self.sprites = Sprites()
        self.hud = Hud(self.text, self.sprites)
        self.highscores = HighScoreTable(_paths.highscores_path())
        self.sounds = Sounds(bool(self.settings.get("sound")))
        self.clock = pygame.time.Clock()
        self.pacer = Pacer(_RATE)
        self.running = True
        self.frames = 0
        self.counted_frames = 0
        self.mode_switched_at = -(10**9)
        #: Whether the window has the keyboard focus, and for how many frames it has not had it.
        self.focused = True
        self.unfocused_frames = 0
        #: Games started since the app started (the first one shows the keys).
        self.games_started = 0
        self.host = ModHost(self.settings, on_problem=lambda message: self.notify(message, logged=True))
        mod_dirs = self.options.mod_dirs if self.options.mod_dirs is not None else [_paths.mods_dir()]
        discover(self.host, mod_dirs, entry_points=self.options.entry_point_mods)
        for problem in (self.settings.problem, self.highscores.problem):
            if problem:
                self.notify(problem)
        #: With `measure`: seconds of each `tick`'s events, update, drawing, presenting, and the whole.
        self.frame_times: list[tuple[float, float, float, float, float]] = []
        self.measure = False
        self.screen: Screen = MainMenu(self)
        self._ratings: RatingBook | None = None
        #: Why the game the options asked for could not start (shown as a notice over the menu).
        self.start_error: str | None = None
        if self.options.replay is not None:
            self._open_replay(self.options.replay)
        elif self.options.opponent is not None or self.options.opponent_loader is not None:
            start_from_options(self)

    def rating_book(self) -> RatingBook:
        """The opponents' ratings from the installed rating sources (asked once, in the background).

        The game asks when its first game ends (a source may import a model store's client, which
        must not slow the first seconds of play); the HUD shows ratings from then on.
        """
        if self._ratings is None:
            self._ratings = RatingBook()
        return self._ratings

    def ratings_ready(self) -> RatingBook | None:
        """The rating book when the sources have already answered, else None (nothing is asked)."""
        return self._ratings if self._ratings is not None and self._ratings.done else None

    def _open_replay(self, path: Path) -> None:
        from ._replay_view import ReplayScreen
        from .recording import RecordingError

        try:
            self.switch(ReplayScreen(self, path))
        except (OSError, RecordingError) as exc:
            self.start_error = str(exc)
            self.notify(str(exc))

    # ------------------------------------------------------------------ window

    def _open_window(self) -> pygame.Surface:
        """Set the display mode once: SDL's renderer scales where it exists, pygame otherwise."""
        pg = pygame
        wanted = os.environ.get(SCALING_ENV, "auto")
        if wanted != "software" and pg.display.get_driver() != "dummy":
            flags = pg.SCALED | (pg.FULLSCREEN if self.fullscreen else pg.RESIZABLE)
            try:
                with warnings.catch_warnings():
                    # "no fast renderer available": SDL's software renderer still scales better than pygame
                    warnings.simplefilter("ignore")
                    window = pg.display.set_mode(LOGICAL_SIZE, flags)
                self.scaling = "hardware"
                self._log_mode()
                return window
            except pg.error as exc:
                log.warning("SDL's renderer is not available (%s); scaling in software", exc)
        return self._set_software_mode(first=True)

    def _set_software_mode(self, *, first: bool = False) -> pygame.Surface:
        pg = pygame
        self.scaling = "software"
        if self.fullscreen:
            try:
                window = pg.display.set_mode((0, 0), pg.FULLSCREEN)
                self._log_mode()
                return window
            except pg.error as exc:
                self.notify(f"fullscreen is not available here ({exc})")
                self.fullscreen = False
        if not first:
            # Leaving fullscreen, a resizable window would keep the desktop's size: reset it first.
            pg.display.set_mode(LOGICAL_SIZE)
        window = pg.display.set_mode(LOGICAL_SIZE, pg.RESIZABLE)
        self._log_mode()
        return window

    def _log_mode(self) -> None:
        size = pygame.display.get_window_size()
        log.info(
            "display mode set: driver %s, %s scaling, %s, window %dx%d",
            pygame.display.get_driver(),
            self.scaling,
            "fullscreen" if self.fullscreen else "windowed",
            *size,
        )

    def toggle_fullscreen(self) -> None:
        """Switch between fullscreen and a window; the game's state is untouched."""
        self.fullscreen = not self.fullscreen
        self.mode_switched_at = self.frames
        if self.scaling == "hardware":
            try:
                pygame.display.toggle_fullscreen()
                self.window = pygame.display.get_surface()
                self._log_mode()
                return
            except pygame.error as exc:
                log.warning("toggling fullscreen failed (%s); scaling in software", exc)
        self.window = self._set_software_mode()

    def show_loading(self, line: str) -> None:
        """Draw a loading card at once (before the loop runs, or while something slow happens)."""
        self.surface.fill((6, 8, 20))
        self.text.draw(self.surface, "PIXEL PURSUIT", (640, 300), 84, HUD_TEXT, anchor="center")
        self.text.draw(self.surface, line, (640, 380), 32, HUD_ACCENT, anchor="center")
        self.present()
        pygame.event.pump()

    def _viewport(self) -> tuple[float, int, int]:
        if self.scaling == "hardware":  # SDL maps the window to the logical size, mouse events too
            return 1.0, 0, 0
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
        if self.scaling == "hardware" or win.get_size() == self.logical_size:
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

    def _events(self) -> None:
        pg = pygame
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.quit()
                continue
            if event.type == pg.WINDOWFOCUSLOST:
                self.focused = False
            elif event.type == pg.WINDOWFOCUSGAINED:
                self.focused = True
                self.unfocused_frames = 0
            if event.type in (pg.MOUSEMOTION, pg.MOUSEBUTTONDOWN, pg.MOUSEBUTTONUP):
                attrs = dict(event.dict)
                attrs["pos"] = self.to_logical(event.pos)
                event = pg.event.Event(event.type, attrs)
            self.screen.handle(event)

    def _update(self) -> None:
        if not self.focused:
            self.unfocused_frames += 1
        self.screen.update()
        for notice in self.notices:
            notice.frames -= 1
        self.notices = [n for n in self.notices if n.frames > 0]
        self.frames += 1
        # A loading screen does not count: `--frames N` plays N frames whatever the loading takes.
        if getattr(self.screen, "counts_frames", True):
            self.counted_frames += 1
        if self.options.frames is not None and self.counted_frames >= self.options.frames:
            self.quit()

    def _draw(self) -> None:
        self.screen.draw(self.surface)
        self.present()

    def fps(self) -> float:
        """Frames drawn per second, over about the last second."""
        intervals = self.pacer.stats.draw_intervals[-60:]
        if intervals:
            total = sum(intervals)
            return len(intervals) / total if total > 0 else 0.0
        return float(self.clock.get_fps())

    def tick(self) -> None:
        """One frame: events, one update of the current screen, draw, present (tests step the game so)."""
        t0 = time.perf_counter()
        self._events()
        t1 = time.perf_counter()
        self._update()
        t2 = time.perf_counter()
        self.screen.draw(self.surface)
        t3 = time.perf_counter()
        self.present()
        t4 = time.perf_counter()
        if self.measure:
            self.frame_times.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0))
        self.clock.tick()

    def run(self) -> int:
        """Run until Quit (or `Options.frames`); return the exit status.

        The game simulates 60 frames per second of real time and draws as often as the machine and
        `Options.fps` allow; with ``fps=0`` it runs one frame per draw as fast as it can.
        """
        try:
            if self.options.fps <= 0:
                while self.running:
                    self.tick()
            else:
                self._run_paced()
        except Exception:
            log.exception("the game stopped on an error (this is a bug; please report it with %s)", _paths.log_path())
            raise
        finally:
            self.close()
        return 0

    def _run_paced(self) -> None:
        pacer = self.pacer
        pacer.start()
        draw_period = 1.0 / self.options.fps
        last_draw = -1e9
        while self.running:
            due = pacer.due()
            if due == 0:
                pacer.wait()
                continue
            self._events()
            for _ in range(due):
                if not self.running:
                    break
                self._update()
            now = pacer.clock()
            if self.running and now - last_draw >= draw_period * 0.98:
                last_draw = now
                self._draw()
                pacer.drew()

    def close(self) -> None:
        """End a running game (closing any recording), save a requested screenshot, and shut pygame down."""
        end: Callable[[], None] | None = getattr(self.screen, "abandon", None)
        if end is not None:
            end()
        if self.options.screenshot is not None:
            self.options.screenshot.parent.mkdir(parents=True, exist_ok=True)
            pygame.image.save(self.surface, str(self.options.screenshot))
        pygame.quit()
