from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

from aip_game._app import App
from aip_game._balance import default_balance
from aip_game._opponents import BotOpponent
from aip_game._play import FOCUS_PAUSE_FRAMES, GAME_OVER_DELAY, GameOverScreen, GameScreen, key_hint
from aip_game._screens import HighScoresScreen, MainMenu, start_game
from aip_game._session import GameSession

FRAMES_PER_LEVEL = default_balance().frames_per_level


def _game(app: App) -> GameScreen:
    assert isinstance(app.screen, GameScreen), f"no game is running: {app.screen!r}"
    return app.screen


def _session(app: App) -> GameSession:
    return _game(app).session


def _wrap_dx(a: float, b: float, w: float = 1280.0) -> float:
    d = b - a
    return d - w if d > w / 2 else d + w if d < -w / 2 else d


def test_the_player_moves_where_the_keys_say(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    x0 = float(s.state()["player_pos"][0])
    ui.key(pygame.K_RIGHT)
    ui.run(app, 10)
    x1 = float(s.state()["player_pos"][0])
    assert _wrap_dx(x0, x1) == pytest.approx(50.0)
    ui.release(pygame.K_RIGHT)
    ui.key(pygame.K_w)
    y0 = float(s.state()["player_pos"][1])
    ui.run(app, 4)
    assert float(s.state()["player_pos"][0]) == x1
    assert _wrap_dx(y0, float(s.state()["player_pos"][1]), 720.0) == pytest.approx(-20.0)


def test_fire_launches_a_missile_with_a_cooldown(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    ui.key(pygame.K_SPACE)
    ui.run(app, 1)
    assert s.state()["missile_alive"].sum() == 1
    assert _game(app).human_action().tolist() == [0.0, 0.0, 1.0]
    first = s.frame
    fired = []
    for _ in range(70):
        ui.run(app, 1)
        if s.frame_events[0]:
            fired.append(s.frame - first)
    # docs/rules.md: after a shot the cooldown drops once per frame, and fire waits for 0
    assert fired[:2] == [s.config.fire_cooldown + 1, 2 * (s.config.fire_cooldown + 1)]


def test_hits_score_100(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player", seed=2)
    s = _session(app)
    ui.key(pygame.K_SPACE)
    for _ in range(900):
        ui.run(app, 1)
        if any(reason == "hit" for _, _, reason in s.score_log):
            break
    hits = [points for _, points, reason in s.score_log if reason == "hit"]
    assert hits and all(p == 100 for p in hits)
    assert s.score == 100 * len(hits) + s.frame // 60


def test_catch_costs_a_life_then_the_player_flashes(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player", seed=3)
    s = _session(app)
    for _ in range(900):
        ui.run(app, 1)
        if s.lives < 3:
            break
    assert s.lives == 2
    assert int(s.state()["player_invulnerable"]) >= 110
    lit = []
    for _ in range(24):
        ui.run(app, 1)
        x, y = s.to_screen(*map(float, s.state()["player_pos"]))
        lit.append(app.surface.get_at((x, y))[:3] == (210, 250, 255))
    assert any(lit) and not all(lit)


def test_game_over_then_a_high_score_is_written(make_app: Callable[..., App], home: Path, ui: Any) -> None:
    app = make_app(opponent="chase", side="player", seed=4)
    s = _session(app)
    for _ in range(5000):
        ui.run(app, 1)
        if s.over:
            break
    assert s.over and s.lives == 0 and s.end_reason == "game over"
    ui.run(app, GAME_OVER_DELAY)
    assert isinstance(app.screen, GameOverScreen) and app.screen.qualifies
    for _ in range(12):
        ui.key(pygame.K_BACKSPACE)
    for ch in "ace":
        ui.key(getattr(pygame, f"K_{ch}"), ch)
    ui.key(pygame.K_RETURN)
    ui.run(app, 2)
    assert isinstance(app.screen, HighScoresScreen)
    table = json.loads((home / "highscores.json").read_text())
    assert table["entries"][0]["name"] == "ACE"
    assert table["entries"][0]["score"] == s.score > 0
    assert table["entries"][0]["opponent"] == "bot: chase"


def test_pause_stops_the_world(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    ui.run(app, 5)
    ui.key(pygame.K_p)
    ui.run(app, 10)
    assert s.frame == 5
    ui.key(pygame.K_p)
    ui.run(app, 3)
    assert s.frame == 8


def test_escape_ends_the_game_and_returns_to_the_menu(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    ui.run(app, 3)
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    assert isinstance(app.screen, MainMenu)
    assert s.over and s.end_reason == "quit"


def test_fullscreen_toggle_keeps_the_game(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    ui.key(pygame.K_SPACE)
    ui.run(app, 20)
    before = (s.frame, s.score, s.lives, s.state()["player_pos"].copy())
    ui.key(pygame.K_f)
    ui.run(app, 1)
    assert app.fullscreen and _session(app) is s
    assert s.frame == before[0] + 1
    ui.key(pygame.K_f)
    ui.run(app, 1)
    assert not app.fullscreen and _session(app) is s and s.frame == before[0] + 2
    assert pygame.display.get_surface().get_size() == (1280, 720)


def test_a_point_per_second_survived(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="linear", side="player", seed=9)
    s = _session(app)
    ui.run(app, 125)
    seconds = [frame for frame, _, reason in s.score_log if reason == "survived a second"]
    assert seconds == [60, 120]


def test_each_level_sets_the_balance_files_numbers(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    scales = s.balance.levels["player"]["enemy_speed_scale"]
    assert s.level == 1 and s.param("enemy_speed_scale") == scales[0]
    assert s.param("enemy_speed") == s.balance.engine_config().enemy_speed > s.param("player_speed")
    s.frame = FRAMES_PER_LEVEL - 1
    ui.run(app, 1)
    assert s.level == 2 and s.param("enemy_speed_scale") == scales[1] > scales[0]
    s.frame = 20 * FRAMES_PER_LEVEL
    ui.run(app, 1)
    assert s.level == s.balance.max_level == len(scales) and s.param("enemy_speed_scale") == scales[-1]


def test_hunting_levels_make_the_prey_fire_more(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="wander", side="enemy")
    s = _session(app)
    fire = s.balance.levels["enemy"]["fire_probability"]
    assert s.param("fire_probability") == fire[0] and s.param("enemy_speed_scale") == 1.0
    s.frame = 2 * FRAMES_PER_LEVEL - 1
    ui.run(app, 1)
    assert s.level == 3 and s.param("fire_probability") == fire[2] and s.difficulty_scale > 1.0


def test_hunting_as_the_enemy_scores_catches(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="wander", side="enemy", seed=6)
    s = _session(app)
    held: set[int] = set()
    for _ in range(1500):
        st = s.state()
        d = st["player_pos"] - st["enemy_pos"]
        half = np.array([640.0, 360.0])
        d = (d + half) % (2 * half) - half
        want = {
            pygame.K_RIGHT if d[0] > 3 else pygame.K_LEFT if d[0] < -3 else 0,
            pygame.K_DOWN if d[1] > 3 else pygame.K_UP if d[1] < -3 else 0,
        } - {0}
        for k in held - want:
            ui.release(k)
        for k in want - held:
            ui.key(k)
        held = want
        ui.run(app, 1)
        if any(reason == "catch" for _, _, reason in s.score_log):
            break
    assert [p for _, p, r in s.score_log if r == "catch"] == [100]


def test_debug_overlay_keeps_what_the_opponent_sees(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    ui.key(pygame.K_F3)
    ui.run(app, 2)
    s = _session(app)
    assert s.opponent_observation is not None and s.opponent_observation.shape == (24,)
    assert np.isfinite(s.opponent_observation).all()


def test_losing_the_window_focus_pauses_and_releases_the_keys(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    ui.key(pygame.K_RIGHT)
    ui.run(app, 2)
    pygame.event.post(pygame.event.Event(pygame.WINDOWFOCUSLOST, window=None))
    ui.run(app, FOCUS_PAUSE_FRAMES + 5)
    assert _game(app).paused and not _game(app).keys
    assert s.frame == 1 + FOCUS_PAUSE_FRAMES
    assert float(np.abs(s.state()["player_vel"]).sum()) == 0.0  # the keys were released with the focus
    stopped = s.frame
    ui.run(app, 10)
    assert s.frame == stopped
    pygame.event.post(pygame.event.Event(pygame.WINDOWFOCUSGAINED, window=None))
    ui.key(pygame.K_p)
    ui.run(app, 1)
    assert s.frame == stopped + 1


def test_a_brief_focus_loss_does_not_pause(make_app: Callable[..., App], ui: Any) -> None:
    # a window manager mapping a window (or switching its mode) takes the focus away for a moment
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    pygame.event.post(pygame.event.Event(pygame.WINDOWFOCUSLOST, window=None))
    ui.run(app, 3)
    pygame.event.post(pygame.event.Event(pygame.WINDOWFOCUSGAINED, window=None))
    ui.run(app, FOCUS_PAUSE_FRAMES * 3)
    assert not _game(app).paused and s.frame == 3 + FOCUS_PAUSE_FRAMES * 3


def test_a_tap_shorter_than_a_frame_fires(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player")
    s = _session(app)
    ui.run(app, 2)
    ui.key(pygame.K_SPACE)
    ui.release(pygame.K_SPACE)  # pressed and released between two frames
    ui.run(app, 1)
    assert s.frame_events[0] == 1 and int(s.state()["missile_alive"].sum()) == 1
    shots = 0
    for _ in range(40):  # released: no more shots, although the cooldown is long over
        ui.run(app, 1)
        shots += int(s.frame_events[0])
    assert shots == 0


def test_holding_space_fires_whenever_the_cooldown_allows(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="linear", side="player")
    s = _session(app)
    ui.key(pygame.K_SPACE)
    shots = 0
    for _ in range(3 * (s.config.fire_cooldown + 1)):
        ui.run(app, 1)
        shots += int(s.frame_events[0])
    assert shots == 3


def test_a_game_starts_with_a_get_ready_count_and_is_never_paused(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player", get_ready=True)
    screen = _game(app)
    s = screen.session
    count = s.balance.get_ready_frames
    assert count >= 60 and screen.ready_frames == count
    start = {k: v.copy() for k, v in s.state().items()}
    ui.key(pygame.K_RIGHT)  # held during the count: the ship moves the moment it ends
    ui.run(app, count)
    assert s.frame == 0 and not screen.paused
    for name in ("enemy_pos", "player_pos", "rng"):
        np.testing.assert_array_equal(s.state()[name], start[name])
    ui.run(app, 1)
    assert s.frame == 1 and screen.go_frames > 0
    assert _wrap_dx(float(start["player_pos"][0]), float(s.state()["player_pos"][0])) == pytest.approx(5.0)


def test_the_first_game_shows_the_keys_and_the_next_does_not(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase", side="player", get_ready=True)
    first = _game(app)
    assert first.hint_frames > first.ready_frames
    ui.run(app, 2)
    assert any("SPACE" in line for line in key_hint("player"))
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    start_game(app, "player", BotOpponent("enemy", "chase"))
    assert _game(app).hint_frames == 0
