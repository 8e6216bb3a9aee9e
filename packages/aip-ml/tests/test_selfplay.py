"""Self-play on duel-v1: both roles learn in one batch, checkpoints resume exactly, each role exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import aip_engine
import aip_ml

OVERRIDES = [
    "task=duel-v1",
    "num_worlds=16",
    "rollout_steps=32",
    "minibatch_size=128",
    "total_steps=3072",  # 6 updates
    "checkpoint_every=2",
    "hidden_sizes=[32, 32]",
    "torch_threads=1",
    "engine_threads=1",
]


def duel_config(overrides: list[str]) -> aip_ml.TrainConfig:
    """duel-v1 on chase-v1's small shipped hyperparameters, without duel-v1's pools unless asked.

    chase-v1's checks of its skill target are switched off: duel-v1 has no skill target.
    """
    return aip_ml.load_config(path=aip_ml.config_path("chase-v1"), overrides=["target_every_steps=0", *overrides])


class StopAfter(aip_ml.CallbackBase):
    """Stops training (by raising) right after the given checkpoint, like a crash."""

    def __init__(self, checkpoints: int) -> None:
        self.left = checkpoints

    def on_checkpoint(self, path: Path) -> None:
        self.left -= 1
        if self.left == 0:
            raise RuntimeError("stop here")


class Recorder(aip_ml.CallbackBase):
    def __init__(self) -> None:
        self.metrics: list[dict[str, float]] = []

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        self.metrics.append(metrics)


def test_both_roles_learn_and_export(tmp_path: Path) -> None:
    config = duel_config(OVERRIDES)
    recorder = Recorder()
    result = aip_ml.train(config, run_dir=tmp_path / "run", callbacks=[recorder])
    assert result.updates == 6
    assert result.evaluation is None
    assert set(result.policy_paths) == {"player", "enemy"}
    for role, path in result.policy_paths.items():
        policy = aip_engine.load_policy(path, role=role)
        assert policy.layout == aip_engine.role_layout(role)
    assert result.policy_path == result.policy_paths["player"]
    metrics = recorder.metrics[-1]
    for key in ("player/loss/policy", "enemy/loss/policy", "player/episodes", "enemy/std_mean", "success_rate"):
        assert key in metrics
    ckpt = aip_ml.load_checkpoint(result.checkpoint)
    assert set(ckpt.policies) == {"player", "enemy"}
    with pytest.raises(aip_ml.CheckpointError, match=r"use \.policies"):
        _ = ckpt.policy
    with pytest.raises(aip_ml.CheckpointError, match="pass role="):
        aip_ml.export_policy(result.checkpoint, tmp_path / "p.aipp")


def test_selfplay_resumes_exactly(tmp_path: Path) -> None:
    config = duel_config(OVERRIDES)
    aip_ml.train(config, run_dir=tmp_path / "full")
    with pytest.raises(RuntimeError, match="stop here"):
        aip_ml.train(config, run_dir=tmp_path / "cut", callbacks=[StopAfter(2)])
    assert aip_ml.load_checkpoint(tmp_path / "cut" / "checkpoints" / "latest.ckpt").update == 4
    aip_ml.train(config, run_dir=tmp_path / "cut", resume=True)
    a = aip_ml.load_checkpoint(tmp_path / "full" / "checkpoints" / "final.ckpt").state["learners"]
    b = aip_ml.load_checkpoint(tmp_path / "cut" / "checkpoints" / "final.ckpt").state["learners"]
    for role in ("player", "enemy"):
        for key, value in a[role]["model"].items():
            assert torch.equal(value, b[role]["model"][key]), (role, key)


def test_selfplay_refuses_single_agent_only_options(tmp_path: Path) -> None:
    config = duel_config([*OVERRIDES, "imitate_bot=dodge"])
    with pytest.raises(aip_ml.ConfigError, match="several roles"):
        aip_ml.train(config, run_dir=tmp_path / "run")


POOL = [
    *OVERRIDES,
    "selfplay_snapshot_every=1",
    "selfplay_window=2",
    "selfplay_latest_ratio=0.3",
    "selfplay_bots=kite,chase",
]


def test_the_pool_keeps_a_window_of_snapshots_and_puts_bots_in_worlds_by_driver() -> None:
    from aip_ml._train import make_worlds
    from aip_ml.selfplay import SelfPlay

    config = duel_config(POOL)
    worlds = make_worlds("duel-v1", config.num_worlds, seed=0, threads=1)
    selfplay = SelfPlay(config, worlds)
    selfplay.reseed(1)
    for _ in range(3):
        selfplay.update()
    enemy_pool = selfplay.pools["player"]  # the player's opponents: enemies
    assert [s.uid for s in enemy_pool.snapshots] == [2, 3]  # window 2 of the snapshots at updates 1, 2, 3
    assert enemy_pool.role == "enemy" and enemy_pool.bots == ("chase",)
    # Worlds of the player's half facing the bot have it as their enemy driver for this episode.
    half = config.num_worlds // 2
    drivers = worlds.state()["enemy_driver_episode"][:half]
    facing_bot = enemy_pool.current == -2 - aip_engine.bots("enemy").index("chase")
    np.testing.assert_array_equal(drivers != 0, facing_bot)
    assert (worlds.state()["player_driver_episode"][:half] == 0).all()  # the learner plays itself


def test_latest_only_never_draws_a_past_opponent() -> None:
    from aip_ml.selfplay._pool import LATEST, OpponentPool

    pool = OpponentPool("enemy", 50, window=3, latest_ratio=1.0, bots=("chase",), seed=0)
    assert (pool.draw(1000) == LATEST).all()
    mixed = OpponentPool("enemy", 50, window=3, latest_ratio=0.5, bots=("chase", "dodge"), seed=0)
    codes = mixed.draw(4000)
    assert abs((codes == LATEST).mean() - 0.5) < 0.05
    assert set(np.unique(codes).tolist()) == {LATEST, -2, -4}  # chase is bot 0, dodge bot 2


def test_a_pool_run_with_bots_and_ratings_resumes_exactly(tmp_path: Path) -> None:
    overrides = [*POOL, "selfplay_rating_every=2", "selfplay_rating_episodes=2"]
    config = duel_config(overrides)
    recorder = Recorder()
    aip_ml.train(config, run_dir=tmp_path / "full", callbacks=[recorder])
    assert "player/rating_mu" in recorder.metrics[1] and "enemy/win_rate_vs_bots" in recorder.metrics[1]
    with pytest.raises(RuntimeError, match="stop here"):
        aip_ml.train(config, run_dir=tmp_path / "cut", callbacks=[StopAfter(2)])
    aip_ml.train(config, run_dir=tmp_path / "cut", resume=True)
    a = aip_ml.load_checkpoint(tmp_path / "full" / "checkpoints" / "final.ckpt").state
    b = aip_ml.load_checkpoint(tmp_path / "cut" / "checkpoints" / "final.ckpt").state
    for role in ("player", "enemy"):
        for key, value in a["learners"][role]["model"].items():
            assert torch.equal(value, b["learners"][role]["model"][key]), (role, key)
        assert a["pools"][role]["current"] == b["pools"][role]["current"]
    assert a["probe"]["table"] == b["probe"]["table"]


def test_roles_take_turns_when_asked() -> None:
    from aip_ml._train import make_worlds
    from aip_ml.selfplay import SelfPlay

    config = duel_config([*POOL, "selfplay_swap_every=2", "minibatch_size=256"])
    selfplay = SelfPlay(config, make_worlds("duel-v1", config.num_worlds, seed=0, threads=1))
    selfplay.reseed(1)
    learned = []
    for _ in range(4):
        metrics = selfplay.update()
        learned.append(sorted(r for r in ("player", "enemy") if f"{r}/loss/policy" in metrics))
    assert learned == [["player"], ["player"], ["enemy"], ["enemy"]]


def test_an_unknown_pool_bot_is_refused_with_the_bots_named(tmp_path: Path) -> None:
    config = duel_config([*OVERRIDES, "selfplay_bots=kite,chaser"])
    with pytest.raises(aip_ml.ConfigError, match="'chaser' is not a bot of player, enemy; bots: chase"):
        aip_ml.train(config, run_dir=tmp_path / "run")


def _imitation_error(run_dir: Path, imitate: str) -> float:
    """Mean squared difference between a trained enemy's actions and the dodge bot's on fresh demonstrations."""
    from aip_ml.selfplay._imitate import duel_demonstrations

    config = duel_config(
        [
            *OVERRIDES,
            "total_steps=512",
            f"selfplay_imitate={imitate}",
            "imitate_samples=30000",
            "imitate_epochs=4",
            "critic_warmup_updates=10",
            "selfplay_bots=kite,flee,wander",
        ]
    )
    result = aip_ml.train(config, run_dir=run_dir)
    policy = aip_engine.load_policy(result.policy_paths["enemy"], role="enemy")
    demos = duel_demonstrations("duel-v1", "enemy", "dodge", ("kite", "flee", "wander"), 4000, num_worlds=16, seed=99)
    return float(np.mean((policy.act(demos.observations) - demos.actions) ** 2))


def test_selfplay_imitate_clones_the_named_learner_from_its_bot(tmp_path: Path) -> None:
    cloned = _imitation_error(tmp_path / "cloned", "enemy:dodge")
    fresh = _imitation_error(tmp_path / "fresh", "")
    assert cloned < 0.7 * fresh, (cloned, fresh)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("boss:dodge", "'boss:dodge' is not ROLE:BOT with ROLE one of player, enemy"),
        ("dodge", "'dodge' is not ROLE:BOT"),
        ("enemy:kite", "not an enemy bot to clone"),
        ("enemy:dodge,enemy:chase", "the enemy is named twice"),
    ],
)
def test_a_bad_selfplay_imitate_is_refused_naming_what_is_wrong(tmp_path: Path, value: str, message: str) -> None:
    config = duel_config([*OVERRIDES, f"selfplay_imitate={value}"])
    with pytest.raises(aip_ml.ConfigError, match=message):
        aip_ml.train(config, run_dir=tmp_path / "run")
