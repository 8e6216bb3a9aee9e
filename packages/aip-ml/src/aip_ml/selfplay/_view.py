"""A contiguous slice of a batch of worlds, seen by one learner as if it were its own batch."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class SliceResult(NamedTuple):
    """A `aip_engine.StepResult` cut to the slice's worlds (views, not copies)."""

    obs: Any
    reward: Any
    terminated: np.ndarray
    truncated: np.ndarray
    events: np.ndarray


def _cut(value: Any, lo: int, hi: int) -> Any:
    if isinstance(value, dict):
        return {k: v[lo:hi] for k, v in value.items()}
    return value[lo:hi]


class WorldsSlice:
    """Worlds ``[lo, hi)`` of a batch: the per-world outputs a learner reads, as views.

    Args:
        worlds: The whole batch (`aip_engine.Worlds`).
        lo: The first world.
        hi: One past the last world.
    """

    def __init__(self, worlds: Any, lo: int, hi: int) -> None:
        self.worlds = worlds
        self.lo, self.hi = lo, hi
        self.num_worlds = hi - lo
        self.task = worlds.task

    def cut(self, value: Any) -> Any:
        """The slice of an array (or of a dict of arrays) over the whole batch."""
        return _cut(value, self.lo, self.hi)

    def result(self, result: Any) -> SliceResult:
        """The slice of a step's result."""
        lo, hi = self.lo, self.hi
        return SliceResult(
            _cut(result.obs, lo, hi),
            _cut(result.reward, lo, hi),
            result.terminated[lo:hi],
            result.truncated[lo:hi],
            result.events[lo:hi],
        )

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The slice's per-world parameters (writable views)."""
        return {k: v[self.lo : self.hi] for k, v in self.worlds.params.items()}

    def final_observations(self, role: str) -> np.ndarray:
        """See `aip_engine.Worlds.final_observations`."""
        return self.worlds.final_observations(role)[self.lo : self.hi]  # type: ignore[no-any-return]

    def episode_return(self, role: str) -> np.ndarray:
        """See `aip_engine.Worlds.episode_return`."""
        return self.worlds.episode_return(role)[self.lo : self.hi]  # type: ignore[no-any-return]

    def success_of(self, role: str) -> np.ndarray:
        """See `aip_engine.Worlds.success_of`."""
        return self.worlds.success_of(role)[self.lo : self.hi]  # type: ignore[no-any-return]

    @property
    def episode_frames(self) -> np.ndarray:
        """See `aip_engine.Worlds.episode_frames`."""
        return self.worlds.episode_frames[self.lo : self.hi]  # type: ignore[no-any-return]

    def reset(self, seed: int | None = None) -> Any:
        """Refused: the owner of the batch resets it (a slice cannot reset its worlds alone)."""
        raise RuntimeError("a slice of a batch is reset by the owner of the batch")
