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
