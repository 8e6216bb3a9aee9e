"""``aip league``: a tournament of every registered model and scripted bot of a task, rated with openskill."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from aip_cli._common import JSON_OPTION, TRACKING_OPTION, client_for
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console, emit_json, error_console

__all__ = ["league_command", "register"]


def _versions_of(client: Any, task: str) -> list[Any]:
    import aip_engine
    from aip_ml.tracking import list_versions, model_name

    names = {model_name(task, role) for role in aip_engine.task_spec(task).agents}
    found = []
    for info in list_versions(client):
        if info.name in names:
            found.append(info)
    return found


def _no_models_message(task: str) -> str:
    return (
        f"no registered model of {task} yet: the league rates learned models against the scripted bots; "
        f"train one first with `aip train {task}` (it registers the policies), then run `aip league {task}`"
    )


_OUT = typer.Option(
    None, "--out", metavar="DIR", help="Also write matches.jsonl and ratings.json into DIR (atomically)."
)


def league_command(
    task: str = typer.Argument(..., metavar="TASK", help="The task whose models and bots play (e.g. duel-v1)."),
    episodes: int | None = typer.Option(
        None, "--episodes", "-n", min=1, help="Matches (episodes) per pair, for a new league [default: 32]."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of every pair's episodes, for a new league [default: 0]."
    ),
    new: bool = typer.Option(False, "--new", help="Start a new league instead of adding to the stored one."),
    out: Path | None = _OUT,
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Rate every registered model version of TASK's roles and every scripted bot of those roles.

    Each pair of entrants plays the same N episodes (one match each; duel-v1: the player wins a match
    it survives); openskill rates everyone on one scale. The league is kept in the MLflow store (a run
    of the experiment aip-league per round: the table as an artifact, each rating as a metric, and
    rating.* tags on each model version). A later run adds new entrants and plays only their pairs.
    """
    import aip_engine
    from aip_ml.selfplay import Entrant, bot_entrants, league_rows, match_sides, play_league
    from aip_ml.tracking import download_policy, latest_league, log_league, resolve_tracking_uri, store_exists

    aip_engine.task_spec(task)  # an unknown task: "did you mean"
    match_sides(task)
    uri = resolve_tracking_uri(tracking_uri)
    if not store_exists(uri):
        raise CliError(_no_models_message(task), ExitCode.NOT_FOUND)
    client = client_for(uri)
    versions = _versions_of(client, task)
    if not versions:
        raise CliError(_no_models_message(task), ExitCode.NOT_FOUND)
    stored = None if new else latest_league(client, task)
    record = stored.record if stored is not None else None
    if record is not None:
        for name, given, kept in (("--episodes", episodes, record.episodes), ("--seed", seed, record.seed)):
            if given is not None and given != kept:
                raise CliError(
                    f"the stored league of {task} plays with {name} {kept}; pass the same, or --new to start a "
                    "new league",
                    ExitCode.USAGE,
                )
    if stored is not None and stored.problem and not as_json:
        error_console.print(
            f"aip: warning: the stored ratings of run {stored.run_id} were unusable ({stored.problem}); "
            f"rebuilt from its {len(stored.record.matches)} stored matches",
            markup=False,
        )
    roles = aip_engine.task_spec(task).agents
    before = record.rounds if record is not None else 0
    played_before = len(record.matches) if record is not None else 0
    with tempfile.TemporaryDirectory(prefix="aip-league-") as tmp:
        entrants: list[Entrant] = []
        for info in versions:
            path = download_policy(client, info, Path(tmp) / info.name / info.version)
            entrants.append(Entrant(info.reference, info.role, "model", source=str(path)))
        for role in roles:
            entrants += bot_entrants(role)
        progress = None
        bar = None
        if not as_json:
            progress = Progress(
                TextColumn("[bold]league {task.description}"),
                BarColumn(bar_width=20),
                MofNCompleteColumn(),
                TextColumn("pairs"),
                TimeRemainingColumn(compact=True),
                console=error_console,
            )
        kwargs: dict[str, Any] = {}
        if record is None:
            kwargs = {"episodes": episodes or 32, "seed": 0 if seed is None else seed}

        def tick(done: int, total: int) -> None:
            if progress is not None and bar is not None:
                progress.update(bar, completed=done, total=total)

        if progress is not None:
            with progress:
                bar = progress.add_task(task, total=None)
                record = play_league(task, entrants, record=record, progress=tick, **kwargs)
        else:
            record = play_league(task, entrants, record=record, **kwargs)
    rows = league_rows(record, entrants)
    run_id = log_league(
        client, record, rows, versions=versions, previous_run=stored.run_id if stored is not None else None
    )
    if out is not None:
        record.save(out)
    new_matches = len(record.matches) - played_before
    if as_json:
        emit_json(
            {
                "task": task,
                "run_id": run_id,
                "round": record.rounds,
                "episodes_per_pair": record.episodes,
                "seed": record.seed,
                "new_matches": new_matches,
                "matches": len(record.matches),
                "rebuilt": stored.problem if stored is not None else None,
                "table": [r.to_dict() for r in rows],
            }
        )
        return
    console.print(
        f"League of {task}, round {record.rounds} (run {run_id}): {new_matches} new matches"
        f"{' (every pair was played already)' if new_matches == 0 and before else ''}, "
        f"{len(record.matches)} in all, {record.episodes} per pair, seed {record.seed}",
        markup=False,
    )
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        caption_justify="left",
        caption="mu +- sigma: openskill rating and its uncertainty; ranked by mu - 3 sigma. "
        "'above best bot': standard deviations above the best bot of the role.",
    )
    for name, justify in (
        ("rank", "right"),
        ("entrant", "left"),
        ("role", "left"),
        ("rating", "right"),
        ("matches", "right"),
        ("won", "right"),
        ("above best bot", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for r in rows:
        above = "" if math.isnan(r.above_best_bot) else f"{r.above_best_bot:+.1f} sd"
        table.add_row(
            str(r.rank),
            r.entrant,
            r.role,
            f"{r.rating.mu:6.2f} +- {r.rating.sigma:4.2f}",
            str(r.rating.matches),
            f"{r.rating.win_rate:.0%}",
            above,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``aip league`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("league")(league_command)
