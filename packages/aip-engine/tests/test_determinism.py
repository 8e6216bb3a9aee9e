"""Determinism: thread counts, batch sizes and seeds never change a world's numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import aip_engine as ae


def _actions(w: ae.Worlds, rng: np.random.Generator, n: int | None = None) -> Any:
    n = w.num_worlds if n is None else n
    acts = {}
    for role in w.agents:
        a = rng.uniform(-1.2, 1.2, (n, ae.role_layout(role).act_size)).astype(np.float32)
        if role == "player":
            a[:, 2] = rng.random(n) < 0.2
        acts[role] = a
    if not acts:
        return None
    return acts if len(acts) > 1 else next(iter(acts.values()))


def _slice(acts: Any, n: int) -> Any:
    if acts is None:
        return None
    if isinstance(acts, dict):
        return {k: np.ascontiguousarray(v[:n]) for k, v in acts.items()}
    return np.ascontiguousarray(acts[:n])


def _snapshot(w: ae.Worlds, n: int | None = None) -> dict[str, np.ndarray]:
    n = w.num_worlds if n is None else n
    out = {f"state.{k}": v[:n].copy() for k, v in w.state().items()}
    for role in w.agents:
        out[f"obs.{role}"] = w.observations(role)[:n].copy()
        out[f"final.{role}"] = w.final_observations(role)[:n].copy()
    for role in ae.roles():
        out[f"reward.{role}"] = w.rewards(role)[:n].copy()
        out[f"return.{role}"] = w.episode_return(role)[:n].copy()
    out["events"] = w.events[:n].copy()
    out["terminated"] = w.terminated[:n].copy()
    out["truncated"] = w.truncated[:n].copy()
    out["success"] = w.success[:n].copy()
    return out


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray], where: str) -> None:
    for key in a:
        assert np.array_equal(a[key], b[key], equal_nan=a[key].dtype.kind == "f"), f"{where}: {key} differs"


@pytest.mark.parametrize("task", ae.tasks())
def test_thread_counts_give_identical_worlds(task: str) -> None:
    worlds = [ae.Worlds(task, 203, seed=17, threads=t) for t in (1, 2, 3)]
    assert [w.threads for w in worlds] == [1, 2, 3]
    for w in worlds:
        w._engine.set_min_chunk(1)  # split even this small batch over every thread
    rng = np.random.default_rng(1)
    for frame in range(400):
        acts = _actions(worlds[0], rng)
        for w in worlds:
            w.step(acts)
        if frame % 100 == 99:
            ref = _snapshot(worlds[0])
            for w in worlds[1:]:
                _assert_same(ref, _snapshot(w), f"{task} frame {frame} threads {w.threads}")


@pytest.mark.parametrize("task", ["chase-v1", "dodge-v1", "duel-v1", "intercept-v1"])
def test_batch_size_does_not_change_a_world(task: str) -> None:
    big = ae.Worlds(task, 1000, seed=99, threads=2)
    small = ae.Worlds(task, 64, seed=99, threads=1)
    rng = np.random.default_rng(2)
    for _ in range(300):
        acts = _actions(big, rng)
        big.step(acts)
        small.step(_slice(acts, 64))
    _assert_same(_snapshot(big, 64), _snapshot(small), task)


def test_same_seed_same_trajectory_and_other_seed_differs() -> None:
    def run(seed: int) -> dict[str, np.ndarray]:
        w = ae.Worlds("dodge-v1", 16, seed=seed, threads=1)
        rng = np.random.default_rng(5)
        for _ in range(200):
            w.step(_actions(w, rng))
        return _snapshot(w)

    _assert_same(run(4), run(4), "same seed")
    assert not np.array_equal(run(4)["state.player_pos"], run(5)["state.player_pos"])


def test_reset_with_a_seed_restarts_the_same_episodes() -> None:
    w = ae.Worlds("chase-v1", 8, seed=123, threads=1)
    first = _snapshot(w)
    rng = np.random.default_rng(0)
    for _ in range(50):
        w.step(_actions(w, rng))
    w.reset(seed=123)
    again = _snapshot(w)
    for key in first:
        if key.startswith(("state.", "obs.")):
            assert np.array_equal(first[key], again[key]), key


def test_reset_without_a_seed_draws_on() -> None:
    w = ae.Worlds("chase-v1", 8, seed=123, threads=1)
    start = w.state()["player_pos"].copy()
    w.reset()
    assert not np.array_equal(start, w.state()["player_pos"])


def test_masked_reset_reseeds_only_the_masked_worlds() -> None:
    a = ae.Worlds("chase-v1", 8, seed=1, threads=1)
    b = ae.Worlds("chase-v1", 8, seed=1, threads=1)
    mask = np.zeros(8, bool)
    mask[[1, 5]] = True
    b.reset(seed=77, mask=mask)
    c = ae.Worlds("chase-v1", 8, seed=77, threads=1)
    pa, pb, pc = (x.state()["player_pos"] for x in (a, b, c))
    assert np.array_equal(pb[~mask], pa[~mask])
    assert np.array_equal(pb[mask], pc[mask])


def test_seed_is_taken_modulo_two_to_the_64() -> None:
    a = ae.Worlds("chase-v1", 4, seed=-1, threads=1)
    b = ae.Worlds("chase-v1", 4, seed=2**64 - 1, threads=1)
    assert np.array_equal(a.state()["player_pos"], b.state()["player_pos"])


def test_generator_matches_the_documented_splitmix64() -> None:
    # docs/rules.md: state = mix64(seed) ^ mix64(index + 0x632BE59BD9B4E019); the first draw of a
    # chase-v1 reset is the player's x = uniform(50, 1230).
    mask = (1 << 64) - 1

    def mix64(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    seed, index = 42, 3
    state = mix64(seed) ^ mix64((index + 0x632BE59BD9B4E019) & mask)
    state = (state + 0x9E3779B97F4A7C15) & mask
    u = (mix64(state) >> 11) * 2.0**-53
    w = ae.Worlds("chase-v1", 4, seed=seed, threads=1)
    assert w.state()["player_pos"][index, 0] == 50.0 + (1230.0 - 50.0) * u


def test_a_forked_child_steps_a_batch_made_by_its_parent() -> None:
    import multiprocessing

    w = ae.Worlds("chase-v1", 2048, seed=8, threads=2)
    twin = ae.Worlds("chase-v1", 2048, seed=8, threads=1)
    a = np.zeros((2048, 2), np.float32)
    for _ in range(10):
        twin.step(a)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def child() -> None:
        for _ in range(10):
            w.step(a)
        queue.put(w.state()["enemy_pos"].copy())

    proc = ctx.Process(target=child)
    proc.start()
    result = queue.get(timeout=60)
    proc.join(timeout=60)
    assert proc.exitcode == 0
    assert np.array_equal(result, twin.state()["enemy_pos"])


_BOT_CASES = [
    (
        "dodge-v1",
        {"player": "kite", "enemy": "staged", "missile": "homing"},
        {"boundary": "clamp", "fire_probability": 0.3},
    ),
    ("dodge-v1", {"player": "patterns", "enemy": "dodge"}, {"boundary": "clamp", "fire_probability": 0.3}),
    ("duel-v1", {"player": "flee", "enemy": "intercept"}, {"boundary": "clamp", "fire_probability": 0.3}),
    ("intercept-v1", {"player": "wander", "missile": "homing"}, {"boundary": "clamp"}),
    ("duel-v1", {}, {"boundary": "clamp", "catch_invulnerability": 50}),
    ("play-v1", {"enemy": "staged"}, {"catch_invulnerability": 120, "respawn_min_distance": 900.0}),
]


@pytest.mark.parametrize(("task", "controllers", "config"), _BOT_CASES)
def test_reference_agrees_under_clamp_and_every_bot(
    task: str, controllers: dict[str, str], config: dict[str, Any]
) -> None:
    # Configurations the task defaults do not reach: walls, every bot in every slot, invulnerability.
    # Rows of worlds that did not finish are compared for the trajectory; final observations and
    # returns for finished worlds.
    from aip_engine import reference

    eng = ae.Worlds(task, 8, seed=5, threads=2, controllers=controllers, config=config)
    eng._engine.set_min_chunk(1)
    ref = reference.Worlds(task, 8, seed=5, controllers=controllers, config=config)
    rng = np.random.default_rng(3)
    for frame in range(300):
        acts = _actions(eng, rng)
        copy = (
            None
            if acts is None
            else ({k: v.copy() for k, v in acts.items()} if isinstance(acts, dict) else acts.copy())
        )
        eng.step(acts)
        ref.step(copy)
        es, rs = eng.state(), ref.state()
        for key in rs:
            assert np.array_equal(es[key], np.asarray(rs[key])), f"{task} frame {frame}: state {key}"
        done = eng.terminated | eng.truncated
        assert np.array_equal(done, np.asarray(ref.terminated) | np.asarray(ref.truncated))
        assert np.array_equal(eng.events, np.asarray(ref.events)), f"{task} frame {frame}: events"
        for role in eng.agents:
            assert np.array_equal(eng.observations(role), np.asarray(ref.observations(role)))
            assert np.array_equal(eng.final_observations(role)[done], np.asarray(ref.final_observations(role))[done])
        for role in ae.roles():
            assert np.array_equal(eng.rewards(role), np.asarray(ref.rewards(role))), f"{task} frame {frame}: {role}"
            assert np.array_equal(eng.episode_return(role)[done], np.asarray(ref.episode_return(role))[done])
