"""Starting the game the command line asked for, with a loading screen while slow things happen.

Finding an opponent can be slow: a registered model needs MLflow (seconds to import) and a download,
a policy file needs reading. The window shows at once with a loading line while a background thread
does that work; the game starts when it is done (or the menu shows why it could not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pygame

from ._opponents import Opponent
from ._screens import MainMenu, draw_backdrop, resolve_opponent, start_game
from ._sprites import HUD_ACCENT, HUD_TEXT

if TYPE_CHECKING:
    from ._app import App

__all__ = ["LoadingScreen", "Matchup", "start_from_options"]


@dataclass
class Matchup:
    """Who plays: the opponent, and in Watch the player's controller."""

    opponent: Opponent
    partner: Opponent | None = None


def _resolve(app: App) -> Matchup:
    """Find (and load) the opponents the options name; may take seconds. Raises with a clear message."""
    opts = app.options
    side = opts.side
    name = opts.opponent
    label = None
    if opts.opponent_loader is not None:
        name, label = opts.opponent_loader()
    assert name is not None
    if side == "watch":
        enemy = resolve_opponent(app, "enemy", name)
        partner: Opponent | None = resolve_opponent(
            app, "player", opts.player_bot or str(app.settings.get("player_bot"))
        )
    else:
        enemy = resolve_opponent(app, "enemy" if side == "player" else "player", name)
        partner = None
    if label:
        enemy.label = label
    if partner is not None and opts.player_label:
        partner.label = opts.player_label
    for who in (enemy, partner):
        if who is not None and who.kind == "policy":
            who.prepare()  # reading the file here, not in the first frame of the game
    return Matchup(enemy, partner)


def _start(app: App, matchup: Matchup) -> bool:
    opts = app.options
    if opts.side == "watch":
        return start_game(app, "watch", matchup.opponent, partner=matchup.partner)
    return start_game(app, opts.side, matchup.opponent, record=opts.record)


def start_from_options(app: App) -> None:
    """Start the game the command line asked for (skipping the menus).

    Headless, it happens at once (nobody watches a loading line); with a window, a `LoadingScreen`
    shows while the opponent is found and loaded.
    """
    if app.options.headless:
        try:
            started = _start(app, _resolve(app))
        except Exception as exc:
            app.start_error = str(exc)
            app.notify(str(exc))
            return
        if not started:
            app.start_error = app.notice_lines()[-1]
        return
    app.switch(LoadingScreen(app, _label(app), lambda: _resolve(app), lambda m: _start(app, m)))


def _label(app: App) -> str:
    opts = app.options
    return opts.opponent_label or opts.opponent or "the opponent"


class LoadingScreen:
    """Shows "loading ..." while `work` runs in a background thread, then calls `done` with its result.

    ESC goes back to the menu (the work finishes unseen). A failure shows its message over the menu.

    Args:
        app: The app.
        label: What is being loaded, for the loading line.
        work: The slow part; runs in a background thread and must not touch pygame.
        done: Runs in the game's thread with the result (it usually starts the game).
    """

    #: The app's ``--frames`` limit does not count the frames spent loading.
    counts_frames = False

    def __init__(self, app: App, label: str, work: Callable[[], Matchup], done: Callable[[Matchup], bool]) -> None:
        self.app = app
        self.label = label
        self.frame = 0
        self._done = done
        self._result: Matchup | None = None
        self._error: BaseException | None = None
        self.cancelled = False
        self._thread = threading.Thread(target=self._run, args=(work,), name="aip-game loading", daemon=True)
        self._thread.start()

    def _run(self, work: Callable[[], Matchup]) -> None:
        try:
            self._result = work()
        except BaseException as exc:  # reported on screen; the thread must not die silently
            self._error = exc

    @property
    def finished(self) -> bool:
        """Whether the background work is over."""
        return not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background work (tests use it)."""
        self._thread.join(timeout)

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.cancelled = True
            self.app.switch(MainMenu(self.app))

    def update(self) -> None:
        self.frame += 1
        if self.cancelled or not self.finished:
            return
        if self._error is not None:
            self.app.start_error = f"could not load {self.label}: {self._error}"
            self.app.notify(self.app.start_error)
            self.app.switch(MainMenu(self.app))
        elif self._result is not None and not self._done(self._result):
            self.app.start_error = self.app.notice_lines()[-1] if self.app.notice_lines() else "could not start"
            self.app.switch(MainMenu(self.app))

    def draw(self, surface: pygame.Surface) -> None:
        draw_backdrop(self.app, surface, self.frame)
        t = self.app.text
        t.draw(surface, "PIXEL PURSUIT", (640, 260), 84, HUD_TEXT, anchor="center")
        dots = "." * (1 + (self.frame // 20) % 3)
        t.draw(surface, f"loading {self.label} {dots}", (640, 350), 34, HUD_ACCENT, anchor="center")
        t.draw(surface, "Esc: back to the menu", (640, 652), 24, HUD_ACCENT, anchor="center")
        self.app.hud.draw_notices(surface, self.app.notice_lines())
