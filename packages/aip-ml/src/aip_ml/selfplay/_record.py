"""A league's files: the stored matches (the source of truth) and the ratings table derived from them.

``matches.jsonl`` holds one match per line, in the order the ratings fold them; ``ratings.json`` holds
the table, the league's settings and the SHA-256 of the matches it was computed from. Both are
written atomically (a temporary file in the same folder, then a rename) and only ever replace regular
files. A ratings file that is unreadable, malformed or computed from other matches is reported and
rebuilt from the matches; it is never silently reset. A corrupt matches file is an error (the table
cannot be trusted without it).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._ratings import Match, RatingModel, RatingTable

__all__ = ["MATCHES_FILE", "RATINGS_FILE", "LeagueRecord", "LeagueRecordError"]

MATCHES_FILE = "matches.jsonl"
RATINGS_FILE = "ratings.json"
_FORMAT = "aip-league"
_VERSION = 1


class LeagueRecordError(RuntimeError):
    """A league's matches file is unreadable or corrupt, or its settings differ from the caller's."""


def _write_atomic(path: Path, data: bytes) -> None:
    if path.exists() and not path.is_file():
        raise LeagueRecordError(f"{str(path)!r} exists and is not a regular file; refusing to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _matches_bytes(matches: Sequence[Match]) -> bytes:
    return "".join(json.dumps(m.to_dict(), sort_keys=True) + "\n" for m in matches).encode("utf-8")


@dataclass
class LeagueRecord:
    """Everything a league keeps: its settings, its matches and the ratings they give.

    Attributes:
        task: The task the league plays.
        episodes: Matches (episodes) per pair of entrants.
        seed: The seed of every pair's episodes (the same episodes for every pair).
        model: The rating model.
        matches: Every match, in the order the ratings fold them.
        table: The ratings table (the fold of `matches`).
        rounds: How many times the league was played (each adds the pairs it had not played).
        problem: Set when loading found the ratings file unusable and rebuilt it: what was wrong.
    """

    task: str
    episodes: int
    seed: int
    model: RatingModel = field(default_factory=RatingModel)
    matches: list[Match] = field(default_factory=list)
    table: RatingTable | None = None
    rounds: int = 0
    problem: str | None = None

    def __post_init__(self) -> None:
        if self.table is None:
            self.table = self.rebuilt_table()

    def rebuilt_table(self) -> RatingTable:
        """Fold every stored match into a fresh table."""
        table = RatingTable(self.model)
        table.update(self.matches)
        return table

    def ratings(self) -> RatingTable:
        """The ratings table."""
        assert self.table is not None
        return self.table

    def played_pairs(self) -> set[tuple[str, str]]:
        """The ``(first, second)`` pairs with stored matches."""
        return {(m.first, m.second) for m in self.matches}

    def add(self, matches: Sequence[Match], entrants: Sequence[str] = ()) -> None:
        """Append a round of matches and fold them into the table (the old matches are not replayed)."""
        table = self.ratings()
        for entrant in entrants:
            table.add_entrant(entrant)
        self.matches.extend(matches)
        table.update(matches)
        self.rounds += 1

    # --- files ---------------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write ``matches.jsonl`` then ``ratings.json`` into ``folder`` (each atomically)."""
        root = Path(folder)
        data = _matches_bytes(self.matches)
        _write_atomic(root / MATCHES_FILE, data)
        header = {
            "format": _FORMAT,
            "version": _VERSION,
            "task": self.task,
            "episodes": self.episodes,
            "seed": self.seed,
            "rounds": self.rounds,
            "matches_sha256": hashlib.sha256(data).hexdigest(),
            "table": self.ratings().to_dict(),
        }
        _write_atomic(root / RATINGS_FILE, (json.dumps(header, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    @staticmethod
    def exists(folder: str | os.PathLike[str]) -> bool:
        """Whether ``folder`` holds a league's matches."""
        return (Path(folder) / MATCHES_FILE).is_file()

    @staticmethod
    def load(folder: str | os.PathLike[str], task: str, model: RatingModel | None = None) -> LeagueRecord:
        """Read a league; rebuild its ratings from the matches when the ratings file is unusable.

        Args:
            folder: The league's folder.
            task: The task the league must be of.
            model: The rating model a rebuild uses (default: openskill's defaults, tau 0).

        Returns:
            The league; ``problem`` says what was wrong when the ratings were rebuilt.

        Raises:
            LeagueRecordError: The matches file is missing or corrupt (named with its line), or the
                league is of another task.
        """
        root = Path(folder)
        mpath, rpath = root / MATCHES_FILE, root / RATINGS_FILE
        try:
            raw = mpath.read_bytes()
        except OSError as exc:
            raise LeagueRecordError(f"cannot read the league's matches {str(mpath)!r}: {exc}") from None
        matches: list[Match] = []
        for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), start=1):
            try:
                matches.append(Match.from_dict(json.loads(line)))
            except (json.JSONDecodeError, ValueError, TypeError) as exc:
                raise LeagueRecordError(
                    f"the league's matches {str(mpath)!r} are corrupt at line {number} ({exc}); "
                    "restore the file or start a new league"
                ) from None
        header, problem = _read_ratings(rpath, hashlib.sha256(raw).hexdigest(), len(matches))
        if header is None:
            settings = _settings_from_matches(matches)
            record = LeagueRecord(
                task=task,
                model=model or RatingModel(),
                episodes=settings["episodes"],
                seed=settings["seed"],
                matches=matches,
                rounds=max((m.round for m in matches), default=-1) + 1,
                problem=problem,
            )
            return record
        table = RatingTable.from_dict(header["table"])
        if str(header["task"]) != task:
            raise LeagueRecordError(f"{str(rpath)!r} is a league of {header['task']!r}, not of {task!r}")
        return LeagueRecord(
            task=str(header["task"]),
            episodes=int(header["episodes"]),
            seed=int(header["seed"]),
            model=table.model,
            matches=matches,
            table=table,
            rounds=int(header["rounds"]),
        )


def _settings_from_matches(matches: Sequence[Match]) -> dict[str, Any]:
    # Without a ratings file, the league's settings are what its matches show.
    episodes = max((m.episode for m in matches), default=-1) + 1
    seed = matches[0].seed if matches else 0
    return {"episodes": episodes, "seed": seed}


def _read_ratings(path: Path, digest: str, count: int) -> tuple[dict[str, Any] | None, str | None]:
    """The ratings file's header when it is usable, else None and what was wrong with it."""
    if not path.exists():
        return None, f"{str(path)!r} is missing"
    try:
        header = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{str(path)!r} is not readable JSON ({exc})"
    if not isinstance(header, dict) or header.get("format") != _FORMAT or header.get("version") != _VERSION:
        return None, f"{str(path)!r} is not a version-{_VERSION} league ratings file"
    if header.get("matches_sha256") != digest:
        return None, f"{str(path)!r} was computed from other matches than the stored ones"
    try:
        table = RatingTable.from_dict(header["table"])
        int(header["episodes"]), int(header["seed"]), int(header["rounds"]), str(header["task"])
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"{str(path)!r} is malformed ({exc})"
    if table.matches != count:
        return None, f"{str(path)!r} counts {table.matches} matches, the matches file {count}"
    return header, None
