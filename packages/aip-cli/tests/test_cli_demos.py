"""``aip demos``: recordings made by driving the real game with key events, converted and trained on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest


def _record(side: str, opponent: str, seed: int, frames: int, keys: tuple[int, ...] = ()) -> Path:
    """Play one recorded game headless, holding `keys`, then quit (the recording is closed cleanly)."""
    import pygame

    from aip_game._app import App, Options

    app = App(
        Options(
            opponent=opponent,
            side=side,
            record=True,
            seed=seed,
            headless=True,
            fps=0,
            mod_dirs=[],
            entry_point_mods=False,
        )
    )
    try:
        screen = app.screen
        recorder = getattr(screen, "recorder", None)
        assert recorder is not None, app.start_error
        for key in keys:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode="", mod=0, scancode=0))
        for _ in range(frames):
            app.tick()
            if getattr(screen, "session", None) is not None and screen.session.over:
                break
        path: Path = recorder.path
    finally:
        app.close()
    return path


@pytest.fixture
def recordings(workdir: Path) -> dict[str, Path]:
    import pygame

    player = _record("player", "chase", seed=7, frames=900)  # standing still: caught three times
    runner = _record("player", "chase", seed=8, frames=400, keys=(pygame.K_UP,))
    enemy = _record("enemy", "wander", seed=9, frames=500, keys=(pygame.K_LEFT,))
    cut = player.with_name("cut.aiprec")
    data = player.read_bytes()
    cut.write_bytes(data[: len(data) * 2 // 3])  # an interrupted game: no end marker, cut inside a block
    return {"player": player, "runner": runner, "enemy": enemy, "cut": cut}


def test_list_inspect_and_convert(aip: object, recordings: dict[str, Path], workdir: Path) -> None:
    from aip_ml.imitation import load_dataset

    run = aip  # the fixture is the runner
    listed = run("demos", "list", "--json")  # type: ignore[operator]
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)["recordings"]
    assert {Path(r["file"]).name for r in rows} >= {recordings["player"].name, "cut.aiprec"}
    assert {r["complete"] for r in rows} == {True, False}
    shown = run("demos", "inspect", str(recordings["player"]), "--json")  # type: ignore[operator]
    assert shown.exit_code == 0, shown.output
    replay = json.loads(shown.stdout)["replay"]
    assert replay["episodes"] >= 3 and replay["episodes_dropped"] == 0
    out = workdir / "me.npz"
    converted = run("demos", "convert", "--role", "player", "-o", str(out), "--json")  # type: ignore[operator]
    assert converted.exit_code == 0, converted.output
    summary = json.loads(converted.stdout)
    assert summary["recordings_refused"] == 1 and summary["episodes_dropped"] == 1
    refused = [r for r in summary["recordings"] if "refused" in r]
    assert refused[0]["refused"] == f"{recordings['enemy'].name}: a recording of the enemy role, not the player"
    dataset = load_dataset(out)
    assert dataset.layout == "player-v1" and dataset.checksum == summary["sha256"]
    assert dataset.episodes == summary["episodes"] >= 6
    again = run("demos", "convert", "--role", "player", "-o", str(out))  # type: ignore[operator]
    assert again.exit_code == 4 and "never overwritten" in again.output
    broken = workdir / "broken.aiprec"
    broken.write_bytes(b"not a recording at all")
    bad = run("demos", "convert", str(broken), "--role", "player", "-o", str(workdir / "x.npz"))  # type: ignore[operator]
    assert bad.exit_code == 4 and "broken.aiprec" in bad.output and "not an AIP recording" in bad.output


def test_train_on_converted_demonstrations(
    aip: object, recordings: dict[str, Path], workdir: Path, tiny: list[str]
) -> None:
    run = aip
    folder = workdir / "enemy-only"
    folder.mkdir()
    shutil.copy(recordings["enemy"], folder)
    out = workdir / "enemy.npz"
    converted = run("demos", "convert", str(folder), "--role", "enemy", "-o", str(out), "--json")  # type: ignore[operator]
    assert converted.exit_code == 0, converted.output
    sha = json.loads(converted.stdout)["sha256"]
    trained = run("train", "chase-v1", *tiny, f"demos={out}", "gail_weight=0.1", "--no-track", "--json")  # type: ignore[operator]
    assert trained.exit_code == 0, trained.output
    result = json.loads(trained.stdout)
    assert result["lineage"]["demos.sha256"] == sha
    assert "gail/accuracy" in result["final_metrics"]
    wrong = run("train", "intercept-v1", *tiny, f"demos={out}", "--no-track")  # type: ignore[operator]
    assert wrong.exit_code == 2 and "trains the missile in layout missile-v1" in wrong.output
