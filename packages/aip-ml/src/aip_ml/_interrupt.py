"""Ctrl-C during training: the first SIGINT becomes a request to stop after the update."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["Interrupt"]


class Interrupt:
    """Turns the first SIGINT into a flag (the update finishes, a checkpoint is written).

    A distributed rank treats SIGTERM the same way, and never stops at once on a repeated signal:
    Ctrl-C reaches it from the terminal and again from torchrun, which forwards the signal it got to
    its workers and gives them 30 s to stop before SIGKILL.
    """

    def __init__(self, distributed: bool = False) -> None:
        self.requested = False
        self._distributed = distributed
        self._signals = (signal.SIGINT, signal.SIGTERM) if distributed else (signal.SIGINT,)
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():
            for sig in self._signals:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and not self._distributed:  # a second Ctrl-C stops at once
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            if previous is not None:
                signal.signal(sig, previous)
