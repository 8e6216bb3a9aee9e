"""Skill targets: the conditions, the first-met-and-kept rule, and the checks during training."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import aip_ml
from aip_ml import EvalResult, SkillTarget, TargetCheck, TimeToTarget

NAN = float("nan")


def _result(success: float, frames: float) -> EvalResult:
    return EvalResult("agent", 100, success, frames, 0.0, frames)


def test_every_benchmark_task_with_a_learning_role_has_a_target_whose_bot_exists() -> None:
    import aip_engine

    targets = aip_ml.skill_targets()
    assert {"chase-v1", "chase-flee-v1", "dodge-v1", "intercept-v1", "survive-v1"} <= set(targets)
    for task, target in targets.items():
        spec = aip_engine.task_spec(task)
        assert target.bot in spec.reference_bots[spec.agents[0]]
    assert aip_ml.skill_target("duel-v1") is None


def test_frames_ratio_and_beat_bot_conditions() -> None:
    chase = SkillTarget("chase-v1", 0.95, bot="chase", frames_ratio=0.8)
    bot = _result(0.97, 160.0)
    assert chase.met(_result(0.96, 128.0), bot)
    assert not chase.met(_result(0.96, 129.0), bot)  # too slow
    assert not chase.met(_result(0.94, 100.0), bot)  # too few catches
    assert not chase.met(_result(0.0, NAN), bot)
    homing = SkillTarget("intercept-v1", 0.9, bot="homing", beat_bot=True)
    perfect = _result(1.0, 124.5)
    assert homing.met(_result(1.0, 120.0), perfect)  # equal success, fewer frames
    assert not homing.met(_result(1.0, 124.5), perfect)
    assert not homing.met(_result(0.99, 50.0), perfect)
    assert "0.8 x bot 'chase'" in chase.describe()


def test_time_to_target_is_the_first_check_of_the_final_run_of_met_checks() -> None:
    record = TimeToTarget("chase-v1", "t", 10)
    assert record.steps is None and not record.reached
    for step, met in [(1, False), (2, True), (3, False), (4, True), (5, True)]:
        record.checks.append(TargetCheck(step * 100, step * 1.5, 0.5, 10.0, met))
    assert record.steps == 400 and record.seconds == 6.0 and record.reached
    record.checks.append(TargetCheck(600, 9.0, 0.5, NAN, False))
    assert record.steps is None and "not reached" in record.describe()
    again = TimeToTarget.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again.checks[:5] == record.checks[:5]
    assert math.isnan(again.checks[5].mean_frames_to_success)


def test_config_refuses_target_checks_on_a_task_without_target() -> None:
    with pytest.raises(aip_ml.ConfigError, match=r"target_every_steps.*no skill target"):
        aip_ml.load_config("duel-v1", overrides=["target_every_steps=1000"])
    with pytest.raises(aip_ml.ConfigError, match="target_episodes"):
        aip_ml.load_config("chase-v1", overrides=["target_episodes=0"])


def test_training_checks_the_target_on_schedule_and_resumes_its_record(tmp_path: Path) -> None:
    overrides = [
        "num_worlds=16",
        "rollout_steps=32",
        "minibatch_size=128",
        "total_steps=3072",  # 6 updates of 512 steps
        "checkpoint_every=2",
        "eval_episodes=0",
        "hidden_sizes=[16]",
        "target_every_steps=1000",
        "target_episodes=8",
    ]
    config = aip_ml.load_config("chase-v1", overrides=overrides)
    result = aip_ml.train(config.replace(total_steps=2048), run_dir=tmp_path / "r")
    record = result.time_to_target
    assert record is not None
    assert [c.step for c in record.checks] == [1024, 2048]  # crossing 1000 and 2000
    assert record.bot_success_rate > 0.5  # the chase bot on the same episodes
    assert all(0 < c.train_seconds <= result.wall_seconds for c in record.checks)
    saved = json.loads((tmp_path / "r" / "target.json").read_text())
    assert saved["checks"][1]["step"] == 2048
    resumed = aip_ml.train(config, run_dir=tmp_path / "r", resume=True)
    assert resumed.time_to_target is not None
    assert [c.step for c in resumed.time_to_target.checks] == [1024, 2048, 3072]
    assert resumed.to_dict()["time_to_target"]["checks"][2]["step"] == 3072
