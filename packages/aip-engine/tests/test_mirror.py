"""The layouts' mirror factors agree with the engine: mirroring the arena mirrors every observation."""

from __future__ import annotations

import numpy as np
import pytest

import aip_engine
from aip_engine._layouts import LAYOUTS


def _random_state(worlds: aip_engine.Worlds, rng: np.random.Generator) -> None:
    n = worlds.num_worlds
    w, h = float(worlds.params["arena_width"][0]), float(worlds.params["arena_height"][0])
    size = np.array([w, h])
    worlds.set_state("player_pos", rng.uniform(0.1, 0.9, (n, 2)) * size)
    worlds.set_state("enemy_pos", rng.uniform(0.1, 0.9, (n, 2)) * size)
    worlds.set_state("player_vel", rng.uniform(-4, 4, (n, 2)))
    worlds.set_state("enemy_vel", rng.uniform(-5, 5, (n, 2)))
    worlds.set_state("missile_pos", rng.uniform(0.1, 0.9, (n, 3, 2)) * size)
    angle = rng.uniform(0, 2 * np.pi, (n, 3))
    worlds.set_state("missile_heading", np.stack([np.cos(angle), np.sin(angle)], axis=-1))
    worlds.set_state("missile_alive", rng.random((n, 3)) < 0.7)
    worlds.set_state("missile_life", rng.integers(30, 300, (n, 3)))


def _mirror_state(worlds: aip_engine.Worlds, axis: int) -> None:
    size = float(worlds.params["arena_width" if axis == 0 else "arena_height"][0])
    state = {k: np.array(v) for k, v in worlds.state().items()}
    for name in ("player_pos", "enemy_pos", "missile_pos"):
        mirrored = state[name].copy()
        mirrored[..., axis] = size - mirrored[..., axis]
        worlds.set_state(name, mirrored)
    for name in ("player_vel", "enemy_vel", "missile_heading"):
        mirrored = state[name].copy()
        mirrored[..., axis] = -mirrored[..., axis]
        worlds.set_state(name, mirrored)


@pytest.mark.parametrize(("task", "role"), [("play-v1", "player"), ("dodge-v1", "enemy"), ("intercept-v1", "missile")])
@pytest.mark.parametrize("axis", ["x", "y"])
def test_mirrored_arena_gives_mirrored_observations(task: str, role: str, axis: str) -> None:
    worlds = aip_engine.Worlds(task, 64, seed=5)
    _random_state(worlds, np.random.default_rng(11))
    before = np.array(worlds.observations(role))
    _mirror_state(worlds, "xy".index(axis))
    after = np.array(worlds.observations(role))
    signs, _ = aip_engine.role_layout(role).mirror_signs(axis)
    np.testing.assert_allclose(after, before * np.array(signs, np.float32), atol=1e-5)


@pytest.mark.parametrize("axis", ["x", "y"])
def test_mirrored_moves_keep_the_game_mirrored(axis: str) -> None:
    # play-v1: the player is the agent, the chase bot and straight missiles have no randomness (firing
    # does: its aim error is drawn, so the player does not fire here).
    layout = aip_engine.role_layout("player")
    obs_signs, act_signs = (np.array(s, np.float32) for s in layout.mirror_signs(axis))
    rng = np.random.default_rng(3)
    plain, mirrored = aip_engine.Worlds("play-v1", 16, seed=5), aip_engine.Worlds("play-v1", 16, seed=5)
    for worlds in (plain, mirrored):
        _random_state(worlds, np.random.default_rng(11))
    _mirror_state(mirrored, "xy".index(axis))
    for _ in range(40):
        action = rng.uniform(-1, 1, (16, layout.act_size)).astype(np.float32)
        action[:, [f.name for f in layout.action].index("fire")] = 0.0
        plain.step({"player": action})
        mirrored.step({"player": action * act_signs})
        np.testing.assert_allclose(
            np.array(mirrored.observations("player")), np.array(plain.observations("player")) * obs_signs, atol=1e-4
        )
        np.testing.assert_allclose(np.array(mirrored.rewards("player")), np.array(plain.rewards("player")), atol=1e-5)


def test_mirror_axis_is_checked() -> None:
    with pytest.raises(ValueError, match="'x' or 'y'"):
        aip_engine.role_layout("enemy").mirror_signs("z")


def test_every_coordinate_field_declares_its_mirror() -> None:
    for layout in LAYOUTS.values():
        for field in (*layout.observation, *layout.action):
            if field.name.endswith(("_x", "_dx", "_vx", "_hx")):
                assert field.mirror == "x", field.name
            elif field.name.endswith(("_y", "_dy", "_vy", "_hy")):
                assert field.mirror == "y", field.name
            else:
                assert field.mirror in ("", "turn"), field.name
