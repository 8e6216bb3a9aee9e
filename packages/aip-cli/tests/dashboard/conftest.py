"""Fixtures of the dashboard's tests: a real SQLite store made by short trainings, a game recording,
the real ``aip dashboard`` server in a subprocess, and headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM = os.environ.get("AIP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
INSTALL_HINT = (
    "the dashboard's browser tests need headless Chromium and Playwright: apt-get install -y chromium "
    "chromium-driver, and pip install playwright (`python3 tools/dev.py setup` installs it; `.ci/run` installs both)"
)
TINY = [
    "num_worlds=16",
    "rollout_steps=32",
    "epochs=1",
    "minibatch_size=256",
    "hidden_sizes=[16,16]",
    "eval_episodes=16",
    "checkpoint_every=0",
    "torch_threads=1",
    "engine_threads=1",
]


@dataclass
class Store:
    """The tracking store the tests read, and what is in it."""

    root: Path
    uri: str
    recordings: Path
    recording: str
    run_ids: list[str]


def aip_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MLFLOW_TRACKING_URI", None)
    env.update(
        AIP_CACHE_DIR=str(root / "cache"),
        AIP_GAME_HOME=str(root / "game-data"),
        SDL_VIDEODRIVER="dummy",
        SDL_AUDIODRIVER="dummy",
        PYTHONUNBUFFERED="1",
    )
    return env


def _record_game(folder: Path) -> str:
    """A game played by a scripted input against the chase bot, recorded by the game's own writer."""
    import aip_game
    from aip_game.recording import RecordingWriter, new_path

    session = aip_game.GameSession("player", aip_game.BotOpponent("enemy", "chase"), seed=4)
    path = new_path(folder, "player")
    session.recorder = RecordingWriter(path, session.recording_header(), block_frames=60)
    rng = np.random.default_rng(0)
    action = np.zeros(3, np.float32)
    while not session.over and session.frame < 900:
        if session.frame % 20 == 0:
            action = np.array([*rng.uniform(-1, 1, 2), float(rng.random() < 0.3)], np.float32)
        session.set_human_action(action)
        session.step()
    session.end("quit")
    return path.name


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """Two short chase-v1 trainings through the `aip train` command (with replays), and a recording."""
    from aip_cli._app import main

    root = tmp_path_factory.mktemp("dashboard-store")
    previous = Path.cwd()
    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "AIP_CACHE_DIR", "AIP_GAME_HOME")}
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["AIP_CACHE_DIR"] = str(root / "cache")
    os.environ["AIP_GAME_HOME"] = str(root / "game-data")
    os.chdir(root)
    try:
        for seed in (1, 2):
            code = main(["train", "chase-v1", *TINY, "total_steps=8192", f"seed={seed}", "--replays", "2", "--json"])
            assert code == 0
    finally:
        os.chdir(previous)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    from aip_ml.tracking import make_client

    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = make_client(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    recordings = root / "game-data" / "recordings"
    recordings.mkdir(parents=True, exist_ok=True)
    name = _record_game(recordings)
    return Store(root, uri, recordings, name, [r.info.run_id for r in runs])


class Server:
    """A running ``aip dashboard`` subprocess."""

    def __init__(self, args: list[str], root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aip_cli", "dashboard", "--port", "0", *args],
            cwd=root,
            env=aip_env(root),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 120
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError("aip dashboard exited early:\n" + "".join(self.lines))
            self.lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        first = next(line for line in self.lines if line.startswith("AIP dashboard:"))
        match = re.search(r"(http://[^/\s]+)/(\?token=(\S+))?", first)
        assert match, first
        self.base = match.group(1)
        self.token = match.group(3)
        self.port = int(self.base.rsplit(":", 1)[1])
        self._wait_ready()

    def _wait_ready(self) -> None:
        import http.client

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                conn.request("GET", "/static/style.css", headers={"Host": f"127.0.0.1:{self.port}"})
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
            finally:
                conn.close()
        raise AssertionError("the dashboard does not answer")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def start_server() -> type[Server]:
    """Starts another ``aip dashboard`` (``start_server(args, root)``); stop it with ``.stop()``."""
    return Server


@pytest.fixture(scope="session")
def server(store: Store) -> Iterator[Server]:
    """The dashboard on 127.0.0.1 (no token), reading the store and the recordings folder."""
    srv = Server(["--tracking-uri", store.uri, "--recordings", str(store.recordings)], store.root)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from the system's packages, driven by Playwright."""
    if not Path(CHROMIUM).is_file() or shutil.which(CHROMIUM) is None:
        pytest.skip(INSTALL_HINT)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(INSTALL_HINT)
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # a Chromium that does not start is a missing prerequisite here
        manager.stop()
        pytest.skip(f"Chromium did not start ({exc}); {INSTALL_HINT}")
    yield chromium
    chromium.close()
    manager.stop()


@pytest.fixture
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context (its own cookies and storage) and page; page errors fail the test."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"


@pytest.fixture(scope="session")
def shots() -> Path:
    """Where screenshots go: $AIP_SCREENSHOTS_DIR (the docs' images: docs/images), else a temporary folder."""
    folder = Path(
        os.environ.get("AIP_SCREENSHOTS_DIR") or Path(os.environ.get("TMPDIR", "/tmp")) / "aip-dashboard-shots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
