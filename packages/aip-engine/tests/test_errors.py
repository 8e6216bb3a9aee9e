"""Every kind of bad input raises the documented error with a useful message and corrupts nothing."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import aip_engine as ae


def test_error_hierarchy() -> None:
    assert issubclass(ae.ConfigError, ae.EngineError) and issubclass(ae.ConfigError, ValueError)
    assert issubclass(ae.UnknownNameError, ae.EngineError) and issubclass(ae.UnknownNameError, KeyError)
    assert issubclass(ae.ShapeError, ae.EngineError) and issubclass(ae.ShapeError, ValueError)
    assert issubclass(ae.ActionError, ae.EngineError) and issubclass(ae.ActionError, ValueError)
    assert issubclass(ae.BackendError, ae.EngineError) and issubclass(ae.BackendError, RuntimeError)


def test_unknown_task_suggests_the_closest_name() -> None:
    with pytest.raises(ae.UnknownNameError) as info:
        ae.Worlds("chase-v2", 4)
    text = str(info.value)
    assert "did you mean 'chase-v1'" in text and "intercept-v1" in text
    assert not text.startswith('"')  # readable, not KeyError's quoted repr


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: ae.role_layout("enemey"), "did you mean 'enemy'"),
        (lambda: ae.layout("enemy-v9"), "enemy-v1"),
        (lambda: ae.bots("missle"), "did you mean 'missile'"),
        (lambda: ae.task_spec("duel"), "duel-v1"),
        (lambda: ae.Config().replace(arena_widht=3), "did you mean 'arena_width'"),
        (lambda: ae.Config.from_mapping({"fire_cooldwn": 3}), "did you mean 'fire_cooldown'"),
        (lambda: ae.Worlds("chase-v1", 2, controllers={"enemy": "chace"}), "did you mean 'chase'"),
        (lambda: ae.Worlds("chase-v1", 2, controllers={"boss": "chase"}), "unknown role 'boss'"),
        (lambda: ae.Worlds("chase-v1", 2, config={"speed": 3}), "unknown config key 'speed'"),
        (lambda: ae.Worlds("chase-v1", 2, backend="tpu"), "cpu"),
        (lambda: ae.Worlds("chase-v1", 2).observations("boss"), "unknown role"),
        (lambda: ae.Worlds("chase-v1", 2).final_observations("player"), "enemy"),
        (lambda: ae.Worlds("chase-v1", 2).set_state("positions", 0), "player_pos"),
    ],
)
def test_unknown_names(call: object, fragment: str) -> None:
    with pytest.raises(ae.UnknownNameError) as info:
        call()  # type: ignore[operator]
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"max_missiles": 4}, "'max_missiles' is 4; allowed range is [0, 3]"),
        ({"arena_width": 10.0}, "'arena_width' is 10.0; allowed range is [100, 1000000]"),
        ({"fire_probability": 1.5}, "[0, 1]"),
        ({"player_speed": float("nan")}, "finite"),
        ({"fire_cooldown": 2.5}, "integer"),
        ({"boundary": "bounce"}, "'wrap', 'clamp'"),
        ({"missile_life_min": 800}, "missile_life_max"),
        ({"wander_min": 100}, "wander_max"),
        ({"respawn_margin": 400.0}, "half the smaller arena side"),
        ({"shaping_scale": "1"}, "must be a number"),
        ({"respawn_tries": True}, "must be a number"),
        ({"time_limit": -1}, "time_limit"),
    ],
)
def test_config_values_out_of_range(changes: dict[str, object], fragment: str) -> None:
    with pytest.raises(ae.ConfigError) as info:
        ae.Config().replace(**changes)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"num_worlds": 0}, "num_worlds"),
        ({"num_worlds": 2.0}, "num_worlds"),
        ({"threads": -1}, "threads"),
        ({"config": [1, 2]}, "config must be"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_worlds_arguments(kwargs: dict[str, object], fragment: str) -> None:
    args = {"num_worlds": 2, **kwargs}
    n = args.pop("num_worlds")
    with pytest.raises(ae.ConfigError) as info:
        ae.Worlds("chase-v1", n, **args)  # type: ignore[arg-type]
    assert fragment in str(info.value)


def test_cuda_backend_not_built() -> None:
    with pytest.raises(ae.BackendError) as info:
        ae.Worlds("chase-v1", 2, backend="cuda")
    assert "AIP_ENGINE_CUDA" in str(info.value)


@pytest.fixture
def chase() -> ae.Worlds:
    return ae.Worlds("chase-v1", 4, seed=1, threads=1)


@pytest.mark.parametrize(
    ("actions", "fragment"),
    [
        (np.zeros((4, 2), np.float64), "dtype float32, got float64"),
        (np.zeros((4, 3), np.float32), "shape (4, 2), got (4, 3)"),
        (np.zeros((3, 2), np.float32), "shape (4, 2), got (3, 2)"),
        (np.zeros(8, np.float32), "got (8,)"),
        (np.zeros((2, 4), np.float32).T, "C-contiguous"),
        ([[0.0, 0.0]] * 4, "numpy array"),
        (None, "missing actions"),
    ],
)
def test_bad_action_arrays(chase: ae.Worlds, actions: object, fragment: str) -> None:
    before = chase.state()["enemy_pos"].copy()
    with pytest.raises(ae.ShapeError) as info:
        chase.step(actions)  # type: ignore[arg-type]
    assert fragment in str(info.value)
    assert np.array_equal(chase.state()["enemy_pos"], before)
    assert (chase.frame == 0).all()


def test_actions_for_a_role_that_is_not_an_agent(chase: ae.Worlds) -> None:
    with pytest.raises(ae.UnknownNameError):
        chase.step({"enemy": np.zeros((4, 2), np.float32), "player": np.zeros((4, 3), np.float32)})
    duel = ae.Worlds("duel-v1", 4, threads=1)
    with pytest.raises(ae.ShapeError, match="mapping role"):
        duel.step(np.zeros((4, 2), np.float32))
    with pytest.raises(ae.ShapeError, match="missing actions for the agent role 'player'"):
        duel.step({"enemy": np.zeros((4, 2), np.float32)})


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_actions_name_the_world_and_field(chase: ae.Worlds, bad: float) -> None:
    a = np.zeros((4, 2), np.float32)
    a[2, 1] = bad
    before = chase.state()["enemy_pos"].copy()
    with pytest.raises(ae.ActionError) as info:
        chase.step(a)
    text = str(info.value)
    assert "world 2" in text and "move_y" in text and "'enemy'" in text
    assert np.array_equal(chase.state()["enemy_pos"], before)


def test_non_finite_fire_and_turn() -> None:
    duel = ae.Worlds("duel-v1", 3, threads=1)
    p = np.zeros((3, 3), np.float32)
    p[1, 2] = np.nan
    with pytest.raises(ae.ActionError, match="world 1, field 'fire'"):
        duel.step({"player": p, "enemy": np.zeros((3, 2), np.float32)})
    inter = ae.Worlds("intercept-v1", 3, threads=1)
    t = np.zeros((3, 1), np.float32)
    t[0, 0] = np.inf
    with pytest.raises(ae.ActionError, match="world 0, field 'turn'"):
        inter.step(t)


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("max_missiles", 7, "params['max_missiles'][1] is 7"),
        ("enemy_speed", -1.0, "params['enemy_speed'][1]"),
        ("enemy_speed_scale", np.nan, "enemy_speed_scale"),
        ("arena_width", 50.0, "arena_width"),
        ("player_bot", 9, "bots('player')"),
        ("enemy_bot", -2, "bots('enemy')"),
        ("guidance", 2, "bots('missile')"),
        ("fire_probability", 2.0, "[0, 1]"),
    ],
)
def test_params_out_of_range_are_rejected_before_a_frame(
    chase: ae.Worlds, name: str, value: float, fragment: str
) -> None:
    chase.params[name][1] = value
    with pytest.raises(ae.ConfigError) as info:
        chase.step(np.zeros((4, 2), np.float32))
    assert fragment in str(info.value)
    assert (chase.frame == 0).all()


def test_bad_reset_mask(chase: ae.Worlds) -> None:
    with pytest.raises(ae.ShapeError, match="bool array of shape"):
        chase.reset(mask=np.ones(4, np.int32))  # type: ignore[arg-type]
    with pytest.raises(ae.ShapeError, match=r"\(4,\)"):
        chase.reset(mask=np.ones(3, bool))


def test_set_state_with_a_wrong_shape(chase: ae.Worlds) -> None:
    with pytest.raises(ae.ShapeError, match=r"\(4, 2\)"):
        chase.set_state("player_pos", np.zeros((3, 2)))


def test_state_views_are_read_only(chase: ae.Worlds) -> None:
    with pytest.raises(ValueError, match="read-only"):
        chase.state()["player_pos"][0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        chase.observations("enemy")[0, 0] = 1.0


def test_concurrent_calls_on_one_batch_are_refused() -> None:
    import threading
    import time

    w = ae.Worlds("chase-v1", 100_000, threads=1)
    a = np.zeros((100_000, 2), np.float32)
    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            with contextlib.suppress(ae.EngineError):  # refused while the main thread holds the batch
                w.step(a)

    t = threading.Thread(target=busy)
    t.start()
    refused = None
    deadline = time.monotonic() + 10.0
    try:
        while refused is None and time.monotonic() < deadline:
            try:
                w.step(a)
            except ae.EngineError as exc:
                refused = exc
    finally:
        stop.set()
        t.join()
    assert refused is not None and "another thread" in str(refused)
    assert type(refused) is ae.EngineError
    w.step(a)  # usable again
