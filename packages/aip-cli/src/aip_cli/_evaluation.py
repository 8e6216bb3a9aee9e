"""Evaluation for ``aip eval`` and ``aip models promote``, over aip_ml.evaluate and the engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aip_cli._errors import CliError, ExitCode

if TYPE_CHECKING:
    from aip_ml.tracking import ModelVersionInfo

__all__ = ["policy_task", "registry_evaluator", "result_dict"]


def result_dict(result: Any) -> dict[str, float]:
    """An ``aip_ml.EvalResult`` as name to number.

    Args:
        result: An EvalResult (or a mapping).

    Returns:
        ``success_rate``, ``mean_return``, ``mean_frames_to_success``, ``mean_frames``, ``episodes``.
    """
    if isinstance(result, Mapping):
        return {k: float(v) for k, v in result.items() if isinstance(v, (int, float))}
    keys = ("success_rate", "mean_return", "mean_frames_to_success", "mean_frames", "episodes")
    return {k: float(getattr(result, k)) for k in keys if hasattr(result, k)}


def registry_evaluator(*, episodes: int, seed: int) -> Callable[[Path, ModelVersionInfo], dict[str, float]]:
    """An evaluator for :func:`aip_ml.tracking.promote`: the same episodes and seed for every policy.

    Args:
        episodes: Episodes per policy.
        seed: The seed of those episodes.

    Returns:
        A function of (policy file, version) returning the agent's scores.
    """

    def evaluate(path: Path, info: ModelVersionInfo) -> dict[str, float]:
        import aip_ml

        report = aip_ml.evaluate(path, info.task, episodes=episodes, seed=seed, bots=False)
        return result_dict(report.agent)

    return evaluate


def policy_task(path: Path) -> str | None:
    """The task recorded in a policy file's header, if any.

    Args:
        path: A ``.aipp`` file.

    Returns:
        The task's name or ``None``.
    """
    import aip_engine

    try:
        policy = aip_engine.load_policy(path)
    except (OSError, ValueError) as exc:
        raise CliError(f"{path} is not a readable policy file: {exc}", ExitCode.USAGE) from None
    task = policy.meta.get("task")
    return str(task) if task else None
