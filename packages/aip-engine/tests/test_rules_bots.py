"""Scripted bots, one by one, through the public API (docs/rules.md, "Bots")."""

from __future__ import annotations

import math

import numpy as np

import aip_engine as ae

ARENA = np.array([1280.0, 720.0])
HALF = ARENA / 2

PLAYER_BOTS = ae.bots("player")
ENEMY_BOTS = ae.bots("enemy")


def _torus(d: np.ndarray) -> np.ndarray:
    return (d + HALF) % ARENA - HALF


def _dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = _torus(b - a)
    return np.hypot(d[..., 0], d[..., 1])


def _bots_only(n: int, player: str, enemy: str, **config: object) -> ae.Worlds:
    # dodge-v1 with every slot given to a bot: no actions, every rule running.
    return ae.Worlds(
        "dodge-v1",
        n,
        seed=21,
        threads=1,
        controllers={"player": player, "enemy": enemy, "missile": "straight"},
        config={"fire_probability": 0.0, "player_speed": 5.0, "missile_speed": 5.0, **config},
    )


def test_idle_player_never_moves() -> None:
    w = _bots_only(8, "idle", "chase")
    w.params["enemy_speed"][:] = 0.0
    start = w.state()["player_pos"].copy()
    for _ in range(100):
        w.step()
    assert (w.state()["player_pos"] == start).all()


def test_wander_moves_at_full_speed_and_turns_every_30_to_90_frames() -> None:
    w = _bots_only(16, "wander", "chase")
    w.params["enemy_speed"][:] = 0.0
    w.set_state("player_invulnerable", 10_000)
    headings = []
    for _ in range(400):
        w.step()
        v = w.state()["player_vel"].copy()
        assert np.allclose(np.hypot(v[:, 0], v[:, 1]), 5.0)
        headings.append(v)
    h = np.stack(headings)  # (T, N, 2)
    changed = (np.abs(h[1:] - h[:-1]).max(axis=2) > 0).T  # (N, T-1)
    for row in changed:
        idx = np.flatnonzero(row)
        gaps = np.diff(idx)
        assert len(idx) >= 3
        assert gaps.min() >= 30 and gaps.max() <= 90


def test_patterns_speed_and_modes() -> None:
    w = _bots_only(64, "patterns", "chase")
    w.params["enemy_speed"][:] = 0.0
    w.set_state("player_invulnerable", 10_000)
    modes = set()
    for _ in range(700):
        w.step()
        s = w.state()
        speed = np.hypot(s["player_vel"][:, 0], s["player_vel"][:, 1])
        assert (speed <= 5.0 + 1e-9).all()
        modes |= set(s["patterns_mode"].tolist())
        assert ((s["patterns_timer"] >= 0) & (s["patterns_timer"] < 300)).all()
    assert modes == {0, 1, 2}


def test_patterns_circle_stays_near_its_circle() -> None:
    w = _bots_only(64, "patterns", "chase")
    w.params["enemy_speed"][:] = 0.0
    w.set_state("player_invulnerable", 10_000)
    for _ in range(200):
        w.step()
        s = w.state()
        circle = (s["patterns_mode"] == 1) & (s["patterns_timer"] < 150)
        if circle.any():
            r = _dist(s["patterns_centre"][circle], s["player_pos"][circle])
            assert (np.abs(r - s["patterns_radius"][circle]) < 10.0).all()


def test_kite_holds_two_hundred_pixels() -> None:
    w = _bots_only(32, "kite", "chase")
    w.params["enemy_speed"][:] = 0.0
    for _ in range(300):
        w.step()
    s = w.state()
    d = _dist(s["player_pos"], s["enemy_pos"])
    assert (np.abs(d - 200.0) <= 20.0).all()


def test_flee_runs_away_within_250_with_bounded_noise() -> None:
    w = _bots_only(64, "flee", "chase")
    w.params["enemy_speed"][:] = 0.0
    s = w.state()
    w.set_state("enemy_pos", (s["player_pos"] + [120.0, 0.0]) % [1280.0, 720.0])
    w.step()
    v = w.state()["player_vel"]
    ang = np.arctan2(v[:, 1], v[:, 0])
    away = np.pi
    err = (ang - away + np.pi) % (2 * np.pi) - np.pi
    assert np.abs(err).max() <= 0.3 + 1e-12
    assert np.allclose(np.hypot(v[:, 0], v[:, 1]), 5.0)


def test_player_bots_fire_only_in_range_with_probability() -> None:
    w = ae.Worlds("dodge-v1", 256, seed=3, threads=1, controllers={"enemy": "chase"}, config={"fire_probability": 1.0})
    w.params["enemy_speed"][:] = 0.0
    w.params["player_bot"][:] = PLAYER_BOTS.index("idle")
    s = w.state()
    near = np.arange(256) % 2 == 0
    offset = np.where(near[:, None], [[300.0, 0.0]], [[500.0, 0.0]])
    w.set_state("enemy_pos", (s["player_pos"] + offset) % [1280.0, 720.0])
    r = w.step()
    assert (r.events[near, 0] == 1).all()
    assert (r.events[~near, 0] == 0).all()


def test_chase_moves_straight_at_the_player() -> None:
    w = _bots_only(1, "idle", "chase")
    w.set_state("enemy_pos", [[100.0, 100.0]])
    w.set_state("player_pos", [[1200.0, 100.0]])  # shorter across the edge: -180
    w.step()
    assert w.state()["enemy_vel"][0].tolist() == [-5.0, 0.0]


def test_intercept_leads_a_moving_player() -> None:
    w = ae.Worlds("duel-v1", 1, seed=1, threads=1, controllers={"enemy": "intercept"})
    w.set_state("enemy_pos", [[300.0, 300.0]])
    w.set_state("player_pos", [[500.0, 300.0]])
    w.set_state("player_vel", [[0.0, 3.0]])
    w.step(np.zeros((1, 3), np.float32))
    d = np.array([200.0, 0.0])
    vp = np.array([0.0, 3.0])
    a = (vp @ vp) - 25.0
    b = 2 * (d @ vp)
    c = d @ d
    disc = b * b - 4 * a * c
    r = sorted([(-b - math.sqrt(disc)) / (2 * a), (-b + math.sqrt(disc)) / (2 * a)])
    tau = min(t for t in r if t > 0)
    p = d + vp * tau
    expected = p / math.hypot(*p) * 5.0
    assert np.allclose(w.state()["enemy_vel"][0], expected, rtol=0, atol=1e-12)
    assert w.state()["enemy_vel"][0, 1] > 0  # leads downward


def test_dodge_is_pushed_away_from_a_close_missile() -> None:
    w = ae.Worlds("dodge-v1", 2, seed=1, threads=1, controllers={"enemy": "dodge", "player": "idle"})
    w.params["fire_probability"][:] = 0.0
    w.set_state("enemy_pos", [[600.0, 300.0]] * 2)
    w.set_state("player_pos", [[900.0, 300.0]] * 2)
    alive = [[True, False, False], [False, False, False]]
    w.set_state("missile_alive", alive)
    w.set_state("missile_pos", [[[600.0, 250.0], [0, 0], [0, 0]]] * 2)
    w.set_state("missile_heading", [[[0.0, 1.0], [0, 0], [0, 0]]] * 2)
    w.set_state("missile_life", [[100, 0, 0]] * 2)
    w.step()
    v = w.state()["enemy_vel"]
    assert v[1].tolist() == [5.0, 0.0]  # no missile: plain chase
    # e = (0, 50), n = 50, weight min(3, 3) = 3: v = (1, 0) + (0, 3), normalised.
    assert np.allclose(v[0], np.array([1.0, 3.0]) / math.sqrt(10.0) * 5.0, atol=1e-12)


def test_staged_speed_rises_with_the_stage_clock_and_restarts_at_a_catch() -> None:
    w = ae.Worlds("chase-v1", 4, seed=1, threads=1, controllers={"enemy": "staged", "player": "idle"})
    w.set_state("stage_clock", [0, 600, 1200, 5000])
    w.set_state("player_invulnerable", 10_000)
    s = w.state()
    w.set_state("enemy_pos", (s["player_pos"] + [300.0, 0.0]) % [1280.0, 720.0])
    w.step()
    v = w.state()["enemy_vel"]
    speed = np.hypot(v[:, 0], v[:, 1])
    assert np.allclose(speed, [2.5, 5.0 * 5 / 6, 5.0 * 7 / 6, 7.5], atol=1e-12)
    assert w.state()["stage"].tolist() == [0, 1, 2, 3]
    w.set_state("player_invulnerable", 0)
    s = w.state()
    w.set_state("enemy_pos", (s["player_pos"] + [10.0, 0.0]) % [1280.0, 720.0])
    w.step()
    assert w.state()["stage_clock"].tolist() == [0, 0, 0, 0]


def test_linear_target_keeps_its_heading() -> None:
    w = ae.Worlds("intercept-v1", 8, seed=2, threads=1, controllers={"enemy": "linear"})
    w.step(np.zeros((8, 1), np.float32))
    v0 = w.state()["enemy_vel"].copy()
    for _ in range(20):
        w.step(np.zeros((8, 1), np.float32))
    active = w.state()["enemy_active"]
    assert np.array_equal(w.state()["enemy_vel"][active], v0[active])
    assert np.allclose(np.hypot(v0[:, 0], v0[:, 1]), 3.5)


def test_circular_target_turns_by_speed_over_radius() -> None:
    w = ae.Worlds("intercept-v1", 8, seed=2, threads=1, controllers={"enemy": "circular"})
    a = np.zeros((8, 1), np.float32)
    w.step(a)
    v0 = w.state()["enemy_vel"].copy()
    w.step(a)
    v1 = w.state()["enemy_vel"]
    turn = np.arctan2(v1[:, 1], v1[:, 0]) - np.arctan2(v0[:, 1], v0[:, 0])
    turn = np.abs((turn + np.pi) % (2 * np.pi) - np.pi)
    # R in [80, 200] at speed 3.5: 0.0175 ... 0.04375 rad per frame.
    assert ((turn >= 3.5 / 200 - 1e-12) & (turn <= 3.5 / 80 + 1e-12)).all()


def test_zigzag_alternates_plus_and_minus_45_degrees() -> None:
    w = ae.Worlds("intercept-v1", 4, seed=2, threads=1, controllers={"enemy": "zigzag"})
    a = np.zeros((4, 1), np.float32)
    angles = []
    for _ in range(200):
        w.step(a)
        v = w.state()["enemy_vel"]
        angles.append(np.arctan2(v[:, 1], v[:, 0]))
    ang = np.array(angles)
    base = w.state()["motion_base"]
    rel = (ang - base + np.pi) % (2 * np.pi) - np.pi
    for k in range(4):
        col = np.round(rel[:, k] / (np.pi / 4)).astype(int)
        values = set(col.tolist()) - {0}
        assert values <= {-1, 1}
        switches = np.flatnonzero(np.diff(col) != 0)
        assert len(switches) >= 3
        assert np.diff(switches).min() >= 20 and np.diff(switches).max() <= 60


def test_evasive_target_moves_perpendicular_to_a_close_missile() -> None:
    w = ae.Worlds("intercept-v1", 1, seed=2, threads=1, controllers={"enemy": "evasive"})
    w.set_state("enemy_pos", [[600.0, 300.0]])
    w.set_state("missile_pos", [[[500.0, 310.0], [0, 0], [0, 0]]])
    w.set_state("missile_heading", [[[1.0, 0.0], [0, 0], [0, 0]]])
    w.step(np.zeros((1, 1), np.float32))
    # n = (-hy, hx) = (0, 1), but the enemy (y 300) is on the -y side of the missile's line (y 310):
    # the sign flips and it moves -y, away from the missile's path.
    assert w.state()["enemy_vel"][0].tolist() == [0.0, -3.5]


def test_random_motion_draws_every_target_motion() -> None:
    w = ae.Worlds("intercept-v1", 400, seed=2, threads=1)
    drawn = set(w.state()["enemy_motion"].tolist())
    assert drawn == {ENEMY_BOTS.index(m) for m in ("linear", "circular", "zigzag", "evasive")}
    w.params["enemy_bot"][:] = ENEMY_BOTS.index("zigzag")
    w.reset()
    assert set(w.state()["enemy_motion"].tolist()) == {ENEMY_BOTS.index("zigzag")}


def test_kite_switched_in_mid_episode_moves_finitely() -> None:
    # A world whose player becomes `kite` after reset never drew its side; at exactly 200 px the move
    # must still be finite (it circles), never NaN.
    import numpy as np

    import aip_engine as ae

    w = ae.Worlds("chase-v1", 1, seed=0, controllers={"enemy": "chase"})
    w.reset()
    w.params["player_bot"][:] = ae.bots("player").index("kite")
    w.set_state("player_pos", np.array([[400.0, 300.0]]))
    w.set_state("enemy_pos", np.array([[600.0, 300.0]]))
    w.step(None)
    assert np.isfinite(w.state()["player_pos"]).all()
