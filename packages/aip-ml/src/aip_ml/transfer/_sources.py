"""Where a transfer starts from: a registered model, a run folder, a checkpoint or a policy file."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .._errors import ConfigError

__all__ = ["Source", "resolve_source"]


@dataclass(frozen=True)
class Source:
    """A resolved ``init_from``.

    Attributes:
        kind: ``"checkpoint"`` (actor, critic and observation statistics) or ``"policy"`` (a ``.aipp``
            file: the actor and the observation statistics; the critic starts fresh).
        path: The local file.
        text: What the config said.
        lineage: Tags describing the source (``init_from``, ``init_from.model``, ``init_from.run_id``).
    """

    kind: str
    path: Path
    text: str
    lineage: dict[str, str] = field(default_factory=dict)


def _run_folder(folder: Path, text: str) -> Path:
    for name in ("final.ckpt", "latest.ckpt"):
        candidate = folder / "checkpoints" / name
        if candidate.is_file():
            return candidate
    policies = sorted(folder.glob("policy*.aipp"))
    if policies:
        return policies[0]
    raise ConfigError(
        f"config key 'init_from' = {text!r}: the folder holds no run (no checkpoints/final.ckpt, "
        "checkpoints/latest.ckpt or policy.aipp)"
    )


def resolve_source(text: str, tracking_uri: str | None = None, cache: Path | None = None) -> Source:
    """Find what ``init_from`` names.

    A path that exists is a file (``.aipp`` a policy, anything else a checkpoint) or a run folder
    (its final checkpoint, else its latest, else its policy). Anything else is read as a registered
    model reference (``NAME/VERSION``, ``NAME@alias`` or ``NAME``): the checkpoint its training run
    logged is used when there is one, else its policy file.

    Args:
        text: The ``init_from`` value.
        tracking_uri: The MLflow store for model references.
        cache: Where downloaded files go (default: a new temporary folder).

    Returns:
        The source.

    Raises:
        ConfigError: Nothing of that name, or a model reference the store cannot resolve.
    """
    from ..tracking import parse_reference
    from ..tracking._errors import TrackingError
    from ..tracking._registry import shown

    if text.startswith("models:/"):
        return _from_registry(text, tracking_uri, cache)
    path = Path(text).expanduser()
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, or holding a NUL
        is_dir = is_file = False
    if is_dir:
        found = _run_folder(path, text)
        kind = "policy" if found.suffix == ".aipp" else "checkpoint"
        return Source(kind, found, text, {"init_from": text, "init_from.path": str(found.resolve())})
    if is_file:
        kind = "policy" if path.suffix == ".aipp" else "checkpoint"
        return Source(kind, path, text, {"init_from": text, "init_from.path": str(path.resolve())})
    looks_like_path = ("/" in text and not text.split("/")[-1].isdigit()) or text.endswith((".ckpt", ".aipp"))
    if looks_like_path:
        raise ConfigError(
            f"config key 'init_from' = {shown(text)}: no such file or folder, and not a model reference "
            "(NAME, NAME/VERSION, NAME@alias: see `aip models list`)"
        )
    try:
        parse_reference(text)
    except TrackingError as exc:
        raise ConfigError(f"config key 'init_from' = {shown(text)}: no such file or folder, and {exc}") from None
    return _from_registry(text, tracking_uri, cache)


def _from_registry(text: str, tracking_uri: str | None, cache: Path | None) -> Source:
    from ..tracking import download_policy, make_client, resolve_version
    from ..tracking._errors import TrackingError
    from ..tracking._registry import shown

    try:
        client = make_client(tracking_uri)
        info = resolve_version(client, text)
    except TrackingError as exc:
        raise ConfigError(f"config key 'init_from' = {shown(text)}: {exc}") from None
    folder = cache or Path(tempfile.mkdtemp(prefix="aip-init-from-"))
    lineage = {"init_from": text, "init_from.model": info.reference, "init_from.run_id": str(info.run_id or "")}
    if info.run_id:
        try:
            listed = client.list_artifacts(info.run_id, "checkpoints")
        except Exception:  # a store without the run's artifacts: fall back to the policy
            listed = []
        ckpts = [a.path for a in listed if a.path.endswith(".ckpt")]
        if ckpts:
            chosen = next((p for p in ckpts if p.endswith("final.ckpt")), ckpts[0])
            local = client.download_artifacts(info.run_id, chosen, str(folder))
            return Source("checkpoint", Path(local), text, lineage)
    return Source("policy", download_policy(client, info, folder / "policy"), text, lineage)
