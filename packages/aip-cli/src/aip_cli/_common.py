"""Options and small pieces shared by several commands."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from aip_cli._errors import CliError, ExitCode

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = [
    "JSON_OPTION",
    "TRACKING_OPTION",
    "PolicyChoice",
    "client_for",
    "parse_policy_choice",
]

TRACKING_OPTION = typer.Option(
    None,
    "--tracking-uri",
    envvar="MLFLOW_TRACKING_URI",
    metavar="URI",
    help="MLflow store: sqlite:///PATH or http://HOST:PORT [default: sqlite:///mlflow.db here].",
    show_envvar=True,
)
JSON_OPTION = typer.Option(False, "--json", help="Write one JSON document to stdout, for scripts.")


def client_for(tracking_uri: str | None) -> MlflowClient:
    """A client for the store, or a clear error when it does not answer.

    Args:
        tracking_uri: ``--tracking-uri``, or ``None``.

    Returns:
        An MLflow client.
    """
    from aip_ml.tracking import make_client

    return make_client(tracking_uri)


def require_store(tracking_uri: str | None) -> str:
    """The resolved URI of a store that must already exist (for reading commands).

    Args:
        tracking_uri: ``--tracking-uri``, or ``None``.

    Returns:
        The URI.

    Raises:
        CliError: A SQLite store that does not exist yet (exit 3).
    """
    from aip_ml.tracking import resolve_tracking_uri, store_exists

    uri = resolve_tracking_uri(tracking_uri)
    if not store_exists(uri):
        raise CliError(
            f"no tracking store at {uri} (nothing trained here yet); run `aip train TASK` in this "
            "folder, or pass --tracking-uri",
            ExitCode.NOT_FOUND,
        )
    return uri


@dataclass(frozen=True)
class PolicyChoice:
    """What an ``aip eval``/``aip play`` argument names.

    Attributes:
        kind: ``"bot"``, ``"file"`` or ``"model"``.
        value: The bot's name, the file's path, or the model reference.
    """

    kind: str
    value: str

    @property
    def path(self) -> Path:
        """The file's path (kind ``file``)."""
        return Path(self.value)


def parse_policy_choice(text: str) -> PolicyChoice:
    """Tell ``bot:NAME``, an existing policy file and a model reference apart.

    Args:
        text: The argument.

    Returns:
        The choice.

    Raises:
        CliError: An empty bot name, or a path that looks like a file but does not exist.
    """
    text = text.strip()
    if text.startswith("bot:"):
        name = text[4:]
        if not name:
            raise CliError("bot: needs a name, e.g. bot:chase (see `aip eval --help`)", ExitCode.USAGE)
        return PolicyChoice("bot", name)
    if text.startswith("models:/"):
        return PolicyChoice("model", text)
    path = Path(text)
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, or holding a NUL
        is_file = False
    if is_file:
        return PolicyChoice("file", str(path))
    looks_like_path = ("/" in text and not text.rsplit("/", 1)[-1].isdigit()) or text.startswith(".")
    if path.suffix or looks_like_path:
        told = text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"
        raise CliError(
            f"policy file not found: {told} (nor is it a model reference: NAME, NAME/VERSION or "
            "NAME@ALIAS; list the models with `aip models list`)",
            ExitCode.NOT_FOUND,
        )
    return PolicyChoice("model", text)
