"""The model registry as AIP uses it: one registered model per task and role, versions with scores.

A model is named ``<task>-<role>`` (``chase-v1-enemy``). Each version's source is the folder
``policy/<role>`` of the run that trained it, holding one exported policy file. Version tags
``eval.<score>`` keep the evaluation scores; the alias ``champion`` marks the version to play against.

References accepted everywhere: ``NAME`` (its champion, else its latest version), ``NAME/3``,
``NAME@alias``, and the same with MLflow's ``models:/`` prefix.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aip_engine._files import read_regular, write_atomic
from aip_engine._policy_file import MAX_FILE_BYTES, check_policy_bytes
from aip_ml.tracking._errors import ExportExistsError, ModelNotFoundError, TrackingError

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

__all__ = [
    "CHAMPION",
    "EVAL_TAG_PREFIX",
    "ModelVersionInfo",
    "download_policy",
    "export_version",
    "lineage_chain",
    "list_versions",
    "model_name",
    "parse_reference",
    "resolve_version",
    "set_alias",
    "version_info",
]

CHAMPION = "champion"
EVAL_TAG_PREFIX = "eval."  # version tags holding evaluation scores
_REF = re.compile(
    r"^(?:models:/)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:/(?P<version>[0-9]+)|@(?P<alias>[A-Za-z0-9_-]+))?$"
)
# The longest registered model name MLflow keeps (its SQL stores' column), and the largest version
# number one can hold (SQLite's INTEGER): references beyond them are refused before any query.
MAX_NAME_CHARS = 256
_MAX_VERSION = 2**63 - 1
_LIST_HINT = "list the registered models and their versions with `aip models list`"


def shown(text: str, limit: int = 80) -> str:
    """``repr(text)``, shortened when long, for messages that name what a user typed.

    Args:
        text: The text.
        limit: The most characters shown.

    Returns:
        The quoted text, or its beginning with ``…`` and its length.
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit - 20]!r}… ({len(text)} characters)"


def model_name(task: str, role: str) -> str:
    """The registered model's name for a task and role: ``<task>-<role>``.

    Args:
        task: The task's name (``chase-v1``).
        role: The role (``enemy``).

    Returns:
        The name (``chase-v1-enemy``).
    """
    return f"{task}-{role}"


@dataclass(frozen=True)
class ModelVersionInfo:
    """One registered model version, as listed and shown.

    Attributes:
        name: The registered model (``chase-v1-enemy``).
        version: The version number as a string (MLflow's convention).
        task: The task it was trained on (tag ``aip.task``).
        role: The role it plays (tag ``aip.role``).
        aliases: Aliases pointing at this version (``champion``...).
        scores: Evaluation scores from the ``eval.*`` tags.
        run_id: The training run.
        source: The artifact URI of the policy folder.
        created_ms: Creation time, milliseconds since the epoch.
        policy_file: The policy file's name inside the source folder.
        description: The version's description.
        tags: All version tags.
    """

    name: str
    version: str
    task: str
    role: str
    aliases: tuple[str, ...]
    scores: dict[str, float]
    run_id: str | None
    source: str
    created_ms: int
    policy_file: str | None
    description: str
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        """``NAME/VERSION``: a reference that always means this version."""
        return f"{self.name}/{self.version}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary of every field."""
        return {
            "name": self.name,
            "version": int(self.version),
            "reference": self.reference,
            "task": self.task,
            "role": self.role,
            "aliases": list(self.aliases),
            "scores": dict(self.scores),
            "run_id": self.run_id,
            "source": self.source,
            "created_ms": self.created_ms,
            "policy_file": self.policy_file,
            "description": self.description,
            "tags": dict(self.tags),
        }


def _scores(tags: dict[str, str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in tags.items():
        if key.startswith(EVAL_TAG_PREFIX):
            try:
                out[key[len(EVAL_TAG_PREFIX) :]] = float(value)
            except ValueError:
                continue
    return out


def _split_name(name: str, tags: dict[str, str]) -> tuple[str, str]:
    task = tags.get("aip.task")
    role = tags.get("aip.role")
    if task and role:
        return task, role
    head, _, tail = name.rpartition("-")
    return (head or name), tail


def version_info(client: MlflowClient, name: str, version: str) -> ModelVersionInfo:
    """Read one version with its aliases and scores.

    Args:
        client: A client from :func:`aip_ml.tracking.make_client`.
        name: The registered model.
        version: The version number.

    Returns:
        The version.

    Raises:
        ModelNotFoundError: No such model or version.
    """
    from mlflow.exceptions import MlflowException

    version = str(version)
    if not version.isdigit() or int(version) > _MAX_VERSION:
        raise _no_version(client, name, version)
    try:
        mv = client.get_model_version(name, version)
        aliases = client.get_registered_model(name).aliases
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise _no_version(client, name, version) from None
        raise
    return _info(mv, aliases)


def _info(mv: object, aliases: dict[str, int | str]) -> ModelVersionInfo:
    tags = {str(k): str(v) for k, v in (getattr(mv, "tags", None) or {}).items()}
    name = str(getattr(mv, "name", ""))
    version = str(getattr(mv, "version", ""))
    task, role = _split_name(name, tags)
    return ModelVersionInfo(
        name=name,
        version=version,
        task=task,
        role=role,
        aliases=tuple(sorted(a for a, v in aliases.items() if str(v) == version)),
        scores=_scores(tags),
        run_id=getattr(mv, "run_id", None),
        source=str(getattr(mv, "source", "")),
        created_ms=int(getattr(mv, "creation_timestamp", 0) or 0),
        policy_file=tags.get("aip.policy_file"),
        description=str(getattr(mv, "description", "") or ""),
        tags=tags,
    )


def list_versions(client: MlflowClient, name: str | None = None) -> list[ModelVersionInfo]:
    """Every version of every registered model (or of ``name``), by name, newest version first.

    Args:
        client: A client.
        name: Only this registered model; a task name (``chase-v1``) lists that task's models.

    Returns:
        The versions.

    Raises:
        ModelNotFoundError: ``name`` matches no registered model.
    """
    models = list(_all_registered_models(client))
    if name is not None:
        chosen = [m for m in models if m.name == name]
        if not chosen:
            chosen = [m for m in models if m.name.startswith(f"{name}-")]
        if not chosen:
            known = ", ".join(sorted(m.name for m in models)) or "none yet (run `aip train TASK`)"
            raise ModelNotFoundError(f"no registered model {shown(name)}; registered models: {known}")
        models = chosen
    out: list[ModelVersionInfo] = []
    for model in sorted(models, key=lambda m: m.name):
        aliases = dict(model.aliases or {})
        versions = _all_versions(client, model.name)
        for mv in sorted(versions, key=lambda v: -int(v.version)):
            out.append(_info(mv, aliases))
    return out


def _all_registered_models(client: MlflowClient) -> list[RegisteredModel]:
    found: list[RegisteredModel] = []
    token: str | None = None
    while True:
        page = client.search_registered_models(max_results=200, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def _all_versions(client: MlflowClient, name: str) -> list[ModelVersion]:
    found: list[ModelVersion] = []
    token: str | None = None
    escaped = name.replace("'", "\\'")
    while True:
        page = client.search_model_versions(f"name='{escaped}'", max_results=1000, page_token=token)
        found.extend(page)
        token = page.token
        if not token:
            return found


def parse_reference(reference: str) -> tuple[str, str | None, str | None]:
    """Split a model reference into ``(name, version, alias)``.

    Args:
        reference: ``NAME``, ``NAME/3``, ``NAME@alias`` (optionally prefixed ``models:/``).

    Returns:
        The name, and the version or the alias (at most one of them set).

    Raises:
        TrackingError: The text is not a model reference.
    """
    match = _REF.match(reference.strip())
    if match is None:
        raise TrackingError(
            f"{shown(reference)} is not a model reference; write NAME, NAME/VERSION or NAME@ALIAS "
            f"(e.g. chase-v1-enemy@champion); {_LIST_HINT}"
        )
    name = match.group("name")
    if len(name) > MAX_NAME_CHARS:
        raise TrackingError(
            f"model reference {shown(reference)} names a model of {len(name)} characters; registered model "
            f"names have at most {MAX_NAME_CHARS}; {_LIST_HINT}"
        )
    return name, match.group("version"), match.group("alias")


def _no_version(client: MlflowClient, name: str, version: str) -> ModelNotFoundError:
    """The error for a version `name` does not have, listing the ones it has."""
    have = sorted(int(getattr(v, "version", 0)) for v in _all_versions(client, name))
    listed = ", ".join(str(v) for v in have[-20:]) or "none yet"
    more = f" (the last 20 of {len(have)})" if len(have) > 20 else ""
    told = version if len(version) <= 20 else f"{version[:12]}… ({len(version)} digits)"
    return ModelNotFoundError(
        f"model {name!r} has no version {told} (versions: {listed}{more}); see `aip models list {name}`"
    )


def resolve_version(client: MlflowClient, reference: str) -> ModelVersionInfo:
    """The version a reference means; a bare name means its champion, else its latest version.

    Args:
        client: A client.
        reference: A model reference.

    Returns:
        The version.

    Raises:
        ModelNotFoundError: No such model, version or alias.
    """
    from mlflow.exceptions import MlflowException

    name, version, alias = parse_reference(reference)
    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            names = ", ".join(sorted(m.name for m in _all_registered_models(client)))
            raise ModelNotFoundError(
                f"no registered model {shown(name)}; registered models: {names or 'none yet (run `aip train TASK`)'}"
            ) from None
        raise
    aliases = dict(model.aliases or {})
    if alias is not None:
        if alias not in aliases:
            have = ", ".join(f"@{a}" for a in sorted(aliases)) or "none"
            raise ModelNotFoundError(
                f"model {name!r} has no alias @{alias} (aliases: {have}); "
                f"promote a version with `aip models promote {name}/VERSION` (see `aip models list {name}`)"
            )
        version = str(aliases[alias])
    elif version is None:
        if CHAMPION in aliases:
            version = str(aliases[CHAMPION])
        else:
            versions = _all_versions(client, name)
            if not versions:
                raise ModelNotFoundError(f"model {name!r} has no versions yet")
            version = str(max(int(getattr(v, "version", 0)) for v in versions))
    return version_info(client, name, version)


def set_alias(client: MlflowClient, info: ModelVersionInfo, alias: str = CHAMPION) -> None:
    """Point ``alias`` of the version's model at the version.

    Args:
        client: A client.
        info: The version.
        alias: The alias.
    """
    client.set_registered_model_alias(info.name, alias, info.version)


def download_policy(client: MlflowClient, info: ModelVersionInfo, directory: Path) -> Path:
    """Download a version's policy file into ``directory`` (which should be empty or new).

    Args:
        client: A client.
        info: The version.
        directory: Where to put it.

    Returns:
        The path of the downloaded policy file.

    Raises:
        TrackingError: The version's source holds no file.
    """
    import mlflow.artifacts

    directory.mkdir(parents=True, exist_ok=True)
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=info.source, dst_path=str(directory), tracking_uri=client.tracking_uri
        )
    )
    if local.is_file():
        return local
    files = sorted(p for p in local.rglob("*") if p.is_file())
    preferred = [p for p in files if p.name == info.policy_file]
    if preferred:
        return preferred[0]
    if not files:
        raise TrackingError(f"{info.reference} has no policy file at {info.source}")
    return files[0]


def export_version(client: MlflowClient, info: ModelVersionInfo, target: Path, *, overwrite: bool = False) -> Path:
    """Copy a version's policy file to ``target``, atomically and without overwriting by surprise.

    Args:
        client: A client.
        info: The version.
        target: A file path, or an existing directory (the file is then named
            ``<name>-v<version><suffix>`` inside it).
        overwrite: Replace an existing file.

    Returns:
        The written path.

    Raises:
        ExportExistsError: The target file exists and ``overwrite`` is false.
    """
    with tempfile.TemporaryDirectory(prefix="aip-export-") as tmp:
        policy = download_policy(client, info, Path(tmp) / "download")
        if target.is_dir():
            target = target / f"{info.name}-v{info.version}{policy.suffix}"
        if os.path.lexists(target) and not overwrite:
            raise ExportExistsError(f"{target} exists; choose another path or pass --force to replace it")
        data = read_regular(policy, limit=MAX_FILE_BYTES, what="downloaded policy file")
        if policy.suffix == ".aipp":
            check_policy_bytes(data, None, f"{info.reference}'s policy file is not a valid policy")
        try:
            # A new file gets the permissions a plain open() would (0666 minus the umask); a device,
            # FIFO or directory at the target is refused and left alone.
            target = write_atomic(target, data, overwrite=overwrite, what="policy file")
        except FileExistsError:
            raise ExportExistsError(f"{target} exists; choose another path or pass --force to replace it") from None
    return target


#: The version tag naming the model version a run started from (``init_from``).
PARENT_TAG = "aip.init_from.model"


def lineage_chain(client: MlflowClient, info: ModelVersionInfo, limit: int = 32) -> list[str]:
    """The chain of model versions a version descends from, nearest first (``init_from`` transfers).

    Args:
        client: A client.
        info: The version.
        limit: Most links followed (a guard against cycles).

    Returns:
        References such as ``["chase-v1-enemy/2", ...]``; a parent that no longer exists ends the chain
        with its reference followed by ``" (deleted)"``.
    """
    chain: list[str] = []
    current = info
    seen = {info.reference}
    while len(chain) < limit:
        parent = current.tags.get(PARENT_TAG)
        if not parent or parent in seen:
            break
        seen.add(parent)
        try:
            current = resolve_version(client, parent)
        except (ModelNotFoundError, TrackingError):
            chain.append(f"{parent} (deleted)")
            break
        chain.append(current.reference)
    return chain
