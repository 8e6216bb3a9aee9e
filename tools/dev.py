#!/usr/bin/env python3
"""The developer entry point: set up the project's virtual environment, run the main job, run the tests.

Usage (from anywhere; needs only Python 3.11+, a C++ compiler and CMake)::

    python3 tools/dev.py run [ARGS...]   # set up if needed, then run the main job (ARGS go to it)
    python3 tools/dev.py test [PYTEST ARGS...]  # set up if needed, then every test: pytest, then C++ sanitizers
    python3 tools/dev.py setup [--force] # only the setup
    python3 tools/dev.py lint            # ruff, then mypy --strict per package
    python3 tools/dev.py types           # mypy --strict per package only
    python3 tools/dev.py docs            # the Sphinx site, warnings are errors
    python3 tools/dev.py bench [NAME] [ARGS...]  # tools/bench/NAME.py (default: engine)

The virtual environment is ``.venv`` at the repository root (``AIP_VENV`` names another place). Setup
is skipped when a stamp in the environment says it is up to date with the packages' pyproject files and
``constraints-dev.txt``; the engine is rebuilt when its C++ sources change. Only the standard library is
used here, so this file runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSTRAINTS = ROOT / "constraints-dev.txt"

# The main job of `python3 tools/dev.py run`: commands run with the environment's Python, one after the
# other; the extra arguments of `run` go to the first. It trains a chase-v1 enemy from the task's shipped
# config, evaluates it beside the scripted bots, registers it in the MLflow store of the working
# directory and prints the command that plays against it; `run` then prints the time to the task's skill
# target that the training wrote in its run folder (target.json).
MAIN_JOB: tuple[tuple[str, ...], ...] = (("-m", "aip_cli", "train", "chase-v1"),)

# Distribution folder, import name and the extras to install, in dependency order.
PACKAGES: tuple[tuple[str, str, str], ...] = (
    ("aip-engine", "aip_engine", "test,gymnasium"),
    ("aip-game", "aip_game", "test"),
    ("aip-ml", "aip_ml", "test,tune,onnx"),
    ("aip-cli", "aip_cli", "test,dashboard"),
)
# Tools the build needs in the environment itself, since the editable installs use no build isolation.
BUILD_TOOLS = ("scikit-build-core", "pybind11", "poetry-core", "numpy", "pytest", "build")
# Tools of the development environment that no package declares: the training benchmark compares
# with Stable-Baselines3 (tools/bench/train.py, run by `aip bench` and its tests); the outside-trainer
# tests run SB3, TorchRL and SuperSuit on the Gymnasium/PettingZoo ids (docs/gymnasium.md); uv runs
# the dependency-floor check (tools/floors.py).
DEV_TOOLS = ("stable-baselines3", "torchrl", "supersuit", "uv")
LINT_TOOLS = ("ruff", "mypy")
# Programs some tests use, with the Debian package that provides each. Setup installs the missing ones
# with apt-get when it runs as root (CI does); elsewhere it says how, and those tests fall back (the
# game's window tests use SDL's dummy driver without Xvfb).
SYSTEM_PROGRAMS: tuple[tuple[str, str, str], ...] = (
    ("Xvfb", "xvfb", "the game's tests in a real X window"),
    ("xdotool", "xdotool", "real key events in the game's window tests"),
    ("clang++", "clang", "the engine's coverage-guided fuzzer (libFuzzer; tests/test_core_fuzz.py)"),
)
DOCS_TOOLS = ("sphinx", "myst-parser", "furo")
# Bump when the setup recipe below changes, so that existing environments are brought up to date.
SETUP_RECIPE = "5"
MIN_CMAKE = (3, 21)  # ctest --output-junit


class DevError(Exception):
    """A step failed; the message says which and what to do."""


# --- output ---------------------------------------------------------------------------------------


def say(message: str) -> None:
    """Print a progress line at once (CI logs are read while the job runs)."""
    print(f"==> {message}", flush=True)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def seconds(start: float) -> str:
    return f"{time.monotonic() - start:.0f} s"


# --- the environment --------------------------------------------------------------------------------


def venv_dir() -> Path:
    return Path(os.environ.get("AIP_VENV", ROOT / ".venv")).resolve()


def venv_bin() -> Path:
    return venv_dir() / ("Scripts" if os.name == "nt" else "bin")


def venv_python() -> Path:
    return venv_bin() / ("python.exe" if os.name == "nt" else "python")


def child_env() -> dict[str, str]:
    """The environment of every command: the venv first on PATH, no prompts, headless pygame."""
    env = dict(os.environ)
    env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = str(venv_dir())
    env.pop("PYTHONHOME", None)
    env.setdefault("PIP_NO_INPUT", "1")
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    env.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    env.setdefault("MPLBACKEND", "Agg")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run(cmd: Sequence[str | Path], *, check: bool = True, cwd: Path = ROOT) -> int:
    """Run a command in the foreground, its output streaming through; return its exit code."""
    args = [str(c) for c in cmd]
    sys.stdout.flush()
    code = subprocess.call(args, cwd=cwd, env=child_env())
    if check and code != 0:
        raise DevError(f"`{' '.join(args)}` failed with exit code {code}")
    return code


def pip_install(*args: str, what: str, note: str = "") -> None:
    start = time.monotonic()
    say(f"Installing {what}{note}")
    # -qq: errors only; this machine's pip configuration may name package folders that do not exist,
    # and pip would warn about each of them for every package.
    run([venv_python(), "-m", "pip", "install", "-qq", "-c", str(CONSTRAINTS), *args])
    say(f"Installed {what} ({seconds(start)})")


def has_module(module: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 1)"
    return subprocess.call([str(venv_python()), "-c", code], env=child_env()) == 0


def ensure_tools(tools: Sequence[str], modules: Sequence[str]) -> None:
    """Install `tools` into the environment unless all of `modules` import already."""
    if all(has_module(m) for m in modules):
        return
    pip_install(*tools, what=", ".join(tools))


def tree_hash(paths: Sequence[Path]) -> str:
    """A hash of the names and contents of the files under `paths` (missing paths count as absent)."""
    digest = hashlib.sha256(SETUP_RECIPE.encode())
    for base in paths:
        files = sorted(p for p in base.rglob("*") if p.is_file()) if base.is_dir() else [base]
        for path in files:
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def stamp_is(name: str, value: str) -> bool:
    path = venv_dir() / f".aip-{name}.stamp"
    return path.is_file() and path.read_text().strip() == value


def write_stamp(name: str, value: str) -> None:
    path = venv_dir() / f".aip-{name}.stamp"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(value + "\n")
    tmp.replace(path)


def present_packages() -> list[tuple[str, str, str]]:
    present = []
    for folder, module, extras in PACKAGES:
        if (ROOT / "packages" / folder / "pyproject.toml").is_file():
            present.append((folder, module, extras))
        else:
            warn(f"packages/{folder}/pyproject.toml does not exist yet: {folder} is not installed")
    return present


def cmake_ok() -> bool:
    exe = shutil.which("cmake")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
        version = tuple(int(x) for x in out.split()[2].split(".")[:2])
    except (OSError, subprocess.CalledProcessError, IndexError, ValueError):
        return False
    return version >= MIN_CMAKE


def check_prerequisites() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs under whatever python3 the user has
        raise DevError(
            f"Python 3.11 or newer is needed, this is {sys.version.split()[0]}: run this file with python3.11+"
        )
    compilers = ("c++", "g++", "clang++", "cl")
    if not any(shutil.which(c) for c in compilers) and not os.environ.get("CXX"):
        raise DevError(
            "no C++ compiler found (looked for c++, g++, clang++, cl and $CXX): install one "
            "(Debian/Ubuntu: `apt-get install build-essential`; macOS: `xcode-select --install`)"
        )


def ensure_system_programs() -> None:
    """Install the missing `SYSTEM_PROGRAMS` with apt-get when running as root; otherwise say how."""
    missing = [(program, package, why) for program, package, why in SYSTEM_PROGRAMS if shutil.which(program) is None]
    if not missing:
        return
    packages = sorted({package for _, package, _ in missing})
    can_apt = shutil.which("apt-get") is not None and hasattr(os, "geteuid") and os.geteuid() == 0
    if not can_apt:
        for program, package, why in missing:
            warn(f"{program} is not installed ({why}); install it with `apt-get install {package}` (or the like)")
        return
    say(f"Installing {', '.join(packages)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another apt-get may hold the lock for a while (a shared machine): wait for it rather than fail.
    install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=600", *packages]
    if subprocess.call(install, env=env, stdin=subprocess.DEVNULL) != 0:
        subprocess.call(["apt-get", "update", "-q", "-o", "DPkg::Lock::Timeout=600"], env=env, stdin=subprocess.DEVNULL)
        if subprocess.call(install, env=env, stdin=subprocess.DEVNULL) != 0:
            warn(f"could not install {', '.join(packages)}; the tests that need them fall back or skip")


def setup(force: bool = False) -> None:
    """Create and fill the virtual environment unless it is already up to date."""
    check_prerequisites()
    ensure_system_programs()
    start = time.monotonic()
    python = venv_python()
    if not python.exists():
        say(f"Creating the virtual environment {venv_dir()}")
        import venv

        venv.EnvBuilder(with_pip=True, clear=False, upgrade_deps=False).create(venv_dir())
        force = True
    packages = present_packages()
    recipe = tree_hash([CONSTRAINTS, *(ROOT / "packages" / f / "pyproject.toml" for f, _, _ in packages)])
    engine_sources = [
        ROOT / "packages" / "aip-engine" / name
        for name in ("pyproject.toml", "CMakeLists.txt", "cpp", "bindings", "cuda")
    ] + [ROOT / "packages" / "aip-engine" / "src" / "aip_engine" / n for n in ("tasks.toml", "_task_decl.py")]
    engine = tree_hash(engine_sources)
    if not force and stamp_is("setup", recipe):
        if any(f == "aip-engine" for f, _, _ in packages) and not stamp_is("engine", engine):
            say("The engine's C++ sources changed: rebuilding aip-engine")
            install_package("aip-engine", "", deps=False)
            write_stamp("engine", engine)
        say("The environment is up to date")
        return
    say(f"Setting up {venv_dir()} (packages: {', '.join(f for f, _, _ in packages) or 'none yet'})")
    pip_install("--upgrade", "pip", what="the latest pip")
    pip_install("torch", what="torch (pinned by constraints-dev.txt)")
    tools = list(BUILD_TOOLS)
    if not cmake_ok():
        tools.append("cmake")
    if shutil.which("ninja") is None:
        tools.append("ninja")
    pip_install(*tools, what="the build tools")
    for folder, _, extras in packages:
        install_package(folder, extras, deps=True)
    pip_install(*DEV_TOOLS, what=f"the development tools ({', '.join(DEV_TOOLS)})")
    write_stamp("engine", engine)
    write_stamp("setup", recipe)
    say(f"Setup done ({seconds(start)})")


def install_package(folder: str, extras: str, *, deps: bool) -> None:
    target = f"./packages/{folder}" + (f"[{extras}]" if extras else "")
    args = ["--no-build-isolation", "-e", target]
    if not deps:
        args.insert(0, "--no-deps")
    what = f"{folder} (editable{', extras ' + extras if extras else ''})"
    note = ": compiling the C++ engine" if folder == "aip-engine" else ""
    pip_install(*args, what=what, note=note)


# --- commands -------------------------------------------------------------------------------------


def cmd_run(extra: Sequence[str]) -> int:
    setup()
    started = time.time()
    for index, command in enumerate(MAIN_JOB):
        args = [*command, *(extra if index == 0 else [])]
        say(f"Running: python {' '.join(args)}")
        code = run([venv_python(), *args], check=False)
        if code != 0:
            raise DevError(f"the main job's command `python {' '.join(args)}` exited with code {code}")
    say(time_to_target_line(find_target_record(extra, started)))
    return 0


# Where `aip train` writes its runs (aip_cli's RUNS_DIR, relative to the working directory) and the
# name of the skill-target record in a run folder (aip_ml's TARGET_FILE).
RUNS_DIR = ROOT / "aip-runs"
TARGET_FILE = "target.json"


def find_target_record(extra: Sequence[str], since: float, runs: Path | None = None) -> Path | None:
    """The target record the main job's training wrote: in its ``--run-dir``, else the newest since ``since``.

    Args:
        extra: The arguments given to the main job's training.
        since: When the main job started (``time.time()``).
        runs: Where the runs are; None = `RUNS_DIR`.
    """
    runs = RUNS_DIR if runs is None else runs
    args = list(extra)
    for index, arg in enumerate(args):
        folder = None
        if arg == "--run-dir" and index + 1 < len(args):
            folder = args[index + 1]
        elif arg.startswith("--run-dir="):
            folder = arg.split("=", 1)[1]
        if folder is not None:
            path = Path(folder) if Path(folder).is_absolute() else ROOT / folder
            record = path / TARGET_FILE
            return record if record.is_file() else None
    fresh = [p for p in runs.glob(f"*/*/{TARGET_FILE}") if p.stat().st_mtime >= since - 1.0] if runs.is_dir() else []
    return max(fresh, key=lambda p: p.stat().st_mtime) if fresh else None


def time_to_target_line(record_path: Path | None) -> str:
    """One line on the skill target, read from the run's target record (aip_ml.TimeToTarget.to_dict).

    The training seconds are those the run measured (the time spent checking left out), so they are
    the figure `tools/bench/time_to_skill.py` reports for the same config.
    """
    if record_path is None:
        return (
            "time to target: not measured (the run wrote no target.json: its config's target_every_steps is 0, "
            "or its task has no skill target)"
        )
    import json

    try:
        data = json.loads(record_path.read_text(encoding="utf-8"))
        checks = list(data.get("checks") or [])
        target = str(data["target"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"time to target: {record_path} could not be read ({exc})"
    where = f"{data.get('task', '?')}: {target}, {data.get('episodes', '?')} episodes a check"
    if not checks:
        return f"time to target ({where}): no check was made"
    last = checks[-1]
    trained = (
        f"{len(checks)} checks; last at {int(last['step']):,} steps after {float(last['train_seconds']):.1f} s "
        f"of training (checks excluded, {float(data.get('check_seconds', 0.0)):.1f} s)"
    )
    first = None
    for check in checks:
        first = (first or check) if check.get("met") else None
    if first is None:
        ever = next((c for c in checks if c.get("met")), None)
        how = f"met at {int(ever['step']):,} steps but not kept" if ever is not None else "never met"
        return (
            f"time to target ({where}): not met within {int(last['step']):,} steps ({how}; last check: success "
            f"{float(last['success_rate']):.1%}); {trained}"
        )
    frames = first.get("mean_frames_to_success")
    bot = data.get("bot_mean_frames_to_success")
    detail = f"success {float(first['success_rate']):.1%}"
    if frames is not None:
        detail += f", {float(frames):.0f} frames to success"
        if bot is not None:
            detail += f" (bot {float(bot):.0f})"
    return (
        f"time to target ({where}): first met at {int(first['step']):,} steps, {float(first['train_seconds']):.1f} s "
        f"of training ({detail}), and met at every later check; {trained}"
    )


@dataclass
class Counts:
    """Test counts of one stage of `test`."""

    name: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    ok: bool = True
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def line(self) -> str:
        status = "ok" if self.ok else "FAILED"
        extra = f"; {'; '.join(self.notes)}" if self.notes else ""
        return (
            f"{self.name}: {self.passed} passed, {self.failed} failed, {self.skipped} skipped "
            f"[{status}, {self.elapsed:.0f} s{extra}]"
        )


def junit_counts(path: Path, counts: Counts) -> None:
    """Add the counts of a JUnit XML report (pytest's or ctest's) to `counts`."""
    if not path.is_file():
        counts.notes.append(f"no report at {path.relative_to(ROOT)}")
        return
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        total = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0) or suite.get("disabled", 0))
        counts.passed += total - failed - skipped
        counts.failed += failed
        counts.skipped += skipped


def pytest_stage(extra: Sequence[str]) -> Counts:
    counts = Counts("pytest")
    start = time.monotonic()
    folders = [p for p in sorted((ROOT / "packages").glob("*/tests")) if p.is_dir()]
    if (ROOT / "tests").is_dir():
        folders.append(ROOT / "tests")
    report = ROOT / "build" / "test-reports" / "pytest.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    say(f"Running pytest over {', '.join(str(f.relative_to(ROOT)) for f in folders)} (slow tests included)")
    # -c: the root configuration (warnings as errors, markers, importlib mode) whatever the packages say.
    cmd: list[str | Path] = [venv_python(), "-m", "pytest", "-c", "pyproject.toml"]
    cmd += [str(f.relative_to(ROOT)) for f in folders]
    cmd += [f"--junitxml={report}", "--durations=10", *extra]
    code = run(cmd, check=False)
    counts.elapsed = time.monotonic() - start
    junit_counts(report, counts)
    if code == 5:
        counts.ok = False
        counts.notes.append("pytest collected no tests: check the test folders and any -k/-m filter")
        print("error: pytest ran no test (exit code 5); that is a failure here", file=sys.stderr, flush=True)
    elif code != 0:
        counts.ok = False
        counts.notes.append(f"pytest exit code {code}")
        if counts.failed == 0:
            counts.failed = 1  # a crash or an interruption that left no failure in the report
    return counts


def sanitizer_stage() -> Counts:
    counts = Counts("ctest (sanitizers)")
    start = time.monotonic()
    if not (ROOT / "CMakeLists.txt").is_file():
        counts.ok = False
        counts.failed = 1
        counts.notes.append("no CMakeLists.txt at the repository root: the sanitizer tests cannot be built")
        return counts
    build = ROOT / "build" / "sanitize"
    say("Building the C++ sanitizer tests (Debug; cmake -S . -B build/sanitize)")
    configure = ["cmake", "-S", ".", "-B", str(build), "-DCMAKE_BUILD_TYPE=Debug"]
    if shutil.which("ninja", path=child_env()["PATH"]) and not (build / "CMakeCache.txt").exists():
        configure += ["-G", "Ninja"]
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")
    try:
        run(configure)
        run(["cmake", "--build", str(build), "--parallel", jobs])
    except DevError as error:
        counts.ok = False
        counts.failed = 1
        counts.notes.append(str(error))
        counts.elapsed = time.monotonic() - start
        return counts
    report = build / "ctest-junit.xml"
    report.unlink(missing_ok=True)
    say("Running ctest")
    env_defaults = {
        "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1:strict_string_checks=1",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
    }
    for key, value in env_defaults.items():
        os.environ.setdefault(key, value)
    code = run(
        ["ctest", "--test-dir", str(build), "--output-on-failure", "--output-junit", str(report), "-j", jobs],
        check=False,
    )
    counts.elapsed = time.monotonic() - start
    junit_counts(report, counts)
    if counts.passed + counts.failed == 0:
        counts.ok = False
        counts.notes.append("ctest ran no test: the root CMakeLists.txt must add_test() the sanitizer programs")
    if code != 0:
        counts.ok = False
        counts.notes.append(f"ctest exit code {code}")
        counts.failed = max(counts.failed, 1)
    return counts


def cmd_test(extra: Sequence[str]) -> int:
    start = time.monotonic()
    setup()
    stages = [pytest_stage(extra), sanitizer_stage()]
    print(flush=True)
    for stage in stages:
        print(stage.line(), flush=True)
    ok = all(s.ok for s in stages)
    for stage in stages:
        if not stage.ok:  # a stage that failed without a failing test (no tests, a build error) counts as one
            stage.failed = max(stage.failed, 1)
    passed = sum(s.passed for s in stages)
    failed = sum(s.failed for s in stages)
    skipped = sum(s.skipped for s in stages)
    print(f"total time {seconds(start)}; {'all stages passed' if ok else 'FAILED'}", flush=True)
    # The closing line, in the plain form CI reads.
    print(f"summary: {passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 0 if ok else 1


def ruff_stage() -> list[str]:
    failures = []
    say("ruff check")
    if run([venv_python(), "-m", "ruff", "check", "."], check=False) != 0:
        failures.append("ruff check")
    say("ruff format --check")
    if run([venv_python(), "-m", "ruff", "format", "--check", "."], check=False) != 0:
        failures.append("ruff format (run `ruff format` to fix)")
    return failures


def mypy_stage() -> list[str]:
    failures = []
    targets = [(f, [f"packages/{f}/src/{m}"]) for f, m, _ in present_packages()]
    targets.append(("tools", ["tools/dev.py", "tools/release.py"]))
    for name, paths in targets:
        say(f"mypy --strict {name}")
        if run([venv_python(), "-m", "mypy", "--strict", *paths], check=False) != 0:
            failures.append(f"mypy {name}")
    return failures


def cmd_lint(_: Sequence[str]) -> int:
    setup()
    ensure_tools(LINT_TOOLS, ("ruff", "mypy"))
    failures = ruff_stage() + mypy_stage()
    if failures:
        print(f"lint: FAILED: {', '.join(failures)}", flush=True)
        return 1
    print("lint: ruff and mypy --strict clean", flush=True)
    return 0


def cmd_types(_: Sequence[str]) -> int:
    setup()
    ensure_tools(LINT_TOOLS, ("ruff", "mypy"))
    failures = mypy_stage()
    if failures:
        print(f"types: FAILED: {', '.join(failures)}", flush=True)
        return 1
    print("types: mypy --strict clean", flush=True)
    return 0


def cmd_docs(extra: Sequence[str]) -> int:
    setup()
    ensure_tools(DOCS_TOOLS, ("sphinx", "myst_parser", "furo"))
    out = ROOT / "docs" / "_build" / "html"
    say(f"Building the docs into {out.relative_to(ROOT)} (warnings are errors)")
    run([venv_python(), "-m", "sphinx", "-W", "--keep-going", "-b", "html", "docs", str(out), *extra])
    say(f"Docs built: open {out / 'index.html'}")
    return 0


def cmd_bench(extra: Sequence[str]) -> int:
    setup()
    name, args = (extra[0], extra[1:]) if extra and not extra[0].startswith("-") else ("engine", extra)
    script = ROOT / "tools" / "bench" / f"{name}.py"
    if not script.is_file():
        names = sorted(p.stem for p in (ROOT / "tools" / "bench").glob("[!_]*.py"))
        raise DevError(f"no benchmark named {name!r}; available: {', '.join(names) or 'none yet'}")
    say(f"Running the {name} benchmark")
    return run([venv_python(), script, *args], check=False)


def cmd_setup(extra: Sequence[str]) -> int:
    setup(force="--force" in extra)
    return 0


COMMANDS = {
    "run": (cmd_run, "set up if needed, then run the main job (extra arguments go to it)"),
    "test": (cmd_test, "set up if needed, then run every test: pytest (slow included), then the C++ sanitizers"),
    "setup": (cmd_setup, "create or update the virtual environment (--force: reinstall everything)"),
    "lint": (cmd_lint, "ruff check, ruff format --check, mypy --strict per package"),
    "types": (cmd_types, "mypy --strict per package (the pre-commit hook)"),
    "docs": (cmd_docs, "build the Sphinx site with warnings as errors"),
    "bench": (cmd_bench, "run tools/bench/NAME.py (default engine) with the given arguments"),
}


def parse(argv: Sequence[str]) -> tuple[str, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python3 tools/dev.py",
        description="Set up the AIP development environment, run the main job, run the tests.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(f"  {name:<6} {help_}" for name, (_, help_) in COMMANDS.items()),
    )
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND", help="one of the commands below")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="passed on to the command")
    ns = parser.parse_args(argv)
    return ns.command, list(ns.args)


def main(argv: Sequence[str] | None = None) -> int:
    command, args = parse(sys.argv[1:] if argv is None else argv)
    try:
        return COMMANDS[command][0](args)
    except DevError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
