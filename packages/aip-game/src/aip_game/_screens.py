"""The menu screens: main menu, side and opponent choice, high scores, settings, help."""

from __future__ import annotations

import dataclasses
import logging
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pygame

from . import _paths
from ._highscores import rating_text
from ._menu import Menu, MenuItem
from ._opponents import Opponent, OpponentChoice, PolicyOpponent, SourceScan, entry_point_choices, local_choices
from ._settings import MISSILE_GUIDANCE
from ._sprites import ENEMY_BODY, HUD_ACCENT, HUD_TEXT, HUD_WARN, PLAYER_BODY

if TYPE_CHECKING:
    from ._app import App, Screen

log = logging.getLogger("aip_game")

__all__ = [
    "HelpScreen",
    "HighScoresScreen",
    "MainMenu",
    "OpponentMenu",
    "SettingsScreen",
    "SideMenu",
    "resolve_opponent",
    "start_game",
]

_SIDE_LABEL = {"player": "the player", "enemy": "the enemy"}
#: The missile guidance of the game's rules: straight flight.
DEFAULT_GUIDANCE = "bot: straight"


class _MenuScreen:
    """A screen made of a title and a `Menu` over the game's background."""

    title = ""
    subtitle = ""

    def __init__(self, app: App, menu: Menu) -> None:
        self.app = app
        self.menu = menu
        self.frame = 0

    def handle(self, event: pygame.event.Event) -> None:
        self.menu.handle(event)

    def update(self) -> None:
        self.frame += 1

    def draw(self, surface: pygame.Surface) -> None:
        draw_backdrop(self.app, surface, self.frame)
        t = self.app.text
        t.draw(surface, self.title, (640, 70), 84, HUD_TEXT, anchor="center")
        if self.subtitle:
            t.draw(surface, self.subtitle, (640, 128), 28, HUD_ACCENT, anchor="center")
        self.menu.draw(surface, t)
        self.app.hud.draw_notices(surface, self.app.notice_lines())


def _recordings(app: App, back: Callable[[], Screen] | None = None) -> Screen:
    from ._recordings import RecordingsScreen

    return RecordingsScreen(app, back)


def draw_backdrop(app: App, surface: pygame.Surface, frame: int) -> None:
    """The menus' background: the arena with a player and an enemy circling."""
    surface.blit(app.sprites.background, (0, 0))
    a = frame * 0.01
    app.sprites.draw_enemy(surface, (int(640 + 520 * math.cos(a)), int(400 + 260 * math.sin(a))), frame, 255)
    app.sprites.draw_player(
        surface,
        (int(640 + 520 * math.cos(a + 0.5)), int(400 + 260 * math.sin(a + 0.5))),
        (-math.sin(a + 0.5), math.cos(a + 0.5)),
    )


class MainMenu(_MenuScreen):
    """Play, Watch, Record demonstrations, High scores, Settings, Help, Quit."""

    title = "PIXEL PURSUIT"
    subtitle = "dodge, shoot, survive - or hunt"

    def __init__(self, app: App) -> None:
        items = [
            MenuItem("Play", lambda: app.switch(SideMenu(app, record=False))),
            MenuItem("Watch (AI against AI)", lambda: app.switch(OpponentMenu(app, "enemy", watch=True))),
            MenuItem("Watch a recording", lambda: app.switch(_recordings(app))),
            MenuItem("Record demonstrations", lambda: app.switch(SideMenu(app, record=True))),
            MenuItem("High scores", lambda: app.switch(HighScoresScreen(app))),
            MenuItem("Settings", lambda: app.switch(SettingsScreen(app))),
            MenuItem("Help", lambda: app.switch(HelpScreen(app))),
            MenuItem("Quit", app.quit),
        ]
        super().__init__(app, Menu(items, on_back=self.ask_quit, top=220))
        #: ESC asked whether to quit: Enter or Y quits, ESC or N stays.
        self.confirming = False

    def ask_quit(self) -> None:
        """Ask before quitting (ESC on the main menu)."""
        self.confirming = True

    def handle(self, event: pygame.event.Event) -> None:
        if not self.confirming:
            super().handle(event)
            return
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_y):
                self.app.quit()
            elif event.key in (pygame.K_ESCAPE, pygame.K_n, pygame.K_BACKSPACE):
                self.confirming = False
        elif event.type == pygame.MOUSEBUTTONDOWN:
            self.confirming = False

    def draw(self, surface: pygame.Surface) -> None:
        super().draw(surface)
        self._draw_mods(surface)
        if self.confirming:
            self.app.hud.draw_center(surface, "QUIT?", ["Enter or Y: quit      Esc or N: stay"])

    def _draw_mods(self, surface: pygame.Surface) -> None:
        mods = self.app.host.mods
        if not mods:
            return
        t = self.app.text
        t.draw(surface, "MODS", (24, 200), 24, HUD_ACCENT)
        y = 224
        for record in mods[:8]:
            if record.enabled:
                t.draw(surface, f"+ {record.name} {record.version}", (24, y), 22, HUD_TEXT)
                y += 20
                continue
            t.draw(surface, f"x {record.name}: {record.state}", (24, y), 22, HUD_WARN)
            for part in _wrap(record.message, 38)[:2]:
                y += 18
                t.draw(surface, part, (36, y), 19, HUD_WARN)
            y += 22


class SideMenu(_MenuScreen):
    """Choose your side: the player (dodge and shoot) or the enemy (hunt a player bot)."""

    title = "CHOOSE YOUR SIDE"

    def __init__(self, app: App, *, record: bool) -> None:
        self.subtitle = ""
        if record:
            from .recording import find

            count = len(find(_paths.recordings_dir()))
            self.subtitle = f"demonstrations go to {_paths.recordings_dir()} ({count} there now)"
        items = [
            MenuItem("Play the player: dodge and shoot", lambda: app.switch(OpponentMenu(app, "enemy", record=record))),
            MenuItem(
                "Play the enemy: hunt a player bot", lambda: app.switch(OpponentMenu(app, "player", record=record))
            ),
        ]
        if record:
            items.append(
                MenuItem(
                    "Your recordings: watch them again",
                    lambda: app.switch(_recordings(app, back=lambda: SideMenu(app, record=True))),
                    "every recording with its length and outcome; choose one to replay it",
                )
            )
        super().__init__(app, Menu(items, on_back=lambda: app.switch(MainMenu(app)), top=300))


class OpponentMenu(_MenuScreen):
    """Choose who controls `role`: every scripted bot, every policy found, and mods' controllers.

    Args:
        app: The app.
        role: The role the chosen opponent plays.
        record: Record the human's frames.
        watch: Watch mode: after the enemy, the player's controller is chosen too.
        enemy: In watch mode, the enemy already chosen.
    """

    def __init__(
        self, app: App, role: str, *, record: bool = False, watch: bool = False, enemy: Opponent | None = None
    ):
        self._app = app
        self.role = role
        self.title = "WATCH: " if watch else ""
        self.title += "CHOOSE THE ENEMY" if role == "enemy" else "CHOOSE THE PLAYER"
        if not watch:
            self.subtitle = "scripted bots, trained policies and mods"
        elif enemy is None:
            self.subtitle = "who hunts; then you choose who flies the ship"
        else:
            self.subtitle = f"who flies the ship against {enemy.display_name}"
        self.choices = local_choices(role, app.host, _paths.policy_dirs())
        self._mode = (record, watch, enemy)
        self._merged = False
        self.scan = SourceScan(role)
        super().__init__(app, self._menu())
        if watch and role == "player":
            self._preselect(f"bot: {app.settings.get('player_bot')}")

    def _preselect(self, label: str) -> None:
        for i, item in enumerate(self.menu.items):
            if item.label == label and item.enabled:
                self.menu.selected = i
                self.menu.item_rect(i)  # scrolls it into view
                return

    def _menu(self) -> Menu:
        record, watch, enemy = self._mode
        items = [
            MenuItem(
                c.label,
                self._chooser(self._app, c, record, watch, enemy),
                c.problem or c.description,
                c.problem is None,
            )
            for c in self.choices
        ]
        if not self._merged:
            items.append(MenuItem("looking for installed models ...", lambda: None, "", False))
        back: Callable[[], None] = lambda: self._app.switch(MainMenu(self._app))  # noqa: E731
        return Menu(items, on_back=back, top=185, spacing=44, size=36)

    def update(self) -> None:
        super().update()
        if not self._merged and self.scan.done:
            self._merged = True
            selected = self.menu.selected
            self.choices = self.choices + (self.scan.result or [])
            self.menu = self._menu()
            self.menu.selected = min(selected, len(self.menu.items) - 1)

    def _chooser(
        self, app: App, choice: OpponentChoice, record: bool, watch: bool, enemy: Opponent | None
    ) -> Callable[[], None]:
        def choose() -> None:
            try:
                opponent = choice.make()
            except Exception as exc:
                app.notify(f"{choice.label}: {exc}")
                return
            if watch and enemy is None:
                app.switch(OpponentMenu(app, "player", watch=True, enemy=opponent))
            elif watch and enemy is not None:
                start_game(app, "watch", enemy, partner=opponent)
            else:
                start_game(app, "player" if choice.role == "enemy" else "enemy", opponent, record=record)

        return choose


def start_game(
    app: App, side: str, opponent: Opponent, *, partner: Opponent | None = None, record: bool = False
) -> bool:
    """Start a game and show it; on failure show a notice and stay. Return whether it started."""
    from ._play import GameScreen

    try:
        screen = GameScreen(app, side, opponent, partner=partner, record=record)
    except Exception as exc:
        app.notify(f"could not start the game: {exc}")
        return False
    app.switch(screen)
    against = opponent.display_name + (f" with {partner.display_name} as the player" if partner else "")
    log.info("game started: %s against %s (seed %d)", side, against, screen.session.seed)
    return True


def resolve_opponent(app: App, role: str, name: str) -> Opponent:
    """Find an opponent for `role` by bot name, policy file path, or menu label.

    Raises:
        ValueError: Nothing matches (the message lists the choices).
    """
    if name.endswith(".aipp") or Path(name).is_file():
        path = Path(name)
        return PolicyOpponent(f"policy: {path.stem}", role, lambda: path)
    # installed policy sources are asked only when nothing local matches: they may be slow
    wanted = name.replace(": ", ":").strip()
    choices = local_choices(role, app.host, _paths.policy_dirs())
    for group in (choices, None):
        if group is None:
            group = entry_point_choices(role)
            choices = choices + group
        for c in group:
            if wanted in (c.label.replace(": ", ":"), c.label.split(": ", 1)[-1]) and c.problem is None:
                return c.make()
    raise ValueError(f"no {role} opponent named {name!r}; choose one of: {', '.join(c.label for c in choices)}")


def missile_guidance(app: App) -> Opponent | None:
    """What the settings say steers the player's missiles: None for straight flight (the default).

    A choice that is no longer found (a deleted policy file, a store that does not answer) is reported
    with a notice, and the missiles fly straight.
    """
    label = str(app.settings.get(MISSILE_GUIDANCE) or DEFAULT_GUIDANCE)
    if label == DEFAULT_GUIDANCE:
        return None
    try:
        guidance = resolve_opponent(app, "missile", label)
        guidance.prepare()
    except Exception as exc:
        app.notify(f"missile guidance {label!r} is not available ({exc}); your missiles fly straight")
        return None
    return guidance


def guidance_choices(app: App, extra: Sequence[OpponentChoice] = ()) -> None:
    """Offer every missile controller found (bots, policy files, mods, `extra`) in the Settings screen."""
    spec = app.settings.specs[MISSILE_GUIDANCE]
    found = local_choices("missile", app.host, _paths.policy_dirs()) + list(extra)
    labels = tuple(dict.fromkeys(c.label for c in found if c.problem is None))
    app.settings.register(dataclasses.replace(spec, choices=labels))


def new_seed(app: App) -> int:
    """The seed of the next game: the command line's, or a fresh one."""
    return app.options.seed if app.options.seed is not None else random.randrange(2**31)


class HighScoresScreen:
    """The high-score table. Enter or Esc (or a click) returns to the menu."""

    def __init__(self, app: App, highlight: int | None = None) -> None:
        self.app = app
        self.highlight = highlight
        self.frame = 0

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """The table as drawn: rank, name, score, who was played, and that opponent's rating."""
        return [
            (f"{i + 1:2d}.", e.name, f"{e.score:7d}", f"{e.side} vs {e.opponent}"[:34], rating_text(e))
            for i, e in enumerate(self.app.highscores.entries)
        ]

    def handle(self, event: pygame.event.Event) -> None:
        if (event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_RETURN, pygame.K_SPACE)) or (
            event.type == pygame.MOUSEBUTTONDOWN
        ):
            self.app.switch(MainMenu(self.app))

    def update(self) -> None:
        self.frame += 1

    def draw(self, surface: pygame.Surface) -> None:
        draw_backdrop(self.app, surface, self.frame)
        t = self.app.text
        t.draw(surface, "HIGH SCORES", (640, 70), 84, HUD_TEXT, anchor="center")
        entries = self.app.highscores.entries
        if not entries:
            t.draw(surface, "no scores yet - play a game!", (640, 300), 36, HUD_ACCENT, anchor="center")
        else:
            t.draw(surface, "opponent", (660, 140), 22, HUD_ACCENT)
            t.draw(surface, "its rating", (1250, 140), 22, HUD_ACCENT, anchor="topright")
        for i, (e, (rank, name, score, against, rating)) in enumerate(zip(entries, self.rows(), strict=True)):
            y = 170 + i * 44
            color = HUD_WARN if i == self.highlight else HUD_TEXT
            t.draw(surface, rank, (230, y), 36, HUD_ACCENT, anchor="topright")
            t.draw(surface, name, (250, y), 36, color)
            t.draw(surface, score, (630, y), 36, color, anchor="topright")
            side_color = PLAYER_BODY if e.side == "player" else ENEMY_BODY
            t.draw(surface, against, (660, y + 6), 24, side_color)
            t.draw(
                surface,
                rating,
                (1250, y + 6),
                24,
                HUD_ACCENT if e.opponent_rating is not None else HUD_TEXT,
                anchor="topright",
            )
        t.draw(surface, "Enter / Esc: back", (640, 652), 24, HUD_ACCENT, anchor="center")
        self.app.hud.draw_notices(surface, self.app.notice_lines())


class SettingsScreen(_MenuScreen):
    """Every setting (the game's and the mods'); Enter, a click or Right cycles; Left goes back one."""

    title = "SETTINGS"

    def __init__(self, app: App) -> None:
        self.app = app
        super().__init__(app, Menu([], on_back=lambda: app.switch(MainMenu(app)), top=180, spacing=44, size=34))
        # learned missile policies: the local ones at once, the installed sources' when they arrive
        guidance_choices(app)
        self.scan = SourceScan("missile")
        self._merged = False
        self._rebuild()

    def update(self) -> None:
        super().update()
        if not self._merged and self.scan.done:
            self._merged = True
            guidance_choices(self.app, self.scan.result or [])
            self._rebuild()

    def _rebuild(self) -> None:
        selected = self.menu.selected
        specs = self.app.settings.visible()
        items = [
            MenuItem(f"{s.label}: {_show(self.app.settings.get(s.key))}", self._cycler(s.key, 1), s.help) for s in specs
        ]
        self.menu = Menu(items, on_back=self.menu.on_back, top=180, spacing=44, size=34)
        self.menu.selected = min(selected, max(0, len(items) - 1))

    def _cycler(self, key: str, step: int) -> Callable[[], None]:
        def cycle() -> None:
            self.app.settings.cycle(key, step)
            if key == "fullscreen" and bool(self.app.settings.get(key)) != self.app.fullscreen:
                self.app.toggle_fullscreen()
            self._rebuild()

        return cycle

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN and event.key in (pygame.K_LEFT, pygame.K_RIGHT, pygame.K_a, pygame.K_d):
            specs = self.app.settings.visible()
            if specs:
                self._cycler(specs[self.menu.selected].key, -1 if event.key in (pygame.K_LEFT, pygame.K_a) else 1)()
            return
        self.menu.handle(event)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def help_lines() -> list[tuple[str, str]]:
    """How to play, with the numbers of the game's balance file."""
    from ._balance import default_balance

    b = default_balance()
    config = b.engine_config()
    scales = b.levels.get("player", {}).get("enemy_speed_scale", (1.0,))
    first, last = config.enemy_speed * scales[0], config.enemy_speed * scales[-1]
    invulnerable = config.catch_invulnerability / 60
    return [
        ("Player", f"arrows or WASD move, SPACE fires ({config.max_missiles} missiles at most, tap or hold)"),
        ("Enemy", "arrows or WASD move; catch the player bot, dodge its missiles"),
        ("Keys", "P pause, ESC menu, F fullscreen, F3 debug overlay (what the opponent sees)"),
        ("Score", f"+{b.points_per_hit} per hit (or catch when hunting), +{b.points_per_second} per second survived"),
        ("Lives", f"{b.lives}; after a catch you flash and cannot be caught for {invulnerable:g} s"),
        (
            "Levels",
            f"every {b.seconds_per_level} s the enemy gets faster: {first:.1f} to {last:.1f} px per frame "
            f"(you: {config.player_speed:g}); shoot it when it comes close",
        ),
    ]


class HelpScreen:
    """How to play, where the files go, and the mods' status."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.frame = 0

    def handle(self, event: pygame.event.Event) -> None:
        if (
            event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_RETURN)
        ) or event.type == pygame.MOUSEBUTTONDOWN:
            self.app.switch(MainMenu(self.app))

    def update(self) -> None:
        self.frame += 1

    def draw(self, surface: pygame.Surface) -> None:
        surface.blit(self.app.sprites.background, (0, 0))
        t = self.app.text
        t.draw(surface, "HOW TO PLAY", (640, 60), 72, HUD_TEXT, anchor="center")
        for i, (head, line) in enumerate(help_lines()):
            t.draw(surface, head, (120, 130 + i * 40), 30, HUD_ACCENT)
            t.draw(surface, line, (260, 130 + i * 40), 28, HUD_TEXT)
        y = 390
        t.draw(surface, f"Files: {_paths.data_dir()}", (120, y), 24, HUD_ACCENT)
        t.draw(
            surface,
            "highscores.json, settings.json, recordings/, policies/*.aipp, mods/, game.log",
            (120, y + 24),
            24,
            HUD_TEXT,
        )
        t.draw(surface, "Mods", (120, y + 64), 30, HUD_ACCENT)
        for i, line in enumerate(self.app.host.summary()[:6] or ["none installed"]):
            t.draw(
                surface, line[:130], (120, y + 96 + i * 24), 24, HUD_TEXT if "enabled" in line or i == 0 else HUD_WARN
            )
        t.draw(surface, "Enter / Esc: back", (640, 652), 24, HUD_ACCENT, anchor="center")
