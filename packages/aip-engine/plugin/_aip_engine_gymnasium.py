"""Registers aip-engine's Gymnasium ids when Gymnasium is imported, with no import of aip_engine.

Gymnasium 1.x no longer loads the ``gymnasium.envs`` entry-point group that aip-engine declares
(0.26-0.29 did). This module, imported at interpreter start-up by ``aip-engine-gymnasium.pth``,
waits for the first ``import gymnasium`` and then calls that entry point, so that
``gymnasium.make("aip/Chase-v1")`` works in a fresh interpreter. It costs nothing until then: it
imports only the standard library and does not import aip_engine or gymnasium itself.
Set ``AIP_ENGINE_NO_GYMNASIUM_PLUGIN=1`` to turn it off (then ``import aip_engine.gym`` first).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # no typing import at start-up
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any

_GROUP = "gymnasium.envs"
_NAME = "aip"


def _register() -> None:
    # Errors must not break `import gymnasium` (an aip-engine that cannot load only loses its ids).
    try:
        from importlib.metadata import entry_points

        for ep in entry_points(group=_GROUP, name=_NAME):
            if ep.module.split(".")[0] == "aip_engine":
                ep.load()()
    except Exception:  # see above
        pass


class _GymnasiumFinder:
    """A meta-path finder that only wraps the loader of ``gymnasium`` to register afterwards."""

    def __init__(self) -> None:
        self._searching = False

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name != "gymnasium" or self._searching:
            return None
        from importlib.util import find_spec

        self._searching = True
        try:
            spec = find_spec(name)
        finally:
            self._searching = False
        loader = None if spec is None else spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_then_register(module: ModuleType) -> None:
            exec_module(module)
            _remove()
            _register()

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


def _remove() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _GymnasiumFinder)]


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once), unless Gymnasium is already imported."""
    if os.environ.get("AIP_ENGINE_NO_GYMNASIUM_PLUGIN"):
        return
    if "gymnasium" in sys.modules:
        _register()
        return
    if not any(isinstance(f, _GymnasiumFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _GymnasiumFinder())  # type: ignore[arg-type]


install()
