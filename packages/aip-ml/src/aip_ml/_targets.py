"""Skill targets: when a task counts as learned, and when during training a run first got there.

A task's `SkillTarget` compares the policy's evaluation with a scripted reference bot's on the same
episodes. `TargetCallback` checks it during training on a fixed schedule of environment steps, on
the same evaluation episodes every time, and reports the steps and the training time at which the
target was first met and stayed met for every later check (`TimeToTarget`). `aip_ml.train` adds it
when the config's ``target_every_steps`` is set.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError

if TYPE_CHECKING:
    from ._config import TrainConfig
    from ._evaluate import EvalResult

__all__ = ["SkillTarget", "TargetCallback", "TargetCheck", "TimeToTarget", "skill_target", "skill_targets"]


@dataclass(frozen=True)
class SkillTarget:
    """What a policy must reach on a task, judged beside a reference bot on the same episodes.

    Attributes:
        task: The task.
        success_rate: The policy's success rate must be at least this.
        bot: The reference bot of the task's agent role compared with; empty = none.
        frames_ratio: With a bot and > 0: the policy's mean frames to success at most this times the bot's.
        beat_bot: With a bot: the policy's success rate above the bot's, or equal in fewer frames.
    """

    task: str
    success_rate: float
    bot: str = ""
    frames_ratio: float = 0.0
    beat_bot: bool = False

    def checks(self, agent: EvalResult, bot: EvalResult | None) -> dict[str, bool]:
        """Return each condition of the target (its description -> whether ``agent`` meets it)."""
        out = {f"success >= {self.success_rate:.0%}": agent.success_rate >= self.success_rate}
        if self.bot and bot is not None:
            if self.frames_ratio > 0:
                out[f"frames to success <= {self.frames_ratio:g} x {self.bot}"] = (
                    not math.isnan(agent.mean_frames_to_success)
                    and agent.mean_frames_to_success <= self.frames_ratio * bot.mean_frames_to_success
                )
            if self.beat_bot:
                fewer = (
                    not math.isnan(agent.mean_frames_to_success)
                    and agent.mean_frames_to_success < bot.mean_frames_to_success
                )
                above = agent.success_rate > bot.success_rate or (agent.success_rate == bot.success_rate and fewer)
                out[f"above {self.bot} (higher success, or equal in fewer frames)"] = above
        return out

    def met(self, agent: EvalResult, bot: EvalResult | None) -> bool:
        """Whether ``agent`` meets every condition."""
        return all(self.checks(agent, bot).values())

    def describe(self) -> str:
        """Return the target in one line."""
        parts = [f"success >= {self.success_rate:.0%}"]
        if self.bot and self.frames_ratio > 0:
            parts.append(f"frames to success <= {self.frames_ratio:g} x bot {self.bot!r}")
        if self.bot and self.beat_bot:
            parts.append(f"above bot {self.bot!r}")
        return ", ".join(parts)


# The best scripted bot of each task is the bar: a learned agent is worth having when it beats it.
_TARGETS: dict[str, SkillTarget] = {
    t.task: t
    for t in (
        SkillTarget("chase-v1", 0.95, bot="chase", frames_ratio=0.8),
        SkillTarget("chase-flee-v1", 0.95, bot="chase", frames_ratio=1.0),
        SkillTarget("dodge-v1", 0.0, bot="dodge", beat_bot=True),
        SkillTarget("intercept-v1", 0.90, bot="homing", beat_bot=True),
        SkillTarget("survive-v1", 0.0, bot="flee", beat_bot=True),
    )
}


def skill_targets() -> dict[str, SkillTarget]:
    """Return every task's skill target (tasks without one are absent)."""
    return dict(_TARGETS)


def skill_target(task: str) -> SkillTarget | None:
    """Return the skill target of ``task``, or None when it has none."""
    return _TARGETS.get(task)


@dataclass(frozen=True)
class TargetCheck:
    """One check of the target during training.

    Attributes:
        step: Environment steps trained when checked.
        train_seconds: Training time until then, without the time spent checking.
        success_rate: The policy's success rate on the check's episodes.
        mean_frames_to_success: Its mean frames to success (NaN when none succeeded).
        met: Whether the target was met.
    """

    step: int
    train_seconds: float
    success_rate: float
    mean_frames_to_success: float
    met: bool


@dataclass
class TimeToTarget:
    """When a run first met its skill target and kept meeting it.

    Attributes:
        task: The task.
        target: The target, in one line.
        episodes: Episodes per check (the same seeds every time).
        bot_success_rate: The reference bot's success rate on those episodes (NaN without a bot).
        bot_mean_frames_to_success: Its mean frames to success.
        checks: Every check, in order.
        check_seconds: Time spent checking (not counted in ``train_seconds``).
    """

    task: str
    target: str
    episodes: int
    bot_success_rate: float = float("nan")
    bot_mean_frames_to_success: float = float("nan")
    checks: list[TargetCheck] = field(default_factory=list)
    check_seconds: float = 0.0

    def _first_kept(self) -> TargetCheck | None:
        first: TargetCheck | None = None
        for check in self.checks:
            if not check.met:
                first = None
            elif first is None:
                first = check
        return first

    @property
    def reached(self) -> bool:
        """Whether the last check met the target (and so some check started a kept run of them)."""
        return self._first_kept() is not None

    @property
    def steps(self) -> int | None:
        """Environment steps at the first check from which every later check met the target."""
        first = self._first_kept()
        return None if first is None else first.step

    @property
    def seconds(self) -> float | None:
        """Training seconds (checks excluded) at that check."""
        first = self._first_kept()
        return None if first is None else first.train_seconds

    def describe(self) -> str:
        """Return one line: where the target was reached, or that it was not."""
        if self.steps is None:
            last = self.checks[-1] if self.checks else None
            where = f"; last check: success {last.success_rate:.1%} at {last.step:,} steps" if last else ""
            return f"target ({self.target}) not reached{where}"
        return f"target ({self.target}) reached at {self.steps:,} steps, {self.seconds:.1f} s of training"

    def to_dict(self) -> dict[str, Any]:
        """Return JSON-ready values (NaN as None)."""

        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and math.isnan(v) else v

        return {
            "task": self.task,
            "target": self.target,
            "episodes": self.episodes,
            "bot_success_rate": clean(self.bot_success_rate),
            "bot_mean_frames_to_success": clean(self.bot_mean_frames_to_success),
            "reached": self.reached,
            "steps": self.steps,
            "seconds": self.seconds,
            "check_seconds": self.check_seconds,
            "checks": [{k: clean(v) for k, v in c.__dict__.items()} for c in self.checks],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimeToTarget:
        """Rebuild what `to_dict` returned (a resumed run continues its record)."""

        def num(v: Any) -> float:
            return float("nan") if v is None else float(v)

        return cls(
            task=str(data["task"]),
            target=str(data["target"]),
            episodes=int(data["episodes"]),
            bot_success_rate=num(data.get("bot_success_rate")),
            bot_mean_frames_to_success=num(data.get("bot_mean_frames_to_success")),
            checks=[
                TargetCheck(
                    step=int(c["step"]),
                    train_seconds=float(c["train_seconds"]),
                    success_rate=float(c["success_rate"]),
                    mean_frames_to_success=num(c.get("mean_frames_to_success")),
                    met=bool(c["met"]),
                )
                for c in data.get("checks", [])
            ],
            check_seconds=float(data.get("check_seconds", 0.0)),
        )


TARGET_FILE = "target.json"


class TargetCallback:
    """A training callback that checks the task's skill target every ``every_steps`` environment steps.

    Each check evaluates the learner's current deterministic policy on the same ``episodes`` episodes
    (seed ``seed``) on worlds of its own, so training goes on exactly as without it. The reference bot
    is evaluated once on the same episodes. The record is written to ``target.json`` in the run folder
    after each check and read back when a run resumes. The time spent checking is measured and left
    out of the training seconds it reports.

    Args:
        every_steps: Environment steps between checks (the first at ``every_steps``), and one at the end.
        episodes: Episodes per check.
        seed: The episodes' seed.
        target: The target; None = the task's (`skill_target`).

    Raises:
        ConfigError: ``every_steps`` or ``episodes`` below 1.
    """

    def __init__(
        self, every_steps: int, episodes: int = 200, seed: int = 2024, target: SkillTarget | None = None
    ) -> None:
        if every_steps < 1 or episodes < 1:
            raise ConfigError(
                f"target checks need every_steps >= 1 and episodes >= 1, got {every_steps} and {episodes}"
            )
        self.every_steps = every_steps
        self.episodes = episodes
        self.seed = seed
        self.target = target
        self.record: TimeToTarget | None = None
        self._learner: Any = None
        self._bot: Any = None
        self._path: Path | None = None
        self._next = every_steps
        self._last_step = -1

    def on_attach(self, view: Any) -> None:
        """Keep the training's view (`aip_ml.TrainingView`): its ``policy()`` is what is checked."""
        self._learner = view

    def on_start(self, config: TrainConfig, run_dir: Path) -> None:
        """Find the target, evaluate its bot once, and continue a resumed run's record."""
        from ._evaluate import evaluate_bot

        target = self.target or skill_target(config.task)
        if target is None:
            raise ConfigError(
                f"config key 'target_every_steps': task {config.task!r} has no skill target "
                f"(tasks with one: {', '.join(_TARGETS)}); set target_every_steps = 0"
            )
        self.target = target
        self._path = Path(run_dir) / TARGET_FILE
        previous = self._read()
        if previous is not None:
            # Checks past the resumed checkpoint are repeated by the resumed run (after a crash).
            resumed = int(getattr(self._learner, "global_step", 0))
            previous.checks = [c for c in previous.checks if c.step <= resumed]
            self.record = previous
        else:
            self.record = TimeToTarget(task=config.task, target=target.describe(), episodes=self.episodes)
            if target.bot:
                bot = evaluate_bot(target.bot, config.task, episodes=self.episodes, seed=self.seed)
                self.record.bot_success_rate = bot.success_rate
                self.record.bot_mean_frames_to_success = bot.mean_frames_to_success
        if self.record.checks:
            self._last_step = self.record.checks[-1].step
            self._next = (self._last_step // self.every_steps + 1) * self.every_steps

    def _read(self) -> TimeToTarget | None:
        if self._path is None or not self._path.is_file():
            return None
        try:
            return TimeToTarget.from_dict(json.loads(self._path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a damaged record is started afresh rather than stopping the run

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Check the target when the run has crossed the next scheduled step."""
        step = int(metrics.get("global_step", 0))
        if step >= self._next:
            self._next = (step // self.every_steps + 1) * self.every_steps
            self._check(step, float(metrics.get("time_elapsed", 0.0)))

    def on_checkpoint(self, path: Path) -> None:
        """Nothing: the record is written after each check."""

    def final_check(self, step: int, elapsed: float) -> None:
        """Check the final policy (``step`` steps, ``elapsed`` seconds), unless the schedule just did."""
        if step > self._last_step:
            self._check(step, elapsed)

    def on_end(self, result: Any) -> None:
        """Check the final policy of a finished run, unless that was done."""
        if not getattr(result, "interrupted", False):
            self.final_check(int(result.global_step), float(result.wall_seconds))

    def _check(self, step: int, elapsed: float) -> None:
        from ._evaluate import EvalResult, evaluate

        record, target = self.record, self.target
        if record is None or target is None or self._learner is None:
            raise RuntimeError("TargetCallback checks need on_attach(view) and on_start first (aip_ml.train does both)")
        start = time.perf_counter()
        report = evaluate(self._learner.policy(), record.task, episodes=self.episodes, seed=self.seed, bots=False)
        agent = report.agent
        bot = None
        if target.bot:
            nan = float("nan")
            bot_frames = record.bot_mean_frames_to_success
            bot = EvalResult(target.bot, self.episodes, record.bot_success_rate, bot_frames, nan, nan)
        train_seconds = elapsed - record.check_seconds
        record.checks.append(
            TargetCheck(step, train_seconds, agent.success_rate, agent.mean_frames_to_success, target.met(agent, bot))
        )
        record.check_seconds += time.perf_counter() - start
        self._last_step = step
        self._write()

    def _write(self) -> None:
        if self._path is None or self.record is None:
            return
        tmp = self._path.with_name(f".{self._path.name}.tmp")
        tmp.write_text(json.dumps(self.record.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self._path)
