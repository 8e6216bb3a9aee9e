"""Training configs: shipped files, overrides with type checks, and errors that name the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

import aip_ml
from aip_ml import ConfigError, TrainConfig, load_config


def test_every_benchmark_single_agent_task_has_a_valid_shipped_config() -> None:
    assert set(aip_ml.config_tasks()) >= {"chase-v1", "chase-flee-v1", "dodge-v1", "intercept-v1"}
    for task in aip_ml.config_tasks():
        config = load_config(task)
        assert config.task == task
        assert aip_ml.config_path(task).is_file()


def test_overrides_are_parsed_and_typed() -> None:
    config = load_config(
        "chase-v1",
        overrides=[
            "learning_rate=1e-3",
            "num_worlds=32",
            "rollout_steps=16",
            "minibatch_size=128",
            "hidden_sizes=[32, 16]",
            "obs_norm=false",
            "activation=relu",
            "gamma=1",
        ],
    )
    assert config.learning_rate == 1e-3
    assert config.num_worlds == 32
    assert config.hidden_sizes == (32, 16)
    assert config.obs_norm is False
    assert config.activation == "relu"
    assert isinstance(config.gamma, float)
    assert load_config("chase-v1", overrides=["hidden_sizes=8,8"]).hidden_sizes == (8, 8)


def test_unknown_key_suggests_the_nearest() -> None:
    with pytest.raises(ConfigError, match="unknown config key 'learning_rat'; did you mean 'learning_rate'"):
        load_config("chase-v1", overrides=["learning_rat=1e-3"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("num_worlds=1.5", "'num_worlds': expected an integer, got 1.5"),
        ("obs_norm=yes", "'obs_norm': expected true or false"),
        ("learning_rate=fast", "'learning_rate': expected a number, got 'fast'"),
        ("gamma=1.5", "'gamma' = 1.5: must be between 0 and 1"),
        ("minibatch_size=1000", "must divide num_worlds \\* rollout_steps"),
        ("activation=sigmoid", "must be one of tanh, relu, elu, silu"),
        ("task=chase-v2", "names another task than 'chase-v1'; give the task once"),
        ("task=dodge-v1", "names another task than 'chase-v1'"),
        ("learning_rate=inf", "'learning_rate': expected a finite number, got inf"),
        ("learning_rate=nan", "'learning_rate': expected a finite number, got nan"),
        ("gamma=-inf", "'gamma': expected a finite number"),
        ("ent_coef=1" + "0" * 400, "'ent_coef': expected a finite number"),
        ("hidden_sizes=" + "[" * 5000 + "]" * 5000, "nested too deeply"),
        ("lr_schedule=cosine", "'lr_schedule'.*constant, linear"),
        ("learning_rate", "not key=value"),
    ],
)
def test_bad_values_name_the_key_and_the_rule(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config("chase-v1", overrides=[override])


def test_unknown_task_config_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="did you mean 'dodge-v1'"):
        load_config("dodge-v2")
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(path=tmp_path / "missing.toml")


def test_file_round_trip_and_task_mismatch(tmp_path: Path) -> None:
    config = load_config("intercept-v1", overrides=["seed=5", "hidden_sizes=[16]"])
    path = tmp_path / "c.toml"
    path.write_text(config.to_toml())
    assert load_config(path=path) == config
    with pytest.raises(ConfigError, match="is for task 'intercept-v1', not 'chase-v1'"):
        load_config("chase-v1", path=path)
    path.write_text('task = "chase-v1"\nlearningrate = 0.1\n')
    with pytest.raises(ConfigError, match="did you mean 'learning_rate'"):
        load_config(path=path)
    path.write_text("task = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path=path)


def test_replace_validates_and_field_help_covers_every_field() -> None:
    config = TrainConfig()
    assert config.replace(seed=3).seed == 3
    with pytest.raises(ConfigError, match="did you mean 'seed'"):
        config.replace(sed=3)
    help_text = TrainConfig.field_help()
    assert set(help_text) == set(config.to_dict())
    assert all(help_text.values())
    assert config.batch_size == config.num_worlds * config.rollout_steps
