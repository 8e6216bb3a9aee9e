"""``aip train TASK --nproc N``: N data-parallel ranks on this machine, started with torchrun."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console, emit_json, error_console

__all__ = ["train_distributed"]


def _worker_args(
    cfg: Any,
    folder: Path,
    config: Path | None,
    overrides: list[str],
    *,
    resume: bool,
    track: bool,
    tracking_uri: str | None,
    summary: Path,
    quiet: bool,
) -> list[str]:
    args = ["-m", "aip_ml", "train", cfg.task, "--run-dir", str(folder), "--summary-json", str(summary)]
    if config is not None:
        args += ["--config", str(config)]
    if resume:
        args.append("--resume")
    if not track:
        args.append("--no-track")
    if tracking_uri:
        args += ["--tracking-uri", tracking_uri]
    if quiet:
        args.append("--quiet")
    return [*args, *overrides]


def _checkpoint_note(folder: Path) -> str:
    latest = folder / "checkpoints" / "latest.ckpt"
    if not latest.is_file():
        return "no checkpoint was written yet"
    import aip_ml

    try:
        update = aip_ml.load_checkpoint(latest).update
    except aip_ml.CheckpointError as exc:  # never expected: checkpoints are written atomically
        return f"its last checkpoint could not be read ({exc})"
    return f"its last checkpoint ({latest}, update {update}) is valid"


def train_distributed(
    cfg: Any,
    *,
    nproc: int,
    folder: Path,
    config: Path | None,
    overrides: list[str],
    resume: bool,
    track: bool,
    tracking_uri: str | None,
    as_json: bool,
) -> None:
    """Run ``nproc`` ranks of ``python -m aip_ml train`` under torchrun and report like ``aip train``.

    Raises:
        CliError: A rank failed (the message names it), or the config was refused by the ranks.
        typer.Exit: Interrupted (exit 130), after saying how to continue.
    """
    import typer

    from aip_ml.distributed import launch_local

    from ._train import _print_summary, play_command

    resume_hint = f"aip train {cfg.task} --nproc {nproc} --resume --run-dir {folder}"
    if not as_json:
        where = " (tracked in MLflow by rank 0)" if track else ""
        console.print(
            f"Training {cfg.task} for {cfg.total_steps:,} steps on {nproc} ranks "
            f"({cfg.num_worlds} worlds each) in {folder}{where}",
            markup=False,
        )
    with tempfile.TemporaryDirectory(prefix="aip-ddp-") as tmp:
        summary_path = Path(tmp) / "summary.json"
        worker = _worker_args(
            cfg,
            folder,
            config,
            overrides,
            resume=resume,
            track=track,
            tracking_uri=tracking_uri,
            summary=summary_path,
            quiet=as_json,
        )
        launched = launch_local(nproc, worker, echo=lambda line: error_console.print(line, end="", markup=False))
        summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    if summary is None or launched.returncode not in (0, 130):
        culprit = launched.culprit
        if culprit is not None and culprit.exitcode == int(ExitCode.USAGE) and not culprit.signal:
            raise CliError("the ranks refused the run (see the message above)", ExitCode.USAGE)
        if launched.interrupted and culprit is None:
            raise CliError(
                f"interrupted; {_checkpoint_note(folder)}; continue with: {resume_hint}", ExitCode.INTERRUPTED
            )
        what = culprit.describe() if culprit is not None else f"torchrun exited with status {launched.returncode}"
        raise CliError(
            f"{what} (of {nproc} ranks); the run stopped on every rank; {_checkpoint_note(folder)}; "
            f"continue with: {resume_hint}",
            ExitCode.FAILURE,
        )
    registered = [SimpleNamespace(**v) for v in summary.get("registered", [])]
    play = None
    if registered:
        play = play_command(registered[0].reference, registered[0].role, tracking_uri)
    elif summary.get("policy_path"):
        import aip_engine

        play = play_command(str(summary["policy_path"]), aip_engine.task_spec(cfg.task).agents[0], None)
    if as_json:
        emit_json({**summary, "play_command": play})
    else:
        result = SimpleNamespace(
            global_step=summary["global_step"],
            wall_seconds=summary["wall_seconds"],
            steps_per_second=summary["steps_per_second"],
            run_dir=summary["run_dir"],
        )
        _print_summary(result, registered, play)
        evaluation = summary.get("evaluation")
        if evaluation:
            agent = evaluation.get("agent") or {}
            mean_return = agent.get("mean_return")
            console.print(
                f"Evaluation ({evaluation.get('episodes')} episodes): success {agent.get('success_rate') or 0:.1%}, "
                f"mean return {float('nan') if mean_return is None else mean_return:.2f}",
                markup=False,
            )
    if summary.get("interrupted"):
        error_console.print(f"aip: interrupted; continue with: {resume_hint}", markup=False)
        raise typer.Exit(int(ExitCode.INTERRUPTED))
