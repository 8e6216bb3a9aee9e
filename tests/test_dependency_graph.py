"""The dependency graph of the four distributions: arrows only point down.

    aip-cli ──► aip-ml ──► aip-engine
       └──────► aip-game ─────┘

aip_engine imports none of the others (and neither torch, mlflow nor pygame); aip_game never imports
aip_ml or torch; each dependent declares its siblings as version ranges and checks the engine's API
version at import.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SIBLINGS = {"aip_engine", "aip_game", "aip_ml", "aip_cli"}
ALLOWED = {
    "aip_engine": set(),
    "aip_game": {"aip_engine"},
    "aip_ml": {"aip_engine"},
    "aip_cli": {"aip_engine", "aip_game", "aip_ml"},
}
FORBIDDEN_THIRD_PARTY = {
    "aip_engine": {"torch", "mlflow", "pygame"},
    "aip_game": {"torch", "mlflow"},
    "aip_ml": {"pygame"},
    "aip_cli": set(),
}


def source_dir(module: str) -> Path:
    return ROOT / "packages" / module.replace("_", "-") / "src" / module


def imported_roots(path: Path) -> set[str]:
    """Top-level names of every module that `path` imports, wherever the import statement is."""
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env_code = (
        "import os\n"
        "os.environ.setdefault('SDL_VIDEODRIVER', 'dummy')\n"
        "os.environ.setdefault('SDL_AUDIODRIVER', 'dummy')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", env_code + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_sources_import_only_allowed_siblings(module: str) -> None:
    folder = source_dir(module)
    assert folder.is_dir(), f"{folder.relative_to(ROOT)} is missing"
    offences = []
    for path in sorted(folder.rglob("*.py")):
        roots = imported_roots(path)
        bad = (roots & SIBLINGS) - ALLOWED[module] - {module}
        bad |= roots & FORBIDDEN_THIRD_PARTY[module]
        offences += [f"{path.relative_to(ROOT)} imports {name}" for name in sorted(bad)]
    assert not offences, f"{module} breaks the dependency graph:\n" + "\n".join(offences)


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_imported_siblings_are_declared_as_version_ranges(module: str) -> None:
    from packaging.requirements import Requirement

    pyproject = source_dir(module).parent.parent / "pyproject.toml"
    with pyproject.open("rb") as f:
        declared = {
            Requirement(line).name.replace("-", "_"): Requirement(line)
            for line in tomllib.load(f)["project"].get("dependencies", [])
        }
    used = set()
    for path in source_dir(module).rglob("*.py"):
        used |= (imported_roots(path) & SIBLINGS) - {module}
    missing = used - set(declared)
    assert not missing, f"{pyproject.relative_to(ROOT)} does not declare {sorted(missing)}, which {module} imports"
    for name in (set(declared) & SIBLINGS) - {module}:
        requirement = declared[name]
        operators = {spec.operator for spec in requirement.specifier}
        assert requirement.url is None, f"{requirement} must be a version range, not a URL or path"
        assert operators & {">=", "~="} and operators & {"<", "~="}, (
            f"{pyproject.relative_to(ROOT)}: {requirement} must be a range with both bounds, e.g. >=0.1,<0.2"
        )


def test_importing_the_engine_loads_no_sibling_and_no_heavy_library() -> None:
    result = run_python(
        """
        import json, sys, pkgutil, importlib
        import aip_engine, aip_engine.reference
        print(json.dumps(sorted(m for m in sys.modules if "." not in m)))
        """
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    unexpected = loaded & ({"aip_game", "aip_ml", "aip_cli", "torch", "mlflow", "pygame", "gymnasium"})
    assert not unexpected, f"import aip_engine loaded {sorted(unexpected)}"


def test_the_game_never_loads_torch_or_aip_ml() -> None:
    # Every module of aip_game, private ones included (not __main__, which starts the game).
    result = run_python(
        """
        import json, sys, pkgutil, importlib
        import aip_game
        for info in pkgutil.walk_packages(aip_game.__path__, prefix="aip_game."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
        print(json.dumps(sorted(m for m in sys.modules if "." not in m)))
        """
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.splitlines()[-1]))
    unexpected = loaded & {"torch", "mlflow", "aip_ml", "aip_cli"}
    assert not unexpected, f"importing aip_game loaded {sorted(unexpected)}"


@pytest.mark.parametrize(
    ("module", "distribution"), [("aip_game", "aip-game"), ("aip_ml", "aip-ml"), ("aip_cli", "aip-cli")]
)
def test_dependents_check_the_engine_api_version_at_import(module: str, distribution: str) -> None:
    result = run_python(
        f"""
        import aip_engine
        aip_engine.API_VERSION = aip_engine.API_VERSION + 100
        try:
            import {module}
        except ImportError as error:
            print("REFUSED:", error)
        else:
            print("IMPORTED")
        """
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip().splitlines()[-1]
    assert out.startswith("REFUSED:"), (
        f"{module} imported against an engine with another API version; call "
        f"aip_engine._deprecation.require_engine_api(<version>, {distribution!r}) at the top of its __init__.py"
    )
    assert distribution in out, f"the message should name {distribution}: {out}"
    assert "API version" in out
