"""The recordings list and the replay viewer, driven by input events; `--replay`, `--verify`, loading."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

from aip_game._app import App
from aip_game._loading import LoadingScreen
from aip_game._menu import Menu
from aip_game._play import GameScreen
from aip_game._recordings import RecordingsScreen
from aip_game._replay_view import ReplayScreen
from aip_game._screens import HighScoresScreen, MainMenu, SideMenu
from aip_game.recording import load, summarize


def _menu(app: App) -> Menu:
    menu = getattr(app.screen, "menu", None)
    assert isinstance(menu, Menu), f"not a menu screen: {app.screen!r}"
    return menu


def _choose(ui: Any, app: App, label: str) -> None:
    menu = _menu(app)
    index = next(i for i, item in enumerate(menu.items) if item.label.startswith(label))
    ui.click(app, menu.item_rect(index).center)
    ui.run(app, 1)


def _record_a_game(app: App, ui: Any, frames: int) -> tuple[Path, dict[str, np.ndarray]]:
    """Record a game through the menus, playing with keys; return its file and the state at its end."""
    ui.run(app, 1)
    _choose(ui, app, "Record demonstrations")
    _choose(ui, app, "Play the player")
    _choose(ui, app, "bot: chase")
    screen = app.screen
    assert isinstance(screen, GameScreen) and screen.recorder is not None
    ui.key(pygame.K_SPACE)
    for i in range(frames - 1):
        if i % 50 == 0:
            ui.release(pygame.K_UP if (i // 50) % 2 else pygame.K_LEFT)
            ui.key(pygame.K_LEFT if (i // 50) % 2 else pygame.K_UP)
        ui.run(app, 1)
        if screen.session.over:
            break
    end = {name: value.copy() for name, value in screen.session.worlds.state().items()}
    path = screen.recorder.path
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    ui.key(pygame.K_F1)  # keep it
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    if isinstance(app.screen, HighScoresScreen):
        ui.key(pygame.K_RETURN)
        ui.run(app, 1)
    assert isinstance(app.screen, MainMenu)
    return path, end


def test_a_recorded_game_is_listed_and_replays_exactly_in_the_viewer(
    make_app: Callable[..., App], home: Path, ui: Any
) -> None:
    app = make_app(seed=21)
    path, end = _record_a_game(app, ui, 400)
    rec = load(path)
    assert rec.complete and rec.outcome is not None and rec.outcome["reason"] == "quit"
    # the list: length and outcome
    _choose(ui, app, "Watch a recording")
    assert isinstance(app.screen, RecordingsScreen)
    assert "1 in" in app.screen.subtitle and str(home / "recordings") in app.screen.subtitle
    label = _menu(app).items[0].label
    assert f"{len(rec) // 60 // 60}:{len(rec) // 60 % 60:02d}" in label and f"quit, {rec.outcome['score']} pts" in label
    assert "you (player) vs bot: chase" in label
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    viewer = app.screen
    assert isinstance(viewer, ReplayScreen) and viewer.replay.frame == 1
    ui.run(app, 9)
    assert viewer.replay.frame == 10
    ui.key(pygame.K_SPACE)  # pause
    ui.run(app, 20)
    assert viewer.replay.frame == 10 and not viewer.playing
    ui.key(pygame.K_SPACE)
    ui.key(pygame.K_UP)  # x2
    ui.run(app, 10)
    assert viewer.speed == 2.0 and viewer.replay.frame == 30
    ui.key(pygame.K_RIGHT)  # +5 s
    ui.run(app, 1)
    assert viewer.replay.frame == 30 + 300
    ui.key(pygame.K_LEFT)  # back 5 s: replayed from the start
    ui.run(app, 1)
    assert viewer.replay.frame == 30
    ui.key(pygame.K_END)
    ui.run(app, 2)
    assert viewer.replay.done and viewer.replay.frame == len(rec)
    assert viewer.replay.diverged_at is None
    for name, value in end.items():
        np.testing.assert_array_equal(viewer.replay.session.worlds.state()[name], value, err_msg=name)
    # a click on the timeline seeks
    ui.click(app, (640, 665))
    ui.run(app, 1)
    assert abs(viewer.replay.frame - len(rec) // 2) <= 2
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    assert isinstance(app.screen, RecordingsScreen)


def test_the_record_screen_leads_to_the_recordings(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app()
    ui.run(app, 1)
    _choose(ui, app, "Record demonstrations")
    _choose(ui, app, "Your recordings")
    assert isinstance(app.screen, RecordingsScreen) and "none yet" in app.screen.subtitle
    ui.key(pygame.K_ESCAPE)
    ui.run(app, 1)
    assert isinstance(app.screen, SideMenu)


def test_summaries_are_fast_and_match_a_full_load(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(seed=4)
    path, _ = _record_a_game(app, ui, 200)
    full = load(path)
    quick = summarize(path)
    assert quick.frames == len(full) and quick.complete and quick.outcome == full.outcome
    cut = path.with_name("cut.aiprec")
    cut.write_bytes(path.read_bytes()[:-300])
    partial = summarize(cut)
    assert not partial.complete and partial.outcome is None and partial.frames == len(load(cut))


def test_a_format_1_recording_is_listed_but_not_replayable(make_app: Callable[..., App], home: Path, ui: Any) -> None:
    folder = home / "recordings"
    folder.mkdir(parents=True)
    (folder / "old.aiprec").write_bytes((Path(__file__).parent / "data" / "format1-player.aiprec").read_bytes())
    (folder / "junk.aiprec").write_bytes(b"nothing")
    app = make_app()
    app.switch(RecordingsScreen(app))
    ui.run(app, 1)
    items = {i.label: i for i in _menu(app).items}
    old = next(i for label, i in items.items() if "you (player) vs bot: chase" in label)
    assert not old.enabled and "not replayable" in old.detail
    assert any("junk.aiprec: unreadable" in label for label in items)


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "AIP_GAME_HOME": str(tmp_path / "home")})
    return env


@pytest.mark.slow
def test_replay_and_verify_from_the_command_line(make_app: Callable[..., App], tmp_path: Path, ui: Any) -> None:
    app = make_app(seed=8)
    path, _ = _record_a_game(app, ui, 150)
    run = [sys.executable, "-m", "aip_game", "--no-installed-mods"]
    ok = subprocess.run([*run, "--replay", str(path), "--verify"], env=_env(tmp_path), capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "150 frames" in ok.stdout and "replayed exactly" in ok.stdout
    shown = subprocess.run(
        [*run, "--replay", str(path), "--headless", "--frames", "30", "--fps", "0"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0, shown.stderr
    old = Path(__file__).parent / "data" / "format1-player.aiprec"
    refused = subprocess.run(
        [*run, "--replay", str(old), "--verify"], env=_env(tmp_path), capture_output=True, text=True
    )
    assert refused.returncode == 2 and "not replayed" in refused.stderr
    headless = subprocess.run(
        [*run, "--replay", str(old), "--headless", "--frames", "5"], env=_env(tmp_path), capture_output=True, text=True
    )
    assert headless.returncode == 2 and "not replayed" in headless.stderr


def test_a_slow_opponent_loads_behind_a_loading_line(make_app: Callable[..., App], ui: Any) -> None:
    release = threading.Event()

    def slow() -> tuple[str, str]:  # what finding a registered model does: seconds of imports and a download
        release.wait(10)
        return "intercept", "hunter v7 @champion"

    app = make_app(opponent_loader=slow, opponent_label="hunter@champion", headless=False)
    assert isinstance(app.screen, LoadingScreen)
    drawn: list[str] = []
    original = app.text.draw

    def spy(surface: pygame.Surface, text: str, *args: Any, **kwargs: Any) -> pygame.Rect:
        drawn.append(text)
        return original(surface, text, *args, **kwargs)

    app.text.draw = spy  # type: ignore[method-assign]
    started = time.perf_counter()
    ui.run(app, 5)
    assert time.perf_counter() - started < 5 and isinstance(app.screen, LoadingScreen)
    assert any(t.startswith("loading hunter@champion") for t in drawn)
    release.set()
    app.screen.wait(10)
    ui.run(app, 1)
    assert isinstance(app.screen, GameScreen)
    s = app.screen.session
    assert s.controllers["enemy"] == "intercept" and s.opponent_obj.display_name == "hunter v7 @champion"
    drawn.clear()
    ui.run(app, 1)
    assert any("hunter v7 @champion" in t for t in drawn)  # the HUD names the model and its version


def test_a_loader_that_fails_shows_why_over_the_menu(make_app: Callable[..., App], ui: Any) -> None:
    def broken() -> tuple[str, str]:
        raise LookupError("no model named 'hunter' in the registry")

    app = make_app(opponent_loader=broken, opponent_label="hunter", headless=False)
    assert isinstance(app.screen, LoadingScreen)
    app.screen.wait(10)
    ui.run(app, 1)
    assert isinstance(app.screen, MainMenu)
    assert app.start_error is not None and "no model named 'hunter'" in app.start_error
    assert any("hunter" in line for line in app.notice_lines())


def test_frames_spent_loading_do_not_count_toward_the_frame_limit(make_app: Callable[..., App], ui: Any) -> None:
    release = threading.Event()

    def slow() -> tuple[str, str]:
        release.wait(10)
        return "chase", "slow one"

    app = make_app(opponent_loader=slow, headless=False, frames=5)
    ui.run(app, 20)
    assert app.running and isinstance(app.screen, LoadingScreen)
    release.set()
    app.screen.wait(10)
    ui.run(app, 1)
    assert isinstance(app.screen, GameScreen)
    ui.run(app, 4)
    assert not app.running
