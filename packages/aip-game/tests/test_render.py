"""Screenshots of known states, checked by pixel: entities are drawn where the engine says they are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pygame
import pytest

import aip_engine as ae
from aip_game._app import App
from aip_game._hud import HUD_HEIGHT
from aip_game._play import GameScreen
from aip_game._session import GameSession
from aip_game._sprites import BACKGROUND, ENEMY_INNER, HUD_TEXT, MISSILE_CORE, PLAYER_CORE


def _game(app: App) -> GameSession:
    assert isinstance(app.screen, GameScreen)
    return app.screen.session


def _place(s: GameSession, **arrays: Any) -> None:
    if not hasattr(s.worlds, "set_state"):
        pytest.skip("this engine has no set_state testing hook")
    for name, value in arrays.items():
        s.worlds.set_state(name, value)


def _pixel(app: App, s: GameSession, pos: tuple[float, float]) -> tuple[int, int, int]:
    x, y = s.to_screen(*pos)
    r, g, b, _ = app.surface.get_at((x, y))
    return (r, g, b)


def _known_state(app: App) -> GameSession:
    s = _game(app)
    _place(
        s,
        player_pos=[[300.4, 420.6]],
        player_invulnerable=[0],
        enemy_pos=[[910.2, 250.7]],
        enemy_active=[True],
        enemy_fade=[200],
        missile_alive=[[True, False, True]],
        missile_pos=[[[620.0, 300.0], [0.0, 0.0], [150.5, 600.5]]],
    )
    return s


def test_entities_are_drawn_at_the_engine_positions(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _known_state(app)
    app.screen.draw(app.surface)
    st = s.state()
    assert _pixel(app, s, tuple(st["player_pos"])) == PLAYER_CORE
    assert _pixel(app, s, tuple(st["enemy_pos"])) == ENEMY_INNER
    assert _pixel(app, s, tuple(st["missile_pos"][0])) == MISSILE_CORE
    assert _pixel(app, s, tuple(st["missile_pos"][2])) == MISSILE_CORE
    # nothing where nothing is: a free spot shows the arena's background (or its grid/stars, all dark)
    assert max(_pixel(app, s, (641.0, 555.0))) < 90


def test_the_player_flashes_while_invulnerable(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _known_state(app)
    seen = []
    for timer in range(100, 124):
        _place(s, player_invulnerable=[timer])
        app.screen.draw(app.surface)
        seen.append(_pixel(app, s, tuple(s.state()["player_pos"])) == PLAYER_CORE)
    assert any(seen) and not all(seen)


def test_the_enemy_fades_in_after_a_respawn(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _known_state(app)
    pos = tuple(s.state()["enemy_pos"])

    def distance_from_background(fade: int) -> float:
        _place(s, enemy_fade=[fade])
        app.screen.draw(app.surface)
        return float(np.linalg.norm(np.subtract(_pixel(app, s, pos), BACKGROUND)))

    levels = [distance_from_background(f) for f in (0, 15, 30, 45, 60)]
    assert levels[0] < 10 and levels == sorted(levels) and levels[-1] > levels[1] + 20
    _place(s, enemy_active=[False])
    app.screen.draw(app.surface)
    assert _pixel(app, s, pos) != ENEMY_INNER


def _find_text(app: App, text: str, size: int, x: int, ys: range) -> int | None:
    """Find `text` (rendered like the HUD does) with its left edge at `x`; return its top y."""
    glyph = app.text.render(text, size, HUD_TEXT)
    alpha = pygame.surfarray.array_alpha(glyph)
    solid = alpha == 255
    screen = pygame.surfarray.array3d(app.surface)
    w, h = glyph.get_size()
    for y in ys:
        patch = screen[x : x + w, y : y + h]
        if patch.shape[:2] == solid.shape and np.all(patch[solid] == HUD_TEXT):
            return y
    return None


def test_the_hud_shows_the_score(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _known_state(app)
    s.add_score(4321)
    app.screen.draw(app.surface)
    assert _find_text(app, f"{s.score:06d}", 26, 16, range(20, 30)) is not None
    assert _find_text(app, f"{s.score + 100:06d}", 26, 16, range(20, 30)) is None
    ui.key(pygame.K_SPACE)
    ui.run(app, 1)
    assert s.state()["missile_alive"].sum() >= 1
    missiles = int(s.param("max_missiles")) - int(s.state()["missile_alive"].sum())
    assert _find_text(app, f"{missiles}/3", 24, 266 + 3 * 18, range(20, 30)) is not None


def test_the_debug_overlay_lists_the_opponent_observation(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    _known_state(app)
    ui.key(pygame.K_F3)
    ui.run(app, 1)
    x0 = 1280 - 330 - 6 + 10
    size = app.hud.debug_row_size("enemy")[1]
    rows = [_find_text(app, f.name, size, x0, range(HUD_HEIGHT, 720)) for f in ae.role_layout("enemy").observation]
    assert all(r is not None for r in rows[:10]), rows
    assert rows[:10] == sorted(rows[:10])  # in the layout's order
    ui.key(pygame.K_F3)
    ui.run(app, 1)
    assert _find_text(app, "player_dx", size, x0, range(HUD_HEIGHT, 720)) is None


def test_the_logical_screen_is_scaled_into_a_window_of_another_size(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _known_state(app)
    ui.key(pygame.K_f)  # fullscreen: the dummy driver's desktop is not 1280 x 720
    ui.run(app, 1)
    window = pygame.display.get_surface()
    assert window.get_size() != (1280, 720)
    _place(s, player_pos=[[300.4, 420.6]], player_invulnerable=[0])
    app.screen.draw(app.surface)
    app.present()
    wx, wy = app.to_window(s.to_screen(300.4, 420.6))
    _, g, b, _ = window.get_at((wx, wy))
    assert b > 200 and g > 180  # the player's bright core survives the scaling
    assert app.to_logical(app.to_window((640, 360))) in {(640, 360), (639, 359), (639, 360), (640, 359)}


def test_mouse_clicks_are_mapped_from_a_scaled_window(make_app: Callable[..., App], ui: Any) -> None:
    from aip_game._screens import HighScoresScreen, MainMenu

    app = make_app()
    app.toggle_fullscreen()
    ui.run(app, 1)
    assert isinstance(app.screen, MainMenu)
    labels = [i.label for i in app.screen.menu.items]
    ui.click(app, app.screen.menu.item_rect(labels.index("High scores")).center)
    ui.run(app, 1)
    assert isinstance(app.screen, HighScoresScreen)
