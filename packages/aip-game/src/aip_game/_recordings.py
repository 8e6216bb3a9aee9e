"""The list of recordings: each with its date, sides, length and outcome; choosing one replays it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import _paths
from ._menu import Menu, MenuItem
from ._screens import MainMenu, _MenuScreen
from .recording import RecordingError, RecordingSummary, find, summarize

if TYPE_CHECKING:
    from ._app import App, Screen

__all__ = ["MAX_LISTED", "RecordingsScreen", "describe", "find_recordings"]

log = logging.getLogger("aip_game")

#: Recordings listed (the newest).
MAX_LISTED = 200


def find_recordings(folder: Path | None = None) -> list[Path]:
    """The recording files of `folder` (default: the data folder's ``recordings``), newest first."""
    return list(reversed(find(folder)))


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60}:{s % 60:02d}"


def describe(summary: RecordingSummary) -> tuple[str, str]:
    """A one-line label for a recording and the detail line shown when it is selected."""
    h = summary.header
    side = str(h.get("side") or h.get("role", "?"))
    opponent = h.get("opponent")
    name = opponent.get("label", "?") if isinstance(opponent, dict) else str(opponent or "?")
    if side == "watch":
        partner = h.get("partner")
        who = f"{partner.get('label', '?') if isinstance(partner, dict) else '?'} vs {name}"
    else:
        who = f"you ({side}) vs {name}"
    created = str(h.get("created", ""))[:16].replace("T", " ")
    o = summary.outcome
    if o is not None:
        result = f"{o.get('reason', '?')}, {o.get('score', 0)} pts"
    elif summary.complete:
        result = "ended"
    else:
        result = "interrupted"
    label = f"{created[5:]}  {who}  {_clock(summary.seconds)}  {result}"
    detail = f"{summary.path.name}: {summary.frames} frames, level {o.get('level', '?') if o else '?'}"
    if h.get("format_version", 1) < 2:
        detail = f"{summary.path.name}: format {h.get('format_version')}, a demonstration only (not replayable)"
    return label, detail


class RecordingsScreen(_MenuScreen):
    """Every recording of the data folder, newest first; Enter or a click replays it.

    Args:
        app: The app.
        back: Makes the screen ESC returns to (default: the main menu).
    """

    title = "RECORDINGS"

    def __init__(self, app: App, back: Callable[[], Screen] | None = None) -> None:
        self._back = back or (lambda: MainMenu(app))
        started = time.perf_counter()
        files = find_recordings()
        self.summaries: list[RecordingSummary] = []
        items: list[MenuItem] = []
        for path in files[:MAX_LISTED]:
            try:
                summary = summarize(path)
            except (OSError, RecordingError) as exc:
                items.append(MenuItem(f"{path.name}: unreadable", lambda: None, str(exc), False))
                continue
            label, detail = describe(summary)
            self.summaries.append(summary)
            replayable = summary.header.get("format_version", 1) >= 2
            items.append(MenuItem(label, self._opener(app, path), detail, replayable))
        log.info("listed %d recordings in %.3f s", len(items), time.perf_counter() - started)
        folder = _paths.recordings_dir()
        more = f" (the newest {MAX_LISTED} shown)" if len(files) > MAX_LISTED else ""
        self.subtitle = f"{len(files)} in {folder}{more}" if files else f"none yet: they go to {folder}"
        if not items:
            items = [MenuItem("Record one: Record demonstrations, in the main menu", lambda: None, "", False)]
        back = self._back
        super().__init__(app, Menu(items, on_back=lambda: app.switch(back()), top=185, spacing=40, size=28))

    def _opener(self, app: App, path: Path) -> Callable[[], None]:
        def open_replay() -> None:
            from ._replay_view import ReplayScreen

            try:
                app.switch(ReplayScreen(app, path, back=lambda: RecordingsScreen(app, self._back)))
            except (OSError, RecordingError) as exc:
                app.notify(str(exc))

        return open_replay
