r"""Demonstration recordings: every frame a human plays, saved so that a crash loses nothing.

File format (``.aiprec``, version 1; all integers little-endian):

1. Magic ``b"AIPREC\x00\x01"`` (8 bytes), then ``uint32`` header length, then the header: UTF-8 JSON
   with ``format`` (``"aip-recording"``), ``format_version`` (1), ``role``, ``layout`` (e.g.
   ``"player-v1"``), ``layout_version``, ``observation_fields``, ``action_fields``, ``events``
   (the engine's event names), ``task``, ``seed``, ``config`` (every rule number), ``controllers``,
   ``opponent``, ``created`` and ``game_version``.
2. Frame blocks, appended and flushed as the game runs: magic ``b"BLK1"``, ``uint32`` frame count
   ``n``, ``uint32`` payload length, ``uint32`` CRC-32 of the payload, then the payload: ``int32[n]``
   frame numbers, ``float32[n, obs_size]`` observations (before the action), ``float32[n,
   act_size]`` actions, ``float32[n]`` rewards (after the step), ``uint8[n, len(events)]`` event
   counts (of the step).
3. On a clean close, an end marker: ``b"END1"`` and ``uint32`` total frames.

A reader takes every whole block with a good checksum and stops at the first short or damaged one,
so an interrupted recording yields every frame written before the interruption (`Recording.complete`
is then False). Files are created exclusively: a recording never overwrites anything.
"""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "Recording",
    "RecordingError",
    "RecordingWriter",
    "default_folder",
    "load",
    "new_path",
]

#: Version of the file format written by this module.
FORMAT_VERSION = 1
#: File name suffix of recordings.
SUFFIX = ".aiprec"

_MAGIC = b"AIPREC\x00\x01"
_BLOCK = b"BLK1"
_END = b"END1"
_U32 = struct.Struct("<I")
_BLOCK_HEAD = struct.Struct("<4sIII")


class RecordingError(ValueError):
    """A file is not a recording, or its header cannot be read."""


@dataclass
class Recording:
    """A recording read back by `load`.

    Attributes:
        header: The JSON header (layout, seed, config, ...).
        frames: ``int32[n]`` frame numbers.
        observations: ``float32[n, obs_size]``, in the role's layout.
        actions: ``float32[n, act_size]``.
        rewards: ``float32[n]``.
        events: ``uint8[n, len(event_names)]``.
        complete: Whether the file ended with the end marker (False after an interruption).
    """

    header: dict[str, Any]
    frames: npt.NDArray[np.int32]
    observations: npt.NDArray[np.float32]
    actions: npt.NDArray[np.float32]
    rewards: npt.NDArray[np.float32]
    events: npt.NDArray[np.uint8]
    complete: bool = False
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def layout(self) -> str:
        """The observation layout's name, e.g. ``"player-v1"``."""
        return str(self.header["layout"])

    @property
    def event_names(self) -> tuple[str, ...]:
        """The names of the columns of `events`."""
        return tuple(self.header["events"])


def default_folder() -> Path:
    """Return the folder the game writes its recordings to (``recordings/`` in its data folder).

    ``$AIP_GAME_HOME/recordings`` when that is set; the data folder is described in docs/game.md.
    """
    from ._paths import recordings_dir

    return recordings_dir()


def new_path(folder: Path, role: str) -> Path:
    """Return a fresh file name in `folder` for a recording of `role` (not created yet)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for n in range(1, 10_000):
        candidate = folder / f"demo-{role}-{stamp}-{n:03d}{SUFFIX}"
        if not candidate.exists():
            return candidate
    raise RecordingError(f"no free recording name left in {folder}")


class RecordingWriter:
    """Append frames to a new recording file.

    The file is created exclusively (an existing file is never overwritten: `FileExistsError`).
    Frames are buffered and written as a checksummed block every `block_frames` frames, and each
    block is flushed to the operating system at once.

    Args:
        path: The new file.
        header: Metadata; must hold ``role``, ``layout``, ``observation_fields``, ``action_fields`` and
            ``events``; ``format`` and ``format_version`` are added.
        block_frames: Frames per block (1 = every frame is on disk before the next one starts).
    """

    def __init__(self, path: Path, header: Mapping[str, Any], *, block_frames: int = 1) -> None:
        for key in ("role", "layout", "observation_fields", "action_fields", "events"):
            if key not in header:
                raise RecordingError(f"a recording header needs {key!r}")
        self.path = path
        self.header = {"format": "aip-recording", "format_version": FORMAT_VERSION, **header}
        self.obs_size = len(self.header["observation_fields"])
        self.act_size = len(self.header["action_fields"])
        self.n_events = len(self.header["events"])
        self.block_frames = max(1, int(block_frames))
        self.frames_written = 0
        self._pending: list[tuple[int, bytes, bytes, float, bytes]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO | None = open(path, "xb")  # noqa: SIM115 - closed in close()
        text = json.dumps(self.header, sort_keys=True).encode("utf-8")
        self._file.write(_MAGIC + _U32.pack(len(text)) + text)
        self._file.flush()

    def add(
        self,
        frame: int,
        observation: npt.ArrayLike,
        action: npt.ArrayLike,
        reward: float,
        events: npt.ArrayLike,
    ) -> None:
        """Add one frame (copies the arrays, so engine views may be passed)."""
        obs = np.asarray(observation, dtype="<f4").reshape(-1)
        act = np.asarray(action, dtype="<f4").reshape(-1)
        ev = np.asarray(events, dtype=np.uint8).reshape(-1)
        if obs.size != self.obs_size or act.size != self.act_size or ev.size != self.n_events:
            raise RecordingError(
                f"frame {frame}: expected observation {self.obs_size}, action {self.act_size} and "
                f"{self.n_events} event counts; got {obs.size}, {act.size} and {ev.size}"
            )
        self._pending.append((int(frame), obs.tobytes(), act.tobytes(), float(reward), ev.tobytes()))
        if len(self._pending) >= self.block_frames:
            self.flush()

    def flush(self) -> None:
        """Write the buffered frames as one block and flush it to the operating system."""
        if not self._pending or self._file is None:
            return
        rows = self._pending
        payload = b"".join(
            [
                np.array([r[0] for r in rows], dtype="<i4").tobytes(),
                b"".join(r[1] for r in rows),
                b"".join(r[2] for r in rows),
                np.array([r[3] for r in rows], dtype="<f4").tobytes(),
                b"".join(r[4] for r in rows),
            ]
        )
        self._file.write(_BLOCK_HEAD.pack(_BLOCK, len(rows), len(payload), zlib.crc32(payload)) + payload)
        self._file.flush()
        self.frames_written += len(rows)
        self._pending = []

    def close(self) -> None:
        """Write what is buffered and the end marker, and close the file (idempotent)."""
        if self._file is None:
            return
        self.flush()
        self._file.write(_END + _U32.pack(self.frames_written))
        self._file.close()
        self._file = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load(path: str | Path) -> Recording:
    """Read a recording, recovering every whole frame block of an interrupted one.

    Args:
        path: The ``.aiprec`` file.

    Returns:
        The recording; `Recording.complete` tells whether it was closed cleanly, and
        `Recording.notes` says what was skipped at the end of a damaged file.

    Raises:
        RecordingError: The file is not a recording or its header is damaged.
        FileNotFoundError: There is no such file.
    """
    data = Path(path).read_bytes()
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
        raise RecordingError(f"{path} is not an AIP recording (bad magic bytes)")
    (length,) = _U32.unpack_from(data, len(_MAGIC))
    start = len(_MAGIC) + 4
    try:
        header = json.loads(data[start : start + length].decode("utf-8"))
    except ValueError as exc:
        raise RecordingError(f"{path}: the header is damaged ({exc})") from exc
    if header.get("format_version") != FORMAT_VERSION:
        raise RecordingError(
            f"{path}: format version {header.get('format_version')} is not supported (this reader: {FORMAT_VERSION})"
        )
    return _read_blocks(header, data, start + length)


def _read_blocks(header: dict[str, Any], data: bytes, offset: int) -> Recording:
    obs_size, act_size = len(header["observation_fields"]), len(header["action_fields"])
    n_events = len(header["events"])
    parts: list[tuple[bytes, int]] = []
    notes: list[str] = []
    complete = False
    stream = io.BytesIO(data)
    stream.seek(offset)
    while True:
        head = stream.read(_BLOCK_HEAD.size)
        if not head:
            break
        if head[:4] == _END:
            complete = True
            break
        if len(head) < _BLOCK_HEAD.size or head[:4] != _BLOCK:
            notes.append(f"stopped at byte {offset}: not a whole block")
            break
        _, n, size, crc = _BLOCK_HEAD.unpack(head)
        payload = stream.read(size)
        expected = n * (4 + 4 * obs_size + 4 * act_size + 4 + n_events)
        if len(payload) < size or size != expected or zlib.crc32(payload) != crc:
            notes.append(f"stopped at byte {offset}: a damaged or short block of {n} frames")
            break
        parts.append((payload, n))
        offset += _BLOCK_HEAD.size + size
    return _assemble(header, parts, obs_size, act_size, n_events, complete, notes)


def _assemble(
    header: dict[str, Any],
    parts: Sequence[tuple[bytes, int]],
    obs_size: int,
    act_size: int,
    n_events: int,
    complete: bool,
    notes: list[str],
) -> Recording:
    frames, obs, acts, rewards, events = [], [], [], [], []
    for payload, n in parts:
        cut = np.cumsum([0, 4 * n, 4 * n * obs_size, 4 * n * act_size, 4 * n, n * n_events])
        frames.append(np.frombuffer(payload[cut[0] : cut[1]], dtype="<i4"))
        obs.append(np.frombuffer(payload[cut[1] : cut[2]], dtype="<f4").reshape(n, obs_size))
        acts.append(np.frombuffer(payload[cut[2] : cut[3]], dtype="<f4").reshape(n, act_size))
        rewards.append(np.frombuffer(payload[cut[3] : cut[4]], dtype="<f4"))
        events.append(np.frombuffer(payload[cut[4] : cut[5]], dtype=np.uint8).reshape(n, n_events))

    def join(chunks: list[npt.NDArray[Any]], dtype: Any, width: int | None) -> npt.NDArray[Any]:
        if chunks:
            return np.concatenate(chunks).astype(dtype)
        return np.zeros((0,) if width is None else (0, width), dtype=dtype)

    return Recording(
        header=header,
        frames=join(frames, np.int32, None),
        observations=join(obs, np.float32, obs_size),
        actions=join(acts, np.float32, act_size),
        rewards=join(rewards, np.float32, None),
        events=join(events, np.uint8, n_events),
        complete=complete,
        notes=notes,
    )
