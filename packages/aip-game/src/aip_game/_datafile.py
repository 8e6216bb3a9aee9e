"""The game's small JSON files (high scores, settings): read as untrusted, damage reported and kept aside.

The documented behaviour (docs/game.md) for a damaged file: report it, keep a copy, start with the
defaults. "Damaged" is anything that is not a small UTF-8 JSON document of plain values: bytes that
are not UTF-8, JSON that does not parse or nests too deeply, ``NaN``/``Infinity``, a file of more than
a megabyte. A path that is not a regular file (a FIFO, a device, a folder) is reported and left alone:
it is neither read (a FIFO would block the game) nor moved nor replaced.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

from aip_engine._files import UnsafeFileError, read_regular

__all__ = ["MAX_BYTES", "DamagedFile", "keep_aside", "read_json"]

#: The largest game data file read.
MAX_BYTES = 2**20
_MAX_DEPTH = 32


class DamagedFile(ValueError):
    """The file exists and is a regular file, but its content is not a valid document."""


def _no_constant(name: str) -> Any:
    raise DamagedFile(f"it holds {name}, which JSON data files may not")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e400 parses to infinity
        raise DamagedFile(f"it holds {text}, too large for a number")
    return value


def _depth(value: Any, limit: int) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise DamagedFile(f"it nests deeper than {limit} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def read_json(path: Path, what: str) -> Any:
    """Return the parsed document of `path`, or None when it does not exist.

    Raises:
        DamagedFile: The content is damaged (the caller keeps it aside and starts with defaults).
        UnsafeFileError: The path is not a regular file, or the file is too large.
        OSError: The file cannot be read.
    """
    try:
        raw = read_regular(path, limit=MAX_BYTES, what=what)
    except FileNotFoundError:
        return None
    except UnsafeFileError as exc:
        if exc.errno == errno.EFBIG:  # a regular file, merely too large: damaged like any other
            raise DamagedFile(f"it is larger than {MAX_BYTES} bytes") from None
        raise
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DamagedFile(f"it is not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise DamagedFile("it nests too deeply") from None
    except DamagedFile:
        raise
    except ValueError as exc:  # JSONDecodeError, and integers too long to convert
        raise DamagedFile(str(exc).splitlines()[0][:200]) from None
    _depth(value, _MAX_DEPTH)
    return value


def keep_aside(path: Path) -> Path:
    """Move a damaged file to a fresh ``<name>.corrupt`` (``.corrupt-2``, ...) beside it, never over another.

    Returns:
        Where it was moved.

    Raises:
        OSError: It could not be moved.
    """
    for n in range(1, 1000):
        backup = path.with_name(path.name + (".corrupt" if n == 1 else f".corrupt-{n}"))
        try:
            os.link(path, backup)  # fails if the name is taken: an older copy is never replaced
        except FileExistsError:
            continue
        except OSError:  # no hard links here: a rename, after checking the name is free
            if os.path.lexists(backup):
                continue
            os.replace(path, backup)
            return backup
        os.unlink(path)
        return backup
    raise FileExistsError(f"too many damaged copies of {path.name} beside it; delete some")
