"""``aip replay``: the game's replay viewer and its check, through the real game and real files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from typer.testing import Result

from aip_cli._errors import ExitCode
from aip_game._opponents import BotOpponent
from aip_game._session import GameSession
from aip_game.recording import RecordingWriter

Runner = Callable[..., Result]


def _recording(path: Path, frames: int, *, spoil: int | None = None) -> Path:
    """A real game of `frames` frames with a scripted person; `spoil` writes a wrong state check there."""
    s = GameSession("player", BotOpponent("enemy", "intercept"), seed=3)
    writer = RecordingWriter(path, {**s.recording_header(), "created": "now", "game_version": "test"})
    s.recorder = writer
    rng = np.random.default_rng(3)
    for f in range(frames):
        if spoil == f:
            writer.check_fields = ("rng",)  # a check over other arrays than the header says: a mismatch
        s.set_human_action([rng.uniform(-1, 1), rng.uniform(-1, 1), float(rng.random() < 0.2)])
        s.step()
        writer.check_fields = tuple(writer.header["check_fields"])
    s.end("quit")
    return path


def test_replay_verify_says_whether_every_frame_matched(aip: Runner, workdir: Path) -> None:
    good = _recording(workdir / "good.aiprec", 240)
    result = aip("replay", str(good), "--verify")
    assert result.exit_code == 0, result.output
    assert "240 frames" in result.stdout and "replayed exactly" in result.stdout
    bad = _recording(workdir / "bad.aiprec", 240, spoil=100)
    result = aip("replay", str(bad), "--verify")
    assert result.exit_code == 1
    assert "from frame 100 on" in result.stderr


def test_replay_opens_the_viewer_headless(aip: Runner, workdir: Path) -> None:
    path = _recording(workdir / "r.aiprec", 120)
    result = aip("replay", str(path), "--headless", "--frames", "20")
    assert result.exit_code == 0, result.output


def test_replay_input_errors(aip: Runner, workdir: Path) -> None:
    result = aip("replay", "missing.aiprec")
    assert result.exit_code == ExitCode.NOT_FOUND and "recording not found: missing.aiprec" in result.stderr
    junk = workdir / "junk.aiprec"
    junk.write_bytes(b"not a recording")
    result = aip("replay", str(junk), "--verify")
    assert result.exit_code == 2 and "not an AIP recording" in result.stderr


def test_replay_help(aip: Runner) -> None:
    result = aip("replay", "--help")
    assert result.exit_code == 0
    for word in ("FILE", "--verify", "Left/Right", "recordings/"):
        assert word in result.stdout
