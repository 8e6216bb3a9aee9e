"""Recordings as hostile input: `load`, `read_header` and `summarize` raise only `RecordingError`.

Whatever the bytes, a reader either returns frames that are all finite and well-shaped, or says
that the file is not a readable recording; a FIFO or a device is refused without blocking.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from aip_game.recording import Recording, RecordingError, RecordingWriter, load, read_header, summarize

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = settings().max_examples

HEADER = {
    "role": "player",
    "layout": "player-v1",
    "layout_version": 1,
    "observation_fields": ["a", "b", "c"],
    "action_fields": ["x", "y"],
    "events": ["fire", "hit"],
    "inputs": [["player", 3]],
    "seed": 7,
}


def _valid(folder: Path) -> bytes:
    path = folder / "valid.aiprec"
    with RecordingWriter(path, HEADER, block_frames=3) as w:
        for t in range(10):
            if t == 4:
                w.add_params(t, [("enemy_speed", 6.0)])
            w.add(t, [t, 0.5, -t], [0.25, -1.0], 0.1 * t, [t % 2, 0], inputs=[0.0, 1.0, 0.0], score=t, lives=3)
    return path.read_bytes()


def _check(rec: Recording) -> None:
    n = len(rec)
    assert rec.observations.shape[0] == rec.actions.shape[0] == rec.rewards.shape[0] == n
    for name in ("observations", "actions", "rewards"):
        assert np.isfinite(getattr(rec, name)).all(), name


def _read(path: Path) -> str:
    outcomes = []
    for reader in (load, read_header, summarize):
        try:
            result = reader(path)
        except RecordingError as exc:
            outcomes.append(f"refused: {exc}")
            continue
        if isinstance(result, Recording):
            _check(result)
        outcomes.append("ok")
    return "/".join(outcomes)


def _mutate(valid: bytes, kind: str, i: int, chunk: bytes) -> bytes:
    i %= len(valid)
    if kind == "truncate":
        return valid[:i]
    if kind == "splice":
        return valid[:i] + chunk + valid[i + len(chunk) :]
    if kind == "insert":
        return valid[:i] + chunk + valid[i:]
    data = bytearray(valid)
    for k, b in enumerate(chunk[:8]):
        data[(i + 97 * k) % len(data)] ^= b or 1
    return bytes(data)


def _with_header(valid: bytes, header: object) -> bytes:
    # A new header in front of the valid file's blocks.
    (length,) = struct.unpack_from("<I", valid, 8)
    text = json.dumps(header, allow_nan=True).encode()
    return valid[:8] + struct.pack("<I", len(text)) + text + valid[12 + length :]


def _block(tag: bytes, n: int, payload: bytes) -> bytes:
    return struct.pack("<4sIII", tag, n, len(payload), zlib.crc32(payload)) + payload


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=EXAMPLES * 4, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_bytes_are_read_or_refused_as_recording_errors(tmp_path: Path, data: st.DataObject) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    valid = _valid(folder)
    choice = data.draw(st.sampled_from(["random", "mutate", "header", "params", "block"]))
    if choice == "random":
        raw = data.draw(st.binary(max_size=512))
    elif choice == "mutate":
        kind = data.draw(st.sampled_from(["truncate", "splice", "insert", "flip"]))
        raw = _mutate(valid, kind, data.draw(st.integers(0, 10**6)), data.draw(st.binary(min_size=1, max_size=16)))
    elif choice == "header":
        header = dict(HEADER, format="aip-recording", format_version=2)
        key = data.draw(st.sampled_from([*sorted(header), "check_fields"]))
        header[key] = data.draw(values)
        raw = _with_header(valid, header if data.draw(st.booleans()) else data.draw(values))
    elif choice == "params":
        rows = data.draw(st.lists(st.lists(values, max_size=4), max_size=3))
        payload = json.dumps(rows, allow_nan=True).encode()
        raw = valid[: len(valid) // 2] + _block(b"PAR2", len(rows), payload)
    else:
        n = data.draw(st.integers(0, 4))
        row = np.zeros(1, dtype=[("f", "<i4")]).tobytes()
        payload = data.draw(st.binary(max_size=200)) if data.draw(st.booleans()) else row * n
        raw = valid[:60] + _block(b"BLK2", n, payload)
    path = folder / "r.aiprec"
    path.write_bytes(raw)
    _read(path)


def test_nan_frames_under_a_good_checksum_are_not_loaded(tmp_path: Path) -> None:
    valid = _valid(tmp_path)
    rec = load(tmp_path / "valid.aiprec")
    assert len(rec) == 10
    # Rewrite the first frame block with a NaN observation and a correct checksum.
    start = 12 + struct.unpack_from("<I", valid, 8)[0]
    tag, n, size, _ = struct.unpack_from("<4sIII", valid, start)
    payload = bytearray(valid[start + 16 : start + 16 + size])
    payload[4 * n : 4 * n + 4] = struct.pack("<f", float("nan"))
    raw = valid[:start] + _block(tag, n, bytes(payload)) + valid[start + 16 + size :]
    (tmp_path / "nan.aiprec").write_bytes(raw)
    bad = load(tmp_path / "nan.aiprec")
    assert len(bad) == 0 and bad.notes and not bad.complete


def test_a_damaged_outcome_length_costs_no_memory(tmp_path: Path) -> None:
    # tools/fuzz.py (seed 2027, recording case 1361): an end block claiming a 4 GiB outcome made
    # summarize() allocate 4 GiB for an 810-byte file.
    import tracemalloc

    valid = _valid(tmp_path)
    end = valid.rindex(b"END2")
    frames, _, crc = struct.unpack_from("<III", valid, end + 4)
    raw = valid[: end + 8] + struct.pack("<II", 0xFFFFFFF0, crc) + valid[end + 16 :]
    path = tmp_path / "long-outcome.aiprec"
    path.write_bytes(raw)
    tracemalloc.start()
    try:
        summary = summarize(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"summarize allocated {peak / 2**20:.0f} MiB"
    assert summary.complete and summary.frames == frames == 10 and summary.outcome is None
    assert summarize(tmp_path / "valid.aiprec").frames == 10


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.aiprec"
    os.mkfifo(fifo)
    for reader in (load, read_header, summarize):
        with pytest.raises(RecordingError, match="FIFO"):
            reader(fifo)
    link = tmp_path / "zero.aiprec"
    link.symlink_to("/dev/zero")
    with pytest.raises(RecordingError, match="character device"):
        load(link)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.aiprec")
