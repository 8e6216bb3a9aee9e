"""The command line, run as a real subprocess; the game runs without torch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pygame
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "aip_game"


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "AIP_GAME_HOME": str(tmp_path / "home")})
    return env


@pytest.mark.slow
def test_python_m_aip_game_runs_headless_and_saves_a_screenshot(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aip_game",
            "--headless",
            "--opponent",
            "chase",
            "--seed",
            "3",
            "--frames",
            "90",
            "--fps",
            "0",
            "--screenshot",
            str(shot),
            "--no-installed-mods",
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    image = pygame.image.load(str(shot))
    assert image.get_size() == (1280, 720)


def test_the_console_script_has_help() -> None:
    script = Path(sys.executable).parent / "aip-game"
    if not script.exists():
        pytest.skip("the aip-game console script is not installed in this environment")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for option in ("--opponent", "--side", "--headless", "--seed", "--fullscreen"):
        assert option in out.stdout


def test_an_unknown_opponent_is_reported_not_a_crash(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aip_game",
            "--headless",
            "--opponent",
            "nobody",
            "--frames",
            "3",
            "--fps",
            "0",
            "--no-installed-mods",
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2  # reported, not a crash, and a failure for scripts
    assert "no enemy opponent named 'nobody'" in out.stderr and "bot: chase" in out.stderr


@pytest.mark.slow
def test_the_game_never_imports_torch(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from aip_game._app import App, Options
        import aip_game.mods, aip_game.recording
        app = App(Options(headless=True, opponent="dodge", fps=0, frames=120, seed=2))
        app.run()
        heavy = sorted(m for m in ("torch", "aip_ml", "mlflow") if m in sys.modules)
        print("heavy:", heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stdout


def test_no_source_file_mentions_torch_or_aip_ml() -> None:
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        assert "import torch" not in text and "aip_ml" not in text and "import mlflow" not in text, path


def test_headless_start_that_fails_exits_with_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.aipp"
    bad.write_text("not a policy")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "aip_game",
            "--headless",
            "--opponent",
            str(bad),
            "--frames",
            "5",
            "--data-dir",
            str(tmp_path / "home"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "bad.aipp" in proc.stderr and "corrupt" in proc.stderr
