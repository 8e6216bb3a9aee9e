"""Self-play against a pool of past selves, ratings on one scale, and the league of every agent.

- `SelfPlay`: the trainer of two-role tasks (duel-v1): one PPO learner per role, each facing a pool
  of the other role's latest policy, past snapshots and scripted bots (`OpponentPool`).
- `RatingTable`, `RatingModel`, `Rating`, `Match`: openskill ratings folded over stored matches.
- `play_league`, `LeagueRecord`: a tournament on fixed seeds among learned policies and scripted
  bots, incremental, with atomic files that are rebuilt from the matches when corrupt.
- `evaluate_duel`: duel-v1's learned player and enemy against the scripted bots of the other role.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._duel import DuelReport, DuelResult, evaluate_duel
from ._league import LeagueRow, league_rows, play_league
from ._matches import Entrant, bot_entrants, check_layout, match_sides, opponent_entrant, play_pair
from ._ratings import Match, Rating, RatingModel, RatingTable, separation
from ._record import MATCHES_FILE, RATINGS_FILE, LeagueRecord, LeagueRecordError

if TYPE_CHECKING:
    from ._pool import OpponentPool
    from ._trainer import SelfPlay

_LAZY = {"OpponentPool": "._pool", "SelfPlay": "._trainer"}


def __getattr__(name: str) -> Any:
    # The trainer needs torch; the league and the ratings do not.
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aip_ml.selfplay' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "MATCHES_FILE",
    "RATINGS_FILE",
    "DuelReport",
    "DuelResult",
    "Entrant",
    "LeagueRecord",
    "LeagueRecordError",
    "LeagueRow",
    "Match",
    "OpponentPool",
    "Rating",
    "RatingModel",
    "RatingTable",
    "SelfPlay",
    "bot_entrants",
    "check_layout",
    "evaluate_duel",
    "league_rows",
    "match_sides",
    "opponent_entrant",
    "play_league",
    "play_pair",
    "separation",
]
