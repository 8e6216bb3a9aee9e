"""The game in a real X window (Xvfb) with real key events (xdotool); the dummy driver without Xvfb.

The game runs as its own process, started as a player would start it; what it did is read back from
its recording and its log, so nothing inside the game is touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from aip_game.recording import load, summarize

XDOTOOL = shutil.which("xdotool")


def _env(home: Path, display: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY")}
    env.update({"SDL_AUDIODRIVER": "dummy", "AIP_GAME_HOME": str(home), "PYGAME_HIDE_SUPPORT_PROMPT": "1"})
    if display is None:
        env["SDL_VIDEODRIVER"] = "dummy"
    else:
        env.update({"DISPLAY": display, "SDL_VIDEODRIVER": "x11"})
    return env


def _frames(home: Path) -> int:
    files = sorted((home / "recordings").glob("*.aiprec"))
    return summarize(files[0]).frames if files else 0


def _wait_for(what: str, condition: Callable[[], bool], proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the game exited ({proc.returncode}) while waiting until {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}")
        time.sleep(0.05)


def _xdotool(display: str, *args: str) -> None:
    assert XDOTOOL is not None
    subprocess.run([XDOTOOL, *args], env={**os.environ, "DISPLAY": display}, check=True, timeout=30)


@pytest.mark.slow
def test_started_from_the_command_line_it_plays_at_once_with_one_mode_set(xvfb: str | None, tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aip_game", "--opponent", "linear", "--seed", "5", "--record", "--no-installed-mods"],
        env=_env(home, xvfb),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # never paused at start: the game's frames keep coming after the get-ready count
        _wait_for("the game plays 120 frames", lambda: _frames(home) >= 120, proc)
        if xvfb is not None and XDOTOOL is not None:
            _tap_and_hold(xvfb, home, proc)
    finally:
        proc.terminate()
        proc.wait(30)
    log = (home / "game.log").read_text()
    modes = [line.split("display mode set: ")[1] for line in log.splitlines() if "display mode set" in line]
    if xvfb is None:
        assert modes == ["driver dummy, software scaling, windowed, window 1280x720"]
    elif XDOTOOL is None:
        assert modes == ["driver x11, hardware scaling, windowed, window 1280x720"]
    else:  # one mode set at start; then F twice
        assert modes == [
            "driver x11, hardware scaling, windowed, window 1280x720",
            "driver x11, hardware scaling, fullscreen, window 1920x1080",
            "driver x11, hardware scaling, windowed, window 1280x720",
        ]
    rec = load(sorted((home / "recordings").glob("*.aiprec"))[0])
    assert len(rec) >= 120 and rec.replayable
    if xvfb is not None and XDOTOOL is not None:
        _check_the_keys(rec)


def _tap_and_hold(display: str, home: Path, proc: subprocess.Popen[bytes]) -> None:
    # With no window manager the keyboard follows the pointer: put it over the window.
    _xdotool(display, "mousemove", "960", "540")
    before = _frames(home)
    _xdotool(display, "key", "space")  # press and release at once: shorter than a frame
    _wait_for("40 frames after the tap", lambda: _frames(home) >= before + 40, proc)
    _xdotool(display, "keydown", "Right")
    held = _frames(home)
    _wait_for("30 frames with Right held", lambda: _frames(home) >= held + 30, proc)
    _xdotool(display, "keyup", "Right")
    released = _frames(home)
    _wait_for("20 frames after the release", lambda: _frames(home) >= released + 20, proc)
    for _ in range(2):  # fullscreen and back: the game goes on, unpaused
        _xdotool(display, "key", "f")
        switched = _frames(home)
        _wait_for("30 frames after F", lambda at=switched: _frames(home) >= at + 30, proc)  # type: ignore[misc]


def _check_the_keys(rec: object) -> None:
    from aip_game.recording import Recording

    assert isinstance(rec, Recording)
    fired = np.flatnonzero(rec.events[:, rec.event_names.index("fire")])
    assert len(fired) == 1, fired  # the tap fired once (the player holds nothing else)
    assert np.flatnonzero(rec.actions[:, 2]).tolist() == fired.tolist()
    right = np.flatnonzero(rec.actions[:, 0] > 0)
    assert len(right) >= 25 and right[0] > fired[0]
    assert np.all(np.diff(right) == 1)  # held without a gap
    assert not np.any(rec.actions[:, 0] < 0) and not np.any(rec.actions[:, 1])
