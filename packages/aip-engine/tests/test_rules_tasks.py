"""Tasks: rewards, termination, truncation, success, automatic reset (docs/rules.md, "Tasks")."""

from __future__ import annotations

import math

import numpy as np
import pytest

import aip_engine as ae

FIRE, HIT, CATCH, RESPAWN, EXPIRE = range(5)


def _chase(n: int = 1, **kw: object) -> ae.Worlds:
    return ae.Worlds("chase-v1", n, seed=7, threads=1, controllers={"player": "idle"}, **kw)  # type: ignore[arg-type]


def test_shaping_pays_the_decrease_of_distance_over_speed() -> None:
    w = _chase()
    w.set_state("enemy_pos", [[300.0, 300.0]])
    w.set_state("player_pos", [[600.0, 300.0]])
    r = w.step(np.array([[1.0, 0.0]], np.float32))
    assert r.reward[0] == np.float32(1.0)
    r = w.step(np.array([[-1.0, 0.0]], np.float32))
    assert r.reward[0] == np.float32(-1.0)
    r = w.step(np.array([[0.0, 1.0]], np.float32))
    expected = (300.0 - math.sqrt(300.0 * 300.0 + 25.0)) / 5.0
    assert r.reward[0] == np.float32(expected)


def test_catch_terminates_with_success_and_resets_in_the_same_step() -> None:
    w = _chase()
    w.set_state("enemy_pos", [[300.0, 300.0]])
    w.set_state("player_pos", [[352.0, 300.0]])
    before = w.observations("enemy").copy()
    r = w.step(np.array([[1.0, 0.0]], np.float32))
    assert r.terminated[0] and not r.truncated[0]
    assert r.events[0, CATCH] == 1
    assert w.success[0] and w.success_of("enemy")[0]
    # Shaping is not paid in the frame the enemy disappears; the success reward is.
    assert r.reward[0] == np.float32(10.0)
    assert w.episode_frames[0] == 1
    assert w.episode_return("enemy")[0] == np.float32(10.0)
    assert w.frame[0] == 0
    final = w.final_observations("enemy")[0]
    lay = ae.role_layout("enemy")
    assert final[lay.obs_index("self_x")] == np.float32(2 * 305.0 / 1280 - 1)
    assert not np.array_equal(final, r.obs[0])
    assert not np.array_equal(before[0], r.obs[0])
    assert w.state()["enemy_active"][0]  # the new episode's enemy
    assert w.state()["enemy_fade"][0] == 60


def test_time_limit_truncates_and_is_not_a_termination() -> None:
    w = _chase(config={"time_limit": 5})
    w.set_state("enemy_pos", [[300.0, 300.0]])
    w.set_state("player_pos", [[900.0, 300.0]])
    zero = np.zeros((1, 2), np.float32)
    for _ in range(4):
        r = w.step(zero)
        assert not r.truncated[0]
    r = w.step(zero)
    assert r.truncated[0] and not r.terminated[0]
    assert not w.success[0]
    assert w.episode_frames[0] == 5 and w.frame[0] == 0


def test_default_time_limits() -> None:
    limits = {t: ae.Worlds(t, 1, threads=1).time_limit for t in ae.tasks()}
    assert limits == {
        "chase-v1": 600,
        "chase-flee-v1": 900,
        "dodge-v1": 900,
        "intercept-v1": 720,
        "duel-v1": 1800,
        "play-v1": 0,
        "survive-v1": 1800,
    }


def test_auto_reset_off_leaves_finished_worlds_for_the_caller() -> None:
    w = _chase(2, auto_reset=False)
    w.set_state("enemy_pos", [[300.0, 300.0], [300.0, 300.0]])
    w.set_state("player_pos", [[352.0, 300.0], [800.0, 300.0]])
    r = w.step(np.array([[1.0, 0.0], [0.0, 0.0]], np.float32))
    assert r.terminated.tolist() == [True, False]
    assert w.frame.tolist() == [1, 1]
    assert not w.state()["enemy_active"][0]
    w.reset(mask=np.array([True, False]))
    assert w.frame.tolist() == [0, 1]
    assert w.state()["enemy_active"][0]
    assert not w.terminated[0]


def test_dodge_hit_is_a_failure_of_the_enemy() -> None:
    w = ae.Worlds("dodge-v1", 1, seed=3, threads=1)
    w.params["fire_probability"][:] = 0.0
    w.set_state("enemy_pos", [[600.0, 300.0]])
    w.set_state("player_pos", [[1000.0, 300.0]])
    w.set_state("missile_alive", [[False, True, False]])
    w.set_state("missile_pos", [[[0, 0], [580.0, 300.0], [0, 0]]])
    w.set_state("missile_heading", [[[0, 0], [1.0, 0.0], [0, 0]]])
    w.set_state("missile_life", [[0, 100, 0]])
    r = w.step(np.zeros((1, 2), np.float32))
    assert r.events[0, HIT] == 1
    assert r.terminated[0] and not w.success[0]
    assert r.reward[0] == np.float32(-5.0)


def test_intercept_hit_and_expiry() -> None:
    w = ae.Worlds("intercept-v1", 2, seed=3, threads=1, controllers={"enemy": "linear"})
    w.params["enemy_speed"][:] = 0.0
    s = w.state()
    # World 0: the missile is right next to the enemy; world 1: its life runs out now.
    pos = s["enemy_pos"][0] - s["missile_heading"][0, 0] * 20.0
    mp = s["missile_pos"].copy()
    mp[0, 0] = pos
    w.set_state("missile_pos", mp)
    w.set_state("missile_life", [[500, 0, 0], [1, 0, 0]])
    r = w.step(np.zeros((2, 1), np.float32))
    assert r.terminated.tolist() == [True, True]
    assert r.events[:, HIT].tolist() == [1, 0]
    assert r.events[:, EXPIRE].tolist() == [0, 1]
    assert w.success.tolist() == [True, False]
    assert r.reward[0] == np.float32(10.0)
    assert r.reward[1] == np.float32(-5.0)
    # A new missile is in flight at once.
    assert w.state()["missile_alive"][:, 0].all()
    assert w.state()["player_cooldown"].tolist() == [30, 30]


def test_duel_pays_both_sides() -> None:
    w = ae.Worlds("duel-v1", 2, seed=3, threads=1)
    w.set_state("enemy_pos", [[600.0, 300.0], [600.0, 300.0]])
    w.set_state("player_pos", [[1000.0, 300.0], [640.0, 300.0]])
    w.set_state("missile_alive", [[True, False, False], [False, False, False]])
    w.set_state("missile_pos", [[[580.0, 300.0], [0, 0], [0, 0]]] * 2)
    w.set_state("missile_heading", [[[1.0, 0.0], [0, 0], [0, 0]]] * 2)
    w.set_state("missile_life", [[100, 0, 0]] * 2)
    acts = {"player": np.zeros((2, 3), np.float32), "enemy": np.zeros((2, 2), np.float32)}
    r = w.step(acts)
    assert isinstance(r.reward, dict)
    assert r.events[:, HIT].tolist() == [1, 0] and r.events[:, CATCH].tolist() == [0, 1]
    assert r.reward["player"].tolist() == [10.0, -5.0]
    assert r.reward["enemy"].tolist() == [-5.0, 10.0]
    assert w.success.tolist() == [True, False]
    assert w.success_of("player").tolist() == [True, False]
    assert w.success_of("enemy").tolist() == [False, True]


def test_duel_player_shaping_is_the_increase_of_distance() -> None:
    w = ae.Worlds("duel-v1", 1, seed=3, threads=1)
    w.set_state("enemy_pos", [[300.0, 300.0]])
    w.set_state("player_pos", [[600.0, 300.0]])
    acts = {"player": np.array([[1.0, 0.0, 0.0]], np.float32), "enemy": np.zeros((1, 2), np.float32)}
    r = w.step(acts)
    assert isinstance(r.reward, dict)
    assert r.reward["player"][0] == np.float32(1.0)
    assert r.reward["enemy"][0] == np.float32(-1.0)


def test_play_never_ends() -> None:
    w = ae.Worlds("play-v1", 16, seed=3, threads=1)
    a = np.zeros((16, 3), np.float32)
    for _ in range(700):
        r = w.step(a)
        assert not r.terminated.any() and not r.truncated.any()
    assert (w.frame == 700).all()


def test_bot_in_the_agent_slot_is_scored_like_an_agent() -> None:
    w = ae.Worlds("chase-v1", 64, seed=5, threads=1, controllers={"enemy": "chase"})
    assert w.agents == ()
    total = np.zeros(64)
    caught = 0
    for _ in range(600):
        w.step()
        total += w.rewards("enemy")
        caught += int(w.success.sum())
    assert caught > 0
    assert total.sum() > 0


@pytest.mark.parametrize("task", ae.tasks())
def test_observations_are_finite_and_in_range(task: str) -> None:
    w = ae.Worlds(task, 32, seed=1, threads=1)
    rng = np.random.default_rng(0)
    for _ in range(200):
        acts = {r: rng.uniform(-1, 1, (32, ae.role_layout(r).act_size)).astype(np.float32) for r in w.agents}
        w.step(acts if len(acts) != 1 else next(iter(acts.values())))
        for role in ae.roles():
            o = w.observations(role)
            lay = ae.role_layout(role)
            assert np.isfinite(o).all()
            low = np.array([f.low for f in lay.observation]) - 1e-6
            high = np.array([f.high for f in lay.observation]) + 1e-6
            assert ((o >= low) & (o <= high)).all(), role
