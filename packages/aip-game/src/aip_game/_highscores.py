"""The high-score table: the best games, kept on disk atomically."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._atomic import write_json_atomic

__all__ = ["MAX_ENTRIES", "MAX_NAME_LENGTH", "HighScore", "HighScoreTable"]

log = logging.getLogger("aip_game")

#: Entries kept in the table.
MAX_ENTRIES = 10
#: Longest player name.
MAX_NAME_LENGTH = 12
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class HighScore:
    """One entry of the table.

    Attributes:
        name: The player's name.
        score: Points.
        side: ``"player"`` or ``"enemy"`` (the side the human played).
        opponent: The opponent's label.
        frames: Frames the game lasted.
        date: ISO date and time (UTC) of the game's end.
    """

    name: str
    score: int
    side: str = "player"
    opponent: str = ""
    frames: int = 0
    date: str = ""

    @staticmethod
    def from_json(value: Any) -> HighScore:
        """Parse one entry; raises ValueError on anything that is not a valid entry."""
        if not isinstance(value, dict):
            raise ValueError(f"a high-score entry must be an object, got {type(value).__name__}")
        name, score = value.get("name"), value.get("score")
        if not isinstance(name, str) or not isinstance(score, int) or isinstance(score, bool):
            raise ValueError(f"a high-score entry needs a string 'name' and an integer 'score': {value!r}")
        return HighScore(
            name=name[:MAX_NAME_LENGTH],
            score=score,
            side=str(value.get("side", "player")),
            opponent=str(value.get("opponent", "")),
            frames=int(value.get("frames", 0)),
            date=str(value.get("date", "")),
        )


class HighScoreTable:
    """The table of the best `MAX_ENTRIES` games, loaded from and saved to one JSON file.

    A missing file is an empty table. A corrupt file is reported (`problem`, and the log), kept aside
    as ``<name>.corrupt`` so that nothing is lost silently, and replaced by an empty table.

    Args:
        path: The table's file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[HighScore] = []
        self.problem: str | None = None
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except OSError as exc:
            self.problem = f"could not read the high-score table {self.path}: {exc}; starting an empty table"
            log.warning(self.problem)
            return
        try:
            data = json.loads(text)
            if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
                raise ValueError("expected an object with a list 'entries'")
            entries = [HighScore.from_json(item) for item in data["entries"]]
        except ValueError as exc:
            backup = self.path.with_name(self.path.name + ".corrupt")
            self.problem = (
                f"the high-score table {self.path} is corrupt ({exc}); it was moved to {backup.name} "
                "and replaced by an empty table"
            )
            log.warning(self.problem)
            try:
                self.path.replace(backup)
                self.save()
            except OSError as err:
                log.warning("could not replace the corrupt high-score table: %s", err)
            return
        self.entries = sorted(entries, key=lambda e: -e.score)[:MAX_ENTRIES]

    def qualifies(self, score: int) -> bool:
        """Return whether `score` would enter the table."""
        if score <= 0:
            return False
        return len(self.entries) < MAX_ENTRIES or score > self.entries[-1].score

    def add(self, entry: HighScore) -> int | None:
        """Insert an entry and save the table atomically.

        Args:
            entry: The new entry (its date is filled in when empty).

        Returns:
            Its rank (0 = best), or None when it does not qualify.
        """
        if not self.qualifies(entry.score):
            return None
        if not entry.date:
            entry = HighScore(**{**asdict(entry), "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        entry = HighScore(**{**asdict(entry), "name": entry.name.strip()[:MAX_NAME_LENGTH] or "PLAYER"})
        rank = next((i for i, e in enumerate(self.entries) if entry.score > e.score), len(self.entries))
        self.entries.insert(rank, entry)
        del self.entries[MAX_ENTRIES:]
        self.save()
        return rank

    def save(self) -> None:
        """Write the table to its file atomically."""
        write_json_atomic(self.path, {"version": _FORMAT_VERSION, "entries": [asdict(e) for e in self.entries]})
