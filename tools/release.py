#!/usr/bin/env python3
"""Build, check and smoke-test the release artifacts of the four AIP distributions; collect changelogs.

Usage (with the project's environment, ``.venv/bin/python``)::

    python tools/release.py build [--package NAME|all] [--out dist/] [--smoke|--no-smoke] [--no-isolation]
    python tools/release.py check [--package NAME|all] [--out dist/]      # metadata checks of built wheels
    python tools/release.py smoke [--package NAME|all] [--out dist/]      # install alone + smoke test
    python tools/release.py changelog --package NAME --version X.Y.Z [--draft]
    python tools/release.py tag TAG                                       # e.g. aip-engine-v0.1.0

``build`` runs ``python -m build`` (sdist, then the wheel from the sdist) for each package in release
order, checks every wheel's metadata (name, version, requires-python, sibling dependencies declared as
version ranges, never paths or URLs) and, unless ``--no-smoke``, installs each wheel alone in a fresh
virtual environment, with only its declared dependencies and its siblings from the freshly built
wheels, and runs a smoke test there. See RELEASE.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.parser
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints-dev.txt"
# Release order: a package comes after every sibling it depends on.
ORDER = ("aip-engine", "aip-game", "aip-ml", "aip-cli")
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
TAG_RE = re.compile(r"^(?P<package>aip-(?:engine|game|ml|cli))-v(?P<version>\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)$")
# Files that must never ship in an sdist or a wheel.
JUNK_RE = re.compile(r"(^|/)(__pycache__|\.mypy_cache|\.pytest_cache|\.ruff_cache|\.venv|build/|mlruns)(/|$)|\.pyc$")
FRAGMENT_TYPES = {
    "added": "Added",
    "changed": "Changed",
    "deprecated": "Deprecated",
    "removed": "Removed",
    "fixed": "Fixed",
    "security": "Security",
}

# The smoke test of each package, run with the fresh environment's Python in an empty folder.
SMOKE: dict[str, str] = {
    "aip-engine": """
        import importlib.metadata as md
        import numpy as np
        import aip_engine as ae

        worlds = ae.Worlds("chase-v1", 8, seed=1)
        obs = worlds.reset()
        layout = ae.role_layout("enemy")
        assert obs.shape == (8, layout.obs_size), obs.shape
        actions = np.zeros((8, layout.act_size), np.float32)
        for _ in range(120):
            result = worlds.step(actions)
        assert result.obs.shape == (8, layout.obs_size)
        assert np.isfinite(result.obs).all()
        installed = {d.metadata["Name"].lower() for d in md.distributions()}
        extra = installed - {"aip-engine", "numpy", "pip", "setuptools"}
        assert not extra, f"aip-engine pulled in more than numpy: {sorted(extra)}"
        print("aip-engine", ae.__version__, "API", ae.API_VERSION, "stepped chase-v1")
    """,
    "aip-game": """
        import importlib.util, os, subprocess, sys
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        import aip_game
        for absent in ("torch", "mlflow", "aip_ml"):
            assert importlib.util.find_spec(absent) is None, f"{absent} is installed with aip-game alone"
        os.environ["AIP_GAME_HOME"] = os.path.abspath("game-home")  # high scores, settings: not the user's
        args = ["--headless", "--opponent", "chase", "--side", "watch", "--frames", "120", "--fps", "0"]
        code = subprocess.call([sys.executable, "-m", "aip_game", *args])
        assert code == 0, f"the headless game exited with {code}"
        assert "torch" not in sys.modules
        print("aip-game", aip_game.__version__, "ran 120 headless frames without torch")
    """,
    "aip-ml": """
        import tempfile
        from pathlib import Path
        import aip_ml

        config = aip_ml.load_config(
            "chase-v1",
            overrides=["num_worlds=8", "rollout_steps=32", "minibatch_size=64", "total_steps=512", "eval_episodes=0"],
        )
        with tempfile.TemporaryDirectory() as tmp:
            result = aip_ml.train(config, run_dir=Path(tmp) / "run")
            assert result.policy_path is not None and result.policy_path.is_file()
        print("aip-ml", aip_ml.__version__, "trained", result.global_step, "steps")
    """,
    "aip-cli": """
        import shutil, subprocess, sys
        from pathlib import Path
        aip = shutil.which("aip") or str(Path(sys.executable).with_name("aip"))
        for args in (["--help"], ["doctor"]):
            out = subprocess.run([aip, *args], capture_output=True, text=True)
            print(out.stdout[-2000:])
            assert out.returncode == 0, f"aip {' '.join(args)} exited with {out.returncode}: {out.stderr[-2000:]}"
        print("aip --help and aip doctor passed")
    """,
}


class ReleaseError(Exception):
    """A release step failed; the message says which and what to do."""


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(cmd: Sequence[str | Path], *, cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
    args = [str(c) for c in cmd]
    sys.stdout.flush()
    code = subprocess.call(args, cwd=cwd, env=env)
    if code != 0:
        raise ReleaseError(f"`{' '.join(args)}` failed with exit code {code}")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project_table(package: str) -> dict[str, object]:
    path = ROOT / "packages" / package / "pyproject.toml"
    if not path.is_file():
        raise ReleaseError(f"{path.relative_to(ROOT)} does not exist: is {package!r} a package of this repository?")
    with path.open("rb") as f:
        table = tomllib.load(f).get("project", {})
    if not isinstance(table, dict):
        raise ReleaseError(f"{path}: [project] is not a table")
    return table


def source_version(package: str) -> str | None:
    """The version in the package's pyproject.toml, or None when it is dynamic."""
    version = project_table(package).get("version")
    return version if isinstance(version, str) else None


def selected(package: str) -> list[str]:
    if package == "all":
        return list(ORDER)
    if package not in ORDER:
        raise ReleaseError(f"unknown package {package!r}; choose one of {', '.join(ORDER)} or all")
    return [package]


# --- building -------------------------------------------------------------------------------------


def build(packages: Sequence[str], out: Path, *, isolation: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for package in packages:
        for old in artifacts(out, package):
            say(f"Removing the earlier build {old.name}")
            old.unlink()
        start = time.monotonic()
        say(f"Building the sdist and wheel of {package} into {out}")
        cmd: list[str | Path] = [sys.executable, "-m", "build", "--outdir", out]
        if not isolation:
            cmd.append("--no-isolation")
        cmd.append(ROOT / "packages" / package)
        env = dict(os.environ)
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", "2")
        if isolation:
            env.setdefault("PIP_CONSTRAINT", str(CONSTRAINTS))
        run(cmd, env=env)
        say(f"Built {package} ({time.monotonic() - start:.0f} s)")


def artifacts(out: Path, package: str) -> list[Path]:
    stem = package.replace("-", "_")
    return sorted([*out.glob(f"{stem}-*.whl"), *out.glob(f"{stem}-*.tar.gz")])


def wheel_of(out: Path, package: str) -> Path:
    wheels = [p for p in artifacts(out, package) if p.suffix == ".whl"]
    if len(wheels) != 1:
        found = ", ".join(p.name for p in wheels) or "none"
        raise ReleaseError(
            f"expected one wheel of {package} in {out}, found {found}: run `python tools/release.py build`"
        )
    return wheels[0]


# --- metadata checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WheelMeta:
    """What the checks read from a wheel's METADATA."""

    name: str
    version: str
    requires_python: str
    requires_dist: tuple[str, ...]
    files: tuple[str, ...]


def read_wheel(path: Path) -> WheelMeta:
    with zipfile.ZipFile(path) as archive:
        files = tuple(archive.namelist())
        metadata_files = [f for f in files if f.endswith(".dist-info/METADATA")]
        if len(metadata_files) != 1:
            raise ReleaseError(f"{path.name}: expected one .dist-info/METADATA, found {len(metadata_files)}")
        text = archive.read(metadata_files[0]).decode()
    message = email.parser.Parser().parsestr(text)
    return WheelMeta(
        name=message.get("Name", ""),
        version=message.get("Version", ""),
        requires_python=message.get("Requires-Python", ""),
        requires_dist=tuple(message.get_all("Requires-Dist") or ()),
        files=files,
    )


def check_wheel(package: str, path: Path, versions: dict[str, str]) -> list[str]:
    """Return the problems found in the wheel of `package` (empty when it is fit to publish)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet

    meta = read_wheel(path)
    problems = []
    if normalize(meta.name) != package:
        problems.append(f"Name is {meta.name!r}, expected {package!r}")
    expected = source_version(package)
    if not meta.version:
        problems.append("Version is missing")
    elif expected is not None and meta.version != expected:
        problems.append(f"Version {meta.version} differs from pyproject.toml's {expected}")
    if not meta.requires_python:
        problems.append("Requires-Python is missing (the project supports Python 3.11+)")
    else:
        spec = SpecifierSet(meta.requires_python)
        unsupported = [v for v in SUPPORTED_PYTHONS if v not in spec]
        if unsupported:
            problems.append(f"Requires-Python {meta.requires_python!r} excludes {', '.join(unsupported)}")
    for line in meta.requires_dist:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as error:
            problems.append(f"Requires-Dist {line!r} does not parse: {error}")
            continue
        if requirement.url:
            problems.append(f"Requires-Dist {line!r} points at a URL or path; declare a version range instead")
            continue
        name = normalize(requirement.name)
        if name not in ORDER:
            continue
        operators = {s.operator for s in requirement.specifier}
        has_lower = bool(operators & {">=", ">", "~=", "=="})
        has_upper = bool(operators & {"<", "<=", "~=", "=="})
        if not (has_lower and has_upper) or "==" in operators:
            problems.append(
                f"sibling requirement {line!r} must be a version range with both bounds, e.g. '{name}>=0.1,<0.2'"
            )
        sibling_version = versions.get(name)
        if sibling_version and not requirement.specifier.contains(sibling_version, prereleases=True):
            problems.append(f"sibling requirement {line!r} excludes the {name} {sibling_version} being released")
    if package == "aip-game":
        forbidden = {"torch", "mlflow", "aip-ml", "aip-cli"}
        for line in meta.requires_dist:
            requirement = Requirement(line)
            if normalize(requirement.name) in forbidden and requirement.marker is None:
                problems.append(f"aip-game must run without torch and mlflow, but requires {line!r}")
    junk = [f for f in meta.files if JUNK_RE.search(f)]
    if junk:
        problems.append(f"the wheel contains files that must not ship: {', '.join(junk[:5])}")
    module = package.replace("-", "_")
    if f"{module}/py.typed" not in meta.files:
        problems.append(f"{module}/py.typed is missing: the package's type hints would not be used")
    if package == "aip-engine" and not any(re.match(r"aip_engine/_core\.[^/]*(so|pyd)$", f) for f in meta.files):
        problems.append("the compiled module aip_engine/_core is missing from the wheel")
    return problems


def check_sdist(path: Path) -> list[str]:
    import tarfile

    with tarfile.open(path) as archive:
        names = archive.getnames()
    problems = []
    if not any(n.endswith("/PKG-INFO") and n.count("/") == 1 for n in names):
        problems.append(f"{path.name}: PKG-INFO missing at the top level")
    junk = [n for n in names if JUNK_RE.search(n) or n.endswith((".so", ".pyd"))]
    if junk:
        problems.append(f"{path.name} contains files that must not ship: {', '.join(junk[:5])}")
    return problems


def check(packages: Sequence[str], out: Path) -> None:
    versions = {}
    for package in ORDER:
        wheels = [p for p in artifacts(out, package) if p.suffix == ".whl"]
        if len(wheels) == 1:
            versions[package] = read_wheel(wheels[0]).version
        elif (ROOT / "packages" / package / "pyproject.toml").is_file() and (version := source_version(package)):
            versions[package] = version
    failures = []
    for package in packages:
        wheel = wheel_of(out, package)
        problems = check_wheel(package, wheel, versions)
        for sdist in (p for p in artifacts(out, package) if p.name.endswith(".tar.gz")):
            problems += check_sdist(sdist)
        if problems:
            failures += [f"{package}: {p}" for p in problems]
        else:
            meta = read_wheel(wheel)
            siblings = [r for r in meta.requires_dist if normalize(re.split(r"[<>=!~ ;\[]", r)[0]) in ORDER]
            say(f"{wheel.name}: metadata ok (requires-python {meta.requires_python}; siblings: {siblings or 'none'})")
    if failures:
        raise ReleaseError("metadata check failed:\n  " + "\n  ".join(failures))


# --- smoke tests ----------------------------------------------------------------------------------


def sibling_closure(package: str, out: Path) -> list[Path]:
    """The freshly built wheels of `package` and of every sibling it needs, directly or not."""
    from packaging.requirements import Requirement

    needed: list[str] = []
    stack = [package]
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.append(name)
        for line in read_wheel(wheel_of(out, name)).requires_dist:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue
            if normalize(requirement.name) in ORDER:
                stack.append(normalize(requirement.name))
    return [wheel_of(out, name) for name in ORDER if name in needed]


def smoke(packages: Sequence[str], out: Path) -> None:
    for package in packages:
        start = time.monotonic()
        wheels = sibling_closure(package, out)
        with tempfile.TemporaryDirectory(prefix=f"aip-smoke-{package}-") as tmp:
            env_dir = Path(tmp) / "venv"
            say(f"Smoke test of {package}: fresh environment with {', '.join(w.name for w in wheels)}")
            run([sys.executable, "-m", "venv", env_dir])
            python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
            env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
            env["VIRTUAL_ENV"] = str(env_dir)
            env["PATH"] = str(python.parent) + os.pathsep + env.get("PATH", "")
            env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PIP_NO_INPUT="1", MPLBACKEND="Agg")
            run([python, "-m", "pip", "install", "--quiet", "-c", CONSTRAINTS, *wheels], env=env, cwd=Path(tmp))
            run([python, "-m", "pip", "check"], env=env, cwd=Path(tmp))
            script = Path(tmp) / "smoke.py"
            script.write_text(textwrap.dedent(SMOKE[package]))
            work = Path(tmp) / "work"
            work.mkdir()
            run([python, script], env=env, cwd=work)
        say(f"Smoke test of {package} passed ({time.monotonic() - start:.0f} s)")


# --- changelog ------------------------------------------------------------------------------------


def collect_changelog(package: str, version: str, *, draft: bool, today: dt.date | None = None) -> str:
    """Turn the fragments in packages/<package>/changelog.d/ into a CHANGELOG.md section.

    A fragment is ``<name>.<type>.md`` (type: added, changed, deprecated, removed, fixed, security);
    its text becomes one bullet. Without `draft`, the section is written into CHANGELOG.md (replacing an
    "unreleased" section of the same version) and the fragments are deleted.

    Returns:
        The section's text.
    """
    folder = ROOT / "packages" / package / "changelog.d"
    fragments = sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md") if folder.is_dir() else []
    by_type: dict[str, list[str]] = {t: [] for t in FRAGMENT_TYPES}
    for path in fragments:
        parts = path.name.split(".")
        if len(parts) < 3 or parts[-2] not in FRAGMENT_TYPES:
            raise ReleaseError(
                f"{path.relative_to(ROOT)}: a fragment is named <name>.<type>.md with type one of "
                f"{', '.join(FRAGMENT_TYPES)}"
            )
        text = " ".join(path.read_text().split())
        if text:
            by_type[parts[-2]].append(text)
    date = (today or dt.date.today()).isoformat()
    lines = [f"## {version} ({date})", ""]
    for kind, title in FRAGMENT_TYPES.items():
        if by_type[kind]:
            lines += [f"### {title}", "", *(f"- {item}" for item in by_type[kind]), ""]
    if not any(by_type.values()):
        lines += ["No user-visible changes.", ""]
    section = "\n".join(lines)
    if draft:
        return section
    changelog = ROOT / "packages" / package / "CHANGELOG.md"
    old = changelog.read_text() if changelog.is_file() else f"# Changelog of {package}\n\n"
    if re.search(rf"^## {re.escape(version)} \((?!unreleased)", old, flags=re.MULTILINE):
        raise ReleaseError(f"{changelog.relative_to(ROOT)} already has a released section for {version}")
    # An "unreleased" section of the same version is replaced by the collected one, keeping its bullets.
    unreleased = re.search(rf"^## {re.escape(version)} \(unreleased\)\n(.*?)(?=^## |\Z)", old, re.MULTILINE | re.DOTALL)
    if unreleased:
        kept = unreleased.group(1).strip()
        if kept:
            section = section.rstrip("\n") + "\n\n" + kept + "\n\n"
        new = old[: unreleased.start()] + section + old[unreleased.end() :]
    else:
        first = re.search(r"^## ", old, flags=re.MULTILINE)
        cut = first.start() if first else len(old)
        new = old[:cut].rstrip("\n") + "\n\n" + section + "\n" + old[cut:]
    tmp = changelog.with_suffix(".md.tmp")
    tmp.write_text(new.rstrip("\n") + "\n")
    tmp.replace(changelog)
    for path in fragments:
        path.unlink()
    return section


# --- tags -----------------------------------------------------------------------------------------


def parse_tag(tag: str) -> tuple[str, str]:
    """Check a release tag against the package's version; return (package, version)."""
    match = TAG_RE.match(tag.removeprefix("refs/tags/"))
    if not match:
        raise ReleaseError(f"tag {tag!r} is not of the form aip-<engine|game|ml|cli>-vX.Y.Z")
    package, version = match["package"], match["version"]
    expected = source_version(package)
    if expected is not None and expected != version:
        raise ReleaseError(
            f"tag {tag!r} says {package} {version}, but packages/{package}/pyproject.toml says {expected}"
        )
    return package, version


# --- command line ---------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/release.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_ in (
        ("build", "build sdists and wheels, check them, smoke-test them"),
        ("check", "check the metadata of wheels already built"),
        ("smoke", "install wheels already built, each alone, and smoke-test them"),
    ):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--package", default="all", help=f"one of {', '.join(ORDER)}, or all (default)")
        p.add_argument("--out", type=Path, default=ROOT / "dist", help="where the artifacts go (default dist/)")
        if name == "build":
            p.add_argument("--smoke", action=argparse.BooleanOptionalAction, default=True, help="run the smoke tests")
            p.add_argument(
                "--isolation",
                action=argparse.BooleanOptionalAction,
                default=True,
                help="build in isolated environments (default); --no-isolation uses this environment's tools",
            )
    p = sub.add_parser("changelog", help="collect changelog.d fragments into CHANGELOG.md")
    p.add_argument("--package", required=True, choices=ORDER)
    p.add_argument("--version", required=True)
    p.add_argument("--draft", action="store_true", help="print the section, change nothing")
    p = sub.add_parser("tag", help="check a release tag against the package version; print the package")
    p.add_argument("tag")
    args = parser.parse_args(argv)
    try:
        if args.command == "changelog":
            print(collect_changelog(args.package, args.version, draft=args.draft))
            return 0
        if args.command == "tag":
            package, version = parse_tag(args.tag)
            print(f"package={package}\nversion={version}")
            return 0
        packages = selected(args.package)
        out = args.out.resolve()
        start = time.monotonic()
        if args.command == "build":
            build(packages, out, isolation=args.isolation)
        if args.command in ("build", "check"):
            check(packages, out)
        if args.command == "smoke" or (args.command == "build" and args.smoke):
            smoke(packages, out)
        say(f"release {args.command} of {', '.join(packages)} passed ({time.monotonic() - start:.0f} s)")
        return 0
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
