#!/usr/bin/env python3
"""Check the declared dependency floors: install the lowest versions the packages allow, run their tests.

Usage::

    python3 tools/floors.py                 # every group below
    python3 tools/floors.py engine-gymnasium ml-onnx
    python3 tools/floors.py --list

For each group, a fresh virtual environment gets the group's packages from their folders with
``uv pip install --resolution lowest-direct``: every dependency a package declares directly is
installed at the lowest version its range allows (the floor), the rest of the tree at the newest that
fits. The script then checks that each direct dependency really resolved to its declared floor (a floor
that does not exist, or cannot install with the others, shows up here), and runs the group's tests
there. The CI job ``floors`` (.github/workflows/ci.yml) runs every group. uv comes from PyPI
(``pip install uv``; tools/dev.py setup installs it in the project's environment).

Only the standard library is used, so this file runs with any Python 3.11+.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Group:
    """Packages installed together at their floors, and the tests that must pass there."""

    name: str
    packages: tuple[tuple[str, str], ...]  # (folder under packages/, extras)
    tests: tuple[str, ...]
    pytest_args: tuple[str, ...] = ()


GROUPS: tuple[Group, ...] = (
    # The Gymnasium and PettingZoo adapters on the lowest Gymnasium, PettingZoo and numpy declared.
    Group(
        "engine-gymnasium",
        (("aip-engine", "test,gymnasium"),),
        (
            "packages/aip-engine/tests/test_gym.py",
            "packages/aip-engine/tests/test_gym_conventions.py",
            "packages/aip-engine/tests/test_state_and_modes.py",
            "packages/aip-engine/tests/test_api.py",
            "packages/aip-engine/tests/test_policy.py",
        ),
    ),
    # The game on the lowest pygame and numpy declared.
    Group("game", (("aip-engine", ""), ("aip-game", "test")), ("packages/aip-game/tests",), ("-m", "not slow")),
    # Training, export and the ONNX extra on the lowest torch, MLflow, onnx and onnxruntime declared.
    Group(
        "ml-onnx",
        (("aip-engine", ""), ("aip-ml", "test,onnx")),
        (
            "packages/aip-ml/tests/test_onnx.py",
            "packages/aip-ml/tests/test_export.py",
            "packages/aip-ml/tests/test_ppo.py",
            "packages/aip-ml/tests/test_tracking.py",
        ),
        ("-m", "not slow"),
    ),
    # The command and the dashboard on the lowest typer, rich, Starlette, uvicorn and websockets declared.
    Group(
        "cli-dashboard",
        (("aip-engine", ""), ("aip-game", ""), ("aip-ml", "onnx"), ("aip-cli", "test,dashboard")),
        ("packages/aip-cli/tests/test_cli_help.py", "packages/aip-cli/tests/test_cli_errors.py"),
        ("-m", "not slow"),
    ),
)

_FLOOR = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([0-9][0-9A-Za-z.]*)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_floors(folder: str, extras: str) -> dict[str, str]:
    """The ``>=`` floors a package declares, in its dependencies and the named extras (siblings left out)."""
    project = tomllib.loads((ROOT / "packages" / folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in filter(None, extras.split(",")):
        if extra not in optional:
            raise SystemExit(f"packages/{folder} has no extra {extra!r} (it has {', '.join(optional)})")
        specs += optional[extra]
    floors = {}
    for spec in specs:
        match = _FLOOR.match(spec)
        if match is None:
            raise SystemExit(f"packages/{folder}: {spec!r} declares no floor (write NAME>=VERSION)")
        name = _normal(match.group(1))
        if not name.startswith("aip-"):
            floors[name] = match.group(2)
    return floors


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    probe = subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True, check=False)
    if probe.returncode == 0:
        return [sys.executable, "-m", "uv"]
    raise SystemExit("uv is needed: pip install uv (tools/dev.py setup installs it in .venv)")


def _same_version(got: str, floor: str) -> bool:
    def parts(v: str) -> list[int]:
        nums = [int(p) for p in re.findall(r"\d+", v.split("+")[0])]
        while nums and nums[-1] == 0:
            nums.pop()
        return nums

    return parts(got) == parts(floor)


def run_group(group: Group, work: Path, uv: list[str]) -> list[str]:
    """Install one group at its floors and run its tests; return what went wrong."""
    print(f"==> {group.name}: installing the lowest declared versions", flush=True)
    venv = work / group.name
    subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    specs = [f"./packages/{folder}" + (f"[{extras}]" if extras else "") for folder, extras in group.packages]
    install = [*uv, "pip", "install", "--python", str(python), "--resolution", "lowest-direct", *specs]
    if subprocess.run(install, cwd=ROOT, check=False).returncode != 0:
        return [f"{group.name}: the lowest declared versions do not install together (see above)"]
    frozen = subprocess.run(
        [*uv, "pip", "freeze", "--python", str(python)], capture_output=True, text=True, check=True
    ).stdout
    installed = {}
    for line in frozen.splitlines():
        if "==" in line:
            name, version = line.split("==", 1)
            installed[_normal(name)] = version.strip()
    problems = []
    for folder, extras in group.packages:
        for name, floor in sorted(declared_floors(folder, extras).items()):
            got = installed.get(name)
            note = "floor" if got is not None and _same_version(got, floor) else "NOT THE FLOOR"
            print(f"    {folder:<11} {name:<22} declared >={floor:<10} installed {got}  {note}", flush=True)
            if note != "floor":
                problems.append(f"{group.name}: {folder} declares {name}>={floor} but {got} was installed")
    print(f"==> {group.name}: running {' '.join(group.tests)}", flush=True)
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
    tests = [str(python), "-m", "pytest", "-c", "pyproject.toml", "-q", "-p", "no:cacheprovider"]
    if subprocess.run([*tests, *group.pytest_args, *group.tests], cwd=ROOT, env=env, check=False).returncode:
        problems.append(f"{group.name}: tests failed at the floors")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="*", help="groups to check (default: all)")
    parser.add_argument("--list", action="store_true", help="list the groups and their floors")
    parser.add_argument("--keep", type=Path, help="build the environments in this folder and keep them")
    args = parser.parse_args(argv)
    by_name = {g.name: g for g in GROUPS}
    if args.list:
        for g in GROUPS:
            floors = {k: v for folder, extras in g.packages for k, v in declared_floors(folder, extras).items()}
            print(f"{g.name}: " + ", ".join(f"{k}>={v}" for k, v in sorted(floors.items())))
        return 0
    unknown = [n for n in args.groups if n not in by_name]
    if unknown:
        parser.error(f"unknown group {', '.join(unknown)}; choose from {', '.join(by_name)}")
    chosen = [by_name[n] for n in args.groups] if args.groups else list(GROUPS)
    uv = _uv()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="aip-floors-") as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        for group in chosen:
            problems += run_group(group, work, uv)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    print(
        f"==> floors: {len(chosen) - len({p.split(':')[0] for p in problems})} of {len(chosen)} groups at their floors"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
