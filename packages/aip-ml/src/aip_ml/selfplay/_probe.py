"""Ratings during self-play: the learners against the scripted bots and the pool, every few updates.

Every ``selfplay_rating_every`` updates, the current policy of each role joins a small league (as
``ROLE@UPDATE``) with the task's reference bots and the newest pool snapshots, and plays every pair
it has not played yet; the openskill table is kept across the run (and in the checkpoint), so the
logged ratings are on one scale anchored by the bots, not relative to a moving opponent.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import aip_engine

from .._config import TrainConfig
from ._league import play_league
from ._matches import Entrant
from ._ratings import Match, RatingModel, RatingTable, separation
from ._record import LeagueRecord

__all__ = ["RatingProbe"]

_NEWEST_SNAPSHOTS = 3


class RatingProbe:
    """The rating league a self-play run keeps of itself.

    Args:
        config: The run's config (``selfplay_rating_episodes``, ``eval_seed``).
    """

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.record = LeagueRecord(
            task=config.task, episodes=config.selfplay_rating_episodes, seed=config.eval_seed, model=RatingModel()
        )

    def rate(self, selfplay: Any, update: int) -> dict[str, float]:
        """Add the learners' current policies, play the new pairs, and return the rating metrics."""
        spec = aip_engine.task_spec(self.config.task)
        entrants: list[Entrant] = []
        for role in selfplay.roles:
            entrants += [Entrant(f"bot:{b}", role, "bot") for b in spec.reference_bots.get(role, ())]
            entrants.append(Entrant(f"{role}@{update}", role, "policy", actor=selfplay.policy(role)))
            # The newest snapshots of this role live in the pool of the other role's learner.
            pool = selfplay.pools[selfplay.other[role]]
            for snap in pool.snapshots[-_NEWEST_SNAPSHOTS:]:
                if snap.uid != update:
                    entrants.append(Entrant(f"{role}@{snap.uid}", role, "policy", actor=snap.policy))
        play_league(
            self.config.task,
            entrants,
            record=self.record,
            threads=self.config.engine_threads,
            involving=[f"{role}@{update}" for role in selfplay.roles],
            batched=True,
        )
        table = self.record.ratings()
        metrics: dict[str, float] = {}
        for role in selfplay.roles:
            me = f"{role}@{update}"
            rating = table.ratings[me]
            bots = [table.ratings[e.id] for e in entrants if e.kind == "bot" and e.role == role]
            metrics[f"{role}/rating_mu"] = rating.mu
            metrics[f"{role}/rating_sigma"] = rating.sigma
            best = max(bots, key=lambda r: r.mu) if bots else None
            metrics[f"{role}/rating_above_best_bot"] = separation(rating, best) if best else math.nan
            metrics[f"{role}/win_rate_vs_bots"] = _win_rate(self.record.matches, me, lambda o: o.startswith("bot:"))
            metrics[f"{role}/win_rate_vs_pool"] = _win_rate(
                self.record.matches, me, lambda o: "@" in o and not o.startswith("bot:")
            )
        return metrics

    def state_dict(self) -> dict[str, Any]:
        """The matches and table (JSON-ready)."""
        return {
            "matches": [m.to_dict() for m in self.record.matches],
            "table": self.record.ratings().to_dict(),
            "rounds": self.record.rounds,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        self.record.matches = [Match.from_dict(m) for m in state["matches"]]
        self.record.table = RatingTable.from_dict(state["table"])
        self.record.rounds = int(state["rounds"])


def _win_rate(matches: list[Match], me: str, against: Any) -> float:
    scores = [m.outcome for m in matches if m.first == me and against(m.second)]
    scores += [1.0 - m.outcome for m in matches if m.second == me and against(m.first)]
    return float(np.mean(scores)) if scores else math.nan
