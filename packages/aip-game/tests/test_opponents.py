"""Opponents: every bot, policy files in ./policies and the data folder, policy-source entry points."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import aip_engine as ae
from aip_engine._policy import save_policy
from aip_game._app import App
from aip_game._opponents import find_choices
from aip_game._paths import policy_dirs
from aip_game._play import GameScreen
from aip_game._screens import OpponentMenu


def _policy(path: Path, role: str, seed: int = 0) -> Path:
    lay = ae.role_layout(role)
    rng = np.random.default_rng(seed)
    sizes = [lay.obs_size, 16, lay.act_size]
    weights = [rng.normal(0, 0.5, (sizes[i + 1], sizes[i])).astype(np.float32) for i in range(2)]
    biases = [np.zeros(sizes[i + 1], dtype=np.float32) for i in range(2)]
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_policy(
        path,
        layout_name=lay.name,
        weights=weights,
        biases=biases,
        activation="tanh",
        obs_mean=np.zeros(lay.obs_size),
        obs_var=np.ones(lay.obs_size),
        task="chase-v1",
    )


def test_without_policies_every_bot_is_offered(home: Path) -> None:
    labels = [c.label for c in find_choices("enemy", None, policy_dirs())]
    assert labels == [f"bot: {b}" for b in ae.bots("enemy")]


def test_policy_files_are_found_in_both_folders(make_app: Callable[..., App], home: Path, ui: Any) -> None:
    _policy(Path.cwd() / "policies" / "local.aipp", "enemy")
    _policy(home / "policies" / "saved.aipp", "enemy", seed=1)
    _policy(home / "policies" / "runner.aipp", "player")
    (home / "policies" / "broken.aipp").write_bytes(b"not a policy")
    app = make_app()
    menu = OpponentMenu(app, "enemy")
    by_label = {c.label: c for c in menu.choices}
    assert {"policy: local", "policy: saved", "policy: broken.aipp"} <= set(by_label)
    assert "policy: runner" not in by_label
    assert by_label["policy: broken.aipp"].problem
    broken_item = next(i for i in menu.menu.items if i.label == "policy: broken.aipp")
    assert not broken_item.enabled and broken_item.detail
    assert "policy: runner" in [c.label for c in OpponentMenu(app, "player").choices]


def test_a_policy_opponent_plays_the_enemy(make_app: Callable[..., App], home: Path, ui: Any) -> None:
    path = _policy(home / "policies" / "p.aipp", "enemy")
    app = make_app(opponent="p")
    assert isinstance(app.screen, GameScreen)
    s = app.screen.session
    assert s.controllers["enemy"] == "agent" and s.opponent == "policy: p"
    policy = ae.load_policy(path)
    for _ in range(20):
        obs = s.worlds.observations("enemy")[0].copy()
        ui.run(app, 1)
        np.testing.assert_array_equal(s.opponent_obj.last_action, policy.act(obs))
        np.testing.assert_array_equal(s.opponent_observation, obs)


def test_a_policy_plays_the_player_when_you_hunt(make_app: Callable[..., App], tmp_path: Path, ui: Any) -> None:
    path = _policy(tmp_path / "runner.aipp", "player")
    app = make_app(opponent=str(path), side="enemy")
    assert isinstance(app.screen, GameScreen)
    s = app.screen.session
    assert s.controllers == {"player": "agent", "enemy": "agent"}
    ui.run(app, 10)
    assert s.frame == 10 and s.opponent_obj.last_action is not None and s.opponent_obj.last_action.shape == (3,)


def test_a_policy_of_the_wrong_role_is_refused_with_a_notice(make_app: Callable[..., App], tmp_path: Path) -> None:
    path = _policy(tmp_path / "runner.aipp", "player")
    app = make_app(opponent=str(path), side="player")
    assert not isinstance(app.screen, GameScreen)
    assert any("'player' policy" in n and "'enemy' policy is needed" in n for n in app.notice_lines())


def test_policy_sources_from_entry_points(
    make_app: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ui: Any
) -> None:
    policy = _policy(tmp_path / "registry" / "champion.aipp", "enemy")
    site = tmp_path / "site"
    dist = site / "fake_registry-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-registry\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[aip_game.policy_sources]\nregistry = fake_registry:sources\nbroken = fake_registry:broken\n"
    )
    (site / "fake_registry.py").write_text(
        f"def sources():\n    return [('registry: chaser@champion', 'enemy', lambda: {str(policy)!r})]\n"
        "def broken():\n    raise ConnectionError('registry unreachable')\n"
    )
    monkeypatch.syspath_prepend(str(site))
    choices = {c.label: c for c in find_choices("enemy", None, [])}
    assert choices["registry: chaser@champion"].problem is None
    assert "registry unreachable" in (choices["source: broken"].problem or "")
    app = make_app(opponent="registry: chaser@champion")
    assert isinstance(app.screen, GameScreen)
    ui.run(app, 5)
    assert app.screen.session.frame == 5
    # the menu shows local opponents at once and adds the sources' offers when they arrive
    menu = OpponentMenu(app, "enemy")
    app.switch(menu)
    menu.scan.wait(30)
    ui.run(app, 1)
    labels = [item.label for item in menu.menu.items]
    assert labels[: len(ae.bots("enemy"))] == [f"bot: {b}" for b in ae.bots("enemy")]
    assert "registry: chaser@champion" in labels and "looking for installed models ..." not in labels


def test_a_policy_that_breaks_stands_still_and_the_game_goes_on(
    make_app: Callable[..., App], tmp_path: Path, ui: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A policy file that could only produce NaN no longer loads (load_policy refuses it), so the
    # breakage is simulated: a loaded policy whose actions turn NaN during the game.
    lay = ae.role_layout("enemy")
    path = save_policy(
        tmp_path / "fine.aipp",
        layout_name=lay.name,
        weights=[np.zeros((lay.act_size, lay.obs_size), np.float32)],
        biases=[np.zeros(lay.act_size, np.float32)],
        activation="tanh",
        obs_mean=np.zeros(lay.obs_size),
        obs_var=np.ones(lay.obs_size),
    )
    app = make_app(opponent=str(path))
    assert isinstance(app.screen, GameScreen)
    s = app.screen.session
    s.opponent_obj.prepare()
    monkeypatch.setattr(s.opponent_obj.policy, "act", lambda obs: np.full(lay.act_size, np.nan, np.float32))
    ui.run(app, 20)
    assert s.frame == 20
    assert s.opponent_obj.problem is not None and "stopped" in s.opponent_obj.problem
    assert any("stopped" in n for n in app.notice_lines())
    assert s.opponent_obj.last_action is not None and not s.opponent_obj.last_action.any()
