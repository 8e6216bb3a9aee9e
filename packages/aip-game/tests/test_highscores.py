from __future__ import annotations

import json
from pathlib import Path

from aip_game._highscores import MAX_ENTRIES, HighScore, HighScoreTable


def test_missing_file_is_an_empty_table(tmp_path: Path) -> None:
    table = HighScoreTable(tmp_path / "highscores.json")
    assert table.entries == [] and table.problem is None


def test_scores_are_sorted_kept_to_ten_and_saved(tmp_path: Path) -> None:
    path = tmp_path / "highscores.json"
    table = HighScoreTable(path)
    for score in [50, 300, 10, 700, 120, 90, 80, 60, 40, 30, 20, 500]:
        table.add(HighScore("P", score))
    assert [e.score for e in table.entries] == [700, 500, 300, 120, 90, 80, 60, 50, 40, 30]
    assert not table.qualifies(30) and table.qualifies(31)
    again = HighScoreTable(path)
    assert [e.score for e in again.entries] == [e.score for e in table.entries]
    assert len(again.entries) == MAX_ENTRIES
    assert [p.name for p in tmp_path.iterdir()] == ["highscores.json"]  # no temporary file left


def test_rank_and_name_trimming(tmp_path: Path) -> None:
    table = HighScoreTable(tmp_path / "h.json")
    assert table.add(HighScore("A", 100)) == 0
    assert table.add(HighScore("  a very long name indeed  ", 200)) == 0
    assert table.entries[0].name == "a very long "
    assert table.add(HighScore("C", 0)) is None


def test_corrupt_file_is_reported_kept_aside_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "highscores.json"
    path.write_text("{ this is not json")
    table = HighScoreTable(path)
    assert table.entries == []
    assert table.problem is not None and "corrupt" in table.problem
    assert json.loads(path.read_text()) == {"version": 1, "entries": []}
    assert (tmp_path / "highscores.json.corrupt").read_text() == "{ this is not json"


def test_wrong_structure_is_corrupt_too(tmp_path: Path) -> None:
    path = tmp_path / "highscores.json"
    path.write_text(json.dumps({"entries": [{"name": 3, "score": "x"}]}))
    table = HighScoreTable(path)
    assert table.entries == [] and table.problem
