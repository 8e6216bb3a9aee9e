"""aip_ml.tune: search spaces, the pruning callback, studies on real Optuna storages with MLflow runs."""

from __future__ import annotations

from pathlib import Path

import pytest

optuna = pytest.importorskip("optuna")
aip_ml = pytest.importorskip("aip_ml")
mlflow = pytest.importorskip("mlflow")

from aip_ml.tune import (  # noqa: E402
    PruningCallback,
    SearchSpaceError,
    StudyError,
    best_config_toml,
    load_space,
    not_reached_value,
    open_storage,
    space_tasks,
    top_trials,
    tune,
    write_best_config,
)
from aip_ml.tune._study import _sampler  # noqa: E402

TINY_FIXED = """
[fixed]
total_steps = 2048
num_worlds = 8
rollout_steps = 32
minibatch_size = 128
hidden_sizes = [16, 16]
eval_episodes = 8
checkpoint_every = 4
target_every_steps = 512
target_episodes = 8
torch_threads = 1
engine_threads = 1
"""


def _space_file(folder: Path, params: str, study: str = "", fixed: str = TINY_FIXED) -> Path:
    path = folder / "space.toml"
    path.write_text(f"[study]\n{study}\n{fixed}\n[params]\n{params}\n")
    return path


PARAMS = "\n".join(
    [
        'learning_rate = { type = "float", low = 1e-4, high = 1e-2, log = true }',
        'epochs = { type = "int", low = 1, high = 2 }',
    ]
)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return tmp_path


# --- search spaces --------------------------------------------------------------------------------


def test_every_shipped_space_loads_against_its_task_config() -> None:
    assert set(space_tasks()) == {"chase-v1", "chase-flee-v1", "dodge-v1", "intercept-v1", "survive-v1"}
    assert "chase-v1.space" not in aip_ml.config_tasks()  # spaces are not training configs
    for task in space_tasks():
        space = load_space(task)
        assert space.objective == "steps_to_target" and space.direction == "minimize"
        assert space.params and all(p.name in aip_ml.TrainConfig.field_help() for p in space.params)


@pytest.mark.parametrize(
    ("params", "fixed", "study", "words"),
    [
        (
            'learnin_rate = { type = "float", low = 1e-4, high = 1e-2 }',
            "",
            "",
            ["params.learnin_rate", "learning_rate"],
        ),
        ('learning_rate = { type = "floaty", low = 1e-4, high = 1e-2 }', "", "", ["params.learning_rate", "floaty"]),
        ('learning_rate = { type = "float", low = 1e-2, high = 1e-4 }', "", "", ["params.learning_rate", "below"]),
        ('learning_rate = { type = "float", low = 0.0, high = 1e-2, log = true }', "", "", ["log scale", "low > 0"]),
        ('learning_rate = { type = "float", low = 1e-4 }', "", "", ["params.learning_rate", "high"]),
        ('epochs = { type = "int", low = 1.5, high = 4 }', "", "", ["params.epochs", "integer"]),
        (
            'minibatch_size = { type = "categorical", choices = [100, 128] }',
            "",
            "",
            ["params.minibatch_size", "100", "divide"],
        ),
        ('activation = { type = "float", low = 0.1, high = 0.2 }', "", "", ["params.activation", "categorical"]),
        ('task = { type = "categorical", choices = ["dodge-v1"] }', "", "", ["params.task", "cannot be searched"]),
        ('epochs = { type = "int", low = 1, high = 4, steps = 2 }', "", "", ["params.epochs", "'steps'"]),
        ('epochs = { type = "int", low = 1, high = 4 }', "epochs = 3\n", "", ["epochs", "both fixed and searched"]),
        ('epochs = { type = "int", low = 1, high = 4 }', "epochz = 3\n", "", ["fixed.epochz", "epochs"]),
        ('epochs = { type = "int", low = 1, high = 4 }', "", 'objective = "speed"', ["objective", "steps_to_target"]),
        ('epochs = { type = "int", low = 1, high = 4 }', "", 'pruner = "hyperband"', ["pruner", "median"]),
        (
            'epochs = { type = "int", low = 1, high = 4 }',
            "target_every_steps = 0\n",
            "",
            ["steps_to_target", "target_every_steps"],
        ),
        ("", "", "", ["[params] is empty"]),
    ],
)
def test_a_wrong_space_names_the_key_and_the_fix(
    tmp_path: Path, params: str, fixed: str, study: str, words: list[str]
) -> None:
    path = _space_file(
        tmp_path,
        params,
        study,
        TINY_FIXED + fixed
        if "target_every" not in fixed
        else TINY_FIXED.replace("target_every_steps = 512", fixed.strip()),
    )
    with pytest.raises(SearchSpaceError) as caught:
        load_space("chase-v1", path)
    message = str(caught.value)
    assert str(path) in message
    for word in words:
        assert word in message


def test_space_files_that_are_not_spaces_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError, match="does not exist"):
        load_space("chase-v1", tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[params\n")
    with pytest.raises(SearchSpaceError, match="not valid TOML"):
        load_space("chase-v1", tmp_path / "bad.toml")
    (tmp_path / "table.toml").write_text("[paramz]\n")
    with pytest.raises(SearchSpaceError, match=r"unknown table \[paramz\]; did you mean 'params'"):
        load_space("chase-v1", tmp_path / "table.toml")
    with pytest.raises(SearchSpaceError, match="self-play"):
        load_space("duel-v1")
    with pytest.raises(SearchSpaceError, match="steps_to_target"):
        load_space("chase-v1").with_study(objective="steps_to_targets")


def test_list_choices_round_trip_through_optuna() -> None:
    space = load_space("chase-v1")
    hidden = next(p for p in space.params if p.name == "hidden_sizes")
    study = optuna.create_study()
    trial = study.ask()
    value = hidden.suggest(trial)
    assert value in ([64, 64], [128, 128])
    assert space.config_values(trial.params)["hidden_sizes"] == value
    assert hidden.to_optuna((64, 64)) == "[64, 64]"


# --- sampling and pruning -------------------------------------------------------------------------


def test_the_sampler_is_seeded_by_the_study_seed_and_the_trial_number() -> None:
    space = load_space("chase-v1")

    def draws(seed: int) -> list[dict[str, object]]:
        study = optuna.create_study()
        out = []
        for number in range(3):
            study.sampler = _sampler(seed, number, startup=5)
            trial = study.ask()
            out.append(space.suggest(trial))
            study.tell(trial, 1.0 + number)
        return out

    first, again, other = draws(7), draws(7), draws(8)
    assert first == again
    assert first != other
    assert first[0] != first[1]  # two trials never share a start-up draw


class _View:
    def __init__(self) -> None:
        self.time_to_target = None
        self.global_step = 0


def test_the_pruning_callback_reports_on_the_grid_and_prunes_a_worse_trial() -> None:
    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.MedianPruner(1, 0))
    good = study.ask()
    callback = PruningCallback(good, "return", report_every=100, budget=1000)
    callback.on_attach(_View())
    for step, value in ((50, 0.5), (130, 1.0), (170, 9.0), (220, 2.0)):
        callback.on_update(0, {"global_step": step, "episode_return_mean": value})
    assert callback.reports == {100: 1.0, 200: 2.0}  # the first update past each grid point
    study.tell(good, 2.0)
    bad = study.ask()
    callback = PruningCallback(bad, "return", report_every=100, budget=1000)
    callback.on_attach(_View())
    with pytest.raises(optuna.TrialPruned):
        callback.on_update(0, {"global_step": 110, "episode_return_mean": -3.0})
    assert callback.pruned_at == 100
    assert not_reached_value(1000, 0.25) == 1750.0
    assert not_reached_value(1000, float("nan")) == 2000.0


# --- studies --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_study_nests_its_trials_in_mlflow_and_writes_a_best_config(workdir: Path) -> None:
    base = aip_ml.load_config("chase-v1")
    space = load_space("chase-v1", _space_file(workdir, PARAMS), base=base)
    result = tune(space, base, steps=3 * 2048, seed=1, startup_trials=2)
    assert result.stopped_by == "steps"
    trained = [o.global_step for o in result.outcomes]  # pruned or confirmed-early trials train less
    assert sum(trained[:-1]) < 3 * 2048 <= sum(trained)
    assert [o.number for o in result.outcomes] == list(range(len(trained)))
    assert {o.state for o in result.outcomes} <= {"COMPLETE", "PRUNED"}
    study = optuna.load_study(study_name="chase-v1", storage=open_storage(None))
    assert (workdir / "optuna.db").is_file()
    count = len(trained)
    assert len(study.trials) == count

    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    parent = client.get_run(result.parent_run_id or "")
    assert parent.info.run_name == "tune:chase-v1" and parent.info.status == "FINISHED"
    assert parent.data.metrics["tune/trials_complete"] + parent.data.metrics.get("tune/trials_pruned", 0) == count
    experiment = parent.info.experiment_id
    children = client.search_runs([experiment], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    assert sorted(int(r.data.tags["aip.trial"]) for r in children) == list(range(count))
    for run, outcome in zip(
        sorted(children, key=lambda r: int(r.data.tags["aip.trial"])), result.outcomes, strict=True
    ):
        assert run.info.run_id == outcome.mlflow_run_id
        assert float(run.data.params["learning_rate"]) == pytest.approx(outcome.params["learning_rate"])
        assert run.data.tags["tune.state"] == outcome.state
        assert client.get_metric_history(run.info.run_id, "tune/intermediate")
        if outcome.state == "COMPLETE":
            assert run.data.metrics["tune/value"] == pytest.approx(outcome.value)

    best = study.best_trial
    text = best_config_toml(study, space, base.replace(**space.fixed))
    path = write_best_config(workdir / "best.toml", text)
    config = aip_ml.load_config("chase-v1", path)
    assert config.learning_rate == pytest.approx(best.params["learning_rate"])
    assert config.epochs == best.params["epochs"] and config.total_steps == 2048
    rows = top_trials(study, space)
    assert rows[0]["number"] == best.number
    assert [r["value"] for r in rows if r["state"] == "COMPLETE"] == sorted(
        t.value for t in study.trials if t.state.name == "COMPLETE"
    )

    (workdir / "other.toml").write_text("task = 'chase-v1'\n")
    with pytest.raises(FileExistsError, match="not written by aip tune"):
        write_best_config(workdir / "other.toml", text)
    # The study is full: running it again trains nothing; another space is refused.
    again = tune(space, base, trials=count)
    assert again.outcomes == [] and again.stopped_by == "trials"
    other = load_space("chase-v1", _space_file(workdir, 'epochs = { type = "int", low = 1, high = 3 }'), base=base)
    with pytest.raises(StudyError, match=r"another (objective|params)"):
        tune(other, base, trials=count)


@pytest.mark.slow
def test_a_failed_trial_is_recorded_and_the_study_goes_on_in_a_journal(workdir: Path) -> None:
    base = aip_ml.load_config("chase-v1")
    params = PARAMS + '\ninit_from = { type = "categorical", choices = ["", "missing/policy.aipp"] }'
    space = load_space("chase-v1", _space_file(workdir, params), base=base)
    storage = "journal:study.log"
    result = tune(
        space,
        base,
        storage=storage,
        trials=2,
        enqueue=[{"init_from": "missing/policy.aipp", "learning_rate": 1e-3, "epochs": 1}],
        study_name="journal-study",
    )
    assert [o.state for o in result.outcomes] == ["FAIL", "COMPLETE"]
    assert "missing/policy.aipp" in result.outcomes[0].message
    assert (workdir / "study.log").is_file() and not (workdir / "optuna.db").exists()
    study = optuna.load_study(study_name="journal-study", storage=open_storage(storage))
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE"]
    client = mlflow.MlflowClient(f"sqlite:///{workdir / 'mlflow.db'}")
    failed = client.get_run(result.outcomes[0].mlflow_run_id or "")
    assert failed.info.status == "FAILED" and failed.data.tags["tune.state"] == "FAIL"
    assert "missing/policy.aipp" in failed.data.tags["tune.message"]
