"""Curriculum learning and domain randomisation: lessons over the task's per-world parameters.

A run's config may hold a ``[curriculum]`` section (docs/tutorials/curriculum.md)::

    [curriculum]
    lessons = [
      { name = "no missiles", params = { fire_probability = 0.0 },
        until = { measure = "success_rate", threshold = 0.8, window = 5, min_updates = 5 } },
      { name = "random speeds", params = { player_speed = { uniform = [3.5, 4.5] } },
        until = { measure = "success_rate", threshold = 0.8, window = 5 } },
      { name = "the task" },
    ]

Each lesson sets any per-world parameter (`aip_engine.Worlds.params`: speeds, bots, missile count,
arena size, fire probability) to a fixed value, a value drawn per world and episode (``uniform`` or
``choice``, domain randomisation) or a ramp over the training's progress. `Curriculum` is the training
plugin that applies them; `aip_ml.train` builds it from the config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._plugin import Curriculum
from ._spec import BOT_PARAMS, MEASURES, Completion, Lesson, ParamValue, parse_lessons, validate_section

if TYPE_CHECKING:
    from .._config import TrainConfig
    from .._plugins import Plugin

__all__ = [
    "BOT_PARAMS",
    "MEASURES",
    "Completion",
    "Curriculum",
    "Lesson",
    "ParamValue",
    "parse_lessons",
    "plugins_from_config",
    "validate_section",
]


def plugins_from_config(config: TrainConfig) -> list[Plugin]:
    """The curriculum plugin a config asks for (none without a ``[curriculum]`` section).

    Args:
        config: The run's config.

    Returns:
        ``[Curriculum(...)]`` or ``[]``.
    """
    if config.curriculum is None:
        return []
    return [Curriculum(config.curriculum, config.task, config.seed, config.total_updates)]
