"""`tune`: an Optuna study over training configs, each trial a training run nested in MLflow.

The loop is Optuna's ask-and-tell: ask for a trial (a waiting one first: an interrupted trial that is
to be resumed), draw its config from the search space with TPE, train it with a `PruningCallback`,
tell the result. Any number of processes run this loop on one storage and one study name; the
storage hands out trial numbers, so trials are shared without duplicates, and budgets in trials and
steps count the whole study.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._config import TrainConfig
from .._errors import ConfigError
from ._pruning import PruningCallback, TargetReached, steps_value
from ._space import SearchSpace
from ._storage import StudyError, open_storage, storage_label
from ._tracking import StudyRun

if TYPE_CHECKING:
    import optuna

__all__ = ["TUNE_DIR", "TrialOutcome", "TuneResult", "tune"]

TUNE_DIR = Path("aip-tune")
_COUNTED = ("COMPLETE", "PRUNED", "RUNNING")
_RESUME_FILES = ("config.toml", "target.json", "lineage.json")


@dataclass(frozen=True)
class TrialOutcome:
    """What became of one trial.

    Attributes:
        number: The trial's number in the study.
        state: ``COMPLETE``, ``PRUNED``, ``FAIL`` or ``INTERRUPTED`` (a failed trial that is queued to resume).
        value: The objective's value (None unless complete).
        params: The searched keys' config values.
        global_step: Environment steps trained.
        seconds: Wall time of the trial.
        run_dir: Its run folder.
        mlflow_run_id: Its MLflow run, when tracked.
        message: Why it failed or where it was pruned.
    """

    number: int
    state: str
    value: float | None
    params: dict[str, Any]
    global_step: int
    seconds: float
    run_dir: Path
    mlflow_run_id: str | None = None
    message: str = ""


@dataclass
class TuneResult:
    """What `tune` did in this process, and the study as it stands.

    Attributes:
        study_name: The study.
        storage: The storage, as ``--storage`` takes it.
        direction: ``minimize`` or ``maximize``.
        objective: The objective's name.
        outcomes: The trials this process ran, in order.
        interrupted: Whether Ctrl-C stopped it (the study can be continued by running it again).
        stopped_by: What ended the loop: ``trials``, ``steps``, ``timeout``, ``interrupt``.
        parent_run_id: The study's MLflow run, when tracked.
    """

    study_name: str
    storage: str
    direction: str
    objective: str
    outcomes: list[TrialOutcome] = field(default_factory=list)
    interrupted: bool = False
    stopped_by: str = ""
    parent_run_id: str | None = None


def _sampler(seed: int, number: int, startup: int) -> optuna.samplers.BaseSampler:
    """TPE seeded by the study's seed and the trial's number.

    A trial's draw depends only on the seed, its number and the trials finished before it, not on which
    process asked for it: a study run again with the same seed makes the same choices, and processes
    that join one study never draw the same random start-up configs.
    """
    import optuna

    from ..ppo import derive_seed

    return optuna.samplers.TPESampler(
        seed=derive_seed(seed, number) % 2**32, n_startup_trials=startup, constant_liar=True
    )


def _pruner(name: str, report_every: int, startup: int) -> optuna.pruners.BasePruner:
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=2 * report_every)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=2 * report_every, reduction_factor=3)
    return optuna.pruners.NopPruner()


def _signature(space: SearchSpace, start: TrainConfig) -> str:
    data = {
        "objective": space.objective,
        "params": [p.__dict__ for p in space.params],
        "config": start.to_dict(),
    }
    return json.dumps(data, sort_keys=True, default=str)


def _open_study(
    storage_text: str | None, name: str, space: SearchSpace, start: TrainConfig, pruner: Any
) -> tuple[optuna.Study, bool]:
    import optuna

    storage = open_storage(storage_text)
    signature = _signature(space, start)
    created = False
    try:
        direction = (
            optuna.study.StudyDirection.MINIMIZE
            if space.direction == "minimize"
            else optuna.study.StudyDirection.MAXIMIZE
        )
        study = optuna.create_study(storage=storage, study_name=name, direction=direction, pruner=pruner)
        created = True
        study.set_user_attr("aip.task", space.task)
        study.set_user_attr("aip.signature", signature)
        study.set_user_attr("aip.objective", space.objective)
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(storage=storage, study_name=name, pruner=pruner)
    saved = _wait_for(lambda: study.user_attrs.get("aip.signature"), created)
    if study.direction.name.lower() != space.direction:
        raise StudyError(
            f"study {name!r} {study.direction.name.lower()}s its objective, and {space.objective!r} is to "
            f"{space.direction}; use the study's objective or another --study"
        )
    if saved is not None and saved != signature:
        theirs = json.loads(saved)
        ours = json.loads(signature)
        what = [k for k in ("objective", "params", "config") if theirs.get(k) != ours.get(k)]
        changed = ""
        if "config" in what:
            keys = sorted(k for k in ours["config"] if ours["config"].get(k) != theirs["config"].get(k))
            changed = f" (config keys that differ: {', '.join(keys)})"
        raise StudyError(
            f"study {name!r} in {storage_label(storage_text)} was started with another "
            f"{' and '.join(what)}{changed}; run it with the same task, config, overrides and search "
            "space, or start another study with --study NAME"
        )
    return study, created


def _wait_for(read: Callable[[], Any], created: bool, seconds: float = 30.0) -> Any:
    """A value the creating process sets right after creating the study (a joiner may be faster)."""
    deadline = time.monotonic() + (0 if created else seconds)
    while True:
        value = read()
        if value is not None or time.monotonic() >= deadline:
            return value
        time.sleep(0.5)


def _count(study: optuna.Study) -> tuple[int, int]:
    """(trials that count toward the budget, environment steps they used or hold)."""
    counted = 0
    steps = 0
    for t in study.get_trials(deepcopy=False):
        state = t.state.name
        interrupted = bool(t.user_attrs.get("aip.interrupted"))
        if state in _COUNTED or (state == "FAIL" and not interrupted):
            counted += 1
        if state == "RUNNING":
            steps += int(t.user_attrs.get("aip.total_steps", 0))
        elif not interrupted:
            steps += int(t.user_attrs.get("aip.global_step", 0))
    return counted, steps


def _prepare_resume(trial: optuna.Trial, run_dir: Path) -> bool:
    """Copy an interrupted trial's run folder (without its MLflow run file) into this trial's."""
    source = trial.user_attrs.get("aip.resume_dir")
    if not source:
        return False
    old = Path(str(source))
    latest = old / "checkpoints" / "latest.ckpt"
    if not latest.is_file():
        return False  # started before its first checkpoint (or on another machine): train afresh
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    shutil.copy2(latest, run_dir / "checkpoints" / "latest.ckpt")
    for name in _RESUME_FILES:
        if (old / name).is_file():
            shutil.copy2(old / name, run_dir / name)
    return True


def tune(
    space: SearchSpace,
    base: TrainConfig,
    *,
    study_name: str | None = None,
    storage: str | None = None,
    trials: int | None = None,
    timeout: float | None = None,
    steps: int | None = None,
    seed: int = 0,
    startup_trials: int = 5,
    out_dir: str | os.PathLike[str] = TUNE_DIR,
    tracking_uri: str | None = None,
    track: bool = True,
    confirm: int = 2,
    enqueue: Sequence[Mapping[str, Any]] = (),
    on_trial: Callable[[TrialOutcome], None] | None = None,
    on_trial_start: Callable[[int, dict[str, Any]], None] | None = None,
) -> TuneResult:
    """Run (or join) an Optuna study of training configs.

    Args:
        space: The search space (`load_space`); its ``[fixed]`` keys are applied to ``base``.
        base: The config every trial starts from (the task's, a file's, with overrides).
        study_name: The study's name (default: the task's); processes with the same name and storage share it.
        storage: ``--storage``: None (``optuna.db`` here), an Optuna RDB URL or ``journal:FILE``.
        trials: Stop once the study holds this many trials (complete, pruned, failed or running).
        timeout: Seconds after which this process starts no new trial.
        steps: Stop once the study's trials have trained (or hold) this many environment steps.
        seed: The sampler's seed (TPE, seeded per trial from it and the trial's number).
        startup_trials: Random trials before TPE models the results, and before the pruner prunes.
        out_dir: Run folders go to ``out_dir/<study>/trial-<number>``.
        tracking_uri: The MLflow store (default: ``MLFLOW_TRACKING_URI`` or ``mlflow.db`` here).
        track: Record the study and its trials in MLflow.
        confirm: ``steps_to_target``: end a trial once the target was met on this many checks in a row.
        enqueue: Params (config values of searched keys) to try first, e.g. a known good config.
        on_trial: Called after each trial with its outcome.
        on_trial_start: Called with a trial's number and params before it trains.

    Returns:
        The result; `best_config`, `top_trials` and `importances` read the study.

    Raises:
        StudyError: The study exists with another objective, space or base config.
        SearchSpaceError: ``enqueue`` names keys outside the space.
    """
    import optuna

    if trials is None and timeout is None and steps is None:
        trials = 20
    start_config = base.replace(**space.fixed) if space.fixed else base
    name = study_name or space.task
    report_every = start_config.target_every_steps or max(start_config.total_steps // 20, 1)
    pruner = _pruner(space.pruner, report_every, startup_trials)
    study, created = _open_study(storage, name, space, start_config, pruner)
    by_name = {p.name: p for p in space.params}
    for values in enqueue:
        unknown = [k for k in values if k not in by_name]
        if unknown:
            raise StudyError(f"enqueued params {unknown} are not searched keys ({', '.join(by_name)})")
        study.enqueue_trial({k: by_name[k].to_optuna(v) for k, v in values.items()}, skip_if_exists=True)
    result = TuneResult(name, storage_label(storage), space.direction, space.objective)
    tracking = StudyRun(name, space, start_config, tracking_uri, created) if track else None
    if tracking is not None:
        tracking.start(study)
        result.parent_run_id = tracking.parent_run_id
    folder = Path(out_dir) / name
    began = time.monotonic()
    host = f"{socket.gethostname()}:{os.getpid()}"
    try:
        while True:
            counted, used = _count(study)
            if trials is not None and counted >= trials:
                result.stopped_by = "trials"
                break
            if steps is not None and used >= steps:
                result.stopped_by = "steps"
                break
            if timeout is not None and time.monotonic() - began >= timeout:
                result.stopped_by = "timeout"
                break
            outcome = _run_trial(
                study,
                space,
                start_config,
                seed,
                startup_trials,
                folder,
                tracking,
                report_every,
                confirm,
                host,
                on_trial_start,
            )
            result.outcomes.append(outcome)
            if on_trial is not None:
                on_trial(outcome)
            if outcome.state == "INTERRUPTED":
                result.interrupted = True
                result.stopped_by = "interrupt"
                break
    except KeyboardInterrupt:
        result.interrupted = True
        result.stopped_by = "interrupt"
    if tracking is not None:
        tracking.finish(study, result)
    del optuna
    return result


def _run_trial(
    study: optuna.Study,
    space: SearchSpace,
    start: TrainConfig,
    seed: int,
    startup: int,
    folder: Path,
    tracking: StudyRun | None,
    report_every: int,
    confirm: int,
    host: str,
    on_trial_start: Callable[[int, dict[str, Any]], None] | None,
) -> TrialOutcome:
    import optuna
    from optuna.trial import TrialState

    from .._train import train

    study.sampler = _sampler(seed, len(study.get_trials(deepcopy=False)), startup)
    trial = study.ask()
    began = time.perf_counter()
    run_dir = folder / f"trial-{trial.number:04d}"
    values: dict[str, Any] = {}
    child = None
    reporter: PruningCallback | None = None
    result: Any = None
    state, value, message = "FAIL", None, ""
    try:
        study.sampler = _sampler(seed, trial.number, startup)
        values = space.suggest(trial)
        trial.set_user_attr("aip.worker", host)
        trial.set_user_attr("aip.run_dir", str(run_dir.resolve()))
        config = start.replace(**values)
        trial.set_user_attr("aip.total_steps", config.total_steps)
        if on_trial_start is not None:
            on_trial_start(trial.number, values)
        resume = _prepare_resume(trial, run_dir)
        if resume:
            trial.set_user_attr("aip.resumed", True)
        callbacks: list[Any] = []
        if tracking is not None:
            child = tracking.trial_callback(trial, values)
            child.begin(config, run_dir)
            callbacks.append(child)
        reporter = PruningCallback(trial, space.objective, report_every, config.total_steps, confirm)
        callbacks.append(reporter)
        try:
            result = train(config, run_dir=run_dir, callbacks=callbacks, resume=resume)
        except TargetReached as reached:
            state, value, message = "COMPLETE", float(reached.steps), str(reached)
        else:
            if result.interrupted:
                state, message = "INTERRUPTED", "interrupted (Ctrl-C); queued to resume from its checkpoint"
            else:
                state, value = "COMPLETE", _value(space.objective, result, config)
    except optuna.TrialPruned as pruned:
        state, message = "PRUNED", str(pruned)
    except KeyboardInterrupt:
        state, message = "INTERRUPTED", "interrupted (Ctrl-C); queued to run again"
    except Exception as exc:  # any failure of the trial's training: recorded, and the study goes on
        state, message = "FAIL", f"{type(exc).__name__}: {exc}"
    global_step = _global_step(result, reporter, run_dir)
    seconds = time.perf_counter() - began
    trial.set_user_attr("aip.global_step", global_step)
    trial.set_user_attr("aip.seconds", seconds)
    if message:
        trial.set_user_attr("aip.message", message[:2000])
    if state == "INTERRUPTED":
        trial.set_user_attr("aip.interrupted", True)
    if value is not None and space.objective == "steps_to_target":
        trial.set_user_attr("aip.steps_to_target", int(value) if value <= start.total_steps else None)
    if child is not None:
        child.finish_trial(state, value, message, result, reporter)
    optuna_state = {"COMPLETE": TrialState.COMPLETE, "PRUNED": TrialState.PRUNED}.get(state, TrialState.FAIL)
    study.tell(trial, value if state == "COMPLETE" else None, state=optuna_state)
    if state == "INTERRUPTED":
        # Whichever process asks next takes this waiting trial and continues from the checkpoint.
        study.enqueue_trial(
            dict(trial.params),
            user_attrs={"aip.resume_of": trial.number, "aip.resume_dir": str(run_dir.resolve())},
        )
    return TrialOutcome(
        trial.number,
        state,
        value,
        values,
        global_step,
        seconds,
        run_dir,
        None if child is None else child.run_id,
        message,
    )


def _value(objective: str, result: Any, config: TrainConfig) -> float:
    if objective == "steps_to_target":
        return steps_value(result.time_to_target, config.total_steps)
    evaluation = result.evaluation
    if evaluation is None:
        raise ConfigError(f"objective {objective!r} needs a final evaluation: set eval_episodes above 0")
    agent = evaluation.agent
    value = float(agent.success_rate if objective == "success" else agent.mean_return)
    if not math.isfinite(value):
        raise ArithmeticError(f"the final evaluation's {objective} is {value}")
    return value


def _global_step(result: Any, reporter: PruningCallback | None, run_dir: Path) -> int:
    if result is not None:
        return int(result.global_step)
    view = None if reporter is None else reporter._view
    return int(view.global_step) if view is not None else 0
