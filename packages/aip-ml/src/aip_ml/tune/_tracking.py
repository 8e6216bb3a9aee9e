"""A study in MLflow: one parent run per study, one nested run per trial.

The parent run (``tune:<study>``, in the task's experiment) holds the study's settings, its best value,
the parameter importances and the best config (``best/best.toml``). Each trial is an MLflow run whose
``mlflow.parentRunId`` is the parent: the training's params and metrics (`MlflowCallback`), the sampled
params (``tune.param.*`` tags), the intermediate values the pruner saw (``tune/intermediate``), the
pruning decision (tag ``tune.state``, metric ``tune/pruned_at_step``), the final evaluation and the
objective's value (``tune/value``). The parent run's id is kept in the study (``aip.mlflow_parent``),
so processes joining the study nest their trials under the same run.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._config import TrainConfig
from ._space import SearchSpace

if TYPE_CHECKING:
    import optuna

    from ._pruning import PruningCallback
    from ._study import TuneResult

__all__ = ["StudyRun", "TrialRun"]

_PARENT_ATTR = "aip.mlflow_parent"
_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED", "INTERRUPTED": "KILLED"}


class StudyRun:
    """The study's parent MLflow run, created by the process that created the study.

    Args:
        study_name: The study.
        space: Its search space.
        start: The config trials start from.
        tracking_uri: The MLflow store.
        created: Whether this process created the study (and so creates the parent run).
    """

    def __init__(
        self, study_name: str, space: SearchSpace, start: TrainConfig, tracking_uri: str | None, created: bool
    ) -> None:
        from aip_ml.tracking import RunTracker, resolve_tracking_uri

        self.study_name = study_name
        self.space = space
        self.start_config = start
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self.created = created
        self._tracker_class = RunTracker
        self.tracker: Any = None
        self.parent_run_id: str | None = None

    def start(self, study: optuna.Study) -> None:
        """Create the parent run (the study's creator) or find it (a joiner); mark it running."""
        from aip_ml.tracking._store import make_client

        parent = study.user_attrs.get(_PARENT_ATTR)
        if parent is None and not self.created:
            deadline = time.monotonic() + 30.0
            while parent is None and time.monotonic() < deadline:
                time.sleep(0.5)
                parent = study.user_attrs.get(_PARENT_ATTR)
        if parent is not None and str(parent.get("tracking_uri")) == self.tracking_uri:
            self.tracker = self._tracker_class(self.space.task, tracking_uri=self.tracking_uri, run_id=parent["run_id"])
            self.tracker.start()
        else:
            tags = {
                "aip.study": self.study_name,
                "aip.tune": "study",
                "aip.objective": self.space.objective,
                "aip.search_space": self.space.source,
            }
            self.tracker = self._tracker_class(
                self.space.task, tracking_uri=self.tracking_uri, run_name=f"tune:{self.study_name}", tags=tags
            )
            run_id = self.tracker.start()
            if parent is None:
                study.set_user_attr(_PARENT_ATTR, {"run_id": run_id, "tracking_uri": self.tracking_uri})
            self.tracker.log_config(
                {
                    "config": self.start_config.to_dict(),
                    "space": {p.name: p.describe() for p in self.space.params},
                    "objective": self.space.objective,
                    "pruner": self.space.pruner,
                }
            )
        self.parent_run_id = str(self.tracker.run_id)
        make_client(self.tracking_uri)

    def trial_callback(self, trial: optuna.Trial, values: dict[str, Any]) -> TrialRun:
        """The training callback that records ``trial`` as a run nested under the study's."""
        assert self.parent_run_id is not None
        return TrialRun(self, trial, values)

    def finish(self, study: optuna.Study, result: TuneResult) -> None:
        """Log the study's state to the parent run; end it when no trial runs or waits any more."""
        from ._report import best_config_toml, importances, top_trials

        tracker = self.tracker
        if tracker is None:
            return
        states = [t.state.name for t in study.get_trials(deepcopy=False)]
        counts = {f"tune/trials_{s.lower()}": float(states.count(s)) for s in ("COMPLETE", "PRUNED", "FAIL")}
        metrics: dict[str, float] = dict(counts)
        try:
            best = study.best_trial
        except ValueError:
            best = None
        if best is not None and best.value is not None:
            metrics["tune/best_value"] = float(best.value)
            metrics["tune/best_trial"] = float(best.number)
        metrics.update({f"importance/{k}": v for k, v in importances(study).items()})
        tracker.log_metrics(metrics, step=len(states))
        with tempfile.TemporaryDirectory(prefix="aip-tune-") as tmp:
            summary = Path(tmp) / "trials.json"
            summary.write_text(json.dumps(top_trials(study, self.space, limit=None), indent=2, default=str) + "\n")
            tracker.log_file(summary, "tune")
            if best is not None:
                path = Path(tmp) / "best.toml"
                path.write_text(best_config_toml(study, self.space, self.start_config))
                tracker.log_file(path, "best")
        running = any(s in ("RUNNING", "WAITING") for s in states)
        if not running:
            tracker.finish("KILLED" if result.interrupted else "FINISHED")


class TrialRun:
    """One trial's MLflow run: an `MlflowCallback` nested under the study's run, and the trial's outcome.

    Args:
        study_run: The study's run.
        trial: The Optuna trial.
        values: Its sampled config values.
    """

    def __init__(self, study_run: StudyRun, trial: optuna.Trial, values: dict[str, Any]) -> None:
        from aip_ml.tracking import MlflowCallback

        self.trial = trial
        tags = {
            "mlflow.parentRunId": str(study_run.parent_run_id),
            "aip.study": study_run.study_name,
            "aip.tune": "trial",
            "aip.trial": str(trial.number),
            **{f"tune.param.{k}": json.dumps(v) for k, v in values.items()},
        }
        resume_of = trial.user_attrs.get("aip.resume_of")
        if resume_of is not None:
            tags["aip.resume_of"] = str(resume_of)
        self.callback = MlflowCallback(
            study_run.tracking_uri,
            register=False,
            log_checkpoint=False,
            run_name=f"{study_run.study_name}/trial-{trial.number}",
            tags=tags,
        )
        self._begun = False

    def begin(self, config: Any, run_dir: Path) -> None:
        """Start the trial's run before its training, so a trial that fails at once is recorded too.

        A resumed trial starts a new run (its predecessor's stays as it ended, killed).
        """
        from aip_ml.tracking import RUN_FILE

        (Path(run_dir) / RUN_FILE).unlink(missing_ok=True)
        self.callback.on_start(config, run_dir)
        self._begun = True

    # The training callback protocol, passed through to MlflowCallback.
    def on_start(self, config: Any, run_dir: Path) -> None:
        """Start the run unless `begin` did."""
        if not self._begun:
            self.begin(config, run_dir)

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Log the update's metrics."""
        self.callback.on_update(update, metrics)

    def on_checkpoint(self, path: Path) -> None:
        """Nothing per checkpoint."""

    def on_end(self, result: Any) -> None:
        """Log the trial's policy and final evaluation (`MlflowCallback.on_end`); this ends the run."""
        self.callback.on_end(result)

    @property
    def run_id(self) -> str | None:
        """The trial's MLflow run id, once started."""
        return self.callback.run_id

    def finish_trial(
        self, state: str, value: float | None, message: str, result: Any, reporter: PruningCallback | None
    ) -> None:
        """Record the pruner's reports, the decision and the value; end the run."""
        tracker = self.callback.tracker
        if tracker is None:
            return
        try:
            reports = {} if reporter is None else reporter.reports
            for step, reported in sorted(reports.items()):
                tracker.log_metrics({"tune/intermediate": reported}, step=step)
            final: dict[str, float] = {}
            if value is not None and math.isfinite(value):
                final["tune/value"] = value
            if reporter is not None and reporter.pruned_at is not None:
                final["tune/pruned_at_step"] = float(reporter.pruned_at)
            if final:
                tracker.log_metrics(final, step=int(getattr(result, "global_step", 0) or max(reports, default=0)))
            tags = {"tune.state": state}
            if message:
                tags["tune.message"] = message
            record = getattr(result, "time_to_target", None)
            if record is not None:
                tags["tune.time_to_target"] = record.describe()
            tracker.set_tags(tags)
        finally:
            self.callback.close(_STATUS[state])
