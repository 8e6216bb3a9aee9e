"""Per-world drivers: an agent role handed to one of its scripted bots, world by world, from the next reset."""

from __future__ import annotations

import numpy as np
import pytest

import aip_engine as ae
from aip_engine import reference


def _random_actions(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {
        "player": rng.uniform(-1, 1, (n, 3)).astype(np.float32),
        "enemy": rng.uniform(-1, 1, (n, 2)).astype(np.float32),
    }


@pytest.mark.parametrize("bot", ["chase", "staged", "dodge"])
def test_a_bot_driving_an_agent_slot_plays_exactly_as_the_bot_controller(bot: str) -> None:
    n = 24
    driven = ae.Worlds("duel-v1", n, seed=3, threads=2)
    driven.params["enemy_driver"][:] = 1 + ae.bots("enemy").index(bot)
    driven.reset(seed=3)
    plain = ae.Worlds("duel-v1", n, seed=3, controllers={"enemy": bot}, threads=1)
    rng = np.random.default_rng(0)
    for _ in range(300):
        acts = _random_actions(rng, n)
        driven.step(acts)
        plain.step(acts["player"])
        for key in ("player_pos", "enemy_pos", "missile_pos", "enemy_active"):
            np.testing.assert_array_equal(driven.state()[key], plain.state()[key])
    np.testing.assert_array_equal(driven.state()["enemy_driver_episode"], 1 + ae.bots("enemy").index(bot))


def test_a_driver_takes_effect_at_the_next_reset_of_the_world() -> None:
    worlds = ae.Worlds("duel-v1", 4, seed=1, threads=1)
    worlds.params["player_driver"][:] = 1 + ae.bots("player").index("kite")
    assert (worlds.state()["player_driver_episode"] == 0).all()  # the running episodes keep their driver
    worlds.reset(seed=1, mask=np.array([True, False, True, False]))
    np.testing.assert_array_equal(worlds.state()["player_driver_episode"], [4, 0, 4, 0])
    still = np.zeros((4, 3), np.float32)
    start = worlds.state()["player_pos"].copy()
    worlds.step({"player": still, "enemy": np.zeros((4, 2), np.float32)})
    moved = np.linalg.norm(worlds.state()["player_pos"] - start, axis=1) > 0
    np.testing.assert_array_equal(moved, [True, False, True, False])  # the kite moves; the caller's stand


def test_drivers_are_the_same_for_any_thread_count() -> None:
    finals = []
    for threads in (1, 2, 3):
        worlds = ae.Worlds("duel-v1", 300, seed=9, threads=threads)
        worlds._engine.set_min_chunk(16)
        worlds.params["player_driver"][::3] = 1 + ae.bots("player").index("flee")
        worlds.params["enemy_driver"][1::3] = 1 + ae.bots("enemy").index("intercept")
        worlds.reset(seed=9)
        rng = np.random.default_rng(4)
        for _ in range(200):
            worlds.step(_random_actions(rng, 300))
        finals.append({k: v.copy() for k, v in worlds.state().items()})
    for other in finals[1:]:
        for key, value in finals[0].items():
            np.testing.assert_array_equal(value, other[key], err_msg=key)


def test_the_reference_agrees_with_the_engine_on_drivers() -> None:
    n = 8
    engine = ae.Worlds("duel-v1", n, seed=5, threads=1)
    ref = reference.Worlds("duel-v1", n, seed=5)
    for w in (engine, ref):
        w.params["enemy_driver"][:4] = 1 + ae.bots("enemy").index("intercept")
        w.params["player_driver"][4:] = 1 + ae.bots("player").index("kite")
        w.reset(seed=5)
    rng = np.random.default_rng(1)
    for _ in range(200):
        acts = _random_actions(rng, n)
        engine.step(acts)
        ref.step(acts)
        for key in ("player_pos", "enemy_pos", "player_driver_episode", "enemy_driver_episode"):
            np.testing.assert_allclose(engine.state()[key], ref.state()[key], rtol=0, atol=1e-9, err_msg=key)


@pytest.mark.parametrize(("key", "value", "text"), [("enemy_driver", 9, "[0, 8]"), ("player_driver", -1, "[0, 5]")])
def test_a_driver_out_of_range_is_refused_by_the_engine_and_the_reference(key: str, value: int, text: str) -> None:
    for worlds in (ae.Worlds("duel-v1", 4, seed=0, threads=1), reference.Worlds("duel-v1", 4, seed=0)):
        worlds.params[key][2] = value
        with pytest.raises(ae.ConfigError, match=rf"params\['{key}'\]\[2\] is {value}; allowed range is \{text}"):
            worlds.step(_random_actions(np.random.default_rng(0), 4))
