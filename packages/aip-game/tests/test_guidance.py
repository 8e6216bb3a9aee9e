"""The player's missiles steered by the settings' choice: straight, homing, or a learned missile policy."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pygame

import aip_engine as ae
from aip_engine._policy import save_policy
from aip_game import replay
from aip_game._app import App
from aip_game._balance import default_balance
from aip_game._opponents import BotOpponent, PolicyOpponent
from aip_game._play import GameScreen
from aip_game._screens import SettingsScreen
from aip_game._session import GameSession
from aip_game._settings import MISSILE_GUIDANCE
from aip_game.recording import RecordingWriter, load


def _steering_policy(path: Path) -> Path:
    """A missile policy that turns towards the enemy: turn = 4 * bearing_sin (a homing rule, learned form)."""
    lay = ae.role_layout("missile")
    names = [f.name for f in lay.observation]
    weights = np.zeros((1, lay.obs_size), np.float32)
    weights[0, names.index("bearing_sin")] = 4.0
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_policy(
        path,
        layout_name=lay.name,
        weights=[weights],
        biases=[np.zeros(1, np.float32)],
        activation="tanh",
        obs_mean=np.zeros(lay.obs_size),
        obs_var=np.ones(lay.obs_size),
        task="intercept-v1",
    )


def _hits(session: GameSession, frames: int) -> int:
    """Play `frames` frames with the ship standing still and firing whenever it can; count the hits."""
    hit = ae.EVENTS.index("hit")
    hits = 0
    for _ in range(frames):
        session.set_human_action([0.0, 0.0, 1.0])
        session.step()
        hits += int(session.frame_events[hit])
    return hits


def test_a_learned_missile_policy_steers_the_players_missiles(tmp_path: Path) -> None:
    balance = dataclasses.replace(default_balance(), lives=1000)
    policy = _steering_policy(tmp_path / "guide.aipp")

    def play(missiles: Any) -> tuple[GameSession, int]:
        s = GameSession("player", BotOpponent("enemy", "zigzag"), seed=5, balance=balance, missiles=missiles)
        return s, _hits(s, 1800)

    straight, straight_hits = play(None)
    learned, learned_hits = play(PolicyOpponent("policy: guide", "missile", lambda: policy))
    assert "missile" not in straight.controllers
    assert learned.controllers["missile"] == "agent" and learned.agents == ("player", "missile")
    assert learned.missiles is not None and learned.missiles.last_action is not None
    # a policy that turns towards the enemy hits a zigzagging target more often than straight shots
    assert learned_hits > straight_hits, (learned_hits, straight_hits)


def test_a_game_with_learned_guidance_is_recorded_and_replays_exactly(tmp_path: Path) -> None:
    policy = _steering_policy(tmp_path / "guide.aipp")
    balance = dataclasses.replace(default_balance(), lives=1000)
    missiles = PolicyOpponent("policy: guide", "missile", lambda: policy)
    s = GameSession("player", BotOpponent("enemy", "zigzag"), seed=3, balance=balance, missiles=missiles)
    path = tmp_path / "guided.aiprec"
    s.recorder = RecordingWriter(path, {**s.recording_header(), "created": "now", "game_version": "test"})
    _hits(s, 600)
    s.end("quit")
    rec = load(path)
    assert rec.header["controllers"]["missile"] == "agent"
    assert rec.header["missiles"]["label"] == "policy: guide" and rec.header["missiles"]["role"] == "missile"
    assert [r for r, _ in rec.input_roles] == ["player", "missile"]
    result = replay.verify(path)
    assert result.exact and result.frames == 600


def test_the_settings_offer_missile_policies_and_the_game_uses_the_choice(
    make_app: Callable[..., App], home: Path, ui: Any
) -> None:
    _steering_policy(home / "policies" / "guide.aipp")
    app = make_app()
    screen = SettingsScreen(app)
    app.switch(screen)
    screen.scan.wait(30)
    ui.run(app, 2)
    spec = app.settings.specs[MISSILE_GUIDANCE]
    assert spec.choices[:3] == ("bot: straight", "bot: homing", "policy: guide")
    labels = [item.label for item in screen.menu.items]
    row = labels.index("Missile guidance: bot: straight")
    screen.menu.selected = row
    ui.key(pygame.K_RIGHT)
    ui.key(pygame.K_RIGHT)
    ui.run(app, 1)
    assert app.settings.get(MISSILE_GUIDANCE) == "policy: guide"
    assert "Missile guidance: policy: guide" in [item.label for item in screen.menu.items]
    # the choice is saved, and a game started from the command line's options uses it
    app2 = make_app(opponent="chase")
    assert app2.settings.get(MISSILE_GUIDANCE) == "policy: guide"
    assert isinstance(app2.screen, GameScreen)
    s = app2.screen.session
    assert s.missiles is not None and s.missiles.label == "policy: guide" and s.controllers["missile"] == "agent"
    ui.key(pygame.K_SPACE)
    ui.run(app2, 30)
    assert s.missiles.last_action is not None and s.frame == 30
    # hunting as the enemy, the player bot's missiles keep the game's rules
    app3 = make_app(opponent="kite", side="enemy")
    assert isinstance(app3.screen, GameScreen) and app3.screen.session.missiles is None


def test_a_guidance_that_is_gone_is_reported_and_missiles_fly_straight(
    make_app: Callable[..., App], home: Path
) -> None:
    app = make_app()
    app.settings.set(MISSILE_GUIDANCE, "policy: deleted-since")
    app2 = make_app(opponent="chase")
    assert isinstance(app2.screen, GameScreen) and app2.screen.session.missiles is None
    assert any("missile guidance 'policy: deleted-since' is not available" in n for n in app2.notice_lines())
    # the stored choice is kept (its policy may come back), not silently reset
    assert app2.settings.get(MISSILE_GUIDANCE) == "policy: deleted-since"


def test_homing_is_a_choice_too(make_app: Callable[..., App]) -> None:
    app = make_app()
    app.settings.set(MISSILE_GUIDANCE, "bot: homing")
    app2 = make_app(opponent="chase")
    assert isinstance(app2.screen, GameScreen)
    s = app2.screen.session
    assert s.controllers["missile"] == "homing" and s.agents == ("player",)
