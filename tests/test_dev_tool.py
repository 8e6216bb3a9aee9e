"""tools/dev.py: the command line, report counting and setup stamps (the full run is CI's job)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dev() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("aip_dev_tool", ROOT / "tools" / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_help_lists_the_commands() -> None:
    out = subprocess.run([sys.executable, "tools/dev.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("run", "test", "setup", "lint", "docs", "bench"):
        assert f"  {command} " in out.stdout


def test_unknown_command_fails_with_usage() -> None:
    out = subprocess.run([sys.executable, "tools/dev.py", "tset"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 2
    assert "invalid choice" in out.stderr


def test_pytest_report_counts(dev: types.ModuleType, tmp_path: Path) -> None:
    report = tmp_path / "pytest.xml"
    report.write_text(
        '<?xml version="1.0"?><testsuites><testsuite name="pytest" errors="1" failures="2" skipped="3" tests="20">'
        "</testsuite></testsuites>"
    )
    counts = dev.Counts("pytest")
    dev.junit_counts(report, counts)
    assert (counts.passed, counts.failed, counts.skipped) == (14, 3, 3)


def test_ctest_report_counts(dev: types.ModuleType, tmp_path: Path) -> None:
    report = tmp_path / "ctest.xml"
    report.write_text('<?xml version="1.0"?><testsuite name="x" tests="4" failures="1" disabled="0" skipped="0"/>')
    counts = dev.Counts("ctest")
    dev.junit_counts(report, counts)
    assert (counts.passed, counts.failed, counts.skipped) == (3, 1, 0)
    assert counts.line().startswith("ctest: 3 passed, 1 failed, 0 skipped")


def test_tree_hash_changes_with_content(dev: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.cpp").write_text("int a;")
    first = dev.tree_hash([tmp_path / "src", tmp_path / "missing.txt"])
    assert first == dev.tree_hash([tmp_path / "src", tmp_path / "missing.txt"])
    (tmp_path / "src" / "a.cpp").write_text("int b;")
    assert dev.tree_hash([tmp_path / "src"]) != first


def test_main_job_is_a_sequence_of_commands(dev: types.ModuleType) -> None:
    assert dev.MAIN_JOB
    assert all(isinstance(part, str) for command in dev.MAIN_JOB for part in command)


def test_system_programs_are_left_alone_when_present(
    dev: types.ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dev, "SYSTEM_PROGRAMS", (("python3", "python3", "this test"),))
    calls: list[object] = []
    monkeypatch.setattr(dev.subprocess, "call", lambda *a, **k: calls.append(a) or 0)
    dev.ensure_system_programs()
    assert calls == []


def test_a_missing_system_program_is_named_with_its_package_without_root(
    dev: types.ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dev, "SYSTEM_PROGRAMS", (("no-such-program-aip", "aip-pkg", "a test"),))
    monkeypatch.setattr(dev.os, "geteuid", lambda: 1000)
    dev.ensure_system_programs()
    err = capsys.readouterr().err
    assert "no-such-program-aip is not installed (a test)" in err and "apt-get install aip-pkg" in err


def _record(run: Path, checks: list[tuple[int, float, float, bool]]) -> Path:
    """Write ``run``/target.json as aip_ml writes it (TimeToTarget.to_dict), with ``checks``."""
    import json

    import aip_ml

    record = aip_ml.TimeToTarget(
        task="chase-v1",
        target="success >= 95%, frames to success <= 0.8 x bot 'chase'",
        episodes=200,
        bot_success_rate=1.0,
        bot_mean_frames_to_success=155.0,
        check_seconds=12.5,
    )
    for step, seconds, success, met in checks:
        record.checks.append(aip_ml.TargetCheck(step, seconds, success, 120.0 if success else float("nan"), met))
    path = run / "target.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record.to_dict()), encoding="utf-8")
    return path


def test_time_to_target_line_reads_the_first_kept_check(dev: types.ModuleType, tmp_path: Path) -> None:
    checks = [(131072, 10.0, 0.5, False), (262144, 20.0, 0.96, True), (393216, 30.0, 0.9, False)]
    checks += [(524288, 40.0, 0.97, True), (655360, 50.0, 0.99, True), (700000, 53.25, 0.99, True)]
    line = dev.time_to_target_line(_record(tmp_path, checks))
    assert line.startswith("time to target (chase-v1: success >= 95%, frames to success <= 0.8 x bot 'chase', 200 ")
    assert "first met at 524,288 steps, 40.0 s of training (success 97.0%, 120 frames to success (bot 155))" in line
    assert "6 checks; last at 700,000 steps after 53.2 s of training (checks excluded, 12.5 s)" in line


def test_time_to_target_line_says_when_the_target_was_not_met(dev: types.ModuleType, tmp_path: Path) -> None:
    lost = dev.time_to_target_line(_record(tmp_path / "a", [(1000, 1.0, 0.96, True), (2000, 2.0, 0.5, False)]))
    assert "not met within 2,000 steps (met at 1,000 steps but not kept; last check: success 50.0%)" in lost
    never = dev.time_to_target_line(_record(tmp_path / "b", [(1000, 1.0, 0.0, False)]))
    assert "not met within 1,000 steps (never met; last check: success 0.0%)" in never
    assert "not measured" in dev.time_to_target_line(None)
    (tmp_path / "c.json").write_text("{", encoding="utf-8")
    assert "could not be read" in dev.time_to_target_line(tmp_path / "c.json")


def test_the_target_record_is_the_run_dirs_or_the_newest_written(dev: types.ModuleType, tmp_path: Path) -> None:
    import os

    runs = tmp_path / "aip-runs"
    old = _record(runs / "chase-v1" / "20260101-000000", [(1000, 1.0, 0.0, False)])
    new = _record(runs / "dodge-v1" / "20260101-000000", [(1000, 1.0, 0.0, False)])
    os.utime(old, (100.0, 100.0))
    os.utime(new, (200.0, 200.0))
    assert dev.find_target_record([], since=50.0, runs=runs) == new
    assert dev.find_target_record([], since=150.0, runs=runs) == new
    assert dev.find_target_record([], since=300.0, runs=runs) is None  # none written since the job started
    assert dev.find_target_record(["--run-dir", str(old.parent)], since=300.0, runs=runs) == old
    assert dev.find_target_record([f"--run-dir={old.parent}", "x=1"], since=300.0, runs=runs) == old
    assert dev.find_target_record(["--run-dir", str(tmp_path / "none")], since=0.0, runs=runs) is None
    assert dev.find_target_record([], since=0.0, runs=tmp_path / "missing") is None


def test_run_prints_the_time_to_target_the_training_wrote(
    dev: types.ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(dev, "setup", lambda: None)
    monkeypatch.setattr(dev, "RUNS_DIR", tmp_path / "aip-runs")
    commands: list[list[str]] = []

    def train(cmd: list[object], **_: object) -> int:
        commands.append([str(c) for c in cmd])
        _record(tmp_path / "aip-runs" / "chase-v1" / "now", [(131072, 9.5, 0.97, True), (262144, 19.0, 0.98, True)])
        return 0

    monkeypatch.setattr(dev, "run", train)
    assert dev.cmd_run(["total_steps=262144"]) == 0
    assert commands[0][-1] == "total_steps=262144"
    out = capsys.readouterr().out
    assert "time to target (chase-v1: success >= 95%" in out
    assert "first met at 131,072 steps, 9.5 s of training" in out
    assert "last at 262,144 steps after 19.0 s of training" in out


def test_the_main_jobs_config_checks_its_skill_target(dev: types.ModuleType) -> None:
    import aip_ml

    task = next(part for part in dev.MAIN_JOB[0] if part in aip_ml.config_tasks())
    config = aip_ml.load_config(task)
    assert aip_ml.skill_target(task) is not None
    # Often enough that the time to target means something (at least 10 checks over the run).
    assert 0 < config.target_every_steps <= config.total_steps // 10
    assert config.target_episodes >= 100
