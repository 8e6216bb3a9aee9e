"""The ``[curriculum]`` section: lessons, their parameter values and their completion criteria, validated.

Every value is checked against the engine itself (one source of truth for names and ranges): a probe
batch of one world of the task takes the value and steps once, and the engine's own range error is
reported with the lesson that caused it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import ConfigError

if TYPE_CHECKING:
    from .._config import TrainConfig

__all__ = ["BOT_PARAMS", "MEASURES", "Completion", "Lesson", "ParamValue", "parse_lessons", "validate_section"]

#: What a completion criterion can measure, and the update metric it reads.
MEASURES: dict[str, str] = {
    "success_rate": "success_rate",
    "mean_return": "episode_return_mean",
    "progress": "progress",
}

#: Per-world parameters that name a bot, and the role whose bots they name.
BOT_PARAMS: dict[str, str] = {"player_bot": "player", "enemy_bot": "enemy", "guidance": "missile"}

#: The value that means "what the task itself uses".
TASK_VALUE = "task"

_LESSON_KEYS = ("name", "params", "until")
_UNTIL_KEYS = ("measure", "threshold", "min_updates", "window")
_KINDS = ("uniform", "choice", "ramp")


@dataclass(frozen=True)
class ParamValue:
    """One parameter's value in a lesson.

    Attributes:
        kind: ``"fixed"``, ``"uniform"`` (per world, per episode), ``"choice"`` (per world, per
            episode) or ``"ramp"`` (linear in training progress).
        values: fixed: one value; uniform: (low, high); choice: the candidates; ramp: (start, end),
            where an entry may be None for the task's own value. Bots are given as integer codes.
        over: ramp only: the training progress (0..1) at which the ramp starts and ends.
    """

    kind: str
    values: tuple[float | None, ...]
    over: tuple[float, float] = (0.0, 1.0)


@dataclass(frozen=True)
class Completion:
    """When a lesson is done.

    Attributes:
        measure: A key of `MEASURES`, or None: done after ``min_updates`` updates.
        threshold: The smoothed measure must reach this.
        min_updates: Updates the lesson lasts at least.
        window: Updates averaged for the smoothed measure.
    """

    measure: str | None
    threshold: float
    min_updates: int
    window: int


@dataclass(frozen=True)
class Lesson:
    """One lesson: per-world parameters and when it ends (None: the last lesson, it never ends)."""

    name: str
    params: Mapping[str, ParamValue]
    until: Completion | None


def _near(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Probe:
    """One world of the task, to let the engine judge each value."""

    def __init__(self, task: str) -> None:
        import aip_engine

        self.worlds: Any = aip_engine.Worlds(task, 1, seed=0, threads=1)
        self.defaults = {k: v.copy() for k, v in self.worlds.params.items()}
        self.actions = {r: np.zeros((1, aip_engine.role_layout(r).act_size), np.float32) for r in self.worlds.agents}

    @property
    def names(self) -> list[str]:
        return list(self.defaults)

    def integral(self, name: str) -> bool:
        return bool(np.issubdtype(self.defaults[name].dtype, np.integer))

    def check(self, where: str, name: str, value: float) -> None:
        params = self.worlds.params
        try:
            params[name][:] = value
            agents = self.worlds.agents
            if len(agents) == 1:
                self.worlds.step(self.actions[agents[0]])
            else:
                self.worlds.step(self.actions if agents else None)
        except Exception as exc:
            text = str(exc)
            detail = text.split("; ", 1)[-1] if text.startswith("params[") else text
            raise ConfigError(f"{where}: {name} = {_show(value)} is out of range: {detail}") from None
        finally:
            params[name][:] = self.defaults[name]


def _show(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else repr(value)


def _number(where: str, name: str, value: Any, probe: _Probe) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {name} must be a number, got {value!r}")
    if probe.integral(name) and not float(value).is_integer():
        raise ConfigError(f"{where}: {name} is a whole number, got {value!r}")
    probe.check(where, name, float(value))
    return float(value)


def _single(where: str, name: str, value: Any, probe: _Probe, allow_task: bool = False) -> float | None:
    if allow_task and value == TASK_VALUE:
        return None
    role = BOT_PARAMS.get(name)
    if role is not None:
        import aip_engine

        if not isinstance(value, str):
            raise ConfigError(
                f"{where}: {name} names a {role} bot; give its name, one of {', '.join(aip_engine.bots(role))}"
            )
        bots = aip_engine.bots(role)
        if value not in bots:
            raise ConfigError(
                f"{where}: {name} = {value!r} is not a {role} bot{_near(value, bots)} ({', '.join(bots)})"
            )
        code = float(aip_engine.bots(role).index(value))
        probe.check(where, name, code)
        return code
    return _number(where, name, value, probe)


def _param(where: str, name: str, value: Any, probe: _Probe) -> ParamValue:
    if name not in probe.names:
        raise ConfigError(
            f"{where}: {name!r} is not a per-world task parameter{_near(name, probe.names)} "
            f"(per-world parameters: {', '.join(probe.names)}; other rule numbers are fixed per run)"
        )
    if not isinstance(value, Mapping):
        single = _single(where, name, value, probe)
        assert single is not None
        return ParamValue("fixed", (single,))
    kinds = [k for k in value if k in _KINDS]
    extra = [k for k in value if k not in (*_KINDS, "over")]
    if len(kinds) != 1 or extra:
        bad = extra[0] if extra else ", ".join(kinds) or "nothing"
        raise ConfigError(
            f"{where}: {name} = {dict(value)!r}: give exactly one of uniform = [low, high], choice = [...] or "
            f"ramp = [start, end] (found {bad!r}{_near(extra[0], _KINDS) if extra else ''})"
        )
    kind = kinds[0]
    items = value[kind]
    if not isinstance(items, list):
        raise ConfigError(f"{where}: {name}.{kind} must be a list, got {items!r}")
    if kind == "choice":
        if not items:
            raise ConfigError(f"{where}: {name}.choice is empty; list at least one value")
        return ParamValue("choice", tuple(_single(where, name, v, probe) for v in items))
    if len(items) != 2:
        raise ConfigError(
            f"{where}: {name}.{kind} takes two values [{'low, high' if kind == 'uniform' else 'start, end'}]"
        )
    if kind == "uniform":
        if name in BOT_PARAMS:
            raise ConfigError(f"{where}: {name} names bots; sample it with choice = [...], not uniform")
        low, high = (_number(where, name, v, probe) for v in items)
        if low > high:
            raise ConfigError(f"{where}: {name}.uniform = {items!r}: low must not exceed high")
        return ParamValue("uniform", (low, high))
    if name in BOT_PARAMS:
        raise ConfigError(f"{where}: {name} names bots and cannot be ramped")
    start, end = (_single(where, name, v, probe, allow_task=True) for v in items)
    over = value.get("over", [0.0, 1.0])
    if (
        not isinstance(over, list)
        or len(over) != 2
        or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in over)
        or not 0 <= over[0] < over[1] <= 1
    ):
        raise ConfigError(
            f"{where}: {name}.over = {over!r}: give [begin, end], fractions of the training with 0 <= begin < end <= 1"
        )
    return ParamValue("ramp", (start, end), (float(over[0]), float(over[1])))


def _until(where: str, value: Any) -> Completion:
    if not isinstance(value, Mapping):
        raise ConfigError(f'{where}: until must be a table, e.g. {{ measure = "success_rate", threshold = 0.8 }}')
    for key in value:
        if key not in _UNTIL_KEYS:
            raise ConfigError(
                f"{where}: until has no key {key!r}{_near(key, _UNTIL_KEYS)} (keys: {', '.join(_UNTIL_KEYS)})"
            )
    measure = value.get("measure")
    min_updates = value.get("min_updates", 1 if measure else None)
    window = value.get("window", 1)
    for key, v in (("min_updates", min_updates), ("window", window)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
            raise ConfigError(f"{where}: until.{key} must be a whole number of updates >= 1, got {v!r}")
    if measure is None:
        if min_updates is None:
            raise ConfigError(f"{where}: until needs a measure and threshold, or min_updates, or both")
        if "threshold" in value:
            raise ConfigError(f"{where}: until.threshold needs a measure ({', '.join(MEASURES)})")
        return Completion(None, 0.0, int(min_updates), int(window))
    if measure not in MEASURES:
        raise ConfigError(
            f"{where}: until.measure = {measure!r} is unknown{_near(str(measure), list(MEASURES))} "
            f"({', '.join(MEASURES)})"
        )
    threshold = value.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ConfigError(f"{where}: until.threshold must be a number, got {threshold!r}")
    if measure in ("success_rate", "progress") and not 0 <= threshold <= 1:
        raise ConfigError(f"{where}: until.threshold = {threshold!r}: a {measure} lies between 0 and 1")
    return Completion(str(measure), float(threshold), int(min_updates or 1), int(window))


def parse_lessons(section: Mapping[str, Any], task: str) -> tuple[Lesson, ...]:
    """Parse and check a ``[curriculum]`` section for a task.

    Args:
        section: The section (``{"lessons": [...]}``).
        task: The task whose per-world parameters the lessons set.

    Returns:
        The lessons, in order.

    Raises:
        ConfigError: An unknown key, parameter or measure (with the nearest valid one), a value out of the
            engine's range, a lesson other than the last without completion criteria, or progress
            thresholds that do not increase from lesson to lesson.
    """
    if not isinstance(section, Mapping):
        raise ConfigError("[curriculum] must be a table with a list of lessons")
    for key in section:
        if key != "lessons":
            raise ConfigError(f"[curriculum] has no key {key!r}{_near(key, ['lessons'])}; it holds lessons = [...]")
    raw = section.get("lessons")
    if not isinstance(raw, list) or not raw:
        raise ConfigError("[curriculum] needs lessons = [ { name = ..., params = { ... }, until = { ... } }, ... ]")
    probe = _Probe(task)
    lessons: list[Lesson] = []
    names: set[str] = set()
    last_progress = -1.0
    for i, item in enumerate(raw):
        label = f"[curriculum] lesson {i + 1}"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{label} must be a table with name, params and until")
        for key in item:
            if key not in _LESSON_KEYS:
                raise ConfigError(
                    f"{label} has no key {key!r}{_near(key, _LESSON_KEYS)} (keys: {', '.join(_LESSON_KEYS)})"
                )
        name = str(item.get("name", f"lesson {i + 1}"))
        where = f"[curriculum] lesson {i + 1} {name!r}"
        if name in names:
            raise ConfigError(f"{where}: another lesson has the same name; give each lesson its own")
        names.add(name)
        params = item.get("params", {})
        if not isinstance(params, Mapping):
            raise ConfigError(f"{where}: params must be a table of per-world parameters")
        parsed = {str(k): _param(where, str(k), v, probe) for k, v in params.items()}
        until = None if "until" not in item else _until(where, item["until"])
        last = i == len(raw) - 1
        if until is None and not last:
            raise ConfigError(
                f"{where} has no completion criteria (until), so the lessons after it could never start; "
                "give it until = { ... } or make it the last lesson"
            )
        if until is not None and until.measure == "progress":
            if until.threshold <= last_progress:
                raise ConfigError(
                    f"lessons out of order: {where} ends at progress {until.threshold}, not after the lesson before "
                    f"it ({last_progress}); progress thresholds must increase"
                )
            last_progress = until.threshold
        lessons.append(Lesson(name, parsed, None if last else until))
    return tuple(lessons)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical_value(v) for v in value]
    return value


def validate_section(section: Any, config: TrainConfig) -> dict[str, Any]:
    """Check a ``[curriculum]`` section for the config's task; return it as plain TOML values.

    Args:
        section: The section as read from TOML (or given in Python).
        config: The config it belongs to (its task decides the parameters).

    Returns:
        The section, unchanged in meaning, as plain dicts and lists (what `TrainConfig.to_toml` writes).

    Raises:
        ConfigError: See `parse_lessons`.
    """
    parse_lessons(section, config.task)
    canonical: dict[str, Any] = _canonical_value(section)
    return canonical
