"""The engine's exception classes; every error the engine raises derives from `EngineError`."""

from __future__ import annotations

__all__ = [
    "ActionError",
    "BackendError",
    "ConfigError",
    "EngineError",
    "PolicyError",
    "ResourceError",
    "ShapeError",
    "UnknownNameError",
    "unknown_name_error",
]


def shown(value: object, limit: int = 120) -> str:
    """A short, safe ``repr`` of a value a caller passed, for an error message.

    Deeply nested, huge or self-referencing values and objects whose ``repr`` fails never turn an
    error about a bad argument into another error (a RecursionError, a megabyte-long message).

    Args:
        value: The value to show.
        limit: The longest text returned.

    Returns:
        The text.
    """
    import reprlib

    short = reprlib.Repr()
    short.maxlevel, short.maxstring, short.maxother, short.maxlong = 3, limit, limit, 40
    try:
        text = short.repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class EngineError(Exception):
    """Base class of every error raised by `aip_engine`."""


class ConfigError(EngineError, ValueError):
    """A configuration value is out of its allowed range; the message names field, value and range."""


class UnknownNameError(EngineError, KeyError):
    """An unknown task, role, bot, layout or config key; the message lists the valid names.

    `KeyError.__str__` would quote the message; this class prints it as written.
    """

    def __str__(self) -> str:
        if len(self.args) == 1 and isinstance(self.args[0], str):
            return self.args[0]
        return super().__str__()


class ShapeError(EngineError, ValueError):
    """An array has the wrong shape, dtype or memory layout; the message says expected and got."""


class ActionError(EngineError, ValueError):
    """An action is not finite (NaN or infinity); the message names the world index and the field."""


class BackendError(EngineError, RuntimeError):
    """The requested backend is not built into this installation or has no usable device."""


class PolicyError(EngineError, ValueError):
    """A policy file is unreadable, corrupt, of an unknown format version, or for another role."""


class ResourceError(EngineError, RuntimeError):
    """The operating system refused the memory or the threads a batch needs; the message says how much."""


def unknown_name_error(kind: str, name: object, valid: tuple[str, ...] | list[str]) -> UnknownNameError:
    """Build an `UnknownNameError` that lists the valid names and suggests the closest one.

    Args:
        kind: What was looked up, e.g. ``"task"`` or ``"config key"``.
        name: The name that was not found.
        valid: The names that exist.

    Returns:
        The error, ready to raise.
    """
    import difflib

    text = f"unknown {kind} {shown(name)}"
    close = difflib.get_close_matches(str(name), list(valid), n=1) if isinstance(name, str) else []
    if close:
        text += f"; did you mean {close[0]!r}?"
    text += f" Valid {kind}s: {', '.join(valid)}."
    return UnknownNameError(text)
