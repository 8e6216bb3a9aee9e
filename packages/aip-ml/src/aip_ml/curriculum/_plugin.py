"""The curriculum as a training plugin: it sets each lesson's per-world parameters and moves on when done.

Values take effect through the engine's writable per-world parameters (`aip_engine.Worlds.params`).
Fixed values and ramps are written before every update; sampled values (``uniform``, ``choice``) are
drawn per world when its episode starts: before the loop resets worlds, and after every step for the
worlds the engine has just reset. A parameter that the current lesson does not name has the task's
own value. The lesson, its progress, the sampler's generator and the sampled values are in the
checkpoint, so a resumed run continues in the same lesson with the same draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from .._plugins import PluginBase, PluginContext
from ._spec import MEASURES, Lesson, ParamValue, parse_lessons

__all__ = ["Curriculum"]


class Curriculum(PluginBase):
    """Lessons over per-world task parameters (a `aip_ml._plugins.Plugin`).

    Args:
        section: The config's ``[curriculum]`` section.
        task: The task.
        seed: Seed of the per-world sampling.
        total_updates: Updates of the run (ramps and the ``progress`` measure use it).
    """

    name = "curriculum"

    def __init__(self, section: Mapping[str, Any], task: str, seed: int, total_updates: int) -> None:
        self.lessons: tuple[Lesson, ...] = parse_lessons(section, task)
        self.total_updates = max(1, total_updates)
        self.rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed & 0xFFFFFFFF, 0x6C6573])))
        self.lesson = 0
        self.updates_in_lesson = 0
        self.history: list[float] = []
        self._fresh = True  # the lesson's sampled values are still to be drawn for every world
        self._worlds: Any = None
        self._base: dict[str, npt.NDArray[Any]] = {}
        self.touched = sorted({name for lesson in self.lessons for name in lesson.params})

    # --- the plugin protocol ---------------------------------------------------------------------

    def setup(self, context: PluginContext) -> None:
        """Remember the task's values of every parameter a lesson sets."""
        self._worlds = context.worlds
        params = self._worlds.params
        self._base = {name: np.array(params[name]) for name in self.touched}

    def before_update(self, update: int) -> None:
        """Write the lesson's values (ramps at this update's progress; draws when the lesson is new)."""
        self._apply(update / self.total_updates, resample=self._fresh)
        self._fresh = False

    def on_reset(self, mask: npt.NDArray[np.bool_] | None) -> None:
        """Draw the sampled parameters of the worlds about to start a new episode."""
        self._sample(mask)

    def on_step(self, obs: Any, actions: Any, result: Any) -> None:
        """Draw the sampled parameters of the worlds whose episode ended (and restarted) in this step."""
        if not self._sampled_names():
            return None
        done = result.terminated | result.truncated
        if done.any():
            self._sample(done)
        return None

    def after_update(self, update: int, metrics: Mapping[str, float]) -> dict[str, float]:
        """Judge the lesson's completion; return the lesson and every parameter's mean value."""
        lesson = self.lessons[self.lesson]
        out: dict[str, float] = {
            "curriculum/lesson": float(self.lesson + 1),
            "curriculum/lessons": float(len(self.lessons)),
        }
        params = self._worlds.params
        for name in self.touched:
            out[f"curriculum/{name}"] = float(np.mean(params[name]))
        if self.touched:
            out["curriculum_value"] = out[f"curriculum/{self.touched[0]}"]
        self.updates_in_lesson += 1
        until = lesson.until
        completed = False
        if until is not None:
            if until.measure is not None:
                value = float(metrics.get(MEASURES[until.measure], math.nan))
                if math.isfinite(value):
                    self.history.append(value)
                    del self.history[: -until.window]
            smoothed = float(np.mean(self.history)) if self.history else math.nan
            out["curriculum/measure"] = smoothed
            enough = self.updates_in_lesson >= until.min_updates
            if until.measure is None:
                completed = enough
            else:
                completed = enough and len(self.history) >= until.window and smoothed >= until.threshold
        out["curriculum/completed"] = float(completed)
        if completed:
            self.lesson += 1
            self.updates_in_lesson = 0
            self.history = []
            self._fresh = True
        return out

    def state_dict(self) -> dict[str, Any]:
        """The lesson, its progress, the generator and the current per-world values."""
        params = self._worlds.params
        return {
            "lesson": self.lesson,
            "updates_in_lesson": self.updates_in_lesson,
            "history": list(self.history),
            "fresh": self._fresh,
            "rng": _bit_state(self.rng),
            "values": {name: torch.from_numpy(np.array(params[name])) for name in self.touched},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue where `state_dict` was taken."""
        self.lesson = min(int(state["lesson"]), len(self.lessons) - 1)
        self.updates_in_lesson = int(state["updates_in_lesson"])
        self.history = [float(v) for v in state["history"]]
        self._fresh = bool(state["fresh"])
        self.rng.bit_generator.state = _from_bit_state(state["rng"])
        params = self._worlds.params
        for name, values in state["values"].items():
            if name in params and tuple(values.shape) == params[name].shape:
                params[name][:] = values.numpy()

    # --- values ----------------------------------------------------------------------------------

    @property
    def current(self) -> Lesson:
        """The lesson being trained."""
        return self.lessons[self.lesson]

    def _sampled_names(self) -> list[str]:
        return [n for n, v in self.current.params.items() if v.kind in ("uniform", "choice")]

    def _apply(self, progress: float, resample: bool) -> None:
        params = self._worlds.params
        lesson = self.current
        for name in self.touched:
            value = lesson.params.get(name)
            if value is None:
                params[name][:] = self._base[name]
            elif value.kind == "fixed":
                params[name][:] = value.values[0]
            elif value.kind == "ramp":
                params[name][:] = self._ramp(name, value, progress)
        if resample:
            self._sample(None)

    def _ramp(self, name: str, value: ParamValue, progress: float) -> npt.NDArray[Any]:
        base = self._base[name].astype(np.float64)
        start = base if value.values[0] is None else np.full_like(base, value.values[0])
        end = base if value.values[1] is None else np.full_like(base, value.values[1])
        begin, finish = value.over
        frac = min(1.0, max(0.0, (progress - begin) / (finish - begin)))
        out = start + (end - start) * frac
        return np.rint(out) if np.issubdtype(self._base[name].dtype, np.integer) else out

    def _sample(self, mask: npt.NDArray[np.bool_] | None) -> None:
        params = self._worlds.params
        for name in self._sampled_names():
            value = self.current.params[name]
            target = params[name]
            count = target.shape[0] if mask is None else int(np.count_nonzero(mask))
            if count == 0:
                continue
            if value.kind == "choice":
                draws: npt.NDArray[Any] = self.rng.choice(np.array(value.values, dtype=np.float64), size=count)
            elif np.issubdtype(target.dtype, np.integer):
                first, last = (int(v or 0) for v in value.values)
                draws = self.rng.integers(first, last + 1, size=count)
            else:
                low, high = (float(v or 0.0) for v in value.values)
                draws = self.rng.uniform(low, high, size=count)
            if mask is None:
                target[:] = draws
            else:
                target[mask] = draws


def _bit_state(rng: np.random.Generator) -> dict[str, Any]:
    state = rng.bit_generator.state
    inner = state["state"]
    # As strings: a checkpoint is read with torch's weights-only loader, which keeps ints of any size, but
    # strings keep the 128-bit numbers readable in any tool.
    return {
        "bit_generator": state["bit_generator"],
        "state": str(inner["state"]),
        "inc": str(inner["inc"]),
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def _from_bit_state(saved: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "bit_generator": saved["bit_generator"],
        "state": {"state": int(saved["state"]), "inc": int(saved["inc"])},
        "has_uint32": int(saved["has_uint32"]),
        "uinteger": int(saved["uinteger"]),
    }
