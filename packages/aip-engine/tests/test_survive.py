"""survive-v1: the player against the game's staged enemy, rewarded like the game's score."""

from __future__ import annotations

import numpy as np
import pytest

import aip_engine as ae

FIRE, HIT, CATCH, RESPAWN, EXPIRE = range(5)
ALIVE = 1 / 600  # a tenth of a point per second survived, per frame
STILL = np.zeros((1, 3), np.float32)


def _survive(**kw: object) -> ae.Worlds:
    w = ae.Worlds("survive-v1", 1, seed=5, threads=1, **kw)  # type: ignore[arg-type]
    w.params["fire_probability"][:] = 0.0
    return w


def test_the_declaration() -> None:
    spec = ae.task_spec("survive-v1")
    assert spec.agents == ("player",) and spec.success_role == "player" and spec.success == "time-limit"
    assert dict(spec.controllers) == {"player": "agent", "enemy": "staged", "missile": "straight"}
    assert spec.time_limit == 1800 and spec.ends == ("catch",)
    # The game's speeds and missiles (aip_game/balance.toml).
    assert spec.config.enemy_speed == 6.5 and spec.config.max_missiles == 3 and spec.config.aim_error == 0.3
    assert (spec.config.missile_life_min, spec.config.missile_life_max) == (120, 180)
    assert spec.reward_weights("player", spec.config) == {"alive": ALIVE, "hit": 10.0, "failure": -30.0}


def test_surviving_the_time_limit_is_the_success() -> None:
    w = _survive(config={"time_limit": 3})
    w.set_state("enemy_pos", [[100.0, 100.0]])
    w.set_state("player_pos", [[700.0, 400.0]])
    for k in range(3):
        r = w.step(STILL)
        assert r.reward[0] == np.float32(ALIVE)
        assert r.truncated[0] == (k == 2) and not r.terminated[0]
    assert w.success[0] and w.success_of("player")[0]
    assert w.episode_return("player")[0] == np.float32(ALIVE + ALIVE + ALIVE)
    assert w.episode_frames[0] == 3


def test_a_catch_ends_the_episode_with_the_penalty() -> None:
    w = _survive()
    w.set_state("enemy_pos", [[300.0, 300.0]])
    w.set_state("player_pos", [[340.0, 300.0]])
    r = w.step(STILL)
    assert r.events[0, CATCH] == 1 and r.terminated[0] and not r.truncated[0]
    assert not w.success[0] and not w.success_of("player")[0]
    assert r.reward[0] == np.float32(ALIVE - 30.0)


def test_a_hit_pays_and_the_episode_goes_on() -> None:
    w = _survive()
    w.set_state("enemy_pos", [[600.0, 300.0]])
    w.set_state("player_pos", [[1000.0, 300.0]])
    w.set_state("missile_alive", [[False, True, False]])
    w.set_state("missile_pos", [[[0, 0], [580.0, 300.0], [0, 0]]])
    w.set_state("missile_heading", [[[0, 0], [1.0, 0.0], [0, 0]]])
    w.set_state("missile_life", [[0, 100, 0]])
    r = w.step(STILL)
    assert r.events[0, HIT] == 1
    assert not r.terminated[0] and not r.truncated[0] and not w.success[0]
    assert r.reward[0] == np.float32(ALIVE + 10.0)
    assert not w.state()["enemy_active"][0]  # it respawns later, as in the game


def test_the_reference_agrees_on_a_random_episode() -> None:
    from aip_engine import reference

    eng = ae.Worlds("survive-v1", 16, seed=11, threads=1)
    ref = reference.Worlds("survive-v1", 16, seed=11)
    rng = np.random.default_rng(0)
    for _ in range(400):
        a = rng.uniform(-1, 1, (16, 3)).astype(np.float32)
        re, rr = eng.step(a), ref.step(a)
        np.testing.assert_array_equal(re.reward, rr.reward)
        np.testing.assert_array_equal(re.obs, rr.obs)
        np.testing.assert_array_equal(eng.success, ref.success)


def test_the_gymnasium_id() -> None:
    gymnasium = pytest.importorskip("gymnasium")
    import aip_engine.gym  # noqa: F401

    env = gymnasium.make("aip/Survive-v1")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (ae.role_layout("player").obs_size,)
    _, reward, terminated, _, _ = env.step(np.zeros(3, np.float32))
    assert reward == pytest.approx(ALIVE) or terminated
    env.close()
