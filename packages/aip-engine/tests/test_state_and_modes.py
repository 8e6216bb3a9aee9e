"""Autoreset modes, per-world seeds, full-state export/import, copies and close, engine against reference."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import aip_engine as ae
from aip_engine import reference

_SINGLE = ("chase-v1", "chase-flee-v1", "dodge-v1", "intercept-v1")
_MODES = ("same-step", "next-step", "disabled")


def _actions(rng: np.random.Generator, worlds: ae.Worlds) -> np.ndarray:
    size = ae.role_layout(worlds.agents[0]).act_size
    return rng.uniform(-1, 1, (worlds.num_worlds, size)).astype(np.float32)


def _outputs(w: object) -> dict[str, np.ndarray]:
    role = w.agents[0]  # type: ignore[attr-defined]
    return {
        "obs": np.array(w.observations(role)),  # type: ignore[attr-defined]
        "final": np.array(w.final_observations(role)),  # type: ignore[attr-defined]
        "reward": np.array(w.rewards(role)),  # type: ignore[attr-defined]
        "return": np.array(w.episode_return(role)),  # type: ignore[attr-defined]
        "terminated": np.array(w.terminated),  # type: ignore[attr-defined]
        "truncated": np.array(w.truncated),  # type: ignore[attr-defined]
        "events": np.array(w.events),  # type: ignore[attr-defined]
        "frames": np.array(w.episode_frames),  # type: ignore[attr-defined]
        "success": np.array(w.success),  # type: ignore[attr-defined]
        "frame": np.array(w.frame),  # type: ignore[attr-defined]
    }


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray], where: str) -> None:
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=f"{key} differs {where}")


@pytest.mark.parametrize("mode", _MODES)
@pytest.mark.parametrize("task", _SINGLE)
def test_engine_and_reference_agree_in_every_autoreset_mode(task: str, mode: str) -> None:
    # A short time limit makes many episodes end (and restart) within the steps.
    cfg = {"time_limit": 25}
    eng = ae.Worlds(task, 6, seed=11, threads=2, auto_reset=mode, config=cfg)
    ref = reference.Worlds(task, 6, seed=11, auto_reset=mode, config=cfg)
    rng = np.random.default_rng(0)
    ended = 0
    for t in range(70):
        a = _actions(rng, eng)
        eng.step(a)
        ref.step(a)
        _assert_same(_outputs(eng), _outputs(ref), f"at step {t} ({task}, {mode})")
        done = eng.terminated | eng.truncated
        ended += int(done.sum())
        if mode == "disabled" and done.any():
            eng.reset(mask=done.copy())
            ref.reset(mask=done.copy())
            _assert_same(_outputs(eng), _outputs(ref), f"after the masked reset at step {t}")
    assert ended >= 6


def test_next_step_mode_returns_the_last_observation_then_restarts() -> None:
    w = ae.Worlds("chase-v1", 3, seed=4, auto_reset="next-step", config={"time_limit": 10})
    same = ae.Worlds("chase-v1", 3, seed=4, auto_reset="same-step", config={"time_limit": 10})
    a = np.zeros((3, 2), np.float32)
    for _ in range(10):
        w.step(a)
        same.step(a)
    assert w.truncated.all()
    # The step that ended the episode shows its last observation (same-step mode keeps it aside).
    np.testing.assert_array_equal(w.observations("enemy"), same.final_observations("enemy"))
    w.step(a)
    # The next step starts the episode same-step mode started one step earlier, and reports nothing.
    np.testing.assert_array_equal(w.observations("enemy"), same.observations("enemy"))
    assert not (w.terminated | w.truncated).any()
    assert (w.rewards("enemy") == 0).all() and (w.frame == 0).all() and (w.episode_frames == 0).all()
    assert (w.events == 0).all()
    w.step(a)
    assert (w.frame == 1).all()


def test_disabled_mode_leaves_finished_worlds_to_the_caller() -> None:
    w = ae.Worlds("chase-v1", 2, seed=1, auto_reset="disabled", config={"time_limit": 5})
    assert w.autoreset_mode == "disabled" and w.auto_reset is False
    a = np.zeros((2, 2), np.float32)
    for _ in range(5):
        w.step(a)
    assert w.truncated.all()
    w.step(a)
    assert (w.frame == 6).all()


def test_autoreset_mode_is_checked() -> None:
    assert ae.Worlds("chase-v1", 1, auto_reset=True).autoreset_mode == "same-step"
    assert ae.Worlds("chase-v1", 1, auto_reset="next_step").autoreset_mode == "next-step"
    for bad in ("sometimes", 2, None):
        with pytest.raises(ae.ConfigError, match="auto_reset must be"):
            ae.Worlds("chase-v1", 1, auto_reset=bad)  # type: ignore[arg-type]
        with pytest.raises(ae.ConfigError, match="auto_reset must be"):
            reference.Worlds("chase-v1", 1, auto_reset=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("impl", [ae.Worlds, reference.Worlds])
def test_per_world_seeds_give_each_world_the_episode_of_a_batch_of_one(impl: type) -> None:
    seeds = [5, 123456789, 2**64 - 1, 5]
    batch = impl("dodge-v1", 4, auto_reset=False)
    batch.reset(seed=seeds)
    # Equal seeds, equal episodes.
    np.testing.assert_array_equal(batch.observations("enemy")[0], batch.observations("enemy")[3])
    rng = np.random.default_rng(3)
    acts = [_actions(rng, batch) for _ in range(40)]
    singles = [impl("dodge-v1", 1, auto_reset=False) for _ in seeds]
    for single, s in zip(singles, seeds, strict=True):
        single.reset(seed=s)
    for a in acts:
        batch.step(a)
        for i, single in enumerate(singles):
            single.step(np.ascontiguousarray(a[i : i + 1]))
            np.testing.assert_array_equal(batch.observations("enemy")[i], single.observations("enemy")[0])
    # None draws on from the world's own generator; unmasked worlds keep theirs.
    before = np.array(batch.state()["rng"])
    batch.reset(seed=[None, 7, None, None], mask=np.array([True, True, False, False]))
    after = batch.state()["rng"]
    assert after[2] == before[2] and after[3] == before[3]


def test_per_world_seeds_agree_between_engine_and_reference_and_are_checked() -> None:
    eng = ae.Worlds("intercept-v1", 3)
    ref = reference.Worlds("intercept-v1", 3)
    eng.reset(seed=[1, 2, 3])
    ref.reset(seed=[1, 2, 3])
    np.testing.assert_array_equal(eng.observations("missile"), ref.observations("missile"))
    np.testing.assert_array_equal(eng.state()["rng"], ref.state()["rng"])
    for impl in (eng, ref):
        with pytest.raises(ae.ShapeError, match="needs 3 entries"):
            impl.reset(seed=[1, 2])
        with pytest.raises(ae.ConfigError, match=r"seed\[1\] must be an integer"):
            impl.reset(seed=[1, "x", 3])
        with pytest.raises(ae.ShapeError, match="mask must be"):
            impl.reset(seed=[1, 2, 3], mask=np.ones(2, bool))


@pytest.mark.parametrize("mode", _MODES)
@pytest.mark.parametrize("impl", [ae.Worlds, reference.Worlds])
def test_exported_state_continues_the_same_trajectory(impl: type, mode: str) -> None:
    cfg = {"time_limit": 30}
    a = impl("chase-flee-v1", 4, seed=9, auto_reset=mode, config=cfg)
    rng = np.random.default_rng(1)
    for _ in range(28):  # stop just before the time limit: the pending restart must carry over
        a.step(_actions(rng, a))
    a.params["enemy_speed_scale"][:] = [1.0, 0.5, 1.5, 1.0]
    saved = a.export_state()
    b = impl("chase-flee-v1", 4, seed=0, auto_reset=mode, config=cfg)
    b.import_state(saved)
    c = pickle.loads(pickle.dumps(a))
    d = copy.deepcopy(a)
    for _ in range(20):
        act = _actions(rng, a)
        for w in (a, b, c, d):
            w.step(act)
        if mode == "disabled":
            done = (a.terminated | a.truncated).copy()
            for w in (a, b, c, d):
                w.reset(mask=done)
        for w in (b, c, d):
            _assert_same(_outputs(a), _outputs(w), f"in a copy ({mode})")
            np.testing.assert_array_equal(a.state()["rng"], w.state()["rng"])


def test_import_state_refuses_what_does_not_fit() -> None:
    w = ae.Worlds("chase-v1", 2)
    with pytest.raises(ae.ConfigError, match="needs a dictionary returned by export_state"):
        w.import_state({"x": 1})
    with pytest.raises(ae.ConfigError, match="task 'dodge-v1'"):
        w.import_state(ae.Worlds("dodge-v1", 2).export_state())
    with pytest.raises(ae.ConfigError, match="num_worlds 3"):
        w.import_state(ae.Worlds("chase-v1", 3).export_state())
    with pytest.raises(ae.ConfigError, match="implementation 'reference'"):
        w.import_state(reference.Worlds("chase-v1", 2).export_state())
    broken = w.export_state()
    broken["arrays"]["state/player_pos"] = np.zeros((2, 3))
    with pytest.raises(ae.ShapeError, match="state/player_pos"):
        w.import_state(broken)


@pytest.mark.parametrize("impl", [ae.Worlds, reference.Worlds])
def test_close_frees_the_batch_and_later_calls_raise(impl: type) -> None:
    w = impl("chase-v1", 2)
    w.close()
    w.close()
    assert w.closed
    with pytest.raises(ae.EngineError, match="closed"):
        w.step(np.zeros((2, 2), np.float32))
    with pytest.raises(ae.EngineError, match="closed"):
        w.reset()
    with pytest.raises(ae.EngineError, match="closed"):
        w.export_state()
