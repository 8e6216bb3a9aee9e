"""``aip eval``: evaluate a registered model, a policy file or a scripted bot on a task."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from aip_cli._common import JSON_OPTION, TRACKING_OPTION, client_for, parse_policy_choice, require_store
from aip_cli._errors import CliError, ExitCode
from aip_cli._evaluation import policy_task, result_dict
from aip_cli._output import console, emit_json, fmt_score

__all__ = ["register"]


def _check_task(task: str) -> str:
    import aip_engine

    known = aip_engine.tasks()
    if task not in known:
        raise CliError(f"unknown task {task!r}; tasks: {', '.join(known)}", ExitCode.USAGE)
    return task


def _bot_task_role(task: str, bot: str) -> str:
    import aip_engine

    spec = aip_engine.task_spec(task)
    for role in spec.agents:
        if bot in aip_engine.bots(role):
            return role
    names = sorted({b for role in spec.agents for b in aip_engine.bots(role)})
    raise CliError(
        f"unknown bot {bot!r} for the {'/'.join(spec.agents)} role of {task}; bots: {', '.join(names)}",
        ExitCode.USAGE,
    )


def _progress_runner(enabled: bool) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if not enabled:
        return None
    return Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("episodes"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _run_policy(path: Path, task: str, episodes: int, seed: int, bots: bool, show: bool) -> Any:
    import aip_ml

    progress = _progress_runner(show)
    if progress is None:
        return aip_ml.evaluate(path, task, episodes=episodes, seed=seed, bots=bots)
    with progress:
        bar = progress.add_task("eval", total=None)

        def report(done: int, total: int) -> None:
            progress.update(bar, completed=done, total=total)

        return aip_ml.evaluate(path, task, episodes=episodes, seed=seed, bots=bots, progress=report)


def _run_bot(task: str, bot: str, episodes: int, seed: int) -> dict[str, Any]:
    import aip_ml

    role = _bot_task_role(task, bot)
    result = aip_ml.evaluate_bot(bot, task, episodes=episodes, seed=seed)
    return {
        "task": task,
        "role": role,
        "episodes": episodes,
        "seed": seed,
        "agent": result_dict(result),
        "bots": {},
        "best": "agent",
        "evaluated": f"bot:{bot}",
    }


def _report_table(title: str, data: dict[str, Any]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("controller", "success", "mean return", "frames to success", "mean frames"):
        table.add_column(column, justify="left" if column == "controller" else "right")
    rows = [("agent", data.get("agent") or {})]
    rows += sorted((data.get("bots") or {}).items())
    best = data.get("best")
    for name, scores in rows:
        scores = {k: float(v) for k, v in scores.items() if isinstance(v, (int, float))}
        label = str(data.get("evaluated", "agent")) if name == "agent" else f"bot:{name}"
        if name == best:
            label += " *"
        table.add_row(
            label,
            fmt_score(scores, "success_rate", percent=True),
            fmt_score(scores, "mean_return"),
            fmt_score(scores, "mean_frames_to_success"),
            fmt_score(scores, "mean_frames"),
        )
    return table


def eval_command(
    what: str = typer.Argument(
        ...,
        metavar="MODEL|POLICY_FILE|bot:NAME",
        help="A registered model (chase-v1-enemy@champion, chase-v1-enemy/3), a .aipp file, or a "
        "scripted bot (bot:intercept).",
    ),
    task: str | None = typer.Option(
        None, "--task", "-t", help="The task [default: the model's or the file's task; required for bots]."
    ),
    episodes: int = typer.Option(200, "--episodes", "-n", min=1, help="Episodes (the same seeds for all)."),
    seed: int = typer.Option(12345, "--seed", help="Seed of the episodes."),
    no_bots: bool = typer.Option(False, "--no-bots", help="Skip the scripted reference bots."),
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Evaluate a policy on a task, next to the task's scripted reference bots.

    Reports success rate, mean return and mean frames to success over the same episodes for the
    policy and each reference bot; * marks the best.
    """
    choice = parse_policy_choice(what)
    if task is not None:
        _check_task(task)
    if choice.kind == "bot":
        if task is None:
            raise CliError("evaluating a bot needs --task (e.g. --task chase-v1)", ExitCode.USAGE)
        data = _run_bot(task, choice.value, episodes, seed)
        label = f"bot:{choice.value}"
    else:
        with tempfile.TemporaryDirectory(prefix="aip-eval-") as tmp:
            if choice.kind == "model":
                from aip_ml.tracking import download_policy, resolve_version

                client = client_for(require_store(tracking_uri))
                info = resolve_version(client, choice.value)
                path = download_policy(client, info, Path(tmp))
                task = task or info.task
                label = info.reference
            else:
                path = choice.path
                task = task or policy_task(path)
                label = str(path)
                if task is None:
                    raise CliError(f"{path} does not record its task; pass --task", ExitCode.USAGE)
            report = _run_policy(path, _check_task(task), episodes, seed, not no_bots, not as_json)
        data = report.to_dict() if hasattr(report, "to_dict") else dict(report)
        data["evaluated"] = label
    if as_json:
        emit_json(data)
        return
    console.print(_report_table(f"{label} on {task}: {episodes} episodes, seed {seed}", data))


def register(app: typer.Typer) -> None:
    """Add ``aip eval`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("eval")(eval_command)
