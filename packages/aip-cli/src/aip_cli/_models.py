"""``aip models``: list, show, promote and export registered policy versions."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.table import Table

from aip_cli._common import JSON_OPTION, TRACKING_OPTION, client_for, require_store
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console, emit_json, fmt_score

if TYPE_CHECKING:
    from collections.abc import Callable

    from mlflow import MlflowClient

    from aip_ml.tracking import ModelVersionInfo, Promotion

__all__ = ["promote_reference", "register"]


def _when(ms: int) -> str:
    if ms <= 0:
        return "-"
    return dt.datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M")


def list_models(
    name: str | None = typer.Argument(
        None, metavar="[NAME|TASK]", help="Only this model (chase-v1-enemy) or this task's models."
    ),
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List registered versions with their evaluation scores and aliases."""
    from aip_ml.tracking import list_versions

    client = client_for(require_store(tracking_uri))
    versions = list_versions(client, name)
    if as_json:
        emit_json({"tracking_uri": client.tracking_uri, "versions": [v.to_dict() for v in versions]})
        return
    if not versions:
        console.print("No registered models yet. Train one: aip train chase-v1")
        return
    console.print(f"Registered policies in {client.tracking_uri}", markup=False)
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        caption="Evaluation at training time: success rate, mean return, mean frames to success.",
        caption_justify="left",
    )
    table.add_column("version", no_wrap=True)
    table.add_column("aliases", no_wrap=True)
    table.add_column("success", justify="right", no_wrap=True)
    table.add_column("return", justify="right", no_wrap=True)  # mean episode return
    table.add_column("frames", justify="right", no_wrap=True)  # mean frames to success
    table.add_column("created", no_wrap=True)
    for v in versions:
        table.add_row(
            v.reference,
            " ".join(f"@{a}" for a in v.aliases) or "-",
            fmt_score(v.scores, "success_rate", percent=True),
            fmt_score(v.scores, "mean_return"),
            fmt_score(v.scores, "mean_frames_to_success", digits=0),
            _when(v.created_ms),
        )
    console.print(table)


def _show_version(info: ModelVersionInfo, chain: list[str]) -> None:
    console.print(f"[bold]{info.reference}[/bold]  " + (" ".join(f"@{a}" for a in info.aliases) or "(no aliases)"))
    console.print(f"  task        {info.task}")
    console.print(f"  role        {info.role}")
    created = dt.datetime.fromtimestamp(info.created_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
    console.print(f"  created     {created}")
    console.print(f"  run         {info.run_id or '-'}")
    console.print(f"  source      {info.source}")
    console.print(f"  policy file {info.policy_file or '-'}")
    if info.description:
        console.print(f"  description {info.description}")
    parts = [info.reference, *chain]
    if not chain:
        parts.append(info.tags.get("aip.init_from") or "(from scratch)")
    console.print("  lineage     " + " <- ".join(parts), markup=False)
    for key, label in (("aip.demos.sha256", "demos"), ("aip.imitate_bot", "cloned bot")):
        if info.tags.get(key):
            console.print(f"  {label:<11} {info.tags[key]}", markup=False)
    if info.scores:
        console.print("  evaluation:")
        for key in sorted(info.scores):
            console.print(f"    {key:<36} {info.scores[key]:.6g}")
    from aip_ml.tracking import EVAL_TAG_PREFIX

    others = {k: v for k, v in info.tags.items() if not k.startswith(EVAL_TAG_PREFIX)}
    if others:
        console.print("  tags:")
        for key in sorted(others):
            console.print(f"    {key:<36} {others[key]}")


def show(
    reference: str = typer.Argument(..., metavar="MODEL", help="NAME, NAME/VERSION or NAME@ALIAS."),
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one version: task, role, scores, aliases, run and source."""
    from aip_ml.tracking import lineage_chain, resolve_version

    client = client_for(require_store(tracking_uri))
    info = resolve_version(client, reference)
    chain = lineage_chain(client, info)
    if as_json:
        emit_json({**info.to_dict(), "lineage": chain})
    else:
        _show_version(info, chain)


def promote_reference(
    client: MlflowClient,
    reference: str,
    *,
    episodes: int,
    seed: int,
    force: bool = False,
    by: str = "evaluation",
    margin: float = 1.0,
    announce: Callable[[ModelVersionInfo], None] | None = None,
) -> Promotion:
    """The checks and the decision of ``aip models promote`` (the dashboard's Promote button uses them too).

    Args:
        client: A client of the store.
        reference: The candidate: NAME/VERSION or NAME@ALIAS (a bare name is refused).
        episodes: Episodes per side for the comparison.
        seed: Their seed (the same for both).
        force: Promote without comparing.
        by: ``"evaluation"`` (a fresh evaluation of both) or ``"rating"`` (the task's league ratings).
        margin: With ``by="rating"``: standard deviations the candidate must be rated above by.
        announce: Called with the candidate before a comparison starts.

    Returns:
        What was decided and why.

    Raises:
        CliError: A bare model name (exit 2).
        ModelNotFoundError: No such model, version or alias.
    """
    from aip_cli._evaluation import registry_evaluator
    from aip_ml.tracking import CHAMPION, resolve_version
    from aip_ml.tracking import promote as do_promote

    candidate = resolve_version(client, reference)
    if "@" not in reference and "/" not in reference.removeprefix("models:/"):
        raise CliError(
            f"name the version to promote: {candidate.name}/VERSION (see `aip models list {candidate.name}`)",
            ExitCode.USAGE,
        )
    has_champion = CHAMPION in (client.get_registered_model(candidate.name).aliases or {})
    if by == "rating":
        from aip_ml.tracking import promote_by_rating

        return promote_by_rating(client, candidate, margin=margin, force=force)
    if announce is not None and not force and has_champion:
        announce(candidate)
    return do_promote(client, candidate, registry_evaluator(episodes=episodes, seed=seed), force=force)


def promote(
    reference: str = typer.Argument(..., metavar="MODEL", help="The candidate: NAME/VERSION or NAME@ALIAS."),
    force: bool = typer.Option(False, "--force", help="Promote without comparing with the champion."),
    episodes: int = typer.Option(100, "--episodes", "-n", min=1, help="Episodes per side for the comparison."),
    seed: int = typer.Option(12345, "--seed", help="Seed of the comparison episodes (the same for both)."),
    by: str = typer.Option(
        "evaluation",
        "--by",
        metavar="evaluation|rating",
        help="Compare by a fresh evaluation, or by the ratings of the task's league (`aip league TASK`).",
    ),
    margin: float = typer.Option(
        1.0, "--margin", min=0.0, help="With --by rating: standard deviations the candidate must be rated above by."
    ),
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Make a version @champion if it beats the current champion on the task.

    --by evaluation (the default): both are evaluated again on the same seeds; the candidate must have
    a higher success rate, or the same with a higher mean return. --by rating: the newest round of the
    task's league must rate the candidate above the champion by --margin standard deviations of the
    difference (duel-v1 models are compared this way). Without a champion, or with --force, it is
    promoted directly. Refused promotions change nothing and exit with status 4.
    """
    if by not in ("evaluation", "rating"):
        raise CliError(f"--by must be 'evaluation' or 'rating', got {by!r}", ExitCode.USAGE)
    client = client_for(require_store(tracking_uri))

    def announce(candidate: ModelVersionInfo) -> None:
        if not as_json:
            console.print(
                f"Comparing {candidate.reference} with the current champion ({episodes} episodes each, seed {seed})..."
            )

    outcome = promote_reference(
        client, reference, episodes=episodes, seed=seed, force=force, by=by, margin=margin, announce=announce
    )
    candidate = outcome.candidate
    if as_json:
        emit_json(outcome.to_dict())
    else:
        console.print(outcome.reason, markup=False)
    if not outcome.promoted and outcome.champion is not None and outcome.champion.version != candidate.version:
        raise typer.Exit(int(ExitCode.REFUSED))


_TARGET = typer.Argument(
    ...,
    metavar="PATH",
    help="The file to write, or a folder (an existing one, or PATH ending in /): the file is then "
    "NAME-vVERSION.aipp (or .onnx).",
)
_FORMATS = ("aipp", "onnx")


def export(
    reference: str = typer.Argument(..., metavar="MODEL", help="NAME, NAME/VERSION or NAME@ALIAS."),
    target: str = _TARGET,
    fmt: str = typer.Option(
        "aipp",
        "--format",
        metavar="aipp|onnx",
        help="aipp: the portable policy file the game and the engine run (the default); onnx: an ONNX "
        "model for onnxruntime and other ONNX tools (needs pip install 'aip-ml[onnx]'; docs/onnx.md).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace the file if it exists."),
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write a version's policy to PATH (never overwriting without --force), as .aipp or as ONNX."""
    from aip_ml.tracking import export_version, resolve_version

    if fmt not in _FORMATS:
        raise CliError(f"--format must be one of {', '.join(_FORMATS)}, got {fmt!r}", ExitCode.USAGE)
    client = client_for(require_store(tracking_uri))
    info = resolve_version(client, reference)
    path = Path(target)
    if target.endswith(("/", os.sep)):
        path.mkdir(parents=True, exist_ok=True)  # "DIR/" names a folder, created if needed
    if fmt == "aipp":
        written = export_version(client, info, path, overwrite=force)
    else:
        written = _export_onnx(client, info, path, overwrite=force)
    if as_json:
        emit_json({"reference": info.reference, "path": str(written), "format": fmt})
    else:
        console.print(f"Wrote {info.reference} to {written}", markup=False)
        if fmt == "aipp":
            console.print(f"Play against it: aip play --opponent {written}", markup=False)
        else:
            console.print("Run it: onnxruntime.InferenceSession(path).run(['action'], {'observation': obs})")


def _export_onnx(client: MlflowClient, info: ModelVersionInfo, path: Path, *, overwrite: bool) -> Path:
    import tempfile

    from aip_ml.tracking import ExportExistsError, export_version

    try:
        from aip_ml._onnx import export_onnx, require_onnx

        require_onnx()
    except ImportError as exc:
        raise CliError(f"{exc}", ExitCode.USAGE) from None
    if path.is_dir():
        path = path / f"{info.name}-v{info.version}.onnx"
    if os.path.lexists(path) and not overwrite:
        raise ExportExistsError(f"{path} exists; choose another path or pass --force to replace it")
    with tempfile.TemporaryDirectory(prefix="aip-onnx-") as tmp:
        aipp = export_version(client, info, Path(tmp) / "policy.aipp")
        try:
            return export_onnx(aipp, path, overwrite=overwrite)
        except FileExistsError:  # appeared meanwhile
            raise ExportExistsError(f"{path} exists; choose another path or pass --force to replace it") from None


def register(group: typer.Typer) -> None:
    """Add the ``models`` sub-commands to ``group``.

    Args:
        group: The ``aip models`` group.
    """
    group.command("list")(list_models)
    group.command("show")(show)
    group.command("promote")(promote)
    group.command("export")(export)
