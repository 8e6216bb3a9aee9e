"""Property tests: random programs of Worlds calls give the same results in the engine and the reference.

A program is a task, a world count, config changes, controller overrides and a seed, then a list of
calls: steps with random actions (now and then a NaN), resets with or without a seed and a mask,
writes to the per-world parameters (now and then out of range) between steps, and observations of
every role. After each call both implementations must agree on every output and state field, and
a call that fails must fail in both with the same class and message. Example counts follow the
Hypothesis profile (conftest.py at the repository root): ``ci`` by default, ``release`` for more.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import aip_engine as ae
from aip_engine import reference

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

Worlds = pytest.importorskip("aip_engine._worlds").Worlds

EXAMPLES = settings().max_examples

# Per-world parameters: (low, high) of the allowed range; values are also drawn a little outside.
FLOAT_PARAMS = {
    "player_speed": (0.0, 20.0),
    "enemy_speed": (0.0, 20.0),
    "enemy_speed_scale": (0.0, 3.0),
    "missile_speed": (0.0, 20.0),
    "arena_width": (100.0, 2500.0),
    "arena_height": (100.0, 2500.0),
    "fire_probability": (0.0, 1.0),
}
INT_PARAMS = {"max_missiles": (0, 3), "player_bot": (0, 4), "enemy_bot": (-1, 7), "guidance": (0, 1)}
BOT_ROLE = {"player_bot": "player", "enemy_bot": "enemy", "guidance": "missile"}

# Config fields and ranges worth varying (the Config's own ranges; the arena is kept playable).
CONFIG_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "boundary": st.sampled_from(["wrap", "clamp"]),
    "arena_width": st.floats(100, 3000),
    "arena_height": st.floats(100, 3000),
    "player_radius": st.floats(0.5, 80),
    "enemy_radius": st.floats(0.5, 80),
    "missile_radius": st.floats(0.5, 30),
    "player_speed": st.floats(0, 30),
    "enemy_speed": st.floats(0, 30),
    "missile_speed": st.floats(0, 30),
    "max_missiles": st.integers(0, 3),
    "fire_cooldown": st.integers(0, 60),
    "aim_error": st.floats(0, math.pi),
    "missile_life_min": st.integers(1, 200),
    "missile_life_max": st.integers(1, 400),
    "missile_max_turn_deg": st.floats(0, 180),
    "respawn_delay": st.integers(1, 90),
    "respawn_min_distance": st.floats(0, 600),
    "respawn_margin": st.floats(0, 200),
    "respawn_tries": st.integers(1, 32),
    "catch_invulnerability": st.integers(0, 200),
    "fire_probability": st.floats(0, 1),
    "fire_range": st.floats(0, 1000),
    "wander_min": st.integers(1, 60),
    "wander_max": st.integers(1, 120),
    "reward_success": st.floats(-100, 100),
    "reward_failure": st.floats(-100, 100),
    "shaping_scale": st.floats(0, 10),
    "time_limit": st.integers(0, 300),
}


def _param_value(key: str) -> st.SearchStrategy[Any]:
    if key in INT_PARAMS:
        low, high = INT_PARAMS[key]
        return st.integers(low - 1, high + 1)
    low, high = FLOAT_PARAMS[key]
    return st.one_of(
        st.floats(low, high),
        st.sampled_from([low, high, low - 1.0, high * 1.5, math.nan, math.inf]),
    )


def _op() -> st.SearchStrategy[tuple[Any, ...]]:
    step = st.tuples(st.just("step"), st.integers(1, 40), st.integers(0, 2**32 - 1), st.booleans())
    reset = st.tuples(
        st.just("reset"),
        st.one_of(st.none(), st.integers(0, 2**64 - 1)),
        st.one_of(st.none(), st.lists(st.booleans(), min_size=3, max_size=3)),
    )
    param = st.sampled_from(sorted(FLOAT_PARAMS) + sorted(INT_PARAMS)).flatmap(
        lambda key: st.tuples(st.just("param"), st.just(key), st.integers(0, 2), _param_value(key))
    )
    observe = st.tuples(st.just("observe"), st.sampled_from(ae.roles()))
    return st.one_of(step, step, reset, param, param, observe)


@st.composite
def programs(draw: st.DrawFn) -> dict[str, Any]:
    task = draw(st.sampled_from(ae.tasks()))
    spec = ae.task_spec(task)
    config = draw(st.dictionaries(st.sampled_from(sorted(CONFIG_FIELDS)), st.nothing(), max_size=0))
    for key in draw(st.lists(st.sampled_from(sorted(CONFIG_FIELDS)), max_size=5, unique=True)):
        config[key] = draw(CONFIG_FIELDS[key])
    controllers: dict[str, str] = {}
    for role in ae.roles():
        if spec.controllers[role] != "agent" and draw(st.integers(0, 4)) == 0:
            controllers[role] = draw(st.sampled_from(ae.bots(role)))
    return {
        "task": task,
        "num_worlds": draw(st.integers(1, 3)),
        "seed": draw(st.integers(0, 2**64 - 1)),
        "config": config,
        "controllers": controllers,
        "ops": draw(st.lists(_op(), max_size=25)),
    }


def _outcome(call: Any) -> tuple[Any, BaseException | None]:
    try:
        return call(), None
    except ae.EngineError as exc:
        return None, exc


def _same_error(a: BaseException | None, b: BaseException | None, what: str) -> None:
    if a is None and b is None:
        return
    assert a is not None and b is not None, f"{what}: engine raised {a!r}, reference raised {b!r}"
    assert type(a) is type(b) and str(a) == str(b), f"{what}: engine {a!r}, reference {b!r}"


def _equal(name: str, a: Any, b: Any) -> None:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{name}: shapes {a.shape} and {b.shape}"
    same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
    if not same.all():
        where = tuple(int(k) for k in np.argwhere(~same)[0])
        raise AssertionError(f"{name}{list(where)}: engine {a[where]!r}, reference {b[where]!r}")


def _compare(eng: Any, ref: Any, what: str) -> None:
    es, rs = eng.state(), ref.state()
    for key in rs:
        _equal(f"{what}: state[{key!r}]", es[key], rs[key])
    for role in ae.roles():
        _equal(f"{what}: observations({role!r})", eng.observations(role), ref.observations(role))
        _equal(f"{what}: rewards({role!r})", eng.rewards(role), ref.rewards(role))
        _equal(f"{what}: success_of({role!r})", eng.success_of(role), ref.success_of(role))
        _equal(f"{what}: episode_return({role!r})", eng.episode_return(role), ref.episode_return(role))
    for role in eng.agents:
        _equal(f"{what}: final_observations({role!r})", eng.final_observations(role), ref.final_observations(role))
    for name in ("terminated", "truncated", "events", "success", "episode_frames", "frame"):
        _equal(f"{what}: {name}", getattr(eng, name), getattr(ref, name))


def _actions(agents: tuple[str, ...], n: int, seed: int, nan: bool) -> Any:
    rng = np.random.default_rng(seed)
    acts = {}
    for role in agents:
        a = rng.uniform(-1.5, 1.5, (n, ae.role_layout(role).act_size)).astype(np.float32)
        a[rng.random(a.shape) < 0.1] = 0.0
        a[rng.random(a.shape) < 0.05] = 1.0
        if nan and rng.random() < 0.3:
            a[rng.integers(n), rng.integers(a.shape[1])] = np.nan
        acts[role] = a
    if not agents:
        return None
    return acts[agents[0]] if len(agents) == 1 else acts


@settings(max_examples=EXAMPLES)
@given(programs())
def test_random_programs_agree_with_the_reference(program: dict[str, Any]) -> None:
    kwargs = {"seed": program["seed"], "config": program["config"], "controllers": program["controllers"]}
    task, n = program["task"], program["num_worlds"]
    eng, eng_error = _outcome(lambda: Worlds(task, n, threads=2, **kwargs))
    ref, ref_error = _outcome(lambda: reference.Worlds(task, n, **kwargs))
    _same_error(eng_error, ref_error, "construction")
    if eng is None:
        return
    eng._engine.set_min_chunk(1)  # exercise the split over threads even on tiny batches
    _compare(eng, ref, "after construction")
    for index, op in enumerate(program["ops"]):
        what = f"call {index} {op!r}"
        if op[0] == "step":
            _, frames, seed, nan = op
            for frame in range(frames):
                actions = _actions(eng.agents, n, seed + frame, nan)
                _, e = _outcome(lambda a=actions: eng.step(a))
                _, r = _outcome(lambda a=actions: ref.step(a))
                _same_error(e, r, f"{what} frame {frame}")
                if e is not None:
                    break
        elif op[0] == "reset":
            _, seed, mask = op
            m = None if mask is None else np.array(mask[:n], dtype=bool)
            _, e = _outcome(lambda s=seed, mm=m: eng.reset(s, mm))
            _, r = _outcome(lambda s=seed, mm=m: ref.reset(s, mm))
            _same_error(e, r, what)
        elif op[0] == "param":
            _, key, world, value = op
            if key in BOT_ROLE and BOT_ROLE[key] in eng.agents:
                continue  # an agent's slot holds no bot
            world %= n
            for w in (eng, ref):
                w.params[key][world] = value
        else:
            eng.observations(op[1])
        _compare(eng, ref, what)


@settings(max_examples=max(10, EXAMPLES // 2))
@given(
    st.sampled_from(ae.tasks()),
    st.integers(1, 4),
    st.dictionaries(st.sampled_from(sorted(CONFIG_FIELDS)), st.floats(-1e7, 1e7) | st.integers(-(2**40), 2**40)),
)
def test_any_config_is_accepted_or_refused_alike(task: str, n: int, config: dict[str, Any]) -> None:
    _, e = _outcome(lambda: Worlds(task, n, config=config))
    _, r = _outcome(lambda: reference.Worlds(task, n, config=config))
    _same_error(e, r, "construction")
    if e is not None:
        assert isinstance(e, ae.ConfigError | ae.UnknownNameError)


@settings(max_examples=max(10, EXAMPLES // 2))
@given(
    st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.none(), st.text(max_size=3)),
    st.one_of(st.integers(-(2**70), 2**70), st.floats(), st.booleans(), st.none()),
)
def test_any_world_or_thread_count_is_accepted_or_refused_alike(num_worlds: Any, threads: Any) -> None:
    def count(x: Any, low: int, high: int) -> bool:
        return isinstance(x, int) and not isinstance(x, bool) and low <= x <= high

    if count(num_worlds, 1, 2**30) and count(threads, 0, 1024) and num_worlds > 64:
        num_worlds = 64  # a valid size; the largest ones are tested below without allocating them
    _, e = _outcome(lambda: Worlds("chase-v1", num_worlds, threads=threads))
    _, r = _outcome(lambda: reference.Worlds("chase-v1", num_worlds, threads=threads))
    _same_error(e, r, "construction")
    assert (e is None) == (count(num_worlds, 1, 64) and count(threads, 0, 1024))
    assert e is None or isinstance(e, ae.ConfigError)
