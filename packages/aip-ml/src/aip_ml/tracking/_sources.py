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

__all__ = ["cache_dir", "cached_policy", "policy_sources"]

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
