"""Deprecation helpers shared by the four AIP distributions, and the engine API version check.

A public name that moves or changes keeps working for at least one minor release through a shim that
warns with `AIPDeprecationWarning`, naming the version that deprecated it, its replacement and the
version that will remove it (policy: ``docs/deprecation.md``).

This module is pure Python and imports nothing outside the standard library at import time, so
``aip_game``, ``aip_ml`` and ``aip_cli`` can use it without pulling anything else in::

    from aip_engine._deprecation import deprecated, moved, require_engine_api

    require_engine_api(1, "aip-game")          # at the top of aip_game/__init__.py

    @deprecated(since="0.2.0", removed_in="0.4.0", replacement="aip_game.run")
    def play() -> None: ...

    __getattr__ = moved(globals(), {"OldName": "aip_game._new:NewName"},
                        since="0.2.0", removed_in="0.4.0")
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

__all__ = [
    "AIPDeprecationWarning",
    "EngineAPIMismatchError",
    "deprecated",
    "moved",
    "require_engine_api",
]

_T = TypeVar("_T")


class AIPDeprecationWarning(DeprecationWarning):
    """A public AIP name is deprecated: it still works, and will be removed in `removed_in`.

    Attributes:
        since: The version that deprecated the name, e.g. ``"0.2.0"``.
        replacement: What to use instead (a dotted name or a sentence), or ``None`` when nothing replaces it.
        removed_in: The first version without the name, e.g. ``"0.4.0"``.
    """

    def __init__(
        self,
        message: str,
        *,
        since: str,
        removed_in: str,
        replacement: str | None = None,
    ) -> None:
        super().__init__(message)
        self.since = since
        self.replacement = replacement
        self.removed_in = removed_in

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only fields would be lost by the default pickling of exceptions (multiprocessing).
        return (_rebuild_warning, (str(self), self.since, self.removed_in, self.replacement))


def _rebuild_warning(message: str, since: str, removed_in: str, replacement: str | None) -> AIPDeprecationWarning:
    return AIPDeprecationWarning(message, since=since, removed_in=removed_in, replacement=replacement)


def _message(what: str, since: str, removed_in: str, replacement: str | None) -> str:
    text = f"{what} is deprecated since {since} and will be removed in {removed_in}"
    if replacement:
        return f"{text}; use {replacement} instead."
    return f"{text}."


def _check_versions(since: str, removed_in: str) -> None:
    if not since or not removed_in:
        raise ValueError(
            "a deprecation needs both `since` and `removed_in` versions, e.g. since='0.2.0', removed_in='0.4.0'"
        )


def _mark_pep702(obj: _T, message: str) -> _T:
    """Attach the PEP 702 marker (``__deprecated__``) so that tools that read it see the deprecation.

    `warnings.deprecated` (Python 3.13+) or `typing_extensions.deprecated` is used when available, with
    ``category=None`` so that they only mark: the warning itself is ours, raised with its fields.
    """
    marker: Any = getattr(warnings, "deprecated", None)
    if marker is None:
        try:
            from typing_extensions import deprecated as marker
        except ImportError:  # not a dependency of aip-engine: fall back to setting the attribute
            marker = None
    if marker is not None:
        return cast(_T, marker(message, category=None)(obj))
    with contextlib.suppress(AttributeError, TypeError):  # objects that take no attributes: nothing to mark
        obj.__deprecated__ = message  # type: ignore[attr-defined]
    return obj


def deprecated(
    *,
    since: str,
    removed_in: str,
    replacement: str | None = None,
) -> Callable[[_T], _T]:
    """Mark a function, method or class as deprecated.

    Calling the function (or instantiating the class) warns with `AIPDeprecationWarning`, pointing at
    the caller's line. The object also gets the PEP 702 ``__deprecated__`` marker.

    Args:
        since: The version that deprecates it.
        removed_in: The first version that will not have it.
        replacement: What to use instead, e.g. ``"aip_ml.train"``; ``None`` if nothing replaces it.

    Returns:
        A decorator.

    Raises:
        ValueError: If a version is empty.
        TypeError: If the decorated object is neither a class nor a callable.
    """
    _check_versions(since, removed_in)

    def decorate(obj: _T) -> _T:
        name = getattr(obj, "__qualname__", None) or repr(obj)
        message = _message(name, since, removed_in, replacement)

        def warn() -> None:
            warnings.warn(
                AIPDeprecationWarning(message, since=since, removed_in=removed_in, replacement=replacement),
                stacklevel=3,
            )

        if isinstance(obj, type):
            cls: type[Any] = obj
            original_init: Callable[..., None] = cls.__init__

            @functools.wraps(original_init)
            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                warn()  # subclasses warn too: they still build on the deprecated class
                original_init(self, *args, **kwargs)

            cls.__init__ = __init__
            return _mark_pep702(cast(_T, cls), message)

        if not callable(obj):
            raise TypeError(f"@deprecated applies to functions, methods and classes, not to {type(obj).__name__}")
        function = cast(Callable[..., Any], obj)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            warn()
            return function(*args, **kwargs)

        return _mark_pep702(cast(_T, wrapper), message)

    return decorate


def moved(
    module_globals: dict[str, Any],
    names: Mapping[str, str],
    *,
    since: str,
    removed_in: str,
) -> Callable[[str], Any]:
    """Build a module-level ``__getattr__`` that keeps moved names importable, with a warning.

    Put ``__getattr__ = moved(globals(), {...}, since=..., removed_in=...)`` at the end of the module
    the names moved away from. An access to an old name (``module.Old`` or ``from module import Old``)
    warns with `AIPDeprecationWarning` and returns the object from its new place. A ``__getattr__``
    the module already defined is still consulted for every other name.

    Args:
        module_globals: The old module's ``globals()``.
        names: Old name -> new location as ``"package.module:name"``.
        since: The version that moved the names.
        removed_in: The first version without the old names.

    Returns:
        The function to assign to the module's ``__getattr__``.

    Raises:
        ValueError: If a location is not of the form ``"module:name"`` or a version is empty.
    """
    _check_versions(since, removed_in)
    module_name = str(module_globals.get("__name__", "<module>"))
    targets: dict[str, tuple[str, str]] = {}
    for old, location in names.items():
        target_module, sep, target_name = location.partition(":")
        if not sep or not target_module or not target_name:
            raise ValueError(f"moved name {old!r}: the new location must read 'package.module:name', got {location!r}")
        targets[old] = (target_module, target_name)
    previous = module_globals.get("__getattr__")

    def __getattr__(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            if previous is not None:
                return previous(name)
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        target_module, target_name = target
        replacement = f"{target_module}.{target_name}"
        message = _message(f"{module_name}.{name}", since, removed_in, replacement)
        warnings.warn(
            AIPDeprecationWarning(message, since=since, removed_in=removed_in, replacement=replacement),
            stacklevel=2,
        )
        return getattr(importlib.import_module(target_module), target_name)

    return __getattr__


class EngineAPIMismatchError(ImportError):
    """The installed aip-engine provides an API version that a dependent package was not written for."""


def require_engine_api(expected: int, package: str) -> None:
    """Check, at a dependent's import, that the installed engine has the API version it was written for.

    Call it at the top of a dependent package's ``__init__.py``, e.g.
    ``require_engine_api(1, "aip-game")``.

    Args:
        expected: The value of ``aip_engine.API_VERSION`` the package needs.
        package: The distribution name of the caller, used in the message.

    Raises:
        EngineAPIMismatchError: If ``aip_engine.API_VERSION`` differs, with what to install.
    """
    engine = sys.modules.get("aip_engine") or importlib.import_module("aip_engine")
    actual = getattr(engine, "API_VERSION", None)
    if actual == expected:
        return
    engine_version = getattr(engine, "__version__", "unknown")
    if isinstance(actual, int) and actual > expected:
        advice = f"upgrade {package} (`pip install --upgrade {package}`) or install an older aip-engine"
    else:
        advice = f"upgrade aip-engine (`pip install --upgrade aip-engine`) to a version {package} supports"
    raise EngineAPIMismatchError(
        f"{package} needs the aip-engine API version {expected}, but the installed aip-engine "
        f"{engine_version} provides API version {actual}: {advice}. "
        f"`pip install {package}` in a fresh environment picks matching versions."
    )
