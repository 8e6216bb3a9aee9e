"""The game's own files under hostile content: report, keep a copy, start with the defaults.

High scores and settings are read as untrusted input. Whatever their bytes (random, mutated from a
valid file, invalid UTF-8, deeply nested JSON, NaN or Infinity, values of the wrong types), the game
starts, says what was wrong, keeps the damaged bytes beside the file, and saves a good file again.
A path that is not a regular file (a FIFO, a device, a folder) is reported and never read, moved
or replaced.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aip_game._app import App
from aip_game._highscores import HighScore, HighScoreTable
from aip_game._paths import data_dir
from aip_game._settings import Settings

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = settings().max_examples
_FIXTURES = [HealthCheck.function_scoped_fixture]

VALID_SCORES = json.dumps(
    {"version": 1, "entries": [{"name": "ADA", "score": 900, "side": "player", "opponent": "chase", "frames": 3600}]}
).encode()
VALID_SETTINGS = json.dumps({"fullscreen": False, "sound": True, "player_name": "ADA", "radar.range": 300}).encode()

DAMAGED = [
    b"\xff\xfe\x00{",  # not UTF-8
    b"[" * 100_000 + b"]" * 100_000,  # nested past the parser's recursion
    b'{"entries": ' + b"[" * 40 + b"]" * 40 + b"}",  # parses, but nests past the data files' limit
    b'{"version": 1, "entries": [{"name": "A", "score": 1, "frames": Infinity}]}',
    b'{"version": 1, "entries": [{"name": "A", "score": NaN}]}',
    b'{"version": 1, "entries": [{"name": "A", "score": 1, "frames": 1e400}]}',
    b'{"version": 1, "entries": [{"name": "A", "score": 1, "frames": [1]}]}',
    b'{"version": 1, "entries": [{"name": "A", "score": ' + b"9" * 5000 + b"}]}",
    b'{"sound": true, "volume": -Infinity}',
    b"",
    b"\x00" * 64,
]


def _mutations() -> st.SearchStrategy[bytes]:
    def mutate(data: bytes, i: int, chunk: bytes, cut: bool) -> bytes:
        i %= len(data)
        return data[:i] if cut else data[:i] + chunk + data[i + len(chunk) :]

    valid = st.sampled_from([VALID_SCORES, VALID_SETTINGS])
    mutated = st.builds(mutate, valid, st.integers(0, 10_000), st.binary(max_size=16), st.booleans())
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
        max_leaves=30,
    )
    documents = values.map(lambda v: json.dumps(v, allow_nan=True).encode())
    keys = st.sampled_from(["name", "score", "frames", "side", "date"])
    entries = st.lists(st.dictionaries(keys, values), max_size=5)
    tables = entries.map(lambda e: json.dumps({"version": 1, "entries": e}, allow_nan=True).encode())
    return st.one_of(st.binary(max_size=512), mutated, documents, tables, st.sampled_from(DAMAGED))


def _check_recovered(path: Path, original: bytes, problem: str | None) -> None:
    copies = sorted(path.parent.glob(path.name + ".corrupt*"))
    if problem is not None and "kept as" in problem:
        assert any(c.read_bytes() == original for c in copies), "the damaged bytes must be kept"
        if path.exists():
            json.loads(path.read_text(encoding="utf-8"))  # a good file in its place (the high scores)
    elif problem is None and copies:
        raise AssertionError(f"a copy was kept without a report: {copies}")


@settings(max_examples=EXAMPLES * 3, suppress_health_check=_FIXTURES)
@given(raw=_mutations())
def test_any_high_score_file_gives_a_table(tmp_path: Path, raw: bytes) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / "highscores.json"
    path.write_bytes(raw)
    table = HighScoreTable(path)
    assert len(table.entries) <= 10
    _check_recovered(path, raw, table.problem)
    table.add(HighScore("NEW", 10**6))
    assert HighScoreTable(path).entries[0].name == "NEW"  # the table saves and reads back


@settings(max_examples=EXAMPLES * 3, suppress_health_check=_FIXTURES)
@given(raw=_mutations())
def test_any_settings_file_gives_settings(tmp_path: Path, raw: bytes) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    path = folder / "settings.json"
    path.write_bytes(raw)
    s = Settings(path)
    for spec in s.visible():
        assert s.get(spec.key) in spec.choices
    assert isinstance(s.get("player_name"), str) and s.get("player_name").isprintable()
    _check_recovered(path, raw, s.problem)
    s.set("sound", False)
    assert Settings(path).get("sound") is False


@pytest.mark.parametrize("raw", DAMAGED, ids=range(len(DAMAGED)))
def test_the_game_starts_on_damaged_files_and_says_so(
    make_app: Callable[..., App], home: Path, ui: Any, raw: bytes
) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "highscores.json").write_bytes(raw)
    (home / "settings.json").write_bytes(raw)
    app = make_app()
    ui.run(app, 3)
    assert app.highscores.entries == []
    if raw:
        assert app.highscores.problem and "kept as highscores.json.corrupt" in app.highscores.problem
        assert (home / "highscores.json.corrupt").read_bytes() == raw
    assert app.settings.get("sound") is True


def test_older_damaged_copies_are_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "highscores.json"
    for n, raw in enumerate([b"one", b"two", b"three"]):
        path.write_bytes(raw)
        assert "kept as" in str(HighScoreTable(path).problem), n
    kept = {p.name: p.read_bytes() for p in tmp_path.glob("highscores.json.corrupt*")}
    assert kept == {
        "highscores.json.corrupt": b"one",
        "highscores.json.corrupt-2": b"two",
        "highscores.json.corrupt-3": b"three",
    }


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_reported_and_left_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "highscores.json"
    os.mkfifo(fifo)
    table = HighScoreTable(fifo)  # must not block
    assert table.problem and "FIFO" in table.problem
    table.add(HighScore("ADA", 5))  # the save is refused and reported, the FIFO stays
    assert "could not save" in str(table.problem) and fifo.is_fifo()
    link = tmp_path / "settings.json"
    link.symlink_to("/dev/null")
    s = Settings(link)
    s.set("sound", False)
    assert link.is_symlink() and Path("/dev/null").is_char_device()


@pytest.mark.parametrize("variable", ["AIP_GAME_HOME", "XDG_DATA_HOME"])
@pytest.mark.parametrize("value", ["relative/folder", ".", "mods", ""])
def test_a_relative_data_folder_is_ignored(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.delenv("AIP_GAME_HOME", raising=False)
    monkeypatch.setenv(variable, value)
    folder = data_dir()
    assert folder.is_absolute()
    if sys.platform == "linux":
        assert folder == Path.home() / ".local" / "share" / "aip-game"


def test_names_from_files_are_drawable(tmp_path: Path) -> None:
    path = tmp_path / "highscores.json"
    entries: list[dict[str, Any]] = [{"name": "A\x00B\x1b[31m", "score": 5, "opponent": "x" * 10_000}]
    path.write_text(json.dumps({"version": 1, "entries": entries}))
    entry = HighScoreTable(path).entries[0]
    assert entry.name == "AB[31m" and len(entry.opponent) == 200
