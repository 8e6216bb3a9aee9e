"""The public surface of each distribution is what its snapshot says, and changes only on purpose.

Each package's public names are the `__all__` of its top-level module and of each public submodule
(no component starting with ``_``). They are compared with ``tests/api_snapshots/<package>.txt``. A
name that appears or disappears fails this test until the snapshot is updated on purpose::

    pytest tests/test_public_api.py --update-snapshots      # or AIP_UPDATE_SNAPSHOTS=1

Removing or renaming a public name needs a deprecation first (docs/deprecation.md).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import os
import pkgutil
import types
from pathlib import Path

import pytest

SNAPSHOTS = Path(__file__).parent / "api_snapshots"
PACKAGES = {"aip_engine": "aip-engine", "aip_game": "aip-game", "aip_ml": "aip-ml", "aip_cli": "aip-cli"}
HEADER = (
    "# The public API of {module}: every name in the __all__ of its public modules, with its kind.\n"
    "# Changed on purpose only: pytest tests/test_public_api.py --update-snapshots (docs/deprecation.md).\n"
)


def import_package(module: str) -> types.ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as error:
        pytest.fail(
            f"{module} does not import ({error}); every distribution must be installed for the cross-package "
            f"tests: python3 tools/dev.py setup"
        )


def public_modules(package: types.ModuleType) -> list[types.ModuleType]:
    """The package and every submodule whose dotted name has no private component."""
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts):
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def kind(value: object) -> str:
    if inspect.isclass(value):
        return "class"
    if inspect.ismodule(value):
        return "module"
    if inspect.isroutine(value):
        return "function"
    return type(value).__name__


def api_lines(module_name: str) -> list[str]:
    lines = []
    for module in public_modules(import_package(module_name)):
        names = getattr(module, "__all__", None)
        if names is None:
            pytest.fail(f"{module.__name__} is public (no leading underscore) but has no __all__: declare one")
        assert len(set(names)) == len(names), f"{module.__name__}.__all__ lists a name twice"
        for name in names:
            private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
            assert not private, f"{module.__name__}.__all__ exports the private name {name!r}"
            assert hasattr(module, name), f"{module.__name__}.__all__ names {name!r}, which the module lacks"
            lines.append(f"{module.__name__}.{name}: {kind(getattr(module, name))}")
    return sorted(lines)


def updating(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-snapshots", default=False)) or os.environ.get(
        "AIP_UPDATE_SNAPSHOTS", ""
    ) not in ("", "0")


@pytest.mark.parametrize("module_name", sorted(PACKAGES))
def test_public_names_match_the_snapshot(module_name: str, request: pytest.FixtureRequest) -> None:
    current = api_lines(module_name)
    path = SNAPSHOTS / f"{PACKAGES[module_name]}.txt"
    if updating(request):
        tmp = path.with_suffix(".tmp")
        tmp.write_text(HEADER.format(module=module_name) + "".join(f"{line}\n" for line in current))
        tmp.replace(path)
        return
    if not path.is_file():
        pytest.fail(f"{path.name} does not exist: create it with pytest tests/test_public_api.py --update-snapshots")
    recorded = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    added = sorted(set(current) - set(recorded))
    removed = sorted(set(recorded) - set(current))
    if added or removed:
        report = [f"the public API of {module_name} changed:"]
        report += [f"  + {line}" for line in added]
        report += [f"  - {line}" for line in removed]
        report.append(
            "If this is deliberate, update the snapshot: pytest tests/test_public_api.py --update-snapshots. "
            "A removed or renamed name needs a deprecation shim first (docs/deprecation.md)."
        )
        pytest.fail("\n".join(report))


@pytest.mark.parametrize("module_name", sorted(PACKAGES))
def test_version_matches_the_installed_distribution(module_name: str) -> None:
    module = import_package(module_name)
    assert module.__version__ == importlib.metadata.version(PACKAGES[module_name])


@pytest.mark.parametrize("module_name", sorted(PACKAGES))
def test_package_is_typed(module_name: str) -> None:
    module = import_package(module_name)
    assert module.__file__ is not None
    assert (Path(module.__file__).parent / "py.typed").is_file(), f"{module_name} lacks py.typed"
