"""Behaviour of the Python reference (aip_engine.reference) against docs/rules.md."""

from __future__ import annotations

import math

import numpy as np
import pytest

import aip_engine as ae
from aip_engine.reference import Rng, World, Worlds
from aip_engine.reference._frame import place_enemy
from aip_engine.reference._geometry import Arena, clip_to_unit_disc, rotate
from aip_engine.reference._rng import mix64


def _random_actions(w: Worlds, rng: np.random.Generator) -> object:
    acts = {r: rng.uniform(-1.2, 1.2, (w.num_worlds, ae.role_layout(r).act_size)).astype(np.float32) for r in w.agents}
    if len(acts) == 1:
        return next(iter(acts.values()))
    return acts or None


# --- generator ------------------------------------------------------------------------------


def test_splitmix64_matches_the_published_sequence() -> None:
    rng = Rng()
    rng.state = 0
    assert [rng.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_seed_mixes_seed_and_world_index() -> None:
    rng = Rng(7, 3)
    assert rng.state == mix64(7) ^ mix64(3 + 0x632BE59BD9B4E019)
    assert Rng(7, 3).state != Rng(7, 4).state
    assert Rng(-1, 0).state == Rng(2**64 - 1, 0).state


def test_uniform_and_randint_stay_in_their_ranges() -> None:
    rng = Rng(1, 0)
    us = [rng.uniform() for _ in range(2000)]
    assert all(0.0 <= u < 1.0 for u in us)
    ks = [rng.randint(2, 5) for _ in range(2000)]
    assert set(ks) == {2, 3, 4, 5}
    assert all(0.0 <= rng.angle() < 2 * math.pi for _ in range(100))


# --- geometry -------------------------------------------------------------------------------


def test_wrap_uses_the_shortest_displacement() -> None:
    arena = Arena(1280.0, 720.0, wrap=True)
    assert arena.displacement(10.0, 10.0, 1270.0, 700.0) == (-20.0, -30.0)
    assert arena.distance(0.0, 0.0, 1279.0, 0.0) == pytest.approx(1.0)
    assert arena.bound_body(-3.0, 725.0, 25.0) == (1277.0, 5.0)


def test_clamp_keeps_bodies_inside_and_uses_plain_differences() -> None:
    arena = Arena(1280.0, 720.0, wrap=False)
    assert arena.displacement(10.0, 10.0, 1270.0, 700.0) == (1260.0, 690.0)
    assert arena.bound_body(-3.0, 725.0, 25.0) == (25.0, 695.0)
    assert not arena.inside(-0.5, 3.0)


def test_moves_are_clipped_to_the_unit_disc() -> None:
    dx, dy = clip_to_unit_disc(1.0, 1.0)
    assert math.hypot(dx, dy) == pytest.approx(1.0)
    assert clip_to_unit_disc(0.3, -0.4) == (0.3, -0.4)
    x, y = rotate(1.0, 0.0, math.pi / 2)
    assert (x, y) == pytest.approx((0.0, 1.0))


def test_respawn_is_far_from_the_player_and_inside_the_margin() -> None:
    cfg = ae.Config()
    arena = Arena(cfg.arena_width, cfg.arena_height, wrap=True)
    w = World(ae.task_spec("chase-v1"), cfg, ae.task_spec("chase-v1").controllers, 0)
    for seed in range(50):
        w.rng.seed(seed, 0)
        w.state.player_x, w.state.player_y = 640.0, 360.0
        place_enemy(w.state, w.rng, cfg, arena)
        s = w.state
        assert 50.0 <= s.enemy_x <= 1230.0 and 50.0 <= s.enemy_y <= 670.0
        assert arena.distance(640.0, 360.0, s.enemy_x, s.enemy_y) >= 200.0


# --- the batch ------------------------------------------------------------------------------


def test_a_worlds_numbers_do_not_depend_on_the_batch_size() -> None:
    small = Worlds("dodge-v1", 2, seed=5)
    big = Worlds("dodge-v1", 5, seed=5)
    act = np.zeros((5, 2), np.float32)
    act[:, 0] = 1.0
    for _ in range(200):
        small.step(act[:2])
        big.step(act)
    for key, value in small.state().items():
        np.testing.assert_array_equal(value, big.state()[key][:2], err_msg=key)


def test_masked_reset_reseeds_only_the_masked_worlds() -> None:
    w = Worlds("chase-v1", 3, seed=1)
    first = w.state()["player_pos"].copy()
    for _ in range(10):
        w.step(np.ones((3, 2), np.float32))
    moved = w.state()["player_pos"].copy()
    w.reset(seed=1, mask=np.array([True, False, True]))
    now = w.state()["player_pos"]
    np.testing.assert_array_equal(now[[0, 2]], first[[0, 2]])
    np.testing.assert_array_equal(now[1], moved[1])


def test_catch_ends_chase_with_the_success_reward() -> None:
    w = Worlds("chase-v1", 8, seed=2, controllers={"enemy": "chase"})
    caught = 0
    for _ in range(600):
        res = w.step()
        done = res.terminated
        if done.any():
            assert (res.events[done, ae.EVENTS.index("catch")] == 1).all()
            assert w.success[done].all()
            assert (w.rewards("enemy")[done] > 9.0).all()
            caught += int(done.sum())
    assert caught > 0


def test_a_hit_ends_dodge_with_the_failure_reward() -> None:
    # An enemy that never moves is hit by the kite's homing missiles.
    w = Worlds("dodge-v1", 8, seed=3)
    hits = 0
    for _ in range(900):
        res = w.step(np.zeros((8, 2), np.float32))
        hit = res.events[:, ae.EVENTS.index("hit")] == 1
        if hit.any():
            assert res.terminated[hit].all()
            assert (w.rewards("enemy")[hit] < -4.0).all()
            assert not w.success[hit].any()
            hits += int(hit.sum())
    assert hits > 0


def test_shaping_telescopes_so_hovering_earns_nothing() -> None:
    # With the enemy idle, the shaping returns sum to (d_start - d_end) / speed.
    w = Worlds("chase-v1", 1, seed=4, config={"time_limit": 50})
    start = w.state()
    total = 0.0
    for _ in range(49):
        res = w.step(np.zeros((1, 2), np.float32))
        total += float(res.reward[0])
    end = w.state()
    arena = Arena(1280.0, 720.0, wrap=True)
    d0 = arena.distance(*start["enemy_pos"][0], *start["player_pos"][0])
    d1 = arena.distance(*end["enemy_pos"][0], *end["player_pos"][0])
    assert total == pytest.approx((d0 - d1) / 5.0, abs=1e-4)


def test_automatic_reset_keeps_the_final_observation_and_emits_no_events() -> None:
    w = Worlds("chase-v1", 4, seed=6, config={"time_limit": 20})
    for _ in range(19):
        w.step(np.zeros((4, 2), np.float32))
    before = w.observations("enemy").copy()
    res = w.step(np.zeros((4, 2), np.float32))
    assert res.truncated.all() and not res.terminated.any()
    assert (w.episode_frames == 20).all()
    assert (w.frame == 0).all()
    assert not np.array_equal(w.final_observations("enemy"), res.obs)
    positions = [0, 1, 4, 5, 6]  # one frame moves positions and distances only a little
    assert np.abs(w.final_observations("enemy")[:, positions] - before[:, positions]).max() < 0.05


def test_intercept_fires_one_missile_at_reset_and_ends_by_hit_or_expiry() -> None:
    w = Worlds("intercept-v1", 6, seed=7, controllers={"missile": "homing"})
    assert w.state()["missile_alive"][:, 0].all()
    ends = 0
    for _ in range(720):
        res = w.step()
        done = res.terminated | res.truncated
        if done.any():
            ev = res.events[done]
            assert ((ev[:, ae.EVENTS.index("hit")] + ev[:, ae.EVENTS.index("expire")]) >= 1).all()
            ends += int(done.sum())
    assert ends >= 6


def test_bad_actions_are_rejected_with_clear_errors() -> None:
    w = Worlds("chase-v1", 2)
    with pytest.raises(ae.ShapeError, match="dtype float32"):
        w.step(np.zeros((2, 2), np.float64))
    with pytest.raises(ae.ShapeError, match="C-contiguous"):
        w.step(np.zeros((2, 4), np.float32)[:, ::2])
    bad = np.zeros((2, 2), np.float32)
    bad[1, 0] = np.nan
    with pytest.raises(ae.ActionError, match="world 1"):
        w.step(bad)
    with pytest.raises(ae.UnknownNameError):
        Worlds("chase-v9", 1)


@pytest.mark.parametrize("task", ae.tasks())
def test_every_task_runs_with_random_actions(task: str) -> None:
    w = Worlds(task, 3, seed=8)
    rng = np.random.default_rng(0)
    for _ in range(100):
        w.step(_random_actions(w, rng))  # type: ignore[arg-type]
    for role in ae.roles():
        assert np.isfinite(w.observations(role)).all()
