"""The mod API (version 1) is a stable public interface: this test pins its surface.

A change that breaks this test breaks mods: keep the old names working (deprecation policy) or raise
MOD_API_VERSION, and update docs/mods.md with it.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from aip_game import mods


def test_version() -> None:
    assert mods.MOD_API_VERSION == 1


def test_public_names() -> None:
    assert sorted(mods.__all__) == sorted(
        [
            "MOD_API_VERSION",
            "EVENT_TYPES",
            "GameEvent",
            "GameStartEvent",
            "GameEndEvent",
            "FrameEvent",
            "FireEvent",
            "HitEvent",
            "CatchEvent",
            "RespawnEvent",
            "LifeLostEvent",
            "LevelUpEvent",
            "GameView",
            "Controller",
            "Mod",
            "ModContext",
        ]
    )
    for name in mods.__all__:
        assert hasattr(mods, name)


EVENT_FIELDS = {
    "GameEvent": ["frame"],
    "GameStartEvent": ["frame", "side", "opponent", "seed"],
    "GameEndEvent": ["frame", "score", "reason"],
    "FrameEvent": ["frame", "score", "lives", "level"],
    "FireEvent": ["frame", "position"],
    "HitEvent": ["frame", "position"],
    "CatchEvent": ["frame", "position"],
    "RespawnEvent": ["frame", "position"],
    "LifeLostEvent": ["frame", "lives"],
    "LevelUpEvent": ["frame", "level", "enemy_speed_scale"],
}


@pytest.mark.parametrize("name", sorted(EVENT_FIELDS))
def test_event_fields_and_immutability(name: str) -> None:
    cls = getattr(mods, name)
    assert issubclass(cls, mods.GameEvent)
    assert [f.name for f in dataclasses.fields(cls)] == EVENT_FIELDS[name]
    event = cls(*range(len(EVENT_FIELDS[name])))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.frame = 1


def test_event_types_lists_every_concrete_event() -> None:
    assert [t.__name__ for t in mods.EVENT_TYPES] == [n for n in EVENT_FIELDS if n != "GameEvent"]


CONTEXT_METHODS = {
    "subscribe": "(self, event_type: 'type[E]', handler: 'Callable[[E], None]') -> 'None'",
    "add_opponent": "(self, label: 'str', role: 'str', factory: 'Callable[[], Controller]') -> 'None'",
    "add_overlay": "(self, draw: 'Overlay') -> 'None'",
    "add_setting": (
        "(self, key: 'str', label: 'str', choices: 'Sequence[Any]', default: 'Any', help: 'str' = '') -> 'None'"
    ),
    "setting": "(self, key: 'str') -> 'Any'",
    "set_config": "(self, **fields: 'Any') -> 'None'",
    "set_param": "(self, name: 'str', value: 'float') -> 'None'",
}


@pytest.mark.parametrize("name", sorted(CONTEXT_METHODS))
def test_context_methods(name: str) -> None:
    assert str(inspect.signature(getattr(mods.ModContext, name))) == CONTEXT_METHODS[name]


def test_context_attributes() -> None:
    ctx = mods.ModContext("m", lambda key: None)
    assert ctx.game is None and ctx.mod_name == "m" and ctx.log.name == "aip_game.mods.m"


def test_mod_base_class() -> None:
    assert {k: getattr(mods.Mod, k) for k in ("name", "version", "api_version", "description")} == {
        "name": "",
        "version": "0",
        "api_version": -1,
        "description": "",
    }
    assert str(inspect.signature(mods.Mod.setup)) == "(self, ctx: 'ModContext') -> 'None'"


def test_game_view_and_controller_protocols() -> None:
    view_members = {
        "frame",
        "score",
        "lives",
        "level",
        "side",
        "opponent",
        "state",
        "param",
        "set_param",
        "add_score",
        "to_screen",
    }
    assert view_members <= set(dir(mods.GameView)) | set(mods.GameView.__annotations__)
    assert str(inspect.signature(mods.GameView.add_score)) == "(self, points: 'int', reason: 'str' = '') -> 'None'"
    assert "act" in dir(mods.Controller)


def test_context_rejects_misuse() -> None:
    ctx = mods.ModContext("m", lambda key: None)
    with pytest.raises(TypeError, match="GameEvent class"):
        ctx.subscribe(int, print)  # type: ignore[type-var]
    with pytest.raises(ValueError, match="'enemy' or 'player'"):
        ctx.add_opponent("x", "missile", object)  # type: ignore[arg-type]


def test_the_running_game_is_a_game_view(make_app, ui) -> None:  # type: ignore[no-untyped-def]
    app = make_app(opponent="chase")
    session = app.screen.session
    assert isinstance(session, mods.GameView)
