"""Ratings on one scale for learned policies and scripted bots, with the openskill library.

A match is one episode between two entrants on a fixed seed; its outcome is a win for one side or a
draw. The table is the fold of the openskill update over the matches in their stored order, so that
the same matches give the same table, a league that grows only folds the new matches on top of the
stored table, and a table that is lost or corrupt is rebuilt exactly from the matches.

openskill (Weng and Lin 2011, "A Bayesian approximation method for online ranking") is used rather
than rating mathematics written here: each entrant's skill is a Gaussian (``mu``, ``sigma``); a
conservative rating ``mu - 3 sigma`` orders entrants whose uncertainty differs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import ConfigError

__all__ = ["Match", "Rating", "RatingModel", "RatingTable", "separation"]

_MODELS = ("PlackettLuce", "BradleyTerryFull", "ThurstoneMostellerFull")


@dataclass(frozen=True)
class RatingModel:
    """The openskill model and its parameters (openskill's defaults and names).

    Attributes:
        name: ``"PlackettLuce"`` (openskill's default), ``"BradleyTerryFull"`` or
            ``"ThurstoneMostellerFull"``.
        mu: The prior mean of a new entrant.
        sigma: The prior standard deviation of a new entrant.
        beta: The performance noise of one match: how far apart two entrants must be for the
            stronger to win most matches.
        tau: Added to sigma before each match (skill drift); 0 lets sigma shrink with every match.
    """

    name: str = "PlackettLuce"
    mu: float = 25.0
    sigma: float = 25.0 / 3.0
    beta: float = 25.0 / 6.0
    tau: float = 0.0

    def __post_init__(self) -> None:
        if self.name not in _MODELS:
            raise ConfigError(f"rating model {self.name!r} is not one of {', '.join(_MODELS)}")
        for key in ("sigma", "beta"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"rating model {key} must be greater than 0, got {getattr(self, key)!r}")
        if not self.tau >= 0:
            raise ConfigError(f"rating model tau must be 0 or more, got {self.tau!r}")

    def build(self) -> Any:
        """Return the openskill model object."""
        from openskill import models

        cls = getattr(models, self.name)
        return cls(mu=self.mu, sigma=self.sigma, beta=self.beta, tau=self.tau)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON values."""
        return {"name": self.name, "mu": self.mu, "sigma": self.sigma, "beta": self.beta, "tau": self.tau}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> RatingModel:
        """Build a model from `to_dict` output."""
        return RatingModel(
            name=str(data["name"]),
            mu=float(data["mu"]),
            sigma=float(data["sigma"]),
            beta=float(data["beta"]),
            tau=float(data["tau"]),
        )


@dataclass(frozen=True)
class Match:
    """One episode between two entrants.

    Attributes:
        first: The first side's entrant id (the player in duel-v1, the agent in a single-agent task).
        second: The second side's entrant id.
        seed: The episode's seed (the league's seed and the episode index).
        episode: The episode's index among the pair's episodes.
        outcome: ``1`` the first side won, ``0`` the second won, ``0.5`` a draw.
        frames: The episode's length.
        round: The league round that played it (0 for the first).
    """

    first: str
    second: str
    seed: int
    episode: int
    outcome: float
    frames: int = 0
    round: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Return the match as JSON values."""
        return {
            "first": self.first,
            "second": self.second,
            "seed": self.seed,
            "episode": self.episode,
            "outcome": self.outcome,
            "frames": self.frames,
            "round": self.round,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Match:
        """Build a match from `to_dict` output.

        Raises:
            ValueError: A field is missing or of the wrong type, or the outcome is not 0, 0.5 or 1.
        """
        try:
            match = Match(
                first=str(data["first"]),
                second=str(data["second"]),
                seed=int(data["seed"]),
                episode=int(data["episode"]),
                outcome=float(data["outcome"]),
                frames=int(data.get("frames", 0)),
                round=int(data.get("round", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"not a match record ({exc})") from None
        if match.outcome not in (0.0, 0.5, 1.0) or match.first == match.second:
            raise ValueError("not a match record (outcome must be 0, 0.5 or 1, between two entrants)")
        return match


@dataclass(frozen=True)
class Rating:
    """An entrant's rating and record.

    Attributes:
        mu: The mean of the skill estimate.
        sigma: Its standard deviation (the uncertainty).
        matches: Matches played.
        wins: Matches won.
        draws: Matches drawn.
    """

    mu: float
    sigma: float
    matches: int = 0
    wins: int = 0
    draws: int = 0

    @property
    def losses(self) -> int:
        """Matches lost."""
        return self.matches - self.wins - self.draws

    @property
    def conservative(self) -> float:
        """``mu - 3 sigma``: a rating the entrant very probably deserves (openskill's ordinal)."""
        return self.mu - 3.0 * self.sigma

    @property
    def win_rate(self) -> float:
        """Wins plus half the draws over the matches (NaN before any match)."""
        return (self.wins + 0.5 * self.draws) / self.matches if self.matches else math.nan

    def to_dict(self) -> dict[str, Any]:
        """Return the rating as JSON values."""
        return {"mu": self.mu, "sigma": self.sigma, "matches": self.matches, "wins": self.wins, "draws": self.draws}


def separation(a: Rating, b: Rating) -> float:
    """How many standard deviations of the difference ``a`` is rated above ``b``.

    ``(mu_a - mu_b) / sqrt(sigma_a^2 + sigma_b^2)``: 2 means the difference is twice its own
    uncertainty.
    """
    return (a.mu - b.mu) / math.sqrt(a.sigma**2 + b.sigma**2)


@dataclass
class RatingTable:
    """Every entrant's rating: the fold of the openskill update over matches, in order.

    Args:
        model: The rating model.
        entrants: Entrants known before any match (they start at the prior).
    """

    model: RatingModel = field(default_factory=RatingModel)
    ratings: dict[str, Rating] = field(default_factory=dict)
    matches: int = 0

    def __post_init__(self) -> None:
        self._model = self.model.build()

    def add_entrant(self, entrant: str) -> None:
        """Add an entrant at the prior, if it is not rated yet."""
        if entrant not in self.ratings:
            self.ratings[entrant] = Rating(self.model.mu, self.model.sigma)

    def update(self, matches: Iterable[Match]) -> None:
        """Fold matches into the table, in order."""
        model = self._model
        for m in matches:
            self.add_entrant(m.first)
            self.add_entrant(m.second)
            a, b = self.ratings[m.first], self.ratings[m.second]
            ranks = [0.0, 1.0] if m.outcome == 1.0 else ([1.0, 0.0] if m.outcome == 0.0 else [0.0, 0.0])
            [[ra], [rb]] = model.rate(
                [[model.rating(mu=a.mu, sigma=a.sigma)], [model.rating(mu=b.mu, sigma=b.sigma)]], ranks=ranks
            )
            win_a, win_b, draw = int(m.outcome == 1.0), int(m.outcome == 0.0), int(m.outcome == 0.5)
            self.ratings[m.first] = Rating(float(ra.mu), float(ra.sigma), a.matches + 1, a.wins + win_a, a.draws + draw)
            self.ratings[m.second] = Rating(
                float(rb.mu), float(rb.sigma), b.matches + 1, b.wins + win_b, b.draws + draw
            )
            self.matches += 1

    def ranked(self) -> list[tuple[str, Rating]]:
        """Entrants by conservative rating, best first (then by mu, then by id)."""
        return sorted(self.ratings.items(), key=lambda kv: (-kv[1].conservative, -kv[1].mu, kv[0]))

    def to_dict(self) -> dict[str, Any]:
        """Return the table as JSON values."""
        return {
            "model": self.model.to_dict(),
            "matches": self.matches,
            "ratings": {k: v.to_dict() for k, v in sorted(self.ratings.items())},
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> RatingTable:
        """Build a table from `to_dict` output.

        Raises:
            ValueError: The data is not a rating table.
        """
        try:
            table = RatingTable(RatingModel.from_dict(data["model"]))
            table.matches = int(data["matches"])
            for key, r in dict(data["ratings"]).items():
                rating = Rating(float(r["mu"]), float(r["sigma"]), int(r["matches"]), int(r["wins"]), int(r["draws"]))
                if not (math.isfinite(rating.mu) and rating.sigma > 0 and rating.losses >= 0):
                    raise ValueError(f"rating of {key!r} is out of range")
                table.ratings[str(key)] = rating
        except (KeyError, TypeError, ValueError, ConfigError) as exc:
            raise ValueError(f"not a rating table ({exc})") from None
        return table
