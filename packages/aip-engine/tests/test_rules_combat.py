"""Firing, missiles, collisions, respawns (docs/rules.md, "One frame" steps 2 to 5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import aip_engine as ae

ARENA = np.array([1280.0, 720.0])
HALF = ARENA / 2

FIRE, HIT, CATCH, RESPAWN, EXPIRE = range(5)


def _play(n: int = 1, **config: object) -> ae.Worlds:
    return ae.Worlds("play-v1", n, seed=5, threads=1, config=config or None)


def _act(w: ae.Worlds, x: float = 0.0, y: float = 0.0, fire: float = 0.0) -> np.ndarray:
    a = np.zeros((w.num_worlds, 3), np.float32)
    a[:] = (x, y, fire)
    return a


def _place(w: ae.Worlds, player: tuple[float, float], enemy: tuple[float, float]) -> None:
    w.set_state("player_pos", [player])
    w.set_state("enemy_pos", [enemy])
    w.set_state("enemy_active", True)


def _freeze_enemy(w: ae.Worlds) -> None:
    # The enemy bot chases; speed 0 keeps it where a test puts it.
    w.params["enemy_speed"][:] = 0.0


def test_fire_puts_a_missile_at_the_player_aimed_at_the_enemy() -> None:
    w = _play(aim_error=0.0)
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (700.0, 300.0))
    r = w.step(_act(w, fire=1.0))
    s = w.state()
    assert r.events[0, FIRE] == 1
    assert s["missile_alive"][0].tolist() == [True, False, False]
    assert s["missile_pos"][0, 0].tolist() == [400.0, 300.0]  # fired this frame: does not move
    assert s["missile_heading"][0, 0].tolist() == [1.0, 0.0]
    assert 480 - 1 <= s["missile_life"][0, 0] <= 720 - 1  # ages in its first frame
    assert s["player_cooldown"][0] == 30
    w.step(_act(w))
    assert w.state()["missile_pos"][0, 0].tolist() == [405.0, 300.0]


def test_fire_threshold_is_one_half() -> None:
    w = _play()
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (700.0, 300.0))
    assert w.step(_act(w, fire=0.49)).events[0, FIRE] == 0
    assert w.step(_act(w, fire=0.5)).events[0, FIRE] == 1


def test_aim_error_is_within_bounds() -> None:
    w = ae.Worlds("play-v1", 256, seed=9, threads=1)
    w.params["enemy_speed"][:] = 0.0
    w.step(_act(w, fire=1.0))
    s = w.state()
    h = s["missile_heading"][:, 0]
    d = s["enemy_pos"] - s["missile_pos"][:, 0]
    d = (d + HALF) % ARENA - HALF
    ang = np.arctan2(h[:, 1], h[:, 0]) - np.arctan2(d[:, 1], d[:, 0])
    ang = (ang + np.pi) % (2 * np.pi) - np.pi
    assert np.abs(ang).max() <= 0.1 + 1e-12
    assert np.abs(ang).max() > 0.05  # the error is actually drawn


def test_cooldown_blocks_the_next_thirty_frames() -> None:
    w = _play()
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (700.0, 600.0))
    fired = [int(w.step(_act(w, fire=1.0)).events[0, FIRE]) for _ in range(63)]
    # Shot in frame t: no shot in the 30 frames t+1 ... t+30, the next in t+31.
    assert [i for i, f in enumerate(fired) if f] == [0, 31, 62]


def test_max_missiles_limits_shots() -> None:
    w = _play(fire_cooldown=0)
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (1000.0, 600.0))
    shots = sum(int(w.step(_act(w, fire=1.0)).events[0, FIRE]) for _ in range(10))
    assert shots == 3
    assert w.state()["missile_alive"][0].all()
    w.params["max_missiles"][:] = 1
    w.set_state("missile_alive", [[False, False, False]])
    shots = sum(int(w.step(_act(w, fire=1.0)).events[0, FIRE]) for _ in range(10))
    assert shots == 1


def test_lifetime_expiry_removes_the_missile_with_an_event() -> None:
    w = _play()
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (1000.0, 600.0))
    w.step(_act(w, fire=1.0))
    w.set_state("missile_life", [[2, 0, 0]])
    assert w.step(_act(w)).events[0, EXPIRE] == 0
    assert w.state()["missile_life"][0, 0] == 1
    r = w.step(_act(w))
    assert r.events[0, EXPIRE] == 1
    assert not w.state()["missile_alive"][0, 0]


def test_clamp_removes_a_missile_that_leaves_the_arena() -> None:
    w = _play(boundary="clamp", aim_error=0.0)
    _freeze_enemy(w)
    _place(w, (1200.0, 300.0), (1250.0, 300.0))
    w.set_state("player_invulnerable", 100)
    w.set_state("enemy_active", False)
    w.set_state("enemy_respawn_timer", 1000)
    w.step(_act(w, fire=1.0))
    assert w.state()["missile_alive"][0, 0]
    expired = [int(w.step(_act(w)).events[0, EXPIRE]) for _ in range(20)]
    assert expired.index(1) == 16  # 1200 + 17 * 5 = 1285 > 1280
    assert not w.state()["missile_alive"][0, 0]


def test_wrap_moves_missiles_across_the_edge() -> None:
    w = _play(aim_error=0.0)
    _freeze_enemy(w)
    _place(w, (1275.0, 300.0), (100.0, 300.0))
    w.set_state("enemy_active", False)
    w.set_state("enemy_respawn_timer", 1000)
    w.step(_act(w, fire=1.0))
    w.step(_act(w))
    assert w.state()["missile_pos"][0, 0].tolist() == [0.0, 300.0]


def test_hit_removes_missile_and_enemy_respawns_after_the_delay() -> None:
    w = _play(aim_error=0.0)
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (460.0, 300.0))
    w.set_state("player_invulnerable", 1000)
    w.step(_act(w, fire=1.0))  # missile at 400, enemy at 460: 60 >= 30, no hit yet
    r = w.step(_act(w))  # missile at 405: 55
    assert r.events[0, HIT] == 0
    hits = []
    for _ in range(10):
        hits.append(int(w.step(_act(w)).events[0, HIT]))
        if hits[-1]:
            break
    # Hit when the distance drops below 30: 460 - 430 = 30 is no overlap, 460 - 435 = 25 is.
    assert hits.index(1) == 5
    s = w.state()
    assert not s["enemy_active"][0] and s["enemy_respawn_timer"][0] == 60
    assert not s["missile_alive"][0].any()
    respawns = [int(w.step(_act(w)).events[0, RESPAWN]) for _ in range(60)]
    assert respawns == [0] * 59 + [1]
    s = w.state()
    assert s["enemy_active"][0] and s["enemy_fade"][0] == 0
    w.step(_act(w))
    assert w.state()["enemy_fade"][0] == 1


@pytest.mark.parametrize(("gap", "caught"), [(49.99, True), (50.0, False)])
def test_catch_is_a_strict_overlap(gap: float, caught: bool) -> None:
    w = _play()
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (400.0 + gap, 300.0))
    r = w.step(_act(w))
    assert bool(r.events[0, CATCH]) is caught
    assert bool(w.state()["enemy_active"][0]) is not caught


def test_respawn_keeps_distance_and_margins() -> None:
    w = ae.Worlds("play-v1", 512, seed=11, threads=1)
    a = np.zeros((512, 3), np.float32)
    s = w.state()
    w.set_state("enemy_pos", s["player_pos"] + [10.0, 0.0])  # every enemy catches at once
    w.step(a)
    assert w.events[:, CATCH].all()
    for _ in range(60):
        w.step(a)
    s = w.state()
    assert s["enemy_active"].all()
    d = s["enemy_pos"] - s["player_pos"]
    d = (d + HALF) % ARENA - HALF
    assert (np.hypot(d[:, 0], d[:, 1]) >= 200.0).all()
    assert (s["enemy_pos"] >= 50.0).all() and (s["enemy_pos"] <= [1230.0, 670.0]).all()


def test_respawn_takes_the_farthest_candidate_when_none_is_far_enough() -> None:
    w = ae.Worlds("play-v1", 64, seed=2, threads=1, config={"respawn_min_distance": 10_000.0})
    s = w.state()
    assert s["enemy_active"].all()
    assert (s["enemy_pos"] >= 50.0).all() and (s["enemy_pos"] <= [1230.0, 670.0]).all()
    d = s["enemy_pos"] - s["player_pos"]
    d = (d + HALF) % ARENA - HALF
    # The farthest of 16 uniform candidates is far more often than not beyond 300 px.
    assert np.median(np.hypot(d[:, 0], d[:, 1])) > 300.0


def test_catch_invulnerability_blocks_catches_then_counts_down() -> None:
    w = _play(catch_invulnerability=3)
    _freeze_enemy(w)
    _place(w, (400.0, 300.0), (420.0, 300.0))
    assert w.step(_act(w)).events[0, CATCH] == 1
    assert w.state()["player_invulnerable"][0] == 3
    w.step(_act(w))
    assert w.state()["player_invulnerable"][0] == 2


def test_missile_turn_is_clipped_to_max_turn() -> None:
    w = ae.Worlds("intercept-v1", 3, seed=4, threads=1)
    h0 = w.state()["missile_heading"][:, 0].copy()
    turns = np.array([[5.0], [0.5], [-1.0]], np.float32)
    w.step(turns)
    h1 = w.state()["missile_heading"][:, 0]
    for k, t in enumerate([1.0, 0.5, -1.0]):
        a = t * (12.0 * math.pi / 180.0)
        c, s = math.cos(a), math.sin(a)
        exp = [h0[k, 0] * c - h0[k, 1] * s, h0[k, 0] * s + h0[k, 1] * c]
        assert h1[k].tolist() == exp


def test_homing_guidance_turns_toward_the_enemy_and_straight_does_not() -> None:
    cfg = {"aim_error": 0.0}
    w = ae.Worlds("intercept-v1", 2, seed=4, threads=1, controllers={"missile": "homing"}, config=cfg)
    w.params["guidance"][1] = ae.bots("missile").index("straight")
    w.params["enemy_speed"][:] = 0.0
    w.set_state("missile_pos", [[[100.0, 100.0], [0, 0], [0, 0]]] * 2)
    w.set_state("missile_heading", [[[1.0, 0.0], [0, 0], [0, 0]]] * 2)
    w.set_state("enemy_pos", [[100.0, 400.0]] * 2)
    w.set_state("enemy_vel", [[0.0, 0.0]] * 2)
    w.step(None)
    h = w.state()["missile_heading"][:, 0]
    a = 12.0 * math.pi / 180.0
    assert h[0].tolist() == [math.cos(a), math.sin(a)]  # full turn toward +y
    assert h[1].tolist() == [1.0, 0.0]
