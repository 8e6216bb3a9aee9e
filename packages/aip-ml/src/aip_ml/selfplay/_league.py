"""The league: every pair of entrants of a task plays the same episodes; openskill rates them all.

`play_league` is incremental: given the stored record of earlier rounds, it plays only the pairs
that have no stored matches (new entrants against everyone), appends those matches and folds them
into the stored ratings, without replaying or re-rating the old matches.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from .._errors import ConfigError
from ._matches import Entrant, match_sides, opponent_entrant, pairs_of, play_pair, play_pairs
from ._ratings import Rating, RatingModel, separation
from ._record import LeagueRecord, LeagueRecordError

__all__ = ["LeagueRow", "league_rows", "play_league"]


def play_league(
    task: str,
    entrants: Sequence[Entrant],
    *,
    record: LeagueRecord | None = None,
    episodes: int = 32,
    seed: int = 0,
    model: RatingModel | None = None,
    threads: int = 0,
    progress: Callable[[int, int], None] | None = None,
    involving: Collection[str] | None = None,
    batched: bool = False,
) -> LeagueRecord:
    """Play every pair of entrants that the record has not played yet, and rate them.

    Args:
        task: The task.
        entrants: The entrants (learned policies and scripted bots of the task's roles); a
            single-agent task's fixed opponent is added by itself.
        record: The league so far (its settings win over ``episodes``, ``seed`` and ``model``),
            or None for a new league.
        episodes: Matches per pair, for a new league.
        seed: The seed of every pair's episodes, for a new league.
        model: The rating model, for a new league.
        threads: Engine threads (0: every core).
        progress: Called as ``progress(pairs_done, pairs_total)``.
        involving: Play only the new pairs with one of these entrants, and those between bots
            (None: every new pair).
        batched: Play all new pairs in one batch of worlds (`play_pairs`: faster, but each pair sees
            other episodes); the default plays every pair on the same episodes.

    Returns:
        The record with the new round (the same object when ``record`` was given).

    Raises:
        ConfigError: A bad count, an entrant of a role the task has no slot for, or one whose
            policy's layout does not fit its slot.
        LeagueRecordError: The record is of another task.
    """
    first_role, second_role = match_sides(task)
    if record is None:
        if episodes < 1:
            raise ConfigError(f"episodes per pair must be at least 1, got {episodes}")
        record = LeagueRecord(task=task, episodes=episodes, seed=seed, model=model or RatingModel())
    elif record.task != task:
        raise LeagueRecordError(f"the stored league is of {record.task!r}, not of {task!r}")
    roles = {first_role} if second_role is None else {first_role, second_role}
    ids = [e.id for e in entrants]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"entrants must have distinct ids, got {sorted(ids)}")
    for e in entrants:
        if e.role not in roles:
            raise ConfigError(f"entrant {e.id!r} plays the {e.role!r} role; {task!r} has slots for {sorted(roles)}")
    everyone = list(entrants) + ([opponent_entrant(task)] if second_role is None else [])
    pairs = pairs_of(task, everyone, record.played_pairs())
    if involving is not None:
        keep = set(involving)
        pairs = [
            (a, b) for a, b in pairs if a.id in keep or b.id in keep or (a.kind != "policy" and b.kind != "policy")
        ]
    actors = {e.id: e.load() for e in everyone if e.kind in ("model", "policy")}
    round_index = record.rounds
    results = []
    if batched:
        results = play_pairs(
            task,
            pairs,
            episodes=record.episodes,
            seed=record.seed,
            round_index=round_index,
            threads=threads,
            actors=actors,
        )
        pairs = []
    for k, (a, b) in enumerate(pairs):
        results.append(
            play_pair(
                task,
                a,
                b,
                episodes=record.episodes,
                seed=record.seed,
                round_index=round_index,
                threads=threads,
                actors=actors,
            )
        )
        if progress is not None:
            progress(k + 1, len(pairs))
    # Episode-major order: the online update never sees one pair's matches in a long streak.
    new = [results[p][e] for e in range(record.episodes) for p in range(len(results))]
    record.add(new, entrants=[e.id for e in everyone])
    return record


@dataclass(frozen=True)
class LeagueRow:
    """One line of a league's table.

    Attributes:
        rank: 1 for the best (by conservative rating).
        entrant: The entrant's id.
        role: Its role.
        kind: ``"model"``, ``"policy"``, ``"bot"`` or ``"opponent"``.
        rating: Its rating and record.
        above_best_bot: Standard deviations above the best-rated scripted bot of its role (by mu);
            NaN for the bots themselves or without bots.
    """

    rank: int
    entrant: str
    role: str
    kind: str
    rating: Rating
    above_best_bot: float

    def to_dict(self) -> dict[str, object]:
        """Return the row as JSON values."""
        return {
            "rank": self.rank,
            "entrant": self.entrant,
            "role": self.role,
            "kind": self.kind,
            **self.rating.to_dict(),
            "conservative": self.rating.conservative,
            "win_rate": self.rating.win_rate,
            "above_best_bot": self.above_best_bot,
        }


def league_rows(record: LeagueRecord, entrants: Sequence[Entrant]) -> list[LeagueRow]:
    """The table: every rated entrant, best first, with its distance above the best bot of its role."""
    table = record.ratings()
    known = {e.id: e for e in entrants}
    first_role, second_role = match_sides(record.task)
    if second_role is None:
        opponent = opponent_entrant(record.task)
        known.setdefault(opponent.id, opponent)

    def describe(entrant_id: str) -> tuple[str, str]:
        if entrant_id in known:
            return known[entrant_id].role, known[entrant_id].kind
        for m in record.matches:  # an entrant of an earlier round: its side tells its role
            if m.first == entrant_id:
                return first_role, "bot" if entrant_id.startswith("bot:") else "model"
            if m.second == entrant_id:
                role = second_role or opponent_entrant(record.task).role
                kind = (
                    "opponent"
                    if entrant_id.startswith("opponent:")
                    else "bot"
                    if entrant_id.startswith("bot:")
                    else "model"
                )
                return role, kind
        return "?", "?"

    described = {k: describe(k) for k in table.ratings}
    best_bot: dict[str, Rating] = {}
    for k, r in table.ratings.items():
        role, kind = described[k]
        if kind == "bot" and (role not in best_bot or r.mu > best_bot[role].mu):
            best_bot[role] = r
    rows = []
    for rank, (k, r) in enumerate(table.ranked(), start=1):
        role, kind = described[k]
        above = float("nan")
        if kind not in ("bot", "opponent") and role in best_bot:
            above = separation(r, best_bot[role])
        rows.append(LeagueRow(rank, k, role, kind, r, above))
    return rows
