from __future__ import annotations

import json
from pathlib import Path

from aip_game._settings import Settings, SettingSpec


def test_defaults_cycle_and_persist(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(path)
    assert s.get("trails") is True
    assert s.cycle("trails") is False
    assert json.loads(path.read_text())["trails"] is False
    assert Settings(path).get("trails") is False


def test_corrupt_file_gives_defaults_and_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("[1, 2")
    s = Settings(path)
    assert s.problem and s.get("show_fps") is True


def test_registered_setting_rejects_a_stored_value_outside_its_choices(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"mod.level": 99}))
    s = Settings(path)
    s.register(SettingSpec("mod.level", "Level", (1, 2, 3), 2))
    assert s.get("mod.level") == 2


def test_sound_effects_are_synthesised_and_follow_the_setting(make_app) -> None:  # type: ignore[no-untyped-def]
    import pygame

    app = make_app()
    sounds = app.sounds
    if not sounds.sounds:
        import pytest

        pytest.skip("no audio device, not even SDL's dummy one")
    assert sorted(sounds.sounds) == ["catch", "fire", "hit", "level"]
    assert all(s.get_length() > 0.05 for s in sounds.sounds.values())
    pygame.mixer.stop()  # the mixer is global: an earlier test's app may still be playing
    sounds.enabled = False
    sounds.play("hit")
    assert not pygame.mixer.get_busy()
    sounds.enabled = True
    sounds.play("hit")
    assert pygame.mixer.get_busy()
