"""The high-score table: the best games, kept on disk atomically."""

from __future__ import annotations

import logging
import reprlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ._atomic import write_json_atomic
from ._datafile import DamagedFile, keep_aside, read_json

__all__ = ["MAX_ENTRIES", "MAX_NAME_LENGTH", "HighScore", "HighScoreTable", "rating_text"]

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
        opponent_rating: The opponent's skill rating (mu) when the game was played, if it had one.
        opponent_sigma: That rating's standard deviation.
        rating_league: The league that rating comes from (``"duel-v1 league"``).
    """

    name: str
    score: int
    side: str = "player"
    opponent: str = ""
    frames: int = 0
    date: str = ""
    opponent_rating: float | None = None
    opponent_sigma: float | None = None
    rating_league: str = ""

    @staticmethod
    def from_json(value: Any) -> HighScore:
        """Parse one entry; raises ValueError on anything that is not a valid entry."""
        if not isinstance(value, dict):
            raise ValueError(f"a high-score entry must be an object, got {type(value).__name__}")
        name, score = value.get("name"), value.get("score")
        if not isinstance(name, str) or not isinstance(score, int) or isinstance(score, bool) or not 0 <= score < 2**63:
            raise ValueError(
                f"a high-score entry needs a string 'name' and a whole 'score' >= 0: {reprlib.repr(value)}"
            )
        frames = value.get("frames", 0)
        if isinstance(frames, bool) or not isinstance(frames, int) or not 0 <= frames < 2**63:
            raise ValueError(f"a high-score entry's 'frames' must be a whole number >= 0: {frames!r}")
        mu, sigma = _rating(value, "opponent_rating"), _rating(value, "opponent_sigma")
        return HighScore(
            opponent_rating=mu,
            opponent_sigma=sigma,
            rating_league=_printable(value.get("rating_league", ""), 80),
            name=_printable(name, MAX_NAME_LENGTH),
            score=score,
            side=_printable(value.get("side", "player"), 32),
            opponent=_printable(value.get("opponent", ""), 200),
            frames=frames,
            date=_printable(value.get("date", ""), 40),
        )


def _rating(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) < 1e6:
        raise ValueError(f"a high-score entry's {key!r} must be a number or null: {reprlib.repr(value)}")
    return float(value)


def rating_text(entry: HighScore) -> str:
    """The opponent's rating as the high-score table shows it: ``"37.5 +- 2.0"``, or ``"unrated"``."""
    if entry.opponent_rating is None:
        return "unrated"
    sigma = f" +- {entry.opponent_sigma:.1f}" if entry.opponent_sigma is not None else ""
    return f"{entry.opponent_rating:.1f}{sigma}"


def _printable(value: Any, limit: int) -> str:
    """The text the screens can draw: printable characters only (a NUL would stop the font), cut to `limit`."""
    return "".join(ch for ch in str(value)[: 4 * limit] if ch.isprintable())[:limit]


class HighScoreTable:
    """The table of the best `MAX_ENTRIES` games, loaded from and saved to one JSON file.

    A missing file is an empty table. A damaged file (not UTF-8 JSON, nested too deeply, NaN or
    Infinity, entries of the wrong types, larger than a megabyte) is reported (`problem`, and the
    log), kept aside as ``<name>.corrupt`` (``.corrupt-2``, ... when older copies exist) so that
    nothing is lost, and replaced by an empty table. A path that is not a regular file is reported
    and left alone.

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
            data = read_json(self.path, "high-score table")
            if data is None:
                return
            if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
                raise DamagedFile("expected an object with a list 'entries'")
            entries = [HighScore.from_json(item) for item in data["entries"][: 10 * MAX_ENTRIES]]
        except (DamagedFile, ValueError) as exc:
            try:
                backup = keep_aside(self.path)
            except OSError as err:
                self.problem = (
                    f"the high-score table {self.path} is damaged ({exc}) and could not be moved aside ({err}); "
                    "starting an empty table"
                )
                log.warning(self.problem)
                return
            self.problem = (
                f"the high-score table {self.path} is damaged ({exc}); it was kept as {backup.name} "
                "and replaced by an empty table"
            )
            log.warning(self.problem)
            self.save()
            return
        except OSError as exc:  # unreadable, or not a regular file (left alone)
            self.problem = f"could not read the high-score table {self.path}: {exc}; starting an empty table"
            log.warning(self.problem)
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
        entry = HighScore(**{**asdict(entry), "name": _printable(entry.name.strip(), MAX_NAME_LENGTH) or "PLAYER"})
        rank = next((i for i, e in enumerate(self.entries) if entry.score > e.score), len(self.entries))
        self.entries.insert(rank, entry)
        del self.entries[MAX_ENTRIES:]
        self.save()
        return rank

    def save(self) -> None:
        """Write the table to its file atomically; a failure is reported (`problem`, the log), not raised."""
        try:
            write_json_atomic(self.path, {"version": _FORMAT_VERSION, "entries": [asdict(e) for e in self.entries]})
        except OSError as exc:
            self.problem = f"could not save the high-score table to {self.path}: {exc}"
            log.warning(self.problem)
