r"""Game recordings: every frame of a game, saved so that a crash loses nothing and the game replays exactly.

A recording serves two purposes: a **demonstration** (the observations and actions of the role a
person played, for imitation learning) and a **replay** (everything the engine needs to play the game
again frame for frame: seed, config, controllers, every agent's action, every parameter change).
`load` reads both format versions; `aip_game.replay` re-simulates a recording.

File format (``.aiprec``, version 2; all integers little-endian):

1. Magic ``b"AIPREC\x00\x01"`` (8 bytes), then ``uint32`` header length, then the header: UTF-8 JSON
   (`HEADER_FIELDS` lists what it holds).
2. Blocks, appended and flushed as the game runs, each ``4-byte tag, uint32 count, uint32 payload
   length, uint32 CRC-32 of the payload`` followed by the payload:

   - ``b"BLK2"``, count ``n`` frames. Payload, column after column: ``int32[n]`` frame numbers,
     ``float32[n, obs_size]`` observations of the recorded role (before the frame's step),
     ``float32[n, act_size]`` the recorded role's actions, ``float32[n]`` its rewards (after the
     step), ``uint8[n, len(events)]`` event counts of the step, ``float32[n, inputs_size]`` the
     actions of every agent role fed to the engine (header ``inputs``: roles and sizes, in order),
     ``int32[n]`` score and ``int32[n]`` lives after the frame, ``uint32[n]`` state checks (CRC-32
     of the engine's state after the step over the header's ``check_fields``, in that order; 0 when
     the header has none).
   - ``b"PAR2"``: JSON ``[[frame, name, value], ...]``: per-world engine parameters (`Worlds.params`)
     that changed, to be set before the step of ``frame`` (the frame number of the step they first
     applied to). Level-ups and mods' changes are recorded this way.
3. On a clean close, ``b"END2"``, ``uint32`` total frames, ``uint32`` length, ``uint32`` CRC-32, then
   JSON ``{"reason", "score", "lives", "level", "frames"}`` (the outcome).

Version 1 files (``BLK1`` blocks with the first five columns only, ``END1`` + ``uint32`` frames) are
still read: the missing columns are empty, `Recording.replayable` is False with the reason.

Re-simulating needs only ``aip_engine``: ``Worlds(header["task"], 1, seed=header["seed"],
config=Config(**header["config"]), controllers=header["controllers"], threads=1)``, ``reset(seed)``,
then for each frame ``f``: set the parameter changes of ``f``, then ``step`` with the frame's
``inputs`` split by role (the single agent's array, or a dict of them); `aip_game.replay` does exactly
this and compares the state checks.

A reader takes every whole block with a good checksum and stops at the first short or damaged one, so
an interrupted recording yields every frame written before the interruption (`Recording.complete` is
then False). Files are created exclusively: a recording never overwrites anything.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import struct
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, BinaryIO, NamedTuple

import numpy as np
import numpy.typing as npt

from aip_engine._files import UnsafeFileError, read_regular

__all__ = [
    "FORMAT_VERSION",
    "HEADER_FIELDS",
    "READABLE_VERSIONS",
    "SUFFIX",
    "ParamChange",
    "Recording",
    "RecordingError",
    "RecordingSummary",
    "RecordingWriter",
    "default_folder",
    "discard",
    "find",
    "load",
    "new_path",
    "read_header",
    "summarize",
]

#: Version of the file format written by this module.
FORMAT_VERSION = 2
#: Versions `load` reads.
READABLE_VERSIONS = (1, 2)
#: File name suffix of recordings.
SUFFIX = ".aiprec"

#: What a version 2 header holds, field by field (the game writes all of them).
HEADER_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "format": '"aip-recording"',
        "format_version": "2",
        "role": "the recorded role (the person's; the player's in Watch)",
        "side": '"player", "enemy" or "watch": what the person played',
        "layout": 'the observation layout of `role`, e.g. "player-v1"',
        "layout_version": "its version",
        "observation_fields": "names of the observation columns",
        "action_fields": "names of the action columns",
        "events": "names of the event columns (the engine's EVENTS)",
        "task": 'the engine task, "play-v1"',
        "seed": "the engine seed",
        "config": "every engine Config field of the game",
        "controllers": "role -> 'agent' or a bot name",
        "inputs": "[[role, action size], ...]: the agent roles whose actions each frame holds, in order",
        "opponent": "who played the other side: label, kind (bot, policy, mod), role, controller, and for "
        "a policy its file and SHA-256",
        "partner": "in Watch, the player's controller (same form), else null",
        "missiles": "what steered the player's missiles when the settings chose it (same form; a learned "
        "missile policy steers slot 0), else null: they flew straight",
        "balance": "the game's numbers (lives, points, levels; aip_game/balance.toml)",
        "check_fields": "the state arrays covered by each frame's state check, in order",
        "engine": "version and API version of aip-engine",
        "mods": "[[name, version], ...] of the mods enabled",
        "created": "UTC time of the start, ISO 8601",
        "game_version": "aip-game's version",
    }
)

_MAGIC = b"AIPREC\x00\x01"
_BLOCK_V1 = b"BLK1"
_END_V1 = b"END1"
_BLOCK = b"BLK2"
_PARAMS = b"PAR2"
_END = b"END2"
_U32 = struct.Struct("<I")
_BLOCK_HEAD = struct.Struct("<4sIII")
_MAX_HEADER = 16 << 20
_MAX_FILE = 4 << 30  # about 30 hours of play
_MAX_WIDTH = 4096  # fields per observation, action, event or input row
_VECTOR_COLUMNS = ("frames", "rewards", "scores", "lives", "checks")  # one value per frame


class RecordingError(ValueError):
    """A file is not a recording, or its header cannot be read."""


class ParamChange(NamedTuple):
    """A per-world engine parameter set before the step of `frame`."""

    frame: int
    name: str
    value: float


@dataclass
class Recording:
    """A recording read back by `load`.

    Attributes:
        header: The JSON header (`HEADER_FIELDS`).
        frames: ``int32[n]`` frame numbers.
        observations: ``float32[n, obs_size]``, in the role's layout, before each frame's step.
        actions: ``float32[n, act_size]``: the recorded role's actions.
        rewards: ``float32[n]``: the recorded role's rewards in play-v1.
        events: ``uint8[n, len(event_names)]``.
        complete: Whether the file ended with the end marker (False after an interruption).
        notes: What was skipped at the end of a damaged file.
        format_version: The file's format version.
        inputs: ``float32[n, inputs_size]``: every agent role's action (version 2; empty in version 1).
        scores: ``int32[n]`` score after each frame (version 2).
        lives: ``int32[n]`` lives after each frame (version 2).
        checks: ``uint32[n]`` state checks after each frame (version 2).
        param_changes: Parameter changes in order (version 2).
        outcome: The end marker's outcome (version 2, complete files), else None.
    """

    header: dict[str, Any]
    frames: npt.NDArray[np.int32]
    observations: npt.NDArray[np.float32]
    actions: npt.NDArray[np.float32]
    rewards: npt.NDArray[np.float32]
    events: npt.NDArray[np.uint8]
    complete: bool = False
    notes: list[str] = field(default_factory=list)
    format_version: int = FORMAT_VERSION
    inputs: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 0), np.float32))
    scores: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    lives: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, np.int32))
    checks: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, np.uint32))
    param_changes: list[ParamChange] = field(default_factory=list)
    outcome: dict[str, Any] | None = None

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

    @property
    def input_roles(self) -> list[tuple[str, int]]:
        """The agent roles in `inputs`, with their action sizes, in column order."""
        return [(str(role), int(size)) for role, size in self.header.get("inputs", [])]

    def inputs_of(self, role: str) -> npt.NDArray[np.float32]:
        """The actions fed to the engine for `role` at every frame (``float32[n, size]``).

        Raises:
            KeyError: `role` was not an agent in this game.
        """
        start = 0
        for name, size in self.input_roles:
            if name == role:
                return self.inputs[:, start : start + size]
            start += size
        raise KeyError(f"{role!r} was not an agent in this recording (agents: {[r for r, _ in self.input_roles]})")

    @property
    def seconds(self) -> float:
        """The recorded game's length in seconds of game time (60 frames per second)."""
        return len(self) / 60.0

    @property
    def not_replayable(self) -> str | None:
        """Why this recording cannot be replayed exactly, or None when it can."""
        if self.format_version < 2:
            return (
                f"it is a format {self.format_version} recording, which lacks the per-level parameter changes and "
                "the opponent's actions; it can be read as a demonstration but not replayed"
            )
        missing = [k for k in ("seed", "config", "controllers", "inputs", "task") if k not in self.header]
        if missing:
            return f"its header lacks {', '.join(missing)}"
        if len(self) and not np.array_equal(self.frames, np.arange(len(self), dtype=np.int32)):
            return "its frames are not numbered 0, 1, 2, ... (it was not written by the game)"
        return None

    @property
    def replayable(self) -> bool:
        """Whether `aip_game.replay` can play it again exactly."""
        return self.not_replayable is None


def default_folder() -> Path:
    """Return the folder the game records demonstrations to (``recordings/`` in its data folder)."""
    from ._paths import recordings_dir

    return recordings_dir()


def find(folder: Path | None = None) -> list[Path]:
    """Return the recordings in a folder (default: `default_folder`), oldest first."""
    where = default_folder() if folder is None else folder
    if not where.is_dir():
        return []
    return sorted((p for p in where.glob(f"*{SUFFIX}") if p.is_file()), key=lambda p: (p.stat().st_mtime, p.name))


def discard(path: Path) -> None:
    """Delete a recording the player does not want (only a regular ``.aiprec`` file is removed).

    Raises:
        RecordingError: The path is not a recording file.
    """
    if path.suffix != SUFFIX or path.is_symlink() or not path.is_file():
        raise RecordingError(f"{path} is not a recording file; nothing was deleted")
    path.unlink()


def new_path(folder: Path, role: str) -> Path:
    """Return a fresh file name in `folder` for a recording of `role` (not created yet)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    for n in range(1, 10_000):
        candidate = folder / f"demo-{role}-{stamp}-{n:03d}{SUFFIX}"
        if not candidate.exists():
            return candidate
    raise RecordingError(f"no free recording name left in {folder}")


class RecordingWriter:
    """Append frames to a new recording file (format version 2).

    The file is created exclusively (an existing file is never overwritten: `FileExistsError`).
    Frames are buffered and written as a checksummed block every `block_frames` frames, and each
    block is flushed to the operating system at once.

    Args:
        path: The new file.
        header: Metadata; must hold ``role``, ``layout``, ``observation_fields``, ``action_fields`` and
            ``events``; ``inputs`` (default none) and ``check_fields`` (default none) size the
            replay columns; ``format`` and ``format_version`` are added.
        block_frames: Frames per block (1 = every frame is on disk before the next one starts).
    """

    def __init__(self, path: Path, header: Mapping[str, Any], *, block_frames: int = 1) -> None:
        for key in ("role", "layout", "observation_fields", "action_fields", "events"):
            if key not in header:
                raise RecordingError(f"a recording header needs {key!r}")
        self.path = path
        self.header = {"format": "aip-recording", **header, "format_version": FORMAT_VERSION}
        self.header.setdefault("inputs", [])
        self.obs_size = len(self.header["observation_fields"])
        self.act_size = len(self.header["action_fields"])
        self.n_events = len(self.header["events"])
        self.inputs_size = sum(int(size) for _, size in self.header["inputs"])
        #: The state arrays each frame's check covers (empty: no checks).
        self.check_fields: tuple[str, ...] = tuple(self.header.get("check_fields") or ())
        self.block_frames = max(1, int(block_frames))
        self.frames_written = 0
        self._pending: list[tuple[int, bytes, bytes, float, bytes, bytes, int, int, int]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO | None = open(path, "xb")  # noqa: SIM115 - closed in close()
        text = json.dumps(self.header, sort_keys=True, allow_nan=False).encode("utf-8")
        self._file.write(_MAGIC + _U32.pack(len(text)) + text)
        self._file.flush()

    @property
    def closed(self) -> bool:
        """Whether `close` was called."""
        return self._file is None

    def add(
        self,
        frame: int,
        observation: npt.ArrayLike,
        action: npt.ArrayLike,
        reward: float,
        events: npt.ArrayLike,
        *,
        inputs: npt.ArrayLike | None = None,
        score: int = 0,
        lives: int = 0,
        check: int = 0,
    ) -> None:
        """Add one frame (copies the arrays, so engine views may be passed).

        Raises:
            RecordingError: A size differs from the header's, or a value is not finite.
        """
        obs = np.asarray(observation, dtype="<f4").reshape(-1)
        act = np.asarray(action, dtype="<f4").reshape(-1)
        ev = np.asarray(events, dtype=np.uint8).reshape(-1)
        inp = np.zeros(0, dtype="<f4") if inputs is None else np.asarray(inputs, dtype="<f4").reshape(-1)
        if (
            obs.size != self.obs_size
            or act.size != self.act_size
            or ev.size != self.n_events
            or inp.size != self.inputs_size
        ):
            raise RecordingError(
                f"frame {frame}: expected observation {self.obs_size}, action {self.act_size}, "
                f"{self.n_events} event counts and {self.inputs_size} inputs; got {obs.size}, {act.size}, "
                f"{ev.size} and {inp.size}"
            )
        if not (np.isfinite(obs).all() and np.isfinite(act).all() and np.isfinite(inp).all() and math.isfinite(reward)):
            raise RecordingError(f"frame {frame}: an observation, action, input or reward is not finite")
        row = (int(frame), obs.tobytes(), act.tobytes(), float(reward), ev.tobytes(), inp.tobytes())
        self._pending.append((*row, int(score), int(lives), int(check) & 0xFFFFFFFF))
        if len(self._pending) >= self.block_frames:
            self.flush()

    def add_params(self, frame: int, changes: Sequence[tuple[str, float]]) -> None:
        """Record per-world parameter changes set before the step of `frame` (written at once)."""
        if self._file is None or not changes:
            return
        self.flush()
        rows = [[int(frame), str(name), float(value)] for name, value in changes]
        self._write_block(_PARAMS, len(rows), json.dumps(rows, allow_nan=False).encode("utf-8"))

    def _write_block(self, tag: bytes, count: int, payload: bytes) -> None:
        assert self._file is not None
        self._file.write(_BLOCK_HEAD.pack(tag, count, len(payload), zlib.crc32(payload)) + payload)
        self._file.flush()

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
                b"".join(r[5] for r in rows),
                np.array([r[6] for r in rows], dtype="<i4").tobytes(),
                np.array([r[7] for r in rows], dtype="<i4").tobytes(),
                np.array([r[8] for r in rows], dtype="<u4").tobytes(),
            ]
        )
        self._write_block(_BLOCK, len(rows), payload)
        self.frames_written += len(rows)
        self._pending = []

    def close(self, outcome: Mapping[str, Any] | None = None) -> None:
        """Write what is buffered and the end marker (with the game's outcome), and close the file.

        Calling it again does nothing.
        """
        if self._file is None:
            return
        self.flush()
        text = json.dumps(dict(outcome or {}), sort_keys=True, allow_nan=False).encode("utf-8")
        self._file.write(_END + _U32.pack(self.frames_written) + _U32.pack(len(text)) + _U32.pack(zlib.crc32(text)))
        self._file.write(text)
        self._file.close()
        self._file = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _header(data: bytes, path: str | Path) -> tuple[dict[str, Any], int]:
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 4:
        raise RecordingError(f"{path} is not an AIP recording (bad magic bytes)")
    (length,) = _U32.unpack_from(data, len(_MAGIC))
    start = len(_MAGIC) + 4
    if length > _MAX_HEADER or start + length > len(data):
        raise RecordingError(f"{path}: the header is damaged (its length {length} runs past the file)")
    try:
        header = _json(data[start : start + length])
    except (ValueError, RecursionError) as exc:
        raise RecordingError(f"{path}: the header is damaged ({str(exc)[:200]})") from None
    if not isinstance(header, dict):
        raise RecordingError(f"{path}: the header is damaged (not a JSON object)")
    version = header.get("format_version")
    if version not in READABLE_VERSIONS:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise RecordingError(
            f"{path}: format version {version!r} is not supported (this reader: {readable})"
            + ("; it was written by a newer aip-game: upgrade aip-game to read it" if newer else "")
        )
    for key in ("observation_fields", "action_fields", "events"):
        if not isinstance(header.get(key), list) or len(header[key]) > _MAX_WIDTH:
            raise RecordingError(f"{path}: the header's {key!r} is missing, not a list or too long")
    inputs = header.get("inputs", [])
    if not isinstance(inputs, list) or not all(
        isinstance(item, list)
        and len(item) == 2
        and isinstance(item[1], int)
        and not isinstance(item[1], bool)
        and 0 <= item[1] <= _MAX_WIDTH
        for item in inputs
    ):
        raise RecordingError(f"{path}: the header's 'inputs' is not a list of [role, size]")
    return header, start + length


def _no_constant(name: str) -> Any:
    raise ValueError(f"it holds {name}")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"it holds {text[:40]}, too large for a number")
    return value


def _json(raw: bytes) -> Any:
    """UTF-8 JSON without NaN or infinities (which a recording never writes)."""
    return json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)


def _open_regular(path: str | Path) -> BinaryIO:
    """Open a recording for reading; a FIFO, a device or a folder is refused without blocking."""
    try:
        data = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise RecordingError(f"{path} is a directory, not a recording") from None
    handle = os.fdopen(data, "rb")
    mode = os.fstat(handle.fileno()).st_mode
    if not stat.S_ISREG(mode):
        handle.close()
        raise RecordingError(f"{path} is {_special(mode)}, not a recording file")
    return handle


def _special(mode: int) -> str:
    for test, kind in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def read_header(path: str | Path) -> dict[str, Any]:
    """Read only a recording's header (fast: the Record screen lists many files).

    Raises:
        RecordingError: The file is not a recording or its header is damaged.
        FileNotFoundError: There is no such file.
    """
    with _open_regular(path) as handle:
        head = handle.read(len(_MAGIC) + 4)
        if len(head) == len(_MAGIC) + 4 and head.startswith(_MAGIC):
            (length,) = _U32.unpack_from(head, len(_MAGIC))
            head += handle.read(min(length, _MAX_HEADER))
    return _header(head, path)[0]


@dataclass(frozen=True)
class RecordingSummary:
    """What a list of recordings shows, read without loading the frames (`summarize`).

    Attributes:
        path: The file.
        header: Its header.
        frames: Frames in its whole blocks.
        complete: Whether it ends with the end marker.
        outcome: The end marker's outcome (version 2), else None.
    """

    path: Path
    header: dict[str, Any]
    frames: int
    complete: bool
    outcome: dict[str, Any] | None

    @property
    def seconds(self) -> float:
        """Its length in seconds of game time."""
        return self.frames / 60.0


def summarize(path: str | Path) -> RecordingSummary:
    """Read a recording's header, length and outcome quickly (frame payloads are skipped, not checked).

    Raises:
        RecordingError: The file is not a recording or its header is damaged.
        FileNotFoundError: There is no such file.
    """
    path = Path(path)
    with _open_regular(path) as handle:
        head = handle.read(len(_MAGIC) + 4)
        if len(head) == len(_MAGIC) + 4 and head.startswith(_MAGIC):
            (length,) = _U32.unpack_from(head, len(_MAGIC))
            head += handle.read(min(length, _MAX_HEADER))
        header, offset = _header(head, path)
        v2 = header["format_version"] >= 2
        handle.seek(offset)
        total = os.fstat(handle.fileno()).st_size
        frames, complete, outcome = 0, False, None
        while True:
            block = handle.read(_BLOCK_HEAD.size if v2 else 4)
            if len(block) < 4:
                break
            if block[:4] in (_END, _END_V1):
                complete = True
                if v2 and len(block) == _BLOCK_HEAD.size:
                    _, _, length, crc = _BLOCK_HEAD.unpack(block)
                    # A damaged length may claim up to 4 GiB: read only what the file holds.
                    text = handle.read(length) if handle.tell() + length <= total else b""
                    try:
                        outcome = _json(text) if text and zlib.crc32(text) == crc else None
                    except (ValueError, RecursionError):
                        outcome = None
                break
            if not v2:
                block += handle.read(_BLOCK_HEAD.size - 4)
            if len(block) < _BLOCK_HEAD.size or block[:4] not in (_BLOCK, _BLOCK_V1, _PARAMS):
                break
            tag, n, size, _ = _BLOCK_HEAD.unpack(block)
            here = handle.tell()
            if here + size > total:
                break
            handle.seek(size, io.SEEK_CUR)
            if tag != _PARAMS:
                frames += n
    return RecordingSummary(path, header, frames, complete, outcome if isinstance(outcome, dict) else None)


def load(path: str | Path) -> Recording:
    """Read a recording (format 1 or 2), recovering every whole block of an interrupted one.

    Args:
        path: The ``.aiprec`` file.

    Returns:
        The recording; `Recording.complete` tells whether it was closed cleanly, and
        `Recording.notes` says what was skipped at the end of a damaged file.

    Raises:
        RecordingError: The file is not a recording, its header is damaged, or its format version is
            not readable (a newer game's file says to upgrade).
        FileNotFoundError: There is no such file.
    """
    try:
        data = read_regular(path, limit=_MAX_FILE, what="recording")
    except UnsafeFileError as exc:
        raise RecordingError(str(exc)) from None
    header, offset = _header(data, path)
    return _Reader(header, data, offset).read()


class _Reader:
    def __init__(self, header: dict[str, Any], data: bytes, offset: int) -> None:
        self.header = header
        self.version = int(header["format_version"])
        self.stream = io.BytesIO(data)
        self.stream.seek(offset)
        self.offset = offset
        self.obs = len(header["observation_fields"])
        self.act = len(header["action_fields"])
        self.ev = len(header["events"])
        try:
            self.inp = sum(int(size) for _, size in header.get("inputs", [])) if self.version >= 2 else 0
        except (TypeError, ValueError):
            raise RecordingError("the header's 'inputs' is not a list of [role, size]") from None
        self.columns: list[tuple[str, Any, int]] = [
            ("frames", "<i4", 1),
            ("observations", "<f4", self.obs),
            ("actions", "<f4", self.act),
            ("rewards", "<f4", 1),
            ("events", np.uint8, self.ev),
        ]
        if self.version >= 2:
            self.columns += [
                ("inputs", "<f4", self.inp),
                ("scores", "<i4", 1),
                ("lives", "<i4", 1),
                ("checks", "<u4", 1),
            ]
        self.row_size = sum(np.dtype(dtype).itemsize * width for _, dtype, width in self.columns)
        self.parts: dict[str, list[npt.NDArray[Any]]] = {name: [] for name, _, _ in self.columns}
        self.params: list[ParamChange] = []
        self.notes: list[str] = []
        self.complete = False
        self.outcome: dict[str, Any] | None = None

    def read(self) -> Recording:
        block, end = (_BLOCK, _END) if self.version >= 2 else (_BLOCK_V1, _END_V1)
        while True:
            head = self.stream.read(_BLOCK_HEAD.size if self.version >= 2 else 4)
            if not head:
                break
            tag = head[:4]
            if tag == end:
                self._end(head)
                break
            if self.version < 2:
                head += self.stream.read(_BLOCK_HEAD.size - 4)
            if len(head) < _BLOCK_HEAD.size or tag not in (block, _PARAMS):
                self.notes.append(f"stopped at byte {self.offset}: not a whole block")
                break
            _, n, size, crc = _BLOCK_HEAD.unpack(head)
            payload = self.stream.read(size)
            if len(payload) < size or zlib.crc32(payload) != crc or not self._take(tag, n, payload):
                self.notes.append(f"stopped at byte {self.offset}: a damaged or short block of {n} entries")
                break
            self.offset += _BLOCK_HEAD.size + size
        return self._assemble()

    def _end(self, head: bytes) -> None:
        if self.version < 2:
            self.complete = True
            return
        rest = head[4:]
        if len(rest) < 12:
            self.notes.append(f"stopped at byte {self.offset}: a short end marker")
            return
        _, length, crc = struct.unpack("<III", rest[:12])
        text = self.stream.read(length)
        try:
            outcome = _json(text) if zlib.crc32(text) == crc else None
        except (ValueError, RecursionError):
            outcome = None
        if not isinstance(outcome, dict):
            self.notes.append(f"at byte {self.offset}: a damaged end marker (the outcome is lost)")
            return
        self.complete = True
        self.outcome = outcome

    def _take(self, tag: bytes, n: int, payload: bytes) -> bool:
        if tag == _PARAMS:
            try:
                rows = _json(payload)
                changes = [ParamChange(int(f), str(name), float(v)) for f, name, v in rows]
            except (ValueError, TypeError, OverflowError, RecursionError):
                return False
            if len(changes) != n or not all(math.isfinite(c.value) for c in changes):
                return False
            self.params += changes
            return True
        if len(payload) != n * self.row_size:
            return False
        cut = 0
        taken: dict[str, npt.NDArray[Any]] = {}
        for name, dtype, width in self.columns:
            size = n * width * np.dtype(dtype).itemsize
            column = np.frombuffer(payload[cut : cut + size], dtype=dtype)
            taken[name] = (
                column
                if width == 1 and name not in ("observations", "actions", "events", "inputs")
                else column.reshape(n, width)
            )
            cut += size
        for name in ("observations", "actions", "rewards", "inputs"):
            if name in taken and not np.isfinite(taken[name]).all():
                return False
        for name, column in taken.items():
            self.parts[name].append(column)
        return True

    def _assemble(self) -> Recording:
        def join(name: str, dtype: Any, width: int) -> npt.NDArray[Any]:
            chunks = self.parts.get(name, [])
            if chunks:
                return np.concatenate(chunks).astype(dtype)
            return np.zeros(
                (0,) if name in ("frames", "rewards", "scores", "lives", "checks") else (0, width), dtype=dtype
            )

        kwargs: dict[str, Any] = {}
        if self.version >= 2:
            kwargs = {
                "inputs": join("inputs", np.float32, self.inp),
                "scores": join("scores", np.int32, 1),
                "lives": join("lives", np.int32, 1),
                "checks": join("checks", np.uint32, 1),
            }
        return Recording(
            header=self.header,
            frames=join("frames", np.int32, 1),
            observations=join("observations", np.float32, self.obs),
            actions=join("actions", np.float32, self.act),
            rewards=join("rewards", np.float32, 1),
            events=join("events", np.uint8, self.ev),
            complete=self.complete,
            notes=self.notes,
            format_version=self.version,
            param_changes=self.params,
            outcome=self.outcome,
            **kwargs,
        )
