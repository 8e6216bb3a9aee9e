"""The [curriculum] section: validated lessons, per-world sampling, lesson changes, exact resume, old keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import aip_engine
import aip_ml
from aip_engine._deprecation import AIPDeprecationWarning
from aip_ml._plugins import PluginContext
from aip_ml.curriculum import Curriculum

SMALL = [
    "num_worlds=16",
    "rollout_steps=32",
    "minibatch_size=128",
    "total_steps=4096",  # 8 updates
    "checkpoint_every=2",
    "eval_episodes=0",
    "hidden_sizes=[16, 16]",
    "torch_threads=1",
    "engine_threads=1",
]

LESSONS: dict[str, Any] = {
    "lessons": [
        {"name": "slow", "params": {"player_speed": 2.0}, "until": {"min_updates": 3}},
        {
            "name": "mixed",
            "params": {"player_bot": {"choice": ["wander", "flee"]}, "player_speed": {"uniform": [3.0, 4.0]}},
            "until": {"measure": "progress", "threshold": 0.75},
        },
        {"name": "the task"},
    ]
}


def _config(section: Any = LESSONS, task: str = "chase-v1", extra: tuple[str, ...] = ()) -> aip_ml.TrainConfig:
    return aip_ml.load_config(task, overrides=[*SMALL, *extra]).replace(curriculum=section)


@pytest.mark.parametrize(
    ("lesson", "message"),
    [
        ({"params": {"player_sped": 2.0}}, "not a per-world task parameter; did you mean 'player_speed'"),
        ({"params": {"player_speed": 2000.0}}, r"player_speed = 2000 is out of range: allowed range is \[0, 1000\]"),
        ({"params": {"max_missiles": 1.5}}, "max_missiles is a whole number"),
        ({"params": {"player_bot": "fle"}}, "not a player bot; did you mean 'flee'"),
        ({"params": {"player_bot": {"uniform": [0, 2]}}}, "sample it with choice"),
        ({"params": {"player_speed": {"uniform": [4.0, 3.0]}}}, "low must not exceed high"),
        ({"params": {"player_speed": {"gaussian": [4.0, 3.0]}}}, "give exactly one of uniform"),
        ({"until": {"measure": "sucess_rate", "threshold": 0.5}}, "did you mean 'success_rate'"),
        ({"until": {"measure": "success_rate", "threshold": 1.5}}, "lies between 0 and 1"),
        ({"until": {"treshold": 0.5}}, "did you mean 'threshold'"),
        ({"colour": "red"}, "has no key 'colour'"),
    ],
)
def test_bad_lessons_are_refused_with_the_reason(lesson: dict[str, Any], message: str) -> None:
    first = {"name": "first", "until": {"min_updates": 1}, **lesson}
    with pytest.raises(aip_ml.ConfigError, match=message):
        _config({"lessons": [first, {"name": "last"}]})


def test_lessons_out_of_order_are_refused() -> None:
    with pytest.raises(aip_ml.ConfigError, match=r"no completion criteria .* could never start"):
        _config({"lessons": [{"name": "a"}, {"name": "b"}]})
    with pytest.raises(aip_ml.ConfigError, match="lessons out of order"):
        _config(
            {
                "lessons": [
                    {"name": "a", "until": {"measure": "progress", "threshold": 0.5}},
                    {"name": "b", "until": {"measure": "progress", "threshold": 0.3}},
                    {"name": "c"},
                ]
            }
        )
    with pytest.raises(aip_ml.ConfigError, match="same name"):
        _config({"lessons": [{"name": "a", "until": {"min_updates": 1}}, {"name": "a"}]})


def test_the_section_round_trips_through_toml(tmp_path: Path) -> None:
    config = _config()
    path = tmp_path / "c.toml"
    path.write_text(config.to_toml())
    assert aip_ml.load_config(path=path) == config
    (tmp_path / "only.toml").write_text(
        "[curriculum]\nlessons = [{ name = 'x', params = { fire_probability = 0.0 } }]\n"
    )
    overridden = aip_ml.load_config("chase-v1", overrides=[f"curriculum={tmp_path / 'only.toml'}"])
    assert overridden.curriculum == {"lessons": [{"name": "x", "params": {"fire_probability": 0.0}}]}
    assert aip_ml.load_config(path=path, overrides=["curriculum=none"]).curriculum is None


def test_lessons_set_parameters_and_sample_per_world_and_episode() -> None:
    config = _config()
    worlds = aip_engine.Worlds("chase-v1", 64, seed=0, threads=1)
    cur = Curriculum(config.curriculum or {}, "chase-v1", seed=1, total_updates=8)
    cur.setup(PluginContext(config, worlds, Path("."), "enemy", False))
    cur.before_update(0)
    assert np.all(worlds.params["player_speed"] == 2.0)
    for u in range(3):
        out = cur.after_update(u + 1, {"progress": (u + 1) / 8})
        assert out["curriculum/lesson"] == 1.0
    assert out["curriculum/completed"] == 1.0 and cur.lesson == 1
    cur.before_update(3)
    speeds = worlds.params["player_speed"].copy()
    bots = set(worlds.params["player_bot"].tolist())
    assert speeds.min() >= 3.0 and speeds.max() <= 4.0 and len(np.unique(speeds)) > 10
    assert bots == {aip_engine.bots("player").index("wander"), aip_engine.bots("player").index("flee")}
    # A world whose episode ends draws again; the others keep their values.
    done = np.zeros(64, bool)
    done[5] = True

    class Result:
        terminated = done
        truncated = np.zeros(64, bool)

    cur.on_step(None, None, Result())
    changed = worlds.params["player_speed"] != speeds
    assert changed[5] and not changed[np.arange(64) != 5].any()
    out = cur.after_update(4, {"progress": 0.5})
    assert out["curriculum/lesson"] == 2.0 and cur.lesson == 1
    out = cur.after_update(6, {"progress": 0.75})
    assert cur.lesson == 2
    cur.before_update(6)
    task = aip_engine.Worlds("chase-v1", 1, seed=0).params
    assert np.all(worlds.params["player_speed"] == task["player_speed"][0])
    assert np.all(worlds.params["player_bot"] == task["player_bot"][0])


class Recorder(aip_ml.CallbackBase):
    def __init__(self, stop_after_checkpoints: int = 0) -> None:
        self.metrics: list[dict[str, float]] = []
        self.stop = stop_after_checkpoints
        self.checkpoints = 0

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        self.metrics.append(dict(metrics))

    def on_checkpoint(self, path: Path) -> None:
        self.checkpoints += 1
        if self.stop and self.checkpoints == self.stop:
            raise RuntimeError("stop here")


def test_training_moves_through_lessons_and_resumes_in_the_same_lesson(tmp_path: Path) -> None:
    config = _config()
    whole = Recorder()
    aip_ml.train(config, run_dir=tmp_path / "whole", callbacks=[whole])
    lessons = [m["curriculum/lesson"] for m in whole.metrics]
    assert lessons == [1, 1, 1, 2, 2, 2, 3, 3]
    assert [m["curriculum/player_speed"] for m in whole.metrics][:3] == [2.0, 2.0, 2.0]
    with pytest.raises(RuntimeError, match="stop here"):
        aip_ml.train(config, run_dir=tmp_path / "cut", callbacks=[Recorder(stop_after_checkpoints=2)])
    state = aip_ml.load_checkpoint(tmp_path / "cut" / "checkpoints" / "latest.ckpt").state["plugins"]["curriculum"]
    assert state["lesson"] == 1 and state["updates_in_lesson"] == 1
    resumed = Recorder()
    aip_ml.train(config, run_dir=tmp_path / "cut", callbacks=[resumed], resume=True)
    assert [m["curriculum/lesson"] for m in resumed.metrics] == lessons[4:]
    assert [m["curriculum/player_speed"] for m in resumed.metrics] == [
        m["curriculum/player_speed"] for m in whole.metrics[4:]
    ]
    a = aip_ml.load_checkpoint(tmp_path / "whole" / "checkpoints" / "final.ckpt").state["model"]
    b = aip_ml.load_checkpoint(tmp_path / "cut" / "checkpoints" / "final.ckpt").state["model"]
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_the_old_ramp_keys_still_work_with_a_deprecation_warning(tmp_path: Path) -> None:
    old = [
        "curriculum_param=fire_probability",
        "curriculum_start=0.0",
        "curriculum_begin=0.2",
        "curriculum_fraction=0.6",
        "total_steps=5120",  # 10 updates
    ]
    with pytest.warns(AIPDeprecationWarning, match="deprecated since 0.2.0 and will be removed in 0.4.0"):
        config = aip_ml.load_config("dodge-v1", overrides=[*SMALL, "imitate_bot=", *old])
    assert config.curriculum_param == "" and config.curriculum is not None
    seen = Recorder()
    aip_ml.train(config, run_dir=tmp_path / "run", callbacks=[seen])
    # The value a lesson sets for update u is in place while update u collects; the metric reports it.
    values = [m["curriculum_value"] for m in seen.metrics]
    assert values[:3] == [0.0, 0.0, 0.0]
    assert values[3] == pytest.approx(0.05 * 1 / 4)
    assert values[6:] == [pytest.approx(0.05)] * 4
    with (
        pytest.warns(AIPDeprecationWarning),
        pytest.raises(aip_ml.ConfigError, match="did you mean 'fire_probability'"),
    ):
        aip_ml.load_config("dodge-v1", overrides=[*SMALL, "curriculum_param=fire_prob"])
