"""Shared fixtures: a headless game (SDL dummy video driver) in a temporary data folder."""

from __future__ import annotations

import os

# Before pygame initialises anything: no window, no sound device, no banner.
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

import aip_engine as ae
from aip_engine._policy import save_policy
from aip_game._app import App, Options

REPO = Path(__file__).resolve().parents[3]
EXAMPLE_MODS = REPO / "examples" / "mods"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh user data folder (and working directory) for the test."""
    data = tmp_path / "home"
    monkeypatch.setenv("AIP_GAME_HOME", str(data))
    monkeypatch.chdir(tmp_path)
    return data


@pytest.fixture
def make_app(home: Path) -> Iterator[Callable[..., App]]:
    """Build headless apps with no mods unless asked; every app is closed at the end."""
    apps: list[App] = []

    def make(**kwargs: Any) -> App:
        options: dict[str, Any] = {
            "headless": True,
            "fps": 0,
            "mod_dirs": [],
            "entry_point_mods": False,
            "seed": 1,
            "get_ready": False,
        }
        options.update(kwargs)
        app = App(Options(**options))
        apps.append(app)
        return app

    yield make
    for app in apps:
        if pygame.get_init():
            app.close()


class UI:
    """Scripted input for a headless app: key presses, clicks, and frames of the loop."""

    @staticmethod
    def key(k: int, unicode: str = "") -> None:
        """Post a key press."""
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k, unicode=unicode, mod=0, scancode=0))

    @staticmethod
    def release(k: int) -> None:
        """Post a key release."""
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=k, unicode="", mod=0, scancode=0))

    @staticmethod
    def click(app: App, logical: tuple[int, int]) -> None:
        """Post a left click at a logical screen position (mapped to the window)."""
        pos = app.to_window(logical)
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0)))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))

    @staticmethod
    def run(app: App, frames: int) -> None:
        """Run the app's loop for `frames` frames."""
        for _ in range(frames):
            app.tick()


@pytest.fixture
def ui() -> UI:
    """Scripted input helpers."""
    return UI()


def write_policy(path: Path, role: str, seed: int = 0) -> Path:
    """Write a small random policy file of `role` (a real file of the portable format)."""
    lay = ae.role_layout(role)
    rng = np.random.default_rng(seed)
    sizes = [lay.obs_size, 16, lay.act_size]
    weights = [rng.normal(0, 0.5, (sizes[i + 1], sizes[i])).astype(np.float32) for i in range(2)]
    biases = [np.zeros(sizes[i + 1], dtype=np.float32) for i in range(2)]
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_policy(
        path,
        layout_name=lay.name,
        weights=weights,
        biases=biases,
        activation="tanh",
        obs_mean=np.zeros(lay.obs_size),
        obs_var=np.ones(lay.obs_size),
        task="chase-v1",
    )


@pytest.fixture
def make_policy() -> Callable[..., Path]:
    """Write random policy files: ``make_policy(path, role, seed=0)``."""
    return write_policy


@pytest.fixture(scope="session")
def xvfb() -> Iterator[str | None]:
    """A private X server (Xvfb, 1920 × 1080) for the window tests: its DISPLAY, or None without Xvfb."""
    if shutil.which("Xvfb") is None:
        yield None
        return
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        proc.wait()
        pytest.fail("Xvfb started but reported no display number")
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)
