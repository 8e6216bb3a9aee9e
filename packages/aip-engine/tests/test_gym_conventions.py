"""Gymnasium's conventions on the adapters: autoreset modes, wrappers, seeds, rendering, copies, close, AEC."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

import gymnasium.wrappers.vector as vw  # noqa: E402
from gymnasium.vector import AutoresetMode, SyncVectorEnv  # noqa: E402

import aip_engine as ae  # noqa: E402
import aip_engine.gym as ag  # noqa: E402

MODES = [AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP, AutoresetMode.DISABLED]
_SHORT = {"time_limit": 20}
_GYMNASIUM = tuple(int(part) for part in gymnasium.__version__.split(".")[:2])  # many episodes end within a short test


def _step_both(a: Any, b: Any, act: np.ndarray, mode: AutoresetMode, where: str) -> np.ndarray:
    ra, rb = a.step(act), b.step(act)
    for x, y, name in zip(ra[:4], rb[:4], ("obs", "reward", "terminated", "truncated"), strict=True):
        np.testing.assert_array_equal(x, y, err_msg=f"{name} {where}")
    done = np.asarray(ra[2] | ra[3])
    if mode == AutoresetMode.SAME_STEP and done.any():
        for i in np.flatnonzero(done):
            np.testing.assert_array_equal(ra[4]["final_obs"][i], rb[4]["final_obs"][i], err_msg=f"final_obs {where}")
    return done


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_native_vector_env_steps_as_gymnasiums_sync_vector_env_in_every_mode(mode: AutoresetMode) -> None:
    n = 4
    seeds = [3, 14, 15, 92]
    native = ag.AipVectorEnv("chase-v1", n, config=_SHORT, autoreset_mode=mode)
    sync = SyncVectorEnv([lambda: ag.AipEnv("chase-v1", config=_SHORT) for _ in range(n)], autoreset_mode=mode)
    assert native.metadata["autoreset_mode"] == mode
    oa, _ = native.reset(seed=seeds)
    ob, _ = sync.reset(seed=seeds)
    np.testing.assert_array_equal(oa, ob)
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(60):
        act = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        done = _step_both(native, sync, act, mode, f"at step {t} ({mode.value})")
        ended += int(done.sum())
        if mode == AutoresetMode.DISABLED and done.any():
            oa, _ = native.reset(options={"reset_mask": done})
            ob, _ = sync.reset(options={"reset_mask": done})
            np.testing.assert_array_equal(oa, ob)
    assert ended >= n


def _wrappers() -> dict[str, Callable[[Any], Any]]:
    return {
        "RecordEpisodeStatistics": vw.RecordEpisodeStatistics,
        "DictInfoToList": vw.DictInfoToList,
        "NormalizeObservation": vw.NormalizeObservation,
        "NormalizeReward": vw.NormalizeReward,
        "TransformObservation": lambda e: vw.TransformObservation(e, lambda o: o * 0.5, e.observation_space),
        "VectorizeTransformObservation": lambda e: vw.VectorizeTransformObservation(
            e, gymnasium.wrappers.TransformObservation, func=lambda o: o, observation_space=e.single_observation_space
        ),
        "FlattenObservation": vw.FlattenObservation,
        "ReshapeObservation": lambda e: vw.ReshapeObservation(e, (e.single_observation_space.shape[0], 1)),
        "RescaleObservation": lambda e: vw.RescaleObservation(e, np.float32(-2), np.float32(2)),
        "DtypeObservation": lambda e: vw.DtypeObservation(e, np.float32),
        "TransformAction": lambda e: vw.TransformAction(e, lambda a: a, e.action_space),
        "VectorizeTransformAction": lambda e: vw.VectorizeTransformAction(
            e, gymnasium.wrappers.TransformAction, func=lambda a: a, action_space=e.single_action_space
        ),
        "ClipAction": vw.ClipAction,
        "RescaleAction": lambda e: vw.RescaleAction(e, np.float32(-0.5), np.float32(0.5)),
        "TransformReward": lambda e: vw.TransformReward(e, lambda r: r * 0.5),
        "VectorizeTransformReward": lambda e: vw.VectorizeTransformReward(
            e, gymnasium.wrappers.TransformReward, func=lambda r: r
        ),
        "ClipReward": lambda e: vw.ClipReward(e, -1.0, 1.0),
    }


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_every_standard_vector_wrapper_runs_in_the_modes_it_supports(mode: AutoresetMode) -> None:
    refused = []
    for name, wrap in _wrappers().items():
        env = ag.AipVectorEnv("dodge-v1", 3, config=_SHORT, autoreset_mode=mode)
        try:
            wrapped = wrap(env)
        except ValueError as exc:  # a wrapper that does not support this mode says so (Gymnasium 1.4+)
            refused.append((name, "autoreset" in str(exc).lower()))
            continue
        except AssertionError:  # Gymnasium before 1.4 refuses with a bare assert on the metadata
            assert _GYMNASIUM < (1, 4), name
            refused.append((name, True))
            continue
        obs, _ = wrapped.reset(seed=1)
        if name == "NormalizeObservation" and _GYMNASIUM < (1, 3):  # it kept the raw bounds before 1.3
            assert obs.shape == wrapped.observation_space.shape, name
        else:
            assert wrapped.observation_space.contains(obs), name
        for _ in range(45):
            obs, reward, term, trunc, _info = wrapped.step(wrapped.action_space.sample())
            done = np.asarray(term) | np.asarray(trunc)
            if mode == AutoresetMode.DISABLED and done.any():
                wrapped.reset(options={"reset_mask": done})
        assert np.shape(reward) == (3,), name
        wrapped.close()
    # Gymnasium's default mode (next-step) is refused by none. Gymnasium's observation wrappers
    # refuse same-step (they would have to transform infos["final_obs"] too), and its stateful
    # NormalizeObservation accepts next-step only: docs/gymnasium.md has this table.
    observation = ["TransformObservation", "VectorizeTransformObservation", "FlattenObservation"]
    observation += ["ReshapeObservation", "RescaleObservation", "DtypeObservation"]
    expected = {
        AutoresetMode.NEXT_STEP: [],
        AutoresetMode.DISABLED: ["NormalizeObservation"],
        AutoresetMode.SAME_STEP: ["NormalizeObservation", *observation],
    }[mode]
    assert sorted(refused) == sorted((name, True) for name in expected)


def test_vector_rendering_draws_the_selected_worlds() -> None:
    env = gymnasium.make_vec("aip/Chase-v1", num_envs=6, render_mode="rgb_array", render_worlds=[4, 1])
    env.reset(seed=0)
    images = env.render()
    assert isinstance(images, tuple) and len(images) == 2
    assert all(i.shape == (360, 640, 3) and i.dtype == np.uint8 for i in images)
    single = ag.AipEnv("chase-v1", render_mode="rgb_array")
    single.reset()
    every = ag.AipVectorEnv("chase-v1", 3, render_mode="rgb_array")
    every.reset(seed=[7, 8, 9])
    drawn = every.render()
    assert drawn is not None and len(drawn) == 3
    single.reset(seed=8)
    np.testing.assert_array_equal(drawn[1], single.render())  # world 1 seeded 8 == a single env seeded 8
    assert ag.AipVectorEnv("chase-v1", 2).render() is None
    with pytest.raises(ValueError, match="render_worlds"):
        ag.AipVectorEnv("chase-v1", 2, render_mode="rgb_array", render_worlds=[2])


def _roll(env: Any, acts: list[np.ndarray], disabled: bool = False) -> list[tuple[Any, ...]]:
    out = []
    for a in acts:
        obs, reward, term, trunc, _ = env.step(a)
        out.append((np.array(obs), np.array(reward), np.array(term), np.array(trunc)))
        done = np.asarray(term) | np.asarray(trunc)
        if disabled and done.any():
            env.reset(options={"reset_mask": done})
    return out


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
def test_a_pickled_or_copied_vector_env_continues_the_same_trajectory(mode: AutoresetMode) -> None:
    env = gymnasium.make_vec("aip/ChaseFlee-v1", num_envs=5, config=_SHORT, autoreset_mode=mode)
    env.reset(seed=4)
    rng = np.random.default_rng(2)
    _roll(env, [rng.uniform(-1, 1, (5, 2)).astype(np.float32) for _ in range(19)], mode == AutoresetMode.DISABLED)
    copies = [pickle.loads(pickle.dumps(env)), copy.deepcopy(env)]
    acts = [rng.uniform(-1, 1, (5, 2)).astype(np.float32) for _ in range(30)]
    want = _roll(env, acts, mode == AutoresetMode.DISABLED)
    for other in copies:
        assert other.metadata["autoreset_mode"] == mode
        for x, y in zip(want, _roll(other, acts, mode == AutoresetMode.DISABLED), strict=True):
            for u, v in zip(x, y, strict=True):
                np.testing.assert_array_equal(u, v)


def test_a_pickled_single_env_and_duel_continue_the_same_trajectory() -> None:
    env = gymnasium.make("aip/Dodge-v1")  # with Gymnasium's wrappers around it
    env.reset(seed=5)
    for _ in range(10):
        env.step(np.zeros(2, np.float32))
    twin = pickle.loads(pickle.dumps(env))
    for _ in range(50):
        a = env.action_space.sample()
        x, y = env.step(a), twin.step(a)
        np.testing.assert_array_equal(x[0], y[0])
        assert x[1:4] == y[1:4]
        if x[2] or x[3]:
            break
    pytest.importorskip("pettingzoo")
    duel = ag.DuelParallelEnv()
    duel.reset(seed=3)
    twin_duel = copy.deepcopy(duel)
    acts = {"player": np.array([0.3, -0.2, 1.0], np.float32), "enemy": np.array([0.5, 0.5], np.float32)}
    for _ in range(20):
        a, b = duel.step(acts), twin_duel.step(acts)
        for agent in a[0]:
            np.testing.assert_array_equal(a[0][agent], b[0][agent])
            assert a[1][agent] == b[1][agent]
        if not duel.agents:
            break


@pytest.mark.slow
def test_spawned_subprocess_vector_env_runs_the_adapters() -> None:
    # Spawn pickles the env factory and the child imports the package: the way multiprocessing
    # users (and macOS/Windows defaults) run subprocess vector envs.
    env = gymnasium.make_vec("aip/Chase-v1", num_envs=2, vectorization_mode="async", vector_kwargs={"context": "spawn"})
    obs, _ = env.reset(seed=1)
    assert obs.shape == (2, 24)
    for _ in range(5):
        env.step(env.action_space.sample())
    env.close()


def test_close_frees_the_engine_and_later_calls_raise() -> None:
    single = ag.AipEnv("chase-v1")
    single.reset(seed=0)
    single.close()
    assert single.worlds.closed if hasattr(single, "worlds") else single._worlds.closed
    with pytest.raises(ae.EngineError, match="AipEnv is closed"):
        single.step(np.zeros(2, np.float32))
    with pytest.raises(ae.EngineError, match="AipEnv is closed"):
        single.reset()
    venv = gymnasium.make_vec("aip/Chase-v1", num_envs=3)
    venv.reset(seed=0)
    venv.close()
    assert venv.unwrapped.worlds.closed
    with pytest.raises(ae.EngineError, match="AipVectorEnv is closed"):
        venv.step(np.zeros((3, 2), np.float32))
    with pytest.raises(ae.EngineError, match="closed"):
        pickle.dumps(venv)
    pytest.importorskip("pettingzoo")
    duel = ag.DuelParallelEnv()
    duel.close()
    with pytest.raises(ae.EngineError, match="DuelParallelEnv is closed"):
        duel.reset()


# PettingZoo's test helpers call an API that PettingZoo 1.27 deprecates.
@pytest.mark.filterwarnings("ignore:The old environment creation API:DeprecationWarning")
# api_test's advice (UserWarning) on names like "player_0" and on agents with spaces of the same
# size does not fit duel-v1: the agents are the roles, with layouts of their own sizes.
@pytest.mark.filterwarnings("ignore::UserWarning:pettingzoo.test.api_test")
def test_duel_aec_env_passes_the_pettingzoo_api_test() -> None:
    pytest.importorskip("pettingzoo")
    from pettingzoo.test import api_test

    env = ag.duel_aec_env()
    api_test(env, num_cycles=300)
    drawn = ag.duel_aec_env(render_mode="rgb_array")
    drawn.reset(seed=0)
    image = drawn.render()
    assert isinstance(image, np.ndarray) and image.shape == (360, 640, 3)


def test_duel_aec_env_steps_the_world_once_both_have_acted() -> None:
    pytest.importorskip("pettingzoo")
    aec = ag.duel_aec_env()
    par = ag.DuelParallelEnv()
    aec.reset(seed=2)
    par.reset(seed=2)
    acts = {"player": np.array([1.0, 0.0, 0.0], np.float32), "enemy": np.array([-1.0, 0.0], np.float32)}
    for _ in range(5):
        for agent in list(aec.possible_agents):
            aec.step(acts[agent])
        obs, *_ = par.step(acts)
    for agent in aec.possible_agents:
        np.testing.assert_array_equal(aec.observe(agent), obs[agent])
