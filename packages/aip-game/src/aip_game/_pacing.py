"""Fixed-rate pacing: the game simulates 60 frames per real second whatever the drawing costs.

The loop asks `Pacer.due` how many simulation frames real time requires now, runs that many, and
draws once; when the machine is slow it draws less often rather than slowing the game down. Only
when even the simulation cannot keep up does it drop time (at most `max_catch_up` frames are run
per draw), so a stall never makes the game race afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Pacer", "PacingStats"]


@dataclass
class PacingStats:
    """What the pacer did since `Pacer.start`.

    Attributes:
        frames: Simulation frames run.
        draws: Frames drawn.
        dropped: Simulation frames skipped because even the simulation was behind (slow motion).
        started: When it started (the pacer's clock).
        draw_intervals: Seconds between consecutive draws (the last 10 000).
        rate: Simulation frames per second.
    """

    frames: int = 0
    draws: int = 0
    dropped: int = 0
    started: float = 0.0
    draw_intervals: list[float] = field(default_factory=list)
    rate: float = 60.0

    def game_seconds(self) -> float:
        """Simulated time: frames / rate."""
        return self.frames / self.rate


class Pacer:
    """Decides how many simulation frames to run at each turn of the loop.

    Args:
        rate: Simulation frames per second.
        max_catch_up: Most frames run before the next draw; time beyond it is dropped.
        clock: Seconds, monotonic (tests pass a fake one).
        sleep: Waits for a number of seconds.
    """

    def __init__(
        self,
        rate: float = 60.0,
        *,
        max_catch_up: int = 15,
        clock: Callable[[], float] = time.perf_counter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = float(rate)
        self.period = 1.0 / self.rate
        self.max_catch_up = max(1, int(max_catch_up))
        self.clock = clock
        self.sleep = sleep
        self.stats = PacingStats(rate=self.rate)
        self._next = 0.0
        self._last_draw: float | None = None
        self.start()

    def start(self) -> None:
        """Start counting from now (the first frame is due at once)."""
        now = self.clock()
        self._next = now
        self._last_draw = None
        self.stats = PacingStats(started=now, rate=self.rate)

    def due(self) -> int:
        """How many frames to run now (0: wait). Frames owed beyond `max_catch_up` are dropped."""
        now = self.clock()
        if now < self._next:
            return 0
        owed = int((now - self._next) / self.period + 1e-9) + 1
        run = min(owed, self.max_catch_up)
        if owed > run:
            self.stats.dropped += owed - run
        self._next += owed * self.period
        self.stats.frames += run
        return run

    def drew(self) -> None:
        """Note that a frame was drawn (for the draw-rate statistics)."""
        now = self.clock()
        if self._last_draw is not None:
            intervals = self.stats.draw_intervals
            intervals.append(now - self._last_draw)
            if len(intervals) > 10_000:
                del intervals[:5_000]
        self._last_draw = now
        self.stats.draws += 1

    def wait(self) -> None:
        """Sleep until the next frame is due (returns at once when it already is)."""
        delay = self._next - self.clock()
        if delay > 0:
            self.sleep(delay)

    def real_seconds(self) -> float:
        """Real time since `start`."""
        return self.clock() - self.stats.started
