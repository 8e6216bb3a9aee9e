"""Bad input gives one clear line on stderr and the documented exit code, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from aip_cli import ExitCode

Runner = Callable[..., Result]


def _one_line_error(result: Result, code: int, *snippets: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    err = result.stderr.strip()
    assert err.startswith("aip: error: "), err
    assert len(err.splitlines()) == 1, err
    for snippet in snippets:
        assert snippet in err, (snippet, err)


def test_unknown_command_is_a_usage_error(aip: Runner) -> None:
    result = aip("fly")
    assert result.exit_code == ExitCode.USAGE
    assert "No such command 'fly'" in result.output


def test_override_without_equals(aip: Runner) -> None:
    _one_line_error(aip("train", "chase-v1", "total_steps"), ExitCode.USAGE, "KEY=VALUE")


def test_misspelt_config_key_suggests_the_right_one(aip: Runner, workdir: Path) -> None:
    _one_line_error(aip("train", "chase-v1", "learning_rat=1e-3"), ExitCode.USAGE, "learning_rate")
    assert not (workdir / "mlflow.db").exists()


def test_bad_config_value(aip: Runner) -> None:
    _one_line_error(aip("train", "chase-v1", "num_worlds=-3"), ExitCode.USAGE, "num_worlds")


def test_unknown_task(aip: Runner) -> None:
    _one_line_error(aip("train", "fly-v9"), ExitCode.USAGE, "fly-v9")


def test_missing_config_file(aip: Runner) -> None:
    _one_line_error(aip("train", "chase-v1", "--config", "nope.toml"), ExitCode.NOT_FOUND, "nope.toml")


def test_resume_without_a_run(aip: Runner) -> None:
    _one_line_error(aip("train", "chase-v1", "--resume"), ExitCode.NOT_FOUND, "nothing to resume")


def test_the_file_store_is_refused(aip: Runner) -> None:
    _one_line_error(aip("models", "list", "--tracking-uri", "./mlruns"), ExitCode.USAGE, "file store")


def test_a_server_that_does_not_answer(aip: Runner) -> None:
    _one_line_error(
        aip("train", "chase-v1", "--tracking-uri", "http://127.0.0.1:9"), ExitCode.UNAVAILABLE, "not reachable"
    )


def test_registry_commands_without_a_store(aip: Runner, workdir: Path) -> None:
    for args in (("models", "list"), ("models", "show", "chase-v1-enemy"), ("eval", "chase-v1-enemy")):
        _one_line_error(aip(*args), ExitCode.NOT_FOUND, "no tracking store", "aip train")
    assert not (workdir / "mlflow.db").exists()


def test_eval_input_errors(aip: Runner, workdir: Path) -> None:
    (workdir / "broken.aipp").write_bytes(b"not a policy")
    _one_line_error(aip("eval", "broken.aipp"), ExitCode.USAGE, "broken.aipp", "not a readable policy file")
    _one_line_error(aip("eval", "missing.aipp"), ExitCode.NOT_FOUND, "missing.aipp")
    _one_line_error(aip("eval", "bot:chase"), ExitCode.USAGE, "--task")
    _one_line_error(aip("eval", "bot:flee", "--task", "chase-v1"), ExitCode.USAGE, "unknown bot 'flee'", "intercept")
    _one_line_error(aip("eval", "bot:chase", "--task", "nope"), ExitCode.USAGE, "unknown task 'nope'", "chase-v1")
    _one_line_error(aip("eval", "bot:"), ExitCode.USAGE, "bot:chase")
    assert aip("eval", "bot:chase", "--task", "chase-v1", "--episodes", "0").exit_code == ExitCode.USAGE


def test_play_input_errors(aip: Runner) -> None:
    _one_line_error(aip("play", "--side", "referee"), ExitCode.USAGE, "--side")
    _one_line_error(aip("play", "--opponent", "bot:zzz"), ExitCode.USAGE, "unknown enemy bot", "intercept")
    _one_line_error(aip("play", "--opponent", "gone.aipp"), ExitCode.NOT_FOUND, "gone.aipp")


def test_bench_outside_a_checkout(aip: Runner, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aip_cli import _bench

    monkeypatch.setattr(_bench, "_SOURCE", workdir / "site-packages" / "aip_cli" / "_bench.py")
    _one_line_error(aip("bench", "--quick"), ExitCode.UNAVAILABLE, "repository checkout")
    _one_line_error(aip("bench", "../x"), ExitCode.USAGE, "not a benchmark name")


def test_a_real_process_reports_one_line_and_the_exit_status(workdir: Path) -> None:
    script = shutil.which("aip", path=str(Path(sys.executable).parent))
    assert script is not None
    done = subprocess.run([script, "models", "show", "x"], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == ExitCode.NOT_FOUND
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("aip: error: ")
    assert done.stdout == ""
    done = subprocess.run(
        [script, "models", "list", "--json"], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == ExitCode.NOT_FOUND
    with pytest.raises(json.JSONDecodeError):
        json.loads(done.stdout)  # nothing on stdout: errors never pollute a script's JSON


def test_dashboard_refuses_an_address_that_is_not_a_url(aip: Runner) -> None:
    # `--mlflow-ui --help` read "--help" as the address and started the server (tools/fuzz.py, cli case 98).
    pytest.importorskip("uvicorn")
    for value in ("--help", "ftp://x", "http://", "127.0.0.1:5000"):
        _one_line_error(
            aip("dashboard", "--mlflow-ui", value, "--port", "0"), ExitCode.USAGE, "--mlflow-ui", repr(value)
        )
