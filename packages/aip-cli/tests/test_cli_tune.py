"""``aip tune``: the command, best.toml through ``aip train``, two real processes on one study, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")
mlflow = pytest.importorskip("mlflow")

from aip_ml import load_config  # noqa: E402
from aip_ml.tune import open_storage  # noqa: E402

pytestmark = pytest.mark.slow

SPACE = """
[study]
objective = "steps_to_target"
pruner = "median"

[fixed]
total_steps = {total_steps}
num_worlds = 8
rollout_steps = 32
minibatch_size = 128
hidden_sizes = [16, 16]
eval_episodes = 8
checkpoint_every = 4
target_every_steps = {every}
target_episodes = 8
torch_threads = 1
engine_threads = 1

[params]
learning_rate = {{ type = "float", low = 1e-4, high = 1e-2, log = true }}
epochs = {{ type = "int", low = 1, high = 2 }}
"""


def _space(folder: Path, total_steps: int = 2048, every: int = 512) -> Path:
    path = folder / "space.toml"
    path.write_text(SPACE.format(total_steps=total_steps, every=every))
    return path


def _aip(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "PYTEST_CURRENT_TEST")}
    return subprocess.Popen(
        [sys.executable, "-m", "aip_cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _client(workdir: Path, uri: str | None = None) -> mlflow.MlflowClient:
    return mlflow.MlflowClient(uri or f"sqlite:///{workdir / 'mlflow.db'}")


def _trial_runs(workdir: Path, study: str, uri: str | None = None) -> list[mlflow.entities.Run]:
    client = _client(workdir, uri)
    experiment = client.get_experiment_by_name("chase-v1")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id], f"tags.`aip.study` = '{study}' and tags.`aip.tune` = 'trial'")
    return sorted(runs, key=lambda r: int(r.data.tags["aip.trial"]))


def test_tune_writes_a_best_config_that_aip_train_uses_as_is(aip, workdir: Path) -> None:
    space = _space(workdir)
    result = aip("tune", "chase-v1", "--space", str(space), "--trials", "2", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "Top trials" in result.output and "Best config: aip-tune/chase-v1/best.toml" in result.output
    assert "optuna-dashboard sqlite:///" in result.output
    best = workdir / "aip-tune" / "chase-v1" / "best.toml"
    study = optuna.load_study(study_name="chase-v1", storage=open_storage(None))
    expected = load_config("chase-v1", overrides=[]).replace(**{**_fixed(space), **dict(study.best_trial.params)})
    assert load_config("chase-v1", best) == expected

    trained = aip(
        "train", "chase-v1", "--config", str(best), "--no-track", "--replays", "0", "--json", "--run-dir", "run"
    )
    assert trained.exit_code == 0, trained.output
    summary = json.loads(trained.stdout)
    assert summary["global_step"] == expected.total_steps
    assert load_config("chase-v1", workdir / "run" / "config.toml") == expected  # as it is, no key changed

    again = aip("tune", "chase-v1", "--space", str(space), "--trials", "2", "--json")
    assert again.exit_code == 0, again.output
    document = json.loads(again.stdout)
    assert document["trials_run_here"] == [] and document["stopped_by"] == "trials"
    assert len(document["top_trials"]) == 2


def _fixed(space: Path) -> dict[str, object]:
    import tomllib

    return dict(tomllib.loads(space.read_text())["fixed"])


def test_a_wrong_space_is_a_usage_error_naming_the_key(aip, workdir: Path) -> None:
    (workdir / "bad.toml").write_text('[params]\nlearnin_rate = { type = "float", low = 1e-4, high = 1e-2 }\n')
    result = aip("tune", "chase-v1", "--space", "bad.toml")
    assert result.exit_code == 2
    assert "'params.learnin_rate' is not a config key; did you mean 'learning_rate'?" in result.output
    assert aip("tune", "duel-v1").exit_code == 2
    shown = aip("tune", "chase-v1", "--show-space")
    assert shown.exit_code == 0 and "search learning_rate: float in [0.0003, 0.003], log scale" in shown.output


@pytest.mark.parametrize("store", ["sqlite", pytest.param("server", marks=pytest.mark.server)])
def test_two_processes_share_one_study_without_duplicates_or_losses(
    workdir: Path, store: str, request: pytest.FixtureRequest
) -> None:
    # Two writers of one MLflow store: a SQLite file here (its creation serialised by a lock), or a
    # real `mlflow server` on 127.0.0.1 that both processes log to.
    uri = request.getfixturevalue("mlflow_server") if store == "server" else None
    space = _space(workdir)
    args = ["tune", "chase-v1", "--space", str(space), "--study", "shared", "--trials", "6", "--startup-trials", "2"]
    if uri:
        args += ["--tracking-uri", uri]
    first, second = (
        _aip(args, workdir),
        _aip(args, workdir),
    )  # a fresh optuna.db and mlflow.db: both race to create them
    outs = [p.communicate(timeout=900) for p in (first, second)]
    for process, (out, err) in zip((first, second), outs, strict=True):
        assert process.returncode == 0, out + err

    study = optuna.load_study(study_name="shared", storage=open_storage(f"sqlite:///{workdir / 'optuna.db'}"))
    trials = study.get_trials()
    numbers = [t.number for t in trials]
    # The budget counts the whole study; two processes may each start one trial as it fills up.
    assert 6 <= len(trials) <= 7 and numbers == list(range(len(trials)))
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)
    workers = {t.user_attrs["aip.worker"] for t in trials}
    assert workers == {f"{os.uname().nodename}:{p.pid}" for p in (first, second)}  # both took trials
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == len(trials)  # no config drawn twice

    runs = _trial_runs(workdir, "shared", uri)
    assert [int(r.data.tags["aip.trial"]) for r in runs] == numbers  # one MLflow run per trial
    parents = {r.data.tags["mlflow.parentRunId"] for r in runs}
    assert len(parents) == 1  # both processes nest under the study's one parent run
    client = _client(workdir, uri)
    if uri:
        assert not (workdir / "mlflow.db").exists()  # everything went to the server
    for run, trial in zip(runs, trials, strict=True):
        assert run.info.status == "FINISHED"
        assert run.data.tags["tune.state"] == trial.state.name
        updates = trial.user_attrs["aip.global_step"] // 256
        assert len(client.get_metric_history(run.info.run_id, "loss/policy")) == updates  # nothing lost


def test_ctrl_c_leaves_the_study_resumable_and_the_trial_resumes_from_its_checkpoint(workdir: Path) -> None:
    space = _space(workdir, total_steps=65_536, every=16_384)
    args = ["tune", "chase-v1", "--space", str(space), "--trials", "1", "--pruner", "none"]
    process = _aip(args, workdir)
    checkpoint = workdir / "aip-tune" / "chase-v1" / "trial-0000" / "checkpoints" / "latest.ckpt"
    deadline = time.monotonic() + 300
    while not checkpoint.is_file():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no checkpoint within 300 s"
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, out + err
    assert "continue the study with: aip tune chase-v1" in err

    storage = open_storage(f"sqlite:///{workdir / 'optuna.db'}")
    trials = optuna.load_study(study_name="chase-v1", storage=storage).get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "WAITING"]
    interrupted = trials[0]
    assert interrupted.user_attrs["aip.interrupted"] is True
    assert 0 < interrupted.user_attrs["aip.global_step"] < 65_536

    again = _aip(args, workdir)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, out + err
    trials = optuna.load_study(study_name="chase-v1", storage=storage).get_trials()
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    resumed = trials[1]
    assert resumed.params == interrupted.params
    assert resumed.user_attrs["aip.resumed"] is True and resumed.user_attrs["aip.resume_of"] == 0
    assert resumed.user_attrs["aip.global_step"] == 65_536

    old, new = _trial_runs(workdir, "chase-v1")
    assert old.info.status == "KILLED" and old.data.tags["tune.state"] == "INTERRUPTED"
    assert new.info.status == "FINISHED" and new.data.tags["aip.resume_of"] == "0"
    # The resumed trial went on from the checkpoint: its first logged update follows the interruption's.
    history = _client(workdir).get_metric_history(new.info.run_id, "loss/policy")
    assert min(m.step for m in history) > 256

    # ... and exactly: the interrupted-then-resumed trial ends with the weights of an uninterrupted run.
    import torch

    import aip_ml

    trial_dir = workdir / "aip-tune" / "chase-v1" / "trial-0001"
    config = aip_ml.load_config(path=trial_dir / "config.toml")
    full = aip_ml.train(config, run_dir=workdir / "uninterrupted")
    resumed_state = aip_ml.load_checkpoint(trial_dir / "checkpoints" / "final.ckpt").state
    full_state = aip_ml.load_checkpoint(full.checkpoint).state
    for name, tensor in full_state["model"].items():
        assert torch.equal(tensor, resumed_state["model"][name]), name
