"""``aip train``: train a policy on a task with progress, tracking and registration."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn

from aip_cli._common import JSON_OPTION, TRACKING_OPTION
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console, emit_json, error_console

__all__ = ["RUNS_DIR", "ProgressCallback", "play_command", "register"]

RUNS_DIR = Path("aip-runs")


class ProgressCallback:
    """A training callback that draws a progress bar: steps, steps/s, mean return, success rate."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._bar: TaskID | None = None
        self._shown = {"sps": float("nan"), "ret": float("nan"), "success": float("nan")}
        self._task = ""
        self._lesson = ""

    def on_start(self, config: Any, run_dir: Path) -> None:
        """Add the bar."""
        self._task = str(config.task)
        self._bar = self._progress.add_task(
            f"{config.task}",
            total=int(config.total_steps),
            sps=float("nan"),
            ret=float("nan"),
            success=float("nan"),
        )

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Move the bar to ``global_step`` and show the update's figures."""
        if self._bar is None:
            return
        for name, key in (("sps", "steps_per_second"), ("ret", "episode_return_mean"), ("success", "success_rate")):
            value = metrics.get(key, float("nan"))
            if isinstance(value, (int, float)) and math.isfinite(value):
                self._shown[name] = float(value)  # NaN (no episode ended) keeps the last figure
        lesson = metrics.get("curriculum/lesson")
        if isinstance(lesson, float) and math.isfinite(lesson):
            # The curriculum's lesson beside the task (short: the line fits 80 columns).
            self._lesson = f" L{int(lesson)}/{int(metrics.get('curriculum/lessons', lesson))}"
        self._progress.update(
            self._bar,
            description=self._task + self._lesson,
            completed=int(metrics.get("global_step", 0)),
            total=int(metrics.get("total_steps", 0)) or None,
            sps=self._shown["sps"],
            ret=self._shown["ret"],
            success=self._shown["success"],
        )

    def on_checkpoint(self, path: Path) -> None:
        """Nothing to draw."""

    def on_end(self, result: Any) -> None:
        """Fill the bar."""
        if self._bar is not None:
            self._progress.update(self._bar, completed=int(getattr(result, "global_step", 0)))


def _progress() -> Progress:
    return Progress(
        # Narrow enough for an 80-column terminal (and CI logs), where rich would cut the figures.
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=20),
        TaskProgressColumn(),
        TextColumn("{task.fields[sps]:>7,.0f} steps/s"),
        TextColumn("return {task.fields[ret]:>6.1f}"),
        TextColumn("success {task.fields[success]:>4.0%}"),
        TimeRemainingColumn(compact=True),
        console=error_console,
    )


def _explained_toml(text: str, helps: dict[str, str]) -> str:
    """The config's TOML with each key's description as a comment above it."""
    out: list[str] = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip() if "=" in line and not line.startswith("#") else ""
        if key in helps:
            out.append(f"# {helps[key]}")
        out.append(line)
    return "\n".join(out) + "\n"


def _trainable_tasks() -> list[str]:
    """The tasks with a shipped config, read from aip_ml's files without importing it (and torch)."""
    import importlib.util

    spec = importlib.util.find_spec("aip_ml")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    names = {p.stem for folder in folders for p in (Path(folder) / "configs").glob("*.toml")}
    return sorted(names) or ["chase-v1"]


def _latest_run(task: str) -> Path:
    folder = RUNS_DIR / task
    runs = sorted(p.parent.parent for p in folder.glob("*/checkpoints/latest.ckpt")) if folder.is_dir() else []
    if not runs:
        raise CliError(
            f"nothing to resume: no run of {task} with a checkpoint under {folder}/; start one with "
            f"`aip train {task}` or pass --run-dir",
            ExitCode.NOT_FOUND,
        )
    return runs[-1]


def _new_run_dir(task: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = RUNS_DIR / task / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = RUNS_DIR / task / f"{stamp}-{suffix}"
    return path


def _summary(result: Any, registered: list[Any], play: str | None, run_id: str | None) -> dict[str, Any]:
    evaluation = getattr(result, "evaluation", None)
    return {
        "run_dir": str(result.run_dir),
        "checkpoint": str(result.checkpoint),
        "policy": str(result.policy_path) if result.policy_path else None,
        "global_step": result.global_step,
        "updates": result.updates,
        "wall_seconds": result.wall_seconds,
        "steps_per_second": result.steps_per_second,
        "interrupted": result.interrupted,
        "final_metrics": result.final_metrics,
        "evaluation": evaluation.to_dict() if evaluation is not None else None,
        "time_to_target": target.to_dict() if (target := getattr(result, "time_to_target", None)) else None,
        "mlflow_run_id": run_id,
        "lineage": dict(getattr(result, "lineage", {}) or {}),
        "registered": [v.to_dict() for v in registered],
        "play_command": play,
    }


_OVERRIDES = typer.Argument(
    None,
    metavar="[KEY=VALUE]...",
    help="Config changes, e.g. total_steps=200000 learning_rate=1e-3 hidden_sizes=[64,64].",
)
_CONFIG = typer.Option(None, "--config", "-c", metavar="FILE", help="A TOML config file (see aip_ml's configs/).")
_RUN_DIR = typer.Option(None, "--run-dir", metavar="DIR", help=f"The run folder [default: {RUNS_DIR}/TASK/DATE-TIME].")


def train_command(
    task: str = typer.Argument(..., metavar="TASK", help=f"The task: {', '.join(_trainable_tasks())}."),
    overrides: list[str] | None = _OVERRIDES,
    config: Path | None = _CONFIG,
    resume: bool = typer.Option(
        False, "--resume", help="Continue the latest run of TASK (or --run-dir) from its checkpoint."
    ),
    run_dir: Path | None = _RUN_DIR,
    show_config: bool = typer.Option(
        False, "--show-config", help="Print the config that would be used (TOML, every key explained) and exit."
    ),
    track: bool = typer.Option(True, "--track/--no-track", help="Record the run in MLflow and register the policy."),
    replays: int = typer.Option(
        10,
        "--replays",
        min=0,
        max=1000,
        metavar="N",
        help="Record a few evaluation episodes N times over the run (and at its start) for `aip dashboard`; 0: none.",
    ),
    nproc: int = typer.Option(
        1,
        "--nproc",
        min=1,
        max=1024,
        metavar="N",
        help="Data-parallel ranks on this machine, started with torchrun (each steps num_worlds worlds; "
        "gradients averaged); 1: one process. Several machines: docs/tutorials/scale-out.md.",
    ),
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Train a policy for TASK with PPO; record it in MLflow; register the policy as TASK-ROLE.

    The run folder keeps config.toml, checkpoints/ and policy.aipp. Ctrl-C stops after the current
    update with a checkpoint; --resume continues it. At the end the policy is evaluated and the
    command tells how to play against it. See every config key, explained: aip train TASK --show-config
    """
    import aip_ml

    for item in overrides or []:
        if "=" not in item:
            raise CliError(f"{item!r} is not KEY=VALUE (e.g. total_steps=100000)", ExitCode.USAGE)
    if config is not None and not config.is_file():
        raise CliError(f"config file not found: {config}", ExitCode.NOT_FOUND)
    cfg = aip_ml.load_config(task, config, list(overrides or []))
    if show_config:
        typer.echo(_explained_toml(cfg.to_toml(), aip_ml.TrainConfig.field_help()), nl=False)
        return
    if resume:
        folder = run_dir or _latest_run(cfg.task)
    else:
        folder = run_dir or _new_run_dir(cfg.task)
        if run_dir is not None and (run_dir / "checkpoints").exists():
            raise CliError(
                f"{run_dir} holds a run already; pass --resume to continue it, or choose another --run-dir",
                ExitCode.REFUSED,
            )
    if nproc > 1:
        from aip_cli._train_ddp import train_distributed

        train_distributed(
            cfg,
            nproc=nproc,
            folder=folder,
            config=config,
            overrides=list(overrides or []),
            resume=resume,
            track=track,
            tracking_uri=tracking_uri,
            as_json=as_json,
        )
        return
    callbacks: list[Any] = []
    tracking = None
    if track:
        from aip_ml.tracking import MlflowCallback

        tracking = MlflowCallback(tracking_uri)
        callbacks.append(tracking)
    if replays:
        from aip_ml.replays import REPLAYS_DIR, ReplayCallback

        publish = None
        if tracking is not None:
            sink = tracking

            def publish(path: Path) -> None:
                sink.log_artifact(path, REPLAYS_DIR)

        callbacks.append(ReplayCallback(recordings=replays, publish=publish))
    progress = None if as_json else _progress()
    if progress is not None:
        callbacks.append(ProgressCallback(progress))
    if not as_json:
        where = f", tracked in {tracking.tracking_uri}" if tracking else ""
        console.print(f"Training {cfg.task} for {cfg.total_steps:,} steps in {folder}{where}", markup=False)
    try:
        if progress is not None:
            with progress:
                result = aip_ml.train(
                    cfg, run_dir=folder, callbacks=callbacks, resume=resume, tracking_uri=tracking_uri
                )
        else:
            result = aip_ml.train(cfg, run_dir=folder, callbacks=callbacks, resume=resume, tracking_uri=tracking_uri)
    except BaseException as exc:
        if tracking is not None:
            tracking.close("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        raise
    registered = tracking.registered if tracking else []
    play = None
    if registered:
        uri = tracking.tracking_uri if tracking is not None and tracking.tracking_uri != _default_uri() else None
        play = play_command(registered[0].reference, registered[0].role, uri)
    elif result.policy_path:
        import aip_engine

        play = play_command(str(result.policy_path), aip_engine.task_spec(cfg.task).agents[0], None)
    if as_json:
        emit_json(_summary(result, registered, play, tracking.run_id if tracking else None))
    else:
        _print_summary(result, registered, play)
    if result.interrupted:
        error_console.print(
            f"aip: interrupted; continue with: aip train {cfg.task} --resume --run-dir {result.run_dir}",
            markup=False,
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED))


def play_command(opponent: str, role: str, tracking_uri: str | None) -> str | None:
    """The ``aip play`` command that puts the human against a policy of ``role``, if the game can.

    Args:
        opponent: A model reference or a policy file.
        role: The policy's role.
        tracking_uri: A non-default store to name, or ``None``.

    Returns:
        The command, or ``None`` for roles the game cannot give to an opponent (``missile``).
    """
    if role == "enemy":
        command = f"aip play --opponent {opponent}"
    elif role == "player":
        command = f"aip play --opponent {opponent} --side enemy"
    else:
        return None
    return command + (f" --tracking-uri {tracking_uri}" if tracking_uri else "")


def watch_command(play: str) -> str | None:
    """The ``aip play --side watch`` command for the policy of a `play_command` that flies the player.

    Args:
        play: What `play_command` returned.

    Returns:
        The command that watches the player policy against the game's enemy, or ``None`` for others.
    """
    if " --side enemy" not in play:
        return None
    return play.replace(" --opponent ", " --player ", 1).replace(" --side enemy", " --side watch", 1)


def _default_uri() -> str:
    from aip_ml.tracking import default_tracking_uri

    return default_tracking_uri()


def _print_summary(result: Any, registered: list[Any], play: str | None) -> None:
    console.print(
        f"Trained {result.global_step:,} steps in {result.wall_seconds:.1f} s "
        f"({result.steps_per_second:,.0f} steps/s); run folder {result.run_dir}",
        markup=False,
    )
    target = getattr(result, "time_to_target", None)
    if target is not None:
        console.print(f"Skill {target.describe()}", markup=False)
    evaluation = getattr(result, "evaluation", None)
    if evaluation is not None:
        header = f"Evaluation ({evaluation.episodes} episodes, the same seeds for every controller):"
        console.print(header, markup=False)
        rows = [("policy", evaluation.agent)] + [(f"bot {name}", r) for name, r in evaluation.bots.items()]
        for label, r in rows:
            frames = "-" if r.success_rate == 0 else f"{r.mean_frames_to_success:.1f}"
            console.print(
                f"  {label:16s} success {r.success_rate:6.1%}   frames to success {frames:>6s}   "
                f"mean return {r.mean_return:7.2f}",
                markup=False,
            )
    for version in registered:
        console.print(f"Registered {version.reference} (see: aip models show {version.reference})", markup=False)
    if play:
        console.print(f"Play against it:  {play}", markup=False)
        watch = watch_command(play)
        if watch:
            console.print(f"Watch it play:    {watch}", markup=False)
    elif registered:
        console.print(
            f"The game takes enemy and player policies as opponents, not {registered[0].role} ones; "
            f"evaluate it with: aip eval {registered[0].reference}",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``aip train`` to ``app``.

    Args:
        app: The root command.
    """
    app.command(
        "train",
        context_settings={"allow_interspersed_args": True},
    )(train_command)
