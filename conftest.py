"""Settings and fixtures shared by every test folder: Hypothesis profiles, a real MLflow server.

The real ``mlflow server`` on 127.0.0.1 (`mlflow_server`) is for the tests of the server path.

``ci`` (the default) keeps the property tests within a few minutes on two busy cores; ``release``
runs about twenty times as many examples per property (docs/security.md, "Fuzzing"). Choose with
``AIP_HYPOTHESIS_PROFILE=release`` or pytest's ``--hypothesis-profile=release``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the property tests skip themselves where Hypothesis is not installed
    pass
else:
    _COMMON = {
        "deadline": None,  # a shared, loaded machine makes per-example timings meaningless
        "print_blob": True,  # a failure prints the line that reproduces it
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    settings.register_profile("ci", max_examples=40, **_COMMON)
    settings.register_profile("release", max_examples=800, **_COMMON)
    settings.load_profile(os.environ.get("AIP_HYPOTHESIS_PROFILE", "ci"))

_START_TIMEOUT_S = 90.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    # The server runs in its own process group (uvicorn/gunicorn workers are its children).
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``mlflow server`` on 127.0.0.1 (SQLite backend, served artifacts in a temporary folder).

    One per test module; yields its URI. Tests that need the server path (several writers, served
    artifacts) use it; everything else uses a SQLite store of its own.
    """
    root = tmp_path_factory.mktemp("server")
    port = _free_port()
    mlflow_exe = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [
            mlflow_exe,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            f"sqlite:///{root / 'server.db'}",
            "--serve-artifacts",
            "--artifacts-destination",
            str(root / "artifacts"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        start_new_session=True,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not _answers(f"{uri}/health"):
            if process.poll() is not None:
                pytest.fail(
                    f"mlflow server exited with {process.returncode}: {(root / 'server.log').read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not answer within {_START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield uri
    finally:
        _stop(process)
        log.close()
