"""Behaviour cloning before PPO, as a training plugin: from a dataset, from a bot, or by DAgger."""

from __future__ import annotations

from typing import Any

import aip_engine

from .._errors import ConfigError
from .._plugins import PluginBase, PluginContext
from ._bc import clone
from ._bots import bot_demonstrations, check_bot, dagger_round
from ._dataset import DemoDataset, concatenate

__all__ = ["BehaviourCloning", "check_dataset"]


def check_dataset(dataset: DemoDataset, task: str, key: str = "demos") -> None:
    """Raise `ConfigError` unless the demonstrations are of the task's agent role and its current layout."""
    spec = aip_engine.task_spec(task)
    if len(spec.agents) != 1:
        raise ConfigError(f"config key {key!r}: {task!r} trains several roles; demonstrations need one")
    layout = aip_engine.role_layout(spec.agents[0])
    if dataset.role != layout.role or dataset.layout != layout.name or dataset.layout_version != layout.version:
        raise ConfigError(
            f"config key {key!r}: {dataset.path or 'the dataset'} holds demonstrations of the {dataset.role} in layout "
            f"{dataset.layout} (version {dataset.layout_version}); {task} trains the {layout.role} in layout "
            f"{layout.name} (version {layout.version})"
        )
    if len(dataset) == 0:
        raise ConfigError(f"config key {key!r}: {dataset.path or 'the dataset'} holds no demonstrations")


class BehaviourCloning(PluginBase):
    """Fit the actor to demonstrations before the first update (a `aip_ml._plugins.Plugin`).

    Args:
        epochs: Passes over the demonstrations.
        holdout: Fraction of the episodes held out to report the loss.
        seed: Seed of the split, of the bot's worlds and of DAgger's.
        dataset: Demonstrations to clone; or
        bot: a scripted bot of the agent's role whose play is recorded first (``samples`` pairs), then,
            with ``dagger_iterations``, corrected on the states the learner visits.
        samples: Pairs collected from the bot (and per DAgger round).
        dagger_iterations: DAgger rounds after the first cloning.
        full_speed_gain: Length at which full-speed moves are fitted (see `clone`).
        augment: ``"mirror"`` to clone from the arena's mirror images too (see `clone`).
    """

    name = "imitation"

    def __init__(
        self,
        *,
        epochs: int,
        holdout: float,
        seed: int,
        dataset: DemoDataset | None = None,
        bot: str | None = None,
        samples: int = 0,
        dagger_iterations: int = 0,
        full_speed_gain: float = 1.0,
        augment: str = "none",
    ) -> None:
        if (dataset is None) == (bot is None):
            raise ValueError("give a dataset or a bot")
        self.epochs = epochs
        self.holdout = holdout
        self.seed = seed
        self.dataset = dataset
        self.bot = bot
        self.samples = samples
        self.dagger_iterations = dagger_iterations
        self.full_speed_gain = full_speed_gain
        self.augment = augment
        self._context: PluginContext | None = None

    def setup(self, context: PluginContext) -> None:
        """Check the role, layout and bot against the task."""
        self._context = context
        if self.dataset is not None:
            check_dataset(self.dataset, context.config.task)
        else:
            assert self.bot is not None
            if len(aip_engine.task_spec(context.config.task).agents) != 1:
                raise ConfigError(f"config key 'imitate_bot': {context.config.task!r} trains several roles")
            check_bot(context.role, self.bot)

    def initialize(self, learner: Any) -> dict[str, float]:
        """Clone, and run the DAgger rounds."""
        assert self._context is not None
        cfg = self._context.config
        threads = cfg.engine_threads
        data = self.dataset
        if data is None:
            assert self.bot is not None
            data = bot_demonstrations(
                cfg.task,
                learner.role,
                self.bot,
                self.samples,
                num_worlds=cfg.num_worlds,
                seed=self.seed,
                threads=threads,
            )
        metrics = self._clone(learner, data, update_statistics=True)
        for i in range(self.dagger_iterations):
            assert self.bot is not None
            visited = dagger_round(learner, cfg.task, self.bot, self.samples, seed=self.seed + 1 + i, threads=threads)
            data = concatenate([data, visited])
            metrics = self._clone(learner, data, update_statistics=False)
            metrics["dagger/iterations"] = float(i + 1)
        # The loss of the last cloning, also under the name the bot cloning always logged.
        metrics["imitation/loss"] = metrics["bc/loss"]
        metrics["imitation/samples"] = metrics["bc/samples"]
        return metrics

    def _clone(self, learner: Any, data: DemoDataset, *, update_statistics: bool) -> dict[str, float]:
        return clone(
            learner,
            data,
            epochs=self.epochs,
            holdout=self.holdout,
            seed=self.seed,
            update_statistics=update_statistics,
            full_speed_gain=self.full_speed_gain,
            augment=self.augment,
        )

    def lineage(self) -> dict[str, str]:
        """What was cloned: the bot, or the dataset and its checksum."""
        if self.dataset is not None:
            out = {"demos.sha256": self.dataset.checksum, "demos.episodes": str(self.dataset.episodes)}
            if self.dataset.path is not None:
                out["demos"] = str(self.dataset.path)
            return out
        return {"imitate_bot": str(self.bot)}
