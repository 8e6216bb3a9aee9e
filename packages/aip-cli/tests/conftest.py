"""Fixtures of the aip command's tests: a clean working directory and a command runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

_TINY = [
    "total_steps=512",
    "num_worlds=8",
    "rollout_steps=32",
    "epochs=1",
    "minibatch_size=128",
    "hidden_sizes=[16,16]",
    "eval_episodes=8",
    "checkpoint_every=0",
    "torch_threads=1",
    "engine_threads=1",
]


@pytest.fixture(scope="session")
def tiny() -> list[str]:
    """Config overrides for a training of a second or two."""
    return list(_TINY)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, no tracking URI in the environment, a private policy cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("AIP_DEBUG", raising=False)
    monkeypatch.setenv("AIP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    monkeypatch.setenv("AIP_GAME_HOME", str(tmp_path / "game-data"))
    return tmp_path


class Aip:
    """Runs ``aip`` in-process (typer's runner) and returns its result."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        from aip_cli import app

        return self.runner.invoke(app, list(args))


@pytest.fixture
def aip(workdir: Path) -> Aip:
    return Aip()
