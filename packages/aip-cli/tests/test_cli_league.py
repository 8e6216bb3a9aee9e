"""aip league: a tournament of the registered duel-v1 models and every bot, kept in MLflow, incremental."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DUEL = [
    "total_steps=1024",
    "num_worlds=16",
    "rollout_steps=32",
    "epochs=1",
    "minibatch_size=128",
    "hidden_sizes=[16,16]",
    "checkpoint_every=0",
    "torch_threads=1",
    "engine_threads=1",
    "selfplay_rating_every=0",
]


def _json(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_league_over_an_empty_registry_says_what_to_train_first(aip: Any) -> None:
    result = aip("league", "duel-v1")
    assert result.exit_code == 3
    assert "train one first with `aip train duel-v1`" in result.output


@pytest.mark.slow
def test_the_league_rates_models_and_bots_keeps_rounds_in_mlflow_and_promotes_by_rating(
    aip: Any, workdir: Path
) -> None:
    first = _json(aip("train", "duel-v1", *DUEL, "--json"))
    assert {v["role"] for v in first["registered"]} == {"player", "enemy"}
    league = _json(aip("league", "duel-v1", "--episodes", "4", "--json"))
    entrants = {row["entrant"]: row for row in league["table"]}
    assert {"duel-v1-player/1", "duel-v1-enemy/1", "bot:kite", "bot:chase", "bot:staged"} <= set(entrants)
    assert league["new_matches"] == league["matches"] == 4 * 6 * 9  # 6 players x 9 enemies, 4 each
    assert entrants["duel-v1-player/1"]["role"] == "player"
    shown = _json(aip("models", "show", "duel-v1-player/1", "--json"))
    assert float(shown["tags"]["rating.mu"]) == pytest.approx(entrants["duel-v1-player/1"]["mu"])
    assert shown["tags"]["rating.run"] == league["run_id"]
    # Nothing new: nothing is played again.
    again = _json(aip("league", "duel-v1", "--json"))
    assert again["new_matches"] == 0 and again["round"] == 2
    assert again["table"] == league["table"]
    # A second training adds two entrants: only their pairs are played.
    _json(aip("train", "duel-v1", *DUEL, "seed=1", "--json"))
    third = _json(aip("league", "duel-v1", "--json"))
    assert third["new_matches"] == 4 * (10 + 6)  # player/2 against the 10 enemies, enemy/2 against the 6 others
    assert third["matches"] == league["matches"] + third["new_matches"]
    # A corrupt ratings file in the store is reported and rebuilt from the stored matches.
    stored = next(workdir.glob(f"mlartifacts/**/{third['run_id']}/artifacts/league/ratings.json"))
    stored.write_text("{broken")
    fourth = aip("league", "duel-v1", "--json")
    assert fourth.exit_code == 0, fourth.output
    rebuilt = json.loads(fourth.stdout)
    assert "not readable JSON" in rebuilt["rebuilt"]
    assert rebuilt["table"] == third["table"]
    # Other settings than the stored league's are refused.
    refused = aip("league", "duel-v1", "--episodes", "9")
    assert refused.exit_code == 2 and "--episodes 4" in refused.output
    # Promotion by rating: the first version becomes champion, then the second only if rated above it.
    assert aip("models", "promote", "duel-v1-player/1", "--by", "rating").exit_code == 0
    outcome = aip("models", "promote", "duel-v1-player/2", "--by", "rating", "--margin", "0", "--json")
    decided = json.loads(outcome.stdout)
    table = {row["entrant"]: row["mu"] for row in third["table"]}
    assert decided["promoted"] == (table["duel-v1-player/2"] >= table["duel-v1-player/1"])
    assert outcome.exit_code == (0 if decided["promoted"] else 4)


@pytest.mark.slow
def test_the_game_shows_the_league_ratings_of_bots_and_models(aip: Any, workdir: Path) -> None:
    trained = aip("train", "duel-v1", *DUEL, "--json")
    assert trained.exit_code == 0, trained.output
    league = aip("league", "duel-v1", "--episodes", "2", "--json")
    assert league.exit_code == 0, league.output
    table = {row["entrant"]: row for row in json.loads(league.stdout)["table"]}

    import pygame

    from aip_game._app import App, Options
    from aip_game._opponents import entry_point_choices
    from aip_game._play import GameScreen

    app = App(Options(opponent="dodge", headless=True, fps=0, mod_dirs=[], entry_point_mods=False, seed=1))
    try:
        assert isinstance(app.screen, GameScreen)
        book = app.rating_book()
        assert book.wait(60)
        dodge = book.find("enemy", "bot: dodge")
        assert dodge is not None and dodge.where == "duel-v1 league"
        assert dodge.mu == pytest.approx(table["bot:dodge"]["mu"]) and dodge.sigma == pytest.approx(
            table["bot:dodge"]["sigma"]
        )
        app.tick()
        app.tick()
        assert app.screen.session.opponent_obj.rating == pytest.approx(table["bot:dodge"]["mu"])
        # the registered model as the menu offers it carries its own rating
        offer = next(c for c in entry_point_choices("enemy") if c.label.startswith("duel-v1-enemy v1"))
        model = book.find("enemy", offer.label)
        assert model is not None and model.mu == pytest.approx(table["duel-v1-enemy/1"]["mu"])
        kite = book.find("player", "bot: kite")
        assert kite is not None and kite.mu == pytest.approx(table["bot:kite"]["mu"])
    finally:
        if pygame.get_init():
            app.close()
