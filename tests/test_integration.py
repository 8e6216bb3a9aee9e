"""Across the packages: a policy trained by aip-ml runs in the engine and in the game, without torch there.

The path a user takes (train → export → play) crosses three distributions; each package tests its own
part, and this file tests that the parts fit: the exported file acts exactly like the trained network,
the engine runs it through whole episodes, and the game plays against it in a process that never
imports torch.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import aip_engine as ae

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Trained:
    policy: Path
    checkpoint: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    import aip_ml

    config = aip_ml.load_config(
        "chase-v1",
        overrides=["num_worlds=16", "rollout_steps=32", "minibatch_size=128", "total_steps=1024", "eval_episodes=0"],
    )
    result = aip_ml.train(config, run_dir=tmp_path_factory.mktemp("integration") / "run")
    assert not result.interrupted
    assert result.policy_path is not None
    assert result.policy_path.is_file()
    return Trained(policy=result.policy_path, checkpoint=result.checkpoint)


def test_exported_policy_acts_like_the_trained_network(trained: Trained) -> None:
    import aip_ml

    portable = ae.load_policy(trained.policy)
    network = aip_ml.load_checkpoint(trained.checkpoint).policy
    worlds = ae.Worlds("chase-v1", 32, seed=7)
    obs = worlds.reset()
    for _ in range(50):
        expected = network.act(obs)
        got = portable.act(obs)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
        obs = worlds.step(got).obs
    assert portable.layout == ae.role_layout("enemy")


def test_engine_runs_the_policy_through_whole_episodes(trained: Trained) -> None:
    policy = ae.load_policy(trained.policy)
    worlds = ae.Worlds("chase-v1", 64, seed=3)
    obs = worlds.reset()
    finished = 0
    for _ in range(ae.task_spec("chase-v1").time_limit + 1):
        result = worlds.step(policy.act(obs))
        obs = result.obs
        assert np.isfinite(obs).all()
        finished += int((result.terminated | result.truncated).sum())
    assert finished >= 64, "every world ends an episode within the time limit"


def test_game_plays_against_the_policy_without_importing_torch(trained: Trained, tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os, sys
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        os.environ["SDL_AUDIODRIVER"] = "dummy"
        os.environ["AIP_GAME_HOME"] = {str(tmp_path / "game-home")!r}
        import aip_game
        status = aip_game.main(
            ["--headless", "--opponent", {str(trained.policy)!r}, "--side", "player", "--frames", "180", "--fps", "0"]
        )
        loaded = sorted(m for m in ("torch", "mlflow", "aip_ml") if m in sys.modules)
        print("LOADED", loaded)
        sys.exit(status)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOADED []" in result.stdout, result.stdout[-2000:]
