"""Leagues in the MLflow store: one run per round, the table as an artifact, ratings as metrics and tags.

Each ``aip league TASK`` round is a run of the experiment ``aip-league`` tagged
``aip.league.task = TASK``. It holds the artifacts ``league/matches.jsonl`` (every match so far),
``league/ratings.json`` (the table and the league's settings), ``league/table.csv`` and
``league/table.md``; the metrics ``rating.mu/<entrant>`` and ``rating.sigma/<entrant>`` (``:`` in an
entrant's id written as ``.``); and the params of the league. The next round starts from the newest
finished round. Every rated model version also gets the version tags ``rating.mu``, ``rating.sigma``,
``rating.conservative``, ``rating.rank`` and ``rating.run``, so that `list_versions` (and so
``aip models`` and the dashboard) show ratings without reading the league.
"""

from __future__ import annotations

import csv
import io
import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aip_ml.tracking._registry import ModelVersionInfo, parse_reference
from aip_ml.tracking._store import ensure_experiment

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from aip_ml.selfplay import LeagueRecord, LeagueRow, RatingModel

__all__ = [
    "LEAGUE_ARTIFACTS",
    "LEAGUE_EXPERIMENT",
    "RATING_TAG_PREFIX",
    "StoredLeague",
    "entrant_reference",
    "latest_league",
    "log_league",
    "metric_key",
    "version_rating",
]

LEAGUE_EXPERIMENT = "aip-league"
LEAGUE_ARTIFACTS = "league"
RATING_TAG_PREFIX = "rating."
_TASK_TAG = "aip.league.task"


@dataclass(frozen=True)
class StoredLeague:
    """The newest round of a task's league in the store.

    Attributes:
        run_id: The round's run.
        record: Its matches and ratings (rebuilt from the matches when its ratings file was unusable).
        problem: What was wrong with the stored ratings file, when it was rebuilt; else None.
    """

    run_id: str
    record: LeagueRecord
    problem: str | None


def latest_league(client: MlflowClient, task: str, model: RatingModel | None = None) -> StoredLeague | None:
    """The newest finished round of ``task``'s league, or None when it has none.

    Raises:
        aip_ml.selfplay.LeagueRecordError: The stored matches are corrupt.
    """
    from aip_ml.selfplay import LeagueRecord

    experiment = client.get_experiment_by_name(LEAGUE_EXPERIMENT)
    if experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.`{_TASK_TAG}` = '{task}' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if not runs:
        return None
    run_id = runs[0].info.run_id
    with tempfile.TemporaryDirectory(prefix="aip-league-") as tmp:
        local = client.download_artifacts(run_id, LEAGUE_ARTIFACTS, tmp)
        record = LeagueRecord.load(local, task, model)
    return StoredLeague(run_id, record, record.problem)


def metric_key(entrant: str) -> str:
    """An entrant's id as MLflow allows in a metric name (``:`` becomes ``.``)."""
    return "".join(ch if ch.isalnum() or ch in "_-./ " else "." for ch in entrant)


def _table_files(rows: Sequence[LeagueRow], folder: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "rank",
            "entrant",
            "role",
            "kind",
            "mu",
            "sigma",
            "conservative",
            "matches",
            "wins",
            "draws",
            "win_rate",
            "above_best_bot",
        ]
    )
    lines = [
        "| rank | entrant | role | kind | mu | sigma | matches | win rate | above best bot (sd) |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        g = r.rating
        above = "" if math.isnan(r.above_best_bot) else f"{r.above_best_bot:.2f}"
        writer.writerow(
            [
                r.rank,
                r.entrant,
                r.role,
                r.kind,
                f"{g.mu:.4f}",
                f"{g.sigma:.4f}",
                f"{g.conservative:.4f}",
                g.matches,
                g.wins,
                g.draws,
                f"{g.win_rate:.4f}",
                above,
            ]
        )
        lines.append(
            f"| {r.rank} | {r.entrant} | {r.role} | {r.kind} | {g.mu:.2f} | {g.sigma:.2f} | {g.matches} | "
            f"{g.win_rate:.1%} | {above} |"
        )
    (folder / "table.csv").write_text(buffer.getvalue(), encoding="utf-8")
    (folder / "table.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def log_league(
    client: MlflowClient,
    record: LeagueRecord,
    rows: Sequence[LeagueRow],
    *,
    versions: Sequence[ModelVersionInfo] = (),
    previous_run: str | None = None,
) -> str:
    """Record a league round as a run and tag every rated model version with its rating.

    Args:
        client: A client.
        record: The league after the round.
        rows: Its table (`aip_ml.selfplay.league_rows`).
        versions: The registered versions among the entrants (their ids are their references).
        previous_run: The round this one continued, if any.

    Returns:
        The new run's id.
    """
    experiment_id = ensure_experiment(client, LEAGUE_EXPERIMENT)
    tags = {_TASK_TAG: record.task, "aip.league.round": str(record.rounds), "aip.kind": "league"}
    if previous_run:
        tags["aip.league.previous_run"] = previous_run
    run = client.create_run(experiment_id, run_name=f"league-{record.task}-round-{record.rounds}", tags=tags)
    run_id = str(run.info.run_id)
    try:
        from mlflow.entities import Metric, Param

        model = record.ratings().model
        params = {
            "task": record.task,
            "episodes_per_pair": record.episodes,
            "seed": record.seed,
            "rating_model": model.name,
            "mu": model.mu,
            "sigma": model.sigma,
            "beta": model.beta,
            "tau": model.tau,
        }
        client.log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])
        metrics = [
            Metric("league/matches", float(len(record.matches)), 0, record.rounds),
            Metric("league/entrants", float(len(rows)), 0, record.rounds),
        ]
        for r in rows:
            key = metric_key(r.entrant)
            metrics.append(Metric(f"rating.mu/{key}", r.rating.mu, 0, record.rounds))
            metrics.append(Metric(f"rating.sigma/{key}", r.rating.sigma, 0, record.rounds))
        for start in range(0, len(metrics), 900):
            client.log_batch(run_id, metrics=metrics[start : start + 900])
        with tempfile.TemporaryDirectory(prefix="aip-league-") as tmp:
            folder = Path(tmp) / LEAGUE_ARTIFACTS
            record.save(folder)
            _table_files(rows, folder)
            client.log_artifacts(run_id, str(folder), LEAGUE_ARTIFACTS)
        by_ref = {v.reference: v for v in versions}
        for r in rows:
            info = by_ref.get(r.entrant)
            if info is None:
                continue
            for key, value in (
                ("mu", r.rating.mu),
                ("sigma", r.rating.sigma),
                ("conservative", r.rating.conservative),
                ("rank", float(r.rank)),
            ):
                client.set_model_version_tag(info.name, info.version, f"{RATING_TAG_PREFIX}{key}", repr(value))
            client.set_model_version_tag(info.name, info.version, f"{RATING_TAG_PREFIX}run", run_id)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")
    return run_id


def version_rating(info: ModelVersionInfo) -> tuple[float, float] | None:
    """A version's ``(mu, sigma)`` from its rating tags, or None when it was never rated."""
    try:
        return float(info.tags[f"{RATING_TAG_PREFIX}mu"]), float(info.tags[f"{RATING_TAG_PREFIX}sigma"])
    except (KeyError, ValueError):
        return None


def entrant_reference(entrant: str) -> tuple[str, str] | None:
    """``(name, version)`` of a model entrant's id, or None for bots and fixed opponents."""
    if ":" in entrant:
        return None
    name, version, _ = parse_reference(entrant)
    return (name, version) if version else None
