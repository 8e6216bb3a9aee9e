"""``aip --help`` and every sub-command's help teach the command; the console script works."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

Runner = Callable[..., Result]


def test_root_help_lists_commands_a_session_and_exit_codes(aip: Runner) -> None:
    result = aip("--help")
    assert result.exit_code == 0
    out = result.stdout
    for command in ("train", "eval", "play", "models", "bench", "doctor"):
        assert f"  {command} " in out
    assert "aip train chase-v1" in out and "aip play --opponent chase-v1-enemy@champion" in out
    assert "MLFLOW_TRACKING_URI" in out and "mlflow.db" in out
    assert "Exit codes:" in out
    for line in ("0    ok", "2    usage", "3    not found", "4    refused", "5    unavailable", "130  interrupted"):
        assert line in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["train", "--help"], ["KEY=VALUE", "--resume", "--config", "--show-config", "--json", "total_steps="]),
        (["eval", "--help"], ["bot:NAME", "--task", "--episodes", "--json"]),
        (["play", "--help"], ["--opponent", "--side", "bot:intercept"]),
        (["models", "--help"], ["list", "show", "promote", "export", "NAME@ALIAS"]),
        (["models", "promote", "--help"], ["--force", "same seeds", "status 4"]),
        (["models", "export", "--help"], ["--force", "NAME-vVERSION.aipp"]),
        (["bench", "--help"], ["engine|game|train|all", "--quick", "tools/bench"]),
        (["doctor", "--help"], ["--tracking-uri", "--json"]),
    ],
)
def test_subcommand_help(aip: Runner, args: list[str], expected: list[str]) -> None:
    result = aip(*args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    for snippet in expected:
        assert snippet in text, snippet


def test_no_arguments_shows_help_with_usage_status(aip: Runner) -> None:
    result = aip()
    assert result.exit_code == 2
    assert "Usage: aip" in result.output


def test_console_script_and_module_entry(workdir: Path) -> None:
    script = shutil.which("aip", path=str(Path(sys.executable).parent))
    assert script is not None, "the aip console script is not installed in this environment"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith("aip 0.")
    done = subprocess.run(
        [sys.executable, "-m", "aip_cli", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0
    assert "Exit codes:" in done.stdout


def test_show_config_prints_an_explained_toml_that_loads_back(aip: Runner, workdir: Path) -> None:
    import aip_ml

    result = aip("train", "chase-v1", "total_steps=777", "--show-config")
    assert result.exit_code == 0, result.output
    assert "# environment steps to train for" in result.stdout
    (workdir / "shown.toml").write_text(result.stdout)
    assert aip_ml.load_config(path=workdir / "shown.toml").total_steps == 777
    assert not (workdir / "mlflow.db").exists() and not (workdir / "aip-runs").exists()
