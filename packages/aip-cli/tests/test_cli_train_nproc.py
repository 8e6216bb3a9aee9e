"""``aip train --nproc 2``: two ranks under a real torchrun, rank 0 tracking in MLflow and registering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aip_cli import ExitCode, app

pytestmark = [pytest.mark.slow, pytest.mark.server]


def test_two_ranks_train_track_and_register(workdir: Path, tiny: list[str]) -> None:
    runner = CliRunner()
    overrides = [o for o in tiny if not o.startswith("total_steps")] + ["total_steps=1024"]
    result = runner.invoke(app, ["train", "chase-v1", "--nproc", "2", "--run-dir", "ddp", "--json", *overrides])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # 2 ranks x 8 worlds x 32 steps = 512 samples per update: 1024 steps are 2 updates.
    assert summary["world_size"] == 2 and summary["updates"] == 2 and summary["global_step"] == 1024
    assert [v["reference"] for v in summary["registered"]] == ["chase-v1-enemy/1"]
    assert summary["play_command"] == "aip play --opponent chase-v1-enemy/1"
    assert (workdir / "ddp" / "policy.aipp").is_file() and (workdir / "mlflow.db").is_file()
    import aip_ml

    assert aip_ml.load_checkpoint(workdir / "ddp" / "checkpoints" / "final.ckpt").state["world_size"] == 2


def test_what_distributed_training_does_not_run_is_refused(workdir: Path, tiny: list[str]) -> None:
    result = CliRunner().invoke(app, ["train", "chase-v1", "--nproc", "2", "--no-track", *tiny, "imitate_bot=chase"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "runs plain PPO for now" in result.output
