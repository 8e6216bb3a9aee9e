"""Movement, boundaries, clipping and relative geometry (docs/rules.md, "Geometry and boundaries")."""

from __future__ import annotations

import math

import numpy as np
import pytest

import aip_engine as ae


def _play(n: int = 1, **config: object) -> ae.Worlds:
    # play-v1: the player is the agent, the enemy chases; we park the enemy far away (inactive) when
    # it should not interfere.
    return ae.Worlds("play-v1", n, seed=3, threads=1, config=config or None)


def _park_enemy(w: ae.Worlds) -> None:
    w.set_state("enemy_active", False)
    w.set_state("enemy_respawn_timer", 1000)


def _act(w: ae.Worlds, x: float, y: float, fire: float = 0.0) -> np.ndarray:
    a = np.zeros((w.num_worlds, 3), np.float32)
    a[:] = (x, y, fire)
    return a


def test_player_moves_by_speed_and_velocity_is_the_displacement() -> None:
    w = _play()
    _park_enemy(w)
    w.set_state("player_pos", [[600.0, 300.0]])
    w.step(_act(w, 1, 0))
    s = w.state()
    assert s["player_pos"][0].tolist() == [605.0, 300.0]
    assert s["player_vel"][0].tolist() == [5.0, 0.0]


@pytest.mark.parametrize(
    ("start", "move", "end"),
    [
        ((1278.0, 300.0), (1, 0), (3.0, 300.0)),
        ((2.0, 300.0), (-1, 0), (1277.0, 300.0)),
        ((600.0, 718.0), (0, 1), (600.0, 3.0)),
        ((600.0, 1.0), (0, -1), (600.0, 716.0)),
    ],
)
def test_wrap_reenters_at_the_opposite_edge(
    start: tuple[float, float], move: tuple[int, int], end: tuple[float, float]
) -> None:
    w = _play()
    _park_enemy(w)
    w.set_state("player_pos", [start])
    w.step(_act(w, *move))
    assert w.state()["player_pos"][0].tolist() == list(end)


def test_clamp_keeps_the_player_inside_by_its_radius() -> None:
    w = _play(boundary="clamp")
    _park_enemy(w)
    w.set_state("player_pos", [[1253.0, 27.0]])
    w.step(_act(w, 1, -1))
    x, y = w.state()["player_pos"][0]
    assert x == 1255.0 and y == 25.0
    # Velocity is the computed displacement, before the boundary rule.
    assert w.state()["player_vel"][0].tolist() == pytest.approx([5 / math.sqrt(2), -5 / math.sqrt(2)], abs=0)


def test_move_is_clipped_to_the_unit_disc_but_not_scaled_up() -> None:
    w = _play(2)
    _park_enemy(w)
    w.set_state("player_pos", [[600.0, 300.0], [600.0, 300.0]])
    a = np.array([[3.0, 4.0, 0.0], [0.3, 0.4, 0.0]], np.float32)
    w.step(a)
    vel = w.state()["player_vel"]
    s = 1 / math.sqrt(25.0)
    assert vel[0].tolist() == [3.0 * s * 5, 4.0 * s * 5]
    assert vel[1].tolist() == [float(np.float32(0.3)) * 5, float(np.float32(0.4)) * 5]


def test_per_world_speed_parameter_is_read_every_frame() -> None:
    w = _play(2)
    _park_enemy(w)
    w.set_state("player_pos", [[600.0, 300.0], [600.0, 300.0]])
    w.params["player_speed"][1] = 2.5
    w.step(_act(w, 1, 0))
    assert w.state()["player_pos"][:, 0].tolist() == [605.0, 602.5]


def test_inactive_enemy_does_not_move_and_has_zero_velocity() -> None:
    w = _play()
    _park_enemy(w)
    w.set_state("enemy_pos", [[100.0, 100.0]])
    w.set_state("enemy_vel", [[3.0, 4.0]])
    w.step(_act(w, 0, 0))
    s = w.state()
    assert s["enemy_pos"][0].tolist() == [100.0, 100.0]
    assert s["enemy_vel"][0].tolist() == [0.0, 0.0]


def test_shortest_displacement_across_the_edge_in_observations() -> None:
    w = ae.Worlds("chase-v1", 1, seed=1, threads=1, controllers={"player": "idle"})
    w.set_state("enemy_pos", [[10.0, 360.0]])
    w.set_state("player_pos", [[1270.0, 360.0]])
    obs = w.observations("enemy")[0]
    lay = ae.role_layout("enemy")
    assert obs[lay.obs_index("player_dx")] == np.float32(-20.0 / 640.0)
    assert obs[lay.obs_index("player_dy")] == 0.0
    half_diag = math.sqrt(640.0 * 640.0 + 360.0 * 360.0)
    assert obs[lay.obs_index("player_dist")] == np.float32(20.0 / half_diag)


def test_clamp_uses_plain_differences_and_full_scales() -> None:
    w = ae.Worlds("chase-v1", 1, seed=1, threads=1, controllers={"player": "idle"}, config={"boundary": "clamp"})
    w.set_state("enemy_pos", [[30.0, 360.0]])
    w.set_state("player_pos", [[1250.0, 360.0]])
    obs = w.observations("enemy")[0]
    lay = ae.role_layout("enemy")
    assert obs[lay.obs_index("player_dx")] == np.float32(1220.0 / 1280.0)
    diag = math.sqrt(1280.0 * 1280.0 + 720.0 * 720.0)
    assert obs[lay.obs_index("player_dist")] == np.float32(1220.0 / diag)


def test_enemy_agent_moves_with_speed_scale() -> None:
    w = ae.Worlds("chase-v1", 1, seed=1, threads=1, controllers={"player": "idle"})
    w.set_state("enemy_pos", [[100.0, 100.0]])
    w.set_state("player_pos", [[900.0, 500.0]])
    w.params["enemy_speed_scale"][:] = 1.5
    w.step(np.array([[0.0, -1.0]], np.float32))
    assert w.state()["enemy_pos"][0].tolist() == [100.0, 100.0 - 7.5]
    assert w.state()["enemy_vel"][0].tolist() == [0.0, -7.5]
    # Observed velocity is divided by the base speed, before the difficulty scale.
    assert w.observations("enemy")[0][3] == np.float32(-1.5)
