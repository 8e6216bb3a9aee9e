"""Mods: loaded from folders and entry points, isolated when broken, rejected on a version mismatch."""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

from aip_game._app import App
from aip_game._modhost import ModHost, discover
from aip_game._play import GameScreen
from aip_game._screens import OpponentMenu
from aip_game._session import GameSession
from aip_game._settings import Settings
from aip_game.mods import HitEvent

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "mods"
EXAMPLE_NAMES = ("spiral_hunter", "radar", "combo", "turbo")


def _session(app: App) -> GameSession:
    assert isinstance(app.screen, GameScreen), app.notice_lines()
    return app.screen.session


def _loose(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body))
    return folder


def test_every_example_mod_loads_from_its_folder(tmp_path: Path) -> None:
    host = ModHost(Settings(None))
    discover(host, [EXAMPLES / n for n in EXAMPLE_NAMES], entry_points=False)
    assert [(m.name, m.state) for m in host.mods] == [(n, "enabled") for n in EXAMPLE_NAMES]
    assert host.problems == []


def test_a_mod_opponent_is_offered_and_plays(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(mod_dirs=[EXAMPLES / "spiral_hunter"])
    menu = OpponentMenu(app, "enemy")
    assert "mod: spiral hunter" in [c.label for c in menu.choices]
    app2 = make_app(mod_dirs=[EXAMPLES / "spiral_hunter"], opponent="spiral hunter")
    s = _session(app2)
    assert s.controllers["enemy"] == "agent"
    ui.run(app2, 30)
    action = s.opponent_obj.last_action
    assert action is not None and action.shape == (2,) and abs(float(np.hypot(*action)) - 1.0) < 1e-5
    assert s.frame == 30


def test_the_radar_overlay_draws_and_follows_its_setting(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(mod_dirs=[EXAMPLES / "radar"], opponent="chase")
    s = _session(app)
    ui.run(app, 1)
    px, py = s.to_screen(*map(float, s.state()["player_pos"]))
    assert app.surface.get_at((px + 48, py))[:3] == (90, 255, 140)
    app.settings.set("radar.color", "amber")
    ui.run(app, 1)
    px, py = s.to_screen(*map(float, s.state()["player_pos"]))
    assert app.surface.get_at((px + 48, py))[:3] == (255, 190, 60)
    assert any(spec.key == "radar.color" for spec in app.settings.visible())


def test_the_combo_scoring_rule(make_app: Callable[..., App]) -> None:
    app = make_app(mod_dirs=[EXAMPLES / "combo"], opponent="chase")
    s = _session(app)
    for frame in (10, 100, 150):  # a 3-hit combo inside the 5 s window
        app.host.publish(HitEvent(frame, (0.0, 0.0)))
    assert [(p, r) for _, p, r in s.score_log] == [(50, "combo x2"), (100, "combo x3")]
    app.host.publish(HitEvent(150 + 6 * 60, (0.0, 0.0)))  # too late: a new combo
    assert s.score == 150


def test_rule_changes_reach_the_engine(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(mod_dirs=[EXAMPLES / "turbo"], opponent="chase")
    s = _session(app)
    assert s.config.missile_speed == 8.0 and s.config.fire_cooldown == 20
    assert s.param("player_speed") == 6.0
    x0 = float(s.state()["player_pos"][0])
    ui.key(pygame.K_RIGHT)
    ui.run(app, 5)
    d = (float(s.state()["player_pos"][0]) - x0) % 1280.0
    assert d == pytest.approx(30.0)


def test_a_version_mismatch_is_reported_and_not_loaded(make_app: Callable[..., App], tmp_path: Path, ui: Any) -> None:
    folder = _loose(
        tmp_path / "mods",
        "future",
        """
        from aip_game.mods import Mod
        class Future(Mod):
            name = "future"
            api_version = 2
            def setup(self, ctx):
                raise AssertionError("must not be called")
        mod = Future
        """,
    )
    app = make_app(mod_dirs=[folder])
    record = app.host.mods[0]
    assert record.state == "rejected" and "needs mod API version 2" in record.message
    assert "version 1" in record.message
    assert any("future" in line and "rejected" in line for line in app.host.summary())
    assert any("needs mod API version 2" in n for n in app.notice_lines())
    ui.run(app, 1)  # the main menu shows the mods' status


BROKEN = {
    "bad_import": "raise RuntimeError('broken at import')\n",
    "bad_setup": """
        from aip_game.mods import Mod, MOD_API_VERSION
        class M(Mod):
            api_version = MOD_API_VERSION
            def setup(self, ctx):
                raise ValueError("broken setup")
        mod = M
        """,
    "not_a_mod": "mod = 42\n",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_mod_is_disabled_and_the_game_goes_on(
    make_app: Callable[..., App], tmp_path: Path, name: str, ui: Any
) -> None:
    folder = _loose(tmp_path / "mods", name, BROKEN[name])
    app = make_app(mod_dirs=[folder, EXAMPLES / "combo"], opponent="chase")
    states = {m.name: m.state for m in app.host.mods}
    assert states[name] in ("failed", "rejected") and states["combo"] == "enabled"
    assert app.notice_lines()
    ui.run(app, 10)
    assert _session(app).frame == 10


def test_a_mod_raising_during_the_game_is_disabled_reported_and_logged(
    make_app: Callable[..., App], tmp_path: Path, ui: Any, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _loose(
        tmp_path / "mods",
        "flaky",
        """
        from aip_game.mods import Mod, MOD_API_VERSION, FrameEvent
        class Flaky(Mod):
            api_version = MOD_API_VERSION
            def setup(self, ctx):
                self.calls = 0
                ctx.subscribe(FrameEvent, self.on_frame)
                ctx.add_overlay(lambda surface, view: None)
            def on_frame(self, event):
                self.calls += 1
                if event.frame == 5:
                    raise ZeroDivisionError("frame five")
        mod = Flaky
        """,
    )
    caplog.set_level(logging.ERROR, logger="aip_game")
    app = make_app(mod_dirs=[folder], opponent="chase")
    ui.run(app, 20)
    record = app.host.mods[0]
    assert record.state == "failed" and "ZeroDivisionError: frame five" in record.message
    assert record.mod is not None and record.mod.calls == 5  # type: ignore[attr-defined]
    assert _session(app).frame == 20
    assert any("flaky disabled" in n for n in app.notice_lines())
    assert "Traceback" in caplog.text and "frame five" in caplog.text


def test_a_broken_overlay_or_controller_is_isolated(make_app: Callable[..., App], tmp_path: Path, ui: Any) -> None:
    folder = _loose(
        tmp_path / "mods",
        "wobbly",
        """
        from aip_game.mods import Mod, MOD_API_VERSION
        class Bad:
            def act(self, observation, view):
                if view.frame >= 3:
                    return [float("nan"), 0.0]
                return [1.0, 0.0]
        class Wobbly(Mod):
            api_version = MOD_API_VERSION
            def setup(self, ctx):
                ctx.add_opponent("wobbly", "enemy", Bad)
        mod = Wobbly
        """,
    )
    folder = _loose(
        folder,
        "painter",
        """
        from aip_game.mods import Mod, MOD_API_VERSION
        class Painter(Mod):
            api_version = MOD_API_VERSION
            def setup(self, ctx):
                ctx.add_overlay(lambda surface, view: 1 / 0)
        mod = Painter
        """,
    )
    app = make_app(mod_dirs=[folder], opponent="wobbly")
    s = _session(app)
    ui.run(app, 12)
    states = {m.name: m.state for m in app.host.mods}
    assert states == {"painter": "failed", "wobbly": "failed"}
    assert s.frame == 12
    assert s.opponent_obj.last_action is not None and not s.opponent_obj.last_action.any()  # it stands still


def test_installed_mods_are_found_through_entry_points(
    make_app: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    (site / "aip_mod_fake-1.0.dist-info").mkdir(parents=True)
    (site / "aip_mod_fake-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: aip-mod-fake\nVersion: 1.0\n"
    )
    (site / "aip_mod_fake-1.0.dist-info" / "entry_points.txt").write_text(
        "[aip_game.mods]\nfake = aip_mod_fake:FakeMod\n"
    )
    (site / "aip_mod_fake.py").write_text(
        "from aip_game.mods import Mod, MOD_API_VERSION\n"
        "class FakeMod(Mod):\n    name = 'fake'\n    api_version = MOD_API_VERSION\n"
    )
    monkeypatch.syspath_prepend(str(site))
    app = make_app(entry_point_mods=True)
    fake = [m for m in app.host.mods if m.name == "fake"]
    assert fake and fake[0].state == "enabled" and fake[0].origin.startswith("entry point fake")


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_each_example_mod_is_an_installable_package(tmp_path: Path, name: str) -> None:
    target = tmp_path / "site"
    # without poetry-core at hand, pip fetches the build backend into an isolated build environment
    isolation = [] if importlib.util.find_spec("poetry") is None else ["--no-build-isolation"]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            *isolation,
            "--target",
            str(target),
            str(EXAMPLES / name),
        ],
        check=True,
        capture_output=True,
    )
    entry_points = next(target.glob("*.dist-info/entry_points.txt")).read_text()
    assert "[aip_game.mods]" in entry_points and f"aip_mod_{name}:" in entry_points
    code = (
        "import importlib.metadata as m, sys; "
        "eps = [e for e in m.entry_points(group='aip_game.mods') if e.name == sys.argv[1]]; "
        "mod = eps[0].load(); print(mod.api_version)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, name], env={"PYTHONPATH": str(target)}, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "1"


def test_a_parameter_the_engine_refuses_disables_the_mod_that_set_it(
    make_app: Callable[..., App], tmp_path: Path, ui: Any
) -> None:
    folder = _loose(
        tmp_path / "mods",
        "reverse",
        """
        from aip_game.mods import Mod, MOD_API_VERSION
        class Reverse(Mod):
            api_version = MOD_API_VERSION
            def setup(self, ctx):
                ctx.set_param("player_speed", -5.0)
        mod = Reverse
        """,
    )
    folder = _loose(
        folder,
        "warp",
        """
        from aip_game.mods import Mod, MOD_API_VERSION, FrameEvent
        class Warp(Mod):
            api_version = MOD_API_VERSION
            def setup(self, ctx):
                def on_frame(event):
                    if event.frame == 3:
                        ctx.game.set_param("enemy_speed_scale", float("nan"))
                ctx.subscribe(FrameEvent, on_frame)
        mod = Warp
        """,
    )
    app = make_app(mod_dirs=[EXAMPLES / "turbo", folder], opponent="chase")
    s = _session(app)
    ui.run(app, 10)
    states = {m.name: m.state for m in app.host.mods}
    assert states == {"turbo": "enabled", "reverse": "failed", "warp": "failed"}
    assert s.frame == 10
    assert s.param("player_speed") == 6.0  # turbo's value: only the refused change was undone
    assert s.param("enemy_speed_scale") == 1.0
    assert any("refused" in m.message for m in app.host.mods if m.name == "warp")
