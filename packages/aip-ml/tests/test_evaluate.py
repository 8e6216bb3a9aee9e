"""Evaluation: the policy beside every reference bot on the same seeds, and the report."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import aip_engine
import aip_ml


class ChaseFromObservations:
    """A hand-written enemy policy: straight at the player, read from the enemy-v1 observation."""

    layout = aip_engine.role_layout("enemy")

    def act(self, obs: np.ndarray) -> np.ndarray:
        d = obs[:, 4:6].astype(np.float64) * np.array([640.0, 360.0])  # shortest displacement in px
        n = np.linalg.norm(d, axis=1, keepdims=True)
        out: np.ndarray = (d / np.maximum(n, 1e-9)).astype(np.float32)
        return out


def test_report_measures_the_reference_bots_on_the_same_seeds() -> None:
    report = aip_ml.evaluate(ChaseFromObservations(), "chase-v1", episodes=48, seed=7)
    assert report.task == "chase-v1"
    assert report.role == "enemy"
    assert set(report.bots) == {"chase", "intercept"}
    chase = report.bots["chase"]
    # The hand-written policy is the chase bot computed from float32 observations: same seeds give
    # (almost) the same episodes.
    assert abs(report.agent.success_rate - chase.success_rate) <= 2 / 48
    assert report.agent.mean_frames_to_success == pytest.approx(chase.mean_frames_to_success, rel=0.05)
    assert report.best in {"agent", "chase", "intercept"}
    for r in (report.agent, *report.bots.values()):
        assert r.episodes == 48
        assert 0 <= r.success_rate <= 1
    data = json.loads(json.dumps(report.to_dict()))
    assert data["best"] == report.best
    assert data["bots"]["intercept"]["episodes"] == 48
    again = aip_ml.evaluate(ChaseFromObservations(), "chase-v1", episodes=48, seed=7, bots=False)
    assert again.agent == report.agent
    assert again.bots == {}


def test_best_is_highest_success_then_fewest_frames() -> None:
    nan = math.nan
    r = aip_ml.EvalResult
    report = aip_ml.EvalReport(
        task="chase-v1",
        role="enemy",
        episodes=10,
        seed=0,
        agent=r("agent", 10, 0.9, 100.0, 5.0, 120.0),
        bots={"chase": r("chase", 10, 0.9, 90.0, 5.0, 100.0), "idle": r("idle", 10, 0.0, nan, 0.0, 600.0)},
    )
    assert report.best == "chase"
    assert report.to_dict()["bots"]["idle"]["mean_frames_to_success"] is None


def test_evaluate_reads_policy_files_and_rejects_the_wrong_role(tmp_path: Path) -> None:
    from aip_engine._policy import save_policy

    lay = aip_engine.role_layout("missile")
    path = save_policy(
        tmp_path / "m.aipp",
        layout_name=lay.name,
        weights=[np.zeros((lay.act_size, lay.obs_size), np.float32)],
        biases=[np.zeros(lay.act_size, np.float32)],
        activation="tanh",
        obs_mean=np.zeros(lay.obs_size),
        obs_var=np.ones(lay.obs_size),
    )
    # A zero-turn missile flies straight: the same as the `straight` guidance bot on the same seeds.
    report = aip_ml.evaluate(path, "intercept-v1", episodes=32, seed=3)
    assert report.agent.success_rate == report.bots["straight"].success_rate
    assert report.agent.mean_return == pytest.approx(report.bots["straight"].mean_return, rel=1e-5)
    with pytest.raises(aip_engine.EngineError, match="'missile' policy"):
        aip_ml.evaluate(path, "chase-v1", episodes=4)
    with pytest.raises(aip_ml.ConfigError, match="exactly one learning role"):
        aip_ml.evaluate(path, "duel-v1", episodes=4)
