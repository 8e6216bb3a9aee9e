"""The run folder: refusing to overwrite a run, reading the state to resume, the lineage file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aip_engine._files import write_atomic

from ._checkpoint import load_checkpoint
from ._config import TrainConfig
from ._errors import ConfigError, RunDirError
from ._plugins import Plugin

__all__ = ["LINEAGE_FILE", "check_run_dir", "lineage", "saved_state", "write_text"]


def check_run_dir(config: TrainConfig, run_dir: Path, resume: bool) -> Path | None:
    """The checkpoint to resume from (None for a new run); never lets a new run overwrite an old one."""
    latest = run_dir / "checkpoints" / "latest.ckpt"
    if resume:
        if not latest.is_file():
            raise RunDirError(f"nothing to resume in {str(run_dir)!r}: {str(latest)!r} does not exist")
        return latest
    if (run_dir / "checkpoints").exists() or (run_dir / "config.toml").exists():
        raise RunDirError(
            f"{str(run_dir)!r} already holds a run; pass resume=True (`--resume`) to continue it, "
            "or choose another run folder"
        )
    return None


def saved_state(config: TrainConfig, root: Path, resume: bool) -> tuple[dict[str, Any] | None, float]:
    """The learner state and training time of the run to resume (None, 0 for a new run)."""
    latest = check_run_dir(config, root, resume)
    if latest is None:
        return None, 0.0
    ckpt = load_checkpoint(latest)
    saved = ckpt.config
    if saved.replace(total_steps=config.total_steps) != config:
        diff = {k: (v, config.to_dict()[k]) for k, v in saved.to_dict().items() if config.to_dict()[k] != v}
        raise ConfigError(
            f"cannot resume {str(root)!r} with a different config: {diff} (saved, given); only total_steps may change"
        )
    return ckpt.state, ckpt.wall_seconds


LINEAGE_FILE = "lineage.json"


def lineage(root: Path, plugins: Sequence[Plugin], fresh: bool) -> dict[str, str]:
    """What the run started from: the plugins' lineage, written for a new run, read back on a resume."""
    path = root / LINEAGE_FILE
    if fresh:
        lineage: dict[str, str] = {}
        for plugin in plugins:
            lineage.update(plugin.lineage())
        if lineage:
            write_text(path, json.dumps(lineage, indent=2, sort_keys=True) + "\n")
        return lineage
    try:
        saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        saved = {}
    return {str(k): str(v) for k, v in saved.items()} if isinstance(saved, dict) else {}


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    write_atomic(path, text.encode("utf-8"))
