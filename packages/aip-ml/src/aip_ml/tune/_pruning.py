"""The training callback of a trial: intermediate values for Optuna's pruner, and the decision to stop.

Intermediate values are reported on a grid of environment steps shared by every trial of a study
(``report_every``), so that the pruner compares trials at the same point of training whatever their
batch size. What is reported is the study's objective as it stands at that point:

- ``steps_to_target``: the steps at which the skill target was first met and has stayed met since,
  or, while it is not met, ``budget * (2 - success rate)`` (so a trial that never gets there scores
  between one and two budgets, better the closer it came);
- ``success``: the success rate of the latest skill-target check (fixed evaluation episodes), or the
  training episodes' success rate when the config makes no checks;
- ``return``: the training episodes' mean return.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

    from .._targets import TimeToTarget

__all__ = ["PruningCallback", "TargetReached", "not_reached_value", "steps_value"]


class TargetReached(Exception):
    """Raised by `PruningCallback` to end a ``steps_to_target`` trial once the target is confirmed."""

    def __init__(self, steps: int) -> None:
        super().__init__(f"skill target reached at {steps:,} steps")
        self.steps = steps


def not_reached_value(budget: int, success_rate: float) -> float:
    """The ``steps_to_target`` value of a trial that has not met the target: ``budget * (2 - success)``."""
    success = success_rate if math.isfinite(success_rate) else 0.0
    return float(budget) * (2.0 - min(max(success, 0.0), 1.0))


def steps_value(record: TimeToTarget | None, budget: int) -> float:
    """The ``steps_to_target`` value of a record of checks: the kept-since step, else the penalty."""
    if record is None or not record.checks:
        return not_reached_value(budget, 0.0)
    steps = record.steps
    if steps is not None:
        return float(steps)
    return not_reached_value(budget, record.checks[-1].success_rate)


class PruningCallback:
    """Reports a trial's intermediate values to Optuna and prunes it when the pruner says so.

    Args:
        trial: The Optuna trial.
        objective: ``steps_to_target``, ``success`` or ``return``.
        report_every: Environment steps between reports (the study's grid).
        budget: Environment steps of a trial (``total_steps``), for the penalty of ``steps_to_target``.
        confirm: ``steps_to_target``: end the trial once the target was met on this many checks in a row
            (0 = train to the end).

    Attributes:
        reports: The values reported, by grid step.
        pruned_at: The grid step at which the pruner stopped the trial, or None.
    """

    def __init__(self, trial: optuna.Trial, objective: str, report_every: int, budget: int, confirm: int = 2) -> None:
        self.trial = trial
        self.objective = objective
        self.report_every = max(int(report_every), 1)
        self.budget = int(budget)
        self.confirm = int(confirm)
        self.reports: dict[int, float] = {}
        self.pruned_at: int | None = None
        self._view: Any = None
        self._seen_checks = 0

    def on_attach(self, view: Any) -> None:
        """Keep the training's view: its ``time_to_target`` holds the skill-target checks."""
        self._view = view

    def on_start(self, config: Any, run_dir: Path) -> None:
        """Nothing to prepare."""

    def _report(self, step: int, value: float) -> None:
        grid = (step // self.report_every) * self.report_every
        if grid <= 0 or grid in self.reports or not math.isfinite(value):
            return
        self.reports[grid] = value
        self.trial.report(value, grid)
        if self.trial.should_prune():
            import optuna

            self.pruned_at = grid
            raise optuna.TrialPruned(f"pruned at {grid:,} steps (intermediate value {value:g})")

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Report the values of the grid points this update crossed; prune or stop when due.

        Raises:
            optuna.TrialPruned: The pruner stopped the trial.
            TargetReached: ``steps_to_target`` and the target has been met on ``confirm`` checks in a row.
        """
        record: TimeToTarget | None = None if self._view is None else self._view.time_to_target
        if record is not None and self.objective in ("steps_to_target", "success"):
            checks = record.checks
            # Every check not yet reported (a resumed trial reports its earlier checks again first).
            for index in range(self._seen_checks, len(checks)):
                check = checks[index]
                if self.objective == "success":
                    value = check.success_rate
                else:
                    head = type(record)(record.task, record.target, record.episodes, checks=checks[: index + 1])
                    value = steps_value(head, self.budget)
                self._seen_checks = index + 1
                self._report(check.step, value)
            confirmed = self.confirm and len(checks) >= self.confirm and all(c.met for c in checks[-self.confirm :])
            if self.objective == "steps_to_target" and confirmed and record.steps is not None:
                raise TargetReached(record.steps)
            return
        key = "success_rate" if self.objective == "success" else "episode_return_mean"
        value = metrics.get(key, math.nan)
        self._report(int(metrics.get("global_step", 0)), float(value))

    def on_checkpoint(self, path: Path) -> None:
        """Nothing per checkpoint."""

    def on_end(self, result: Any) -> None:
        """Nothing: the study reads the result."""
