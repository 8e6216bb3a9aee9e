"""Imitation: datasets with checksums, behaviour cloning (moves and fire), DAgger, GAIL, re-simulation."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch

import aip_engine
import aip_ml
from aip_ml.imitation import (
    ConversionRefused,
    DatasetError,
    DatasetExistsError,
    DemoDataset,
    bot_demonstrations,
    clone,
    dagger_round,
    load_dataset,
    resimulate,
)
from aip_ml.imitation._bc import _targets
from aip_ml.imitation._bots import _bot_actions, _valid
from aip_ml.ppo import PPO, RunningMeanStd

SMALL = ["num_worlds=32", "rollout_steps=16", "minibatch_size=256", "eval_episodes=0", "torch_threads=1"]


def test_a_dataset_round_trips_with_its_checksum_and_is_never_overwritten(tmp_path: Path) -> None:
    data = bot_demonstrations("chase-v1", "enemy", "chase", 2000, num_worlds=16, seed=3, threads=1)
    assert len(data) > 1000 and data.episodes >= 16 and data.layout == "enemy-v1"
    path = data.save(tmp_path / "d.npz")
    again = load_dataset(path)
    assert again.checksum == data.checksum and len(again) == len(data)
    np.testing.assert_array_equal(again.actions, data.actions)
    with pytest.raises(DatasetExistsError, match="never overwritten"):
        data.save(path)
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "bad.npz").write_bytes(bytes(raw))
    with pytest.raises(DatasetError, match=r"bad\.npz"):
        load_dataset(tmp_path / "bad.npz")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "missing.npz")


def test_bot_demonstrations_are_the_kept_frames_world_by_world_held_once() -> None:
    # The same play recorded naively: per world, the frames the bot's step kept, in time order.
    n, steps = 8, 700
    worlds = aip_engine.Worlds("dodge-v1", n, seed=11, controllers={"enemy": "dodge"}, threads=1)
    worlds.reset(seed=11)
    per_world: list[list[tuple[np.ndarray, np.ndarray, int]]] = [[] for _ in range(n)]
    episode = [0] * n
    for _ in range(steps):
        obs = worlds.observations("enemy").copy()
        result = worlds.step(None)
        act, keep = _bot_actions(worlds, "enemy"), _valid(worlds, result, "enemy")
        for w in range(n):
            if keep[w]:
                per_world[w].append((obs[w], act[w], episode[w]))
            if result.terminated[w] or result.truncated[w]:
                episode[w] += 1
    rows = [r for world in per_world for r in world]
    data = bot_demonstrations("dodge-v1", "enemy", "dodge", n * steps, num_worlds=n, seed=11, threads=1)
    np.testing.assert_array_equal(data.observations, np.stack([r[0] for r in rows]))
    np.testing.assert_array_equal(data.actions, np.stack([r[1] for r in rows]))
    keys = [(w, e) for w, world in enumerate(per_world) for _, _, e in world]
    expected = np.cumsum([i == 0 or keys[i] != keys[i - 1] for i in range(len(keys))]) - 1
    np.testing.assert_array_equal(data.episode, expected)
    assert 0 < len(data) < n * steps
    # Every step's observations and actions are held once (the kept ones are packed in place), not
    # copied for the reordering and again for the selection (3.2 times as much).
    n, steps = 64, 1000
    tracemalloc.start()
    data = bot_demonstrations("dodge-v1", "enemy", "dodge", n * steps, num_worlds=n, seed=11, threads=1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2.0 * n * steps * 4 * (data.observations.shape[1] + data.actions.shape[1])


def test_moments_of_a_large_batch_are_computed_in_chunks_to_the_same_figures() -> None:
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(50_000, 6)).astype(np.float32)
    rows = np.flatnonzero(np.arange(len(x)) % 3 != 0)
    whole, chunked = RunningMeanStd((6,)), RunningMeanStd((6,))
    chunked.CHUNK_BYTES = 4096  # 85 rows per chunk
    whole.update(x[rows])
    tracemalloc.start()
    chunked.update(x, rows=rows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(chunked.var, whole.var, rtol=1e-10)
    assert chunked.count == whole.count
    assert peak < x.nbytes / 4  # no float64 copy, no copy of the selected rows


def test_cloning_a_bot_plays_like_it_and_reports_a_held_out_loss() -> None:
    torch.manual_seed(0)
    config = aip_ml.load_config("chase-v1", overrides=[*SMALL, "hidden_sizes=[64, 64]"])
    ppo = PPO(config, aip_engine.Worlds("chase-v1", 32, seed=0))
    data = bot_demonstrations("chase-v1", "enemy", "chase", 40_000, num_worlds=64, seed=5, threads=1)
    stats = clone(ppo, data, epochs=10, holdout=0.2, seed=1)
    assert stats["bc/loss"] < 0.05 and 0 <= stats["bc/holdout_loss"] < 0.1
    report = aip_ml.evaluate(ppo.policy(), "chase-v1", episodes=100, seed=9)
    assert report.agent.success_rate >= report.bots["chase"].success_rate - 0.1


def test_twenty_episodes_are_cloned_with_enough_gradient_steps_to_fit_them() -> None:
    # 20 episodes of dodge-v1's bot are ~16,000 samples: 20 epochs in minibatches of 4,096 were 80 Adam
    # steps, which left the clone underfitted (held-out loss ~0.015, 0 % success against the bot's 66 %).
    torch.manual_seed(0)
    config = aip_ml.load_config("dodge-v1", overrides=[*SMALL, "imitate_bot="])
    ppo = PPO(config, aip_engine.Worlds("dodge-v1", 32, seed=0))
    spec = aip_engine.task_spec("dodge-v1")
    data = bot_demonstrations("dodge-v1", "enemy", "dodge", 20 * spec.time_limit, num_worlds=20, seed=77, threads=1)
    stats = clone(ppo, data, epochs=20, holdout=0.1, seed=1)
    assert stats["bc/steps"] >= 2000
    assert stats["bc/holdout_loss"] < 0.01


def test_full_speed_moves_are_fitted_past_the_unit_circle_when_asked() -> None:
    layout = aip_engine.role_layout("player")
    actions = np.array([[1.0, 0.0, 1.0], [0.6, 0.8, 0.0], [0.3, 0.4, 1.0]], np.float32)
    plain, binary = _targets(layout, actions)
    gained, _ = _targets(layout, actions, 1.05)
    np.testing.assert_allclose(plain.numpy(), actions)
    # Full-speed moves (length 1) are fitted at 1.05, a slower one as it is; fire stays a 0/1 decision.
    np.testing.assert_allclose(gained.numpy(), [[1.05, 0.0, 1.0], [0.63, 0.84, 0.0], [0.3, 0.4, 1.0]], rtol=1e-6)
    assert binary.tolist() == [False, False, True]
    with pytest.raises(aip_ml.ConfigError, match=r"bc_full_speed_gain.*\[1, 1\.5\]"):
        aip_ml.load_config("chase-flee-v1", overrides=["bc_full_speed_gain=2"])


def _quadrant(data: DemoDataset, sign: float) -> DemoDataset:
    # The samples whose player lies in one quadrant seen from the enemy (dx and dy of that sign).
    layout = aip_engine.role_layout("enemy")
    dx, dy = layout.obs_index("player_dx"), layout.obs_index("player_dy")
    keep = (data.observations[:, dx] * sign > 0.05) & (data.observations[:, dy] * sign > 0.05)
    episode = np.unique(data.episode[keep], return_inverse=True)[1].astype(np.int32)
    return DemoDataset(
        data.observations[keep], data.actions[keep], episode, data.role, data.layout, data.layout_version
    )


def test_mirror_augmentation_clones_the_mirror_images_of_what_was_shown() -> None:
    # The chase bot shown only with the player to its lower right: cloned as recorded, the clone has
    # never seen a player to its upper left; cloned with the mirror images, it chases there as well.
    data = bot_demonstrations("chase-v1", "enemy", "chase", 30_000, num_worlds=32, seed=5, threads=1)
    shown, unseen = _quadrant(data, 1.0), _quadrant(data, -1.0)
    errors = {}
    for augment in ("none", "mirror"):
        torch.manual_seed(0)
        config = aip_ml.load_config("chase-v1", overrides=[*SMALL, "hidden_sizes=[64, 64]"])
        ppo = PPO(config, aip_engine.Worlds("chase-v1", 32, seed=0))
        clone(ppo, shown, epochs=20, holdout=0.0, seed=1, augment=augment)
        with torch.no_grad():
            moves = ppo.model.mean(ppo.normalizer(torch.from_numpy(unseen.observations))).clamp(-1, 1)
        errors[augment] = float(((moves.numpy() - unseen.actions) ** 2).mean())
    assert errors["mirror"] < 0.05 < errors["none"]
    assert errors["none"] > 10 * errors["mirror"]


def test_mirror_augmentation_keeps_the_statistics_of_all_four_images() -> None:
    config = aip_ml.load_config("dodge-v1", overrides=[*SMALL, "imitate_bot="])
    ppo = PPO(config, aip_engine.Worlds("dodge-v1", 32, seed=0))
    data = bot_demonstrations("dodge-v1", "enemy", "dodge", 4_000, num_worlds=16, seed=3, threads=1)
    clone(ppo, data, epochs=1, holdout=0.0, seed=1, augment="mirror")
    layout = aip_engine.role_layout("enemy")
    (ox, _), (oy, _) = layout.mirror_signs("x"), layout.mirror_signs("y")
    images = np.concatenate([data.observations * np.array(s) for s in (1.0, ox, oy, np.multiply(ox, oy))])
    expected = RunningMeanStd((layout.obs_size,))
    expected.update(images)
    np.testing.assert_allclose(ppo.obs_rms.mean, expected.mean, atol=1e-6)
    np.testing.assert_allclose(ppo.obs_rms.var, expected.var, rtol=1e-3, atol=1e-6)
    with pytest.raises(ValueError, match="augment must be one of none, mirror"):
        clone(ppo, data, epochs=1, augment="flip")
    with pytest.raises(aip_ml.ConfigError, match=r"bc_augment.*none, mirror"):
        aip_ml.load_config("dodge-v1", overrides=["bc_augment=flip"])


def test_the_fire_action_is_cloned_as_a_decision() -> None:
    # The player plays play-v1 (the game's task); kite fires with probability 0.05 near the enemy.
    cfg = aip_ml.TrainConfig(task="play-v1", num_worlds=32, rollout_steps=16, minibatch_size=256)
    ppo = PPO(cfg, aip_engine.Worlds("play-v1", 32, seed=0))
    demos = bot_demonstrations("play-v1", "player", "kite", 30_000, num_worlds=32, seed=4, threads=1)
    fired = demos.actions[:, 2]
    assert set(np.unique(fired).tolist()) == {0.0, 1.0}
    stats = clone(ppo, demos, epochs=5, holdout=0.2, seed=0)
    assert 0.8 <= stats["bc/holdout_fire_accuracy"] <= 1.0


def test_imitate_bot_with_dagger_and_demos_through_train(tmp_path: Path) -> None:
    extra = [*SMALL, "total_steps=1024", "imitate_samples=4000", "imitate_epochs=2", "critic_warmup_updates=0"]
    seen: list[dict[str, float]] = []

    class Keep(aip_ml.CallbackBase):
        def on_update(self, update: int, metrics: dict[str, float]) -> None:
            seen.append(metrics)

    config = aip_ml.load_config("chase-v1", overrides=[*extra, "imitate_bot=chase", "dagger_iterations=1"])
    result = aip_ml.train(config, run_dir=tmp_path / "dagger", callbacks=[Keep()])
    assert seen[0]["dagger/iterations"] == 1.0 and "bc/holdout_loss" in seen[0]
    assert result.lineage == {"imitate_bot": "chase"}
    demos = bot_demonstrations("chase-v1", "enemy", "chase", 4000, num_worlds=16, seed=1, threads=1)
    path = demos.save(tmp_path / "chase.npz")
    seen.clear()
    config = aip_ml.load_config("chase-v1", overrides=[*extra, f"demos={path}", "gail_weight=0.5"])
    result = aip_ml.train(config, run_dir=tmp_path / "gail", callbacks=[Keep()])
    assert result.lineage["demos.sha256"] == demos.checksum
    assert all(0 <= m["gail/accuracy"] <= 1 and np.isfinite(m["gail/loss"]) for m in seen)
    assert seen[0]["gail/reward_mean"] > 0 and "bc/loss" in seen[0]
    with pytest.raises(aip_ml.ConfigError, match="needs demonstrations"):
        aip_ml.train(aip_ml.load_config("chase-v1", overrides=[*extra, "gail_weight=0.5"]), run_dir=tmp_path / "x")
    with pytest.raises(
        aip_ml.ConfigError, match=r"demonstrations of the enemy in layout enemy-v1 .* trains the missile"
    ):
        aip_ml.train(aip_ml.load_config("intercept-v1", overrides=[*extra, f"demos={path}"]), run_dir=tmp_path / "y")


def test_a_dagger_round_plays_as_many_worlds_as_asked_and_labels_with_the_bot() -> None:
    config = aip_ml.load_config("chase-v1", overrides=SMALL)
    learner = PPO(config, aip_engine.Worlds("chase-v1", config.num_worlds, seed=0, threads=1))
    # the learner's 32 worlds would play 300 // 32 = 9 frames each; 2 worlds play 150 frames each
    few = dagger_round(learner, "chase-v1", "chase", 300, seed=5, threads=1, num_worlds=2)
    many = dagger_round(learner, "chase-v1", "chase", 300, seed=5, threads=1)
    assert len(few) == 300 and len(many) == 32 * 9
    assert few.sources[0]["dagger"] is True and few.layout == "enemy-v1"
    # the chase bot's labels are unit moves, whatever the (untrained) learner did
    assert np.allclose(np.linalg.norm(few.actions, axis=1), 1.0, atol=1e-4)
    with pytest.raises(ValueError, match="num_worlds must be at least 1"):
        dagger_round(learner, "chase-v1", "chase", 300, seed=5, num_worlds=0)


def _played(task: str, frames: int, seed: int) -> tuple[dict[str, object], np.ndarray, np.ndarray]:
    """A scripted player's game in the engine, with what a recorder would write."""
    worlds = aip_engine.Worlds(task, 1, seed=seed, threads=1)
    worlds.reset(seed=seed)
    rng = np.random.default_rng(seed)
    obs, act = [], []
    for _ in range(frames):
        obs.append(worlds.observations("player")[0].copy())
        a = np.array([[np.cos(rng.uniform(0, 6.3)), np.sin(rng.uniform(0, 6.3)), rng.random() < 0.1]], np.float32)
        act.append(a[0])
        worlds.step(a)
    layout = aip_engine.role_layout("player")
    header: dict[str, object] = {
        "role": "player",
        "layout": layout.name,
        "layout_version": layout.version,
        "observation_fields": [f.name for f in layout.observation],
        "task": task,
        "seed": seed,
        "config": worlds.config.to_dict(),
        "controllers": dict(worlds.controllers),
        "opponent": "bot: chase",
    }
    return header, np.array(obs), np.array(act)


def test_resimulation_keeps_episodes_and_cuts_where_the_recording_diverges() -> None:
    header, obs, act = _played("play-v1", 600, seed=11)
    frames = np.arange(len(obs), dtype=np.int32)
    got = resimulate("a.aiprec", header, act, obs, frames, role="player")
    np.testing.assert_allclose(got.dataset.observations, obs, atol=1e-6)
    assert got.episodes_dropped == 0 and len(got.dataset) == 600
    catches = got.dataset.episodes
    tampered = obs.copy()
    tampered[400, 0] += 0.5  # a change the file does not hold
    cut = resimulate("b.aiprec", header, act, tampered, frames, role="player")
    assert len(cut.dataset) <= 400 and cut.episodes_dropped == 1
    assert any("leaves the recording at frame 400" in r for r in cut.reasons)
    assert cut.dataset.episodes <= catches
    short = resimulate("c.aiprec", header, act[:300], obs[:300], frames[:300], role="player", complete=False)
    assert short.episodes_dropped == 1 and any("interrupted" in r for r in short.reasons)
    with pytest.raises(ConversionRefused, match=r"a\.aiprec: a recording of the player role, not the enemy"):
        resimulate("a.aiprec", header, act, obs, frames, role="enemy")
    with pytest.raises(ConversionRefused, match="recorded with layout player-v0"):
        resimulate("a.aiprec", {**header, "layout": "player-v0"}, act, obs, frames, role="player")
    with pytest.raises(ConversionRefused, match="recorded in task 'play-v1', not 'chase-v1'"):
        resimulate("a.aiprec", header, act, obs, frames, role="player", task="chase-v1")
