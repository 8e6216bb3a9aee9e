"""``aip doctor``: what is installed, how the engine was built, and whether the store answers."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import typer

from aip_cli._common import JSON_OPTION, TRACKING_OPTION
from aip_cli._output import console, emit_json, jsonable

__all__ = ["collect", "register"]

_PACKAGES = (("aip-engine", "aip_engine"), ("aip-game", "aip_game"), ("aip-ml", "aip_ml"), ("aip-cli", "aip_cli"))


def _dist_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _packages(problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dist, module in _PACKAGES:
        entry: dict[str, Any] = {"installed": _dist_version(dist)}
        try:
            mod = importlib.import_module(module)
            entry["version"] = getattr(mod, "__version__", None)
            entry["path"] = os.path.dirname(getattr(mod, "__file__", "") or "")
            entry["importable"] = True
        except Exception as exc:  # a broken install is what doctor is for
            entry["importable"] = False
            entry["error"] = f"{type(exc).__name__}: {exc}"
            problems.append(f"{module} does not import: {exc}")
        out[dist] = entry
    return out


def _engine(problems: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    try:
        import aip_engine
    except Exception as exc:
        return {"error": str(exc)}
    out["api_version"] = getattr(aip_engine, "API_VERSION", None)
    for attr in ("build_info", "backends"):
        fn = getattr(aip_engine, attr, None)
        if callable(fn):
            try:
                out[attr] = jsonable(fn())
            except Exception as exc:
                out[attr] = f"error: {exc}"
    try:
        core = importlib.import_module("aip_engine._core")
        out["compiled_core"] = getattr(core, "__file__", True)
        if "build_info" not in out:
            info = getattr(core, "build_info", None)
            out["build_info"] = info() if callable(info) else info
    except Exception as exc:
        out["compiled_core"] = None
        out["core_error"] = f"{type(exc).__name__}: {exc}"
        problems.append(
            f"the compiled engine core is not available ({exc}); build it with "
            "`pip install --no-build-isolation -e packages/aip-engine`"
        )
    try:
        worlds = aip_engine.Worlds("chase-v1", 1)
        out["default_threads"] = int(getattr(worlds, "threads", 0))
    except Exception as exc:
        out["worlds_error"] = f"{type(exc).__name__}: {exc}"
    return out


def _threads() -> dict[str, Any]:
    out: dict[str, Any] = {"cpu_count": os.cpu_count()}
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        out["usable_cores"] = len(affinity(0))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "AIP_THREADS"):
        if var in os.environ:
            out[var] = os.environ[var]
    return out


def _torch() -> dict[str, Any]:
    try:
        import torch
    except Exception as exc:
        return {"error": str(exc)}
    return {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "cuda": torch.cuda.is_available(),
    }


def _tracking(uri: str | None, problems: list[str]) -> dict[str, Any]:
    from aip_ml.tracking import check_store, resolve_tracking_uri

    try:
        resolved = resolve_tracking_uri(uri)
    except Exception as exc:
        problems.append(str(exc))
        return {"error": str(exc)}
    status = check_store(resolved)
    if not status.reachable:
        problems.append(f"tracking store {resolved} is not reachable: {status.detail}")
    return {
        "uri": status.uri,
        "location": status.location,
        "exists": status.exists,
        "reachable": status.reachable,
        "detail": status.detail,
        "mlflow": _dist_version("mlflow"),
    }


def collect(tracking_uri: str | None = None) -> dict[str, Any]:
    """Everything ``aip doctor`` reports, as a dictionary.

    Args:
        tracking_uri: The store to probe.

    Returns:
        The report, with a ``problems`` list (empty when all is well).
    """
    problems: list[str] = []
    report: dict[str, Any] = {
        "python": {"version": platform.python_version(), "executable": sys.executable, "platform": platform.platform()},
        "packages": _packages(problems),
        "engine": _engine(problems),
        "threads": _threads(),
        "torch": _torch(),
        "tracking": _tracking(tracking_uri, problems),
        "pygame": _dist_version("pygame"),
    }
    report["problems"] = problems
    return report


def _print(report: dict[str, Any]) -> None:
    py = report["python"]
    console.print(f"[bold]python[/bold]   {py['version']}  {py['executable']}")
    console.print("[bold]packages[/bold]")
    for dist, entry in report["packages"].items():
        state = entry.get("version") or entry.get("installed") or "-"
        note = "" if entry.get("importable") else f"  [red]{entry.get('error')}[/red]"
        console.print(f"  {dist:<11} {state}{note}")
    engine = report["engine"]
    console.print(f"[bold]engine[/bold]   API version {engine.get('api_version')}")
    backends = engine.get("backends")
    if isinstance(backends, dict):
        for name, info in backends.items():
            if isinstance(info, dict):
                state = "available" if info.get("available") else ("built" if info.get("built") else "not built")
                detail = ", ".join(info.get("devices") or []) or info.get("reason", "")
                console.print(f"  backend {name:<8} {state}: {detail}", markup=False)
    for key in ("build_info", "compiled_core", "default_threads", "core_error", "worlds_error"):
        if engine.get(key) is not None:
            console.print(f"  {key:<16} {engine[key]}", markup=False)
    threads = report["threads"]
    console.print("[bold]threads[/bold]  " + ", ".join(f"{k} {v}" for k, v in threads.items()))
    torch_info = report["torch"]
    console.print("[bold]torch[/bold]    " + ", ".join(f"{k} {v}" for k, v in torch_info.items()))
    tracking = report["tracking"]
    if "error" in tracking:
        console.print(f"[bold]tracking[/bold] [red]{tracking['error']}[/red]")
    else:
        state = "reachable" if tracking["reachable"] else "[red]NOT reachable[/red]"
        console.print(
            f"[bold]tracking[/bold] {tracking['uri']} ({state}; {tracking['detail']}); mlflow {tracking['mlflow']}"
        )
        console.print(f"  location {tracking['location']}", markup=False)
    console.print(f"[bold]pygame[/bold]   {report['pygame']}")
    if report["problems"]:
        console.print("[bold red]problems[/bold red]")
        for problem in report["problems"]:
            console.print(f"  - {problem}", markup=False)
    else:
        console.print("[green]no problems found[/green]")


def doctor_command(
    tracking_uri: str | None = TRACKING_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Report versions, the engine's build, threads, torch and the tracking store; exit 1 on a problem."""
    report = collect(tracking_uri)
    if as_json:
        emit_json(report)
    else:
        _print(report)
    if report["problems"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``aip doctor`` to ``app``.

    Args:
        app: The root command.
    """
    app.command("doctor")(doctor_command)
