"""What a study found: the best config as a training config file, the top trials, parameter importances."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aip_engine._files import write_atomic

from .._config import TrainConfig
from ._space import SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = ["BEST_HEADER", "best_config", "best_config_toml", "importances", "top_trials", "write_best_config"]

#: The first line of a best-config file; only a file that starts with it is ever replaced.
BEST_HEADER = "# aip tune: best config of study"


def _best(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    try:
        return study.best_trial
    except ValueError:
        return None


def best_config(study: optuna.Study, space: SearchSpace, start: TrainConfig) -> TrainConfig | None:
    """The best complete trial's config (``start`` with its params), or None before any trial completed."""
    best = _best(study)
    if best is None:
        return None
    return start.replace(**space.config_values(best.params))


def best_config_toml(study: optuna.Study, space: SearchSpace, start: TrainConfig) -> str:
    """The best trial's config as a TOML document that ``aip train TASK --config FILE`` reads as it is.

    Raises:
        ValueError: No trial has completed yet.
    """
    best = _best(study)
    config = best_config(study, space, start)
    if best is None or config is None:
        raise ValueError(f"study {study.study_name!r} has no complete trial yet")
    lines = [
        f"{BEST_HEADER} {study.study_name!r}, trial {best.number}",
        f"# objective {space.objective} = {_fmt(best.value)}; searched: "
        + ", ".join(f"{k} = {v!r}" for k, v in space.config_values(best.params).items()),
        f"# train it: aip train {config.task} --config THIS_FILE",
    ]
    return "\n".join(lines) + "\n" + config.to_toml()


def write_best_config(path: str | Path, text: str) -> Path:
    """Write a best-config file atomically; an existing file is replaced only if it is one of ours.

    Raises:
        FileExistsError: ``path`` holds another file (not written by `aip tune`).
    """
    target = Path(path)
    if target.exists():
        try:
            head = target.read_text(encoding="utf-8", errors="replace")[: len(BEST_HEADER)]
        except OSError:
            head = ""
        if head != BEST_HEADER:
            raise FileExistsError(
                f"{str(target)!r} exists and was not written by aip tune; choose another --best path or move it"
            )
    return write_atomic(target, text.encode("utf-8"), what="best config")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def top_trials(study: optuna.Study, space: SearchSpace, limit: int | None = 10) -> list[dict[str, Any]]:
    """The study's trials, best first: complete ones by value, then pruned, then failed.

    Args:
        study: The study.
        space: Its search space (turns stored params back into config values).
        limit: How many; None = all.

    Returns:
        One dict per trial: number, state, value, steps_to_target, global_step, seconds, params, message.
    """
    sign = 1.0 if space.direction == "minimize" else -1.0
    order = {"COMPLETE": 0, "PRUNED": 1, "RUNNING": 2, "WAITING": 3, "FAIL": 4}

    def key(t: optuna.trial.FrozenTrial) -> tuple[int, float, int]:
        value = sign * t.value if t.value is not None and math.isfinite(t.value) else math.inf
        return order.get(t.state.name, 5), value, t.number

    rows = []
    for t in sorted(study.get_trials(deepcopy=False), key=key):
        rows.append(
            {
                "number": t.number,
                "state": "INTERRUPTED" if t.user_attrs.get("aip.interrupted") else t.state.name,
                "value": t.value,
                "steps_to_target": t.user_attrs.get("aip.steps_to_target"),
                "global_step": t.user_attrs.get("aip.global_step"),
                "seconds": t.user_attrs.get("aip.seconds"),
                "params": space.config_values(t.params),
                "message": t.user_attrs.get("aip.message", ""),
            }
        )
    return rows if limit is None else rows[:limit]


def importances(study: optuna.Study) -> dict[str, float]:
    """Optuna's parameter importances (PED-ANOVA) over the complete trials; empty with fewer than two.

    Returns:
        Param name to importance (they sum to 1), most important first.
    """
    import optuna

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # experimental-feature and too-few-trials notices
            found = optuna.importance.get_param_importances(study)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return {}
    return {str(k): float(v) for k, v in found.items() if math.isfinite(float(v))}
