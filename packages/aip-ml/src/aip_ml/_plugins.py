"""How teaching methods plug into the training loop without the learner knowing them.

A `Plugin` shapes what a learner trains on: a lesson changes per-world parameters, a reward signal
adds to the task's reward, an initialiser sets the network before the first update (behaviour
cloning, transfer), an opponent pool chooses per-world opponents. `aip_ml.train` builds the plugins a
config asks for (`plugins_from_config`), adds the caller's, and hands the learner a `PluggedWorlds`
instead of the engine's batch, so the learner keeps calling ``reset`` and ``step`` as before while the
plugins see every reset and step. Each plugin's state goes into the checkpoint under its name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ._config import TrainConfig

__all__ = ["PluggedWorlds", "Plugin", "PluginBase", "PluginContext", "plugins_from_config"]

#: Where the plugins a config can ask for are built: ``module:function(config) -> list of plugins``.
#: Each function returns an empty list when the config does not ask for its method.
PLUGIN_FACTORIES: tuple[str, ...] = (
    "aip_ml.transfer:plugins_from_config",
    "aip_ml.imitation:plugins_from_config",
    "aip_ml.curriculum:plugins_from_config",
)


@dataclass(frozen=True)
class PluginContext:
    """What a plugin is given once the learner exists.

    Attributes:
        config: The run's config.
        worlds: The engine's batch (not the plugged wrapper): read and write ``params`` here.
        run_dir: The run folder.
        role: The learning role (the first one for several).
        resumed: Whether the run continues from a checkpoint (initialisers are then not called).
        learner: The learner (PPO, or the self-play learners); a resumed run's state is restored after
            `Plugin.load_state_dict`, so a plugin may regroup the learner's optimiser there.
        tracking_uri: The MLflow store that model references (``NAME/VERSION``) are resolved in.
    """

    config: TrainConfig
    worlds: Any
    run_dir: Path
    role: str
    resumed: bool
    learner: Any = None
    tracking_uri: str | None = None


@runtime_checkable
class Plugin(Protocol):
    """What the training loop calls on a plugin; subclass `PluginBase` to implement only some.

    ``name`` keys the plugin's state in checkpoints and prefixes nothing by itself: metrics a plugin
    returns are logged under the names it chooses (``curriculum/lesson``, ``gail/accuracy``).
    ``uses_observations`` asks the worlds wrapper for a copy of the observations the actions were
    chosen from (it costs one copy per step, so only reward signals that need them set it).
    """

    name: str
    uses_observations: bool

    def setup(self, context: PluginContext) -> None:
        """Called once, after the learner exists and before anything is stepped."""

    def initialize(self, learner: Any) -> dict[str, float]:
        """Called once at a fresh start (not on resume) before the first update; return metrics."""

    def before_update(self, update: int) -> None:
        """Called before each update's rollout."""

    def on_reset(self, mask: npt.NDArray[np.bool_] | None) -> None:
        """Called before worlds are reset by the loop (``mask`` None: all worlds)."""

    def on_step(self, obs: npt.NDArray[np.float32] | None, actions: Any, result: Any) -> npt.NDArray[np.float32] | None:
        """Called after every engine step; return a reward ``(N,)`` to add to the task's, or None.

        ``obs`` are the observations the actions were chosen from (None unless ``uses_observations``);
        ``result`` is the engine's `StepResult` (finished worlds were already reset for the next episode).
        """

    def after_update(self, update: int, metrics: Mapping[str, float]) -> dict[str, float]:
        """Called after each update with its metrics; return metrics to add."""

    def lineage(self) -> dict[str, str]:
        """What this run started from (logged as run and model-version tags ``aip.<key>``)."""

    def state_dict(self) -> dict[str, Any]:
        """The plugin's state for the checkpoint (tensors, numbers, strings, lists, dicts)."""

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""


class PluginBase:
    """A plugin that does nothing; override the methods you need."""

    name = "plugin"
    uses_observations = False

    def setup(self, context: PluginContext) -> None:
        """Nothing to set up."""

    def initialize(self, learner: Any) -> dict[str, float]:
        """Nothing to initialise."""
        return {}

    def before_update(self, update: int) -> None:
        """Nothing before an update."""

    def on_reset(self, mask: npt.NDArray[np.bool_] | None) -> None:
        """Nothing at a reset."""

    def on_step(self, obs: npt.NDArray[np.float32] | None, actions: Any, result: Any) -> npt.NDArray[np.float32] | None:
        """No reward."""
        return None

    def after_update(self, update: int, metrics: Mapping[str, float]) -> dict[str, float]:
        """No metrics."""
        return {}

    def lineage(self) -> dict[str, str]:
        """No lineage."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """No state."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """No state."""


class PluggedWorlds:
    """The engine's batch as the learner sees it when plugins are active.

    Every attribute is the engine's, except ``reset`` (plugins see the reset first, so that a
    sampled parameter applies from the new episode's first frame) and ``step`` (plugins see the
    step, and the rewards they return are added to the task's reward). The engine's own outputs
    (episode returns, success) stay the task's, so the metrics keep measuring the task.

    Args:
        worlds: The engine's batch.
        plugins: The active plugins.
    """

    def __init__(self, worlds: Any, plugins: Sequence[Plugin]) -> None:
        self._worlds = worlds
        self._plugins = tuple(plugins)
        self._copy_obs = any(getattr(p, "uses_observations", False) for p in self._plugins)
        self._obs: Any = None
        self._reward: npt.NDArray[np.float32] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._worlds, name)

    @property
    def unwrapped(self) -> Any:
        """The engine's batch."""
        return self._worlds

    def reset(self, seed: int | None = None, mask: npt.NDArray[np.bool_] | None = None) -> Any:
        """Let the plugins prepare the worlds, then reset them (`aip_engine.Worlds.reset`)."""
        for plugin in self._plugins:
            plugin.on_reset(mask)
        self._obs = self._worlds.reset(seed=seed, mask=mask)
        return self._obs

    def step(self, actions: Any = None) -> Any:
        """Step the engine, let the plugins see it, and add their rewards (`aip_engine.Worlds.step`)."""
        before = None
        if self._copy_obs and self._obs is not None and not isinstance(self._obs, dict):
            before = np.array(self._obs, dtype=np.float32)
        result = self._worlds.step(actions)
        self._obs = result.obs
        extra: npt.NDArray[np.float32] | None = None
        for plugin in self._plugins:
            bonus = plugin.on_step(before, actions, result)
            if bonus is None:
                continue
            if isinstance(result.reward, dict):
                raise TypeError(f"plugin {plugin.name!r} adds a reward; that needs a task with one learning role")
            if extra is None:
                if self._reward is None or self._reward.shape != result.reward.shape:
                    self._reward = np.zeros(result.reward.shape, np.float32)
                extra = self._reward
                np.copyto(extra, result.reward)
            extra += bonus
        if extra is None:
            return result
        return result._replace(reward=extra)


def plugins_from_config(config: TrainConfig) -> list[Plugin]:
    """Build the plugins that ``config`` asks for (curriculum, demonstrations, transfer...).

    Args:
        config: The run's config.

    Returns:
        The plugins, initialisers first (transfer, then imitation), then the rest.
    """
    found: list[Plugin] = []
    for entry in PLUGIN_FACTORIES:
        module, _, function = entry.partition(":")
        found.extend(getattr(importlib.import_module(module), function)(config))
    return found
