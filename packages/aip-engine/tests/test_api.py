"""The public surface of aip_engine (docs/engine-api.md)."""

from __future__ import annotations

import gc
import importlib.metadata
import weakref

import numpy as np
import pytest

import aip_engine as ae


def test_public_names_and_versions() -> None:
    for name in ae.__all__:
        assert hasattr(ae, name), name
    assert ae.API_VERSION == 1
    assert ae.__version__ == importlib.metadata.version("aip-engine")
    assert ae.EVENTS == ("fire", "hit", "catch", "respawn", "expire")


def test_roles_bots_and_layouts() -> None:
    assert ae.roles() == ("player", "enemy", "missile")
    assert ae.bots("player") == ("idle", "wander", "patterns", "kite", "flee")
    assert ae.bots("enemy") == ("chase", "intercept", "dodge", "staged", "linear", "circular", "zigzag", "evasive")
    assert ae.bots("missile") == ("straight", "homing")
    sizes = {r: (ae.role_layout(r).obs_size, ae.role_layout(r).act_size) for r in ae.roles()}
    assert sizes == {"player": (26, 3), "enemy": (24, 2), "missile": (10, 1)}
    for role in ae.roles():
        lay = ae.role_layout(role)
        assert lay.role == role and lay.version == 1 and lay.name == f"{role}-v1"
        assert ae.layout(lay.name) is lay
        names = [f.name for f in lay.observation + lay.action]
        assert len({f.name for f in lay.observation}) == lay.obs_size
        assert all(f.low < f.high and f.description for f in lay.observation + lay.action), names


def test_layout_field_order_matches_rules() -> None:
    enemy = [f.name for f in ae.role_layout("enemy").observation]
    assert enemy[:9] == [
        "self_x", "self_y", "self_vx", "self_vy", "player_dx", "player_dy", "player_dist", "player_vx", "player_vy",
    ]  # fmt: skip
    assert enemy[9:14] == ["m0_dx", "m0_dy", "m0_vx", "m0_vy", "m0_alive"]
    missile = [f.name for f in ae.role_layout("missile").observation]
    assert missile == [
        "enemy_dx", "enemy_dy", "enemy_dist", "enemy_vx", "enemy_vy",
        "heading_x", "heading_y", "life", "bearing_cos", "bearing_sin",
    ]  # fmt: skip
    player = [f.name for f in ae.role_layout("player").observation]
    assert player[9:11] == ["enemy_active", "cooldown"] and player[11:16] == [
        "m0_dx", "m0_dy", "m0_hx", "m0_hy", "m0_alive",
    ]  # fmt: skip
    assert [f.name for f in ae.role_layout("player").action] == ["move_x", "move_y", "fire"]


def test_task_specs() -> None:
    assert ae.tasks() == (
        "chase-v1", "chase-flee-v1", "dodge-v1", "intercept-v1", "duel-v1", "play-v1", "survive-v1",
    )  # fmt: skip
    agents = {t: ae.task_spec(t).agents for t in ae.tasks()}
    assert agents == {
        "chase-v1": ("enemy",),
        "chase-flee-v1": ("enemy",),
        "dodge-v1": ("enemy",),
        "intercept-v1": ("missile",),
        "duel-v1": ("player", "enemy"),
        "play-v1": ("player",),
        "survive-v1": ("player",),
    }
    spec = ae.task_spec("chase-flee-v1")
    assert spec.config.player_speed == 4.5 and spec.controllers["player"] == "flee"
    assert ae.task_spec("dodge-v1").controllers["missile"] == "homing"
    assert ae.task_spec("intercept-v1").config.enemy_speed == 3.5
    assert ae.task_spec("play-v1").time_limit == 0 and not ae.task_spec("play-v1").benchmark
    survive = ae.task_spec("survive-v1")
    assert survive.controllers["enemy"] == "staged" and survive.time_limit == 1800
    for t in ae.tasks():
        spec = ae.task_spec(t)
        assert spec.autoreset_mode == "same-step" and spec.version == 1
        for role, bots in spec.reference_bots.items():
            assert role in spec.agents and set(bots) <= set(ae.bots(role))


def test_config_round_trip_and_immutability() -> None:
    c = ae.Config()
    assert c.arena_width == 1280.0 and c.time_limit is None
    d = c.to_dict()
    assert ae.Config.from_mapping(d) == c
    c2 = c.replace(max_missiles=1, boundary="clamp")
    assert c2.max_missiles == 1 and c.max_missiles == 3
    assert isinstance(c.replace(arena_width=1000).arena_width, float)
    with pytest.raises(AttributeError):
        c.arena_width = 5.0  # type: ignore[misc]


def test_worlds_attributes_and_single_agent_outputs() -> None:
    w = ae.Worlds("chase-v1", 6, seed=1, threads=2)
    assert w.task == "chase-v1" and w.num_worlds == 6 and w.agents == ("enemy",) and w.threads == 2
    assert w.config == ae.task_spec("chase-v1").config
    obs = w.reset(seed=3)
    assert isinstance(obs, np.ndarray) and obs.shape == (6, 24) and obs.dtype == np.float32
    r = w.step(np.zeros((6, 2), np.float32))
    assert isinstance(r, ae.StepResult)
    assert r.obs is obs  # the same view, overwritten in place
    assert isinstance(r.reward, np.ndarray)
    assert r.reward.shape == (6,) and r.reward.dtype == np.float32
    assert r.terminated.dtype == bool and r.truncated.dtype == bool
    assert r.events.shape == (6, 5) and r.events.dtype == np.uint8
    assert w.success.dtype == bool and w.episode_frames.dtype == np.int32 and w.frame.dtype == np.int32
    assert w.episode_return("enemy").dtype == np.float32
    assert "Worlds(task='chase-v1'" in repr(w)


def test_multi_agent_outputs_are_dicts() -> None:
    w = ae.Worlds("duel-v1", 3, threads=1)
    obs = w.reset(seed=1)
    assert isinstance(obs, dict) and set(obs) == {"player", "enemy"}
    assert obs["player"].shape == (3, 26) and obs["enemy"].shape == (3, 24)
    r = w.step({"player": np.zeros((3, 3), np.float32), "enemy": np.zeros((3, 2), np.float32)})
    assert isinstance(r.reward, dict) and set(r.reward) == {"player", "enemy"}


def test_state_keys_and_shapes() -> None:
    w = ae.Worlds("dodge-v1", 5, threads=1)
    s = w.state()
    shapes = {
        "player_pos": ((5, 2), np.float64),
        "player_vel": ((5, 2), np.float64),
        "enemy_pos": ((5, 2), np.float64),
        "enemy_vel": ((5, 2), np.float64),
        "enemy_active": ((5,), np.bool_),
        "enemy_respawn_timer": ((5,), np.int32),
        "enemy_fade": ((5,), np.int32),
        "missile_pos": ((5, 3, 2), np.float64),
        "missile_heading": ((5, 3, 2), np.float64),
        "missile_alive": ((5, 3), np.bool_),
        "missile_life": ((5, 3), np.int32),
        "player_cooldown": ((5,), np.int32),
        "player_invulnerable": ((5,), np.int32),
        "stage": ((5,), np.int32),
    }
    for key, (shape, dtype) in shapes.items():
        assert s[key].shape == shape and s[key].dtype == dtype, key
    p = w.params
    for key in ("player_speed", "enemy_speed", "enemy_speed_scale", "missile_speed", "arena_width", "arena_height"):
        assert p[key].dtype == np.float64 and p[key].shape == (5,)
    for key in ("max_missiles", "player_bot", "enemy_bot", "guidance"):
        assert p[key].dtype == np.int32
    assert p["player_bot"][0] == ae.bots("player").index("kite")
    assert p["guidance"][0] == ae.bots("missile").index("homing")


def test_views_share_memory_and_keep_the_engine_alive() -> None:
    w = ae.Worlds("chase-v1", 4, threads=1)
    obs = w.observations("enemy")
    pos = w.state()["player_pos"]
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None  # the wrapper is gone; the arrays still hold the C++ buffers
    assert np.isfinite(obs).all() and np.isfinite(pos).all()
    w2 = ae.Worlds("chase-v1", 4, threads=1)
    before = w2.observations("enemy").__array_interface__["data"][0]
    w2.step(np.zeros((4, 2), np.float32))
    assert w2.observations("enemy").__array_interface__["data"][0] == before


def test_observations_of_a_non_agent_role_on_request() -> None:
    w = ae.Worlds("chase-v1", 4, seed=2, threads=1)
    o = w.observations("player")
    assert o.shape == (4, 26)
    lay = ae.role_layout("player")
    s = w.state()
    assert o[0, lay.obs_index("self_x")] == np.float32(2 * s["player_pos"][0, 0] / 1280 - 1)
    assert (o[:, lay.obs_index("enemy_active")] == 1.0).all()


def test_params_are_writable_and_used() -> None:
    w = ae.Worlds("chase-v1", 2, threads=1, controllers={"player": "idle"})
    w.params["arena_width"][:] = 640.0
    w.reset(seed=1)
    assert (w.state()["player_pos"][:, 0] <= 590.0).all()


def test_config_mapping_overrides_the_task_config() -> None:
    w = ae.Worlds("chase-flee-v1", 2, threads=1, config={"max_missiles": 2})
    assert w.config.player_speed == 4.5 and w.config.max_missiles == 2
    w2 = ae.Worlds("chase-v1", 2, threads=1, config=ae.Config(time_limit=9))
    assert w2.time_limit == 9


def test_gil_is_released_during_step() -> None:
    import threading
    import time

    w = ae.Worlds("dodge-v1", 20_000, threads=1)
    a = np.zeros((20_000, 2), np.float32)
    ticks = 0
    stop = False

    def count() -> None:
        nonlocal ticks
        while not stop:
            ticks += 1
            time.sleep(0)

    t = threading.Thread(target=count)
    t.start()
    start = ticks
    for _ in range(20):
        w.step(a)
    stop = True
    t.join()
    assert ticks - start > 20
