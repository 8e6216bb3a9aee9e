"""Where a study lives: Optuna storages from a command-line string, and the study itself.

The default is a SQLite file ``optuna.db`` in the working directory. Any URL Optuna's RDB storage takes
works the same (``postgresql://...``, ``mysql+pymysql://...``, another ``sqlite:///PATH``), and
``journal:PATH`` is Optuna's journal file (`optuna.storages.journal.JournalFileBackend`), which
several processes on one machine, or on machines sharing a file system, append to without a database.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigError

if TYPE_CHECKING:
    import optuna

__all__ = ["DEFAULT_STORAGE_FILE", "StudyError", "default_storage", "open_storage", "storage_label"]

DEFAULT_STORAGE_FILE = "optuna.db"
# Seconds a SQLite connection waits for another process's write to finish before it gives up.
_SQLITE_TIMEOUT_S = 120


class StudyError(ConfigError):
    """A study cannot be opened or joined as asked; the message says why and what to do."""


def default_storage(cwd: Path | None = None) -> str:
    """The default storage: ``sqlite:///<cwd>/optuna.db`` (absolute, so a later ``chdir`` is safe)."""
    return f"sqlite:///{(cwd or Path.cwd()).resolve() / DEFAULT_STORAGE_FILE}"


def storage_label(text: str | None) -> str:
    """The storage as the user can pass it again (``--storage``), with relative journal paths made absolute."""
    if not text:
        return default_storage()
    if text.startswith("journal:"):
        return "journal:" + str(Path(text.removeprefix("journal:")).resolve())
    return text


def open_storage(text: str | None) -> optuna.storages.BaseStorage:
    """An Optuna storage for ``--storage``: None (``optuna.db`` here), an RDB URL or ``journal:PATH``.

    Args:
        text: The storage string.

    Returns:
        The storage.

    Raises:
        StudyError: The string is not a storage Optuna can open, or the database does not answer.
    """
    import optuna
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    label = storage_label(text)
    if label.startswith("journal:"):
        path = Path(label.removeprefix("journal:"))
        if path.exists() and not path.is_file():
            raise StudyError(f"--storage {text!r}: {str(path)!r} is not a regular file; name a journal file")
        path.parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(str(path)))
    if "://" not in label:
        raise StudyError(
            f"--storage {text!r} is not an Optuna storage; use a database URL (sqlite:///optuna.db, "
            "postgresql://USER@HOST/DB) or journal:FILE (Optuna's journal file)"
        )
    kwargs: dict[str, Any] = {}
    if label.startswith("sqlite:"):
        # Several processes write one file: wait for each other's transactions rather than fail.
        kwargs["connect_args"] = {"timeout": _SQLITE_TIMEOUT_S}
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        if label.startswith("sqlite:///"):
            from .._locks import file_lock

            db = Path(label.removeprefix("sqlite:///").split("?", 1)[0])
            # Optuna creates its tables when a storage is first opened: one process at a time.
            with file_lock(db.with_name(db.name + ".lock")):
                return RDBStorage(label, engine_kwargs=kwargs)
        return RDBStorage(label, engine_kwargs=kwargs)
    except ImportError as exc:
        raise StudyError(f"--storage {text!r} needs a database driver that is not installed: {exc}") from None
    except Exception as exc:  # sqlalchemy's errors: a bad URL, a server that does not answer
        raise StudyError(f"cannot open the study storage {text!r}: {type(exc).__name__}: {exc}") from None
