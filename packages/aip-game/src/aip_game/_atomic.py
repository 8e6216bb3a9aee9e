"""Atomic writes: a file is either the old one or the complete new one, never half written.

The game writes through the engine's one implementation (`aip_engine._files.write_atomic`): a
temporary file in the same folder, flushed, then renamed over the destination; only a regular file
(or a missing one) is ever replaced, never a device, a FIFO or a directory (docs/security.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aip_engine._files import UnsafeFileError, write_atomic

__all__ = ["UnsafeFileError", "write_bytes_atomic", "write_json_atomic"]


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and an atomic rename.

    Args:
        path: The destination; its folder is created when missing.
        data: The bytes to write.

    Raises:
        UnsafeFileError: `path` is not a regular file (a device, a FIFO, a directory).
        OSError: The folder cannot be written.
    """
    write_atomic(path, data)


def write_json_atomic(path: Path, value: Any) -> None:
    """Write `value` as indented JSON to `path` atomically (see `write_bytes_atomic`)."""
    write_bytes_atomic(path, (json.dumps(value, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8"))
