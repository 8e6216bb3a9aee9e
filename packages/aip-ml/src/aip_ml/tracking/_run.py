"""One training run in the tracking store: config, metrics, checkpoints, policies, evaluation, registration.

:class:`RunTracker` is the plain API; :class:`aip_ml.tracking.MlflowCallback` adapts it to the trainer's
callback protocol. Metrics go to MLflow in one ``log_batch`` call per update, never one call per value.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aip_ml.tracking._errors import TrackingError
from aip_ml.tracking._registry import (
    EVAL_TAG_PREFIX,
    ModelVersionInfo,
    model_name,
    version_info,
)
from aip_ml.tracking._store import ensure_experiment, make_client

if TYPE_CHECKING:
    from mlflow import MlflowClient

__all__ = ["RunTracker", "flatten"]

_MAX_METRICS = 1000
_MAX_PARAMS = 100
_MAX_PARAM_LEN = 6000


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings to dotted keys: ``{"ppo": {"lr": 3e-4}}`` becomes ``{"ppo.lr": 3e-4}``.

    Args:
        data: A nested mapping.
        prefix: Prepended to every key (used by the recursion).

    Returns:
        A flat dictionary.
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def _numbers(data: Mapping[str, Any]) -> dict[str, float]:
    """The finite numeric values of a (nested) mapping, flattened; booleans count as 0/1."""
    out: dict[str, float] = {}
    for key, value in flatten(data).items():
        if isinstance(value, bool) or (isinstance(value, (int, float)) and math.isfinite(float(value))):
            out[key] = float(value)
        else:
            try:  # numpy scalars and 0-d arrays
                number = float(value)
            except (TypeError, ValueError):
                continue
            if math.isfinite(number) and not isinstance(value, str):
                out[key] = number
    return out


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _metric_key(key: str) -> str:
    """MLflow metric names allow letters, digits and ``_ - . / space``; map anything else to ``_``."""
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "_" for ch in key)


class RunTracker:
    """Records one training run of a task in an MLflow tracking store and registers its policies.

    Args:
        task: The task's name; it names the experiment and, with the role, the registered model.
        tracking_uri: A tracking URI; ``None`` uses ``MLFLOW_TRACKING_URI`` or the SQLite default.
        run_id: Continue this MLflow run (resuming a training) instead of starting a new one.
        run_name: A display name for a new run.
        tags: Extra run tags.

    Raises:
        StoreUnavailableError: The store does not answer.
    """

    def __init__(
        self,
        task: str,
        *,
        tracking_uri: str | None = None,
        run_id: str | None = None,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        self.task = task
        self.client: MlflowClient = make_client(tracking_uri)
        self.tracking_uri: str = str(self.client.tracking_uri)
        self._run_id = run_id
        self._run_name = run_name
        self._tags = dict(tags or {})
        self._policies: dict[str, str] = {}

    @property
    def run_id(self) -> str:
        """The MLflow run's id (starts the run on first use)."""
        if self._run_id is None:
            self.start()
        assert self._run_id is not None
        return self._run_id

    @property
    def active(self) -> bool:
        """Whether the MLflow run has been started or attached."""
        return self._run_id is not None

    def start(self) -> str:
        """Start the MLflow run, or reopen the one given as ``run_id``.

        Returns:
            The run id.
        """
        if self._run_id is not None:
            run = self.client.get_run(self._run_id)
            if run.info.status != "RUNNING":
                self.client.update_run(self._run_id, status="RUNNING")
            return self._run_id
        experiment_id = ensure_experiment(self.client, self.task)
        tags = {"aip.task": self.task, **self._tags}
        run = self.client.create_run(experiment_id, run_name=self._run_name, tags=tags)
        self._run_id = str(run.info.run_id)
        return self._run_id

    def log_config(self, config: Mapping[str, Any], source: Path | None = None) -> None:
        """Log the config as params (flattened, dotted keys) and as the artifact ``config/config.json``.

        On a resumed run, params already present are left as they are (MLflow forbids changing one).

        Args:
            config: The full config as a nested mapping.
            source: The config file the user gave, logged beside it as well.
        """
        from mlflow.entities import Param

        existing = set(self.client.get_run(self.run_id).data.params)
        params = [
            Param(key, str(value)[:_MAX_PARAM_LEN]) for key, value in flatten(config).items() if key not in existing
        ]
        for chunk in _chunks(params, _MAX_PARAMS):
            self.client.log_batch(self.run_id, params=chunk)
        with tempfile.TemporaryDirectory(prefix="aip-config-") as tmp:
            path = Path(tmp) / "config.json"
            path.write_text(json.dumps(config, indent=2, sort_keys=True, default=str) + "\n")
            self.client.log_artifact(self.run_id, str(path), "config")
        if source is not None and source.is_file():
            self.client.log_artifact(self.run_id, str(source), "config")

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set run tags (lineage: what the run started from).

        Args:
            tags: Tag names and values.
        """
        from mlflow.entities import RunTag

        if tags:
            self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)[:5000]) for k, v in tags.items()])

    def log_metrics(self, metrics: Mapping[str, Any], step: int) -> None:
        """Log one update's metrics in a single batch (numeric, finite values only).

        Args:
            metrics: Name to value; nested mappings are flattened with dots.
            step: The environment step count the values belong to.
        """
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [Metric(_metric_key(k), v, stamp, int(step)) for k, v in _numbers(metrics).items()]
        for chunk in _chunks(batch, _MAX_METRICS):
            self.client.log_batch(self.run_id, metrics=chunk)

    def log_checkpoint(self, path: Path) -> None:
        """Log a checkpoint file under ``checkpoints/``.

        Args:
            path: The checkpoint file (or folder).
        """
        self._log_path(path, "checkpoints")

    def log_file(self, path: Path, artifact_path: str) -> None:
        """Log a file (or a folder) of the run under ``artifact_path``, e.g. a replay under ``replays``.

        Args:
            path: The file or folder.
            artifact_path: The artifact folder.

        Raises:
            TrackingError: ``path`` does not exist.
        """
        self._log_path(path, artifact_path)

    def log_policy(self, path: Path, role: str) -> str:
        """Log an exported policy under ``policy/<role>/``; that folder becomes the model version's source.

        Args:
            path: The exported policy file.
            role: The role it plays.

        Returns:
            The artifact path (``policy/<role>``).
        """
        if not path.is_file():
            raise TrackingError(f"exported policy {path} does not exist; export the policy first")
        artifact_path = f"policy/{role}"
        self.client.log_artifact(self.run_id, str(path), artifact_path)
        self._policies[role] = artifact_path
        return artifact_path

    def log_evaluation(self, report: Mapping[str, Any], role: str | None = None) -> dict[str, float]:
        """Log an evaluation report as the artifact ``evaluation/<role>.json`` and as ``eval/*`` metrics.

        Args:
            report: The evaluator's report (nested mappings allowed).
            role: The role evaluated, used in the file name.

        Returns:
            The report's numeric values, flattened.
        """
        scores = _numbers(report)
        with tempfile.TemporaryDirectory(prefix="aip-eval-") as tmp:
            path = Path(tmp) / f"{role or 'report'}.json"
            path.write_text(json.dumps(report, indent=2, sort_keys=True, default=str) + "\n")
            self.client.log_artifact(self.run_id, str(path), "evaluation")
        prefix = f"eval/{role}/" if role else "eval/"
        self.log_metrics({f"{prefix}{k}": v for k, v in scores.items()}, step=0)
        return scores

    def register(
        self,
        role: str,
        scores: Mapping[str, Any] | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> ModelVersionInfo:
        """Register the logged policy of ``role`` as a new version of the model ``<task>-<role>``.

        Args:
            role: A role whose policy was logged with :meth:`log_policy`.
            scores: Evaluation scores, stored as version tags ``eval.<name>``.
            tags: More version tags.
            description: The version's description.

        Returns:
            The new version.

        Raises:
            TrackingError: No policy of that role was logged in this run.
        """
        from mlflow.exceptions import MlflowException

        artifact_path = self._policies.get(role)
        if artifact_path is None:
            raise TrackingError(f"no policy for role {role!r} was logged in run {self.run_id}")
        name = model_name(self.task, role)
        try:
            self.client.create_registered_model(
                name,
                tags={"aip.task": self.task, "aip.role": role},
                description=f"Policies for the {role} role of task {self.task}.",
            )
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        version_tags = {"aip.task": self.task, "aip.role": role, **dict(tags or {})}
        policy_files = self.client.list_artifacts(self.run_id, artifact_path)
        if policy_files:
            version_tags["aip.policy_file"] = os.path.basename(policy_files[0].path)
        for key, value in _numbers(scores or {}).items():
            version_tags[f"{EVAL_TAG_PREFIX}{key}"] = repr(value)
        version = self.client.create_model_version(
            name,
            source=f"runs:/{self.run_id}/{artifact_path}",
            run_id=self.run_id,
            tags=version_tags,
            description=description,
        )
        return version_info(self.client, name, str(version.version))

    def finish(self, status: str = "FINISHED") -> None:
        """End the run with ``status`` (``FINISHED``, ``FAILED`` or ``KILLED``).

        Args:
            status: The final status.
        """
        if self._run_id is not None:
            self.client.set_terminated(self._run_id, status=status)

    def _log_path(self, path: Path, artifact_path: str) -> None:
        if path.is_dir():
            self.client.log_artifacts(self.run_id, str(path), f"{artifact_path}/{path.name}")
        elif path.is_file():
            self.client.log_artifact(self.run_id, str(path), artifact_path)
        else:
            raise TrackingError(f"{path} does not exist; nothing to log")
