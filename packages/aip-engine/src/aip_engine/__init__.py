"""aip_engine: the Pixel Pursuit simulation for N worlds at once (rules: docs/rules.md).

The public surface is `__all__`; the API contract is docs/engine-api.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import Config
from ._deprecation import AIPDeprecationWarning
from ._errors import (
    ActionError,
    BackendError,
    ConfigError,
    EngineError,
    ResourceError,
    ShapeError,
    UnknownNameError,
)
from ._layouts import Field, RoleLayout, layout, role_layout, roles
from ._tasks import EVENTS, TaskSpec, bots, task_spec, tasks

if TYPE_CHECKING:
    from ._backends import BackendInfo, backends
    from ._policy import Policy, PolicyError, load_policy, save_policy
    from ._worlds import StepResult, Worlds

__all__ = [
    "API_VERSION",
    "EVENTS",
    "AIPDeprecationWarning",
    "ActionError",
    "BackendError",
    "BackendInfo",
    "Config",
    "ConfigError",
    "EngineError",
    "Field",
    "Policy",
    "PolicyError",
    "ResourceError",
    "RoleLayout",
    "ShapeError",
    "StepResult",
    "TaskSpec",
    "UnknownNameError",
    "Worlds",
    "__version__",
    "backends",
    "bots",
    "layout",
    "load_policy",
    "role_layout",
    "roles",
    "save_policy",
    "task_spec",
    "tasks",
]

#: Version of the API in docs/engine-api.md; bumped on any incompatible change.
API_VERSION = 1

__version__ = "0.1.0"

_LAZY = {
    "BackendInfo": "._backends",
    "backends": "._backends",
    "Worlds": "._worlds",
    "StepResult": "._worlds",
    "Policy": "._policy",
    "load_policy": "._policy",
    "save_policy": "._policy",
    "PolicyError": "._policy",
}


def __getattr__(name: str) -> Any:
    # The compiled core and the policy runtime load on first use, so the data modules
    # (names, layouts, tasks) stay importable even where the extension is not built.
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'aip_engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
