"""An advisory lock file shared by the processes of one machine (``fcntl.flock``).

SQLite serialises writes by itself, but creating a database is not safe to race: MLflow and Optuna
create their tables and run their schema migrations when a store is first opened, and two processes
doing that at once make one of them fail ("table ... already exists", "duplicate column"). Opening a
SQLite store therefore happens under ``<database>.lock``. Where ``fcntl`` is missing (Windows) the lock
does nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["file_lock"]


@contextlib.contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if needed) for the ``with`` block.

    Args:
        path: The lock file, e.g. ``mlflow.db.lock`` beside the database.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    lock = Path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
