"""Tracking and registration against a real ``mlflow server`` (SQLite backend, served artifacts)."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def server(mlflow_server: str) -> str:
    """The root conftest's real MLflow server on 127.0.0.1, one per test module."""
    return mlflow_server


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
