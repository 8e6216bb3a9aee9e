"""Tracking and registration against a real ``mlflow server`` (SQLite backend, served artifacts)."""

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

mlflow = pytest.importorskip("mlflow")
aip_ml = pytest.importorskip("aip_ml")
aip_engine = pytest.importorskip("aip_engine")

from aip_ml.tracking import (  # noqa: E402
    MlflowCallback,
    export_version,
    list_versions,
    make_client,
    policy_sources,
    resolve_version,
)

pytestmark = [pytest.mark.server, pytest.mark.slow]

TINY = [
    "total_steps=512",
    "num_worlds=8",
    "rollout_steps=32",
    "epochs=1",
    "minibatch_size=128",
    "hidden_sizes=[16,16]",
    "eval_episodes=8",
    "checkpoint_every=0",
    "torch_threads=1",
    "engine_threads=1",
]
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
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An MLflow server on 127.0.0.1 with its store and artifacts in a temporary folder."""
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


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("AIP_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def test_training_against_a_server_registers_a_version_with_served_artifacts(
    server: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = aip_ml.load_config("chase-v1", overrides=TINY)
    with MlflowCallback(server) as callback:
        aip_ml.train(config, run_dir=workdir / "run", callbacks=[callback])
    assert [v.reference for v in callback.registered] == ["chase-v1-enemy/1"]
    assert not (workdir / "mlflow.db").exists()  # nothing went to the local default store
    assert not (workdir / "mlartifacts").exists()

    client = make_client(server)
    assert callback.run_id is not None
    run = client.get_run(callback.run_id)
    assert run.info.status == "FINISHED"
    assert run.info.artifact_uri.startswith("mlflow-artifacts:/")
    assert len(client.get_metric_history(callback.run_id, "loss/policy")) == 2
    artifacts = {a.path for a in client.list_artifacts(callback.run_id, "policy/enemy")}
    assert artifacts == {"policy/enemy/policy.aipp"}

    (version,) = list_versions(client)
    assert version.reference == "chase-v1-enemy/1"
    assert "success_rate" in version.scores
    exported = export_version(client, resolve_version(client, "chase-v1-enemy"), workdir / "p.aipp")
    assert aip_engine.load_policy(exported).layout.role == "enemy"

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    sources = policy_sources()
    assert [(role) for _, role, _ in sources] == ["enemy"]
    assert sources[0][2]().is_file()
