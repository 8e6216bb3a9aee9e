from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from aip_game import recording
from aip_game.recording import RecordingError, RecordingWriter, load, new_path

HEADER = {
    "role": "player",
    "layout": "player-v1",
    "layout_version": 1,
    "observation_fields": ["a", "b", "c"],
    "action_fields": ["x", "y"],
    "events": ["fire", "hit"],
    "seed": 7,
    "config": {"arena_width": 1280.0},
}


def _write(path: Path, frames: int, **kw: int) -> None:
    with RecordingWriter(path, HEADER, **kw) as w:
        for t in range(frames):
            w.add(t, [t, t + 0.5, -t], [0.25 * t, -1.0], float(t) / 10, [t % 2, 0])


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _write(path, 25, block_frames=4)
    rec = load(path)
    assert rec.complete and len(rec) == 25
    assert rec.header["seed"] == 7 and rec.header["config"] == {"arena_width": 1280.0}
    assert rec.layout == "player-v1" and rec.event_names == ("fire", "hit")
    np.testing.assert_array_equal(rec.frames, np.arange(25))
    np.testing.assert_allclose(rec.observations[3], [3, 3.5, -3])
    np.testing.assert_allclose(rec.actions[:, 0], 0.25 * np.arange(25))
    np.testing.assert_allclose(rec.rewards, np.arange(25, dtype=np.float32) / 10)
    assert rec.events.dtype == np.uint8 and rec.events[:, 0].tolist() == [t % 2 for t in range(25)]


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _write(path, 3)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        RecordingWriter(path, HEADER)
    assert path.read_bytes() == before
    fresh = new_path(tmp_path, "player")
    assert not fresh.exists() and fresh.suffix == recording.SUFFIX


def test_truncated_file_keeps_every_whole_block(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _write(path, 10, block_frames=1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 8 - 20])  # drop the end marker and cut into the last block
    rec = load(path)
    assert not rec.complete and len(rec) == 9 and rec.notes
    np.testing.assert_array_equal(rec.frames, np.arange(9))


def test_damaged_block_stops_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _write(path, 6, block_frames=2)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF  # inside the last block's payload
    path.write_bytes(bytes(data))
    rec = load(path)
    assert len(rec) == 4 and not rec.complete


def test_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "x.aiprec"
    path.write_bytes(b"hello world, not a recording")
    with pytest.raises(RecordingError, match="not an AIP recording"):
        load(path)


def test_wrong_sizes_are_rejected(tmp_path: Path) -> None:
    with (
        RecordingWriter(tmp_path / "r.aiprec", HEADER) as w,
        pytest.raises(RecordingError, match="expected observation 3"),
    ):
        w.add(0, [1, 2], [0, 0], 0.0, [0, 0])


@pytest.mark.slow
def test_a_killed_writer_loses_nothing_it_wrote(tmp_path: Path) -> None:
    path = tmp_path / "killed.aiprec"
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from aip_game.recording import RecordingWriter
        header = {HEADER!r}
        w = RecordingWriter(Path({str(path)!r}), header)
        t = 0
        while True:
            w.add(t, [t, 0, 0], [0, 0], 0.0, [0, 0])
            if t == 200:
                print("ready", flush=True)
            t += 1
            time.sleep(0.0005)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    rec = load(path)
    assert not rec.complete
    assert len(rec) > 200
    np.testing.assert_array_equal(rec.frames, np.arange(len(rec)))
    np.testing.assert_array_equal(rec.observations[:, 0], np.arange(len(rec)))
