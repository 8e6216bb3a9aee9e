"""Tracking and the model registry against a real MLflow SQLite store in a temporary folder."""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

mlflow = pytest.importorskip("mlflow")
aip_ml = pytest.importorskip("aip_ml")
aip_engine = pytest.importorskip("aip_engine")

from aip_ml.tracking import (  # noqa: E402
    CHAMPION,
    ExportExistsError,
    MlflowCallback,
    ModelNotFoundError,
    TrackingError,
    beats,
    export_version,
    list_versions,
    make_client,
    parse_reference,
    policy_sources,
    promote,
    rating_sources,
    resolve_tracking_uri,
    resolve_version,
)

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


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory with no tracking URI in the environment and a private cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("AIP_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


def _train(run_dir: Path, *overrides: str, tracking_uri: str | None = None) -> tuple[Any, MlflowCallback]:
    config = aip_ml.load_config("chase-v1", overrides=[*TINY, *overrides])
    with MlflowCallback(tracking_uri) as callback:
        result = aip_ml.train(config, run_dir=run_dir, callbacks=[callback])
    return result, callback


# --- the store and references, no training ---------------------------------------------------


def test_default_uri_is_sqlite_in_the_working_directory(workdir: Path) -> None:
    assert resolve_tracking_uri() == f"sqlite:///{workdir.resolve() / 'mlflow.db'}"


def test_environment_variable_selects_the_store(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert resolve_tracking_uri() == "http://127.0.0.1:9"
    assert resolve_tracking_uri("sqlite:///x.db") == "sqlite:///x.db"


@pytest.mark.parametrize("uri", ["./mlruns", "file:///tmp/mlruns", "mlruns"])
def test_the_deprecated_file_store_is_refused(uri: str) -> None:
    with pytest.raises(TrackingError, match="file store"):
        resolve_tracking_uri(uri)


def test_an_unreachable_server_fails_fast_with_a_clear_message() -> None:
    from aip_ml.tracking import StoreUnavailableError

    with pytest.raises(StoreUnavailableError, match="not reachable"):
        make_client("http://127.0.0.1:9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("chase-v1-enemy", ("chase-v1-enemy", None, None)),
        ("chase-v1-enemy/3", ("chase-v1-enemy", "3", None)),
        ("chase-v1-enemy@champion", ("chase-v1-enemy", None, "champion")),
        ("models:/chase-v1-enemy/12", ("chase-v1-enemy", "12", None)),
    ],
)
def test_model_references(text: str, expected: tuple[str, str | None, str | None]) -> None:
    assert parse_reference(text) == expected


@pytest.mark.parametrize("text", ["", "a b", "x/y/z", "name@", "-x"])
def test_bad_model_references_are_rejected(text: str) -> None:
    with pytest.raises(TrackingError, match="not a model reference"):
        parse_reference(text)


def test_beats_compares_success_then_return() -> None:
    assert beats({"success_rate": 0.6, "mean_return": 0.0}, {"success_rate": 0.5, "mean_return": 9.0})
    assert not beats({"success_rate": 0.5, "mean_return": 1.0}, {"success_rate": 0.6, "mean_return": 0.0})
    assert beats({"success_rate": 0.5, "mean_return": 2.0}, {"success_rate": 0.5, "mean_return": 1.0})
    assert not beats({"success_rate": 0.5, "mean_return": 1.0}, {"success_rate": 0.5, "mean_return": 1.0})


def test_no_store_means_no_policy_sources_and_nothing_created(workdir: Path) -> None:
    assert policy_sources() == [] and rating_sources() == []
    assert not (workdir / "mlflow.db").exists()


def test_an_unreachable_server_gives_no_policy_sources(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert policy_sources() == []


def test_the_game_finds_the_registry_through_its_entry_point() -> None:
    found = [
        ep
        for ep in importlib.metadata.entry_points(group="aip_game.policy_sources")
        if ep.value == "aip_ml.tracking:policy_sources"
    ]
    assert len(found) == 1, "reinstall aip-ml (pip install -e packages/aip-ml) to register its entry points"
    assert found[0].load() is policy_sources


# --- a real training run in the default store -------------------------------------------------


def _run_id(callback: MlflowCallback) -> str:
    assert callback.run_id is not None
    return callback.run_id


@dataclass(frozen=True)
class Trained:
    root: Path
    results: tuple[Any, Any]
    callbacks: tuple[MlflowCallback, MlflowCallback]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """Two tiny trainings recorded in the default store of one working directory."""
    root = tmp_path_factory.mktemp("store")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("AIP_CACHE_DIR", str(root / "cache"))
        first, cb1 = _train(root / "runs" / "a")
        second, cb2 = _train(root / "runs" / "b", "seed=1")
        yield Trained(root, (first, second), (cb1, cb2))


@pytest.fixture
def in_store(trained: Trained, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = trained.root
    monkeypatch.chdir(root)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("AIP_CACHE_DIR", str(root / "cache"))
    return root


def test_the_default_store_is_created_in_the_working_directory(in_store: Path) -> None:
    assert (in_store / "mlflow.db").is_file()
    assert (in_store / "mlartifacts").is_dir()
    assert not (in_store / "mlruns").exists()


def test_each_run_registers_a_new_version_with_scores(trained: Trained, in_store: Path) -> None:
    cb1, cb2 = trained.callbacks
    assert [v.reference for v in cb1.registered] == ["chase-v1-enemy/1"]
    assert [v.reference for v in cb2.registered] == ["chase-v1-enemy/2"]
    versions = list_versions(make_client())
    assert [(v.name, v.version) for v in versions] == [("chase-v1-enemy", "2"), ("chase-v1-enemy", "1")]
    for version in versions:
        assert version.task == "chase-v1"
        assert version.role == "enemy"
        assert 0.0 <= version.scores["success_rate"] <= 1.0
        assert "mean_return" in version.scores
        assert version.scores["episodes"] == 8
        assert version.policy_file == "policy.aipp"
        assert version.source == f"runs:/{version.run_id}/policy/enemy"


def test_run_has_params_batched_metrics_and_artifacts(trained: Trained, in_store: Path) -> None:
    result = trained.results[0]
    run_id = _run_id(trained.callbacks[0])
    client = make_client()
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["task"] == "chase-v1"
    assert run.data.params["total_steps"] == "512"
    history = client.get_metric_history(run_id, "loss/policy")
    assert [m.step for m in history] == [256, 512]  # one point per update, at the global step
    assert run.data.metrics["eval/enemy/agent.success_rate"] == pytest.approx(result.evaluation.agent.success_rate)
    paths = {
        a.path
        for top in ("config", "checkpoints", "policy/enemy", "evaluation")
        for a in client.list_artifacts(run_id, top)
    }
    assert {
        "config/config.json",
        "checkpoints/final.ckpt",
        "policy/enemy/policy.aipp",
        "evaluation/enemy.json",
    } <= paths
    saved = json.loads((Path(result.run_dir) / "mlflow_run.json").read_text())
    assert saved["run_id"] == run_id


def test_export_writes_the_policy_and_never_overwrites_silently(in_store: Path, tmp_path: Path) -> None:
    client = make_client()
    info = resolve_version(client, "chase-v1-enemy/1")
    target = tmp_path / "out" / "enemy.aipp"
    written = export_version(client, info, target)
    assert written == target
    policy = aip_engine.load_policy(written)
    assert policy.layout.role == "enemy"
    before = target.read_bytes()
    with pytest.raises(ExportExistsError, match="--force"):
        export_version(client, info, target)
    assert target.read_bytes() == before
    folder_copy = export_version(client, info, tmp_path / "out")
    assert folder_copy.name == "chase-v1-enemy-v1.aipp"
    assert export_version(client, info, target, overwrite=True) == target


def test_unknown_model_version_and_alias_are_not_found(in_store: Path) -> None:
    client = make_client()
    with pytest.raises(ModelNotFoundError, match="registered models: chase-v1-enemy"):
        resolve_version(client, "nope-enemy")
    with pytest.raises(ModelNotFoundError, match="no version 99"):
        resolve_version(client, "chase-v1-enemy/99")
    with pytest.raises(ModelNotFoundError, match="no alias @best"):
        resolve_version(client, "chase-v1-enemy@best")


def test_promotion_compares_on_the_same_seeds(in_store: Path) -> None:
    client = make_client()
    v1 = resolve_version(client, "chase-v1-enemy/1")
    v2 = resolve_version(client, "chase-v1-enemy/2")
    seen: list[tuple[str, str]] = []

    def fake_scores(path: Path, info: object) -> dict[str, float]:
        # The real evaluator is aip_ml.evaluate (tested through `aip models promote`); here the
        # decision logic: v2 is worse than v1 on these made-up scores.
        version = str(getattr(info, "version", ""))
        seen.append((version, path.name))
        return {"success_rate": 0.5 if version == "1" else 0.25, "mean_return": 1.0}

    first = promote(client, v1, None)
    assert first.promoted and "no @champion yet" in first.reason
    refused = promote(client, v2, fake_scores)
    assert not refused.promoted
    assert "does not beat" in refused.reason and "--force" in refused.reason
    assert sorted(seen) == [("1", "policy.aipp"), ("2", "policy.aipp")]
    assert resolve_version(client, f"chase-v1-enemy@{CHAMPION}").version == "1"
    forced = promote(client, v2, None, force=True)
    assert forced.promoted
    assert resolve_version(client, "chase-v1-enemy").version == "2"  # a bare name means the champion
    back = promote(client, v1, lambda p, i: {"success_rate": 1.0 if getattr(i, "version", "") == "1" else 0.0})
    assert back.promoted
    assert list_versions(client, "chase-v1-enemy")[1].aliases == (CHAMPION,)


def test_policy_sources_offer_every_version_to_the_game(in_store: Path) -> None:
    sources = policy_sources()
    assert len(sources) == 2
    labels = [label for label, _, _ in sources]
    assert all(role == "enemy" for _, role, _ in sources)
    assert any("@champion" in label for label in labels) == (
        CHAMPION in {a for v in list_versions(make_client()) for a in v.aliases}
    )
    path = sources[0][2]()
    assert path.is_file() and path.suffix == ".aipp"
    assert aip_engine.load_policy(path).layout.role == "enemy"
    assert sources[0][2]() == path  # cached: the same file, no second download


@pytest.mark.slow
def test_a_resumed_training_continues_the_same_mlflow_run(workdir: Path) -> None:
    config = aip_ml.load_config("chase-v1", overrides=[*TINY, "checkpoint_every=1", "eval_episodes=0"])
    run_dir = workdir / "runs" / "r"
    with MlflowCallback() as first:
        aip_ml.train(config, run_dir=run_dir, callbacks=[first])
    longer = config.replace(total_steps=1024)
    with MlflowCallback() as second:
        aip_ml.train(longer, run_dir=run_dir, callbacks=[second], resume=True)
    assert second.run_id == first.run_id
    history = make_client().get_metric_history(_run_id(first), "loss/policy")
    assert [m.step for m in history] == [256, 512, 768, 1024]
