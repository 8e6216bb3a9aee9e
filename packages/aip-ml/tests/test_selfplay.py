"""Self-play on duel-v1: both roles learn in one batch, checkpoints resume exactly, each role exports."""

from __future__ import annotations

from pathlib import Path

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
    config = aip_ml.load_config("chase-v1", overrides=OVERRIDES)
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
    config = aip_ml.load_config("chase-v1", overrides=OVERRIDES)
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
    config = aip_ml.load_config("chase-v1", overrides=[*OVERRIDES, "imitate_bot=dodge"])
    with pytest.raises(aip_ml.ConfigError, match="several roles"):
        aip_ml.train(config, run_dir=tmp_path / "run")
