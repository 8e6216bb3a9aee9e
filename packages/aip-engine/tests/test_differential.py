"""The compiled engine against the Python reference: same seeds, same actions, same numbers.

Both implement docs/rules.md in the same operation order with float64 state, so
trajectories, events, observations and rewards agree exactly (bit for bit) on one
machine; the comparisons below allow no tolerance. A failure names the first frame,
world and field where the two part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

import aip_engine as ae
from aip_engine import reference

Worlds = pytest.importorskip("aip_engine._worlds").Worlds

TASKS = list(ae.tasks())


def _actions(agents: tuple[str, ...], n: int, rng: np.random.Generator) -> Any:
    if not agents:
        return None
    acts = {}
    for role in agents:
        size = ae.role_layout(role).act_size
        a = rng.uniform(-1.3, 1.3, (n, size)).astype(np.float32)
        # Some exact zeros and exact unit moves, where branches change.
        a[rng.random((n, size)) < 0.05] = 0.0
        if role == "player":
            a[:, 2] = (rng.random(n) < 0.1).astype(np.float32)
        acts[role] = a
    return acts[agents[0]] if len(agents) == 1 else acts


def _first_difference(
    name: str, frame: int, a: np.ndarray, b: np.ndarray, rows: np.ndarray | None = None
) -> str | None:
    a = np.asarray(a)
    b = np.asarray(b)
    if rows is not None:
        a = a[rows]
        b = b[rows]
    if a.shape != b.shape:
        return f"frame {frame}: {name} shapes differ: engine {a.shape}, reference {b.shape}"
    same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
    if same.all():
        return None
    idx = np.argwhere(~same)[0]
    world = (
        int(idx[0]) if rows is None else int(np.flatnonzero(rows)[idx[0]]) if rows.dtype == bool else int(rows[idx[0]])
    )
    return (
        f"frame {frame}: {name}{list(idx[1:]) if len(idx) > 1 else ''} of world {world} differs: "
        f"engine {a[tuple(idx)]!r}, reference {b[tuple(idx)]!r} "
        f"({int((~same).sum())} values differ)"
    )


def compare(eng: Any, ref: Any, frame: int, *, all_roles: bool) -> list[str]:
    """Every output and state field of the two batches; the list of differences."""
    out: list[str | None] = []
    es, rs = eng.state(), ref.state()
    # The keys both show: the public state, the generators, frame counters, stage clocks, returns.
    for key in rs:
        out.append(_first_difference(f"state[{key!r}]", frame, es[key], rs[key]))
    roles = ae.roles() if all_roles else eng.agents
    for role in roles:
        out.append(_first_difference(f"observations({role!r})", frame, eng.observations(role), ref.observations(role)))
    out.append(_first_difference("frame", frame, eng.frame, ref.frame))
    return [d for d in out if d is not None]


def compare_outputs(eng: Any, ref: Any, frame: int) -> list[str]:
    """Every step output of every world, finished or not (also right after a reset)."""
    out: list[str | None] = []
    out.append(_first_difference("events", frame, eng.events, ref.events))
    out.append(_first_difference("terminated", frame, eng.terminated, ref.terminated))
    out.append(_first_difference("truncated", frame, eng.truncated, ref.truncated))
    out.append(_first_difference("success", frame, eng.success, ref.success))
    out.append(_first_difference("episode_frames", frame, eng.episode_frames, ref.episode_frames))
    out.append(_first_difference("frame", frame, eng.frame, ref.frame))
    for role in ae.roles():
        out.append(_first_difference(f"rewards({role!r})", frame, eng.rewards(role), ref.rewards(role)))
        out.append(_first_difference(f"success_of({role!r})", frame, eng.success_of(role), ref.success_of(role)))
        out.append(
            _first_difference(f"episode_return({role!r})", frame, eng.episode_return(role), ref.episode_return(role))
        )
    for role in eng.agents:
        out.append(
            _first_difference(
                f"final_observations({role!r})", frame, eng.final_observations(role), ref.final_observations(role)
            )
        )
    return [d for d in out if d is not None]


def compare_step(eng: Any, ref: Any, frame: int, er: Any, rr: Any) -> list[str]:
    """The outputs of one step: the returned tuple and every output of every world."""
    out: list[str | None] = []
    out.append(_first_difference("step().events", frame, er.events, rr.events))
    out.append(_first_difference("step().terminated", frame, er.terminated, rr.terminated))
    out.append(_first_difference("step().truncated", frame, er.truncated, rr.truncated))
    if isinstance(er.reward, dict):
        for role in eng.agents:
            out.append(_first_difference(f"step().reward[{role!r}]", frame, er.reward[role], rr.reward[role]))
    else:
        out.append(_first_difference("step().reward", frame, er.reward, rr.reward))
    return [d for d in out if d is not None] + compare_outputs(eng, ref, frame)


def run_pair(
    task: str,
    num_worlds: int,
    frames: int,
    *,
    seed: int = 0,
    config: Mapping[str, Any] | None = None,
    controllers: Mapping[str, str] | None = None,
    params: Mapping[str, np.ndarray] | None = None,
    all_roles_every: int = 25,
    threads: int = 2,
) -> dict[str, Any]:
    """Step both implementations side by side; fail at the first difference."""
    kwargs: dict[str, Any] = {"seed": seed}
    if config is not None:
        kwargs["config"] = config
    if controllers is not None:
        kwargs["controllers"] = controllers
    eng = Worlds(task, num_worlds, threads=threads, **kwargs)
    ref = reference.Worlds(task, num_worlds, **kwargs)
    if params is not None:
        for key, value in params.items():
            eng.params[key][:] = value
            ref.params[key][:] = value
        eng.reset(seed=seed)
        ref.reset(seed=seed)
    diffs = compare(eng, ref, 0, all_roles=True) + compare_outputs(eng, ref, 0)
    assert not diffs, "\n".join(diffs)
    rng = np.random.default_rng(seed + 1000)
    totals = np.zeros(len(ae.EVENTS), np.int64)
    episodes = 0
    for frame in range(1, frames + 1):
        acts = _actions(ref.agents, num_worlds, rng)
        copy = (
            None
            if acts is None
            else (acts.copy() if isinstance(acts, np.ndarray) else {k: v.copy() for k, v in acts.items()})
        )
        er = eng.step(acts)
        rr = ref.step(copy)
        diffs = compare_step(eng, ref, frame, er, rr)
        diffs += compare(eng, ref, frame, all_roles=frame % all_roles_every == 0)
        assert not diffs, f"{task}: engine and reference part:\n" + "\n".join(diffs)
        totals += rr.events.sum(axis=0, dtype=np.int64)
        episodes += int((rr.terminated | rr.truncated).sum())
    return {"events": dict(zip(ae.EVENTS, totals.tolist(), strict=False)), "episodes": episodes}


@pytest.mark.parametrize("task", TASKS)
def test_tasks_agree_exactly(task: str) -> None:
    stats = run_pair(task, 16, 400, seed=11)
    assert stats["episodes"] >= 0


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS)
def test_tasks_agree_exactly_over_thousands_of_frames(task: str) -> None:
    stats = run_pair(task, 32, 3000, seed=5)
    # The run must have exercised the task's episode ends.
    assert stats["episodes"] > 0 or task == "play-v1"


@pytest.mark.parametrize(
    ("task", "controllers"),
    [
        ("chase-v1", {"enemy": "chase"}),
        ("chase-v1", {"enemy": "intercept"}),
        ("chase-flee-v1", {"enemy": "staged"}),
        ("dodge-v1", {"enemy": "dodge"}),
        ("intercept-v1", {"missile": "homing"}),
        ("intercept-v1", {"missile": "straight"}),
        ("duel-v1", {"player": "kite", "enemy": "staged"}),
        ("duel-v1", {"player": "wander", "enemy": "intercept"}),
        ("play-v1", {"player": "flee"}),
    ],
)
def test_bots_in_every_slot_agree(task: str, controllers: dict[str, str]) -> None:
    run_pair(task, 16, 1500, seed=3, controllers=controllers)


def test_staged_reaches_its_last_stage_identically() -> None:
    # 2400 frames without a catch take the staged bot through all four stages.
    run_pair("play-v1", 8, 2500, seed=9, controllers={"player": "flee", "enemy": "staged"}, config={"player_speed": 8})


@pytest.mark.parametrize("boundary", ["clamp", "wrap"])
def test_boundaries_agree(boundary: str) -> None:
    for task in ("dodge-v1", "intercept-v1", "duel-v1"):
        run_pair(task, 12, 600, seed=4, config={"boundary": boundary})


def test_per_world_parameters_agree() -> None:
    n = 24
    rng = np.random.default_rng(0)
    params = {
        "player_speed": rng.uniform(2, 8, n),
        "enemy_speed": rng.uniform(2, 8, n),
        "enemy_speed_scale": rng.uniform(0.5, 1.5, n),
        "missile_speed": rng.uniform(3, 9, n),
        "arena_width": rng.choice([640.0, 1280.0, 1000.5], n),
        "arena_height": rng.choice([480.0, 720.0, 333.25], n),
        "fire_probability": rng.uniform(0, 0.3, n),
        "max_missiles": rng.integers(0, 4, n).astype(np.int32),
        "player_bot": rng.integers(0, len(ae.bots("player")), n).astype(np.int32),
        "enemy_bot": rng.integers(0, len(ae.bots("enemy")), n).astype(np.int32),
        "guidance": rng.integers(0, 2, n).astype(np.int32),
    }
    run_pair("play-v1", n, 1500, seed=2, controllers={"player": "kite"}, params=params)
    intercept = {
        "enemy_bot": rng.integers(-1, len(ae.bots("enemy")), n).astype(np.int32),
        "enemy_speed": params["enemy_speed"],
    }
    run_pair("intercept-v1", n, 1500, seed=2, params=intercept)


def test_thread_count_does_not_change_the_numbers() -> None:
    a = Worlds("dodge-v1", 33, seed=1, threads=1)
    b = Worlds("dodge-v1", 33, seed=1, threads=2)
    rng = np.random.default_rng(0)
    for _ in range(300):
        act = rng.uniform(-1, 1, (33, 2)).astype(np.float32)
        a.step(act)
        b.step(act.copy())
    for key, value in a.state().items():
        np.testing.assert_array_equal(value, b.state()[key], err_msg=key)


@pytest.mark.parametrize(
    "config",
    [
        {"catch_invulnerability": 120, "fire_cooldown": 0, "missile_life_min": 30, "missile_life_max": 40},
        {"respawn_tries": 1, "respawn_min_distance": 5000.0, "aim_error": 0.0, "missile_max_turn_deg": 0.0},
        {"boundary": "clamp", "arena_width": 500.0, "arena_height": 300.0, "respawn_margin": 25.0, "time_limit": 250},
        {"shaping_scale": 0.25, "reward_success": 3.5, "reward_failure": -1.25, "wander_min": 1, "wander_max": 2},
        {"missile_life_min": 100, "missile_life_max": 150, "enemy_speed": 4.0, "missile_speed": 6.5},
    ],
)
def test_rule_numbers_agree(config: dict[str, Any]) -> None:
    run_pair("play-v1", 12, 800, seed=6, config=config, controllers={"player": "kite", "enemy": "staged"})
    run_pair("duel-v1", 12, 800, seed=6, config=config)
    run_pair("intercept-v1", 12, 800, seed=6, config=config)


def test_masked_reseeding_and_manual_resets_agree() -> None:
    for auto_reset in (True, False):
        eng = Worlds("dodge-v1", 10, seed=2**63 + 5, threads=2, auto_reset=auto_reset)
        ref = reference.Worlds("dodge-v1", 10, seed=2**63 + 5, auto_reset=auto_reset)
        rng = np.random.default_rng(1)
        for frame in range(1, 400):
            act = rng.uniform(-1, 1, (10, 2)).astype(np.float32)
            er, rr = eng.step(act), ref.step(act.copy())
            diffs = compare_step(eng, ref, frame, er, rr) + compare(eng, ref, frame, all_roles=True)
            assert not diffs, "\n".join(diffs)
            done = np.asarray(rr.terminated | rr.truncated)
            if not auto_reset and done.any():
                eng.reset(mask=done.copy())
                ref.reset(mask=done.copy())
            if frame % 97 == 0:
                mask = rng.random(10) < 0.5
                eng.reset(seed=frame, mask=mask.copy())
                ref.reset(seed=frame, mask=mask.copy())
            if frame % 151 == 0:
                eng.reset(seed=None if frame % 2 else frame)
                ref.reset(seed=None if frame % 2 else frame)
            # Right after a reset the reset worlds' outputs are cleared, the others' kept.
            diffs = compare(eng, ref, frame, all_roles=True) + compare_outputs(eng, ref, frame)
            assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize(
    ("task", "controllers"),
    [
        ("play-v1", {"enemy": "agent"}),
        ("chase-v1", {"player": "agent"}),
        ("intercept-v1", {"enemy": "agent", "missile": "agent"}),
        ("dodge-v1", {"enemy": "chase", "missile": "straight", "player": "flee"}),
    ],
)
def test_overridden_agents_agree(task: str, controllers: dict[str, str]) -> None:
    eng = Worlds(task, 4, controllers=controllers)
    ref = reference.Worlds(task, 4, controllers=controllers)
    assert eng.agents == ref.agents
    for key, value in eng.params.items():
        np.testing.assert_array_equal(value, ref.params[key], err_msg=key)
    run_pair(task, 12, 700, seed=8, controllers=controllers)


def _random_scenario(rng: np.random.Generator) -> dict[str, Any]:
    task = str(rng.choice(TASKS))
    spec = ae.task_spec(task)
    controllers: dict[str, str] = {}
    for role in ae.roles():
        if rng.random() < 0.4:
            choices = ["agent", *ae.bots(role)]
            controllers[role] = str(rng.choice(choices))
    if spec.name == "intercept-v1" and rng.random() < 0.5:
        controllers["enemy"] = "random"
    life_min = int(rng.integers(20, 200))
    config: dict[str, Any] = {
        "boundary": str(rng.choice(["wrap", "clamp"])),
        "player_speed": float(rng.uniform(1, 9)),
        "enemy_speed": float(rng.uniform(1, 9)),
        "missile_speed": float(rng.uniform(1, 12)),
        "max_missiles": int(rng.integers(0, 4)),
        "fire_cooldown": int(rng.integers(0, 40)),
        "fire_probability": float(rng.uniform(0, 0.5)),
        "aim_error": float(rng.uniform(0, 0.5)),
        "missile_life_min": life_min,
        "missile_life_max": life_min + int(rng.integers(0, 200)),
        "missile_max_turn_deg": float(rng.uniform(0, 30)),
        "respawn_delay": int(rng.integers(1, 90)),
        "respawn_tries": int(rng.integers(1, 20)),
        "catch_invulnerability": int(rng.integers(0, 150)),
        "time_limit": int(rng.integers(0, 700)),
    }
    return {"task": task, "controllers": controllers, "config": config}


@pytest.mark.slow
@pytest.mark.parametrize("scenario_seed", range(40))
def test_random_scenarios_agree(scenario_seed: int) -> None:
    scenario = _random_scenario(np.random.default_rng(scenario_seed))
    run_pair(
        scenario["task"],
        8,
        500,
        seed=scenario_seed,
        config=scenario["config"],
        controllers=scenario["controllers"],
        all_roles_every=5,
    )


# --- outputs after a reset, the frame counter's limit ---------------------------------------------


@pytest.mark.parametrize("task", TASKS)
def test_outputs_right_after_a_reset_agree(task: str) -> None:
    eng = Worlds(task, 6, seed=3, threads=2, auto_reset=False)
    ref = reference.Worlds(task, 6, seed=3, auto_reset=False)
    rng = np.random.default_rng(4)
    for frame in range(1, 41):
        acts = _actions(ref.agents, 6, rng)
        copy = None if acts is None else (acts.copy() if isinstance(acts, np.ndarray) else dict(acts))
        diffs = compare_step(eng, ref, frame, eng.step(acts), ref.step(copy))
        assert not diffs, "\n".join(diffs)
    # Mid-episode rewards and returns are not zero; a reset clears them (in the reset worlds only).
    assert any(np.abs(ref.episode_return(r)).sum() > 0 for r in ref.spec.agents) or task == "play-v1"
    mask = np.array([True, False, True, False, False, True])
    eng_obs, ref_obs = eng.reset(mask=mask.copy()), ref.reset(mask=mask.copy())
    diffs = compare(eng, ref, 41, all_roles=True) + compare_outputs(eng, ref, 41)
    assert not diffs, "\n".join(diffs)
    eng_obs, ref_obs = eng.reset(seed=9), ref.reset(seed=9)
    diffs = compare(eng, ref, 42, all_roles=True) + compare_outputs(eng, ref, 42)
    assert not diffs, "\n".join(diffs)
    for role in ref.agents:
        np.testing.assert_array_equal(ref.final_observations(role), ref.observations(role))
        assert not ref.rewards(role).any()
    if isinstance(eng_obs, dict):
        for role in eng_obs:
            np.testing.assert_array_equal(eng_obs[role], ref_obs[role])
    else:
        np.testing.assert_array_equal(eng_obs, ref_obs)


def test_frame_counter_saturates_identically() -> None:
    top = 2**31 - 1
    bots = {"player": "kite"}
    eng = Worlds("play-v1", 3, seed=1, threads=2, controllers=bots)
    ref = reference.Worlds("play-v1", 3, seed=1, controllers=bots)
    eng.set_state("frame", top - 2)
    for world in ref._worlds:  # the reference has no set_state; its worlds' state is plain Python
        world.state.frame = top - 2
    for frame in range(1, 5):
        diffs = compare_step(eng, ref, frame, eng.step(), ref.step())
        assert not diffs, "\n".join(diffs)
    assert (ref.frame == top).all() and (ref.episode_frames == top).all()


# --- the same errors for the same mistakes -----------------------------------------------------


def _raised(make: Any) -> tuple[type[BaseException], str] | None:
    try:
        make()
    except Exception as exc:  # any error is compared
        return type(exc), str(exc)
    return None


def _assert_same_error(make_engine: Any, make_reference: Any) -> None:
    eng, ref = _raised(make_engine), _raised(make_reference)
    assert eng is not None, "the engine accepted it"
    assert ref == eng, f"engine raised {eng}, reference {ref}"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"task": "chase-v9"},
        {"num_worlds": 0},
        {"num_worlds": 2.0},
        {"num_worlds": True},
        {"threads": -1},
        {"threads": 1.5},
        {"backend": "gpu"},
        {"backend": "tpu"},
        {"seed": 1.5},
        {"seed": "7"},
        {"config": 5},
        {"config": [("arena_width", 300.0)]},
        {"config": {"arena_widht": 300.0}},
        {"config": {"arena_width": 99.0}},
        {"config": {"respawn_margin": 400.0}},
        {"config": {"missile_life_min": 10, "missile_life_max": 5}},
        {"config": {"boundary": "bounce"}},
        {"config": {"max_missiles": 1.5}},
        {"controllers": {"pilot": "agent"}},
        {"controllers": {"enemy": "kite"}},
        {"controllers": {"player": "random"}},
    ],
)
def test_bad_construction_raises_the_same_error(kwargs: dict[str, Any]) -> None:
    args = {"task": "dodge-v1", "num_worlds": 2, **kwargs}
    task, n = args.pop("task"), args.pop("num_worlds")
    _assert_same_error(lambda: Worlds(task, n, **args), lambda: reference.Worlds(task, n, **args))


def _bad_params(key: str, values: list[Any]) -> tuple[Any, Any]:
    cfg = {"respawn_margin": 80.0}
    eng = Worlds("play-v1", 3, threads=2, config=cfg)
    ref = reference.Worlds("play-v1", 3, config=cfg)
    for w in (eng, ref):
        w.params[key][:] = values
    return eng, ref


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("player_speed", [5.0, -1.0, 5.0]),
        ("enemy_speed", [5.0, 5.0, np.nan]),
        ("enemy_speed_scale", [1000.5, 1.0, 1.0]),
        ("missile_speed", [5.0, np.inf, 5.0]),
        ("arena_width", [1280.0, 99.5, 1280.0]),
        ("arena_height", [720.0, 720.0, 2e6]),
        # Inside [100, 1e6] but narrower than 2 * respawn_margin (160).
        ("arena_width", [1280.0, 150.0, 1280.0]),
        ("arena_height", [120.0, 720.0, 720.0]),
        ("fire_probability", [0.1, 1.5, 0.1]),
        ("max_missiles", [3, 4, 3]),
        ("player_bot", [0, -1, 0]),
        ("enemy_bot", [0, 0, -2]),
        ("guidance", [2, 0, 0]),
    ],
)
def test_bad_parameters_raise_the_same_error_at_reset_and_step(key: str, values: list[Any]) -> None:
    eng, ref = _bad_params(key, values)
    _assert_same_error(eng.reset, ref.reset)
    _assert_same_error(eng.step, ref.step)
    _assert_same_error(
        lambda: eng.reset(mask=np.array([True, False, False])), lambda: ref.reset(mask=np.array([True, False, False]))
    )


def test_the_first_bad_world_and_field_are_named_alike() -> None:
    eng, ref = _bad_params("fire_probability", [0.1, 0.1, 2.0])
    for w in (eng, ref):
        w.params["guidance"][1] = 5
        w.params["arena_width"][2] = 50.0
    _assert_same_error(eng.step, ref.step)


@pytest.mark.parametrize(
    "mask",
    [
        [True, False, True],
        np.array([1, 0, 1]),
        np.array([True, False]),
        np.array([[True, False, True]]),
        np.array([True, False, True, False, True, False])[::2],
    ],
)
def test_bad_masks_raise_the_same_error(mask: Any) -> None:
    eng = Worlds("dodge-v1", 3, threads=2)
    ref = reference.Worlds("dodge-v1", 3)
    _assert_same_error(lambda: eng.reset(mask=mask), lambda: ref.reset(mask=mask))


@pytest.mark.parametrize(
    ("task", "controllers", "make_actions"),
    [
        ("dodge-v1", None, lambda n: None),
        ("dodge-v1", None, lambda n: [[0.0, 0.0]] * n),
        ("dodge-v1", None, lambda n: np.zeros((n, 2))),
        ("dodge-v1", None, lambda n: np.zeros((n, 3), np.float32)),
        ("dodge-v1", None, lambda n: np.zeros((n, 4), np.float32)[:, ::2]),
        ("dodge-v1", None, lambda n: np.full((n, 2), np.nan, np.float32)),
        ("dodge-v1", None, lambda n: {"missile": np.zeros((n, 1), np.float32)}),
        ("dodge-v1", None, lambda n: {}),
        ("play-v1", None, lambda n: np.zeros((n, 2), np.float32)),
        ("play-v1", None, lambda n: {"enemy": np.zeros((n, 2), np.float32)}),
        (
            "intercept-v1",
            {"enemy": "agent", "missile": "agent"},
            lambda n: {"enemy": np.zeros((n, 2), np.float32)},
        ),
        (
            "intercept-v1",
            {"enemy": "agent", "missile": "agent"},
            lambda n: np.zeros((n, 2), np.float32),
        ),
        (
            # The shapes are checked for every role before any value: the missile's shape wins.
            "intercept-v1",
            {"enemy": "agent", "missile": "agent"},
            lambda n: {"enemy": np.full((n, 2), np.inf, np.float32), "missile": np.zeros((n, 2), np.float32)},
        ),
        (
            "intercept-v1",
            {"enemy": "agent", "missile": "agent"},
            lambda n: {"enemy": np.zeros((n, 2), np.float32), "missile": np.array([0.0, -np.inf], np.float32)},
        ),
    ],
)
def test_bad_actions_raise_the_same_error(task: str, controllers: dict[str, str] | None, make_actions: Any) -> None:
    eng = Worlds(task, 2, threads=2, controllers=controllers)
    ref = reference.Worlds(task, 2, controllers=controllers)
    _assert_same_error(lambda: eng.step(make_actions(2)), lambda: ref.step(make_actions(2)))


def test_a_missile_agent_may_pass_a_flat_array() -> None:
    eng = Worlds("intercept-v1", 4, seed=2, threads=2)
    ref = reference.Worlds("intercept-v1", 4, seed=2)
    turn = np.linspace(-1, 1, 4).astype(np.float32)
    diffs = compare_step(eng, ref, 1, eng.step(turn), ref.step(turn.copy()))
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("role", ["player", "missile", "pilot"])
def test_role_queries_reject_the_same_roles(role: str) -> None:
    eng = Worlds("chase-v1", 2, threads=2)
    ref = reference.Worlds("chase-v1", 2)
    _assert_same_error(lambda: eng.final_observations(role), lambda: ref.final_observations(role))
    if role == "pilot":
        for query in ("observations", "rewards", "success_of", "episode_return"):
            _assert_same_error(lambda q=query: getattr(eng, q)(role), lambda q=query: getattr(ref, q)(role))
