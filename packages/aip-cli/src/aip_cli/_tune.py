"""``aip tune``: an Optuna study of training configs, tracked in MLflow, ending with best.toml."""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import Any

import typer

from aip_cli._common import JSON_OPTION, TRACKING_OPTION
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console, emit_json, error_console

__all__ = ["register", "tune_command"]

_TUNE_DIR = Path("aip-tune")


def _need_optuna() -> None:
    import importlib.util

    if importlib.util.find_spec("optuna") is None:
        raise CliError(
            'aip tune needs Optuna, an optional dependency: pip install "aip-ml[tune]"', ExitCode.UNAVAILABLE
        )


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={_fmt(v) if isinstance(v, float) else v}" for k, v in params.items())


def _print_outcome(outcome: Any) -> None:
    value = "" if outcome.value is None else f" value {_fmt(outcome.value)}"
    why = f" ({outcome.message})" if outcome.message and outcome.state != "COMPLETE" else ""
    console.print(
        f"trial {outcome.number}: {outcome.state}{value}, "
        f"{outcome.global_step:,} steps in {outcome.seconds:.0f} s{why}",
        markup=False,
    )


def _print_table(rows: list[dict[str, Any]], objective: str, names: list[str]) -> None:
    from rich.table import Table

    table = Table(title=f"Top trials ({objective})", title_justify="left")
    for column in ("trial", "state", "value", "steps"):
        table.add_column(column, justify="right" if column != "state" else "left")
    for name in names:
        table.add_column(name, justify="right")
    for row in rows:
        params = row["params"]
        table.add_row(
            str(row["number"]),
            row["state"],
            _fmt(row["value"]),
            _fmt(row["global_step"]),
            *(_fmt(params.get(n)) if not isinstance(params.get(n), list) else str(params.get(n)) for n in names),
        )
    console.print(table)


_OVERRIDES = typer.Argument(
    None, metavar="[KEY=VALUE]...", help="Config changes for every trial, e.g. total_steps=2000000."
)
_CONFIG = typer.Option(None, "--config", "-c", metavar="FILE", help="The config trials start from.")
_SPACE = typer.Option(
    None, "--space", metavar="FILE", help="A search space (TOML) [default: the task's, aip_ml/configs/spaces/]."
)
_BEST = typer.Option(
    None, "--best", metavar="FILE", help="Where to write the best config [default: aip-tune/STUDY/best.toml]."
)
_OUT = typer.Option(_TUNE_DIR, "--out", metavar="DIR", help="Trials' run folders: DIR/STUDY/trial-N.")


def tune_command(
    task: str = typer.Argument(..., metavar="TASK", help="The task to tune (one with a search space: see --space)."),
    overrides: list[str] | None = _OVERRIDES,
    config: Path | None = _CONFIG,
    space_file: Path | None = _SPACE,
    study: str | None = typer.Option(None, "--study", metavar="NAME", help="The study's name [default: TASK]."),
    storage: str | None = typer.Option(
        None,
        "--storage",
        metavar="URL",
        help="Optuna storage: sqlite:///FILE, postgresql://..., journal:FILE [default: sqlite:///optuna.db here].",
    ),
    trials: int | None = typer.Option(
        None, "--trials", min=1, metavar="N", help="Stop when the study holds N trials [default: 20 without a budget]."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", min=1, metavar="SECONDS", help="Start no trial after SECONDS (a running trial finishes)."
    ),
    steps: int | None = typer.Option(
        None, "--steps", min=1, metavar="N", help="Stop when the study's trials have trained N environment steps."
    ),
    seed: int = typer.Option(0, "--seed", help="The sampler's seed (TPE): the same seed repeats a study."),
    objective: str | None = typer.Option(
        None, "--objective", help="steps_to_target, success or return [default: the space's]."
    ),
    pruner: str | None = typer.Option(None, "--pruner", help="median, halving or none [default: the space's]."),
    startup: int = typer.Option(
        5,
        "--startup-trials",
        min=0,
        metavar="N",
        help="Random trials before TPE models the results and pruning starts.",
    ),
    best: Path | None = _BEST,
    out_dir: Path = _OUT,
    show_space: bool = typer.Option(False, "--show-space", help="Print the search space and exit."),
    track: bool = typer.Option(True, "--track/--no-track", help="Record the study and its trials in MLflow."),
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Search TASK's hyperparameters with Optuna (TPE, pruning); write the best config as TOML.

    Every trial is a training run (an MLflow run nested under the study's run). Several `aip tune`
    processes with the same --study and --storage share one study. Ctrl-C stops after the current
    update; run the same command again to continue (the interrupted trial resumes from its checkpoint).
    At the end: the top trials, the parameter importances, and best.toml for `aip train TASK --config`.
    """
    import aip_ml

    _need_optuna()
    from aip_ml.tune import best_config_toml, importances, load_space, top_trials, tune, write_best_config

    for item in overrides or []:
        if "=" not in item:
            raise CliError(f"{item!r} is not KEY=VALUE (e.g. total_steps=100000)", ExitCode.USAGE)
    if config is not None and not config.is_file():
        raise CliError(f"config file not found: {config}", ExitCode.NOT_FOUND)
    if space_file is not None and not space_file.is_file():
        raise CliError(f"search space not found: {space_file}", ExitCode.NOT_FOUND)
    base = aip_ml.load_config(task, config, list(overrides or []))
    space = load_space(base.task, space_file, base=base).with_study(objective, pruner)
    if show_space:
        typer.echo(
            f"search space {space.source} (objective {space.objective}, {space.direction}; pruner {space.pruner})"
        )
        for key, value in space.fixed.items():
            typer.echo(f"  fixed  {key} = {value!r}")
        for p in space.params:
            typer.echo(f"  search {p.name}: {p.describe()}")
        return
    name = study or base.task
    if not as_json:
        budget = [
            f"{trials} trials" if trials else "",
            f"{timeout:.0f} s" if timeout else "",
            f"{steps:,} steps" if steps else "",
        ]
        said = ", ".join(b for b in budget if b) or "20 trials"
        console.print(
            f"Tuning {base.task}: study {name!r}, objective {space.objective} ({space.direction}), "
            f"{len(space.params)} keys searched, budget {said}",
            markup=False,
        )

    def started(number: int, values: dict[str, Any]) -> None:
        if not as_json:
            console.print(f"trial {number}: {_params_text(values)}", markup=False)

    result = tune(
        space,
        base,
        study_name=name,
        storage=storage,
        trials=trials,
        timeout=timeout,
        steps=steps,
        seed=seed,
        startup_trials=startup,
        out_dir=out_dir,
        tracking_uri=tracking_uri,
        track=track,
        on_trial=None if as_json else _print_outcome,
        on_trial_start=started,
    )
    import optuna

    from aip_ml.tune import open_storage

    loaded = optuna.load_study(study_name=name, storage=open_storage(result.storage))
    rows = top_trials(loaded, space, limit=10)
    found = importances(loaded)
    best_path: Path | None = None
    try:
        text = best_config_toml(loaded, space, base.replace(**space.fixed) if space.fixed else base)
    except ValueError:
        text = ""
    if text:
        best_path = write_best_config(best or out_dir / name / "best.toml", text)
    summary = {
        "study": name,
        "storage": result.storage,
        "objective": space.objective,
        "direction": space.direction,
        "stopped_by": result.stopped_by,
        "interrupted": result.interrupted,
        "trials_run_here": [o.__dict__ | {"run_dir": str(o.run_dir)} for o in result.outcomes],
        "top_trials": rows,
        "importances": found,
        "best_config": None if best_path is None else str(best_path),
        "mlflow_parent_run_id": result.parent_run_id,
    }
    if as_json:
        emit_json(summary)
    else:
        _print_summary(rows, found, space, best_path, base.task, result)
    if result.interrupted:
        again = " ".join(shlex.quote(a) for a in ["aip", *sys.argv[1:]]) if sys.argv[1:] else f"aip tune {task}"
        error_console.print(f"aip: interrupted; continue the study with: {again}", markup=False)
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if best_path is None:
        raise CliError(
            f"study {name!r} has no complete trial (see the table above); widen the search space or the budget",
            ExitCode.FAILURE,
        )


def _print_summary(
    rows: list[dict[str, Any]], found: dict[str, float], space: Any, best_path: Path | None, task: str, result: Any
) -> None:
    if rows:
        _print_table(rows, space.objective, [p.name for p in space.params])
    if found:
        console.print(
            "Parameter importances (Optuna): " + ", ".join(f"{k} {v:.2f}" for k, v in found.items()), markup=False
        )
    if best_path is not None:
        console.print(f"Best config: {best_path}", markup=False)
        console.print(f"Train it:    aip train {task} --config {best_path}", markup=False)
    where = result.storage.removeprefix("journal:")  # optuna-dashboard takes a journal file's path as it is
    console.print(f"Open the study: optuna-dashboard {shlex.quote(where)}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``aip tune`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("tune", context_settings={"allow_interspersed_args": True})(tune_command)
