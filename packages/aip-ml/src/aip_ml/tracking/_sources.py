"""The game's policy-source plugin: registered model versions as opponents.

Registered under the entry-point group ``aip_game.policy_sources``; the game calls
:func:`policy_sources` without importing aip-ml itself. It never raises: with no store (no
``mlflow.db`` here and no ``MLFLOW_TRACKING_URI``), or a store that does not answer, it returns ``[]``.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["cache_dir", "cached_policy", "policy_sources", "rating_sources"]

_log = logging.getLogger(__name__)
_PROBE_TIMEOUT_S = 1.0


def cache_dir() -> Path:
    """Where downloaded policies are kept.

    ``$AIP_CACHE_DIR``, else ``$XDG_CACHE_HOME/aip``, else ``~/.cache/aip``.

    Returns:
        The directory (not created).
    """
    explicit = os.environ.get("AIP_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "aip"


def cached_policy(tracking_uri: str, name: str, version: str) -> Path:
    """The local path of a version's policy file, downloaded once into the cache.

    Versions never change once registered, so a cached copy stays valid.

    Args:
        tracking_uri: The store.
        name: The registered model.
        version: The version number.

    Returns:
        The policy file.
    """
    from aip_ml.tracking._registry import download_policy, version_info
    from aip_ml.tracking._store import make_client

    store_key = hashlib.sha256(tracking_uri.encode()).hexdigest()[:12]
    final = cache_dir() / "models" / store_key / name / str(version)
    if final.is_dir():
        files = sorted(p for p in final.rglob("*") if p.is_file())
        if files:
            return files[0]
    client = make_client(tracking_uri)
    info = version_info(client, name, version)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=final.parent))
    try:
        policy = download_policy(client, info, staging)
        relative = policy.relative_to(staging)
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():  # not a concurrent download that won: a real failure
                raise
        return final / relative
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def policy_sources() -> list[tuple[str, str, Callable[[], Path]]]:
    """Every registered model version of the current tracking store, as game opponents.

    Returns:
        ``(label, role, loader)`` for each version, champions first; ``loader()`` returns the local
        path of the policy file (downloading it on first use). ``[]`` when no store exists or it
        cannot be read.
    """
    try:
        from aip_ml.tracking._store import check_store, resolve_tracking_uri, store_exists

        uri = resolve_tracking_uri(None)
        if not store_exists(uri) or not check_store(uri, timeout_s=_PROBE_TIMEOUT_S).reachable:
            return []
        from aip_ml.tracking._registry import CHAMPION, list_versions
        from aip_ml.tracking._store import make_client

        versions = list_versions(make_client(uri, probe=False))
    except Exception as exc:  # a plugin must never break the game's menu
        _log.warning("model registry not available as a policy source: %s", exc)
        return []
    versions.sort(key=lambda v: (CHAMPION not in v.aliases, v.name, -int(v.version)))
    out: list[tuple[str, str, Callable[[], Path]]] = []
    for info in versions:
        label = f"{info.name} v{info.version}"
        if info.aliases:
            label += " " + " ".join(f"@{a}" for a in info.aliases)
        if "success_rate" in info.scores:
            label += f" ({info.scores['success_rate']:.0%} success)"
        loader = functools.partial(cached_policy, uri, info.name, info.version)
        out.append((label, info.role, loader))
    return out


def rating_sources() -> list[tuple[str, str, float, float, str]]:
    """The ratings the game shows beside its opponents: every rated model version and scripted bot.

    Registered under the entry-point group ``aip_game.rating_sources``. A model version's rating is
    the one its task's newest league round gave it (its ``rating.*`` tags); a bot's is that of the
    newest finished duel-v1 round (the game's two sides), else of the newest round of another task
    that rated it.

    Returns:
        ``(role, name, mu, sigma, where)`` for each: ``name`` as the game names it (``"bot: kite"``,
        ``"duel-v1-enemy v3"``), ``where`` the league it comes from (``"duel-v1 league"``). ``[]``
        when no store exists or it cannot be read.
    """
    try:
        from aip_ml.tracking._store import check_store, resolve_tracking_uri, store_exists

        uri = resolve_tracking_uri(None)
        if not store_exists(uri) or not check_store(uri, timeout_s=_PROBE_TIMEOUT_S).reachable:
            return []
        from aip_ml.tracking._league import _TASK_TAG, LEAGUE_EXPERIMENT, metric_key, version_rating
        from aip_ml.tracking._registry import list_versions
        from aip_ml.tracking._store import make_client

        client = make_client(uri, probe=False)
        out: list[tuple[str, str, float, float, str]] = []
        for info in list_versions(client):
            rated = version_rating(info)
            if rated is not None:
                out.append((info.role, f"{info.name} v{info.version}", rated[0], rated[1], f"{info.task} league"))
        experiment = client.get_experiment_by_name(LEAGUE_EXPERIMENT)
        if experiment is None:
            return out
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            order_by=["attributes.start_time DESC"],
            max_results=200,
        )
    except Exception as exc:  # a plugin must never break the game
        _log.warning("league ratings not available to the game: %s", exc)
        return []
    import aip_engine

    runs.sort(key=lambda run: run.data.tags.get(_TASK_TAG) != "duel-v1")  # stable: newest first in each
    seen: set[str] = set()
    for run in runs:
        task = run.data.tags.get(_TASK_TAG, "?")
        metrics = run.data.metrics
        for role in ("player", "enemy", "missile"):
            for bot in aip_engine.bots(role):
                key = metric_key(f"bot:{bot}")
                mu, sigma = metrics.get(f"rating.mu/{key}"), metrics.get(f"rating.sigma/{key}")
                if bot in seen or mu is None or sigma is None:
                    continue
                seen.add(bot)
                out.append((role, f"bot: {bot}", float(mu), float(sigma), f"{task} league"))
    return out
