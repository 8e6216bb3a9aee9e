"""``aip demos``: list, inspect and convert the game's recordings into demonstration datasets.

Recordings are read by the game's own reader (``aip_game.recording``); each one is then played again
through the engine (``aip_ml.imitation.resimulate``) so that the dataset holds exactly the role
layout's observations. This command is where the two meet, so neither library imports the other.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from aip_cli._common import JSON_OPTION
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console, emit_json, error_console

__all__ = ["demos_app", "register"]

demos_app = typer.Typer(
    name="demos",
    help=(
        "Demonstrations from the game: list recordings, inspect one, convert them into a dataset for "
        "`aip train TASK demos=PATH`. Record in the game: aip play, then 'Record demonstrations'."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _files(paths: list[Path] | None) -> list[Path]:
    from aip_game.recording import SUFFIX, default_folder, find

    if not paths:
        return find(default_folder())
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(find(path))
        elif path.is_file():
            out.append(path)
        else:
            raise CliError(f"no such recording or folder: {path}", ExitCode.NOT_FOUND)
    return [p for p in out if p.suffix == SUFFIX or p in (paths or [])]


def _read(path: Path) -> Any:
    from aip_game.recording import RecordingError, load

    try:
        return load(path)
    except (RecordingError, OSError) as exc:
        raise ValueError(str(exc)) from None


def _summary(path: Path) -> dict[str, Any]:
    try:
        rec = _read(path)
    except ValueError as exc:
        return {"file": str(path), "problem": str(exc)}
    h = rec.header
    return {
        "file": str(path),
        "role": h.get("role"),
        "layout": h.get("layout"),
        "task": h.get("task"),
        "opponent": h.get("opponent"),
        "frames": len(rec),
        "seconds": round(len(rec) / 60, 1),
        "complete": rec.complete,
        "created": h.get("created"),
        "problem": "; ".join(rec.notes) or None,
    }


ARGS = typer.Argument(None, metavar="[PATH]...", help="Recordings or folders [default: the game's recordings folder].")
FILE = typer.Argument(..., metavar="FILE", help="A recording (.aiprec).")
ROLE = typer.Option(..., "--role", "-r", help="The role demonstrated: player or enemy.")
OUTPUT = typer.Option(..., "--output", "-o", metavar="FILE", help="The dataset to write (.npz; never replaced).")
TASK = typer.Option(None, "--task", help="Only recordings of this task (the game records play-v1).")


def list_command(paths: list[Path] | None = ARGS, as_json: bool = JSON_OPTION) -> None:
    """List recordings: role, task, opponent, length and whether they were closed cleanly."""
    from aip_game.recording import default_folder

    rows = [_summary(p) for p in _files(paths)]
    if as_json:
        emit_json({"folder": str(default_folder()), "recordings": rows})
        return
    if not rows:
        console.print(
            f"No recordings in {default_folder()}. Record some: aip play, 'Record demonstrations'.", markup=False
        )
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for column in ("file", "role", "opponent", "seconds", "complete", "created"):
        table.add_column(column, no_wrap=True)
    for r in rows:
        if r.get("problem") and "role" not in r:
            table.add_row(Path(r["file"]).name, "-", r["problem"][:40], "-", "no", "-")
            continue
        table.add_row(
            Path(r["file"]).name,
            str(r["role"]),
            str(r["opponent"]),
            f"{r['seconds']:.1f}",
            "yes" if r["complete"] else "no (interrupted)",
            str(r["created"] or "-"),
        )
    console.print(table)
    console.print(f"{len(rows)} recording(s); convert them: aip demos convert --role ROLE -o demos.npz", markup=False)


def _convert_one(path: Path, role: str, task: str | None) -> Any:
    from aip_ml.imitation import ConversionRefused, resimulate

    rec = _read(path)
    try:
        return resimulate(
            path.name,
            rec.header,
            rec.actions,
            rec.observations,
            rec.frames,
            role=role,
            task=task,
            complete=rec.complete,
            notes=rec.notes,
            inputs=getattr(rec, "inputs", None),
            param_changes=[tuple(c) for c in getattr(rec, "param_changes", [])],
        )
    except ConversionRefused as exc:
        raise ValueError(str(exc)) from None


def inspect_command(
    path: Path = FILE,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a recording's header and what converting it would keep (it is replayed through the engine)."""
    if not path.is_file():
        raise CliError(f"no such recording: {path}", ExitCode.NOT_FOUND)
    try:
        rec = _read(path)
    except ValueError as exc:
        raise CliError(str(exc), ExitCode.USAGE) from None
    role = str(rec.header.get("role"))
    replay: dict[str, Any]
    try:
        got = _convert_one(path, role, None)
        replay = {
            "episodes": got.dataset.episodes,
            "samples": len(got.dataset),
            "episodes_dropped": got.episodes_dropped,
            "reasons": got.reasons,
        }
    except ValueError as exc:
        replay = {"refused": str(exc)}
    info = {**_summary(path), "header": rec.header, "replay": replay}
    if as_json:
        emit_json(info)
        return
    for key in ("file", "role", "layout", "task", "opponent", "frames", "complete", "created"):
        console.print(f"  {key:<10} {info.get(key)}", markup=False)
    console.print(f"  {'seed':<10} {rec.header.get('seed')}", markup=False)
    if "refused" in replay:
        console.print(f"  replay     refused: {replay['refused']}", markup=False)
    else:
        console.print(
            f"  replay     {replay['episodes']} episode(s), {replay['samples']} samples kept, "
            f"{replay['episodes_dropped']} dropped",
            markup=False,
        )
        for reason in replay["reasons"]:
            console.print(f"             {reason}", markup=False)


def convert_command(
    paths: list[Path] | None = ARGS,
    role: str = ROLE,
    output: Path = OUTPUT,
    task: str | None = TASK,
    as_json: bool = JSON_OPTION,
) -> None:
    """Convert recordings into one demonstration dataset for `aip train TASK demos=FILE`.

    Each recording is replayed through the engine with its seed, rule numbers and recorded actions.
    Recordings of another role, task or layout, and corrupt ones, are refused with the reason; a
    recording that is damaged or leaves the replay part-way keeps the episodes before that point.
    """
    from aip_ml.imitation import DatasetExistsError, concatenate

    if output.exists():
        raise CliError(f"{output} exists; datasets are never overwritten: choose another name", ExitCode.REFUSED)
    files = _files(paths)
    if not files:
        raise CliError(
            "no recordings to convert (record in the game: aip play, 'Record demonstrations')", ExitCode.NOT_FOUND
        )
    parts: list[Any] = []
    report: list[dict[str, Any]] = []
    refused: list[str] = []
    dropped = 0
    for path in files:
        try:
            got = _convert_one(path, role, task)
        except ValueError as exc:
            refused.append(str(exc))
            report.append({"file": str(path), "refused": str(exc)})
            continue
        dropped += got.episodes_dropped
        report.append(
            {
                "file": str(path),
                "episodes": got.dataset.episodes,
                "samples": len(got.dataset),
                "episodes_dropped": got.episodes_dropped,
                "reasons": got.reasons,
            }
        )
        if len(got.dataset):
            parts.append(got.dataset)
    if not parts:
        for line in refused:
            error_console.print(f"aip: refused {line}", markup=False)
        raise CliError(f"none of the {len(files)} recording(s) gave a valid {role} episode", ExitCode.REFUSED)
    dataset = concatenate(parts, dropped=[f"refused {line}" for line in refused])
    try:
        written = dataset.save(output)
    except DatasetExistsError as exc:
        raise CliError(str(exc), ExitCode.REFUSED) from None
    summary = {
        "dataset": str(written),
        "role": dataset.role,
        "layout": dataset.layout,
        "layout_version": dataset.layout_version,
        "episodes": dataset.episodes,
        "samples": len(dataset),
        "episodes_dropped": dropped,
        "recordings_refused": len(refused),
        "sha256": dataset.checksum,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "recordings": report,
    }
    if as_json:
        emit_json(summary)
        return
    for item in report:
        name = Path(item["file"]).name
        if "refused" in item:
            console.print(f"  refused  {item['refused']}", markup=False)
        else:
            note = f", {item['episodes_dropped']} dropped" if item["episodes_dropped"] else ""
            console.print(f"  ok       {name}: {item['episodes']} episode(s){note}", markup=False)
            for reason in item["reasons"]:
                console.print(f"             {reason}", markup=False)
    console.print(
        f"Wrote {written}: {dataset.episodes} episodes, {len(dataset)} samples of {dataset.layout} "
        f"(sha256 {dataset.checksum[:12]}); {dropped} episode(s) dropped, {len(refused)} recording(s) refused",
        markup=False,
    )
    console.print(f"Train on it: aip train TASK demos={written}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``aip demos`` to ``app``.

    Args:
        app: The root command.
    """
    demos_app.command("list")(list_command)
    demos_app.command("inspect")(inspect_command)
    demos_app.command("convert")(convert_command)
    app.add_typer(demos_app, name="demos")
