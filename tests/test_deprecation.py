"""The deprecation helpers every AIP package uses: warnings with fields, PEP 702 markers, moved names."""

from __future__ import annotations

import pickle
import sys
import types
import warnings
from typing import Any

import pytest

import aip_engine
from aip_engine import _deprecation
from aip_engine._deprecation import (
    AIPDeprecationWarning,
    EngineAPIMismatchError,
    deprecated,
    moved,
    require_engine_api,
)


@deprecated(since="0.2.0", removed_in="0.4.0", replacement="new_add")
def old_add(a: int, b: int) -> int:
    """Add two numbers (the old way)."""
    return a + b


@deprecated(since="0.3.0", removed_in="0.5.0")
class OldThing:
    """A class nobody should build any more."""

    def __init__(self, value: int) -> None:
        self.value = value


class Holder:
    @deprecated(since="1.1.0", removed_in="1.3.0", replacement="Holder.new_method")
    def old_method(self) -> str:
        return "old"


def test_warning_is_a_deprecation_warning_with_fields() -> None:
    assert issubclass(AIPDeprecationWarning, DeprecationWarning)
    with pytest.warns(AIPDeprecationWarning) as record:
        assert old_add(2, 3) == 5
    warning = record[0].message
    assert isinstance(warning, AIPDeprecationWarning)
    assert (warning.since, warning.removed_in, warning.replacement) == ("0.2.0", "0.4.0", "new_add")
    assert str(warning) == "old_add is deprecated since 0.2.0 and will be removed in 0.4.0; use new_add instead."


def test_warning_points_at_the_callers_line() -> None:
    with pytest.warns(AIPDeprecationWarning) as record:
        old_add(1, 1)
    assert record[0].filename == __file__


def test_decorated_function_keeps_its_name_doc_and_gets_the_pep702_marker() -> None:
    assert old_add.__name__ == "old_add"
    assert old_add.__doc__ == "Add two numbers (the old way)."
    assert old_add.__deprecated__ == (  # type: ignore[attr-defined]
        "old_add is deprecated since 0.2.0 and will be removed in 0.4.0; use new_add instead."
    )


def test_deprecated_class_warns_on_instantiation_and_still_works() -> None:
    with pytest.warns(AIPDeprecationWarning, match=r"OldThing is deprecated since 0\.3\.0.*removed in 0\.5\.0\.$"):
        thing = OldThing(7)
    assert isinstance(thing, OldThing)
    assert thing.value == 7
    assert "OldThing" in OldThing.__deprecated__  # type: ignore[attr-defined]


def test_subclass_of_a_deprecated_class_warns_too() -> None:
    class Child(OldThing):
        pass

    with pytest.warns(AIPDeprecationWarning):
        Child(1)


def test_deprecated_method_warns_and_returns() -> None:
    with pytest.warns(AIPDeprecationWarning, match="Holder.old_method"):
        assert Holder().old_method() == "old"


def test_warning_becomes_an_error_under_an_error_filter() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AIPDeprecationWarning):
            old_add(1, 2)


def test_undecorated_calls_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Holder.__name__ == "Holder"


def test_warning_survives_pickling_with_its_fields() -> None:
    warning = AIPDeprecationWarning("x is deprecated", since="1.0", removed_in="2.0", replacement="y")
    copy = pickle.loads(pickle.dumps(warning))
    assert (str(copy), copy.since, copy.removed_in, copy.replacement) == ("x is deprecated", "1.0", "2.0", "y")


@pytest.mark.parametrize(("since", "removed_in"), [("", "1.0"), ("1.0", "")])
def test_versions_are_required(since: str, removed_in: str) -> None:
    with pytest.raises(ValueError, match="since"):
        deprecated(since=since, removed_in=removed_in)
    with pytest.raises(ValueError, match="since"):
        moved({}, {}, since=since, removed_in=removed_in)


def test_deprecating_a_non_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="functions, methods and classes"):
        deprecated(since="1.0", removed_in="2.0")(42)


def test_marker_falls_back_to_the_attribute_without_warnings_or_typing_extensions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(warnings, "deprecated", raising=False)
    monkeypatch.setitem(sys.modules, "typing_extensions", None)

    def f() -> None:
        pass

    marked = _deprecation._mark_pep702(f, "f is old")
    assert marked is f
    assert f.__deprecated__ == "f is old"  # type: ignore[attr-defined]


# --- moved names ------------------------------------------------------------------------------------


@pytest.fixture
def old_module(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """A module `aip_test_old` whose `OldName` moved to `aip_test_new:NewName`."""
    new = types.ModuleType("aip_test_new")
    new.NewName = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "aip_test_new", new)
    old = types.ModuleType("aip_test_old")
    exec(
        "from aip_engine._deprecation import moved\n"
        "def __getattr__(name):\n"
        "    if name == 'dynamic':\n"
        "        return 'from the old hook'\n"
        "    raise AttributeError(name)\n"
        "__getattr__ = moved(globals(), {'OldName': 'aip_test_new:NewName'}, since='0.2.0', removed_in='0.3.0')\n",
        old.__dict__,
    )
    monkeypatch.setitem(sys.modules, "aip_test_old", old)
    return old


def test_moved_name_warns_and_returns_the_new_object(old_module: types.ModuleType) -> None:
    with pytest.warns(AIPDeprecationWarning) as record:
        value = old_module.OldName
    assert value is sys.modules["aip_test_new"].NewName
    warning: Any = record[0].message
    assert warning.replacement == "aip_test_new.NewName"
    assert str(warning) == (
        "aip_test_old.OldName is deprecated since 0.2.0 and will be removed in 0.3.0; use aip_test_new.NewName instead."
    )
    assert record[0].filename == __file__


def test_from_import_of_a_moved_name_works(old_module: types.ModuleType) -> None:
    with pytest.warns(AIPDeprecationWarning):
        from aip_test_old import OldName  # type: ignore[import-not-found]
    assert OldName is sys.modules["aip_test_new"].NewName


def test_other_names_reach_the_modules_previous_getattr(old_module: types.ModuleType) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert old_module.dynamic == "from the old hook"
        with pytest.raises(AttributeError):
            _ = old_module.missing


def test_unknown_name_without_previous_getattr_says_which_module() -> None:
    getattr_ = moved({"__name__": "pkg.mod"}, {"A": "pkg.new:A"}, since="1.0", removed_in="2.0")
    with pytest.raises(AttributeError, match=r"module 'pkg\.mod' has no attribute 'B'"):
        getattr_("B")


def test_moved_rejects_a_location_without_colon() -> None:
    with pytest.raises(ValueError, match=r"package\.module:name"):
        moved({}, {"A": "pkg.new.A"}, since="1.0", removed_in="2.0")


# --- engine API version -----------------------------------------------------------------------------


def test_engine_exposes_an_integer_api_version() -> None:
    assert isinstance(aip_engine.API_VERSION, int)
    assert aip_engine.API_VERSION >= 1


def test_require_engine_api_accepts_the_installed_version() -> None:
    require_engine_api(aip_engine.API_VERSION, "aip-test")


@pytest.mark.parametrize("offset", [-1, 1])
def test_require_engine_api_rejects_another_version_with_advice(monkeypatch: pytest.MonkeyPatch, offset: int) -> None:
    expected = aip_engine.API_VERSION
    monkeypatch.setattr(aip_engine, "API_VERSION", expected + offset)
    with pytest.raises(EngineAPIMismatchError) as info:
        require_engine_api(expected, "aip-test")
    message = str(info.value)
    assert isinstance(info.value, ImportError)
    assert f"aip-test needs the aip-engine API version {expected}" in message
    assert f"provides API version {expected + offset}" in message
    assert "pip install --upgrade" in message
