"""``aip bench``: run the repository's benchmarks (tools/bench/*.py) as subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import typer

from aip_cli._common import JSON_OPTION
from aip_cli._errors import CliError, ExitCode
from aip_cli._output import console, emit_json, error_console

__all__ = ["BENCHMARKS", "find_checkout", "register"]

BENCHMARKS = ("engine", "game", "train")
_SOURCE = Path(__file__).resolve()


def _is_checkout(path: Path) -> bool:
    return (path / "tools" / "bench").is_dir() and (path / "packages" / "aip-engine").is_dir()


def find_checkout(start: Path | None = None) -> Path | None:
    """The root of the AIP repository checkout around ``start`` or around this package's source.

    The working directory is searched first, then the installed sources (an editable install).

    Args:
        start: Where to begin looking upwards.

    Returns:
        The checkout's root, or ``None``.
    """
    candidates = [(start or Path.cwd()).resolve(), _SOURCE]
    for origin in candidates:
        for path in (origin, *origin.parents):
            if _is_checkout(path):
                return path
    return None


def _run_one(root: Path, name: str, quick: bool, as_json: bool) -> dict[str, Any]:
    script = root / "tools" / "bench" / f"{name}.py"
    if not script.is_file():
        return {
            "benchmark": name,
            "status": "missing",
            "returncode": None,
            "detail": f"{script} does not exist in this checkout",
        }
    args = [sys.executable, str(script)]
    note = None
    if quick:
        if '"--quick"' in script.read_text(encoding="utf-8", errors="replace"):
            args.append("--quick")
        else:
            note = f"{script.name} has no --quick option; it runs with its defaults"
    if as_json:
        args.append("--json")
    env = dict(os.environ)
    env.setdefault("SDL_VIDEODRIVER", "dummy")
    env.setdefault("SDL_AUDIODRIVER", "dummy")
    started = time.perf_counter()
    if as_json:
        done = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=False)
        output: Any = done.stdout
        with contextlib.suppress(ValueError):
            output = json.loads(done.stdout)
        return {
            "benchmark": name,
            "note": note,
            "status": "ok" if done.returncode == 0 else "failed",
            "returncode": done.returncode,
            "seconds": time.perf_counter() - started,
            "result": output,
            "stderr_tail": done.stderr[-2000:],
        }
    if note:
        error_console.print(f"aip: {note}", markup=False)
    console.rule(f"bench {name}{' (quick)' if quick else ''}: {' '.join(args[1:])}")
    returncode = subprocess.run(args, cwd=root, env=env, check=False).returncode
    return {
        "benchmark": name,
        "note": note,
        "status": "ok" if returncode == 0 else "failed",
        "returncode": returncode,
        "seconds": time.perf_counter() - started,
    }


def bench_command(
    which: str = typer.Argument(
        "all",
        metavar="[engine|game|train|all]",
        help="Which benchmark to run [default: all = engine, game, train]; any other script of "
        "tools/bench/ (e.g. skill, which trains every task for minutes) runs when named.",
    ),
    quick: bool = typer.Option(False, "--quick", help="A short run (seconds), for a smoke test."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the repository's benchmarks (tools/bench/NAME.py) and report their results.

    Needs a checkout of the AIP repository (the working directory or the installed sources). Each
    benchmark runs in its own process with the same Python; --quick and --json are passed on.
    """
    if not which.replace("_", "a").replace("-", "a").isalnum() or which.startswith("_"):
        raise CliError(f"{which!r} is not a benchmark name; choose engine, game, train or all", ExitCode.USAGE)
    root = find_checkout()
    if root is None:
        raise CliError(
            "aip bench runs tools/bench/*.py of a repository checkout, and none was found here or "
            "above; run it inside a clone of the AIP repository",
            ExitCode.UNAVAILABLE,
        )
    available = sorted(p.stem for p in (root / "tools" / "bench").glob("*.py") if not p.stem.startswith("_"))
    if which != "all" and which not in (*BENCHMARKS, *available):
        raise CliError(f"unknown benchmark {which!r}; choose all or one of {', '.join(available)}", ExitCode.USAGE)
    names = BENCHMARKS if which == "all" else (which,)
    results = [_run_one(root, name, quick, as_json) for name in names]
    if as_json:
        emit_json({"checkout": str(root), "quick": quick, "benchmarks": results})
    else:
        for item in results:
            if item["status"] == "missing":
                error_console.print(f"aip: {item['detail']}", markup=False)
            else:
                console.print(f"{item['benchmark']}: {item['status']} in {item['seconds']:.1f} s", markup=False)
    if any(item["status"] == "missing" for item in results) and which != "all":
        raise typer.Exit(int(ExitCode.NOT_FOUND))
    if any(item["status"] == "failed" for item in results):
        raise typer.Exit(int(ExitCode.FAILURE))


def register(app: typer.Typer) -> None:
    """Add ``aip bench`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("bench")(bench_command)
