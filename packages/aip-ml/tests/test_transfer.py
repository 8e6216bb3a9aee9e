"""Transfer: init_from a checkpoint, a run folder, a policy file or a registered model; freezing; lineage."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import aip_ml

SMALL = [
    "num_worlds=16",
    "rollout_steps=32",
    "minibatch_size=128",
    "total_steps=1024",  # 2 updates
    "checkpoint_every=1",
    "eval_episodes=0",
    "hidden_sizes=[16, 16]",
    "torch_threads=1",
    "engine_threads=1",
]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("source") / "run"
    aip_ml.train(aip_ml.load_config("chase-v1", overrides=SMALL), run_dir=run)
    return run


class First(aip_ml.CallbackBase):
    """Keeps the weights of the first checkpoint."""

    def __init__(self) -> None:
        self.metrics: list[dict[str, float]] = []

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        self.metrics.append(metrics)


def _actor(path: Path) -> dict[str, torch.Tensor]:
    state = aip_ml.load_checkpoint(path).state["model"]
    return {k: v for k, v in state.items() if k.startswith("actor")}


@pytest.mark.parametrize("what", ["checkpoint", "folder", "policy"])
def test_init_from_loads_weights_and_records_lineage(source: Path, tmp_path: Path, what: str) -> None:
    target = {
        "checkpoint": source / "checkpoints" / "final.ckpt",
        "folder": source,
        "policy": source / "policy.aipp",
    }[what]
    config = aip_ml.load_config(
        "chase-flee-v1",
        overrides=[*SMALL, f"init_from={target}", "imitate_bot=", "init_freeze=1", "critic_warmup_updates=0"],
    )
    seen = First()
    result = aip_ml.train(config, run_dir=tmp_path / "run", callbacks=[seen])
    assert seen.metrics[0]["transfer/parameters_loaded"] == (6 if what == "policy" else 12)
    assert result.lineage["init_from"] == str(target)
    before, after = _actor(source / "checkpoints" / "final.ckpt"), _actor(result.checkpoint)
    # The first hidden layer was frozen: it is still the source's after training.
    assert torch.equal(before["actor.0.weight"], after["actor.0.weight"])
    assert not torch.equal(before["actor.2.weight"], after["actor.2.weight"])
    assert (tmp_path / "run" / "lineage.json").is_file()


def test_a_layout_mismatch_names_both_layouts(source: Path, tmp_path: Path) -> None:
    config = aip_ml.load_config("intercept-v1", overrides=[*SMALL, f"init_from={source}"])
    with pytest.raises(
        aip_ml.ConfigError, match=r"layout enemy-v1 \(version 1\); this run trains missile-v1 \(version 1\)"
    ):
        aip_ml.train(config, run_dir=tmp_path / "run")
    config = aip_ml.load_config("chase-v1", overrides=[*SMALL, f"init_from={source}", "hidden_sizes=[32, 32]"])
    with pytest.raises(aip_ml.ConfigError, match=r"its network is \[16, 16\]"):
        aip_ml.train(config, run_dir=tmp_path / "run2")
    with pytest.raises(aip_ml.ConfigError, match="no such file or folder, and not a model reference"):
        aip_ml.train(
            aip_ml.load_config("chase-v1", overrides=[*SMALL, "init_from=nowhere/run.ckpt"]), run_dir=tmp_path / "r3"
        )


def test_init_from_a_registered_model_and_lower_learning_rate(source: Path, tmp_path: Path) -> None:
    from aip_ml.tracking import MlflowCallback

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracking = MlflowCallback(uri)
    aip_ml.train(aip_ml.load_config("chase-v1", overrides=SMALL), run_dir=tmp_path / "first", callbacks=[tracking])
    ref = tracking.registered[0].reference
    config = aip_ml.load_config(
        "chase-flee-v1", overrides=[*SMALL, f"init_from={ref}", "imitate_bot=", "init_lr_scale=0.1"]
    )
    second = MlflowCallback(uri)
    result = aip_ml.train(config, run_dir=tmp_path / "second", callbacks=[second], tracking_uri=uri)
    assert result.lineage["init_from.model"] == ref
    info = second.registered[0]
    assert info.tags["aip.init_from.model"] == ref
    run = second.tracker.client.get_run(second.run_id or "") if second.tracker else None
    assert run is None or run.data.tags.get("aip.init_from.model") == ref
    # The resumed learner keeps two parameter groups: the loaded layers at a tenth of the rate.
    ckpt = aip_ml.load_checkpoint(result.checkpoint)
    groups = ckpt.state["optimizer"]["param_groups"]
    assert sorted(g["lr_scale"] for g in groups) == [0.1, 1.0]
