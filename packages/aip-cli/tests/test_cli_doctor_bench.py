"""``aip doctor`` and ``aip bench`` with the real packages and the repository's benchmark scripts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from aip_cli import ExitCode

Runner = Callable[..., Result]


def test_doctor_reports_versions_engine_threads_store_and_torch(aip: Runner, workdir: Path) -> None:
    result = aip("doctor", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["packages"]) == {"aip-engine", "aip-game", "aip-ml", "aip-cli"}
    assert all(p["importable"] for p in report["packages"].values())
    assert report["engine"]["api_version"] == 1
    assert report["threads"]["cpu_count"] >= 1
    assert report["torch"]["version"].startswith("2.")
    assert report["tracking"]["uri"] == f"sqlite:///{workdir.resolve() / 'mlflow.db'}"
    assert report["tracking"]["reachable"] is True and report["tracking"]["exists"] is False
    assert report["problems"] == []
    assert not (workdir / "mlflow.db").exists()  # doctor creates nothing
    text = aip("doctor")
    assert text.exit_code == 0 and "no problems found" in text.stdout


def test_doctor_flags_an_unreachable_store(aip: Runner) -> None:
    result = aip("doctor", "--json", "--tracking-uri", "http://127.0.0.1:9")
    assert result.exit_code == ExitCode.FAILURE
    report = json.loads(result.stdout)
    assert report["tracking"]["reachable"] is False
    assert any("not reachable" in p for p in report["problems"])


REPO = Path(__file__).resolve().parents[3]


def test_bench_engine_quick_runs_the_repository_script(aip: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO / "packages")  # found from the working directory, upwards
    result = aip("bench", "engine", "--quick", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    (engine,) = report["benchmarks"]
    assert engine["status"] == "ok" and engine["returncode"] == 0
    assert isinstance(engine["result"], dict)  # the script's own JSON, parsed
    assert Path(report["checkout"]) == REPO


def test_an_unknown_benchmark_lists_the_scripts_of_the_checkout(aip: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = aip("bench", "physics")
    assert result.exit_code == ExitCode.USAGE
    assert "unknown benchmark 'physics'" in result.stderr and "engine" in result.stderr


@pytest.mark.slow
def test_bench_all_quick(aip: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = aip("bench", "all", "--quick", "--json")
    report = json.loads(result.stdout)
    statuses = {b["benchmark"]: b["status"] for b in report["benchmarks"]}
    assert set(statuses) == {"engine", "game", "train"}
    assert all(s in ("ok", "missing") for s in statuses.values()), report
    assert result.exit_code == 0
