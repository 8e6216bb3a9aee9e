"""Where ``aip`` writes: rich for people (stdout), plain JSON for scripts, errors on stderr."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from typing import Any

from rich.console import Console

__all__ = ["console", "emit_json", "error_console", "fmt_score", "jsonable"]

console = Console(highlight=False, soft_wrap=True)
error_console = Console(stderr=True, highlight=False, soft_wrap=True)


def jsonable(value: Any) -> Any:
    """Turn numpy scalars, paths, dataclass-likes and non-finite floats into JSON-ready values.

    Args:
        value: Any value.

    Returns:
        A value ``json.dumps`` accepts (non-finite floats become ``None``).
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict())
    if hasattr(value, "item"):
        try:
            return jsonable(value.item())
        except (TypeError, ValueError):
            pass
    return str(value)


def emit_json(payload: Any) -> None:
    """Write one JSON document to stdout (no colours, no wrapping).

    Args:
        payload: The data.
    """
    sys.stdout.write(json.dumps(jsonable(payload), indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def fmt_score(scores: dict[str, float], key: str, percent: bool = False, digits: int = 2) -> str:
    """A score for a table cell, or ``-`` when absent.

    Args:
        scores: Name to value.
        key: The score.
        percent: Format as a percentage.
        digits: Decimals of a plain number.

    Returns:
        The text.
    """
    if key not in scores or not math.isfinite(scores[key]):
        return "-"
    return f"{scores[key]:.1%}" if percent else f"{scores[key]:.{digits}f}"
