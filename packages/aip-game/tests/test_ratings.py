"""Opponents' ratings from installed rating sources: on the HUD, kept in the high scores, shown there."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygame
import pytest

from aip_game._app import App
from aip_game._highscores import HighScore, HighScoreTable
from aip_game._play import GameOverScreen, GameScreen
from aip_game._ratings import RatingBook
from aip_game._screens import HighScoresScreen


def _source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Install a rating source (a real entry point of a package on sys.path) whose function has `body`."""
    site = tmp_path / "site"
    dist = site / "fake_league-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-league\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[aip_game.rating_sources]\nleague = fake_league:ratings\nbroken = fake_league:broken\n"
    )
    (site / "fake_league.py").write_text(
        f"def ratings():\n{body}\ndef broken():\n    raise ConnectionError('store unreachable')\n"
    )
    monkeypatch.syspath_prepend(str(site))


_OFFERS = """    return [
        ('enemy', 'bot: dodge', 37.5, 2.0, 'duel-v1 league'),
        ('enemy', 'duel-v1-enemy v3', 41.25, 1.5, 'duel-v1 league'),
        ('player', 'bot: kite', 60.0, 3.4, 'duel-v1 league'),
        ('enemy', 'bot: chase', float('nan'), 1.0, 'bad'),
        ('enemy', 'bot: intercept'),
    ]
"""


def test_the_book_matches_labels_and_drops_bad_offers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _source(tmp_path, monkeypatch, _OFFERS)
    book = RatingBook()
    assert book.wait(30)
    assert book.find("enemy", "bot: dodge") == book.ratings[("enemy", "bot: dodge")]
    assert book.find("enemy", "bot: dodge").text() == "37.5 +- 2.0"  # type: ignore[union-attr]
    # a model version's menu label and HUD name carry aliases and scores after its name
    assert book.find("enemy", "duel-v1-enemy v3 @champion (12% success)").mu == 41.25  # type: ignore[union-attr]
    assert book.find("enemy", "duel-v1-enemy v31") is None
    assert book.find("player", "bot: dodge") is None  # the role counts
    assert book.find("enemy", "bot: chase") is None and book.find("enemy", "bot: intercept") is None


def test_the_rating_of_the_opponent_played_goes_into_the_high_scores(
    make_app: Callable[..., App], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ui: Any, home: Path
) -> None:
    _source(tmp_path, monkeypatch, _OFFERS)
    app = make_app(opponent="dodge")
    assert isinstance(app.screen, GameScreen)
    game = app.screen
    ui.run(app, 2)
    session = game.session
    # nothing is asked while the first game plays (a source may be slow to import)
    assert app.ratings_ready() is None and session.opponent_obj.rating is None
    session.lives = 1000
    ui.run(app, 180)  # a few seconds survived: a score that enters the table
    session.lives = 1  # the next catch ends the game
    for _ in range(20_000):
        ui.run(app, 1)
        if isinstance(app.screen, GameOverScreen):
            break
    over = app.screen
    assert isinstance(over, GameOverScreen) and over.qualifies
    for _ in range(len(over.name)):  # the last name is offered: erase it
        ui.key(pygame.K_BACKSPACE)
    for ch in "ACE":
        ui.key(getattr(pygame, f"K_{ch.lower()}"), ch)
    ui.key(pygame.K_RETURN)
    ui.run(app, 1)
    table = app.screen
    assert isinstance(table, HighScoresScreen)
    entry = app.highscores.entries[0]
    assert (entry.name, entry.opponent, entry.opponent_rating, entry.opponent_sigma) == ("ACE", "bot: dodge", 37.5, 2.0)
    assert entry.rating_league == "duel-v1 league"
    assert table.rows()[0][3:] == ("player vs bot: dodge", "37.5 +- 2.0")
    ui.run(app, 1)  # it draws
    stored = json.loads((home / "highscores.json").read_text())
    assert stored["entries"][0]["opponent_rating"] == 37.5
    # from now on the HUD shows the opponent's rating from a game's first frame
    from aip_game._opponents import BotOpponent
    from aip_game._screens import start_game

    assert start_game(app, "player", BotOpponent("enemy", "dodge"))
    ui.run(app, 1)
    assert app.screen.session.opponent_obj.rating == 37.5  # type: ignore[attr-defined]
    # an unrated opponent's score says so
    app.highscores.add(HighScore("BOB", 1, "player", "policy: mine"))
    assert HighScoresScreen(app).rows()[-1][4] == "unrated"


def test_scores_without_ratings_still_load_and_a_bad_rating_is_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "highscores.json"
    path.write_text(json.dumps({"version": 1, "entries": [{"name": "OLD", "score": 5}]}))
    table = HighScoreTable(path)
    assert table.problem is None and table.entries[0].opponent_rating is None
    path.write_text(json.dumps({"version": 1, "entries": [{"name": "X", "score": 5, "opponent_rating": "high"}]}))
    table = HighScoreTable(path)
    assert table.problem is not None and "'opponent_rating' must be a number" in table.problem
    assert (tmp_path / "highscores.json.corrupt").exists()


def test_no_rating_source_means_unrated_opponents(make_app: Callable[..., App], ui: Any) -> None:
    app = make_app(opponent="chase")
    assert isinstance(app.screen, GameScreen)
    assert app.rating_book().wait(30)
    ui.run(app, 3)
    assert app.screen.session.opponent_obj.rating is None
