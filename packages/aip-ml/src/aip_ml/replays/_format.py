r"""The replay file: evaluation episodes as the engine played them, frame by frame.

A replay (``.aipreplay``) is a NumPy ``.npz`` archive read with ``allow_pickle=False`` (it can hold
arrays only, never code). It holds ``K`` episodes padded to the longest; index ``t`` of an episode is
the world after ``t`` steps (``t = 0`` is the state after the reset), up to ``frames[k]``:

==================  ==================  ============================================================
array               shape, dtype        what
==================  ==================  ============================================================
``header``          (n,) uint8          UTF-8 JSON: ``format`` ("aip-replay"), ``format_version``,
                                        ``task``, ``roles`` (who acted: role -> controller),
                                        ``seed``, ``config`` (every rule number), ``events`` (the
                                        engine's event names), ``update``, ``global_step``, ``label``
``frames``          (K,) int32          steps of each episode
``success``         (K,) bool           whether the episode ended in the task's success
``returns``         (K,) float32        the agent role's return
``player_pos``      (K, T+1, 2) f4      centres, arena pixels
``player_vel``      (K, T+1, 2) f4      the player's velocity (its ship points along it)
``enemy_pos``       (K, T+1, 2) f4
``enemy_active``    (K, T+1) bool       false while the enemy waits to respawn
``enemy_fade``      (K, T+1) int16      frames since it reappeared (the renderer fades it in)
``missile_pos``     (K, T+1, M, 2) f4   M missile slots
``missile_alive``   (K, T+1, M) bool
``invulnerable``    (K, T+1) int16      the player's invulnerability frames left
``events``          (K, T+1, E) uint8   event counts of the step that led to index t (0 at t = 0)
``rewards``         (K, T+1) float32    the agent role's reward of that step
==================  ==================  ============================================================

Files are written atomically and only ever replace a regular file.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FORMAT_VERSION", "SUFFIX", "Replay", "ReplayError", "load_replay", "save_replay"]

#: Version of the replay format written by this module.
FORMAT_VERSION = 1
#: File name suffix of replays.
SUFFIX = ".aipreplay"
#: The largest replay file read (a replay of a few episodes is well under 1 MB).
MAX_BYTES = 64 * 1024 * 1024

_ARRAYS: dict[str, tuple[Any, int]] = {  # name -> (dtype, number of dimensions)
    "frames": (np.int32, 1),
    "success": (np.bool_, 1),
    "returns": (np.float32, 1),
    "player_pos": (np.float32, 3),
    "player_vel": (np.float32, 3),
    "enemy_pos": (np.float32, 3),
    "enemy_active": (np.bool_, 2),
    "enemy_fade": (np.int16, 2),
    "missile_pos": (np.float32, 4),
    "missile_alive": (np.bool_, 3),
    "invulnerable": (np.int16, 2),
    "events": (np.uint8, 3),
    "rewards": (np.float32, 2),
}


class ReplayError(ValueError):
    """A file is not a replay, or is damaged or of an unknown version."""


@dataclass
class Replay:
    """Episodes as the engine played them (see the module's table for every array).

    Attributes:
        header: Task, roles, seed, config, event names, update, global step, label.
        arrays: The arrays of the table, by name.
    """

    header: dict[str, Any]
    arrays: dict[str, npt.NDArray[Any]] = field(default_factory=dict)

    @property
    def episodes(self) -> int:
        """How many episodes the replay holds."""
        return int(self.arrays["frames"].shape[0])

    @property
    def event_names(self) -> tuple[str, ...]:
        """The names of the last axis of ``events``."""
        return tuple(self.header["events"])

    def episode(self, k: int) -> dict[str, npt.NDArray[Any]]:
        """The arrays of episode ``k``, cut to its length (``frames[k] + 1`` states).

        Args:
            k: The episode's index.

        Returns:
            Name to array without the episode axis (``frames``, ``success`` and ``returns`` as 0-d).

        Raises:
            IndexError: No such episode.
        """
        if not 0 <= k < self.episodes:
            raise IndexError(f"episode {k} does not exist; the replay holds {self.episodes} (0..{self.episodes - 1})")
        n = int(self.arrays["frames"][k]) + 1
        return {name: (value[k] if value.ndim == 1 else value[k, :n]) for name, value in self.arrays.items()}

    def validate(self) -> None:
        """Check names, dtypes and shapes against the format.

        Raises:
            ReplayError: What is missing or inconsistent.
        """
        missing = sorted(set(_ARRAYS) - set(self.arrays))
        if missing:
            raise ReplayError(f"replay lacks the arrays {missing}")
        k = self.arrays["frames"].shape[0]
        steps = int(self.arrays["frames"].max()) + 1 if k else 1
        for name, (dtype, ndim) in _ARRAYS.items():
            value = self.arrays[name]
            if value.dtype != np.dtype(dtype) or value.ndim != ndim:
                raise ReplayError(f"replay array {name!r} is {value.dtype}[{value.ndim}-d]; expected {np.dtype(dtype)}")
            if value.shape[0] != k or (ndim > 1 and value.shape[1] < steps):
                raise ReplayError(f"replay array {name!r} has shape {value.shape}; {k} episodes of {steps} states")
        if self.arrays["events"].shape[2] != len(self.event_names):
            raise ReplayError("replay events do not match the header's event names")


def save_replay(path: str | os.PathLike[str], replay: Replay) -> Path:
    """Write a replay atomically (a temporary file, then a rename over a regular file or nothing).

    Args:
        path: The file (``.aipreplay`` by convention).
        replay: What to write.

    Returns:
        The path written.

    Raises:
        ReplayError: The replay is inconsistent, or ``path`` is something other than a regular file.
    """
    replay.validate()
    target = Path(path)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise ReplayError(f"{target} exists and is not a regular file; refusing to replace it")
    header = {"format": "aip-replay", "format_version": FORMAT_VERSION, **replay.header}
    payload = {"header": np.frombuffer(json.dumps(header, sort_keys=True).encode("utf-8"), np.uint8)}
    payload.update(replay.arrays)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez_compressed(handle, **payload)  # type: ignore[arg-type]
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_replay(source: str | os.PathLike[str] | bytes) -> Replay:
    """Read a replay file (or its bytes), checking it against the format.

    Args:
        source: A path, or the file's content.

    Returns:
        The replay.

    Raises:
        ReplayError: Not a replay, too large, damaged, or a newer format version.
        FileNotFoundError: No such file.
    """
    if isinstance(source, bytes):
        data, name = source, "replay"
    else:
        path = Path(source)
        if path.stat().st_size > MAX_BYTES:
            raise ReplayError(f"{path} is larger than {MAX_BYTES} bytes; not a replay")
        data, name = path.read_bytes(), str(path)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ReplayError(f"{name} is not a replay file ({exc})") from None
    raw = arrays.pop("header", None)
    try:
        header = json.loads(bytes(raw).decode("utf-8")) if raw is not None else None
    except (ValueError, UnicodeDecodeError):
        header = None
    if not isinstance(header, dict) or header.get("format") != "aip-replay":
        raise ReplayError(f"{name} is not a replay file (no replay header)")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ReplayError(f"{name}: replay format version {version} is not supported (this reader: {FORMAT_VERSION})")
    replay = Replay(header, arrays)
    replay.validate()
    return replay
