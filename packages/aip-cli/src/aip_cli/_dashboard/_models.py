"""The Models page: registered versions with scores beside the scripted bots, lineage, ratings; promotion.

Lineage and ratings are read from a version's tags where they exist: lineage from the tags that
``aip_ml.train``'s plugins write (``aip.init_from.*``: the model or checkpoint a transfer started
from; ``aip.demos*`` and ``aip.imitate_bot``: what was imitated), ratings from the ``rating.*`` and
``aip.rating.*`` tags. Versions without them show the rest.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from aip_ml.tracking import ModelVersionInfo

__all__ = ["PROMOTE_LIMITS", "describe_version", "promote_request"]

_LINEAGE_KEYS = ("aip.init_from", "aip.imitate_bot", "aip.demos")
_LINEAGE_PREFIXES = ("aip.init_from.", "aip.demos.", "aip.lineage.")
_RATING_PREFIXES = ("rating.", "aip.rating.", "aip.league.rating")
_BOT_SCORE = re.compile(r"^bot\.(?P<bot>[^.]+)\.(?P<score>.+)$")
#: Bounds of a promotion request's episodes (the command's default is 100).
PROMOTE_LIMITS = (1, 2000)
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}(/\d{1,9}|@[A-Za-z0-9_-]{1,60})$")


def describe_version(info: ModelVersionInfo) -> dict[str, Any]:
    """One version as the Models page shows it.

    Args:
        info: The version (``aip_ml.tracking.list_versions``).

    Returns:
        ``aip models list --json``'s fields, plus ``agent`` (its scores), ``bots`` (each scripted
        bot's scores on the same episodes), ``lineage`` and ``ratings``.
    """
    data = info.to_dict()
    agent: dict[str, float] = {}
    bots: dict[str, dict[str, float]] = {}
    for key, value in info.scores.items():
        match = _BOT_SCORE.match(key)
        if match:
            bots.setdefault(match["bot"], {})[match["score"]] = value
        else:
            agent[key] = value
    tags = info.tags
    lineage = {k: v for k, v in tags.items() if k in _LINEAGE_KEYS or k.startswith(_LINEAGE_PREFIXES)}
    ratings: dict[str, float | str] = {}
    for key, text in tags.items():
        if key.startswith(_RATING_PREFIXES):
            try:
                ratings[key] = float(text)
            except ValueError:
                ratings[key] = text
    data.update(agent=agent, bots=bots, lineage=lineage, ratings=ratings)
    return data


def promote_request(client: MlflowClient, body: Any) -> dict[str, Any]:
    """Promote a version as ``aip models promote`` does, from the page's request.

    Args:
        client: A client of the store.
        body: The decoded JSON body: ``reference`` (NAME/VERSION or NAME@ALIAS), ``episodes``
            (optional, default 100), ``force`` (optional, default false).

    Returns:
        The decision (``Promotion.to_dict()``).

    Raises:
        ValueError: A body that is not as above (the message says what).
    """
    if not isinstance(body, dict) or set(body) - {"reference", "episodes", "force"}:
        raise ValueError("a promotion request is {reference, episodes?, force?}")
    reference = body.get("reference")
    episodes = body.get("episodes", 100)
    force = body.get("force", False)
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise ValueError("reference must be NAME/VERSION or NAME@ALIAS")
    low, high = PROMOTE_LIMITS
    if isinstance(episodes, bool) or not isinstance(episodes, int) or not low <= episodes <= high:
        raise ValueError(f"episodes must be a whole number in [{low}, {high}]")
    if not isinstance(force, bool):
        raise ValueError("force must be true or false")
    from aip_cli._models import promote_reference

    outcome = promote_reference(client, reference, episodes=episodes, seed=12345, force=force)
    return outcome.to_dict()
