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


def compare_step(eng: Any, ref: Any, frame: int, er: Any, rr: Any) -> list[str]:
    """The outputs of one step."""
    out: list[str | None] = []
    out.append(_first_difference("events", frame, er.events, rr.events))
    out.append(_first_difference("terminated", frame, er.terminated, rr.terminated))
    out.append(_first_difference("truncated", frame, er.truncated, rr.truncated))
    done = np.asarray(rr.terminated | rr.truncated)
    for role in ref.spec.agents:
        out.append(_first_difference(f"rewards({role!r})", frame, eng.rewards(role), ref.rewards(role)))
    if done.any():
        out.append(_first_difference("success", frame, eng.success, ref.success, done))
        out.append(_first_difference("episode_frames", frame, eng.episode_frames, ref.episode_frames, done))
        for role in ref.spec.agents:
            out.append(
                _first_difference(f"success_of({role!r})", frame, eng.success_of(role), ref.success_of(role), done)
            )
            out.append(
                _first_difference(
                    f"episode_return({role!r})", frame, eng.episode_return(role), ref.episode_return(role), done
                )
            )
        for role in eng.agents:
            out.append(
                _first_difference(
                    f"final_observations({role!r})",
                    frame,
                    eng.final_observations(role),
                    ref.final_observations(role),
                    done,
                )
            )
    return [d for d in out if d is not None]


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
    diffs = compare(eng, ref, 0, all_roles=True)
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
            diffs = compare(eng, ref, frame, all_roles=True)
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
