"""Skill ratings of the opponents, from installed rating sources (a league kept in a model store).

A rating source is an entry point of the group ``aip_game.rating_sources``: a callable returning
``[(role, name, mu, sigma, where), ...]``, where ``name`` is an opponent as the game names it (a
bot's ``"bot: kite"``, a model version's ``"duel-v1-enemy v3"``, which also names its menu label
``"duel-v1-enemy v3 @champion (80% success)"``) and ``where`` the league the rating comes from.
aip-ml installs one that reads the MLflow store's leagues (`aip league`). The game asks the sources
once, in a background thread (they may be slow), and shows what it found on the HUD and in the
high-score table.
"""

from __future__ import annotations

import importlib.metadata
import logging
import math
import threading
from dataclasses import dataclass
from typing import Any

from ._opponents import Opponent

__all__ = ["RATING_SOURCES_GROUP", "KnownRating", "RatingBook"]

log = logging.getLogger("aip_game")

#: Entry-point group of rating sources.
RATING_SOURCES_GROUP = "aip_game.rating_sources"
_MOST = 10_000


@dataclass(frozen=True)
class KnownRating:
    """One opponent's rating: `mu` and `sigma` of its skill (openskill's scale), and its league."""

    mu: float
    sigma: float
    where: str

    def text(self) -> str:
        """The rating as the screens show it: ``"37.5 +- 2.0"``."""
        return f"{self.mu:.1f} +- {self.sigma:.1f}"


def _checked(offer: Any) -> tuple[str, str, KnownRating] | None:
    """An offer as (role, name, rating), or None (logged) when it is not a valid one."""
    try:
        role, name, mu, sigma, where = offer
        mu, sigma = float(mu), float(sigma)
    except (TypeError, ValueError):
        log.warning("a rating source gave %.80r, not (role, name, mu, sigma, where); ignored", offer)
        return None
    if not (isinstance(role, str) and isinstance(name, str) and name.strip()) or not (
        math.isfinite(mu) and math.isfinite(sigma) and sigma >= 0 and abs(mu) < 1e6
    ):
        log.warning("a rating source gave %.80r: not a finite rating of a named role; ignored", offer)
        return None
    return role, name.strip(), KnownRating(mu, sigma, str(where)[:80])


class RatingBook:
    """The ratings the installed sources know, fetched in a background thread.

    Args:
        group: The entry-point group to ask (tests name another).
    """

    def __init__(self, group: str = RATING_SOURCES_GROUP) -> None:
        self.group = group
        self.ratings: dict[tuple[str, str], KnownRating] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aip-game rating sources", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        found: dict[tuple[str, str], KnownRating] = {}
        try:
            for ep in importlib.metadata.entry_points(group=self.group):
                try:
                    offers = list(ep.load()())[:_MOST]
                except Exception as exc:  # a source that fails leaves the others
                    log.warning("rating source %s failed: %s", ep.name, exc)
                    continue
                for offer in offers:
                    checked = _checked(offer)
                    if checked is not None:
                        found.setdefault((checked[0], checked[1]), checked[2])
        finally:
            self.ratings = found
            self._done.set()

    @property
    def done(self) -> bool:
        """Whether the sources have answered."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the sources (the tests use it); return whether they answered."""
        return self._done.wait(timeout)

    def find(self, role: str, name: str) -> KnownRating | None:
        """The rating of the opponent named `name` (a menu label or the HUD's name), or None."""
        if not self.done:
            return None
        exact = self.ratings.get((role, name))
        if exact is not None:
            return exact
        best: tuple[int, KnownRating] | None = None
        for (r, known), rating in self.ratings.items():
            if r == role and name.startswith(known + " ") and (best is None or len(known) > best[0]):
                best = (len(known), rating)
        return best[1] if best is not None else None

    def rate(self, who: Opponent) -> KnownRating | None:
        """Give `who` its rating where one is known (the HUD shows it); return it."""
        rating = self.find(who.role, who.label) or self.find(who.role, who.display_name)
        if rating is not None:
            who.rating, who.rating_sigma, who.rating_where = rating.mu, rating.sigma, rating.where
        return rating
