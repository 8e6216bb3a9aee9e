"""Where runs and models are kept: the tracking URI, its artifact location, and a client for it.

The default store is a SQLite database ``mlflow.db`` with artifacts in ``mlartifacts/``, both in the
working directory and created on first use. ``--tracking-uri`` or ``MLFLOW_TRACKING_URI`` points the same
code at any MLflow server (``http://host:5000``) or another SQLite file. MLflow's file store is
deprecated and is refused.
"""

from __future__ import annotations

import logging
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aip_ml.tracking._errors import StoreUnavailableError, TrackingError

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = [
    "DEFAULT_ARTIFACTS_DIR",
    "DEFAULT_DB_FILE",
    "StoreStatus",
    "artifact_root",
    "check_store",
    "default_tracking_uri",
    "ensure_experiment",
    "make_client",
    "resolve_tracking_uri",
    "store_exists",
]

DEFAULT_DB_FILE = "mlflow.db"
DEFAULT_ARTIFACTS_DIR = "mlartifacts"
_HEALTH_TIMEOUT_S = 3.0


def default_tracking_uri(cwd: Path | None = None) -> str:
    """The default store: ``sqlite:///<cwd>/mlflow.db`` (an absolute path, so a later ``chdir`` is safe).

    Args:
        cwd: The directory that holds the store; the current working directory when omitted.

    Returns:
        A SQLite tracking URI.
    """
    base = (cwd or Path.cwd()).resolve()
    return f"sqlite:///{base / DEFAULT_DB_FILE}"


def resolve_tracking_uri(uri: str | None = None) -> str:
    """The tracking URI to use: ``uri``, else ``MLFLOW_TRACKING_URI``, else the SQLite default.

    Args:
        uri: An explicit URI (``--tracking-uri``), or ``None``.

    Returns:
        The URI, validated.

    Raises:
        TrackingError: The URI names MLflow's deprecated file store or an unknown scheme.
    """
    chosen = uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    scheme = chosen.split(":", 1)[0].lower() if ":" in chosen else ""
    if scheme in ("", "file") or re.match(r"^[a-zA-Z]:[\\/]", chosen):
        raise TrackingError(
            f"tracking URI {chosen!r} names MLflow's file store, which is deprecated; use a SQLite "
            f"database (e.g. sqlite:///{DEFAULT_DB_FILE}) or a server (http://HOST:PORT)"
        )
    if not (
        scheme.startswith("sqlite")
        or scheme in ("http", "https")
        or "+" in scheme
        or scheme in ("postgresql", "mysql", "mssql", "databricks")
    ):
        raise TrackingError(
            f"tracking URI {chosen!r} has an unsupported scheme {scheme!r}; use sqlite:///PATH or http://HOST:PORT"
        )
    return chosen


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI, or ``None`` for other stores and in-memory SQLite."""
    if not uri.lower().startswith("sqlite:"):
        return None
    rest = uri.split(":", 1)[1]
    if not rest.startswith("///"):
        return None
    path = rest[3:].split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path)


def _is_http(uri: str) -> bool:
    return uri.lower().startswith(("http://", "https://"))


def artifact_root(uri: str) -> str | None:
    """The artifact location for new experiments of a SQLite store: ``mlartifacts/`` beside the database.

    Args:
        uri: A tracking URI.

    Returns:
        A ``file://`` URI for SQLite stores; ``None`` for servers, which choose their own location
        (``mlflow-artifacts:/`` with ``--serve-artifacts``).
    """
    db = _sqlite_path(uri)
    if db is None:
        return None
    return (db.resolve().parent / DEFAULT_ARTIFACTS_DIR).as_uri()


def store_exists(uri: str) -> bool:
    """Whether a store is there to read, without creating anything.

    A SQLite store exists when its file does; a server store is assumed to (its reachability is
    :func:`check_store`'s business).

    Args:
        uri: A tracking URI.

    Returns:
        ``True`` when reading it makes sense.
    """
    db = _sqlite_path(uri)
    if db is not None:
        return db.is_file()
    return not uri.lower().startswith("sqlite:")


@dataclass(frozen=True)
class StoreStatus:
    """What :func:`check_store` found.

    Attributes:
        uri: The tracking URI.
        location: A human description of where data lives (a path or a URL).
        exists: Whether the store has been created.
        reachable: Whether it answers (a server's ``/health``; a SQLite file that can be opened).
        detail: Why it is not reachable, or extra facts.
    """

    uri: str
    location: str
    exists: bool
    reachable: bool
    detail: str


def check_store(uri: str, timeout_s: float = _HEALTH_TIMEOUT_S) -> StoreStatus:
    """Probe a store quickly, creating nothing.

    Args:
        uri: A tracking URI.
        timeout_s: How long to wait for a server to answer.

    Returns:
        The store's status.
    """
    db = _sqlite_path(uri)
    if db is not None:
        root = artifact_root(uri) or ""
        location = f"{db} (artifacts: {root.removeprefix('file://')})"
        if not db.is_file():
            return StoreStatus(uri, location, False, True, "not created yet; created on first use")
        import sqlite3

        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=timeout_s)
            try:
                con.execute("select count(*) from sqlite_master").fetchone()
            finally:
                con.close()
        except sqlite3.Error as exc:
            return StoreStatus(uri, location, True, False, f"cannot open the database: {exc}")
        return StoreStatus(uri, location, True, True, "ok")
    if _is_http(uri):
        url = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(url, timeout=timeout_s) as response:
                ok = 200 <= response.status < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return StoreStatus(uri, uri, True, False, f"no answer from {url}: {reason}")
        return StoreStatus(uri, uri, True, ok, "ok" if ok else f"{url} answered with an error")
    return StoreStatus(uri, uri, True, True, "not probed (database server)")


def _quiet_mlflow() -> None:
    """Keep MLflow's informational logging and download bars out of the user's terminal."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("mlflow", "alembic"):
        logger = logging.getLogger(name)
        if logger.level in (logging.NOTSET, logging.DEBUG, logging.INFO):
            logger.setLevel(logging.WARNING)


def make_client(uri: str | None = None, *, probe: bool = True) -> MlflowClient:
    """An MLflow client for the tracking store and the model registry at ``uri``.

    Args:
        uri: A tracking URI, or ``None`` for :func:`resolve_tracking_uri`'s choice.
        probe: Check first that a server answers, so that a stopped server fails in seconds with a
            clear message instead of after MLflow's retries.

    Returns:
        A client whose tracking and registry URIs are both ``uri``.

    Raises:
        StoreUnavailableError: The store does not answer.
        TrackingError: The URI is not acceptable.
    """
    resolved = resolve_tracking_uri(uri)
    if probe:
        status = check_store(resolved)
        if not status.reachable:
            raise StoreUnavailableError(
                f"tracking store {resolved} is not reachable ({status.detail}); start the server or "
                "pass another --tracking-uri"
            )
    from mlflow import MlflowClient

    _quiet_mlflow()  # after the import: importing mlflow sets its logger to INFO
    db = _sqlite_path(resolved)
    if db is None:
        return MlflowClient(tracking_uri=resolved, registry_uri=resolved)
    from aip_ml._locks import file_lock

    # Creating the client creates the database and runs MLflow's migrations: one process at a time.
    with file_lock(db.with_name(db.name + ".lock")):
        return MlflowClient(tracking_uri=resolved, registry_uri=resolved)


def ensure_experiment(client: MlflowClient, name: str) -> str:
    """The id of the experiment ``name``, created on first use.

    For SQLite stores a new experiment keeps its artifacts under ``mlartifacts/<name>/`` beside the
    database; a server chooses its own location.

    Args:
        client: A client from :func:`make_client`.
        name: The experiment's name (the task's name).

    Returns:
        The experiment id.
    """
    from mlflow.exceptions import MlflowException

    found = client.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return str(found.experiment_id)
    root = artifact_root(client.tracking_uri)
    location = f"{root}/{re.sub(r'[^A-Za-z0-9._-]', '_', name)}" if root else None
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except MlflowException:
        # Another process may have created it between the lookup and the creation.
        again = client.get_experiment_by_name(name)
        if again is None:
            raise
        return str(again.experiment_id)
