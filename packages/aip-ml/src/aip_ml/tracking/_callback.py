"""The training callback that records a run in MLflow and registers its policy.

Plug it into :func:`aip_ml.train`::

    from aip_ml.tracking import MlflowCallback
    with MlflowCallback() as tracking:
        result = aip_ml.train(config, run_dir="runs/a", callbacks=[tracking])
    tracking.registered  # the new model versions

It logs the config (params and ``config/``), one ``log_batch`` of metrics per update, the final
checkpoint (``checkpoints/``), the exported policy (``policy/<role>/``), the evaluation report
(``evaluation/<role>.json`` and ``eval/*`` metrics), and registers the policy as a new version of
``<task>-<role>`` with the evaluation scores as version tags ``eval.*``. The MLflow run's id is kept in
``<run_dir>/mlflow_run.json`` so that a resumed training continues the same MLflow run.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from aip_ml.tracking._registry import ModelVersionInfo
from aip_ml.tracking._run import RunTracker

__all__ = ["RUN_FILE", "MlflowCallback", "scores_from_report"]

RUN_FILE = "mlflow_run.json"
_log = logging.getLogger(__name__)


class _Config(Protocol):
    @property
    def task(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def _report_dict(report: Any) -> dict[str, Any]:
    if report is None:
        return {}
    if isinstance(report, Mapping):
        return dict(report)
    to_dict = getattr(report, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else {}


def scores_from_report(report: Any) -> dict[str, float]:
    """The scores kept as version tags: the agent's results, the episodes and seed, and each bot's.

    Args:
        report: An :class:`aip_ml.EvalReport` or its ``to_dict()``.

    Returns:
        ``success_rate``, ``mean_return``, ``mean_frames_to_success``, ``mean_frames``, ``episodes``,
        ``seed`` and ``bot.<name>.<score>`` (finite values only).
    """
    data = _report_dict(report)
    out: dict[str, float] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[key] = float(value)

    for key, value in _report_dict(data.get("agent")).items():
        put(key, value)
    put("episodes", data.get("episodes"))
    put("seed", data.get("seed"))
    for bot, result in _report_dict(data.get("bots")).items():
        for key, value in _report_dict(result).items():
            put(f"bot.{bot}.{key}", value)
    return out


def _describe(result: Any, role: str, scores: Mapping[str, float]) -> str:
    """One sentence for the model version: how it was trained and how it scored."""
    config = getattr(result, "config", None)
    text = (
        f"{role} policy for {getattr(config, 'task', '?')}: {int(getattr(result, 'global_step', 0)):,} steps, "
        f"seed {getattr(config, 'seed', '?')}"
    )
    if "success_rate" in scores:
        text += f"; success {scores['success_rate']:.1%} over {int(scores.get('episodes', 0))} evaluation episodes"
    return text + "."


def _write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_lineage(run_dir: Path) -> dict[str, str]:
    """What the run started from (``lineage.json``, written by `aip_ml.train`)."""
    path = run_dir / "lineage.json"
    try:
        data = json.loads(path.read_text()) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


class MlflowCallback:
    """Records a training run in an MLflow store and registers its policy (an ``aip_ml.Callback``).

    Args:
        tracking_uri: The store; ``None`` uses ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``
            in the working directory.
        register: Register the exported policy in the model registry at the end.
        run_name: The MLflow run's display name (default: the run folder's name).
        tags: Extra tags for the MLflow run.
        log_checkpoint: Log the final checkpoint as an artifact.

    Attributes:
        tracker: The run's :class:`RunTracker` (after ``on_start``).
        registered: The model versions registered at the end.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        *,
        register: bool = True,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        log_checkpoint: bool = True,
    ) -> None:
        from aip_ml.tracking._store import make_client, resolve_tracking_uri

        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        make_client(self.tracking_uri)  # fail now, before training, if the store does not answer
        self._register = register
        self._run_name = run_name
        self._tags = dict(tags or {})
        self._log_checkpoint = log_checkpoint
        self.tracker: RunTracker | None = None
        self.registered: list[ModelVersionInfo] = []
        self._finished = False
        self._lineage: dict[str, str] = {}

    # --- the aip_ml.Callback protocol -----------------------------------------------------------
    def on_start(self, config: _Config, run_dir: Path) -> None:
        """Start (or, for a resumed run folder, reopen) the MLflow run and log the config."""
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        previous = self._previous_run(run_dir)
        self.tracker = RunTracker(
            config.task,
            tracking_uri=self.tracking_uri,
            run_id=previous,
            run_name=self._run_name or run_dir.name,
            tags={"aip.run_dir": str(run_dir.resolve()), **self._tags},
        )
        run_id = self.tracker.start()
        _write_json_atomic(run_dir / RUN_FILE, {"run_id": run_id, "tracking_uri": self.tracking_uri})
        source = run_dir / "config.toml"
        self.tracker.log_config(config.to_dict(), source if source.is_file() else None)
        self._lineage = _read_lineage(run_dir)
        if self._lineage:
            self.tracker.set_tags({f"aip.{k}": v for k, v in self._lineage.items()})

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Log this update's metrics in one batch, at the step ``global_step``."""
        if self.tracker is not None:
            step = metrics.get("global_step", update)
            self.tracker.log_metrics(metrics, step=int(step) if math.isfinite(step) else update)

    def log_artifact(self, path: Path, artifact_path: str) -> None:
        """Log a file the training wrote (a replay...) under ``artifact_path`` of the MLflow run.

        Another callback calls it (``ReplayCallback(publish=...)``); before ``on_start`` it does nothing.

        Args:
            path: The file.
            artifact_path: The artifact folder (``replays``).
        """
        if self.tracker is not None:
            self.tracker.log_file(Path(path), artifact_path)

    def on_checkpoint(self, path: Path) -> None:
        """Nothing per checkpoint: the final one is logged at the end (checkpoints are large)."""

    def on_end(self, result: Any) -> None:
        """Log the checkpoint, the policy and the evaluation; register the policy; end the run."""
        tracker = self.tracker
        if tracker is None:
            return
        interrupted = bool(getattr(result, "interrupted", False))
        checkpoint = getattr(result, "checkpoint", None)
        if self._log_checkpoint and checkpoint is not None and Path(checkpoint).exists():
            tracker.log_checkpoint(Path(checkpoint))
        final = {
            "train/wall_seconds": getattr(result, "wall_seconds", float("nan")),
            "train/steps_per_second_overall": getattr(result, "steps_per_second", float("nan")),
        }
        tracker.log_metrics(final, step=int(getattr(result, "global_step", 0) or 0))
        policy = getattr(result, "policy_path", None)
        report = getattr(result, "evaluation", None)
        paths = {str(k): Path(v) for k, v in (getattr(result, "policy_paths", None) or {}).items()}
        if len(paths) < 2 and policy is not None:  # one role: its role comes from the report or the task
            paths = {self._role(result, report): Path(policy)}
        for role, path in paths.items():
            if interrupted or not path.is_file():
                continue
            tracker.log_policy(path, role)
            scores: dict[str, float] = {}
            if report is not None and len(paths) == 1:
                tracker.log_evaluation(_report_dict(report), role)
                scores = scores_from_report(report)
            if self._register:
                tags = {"aip.global_step": str(getattr(result, "global_step", ""))}
                lineage = dict(getattr(result, "lineage", None) or self._lineage)
                tags.update({f"aip.{k}": str(v) for k, v in lineage.items()})
                best = _report_dict(report).get("best") if len(paths) == 1 else None
                if best:
                    tags["eval.best"] = str(best)
                description = _describe(result, role, scores)
                self.registered.append(tracker.register(role, scores, tags=tags, description=description))
        self.close("KILLED" if interrupted else "FINISHED")

    # --- lifecycle ------------------------------------------------------------------------------
    def close(self, status: str = "FINISHED") -> None:
        """End the MLflow run once (``FINISHED``, ``FAILED`` or ``KILLED``).

        Args:
            status: The final status.
        """
        if self.tracker is not None and not self._finished:
            self._finished = True
            try:
                self.tracker.finish(status)
            except Exception as exc:  # cleanup must not hide the error that ended the training
                _log.warning("could not mark MLflow run %s as %s: %s", self.tracker.run_id, status, exc)

    def __enter__(self) -> MlflowCallback:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close("FINISHED")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.close("KILLED")
        else:
            self.close("FAILED")

    @property
    def run_id(self) -> str | None:
        """The MLflow run's id, once started."""
        return self.tracker.run_id if self.tracker is not None and self.tracker.active else None

    def _previous_run(self, run_dir: Path) -> str | None:
        path = run_dir / RUN_FILE
        if not path.is_file():
            return None
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if saved.get("tracking_uri") != self.tracking_uri:
            return None  # resumed against another store: a new run there
        run_id = saved.get("run_id")
        return str(run_id) if run_id else None

    @staticmethod
    def _role(result: Any, report: Any) -> str:
        role = _report_dict(report).get("role")
        if role:
            return str(role)
        task = getattr(getattr(result, "config", None), "task", None)
        if task:
            import aip_engine

            return str(aip_engine.task_spec(task).agents[0])
        raise ValueError("cannot tell the policy's role: no evaluation report and no config")
