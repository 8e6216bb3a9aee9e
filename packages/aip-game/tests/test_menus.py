from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pygame

import aip_engine as ae
from aip_game._app import App
from aip_game._menu import Menu
from aip_game._play import GameOverScreen, GameScreen
from aip_game._screens import HelpScreen, HighScoresScreen, MainMenu, OpponentMenu, SettingsScreen, SideMenu
from aip_game.recording import load


def _menu(app: App) -> Menu:
    menu = getattr(app.screen, "menu", None)
    assert isinstance(menu, Menu), f"not a menu screen: {app.screen!r}"
    return menu


def _click_label(ui: Any, app: App, label: str) -> None:
    menu = _menu(app)
    index = [item.label for item in menu.items].index(label)
    ui.click(app, menu.item_rect(index).center)
    ui.run(app, 1)


def test_keyboard_path_to_a_game(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    assert isinstance(app.screen, MainMenu)
    assert [i.label for i in _menu(app).items] == [
        "Play",
        "Watch (AI against AI)",
        "Watch a recording",
        "Record demonstrations",
        "High scores",
        "Settings",
        "Help",
        "Quit",
    ]
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, SideMenu)
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, OpponentMenu) and app.screen.role == "enemy"
    labels = [i.label for i in _menu(app).items]
    assert [f"bot: {b}" for b in ae.bots("enemy")] == labels[: len(ae.bots("enemy"))]
    ui.key(pygame.K_DOWN)  # chase -> intercept
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, GameScreen)
    assert app.screen.session.controllers["enemy"] == "intercept"
    assert app.screen.session.controllers["player"] == "agent"
    assert app.screen.session.frame == 1


def test_mouse_path_to_watch_mode(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    _click_label(ui, app, "Watch (AI against AI)")
    assert isinstance(app.screen, OpponentMenu) and app.screen.role == "enemy"
    _click_label(ui, app, "bot: dodge")
    assert isinstance(app.screen, OpponentMenu) and app.screen.role == "player"
    _click_label(ui, app, "bot: kite")
    assert isinstance(app.screen, GameScreen)
    s = app.screen.session
    assert s.side == "watch" and s.controllers == {"player": "kite", "enemy": "dodge"}
    frame = s.frame
    ui.run(app, 30)
    assert s.frame == frame + 30


def test_play_the_enemy_from_the_menu(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    _click_label(ui, app, "Play")
    _click_label(ui, app, "Play the enemy: hunt a player bot")
    assert isinstance(app.screen, OpponentMenu) and app.screen.role == "player"
    assert [f"bot: {b}" for b in ae.bots("player")] == [i.label for i in _menu(app).items][: len(ae.bots("player"))]
    _click_label(ui, app, "bot: flee")
    assert isinstance(app.screen, GameScreen)
    assert app.screen.session.controllers == {"player": "flee", "enemy": "agent"}


def test_escape_goes_back(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, SideMenu)
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    assert isinstance(app.screen, MainMenu)


def test_settings_change_and_persist(make_app: Callable[..., App], home: Path, ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    _click_label(ui, app, "Settings")
    assert isinstance(app.screen, SettingsScreen)
    labels = [i.label for i in _menu(app).items]
    index = next(i for i, label in enumerate(labels) if label.startswith("Missile trails"))
    ui.click(app, _menu(app).item_rect(index).center)
    ui.run(app, 1)
    assert app.settings.get("trails") is False
    assert json.loads((home / "settings.json").read_text())["trails"] is False
    assert _menu(app).items[index].label == "Missile trails: off"
    ui.key(pygame.K_RIGHT)
    ui.run(app, 1)
    assert app.settings.get("trails") is True


def test_high_scores_help_and_quit(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    _click_label(ui, app, "High scores")
    assert isinstance(app.screen, HighScoresScreen)
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    _click_label(ui, app, "Help")
    assert isinstance(app.screen, HelpScreen)
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, MainMenu)
    _click_label(ui, app, "Quit")
    assert not app.running


def test_record_a_demonstration_as_the_enemy(make_app: Callable[..., App], home: Path, ui: Any) -> None:
    app = make_app(seed=5)
    ui.run(app, 1)
    _click_label(ui, app, "Record demonstrations")
    _click_label(ui, app, "Play the enemy: hunt a player bot")
    _click_label(ui, app, "bot: wander")
    assert isinstance(app.screen, GameScreen) and app.screen.recorder is not None
    path = app.screen.recorder.path
    assert app.screen.session.frame == 1  # the frame played in the tick that chose the opponent
    ui.key(pygame.K_LEFT)
    ui.run(app, 40)
    ui.release(pygame.K_LEFT)
    ui.key(pygame.K_DOWN)
    ui.run(app, 20)
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    assert isinstance(app.screen, GameOverScreen) and app.screen.recording == path
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, (MainMenu, HighScoresScreen))
    rec = load(path)
    assert path.parent == home / "recordings"
    assert rec.complete and len(rec) == 61
    assert rec.header["role"] == "enemy" and rec.layout == "enemy-v1"
    assert rec.header["observation_fields"] == [f.name for f in ae.role_layout("enemy").observation]
    assert rec.header["seed"] == 5 and rec.header["config"]["catch_invulnerability"] == 120
    assert rec.header["controllers"]["enemy"] == "agent" and rec.header["controllers"]["player"] == "wander"
    assert rec.observations.shape == (61, ae.role_layout("enemy").obs_size)
    np.testing.assert_array_equal(rec.actions[0], [0.0, 0.0])
    np.testing.assert_array_equal(rec.actions[1:41], np.tile([-1.0, 0.0], (40, 1)))
    np.testing.assert_array_equal(rec.actions[41:], np.tile([0.0, 1.0], (20, 1)))
    np.testing.assert_array_equal(rec.frames, np.arange(61))
    # each observation shows the enemy where the previous frame's action moved it (its speed, to the left)
    self_x = rec.header["observation_fields"].index("self_x")
    dx = np.diff(rec.observations[1:41, self_x].astype(np.float64)) * 640.0
    dx = np.where(dx > 600, dx - 1280, dx)
    moved = dx[np.abs(dx) > 0]  # frames where the enemy was inactive (after a catch) do not move it
    np.testing.assert_allclose(moved, -rec.header["config"]["enemy_speed"], atol=1e-3)


def test_a_long_opponent_list_scrolls(make_app: Callable[..., App], home: Path, ui: Any) -> None:
    from aip_game._menu import MenuItem

    make_app()  # pygame is initialised
    chosen: list[int] = []
    items = [MenuItem(f"item {i}", (lambda i=i: chosen.append(i))) for i in range(40)]
    menu = Menu(items, top=185, spacing=44)
    assert menu.rows < 40 and list(menu.visible()) == list(range(menu.rows))
    for _ in range(30):
        menu.handle(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_DOWN, unicode="", mod=0, scancode=0))
    assert menu.selected == 30 and 30 in menu.visible() and menu.first > 0
    rect = menu.item_rect(30)
    assert 150 < rect.centery < 640
    menu.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=rect.center, button=1))
    assert chosen == [30]
    menu.handle(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=100))
    assert menu.first == 0


def _motion(app: App, logical: tuple[int, int], rel: tuple[int, int]) -> None:
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=app.to_window(logical), rel=rel, buttons=(0, 0, 0)))


def test_a_resting_pointer_does_not_move_the_selection(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    menu = _menu(app)
    quit_item = [i.label for i in menu.items].index("Quit")
    # SDL reports where the pointer already is when the window appears: no movement
    _motion(app, menu.item_rect(quit_item).center, (0, 0))
    ui.run(app, 1)
    assert _menu(app).selected == 0
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, SideMenu) and app.running
    # a screen that opens under the pointer keeps its first item selected too
    assert _menu(app).selected == 0
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    menu = _menu(app)
    _motion(app, menu.item_rect(quit_item).center, (3, 1))  # the pointer moves: the selection follows
    ui.run(app, 1)
    assert _menu(app).selected == quit_item


def test_escape_on_the_main_menu_asks_before_quitting(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    assert app.running and isinstance(app.screen, MainMenu) and app.screen.confirming
    ui.key(pygame.K_ESCAPE)  # no: stay
    ui.run(app, 1)
    assert app.running and not app.screen.confirming
    ui.key(pygame.K_DOWN)
    ui.run(app, 1)
    assert _menu(app).selected == 1  # the menu works again
    ui.key(pygame.K_ESCAPE)
    ui.key(pygame.K_RETURN)  # yes
    ui.run(app, 1)
    assert not app.running


def test_watch_preselects_the_player_bot_setting_and_names_both_sides(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    app.settings.set("player_bot", "flee")
    ui.run(app, 1)
    _click_label(ui, app, "Watch (AI against AI)")
    _click_label(ui, app, "bot: intercept")
    screen = app.screen
    assert isinstance(screen, OpponentMenu) and screen.role == "player"
    assert "intercept" in screen.subtitle and "flies the ship" in screen.subtitle
    assert _menu(app).items[_menu(app).selected].label == "bot: flee"
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    assert isinstance(app.screen, GameScreen)
    assert app.screen.session.controllers == {"player": "flee", "enemy": "intercept"}


def test_a_recorded_game_is_kept_or_discarded_and_the_record_screen_counts(
    make_app: Callable[..., App], home: Path, ui: Any
) -> None:
    app = make_app(seed=3)
    ui.run(app, 1)
    paths = []
    for choice in (pygame.K_F2, pygame.K_F1):
        _click_label(ui, app, "Record demonstrations")
        _click_label(ui, app, "Play the player: dodge and shoot")
        _click_label(ui, app, "bot: chase")
        assert isinstance(app.screen, GameScreen) and app.screen.recorder is not None
        paths.append(app.screen.recorder.path)
        ui.key(pygame.K_UP)
        ui.run(app, 30)
        ui.release(pygame.K_UP)
        ui.key(pygame.K_ESCAPE)
        ui.run(app, 1)
        assert isinstance(app.screen, GameOverScreen)
        ui.key(choice)
        ui.run(app, 1)
        assert app.screen.recording_choice == ("discarded" if choice == pygame.K_F2 else "kept")
        ui.key(pygame.K_RETURN)
        ui.run(app, 1)
        if isinstance(app.screen, HighScoresScreen):
            ui.key(pygame.K_RETURN)
            ui.run(app, 1)
        assert isinstance(app.screen, MainMenu)
    # the discarded file is gone (its name may be reused within the same second) and the kept one is whole
    assert list((home / "recordings").glob("*.aiprec")) == [paths[1]] and load(paths[1]).complete
    _click_label(ui, app, "Record demonstrations")
    assert app.screen.subtitle == f"demonstrations go to {home / 'recordings'} (1 there now)"
