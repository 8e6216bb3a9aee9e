"""Ratings, the league's files and rounds, and the duel-v1 evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import aip_engine
import aip_ml
from aip_ml.selfplay import (
    MATCHES_FILE,
    RATINGS_FILE,
    Entrant,
    LeagueRecord,
    LeagueRecordError,
    Match,
    RatingTable,
    evaluate_duel,
    league_rows,
    play_league,
    play_pair,
    separation,
)


class ConstantPolicy:
    """A policy that always does the same thing (a layout-checked stand-in for a learned one)."""

    def __init__(self, role: str, action: list[float]) -> None:
        self.layout = aip_engine.role_layout(role)
        self.action = np.asarray(action, np.float32)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.tile(self.action, (len(obs), 1))


def test_the_stronger_entrant_gets_the_higher_rating_and_the_fold_is_deterministic() -> None:
    matches = [Match("a", "b", 0, e, 1.0 if e % 4 else 0.0) for e in range(40)]  # a wins 3 of 4
    table = RatingTable()
    table.update(matches)
    a, b = table.ratings["a"], table.ratings["b"]
    assert a.mu > b.mu and a.sigma < 25 / 3
    assert (a.matches, a.wins, b.wins) == (40, 30, 10)
    assert separation(a, b) > 0
    again = RatingTable()
    again.update(matches)
    assert again.to_dict() == table.to_dict()
    assert RatingTable.from_dict(json.loads(json.dumps(table.to_dict()))).to_dict() == table.to_dict()


def _bots(role: str, names: list[str]) -> list[Entrant]:
    return [Entrant(f"bot:{n}", role, "bot") for n in names]


def test_a_league_is_reproducible_and_adds_entrants_without_replaying_old_pairs(tmp_path: Path) -> None:
    first = _bots("player", ["idle", "kite"]) + _bots("enemy", ["chase"])
    a = play_league("duel-v1", first, episodes=6, seed=3)
    b = play_league("duel-v1", first, episodes=6, seed=3)
    assert [m.to_dict() for m in a.matches] == [m.to_dict() for m in b.matches]
    assert a.ratings().to_dict() == b.ratings().to_dict()
    assert len(a.matches) == 2 * 6
    # A new entrant: only its pairs are played; the old matches stay first and the table is their
    # fold followed by the new ones.
    grown = play_league("duel-v1", [*first, *_bots("enemy", ["intercept"])], record=a)
    assert grown.rounds == 2 and len(grown.matches) == 4 * 6
    assert {(m.first, m.second) for m in grown.matches[12:]} == {
        ("bot:idle", "bot:intercept"),
        ("bot:kite", "bot:intercept"),
    }
    assert grown.matches[:12] == b.matches
    assert grown.ratings().to_dict() == grown.rebuilt_table().to_dict()
    # Every pair plays the same episodes: the same seed and episode indices.
    assert {(m.seed, m.episode) for m in grown.matches if m.second == "bot:intercept"} == {
        (m.seed, m.episode) for m in grown.matches if m.second == "bot:chase"
    }
    rows = league_rows(grown, [*first, *_bots("enemy", ["intercept"])])
    assert [r.rank for r in rows] == list(range(1, 5))
    assert {r.entrant: r.role for r in rows}["bot:kite"] == "player"


def test_ratings_files_are_atomic_and_a_corrupt_one_is_rebuilt_from_the_matches(tmp_path: Path) -> None:
    record = play_league("duel-v1", _bots("player", ["idle", "flee"]) + _bots("enemy", ["chase"]), episodes=4, seed=0)
    record.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [MATCHES_FILE, RATINGS_FILE]  # no temporary left
    loaded = LeagueRecord.load(tmp_path, "duel-v1")
    assert loaded.problem is None and loaded.ratings().to_dict() == record.ratings().to_dict()
    (tmp_path / RATINGS_FILE).write_text('{"format": "aip-league", "vers')
    rebuilt = LeagueRecord.load(tmp_path, "duel-v1")
    assert rebuilt.problem is not None and "not readable JSON" in rebuilt.problem
    assert rebuilt.ratings().to_dict() == record.ratings().to_dict()
    # Ratings computed from other matches are not trusted either.
    record.save(tmp_path)
    lines = (tmp_path / MATCHES_FILE).read_text().splitlines()
    (tmp_path / MATCHES_FILE).write_text("\n".join(lines[:-1]) + "\n")
    assert "other matches" in str(LeagueRecord.load(tmp_path, "duel-v1").problem)
    # A corrupt matches file cannot be rebuilt from: it is an error naming the line.
    (tmp_path / MATCHES_FILE).write_text(lines[0] + "\n{not json\n")
    with pytest.raises(LeagueRecordError, match="corrupt at line 2"):
        LeagueRecord.load(tmp_path, "duel-v1")
    (tmp_path / "dir" / RATINGS_FILE).mkdir(parents=True)
    with pytest.raises(LeagueRecordError, match="not a regular file"):
        record.save(tmp_path / "dir")


def test_a_policy_of_another_layout_is_refused_with_both_layouts_named() -> None:
    wrong = Entrant("mine", "player", "policy", actor=ConstantPolicy("enemy", [0.0, 0.0]))
    with pytest.raises(aip_ml.ConfigError, match=r"layout 'enemy-v1'.*the 'player' slot takes layout 'player-v1'"):
        play_pair("duel-v1", wrong, Entrant("bot:chase", "enemy", "bot"), episodes=2, seed=0)


def test_single_agent_tasks_rate_policies_and_bots_against_the_fixed_opponent() -> None:
    still = Entrant("still", "enemy", "policy", actor=ConstantPolicy("enemy", [0.0, 0.0]))
    record = play_league("chase-v1", [still, *_bots("enemy", ["chase"])], episodes=8, seed=0)
    rows = {r.entrant: r for r in league_rows(record, [still])}
    assert set(rows) == {"still", "bot:chase", "opponent:chase-v1"}
    assert rows["bot:chase"].rating.mu > rows["still"].rating.mu
    assert rows["still"].above_best_bot < 0


def test_batched_pairs_agree_with_their_drivers_and_policies() -> None:
    # In one batch, a pair of bots driven world by world plays exactly what its own batch plays.
    pairs = [(Entrant("bot:idle", "player", "bot"), Entrant("bot:chase", "enemy", "bot"))]
    alone = play_pair("duel-v1", *pairs[0], episodes=5, seed=2)
    from aip_ml.selfplay._matches import play_pairs

    together = play_pairs("duel-v1", pairs, episodes=5, seed=2)[0]
    assert [(m.outcome, m.frames) for m in together] == [(m.outcome, m.frames) for m in alone]


def test_the_duel_evaluation_scores_both_sides_against_the_other_roles_bots() -> None:
    still = ConstantPolicy("player", [0.0, 0.0, 0.0])
    report = evaluate_duel(player=still, episodes=6, seed=1, player_bots=["kite"], enemy_bots=["chase"])
    survival = report.survival()
    assert set(survival) == {"policy", "kite"}
    assert survival["policy"] == 0.0  # a player that never moves is always caught by chase
    caught = report.player_side[0]
    assert caught.catch_rate == 1.0 and caught.frames_to_catch > 0 and caught.score >= 0
    assert report.targets() == {"player_beats_player_bots": False}
    data = report.to_dict()
    assert data["enemy_side"][0]["enemy"] == "chase"
    with pytest.raises(aip_ml.ConfigError, match="'kite' is none of the enemy bots: chase"):
        evaluate_duel(episodes=2, enemy_bots=["kite"])
