"""The training callback that records a few evaluation episodes every so many updates."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from aip_ml.replays._format import SUFFIX, save_replay
from aip_ml.replays._record import Actor, record_episodes

__all__ = ["REPLAYS_DIR", "ReplayCallback", "replay_name"]

#: The folder of a run (and the artifact folder of its MLflow run) that holds its replays.
REPLAYS_DIR = "replays"
_log = logging.getLogger(__name__)


class _View(Protocol):
    """What the callback needs of `aip_ml.TrainingView`."""

    @property
    def roles(self) -> tuple[str, ...]: ...

    @property
    def update(self) -> int: ...

    @property
    def global_step(self) -> int: ...

    def policy(self, role: str | None = None) -> Actor: ...


def replay_name(update: int) -> str:
    """The file name of the replay recorded after ``update`` updates (``update-000120.aipreplay``).

    Args:
        update: Updates completed.

    Returns:
        The name.
    """
    return f"update-{update:06d}{SUFFIX}"


class ReplayCallback:
    """Records evaluation episodes of the current policy during training (an ``aip_ml.Callback``).

    At the start (update 0 of a fresh run), then every ``total_updates / recordings`` updates and
    after the last one, it plays ``episodes`` episodes with the current deterministic policy on the
    seed ``seed`` (the same episodes every time, so the replays show the agent improving on the same
    situations) and writes ``<run_dir>/replays/update-NNNNNN.aipreplay``. The episodes run in a batch
    of their own on one thread; training's worlds, generators and statistics are not touched, so a run
    with this callback trains exactly as one without it.

    Args:
        recordings: How many recordings over the run (besides the one at the start).
        episodes: Episodes per recording.
        seed: Their seed (default: the config's ``eval_seed``).
        publish: Called with each file written (e.g. to log it to MLflow).
    """

    def __init__(
        self,
        *,
        recordings: int = 10,
        episodes: int = 3,
        seed: int | None = None,
        publish: Callable[[Path], None] | None = None,
    ) -> None:
        if recordings < 1 or episodes < 1:
            raise ValueError(f"recordings and episodes must be at least 1, got {recordings} and {episodes}")
        self.recordings = recordings
        self.episodes = episodes
        self.seed = seed
        self.publish = publish
        self.every = 1
        self.written: list[Path] = []
        self._view: _View | None = None
        self._task = ""
        self._seed = 0
        self._total = 0
        self._folder: Path | None = None

    def on_attach(self, view: _View) -> None:
        """Keep the view of the training (called by `aip_ml.train` before ``on_start``)."""
        self._view = view

    def on_start(self, config: Any, run_dir: Path) -> None:
        """Work out the interval and record the policy as it starts."""
        self._task = str(config.task)
        self._seed = int(config.eval_seed if self.seed is None else self.seed)
        self._total = int(config.total_updates)
        self.every = max(1, math.ceil(self._total / self.recordings))
        self._folder = Path(run_dir) / REPLAYS_DIR
        if self._view is not None and self._view.update == 0:
            self._record(0)

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Record after every ``every``-th update and after the last."""
        if update % self.every == 0 or update == self._total:
            self._record(update)

    def on_checkpoint(self, path: Path) -> None:
        """Nothing to do."""

    def on_end(self, result: Any) -> None:
        """Nothing to do: the last update was recorded."""

    def _record(self, update: int) -> None:
        view, folder = self._view, self._folder
        if view is None or folder is None:
            _log.warning("ReplayCallback was not attached to a training; no replays are recorded")
            return
        policies = {role: view.policy(role) for role in view.roles}
        replay = record_episodes(
            self._task,
            policies,
            episodes=self.episodes,
            seed=self._seed,
            header={"update": update, "global_step": view.global_step, "label": f"update {update}"},
        )
        path = save_replay(folder / replay_name(update), replay)
        self.written.append(path)
        if self.publish is not None:
            self.publish(path)
