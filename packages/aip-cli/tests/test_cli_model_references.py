"""Hostile model references: every command that takes one answers with one clear line.

A real SQLite store in a temporary folder holds one trained model (``chase-v1-enemy/1``). Each
reference below is given to ``aip models show/promote/export``, ``aip eval``, ``aip play --opponent``
and ``init_from``: the answer names the reference, says how to list the valid ones, and exits with
the documented code (2: not a reference; 3: a reference to something the store does not hold;
``init_from`` is a config key, so any bad value of it is 2), never with a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aip_cli import ExitCode, app

pytestmark = pytest.mark.slow

LONG = "a" * 5000
HUGE_VERSION = "chase-v1-enemy/" + "9" * 23

# reference -> (code for the registry commands, snippets every answer holds)
CASES: dict[str, tuple[int, tuple[str, ...]]] = {
    "chase-v1-enemy/0": (ExitCode.NOT_FOUND, ("has no version 0", "versions: 1", "aip models list")),
    "chase-v1-enemy/-1": (ExitCode.USAGE, ("chase-v1-enemy/-1", "aip models list")),
    "chase-v1-enemy/99999": (ExitCode.NOT_FOUND, ("has no version 99999", "versions: 1", "aip models list")),
    "chase-v1-enemy@missing-alias": (
        ExitCode.NOT_FOUND,
        ("no alias @missing-alias", "aliases: none", "aip models list"),
    ),
    "../x": (ExitCode.USAGE, ("../x", "aip models list")),
    LONG: (ExitCode.USAGE, ("5000 characters", "at most 256", "aip models list")),
    "chäse-v1-enemy": (ExitCode.USAGE, ("'chäse-v1-enemy' is not a model reference", "aip models list")),
    "chase-v1-enemy/٣": (ExitCode.USAGE, ("is not a model reference", "aip models list")),
    "": (ExitCode.USAGE, ("'' is not a model reference", "aip models list")),
    HUGE_VERSION: (ExitCode.NOT_FOUND, ("has no version 999999999999… (23 digits)", "versions: 1")),
    "models:/nope": (ExitCode.NOT_FOUND, ("no registered model 'nope'", "chase-v1-enemy")),
}
# Where `aip eval` and `aip play` read a path (a file that is not there) rather than a reference.
FILE_LIKE = {"chase-v1-enemy/-1", "../x"}


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, tiny: list[str]) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("references")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("AIP_CACHE_DIR", str(root / "cache"))
        mp.setenv("AIP_GAME_HOME", str(root / "game-data"))
        mp.setenv("SDL_VIDEODRIVER", "dummy")
        mp.setenv("SDL_AUDIODRIVER", "dummy")
        run = Store(root)
        trained = run("train", "chase-v1", *tiny)
        assert trained.exit_code == 0, trained.output
        assert (root / "mlflow.db").is_file()
        yield run


def _one_line(result: Result, code: int, snippets: tuple[str, ...], reference: str) -> None:
    err = result.stderr.strip()
    assert result.exit_code == code, (reference[:60], result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output, result.output[-2000:]
    assert err.startswith("aip: error: ") and len(err.splitlines()) == 1, err[:2000]
    assert len(err) < 600, f"the message repeats a long reference: {err[:200]}…"
    for snippet in snippets:
        assert snippet in err, (snippet, err)


@pytest.mark.parametrize("reference", list(CASES), ids=lambda r: r[:30] or "empty")
def test_registry_commands_name_the_reference(store: Store, reference: str) -> None:
    code, snippets = CASES[reference]
    _one_line(store("models", "show", reference), code, snippets, reference)
    _one_line(store("models", "promote", reference, "--episodes", "2"), code, snippets, reference)
    target = store.root / "exported.aipp"
    _one_line(store("models", "export", reference, str(target)), code, snippets, reference)
    assert not target.exists()


@pytest.mark.parametrize("reference", list(CASES), ids=lambda r: r[:30] or "empty")
def test_eval_and_play_name_the_reference(store: Store, reference: str) -> None:
    code, snippets = CASES[reference]
    if reference in FILE_LIKE:
        code, snippets = ExitCode.NOT_FOUND, ("policy file not found", reference, "aip models list")
    _one_line(store("eval", reference, "--episodes", "2"), code, snippets, reference)
    played = store("play", "--opponent", reference, "--headless", "--frames", "3")
    _one_line(played, code, snippets, reference)


@pytest.mark.parametrize("reference", [r for r in CASES if r], ids=lambda r: r[:30])
def test_init_from_names_the_reference(store: Store, reference: str, tiny: list[str]) -> None:
    _, snippets = CASES[reference]
    if reference in FILE_LIKE:
        snippets = ("no such file or folder, and not a model reference", "aip models list")
    result = store("train", "chase-v1", *tiny, f"init_from={reference}")
    _one_line(result, ExitCode.USAGE, ("config key 'init_from'", *snippets), reference)


def test_models_list_of_a_hostile_name(store: Store) -> None:
    _one_line(store("models", "list", LONG), ExitCode.NOT_FOUND, ("no registered model", "5000 characters"), LONG)
    _one_line(store("models", "list", "../x"), ExitCode.NOT_FOUND, ("no registered model '../x'", "chase-v1"), "../x")
