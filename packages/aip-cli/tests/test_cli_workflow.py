"""The whole path through real parts: train → models list → promote → export → eval → play."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aip_cli import ExitCode, app


class Session:
    """One working directory (its own SQLite store) shared by the steps of the workflow."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.runner = CliRunner()
        self.first: dict[str, Any] = {}
        self.second_output = ""

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args))

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory, tiny: list[str]) -> Iterator[Session]:
    root = tmp_path_factory.mktemp("workflow")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("AIP_CACHE_DIR", str(root / "cache"))
        mp.setenv("AIP_GAME_HOME", str(root / "game-data"))
        mp.setenv("SDL_VIDEODRIVER", "dummy")
        mp.setenv("SDL_AUDIODRIVER", "dummy")
        run = Session(root)
        # Two identical trainings (same seed): two versions with equal skill.
        run.first = run.json("train", "chase-v1", *tiny)
        second = run("train", "chase-v1", *tiny)
        assert second.exit_code == 0, second.output
        run.second_output = second.stdout
        yield run


def test_train_reports_json_registers_and_says_how_to_play(session: Session) -> None:
    first = session.first
    assert first["global_step"] == 512 and first["interrupted"] is False
    assert [v["reference"] for v in first["registered"]] == ["chase-v1-enemy/1"]
    assert first["play_command"] == "aip play --opponent chase-v1-enemy/1"
    assert Path(first["policy"]).is_file()
    assert 0.0 <= first["evaluation"]["agent"]["success_rate"] <= 1.0
    assert (session.root / "mlflow.db").is_file() and (session.root / "mlartifacts").is_dir()


def test_train_text_output_ends_with_the_play_command(session: Session) -> None:
    out = session.second_output
    assert "Registered chase-v1-enemy/2" in out
    assert out.strip().splitlines()[-1] == "Play against it:  aip play --opponent chase-v1-enemy/2"


def test_models_list(session: Session) -> None:
    listing = session.json("models", "list")
    assert [v["reference"] for v in listing["versions"]] == ["chase-v1-enemy/2", "chase-v1-enemy/1"]
    assert all("success_rate" in v["scores"] for v in listing["versions"])
    table = session("models", "list", "chase-v1")
    assert table.exit_code == 0
    assert "chase-v1-enemy/1" in table.stdout and "chase-v1-enemy/2" in table.stdout


def test_promote_refuses_an_equal_candidate_unless_forced(session: Session) -> None:
    first = session("models", "promote", "chase-v1-enemy/1")
    assert first.exit_code == 0, first.output
    assert "now @champion" in first.stdout
    refused = session("models", "promote", "chase-v1-enemy/2", "--episodes", "8")
    assert refused.exit_code == ExitCode.REFUSED
    assert "does not beat @champion chase-v1-enemy/1" in " ".join(refused.stdout.split())
    assert "--force" in refused.stdout
    assert session.json("models", "show", "chase-v1-enemy@champion")["version"] == 1
    bare = session("models", "promote", "chase-v1-enemy")
    assert bare.exit_code == ExitCode.USAGE  # a bare name is ambiguous for promotion
    forced = session.json("models", "promote", "chase-v1-enemy/2", "--force")
    assert forced["promoted"] is True
    shown = session.json("models", "show", "chase-v1-enemy")
    assert shown["version"] == 2 and shown["aliases"] == ["champion"]


def test_export_never_overwrites_silently(session: Session) -> None:
    target = session.root / "exported" / "enemy.aipp"
    first = session("models", "export", "chase-v1-enemy/1", str(target))
    assert first.exit_code == 0, first.output
    data = target.read_bytes()
    again = session("models", "export", "chase-v1-enemy/2", str(target))
    assert again.exit_code == ExitCode.REFUSED
    assert "--force" in again.stderr
    assert target.read_bytes() == data
    forced = session("models", "export", "chase-v1-enemy/2", str(target), "--force")
    assert forced.exit_code == 0
    into = session.json("models", "export", "chase-v1-enemy/1", f"{session.root / 'dir'}/")
    assert Path(into["path"]).name == "chase-v1-enemy-v1.aipp"


def test_export_as_onnx_runs_like_the_policy_file(session: Session) -> None:
    import numpy as np
    import onnx
    import onnxruntime as ort

    import aip_engine

    aipp = session.root / "exported-onnx" / "enemy.aipp"
    assert session("models", "export", "chase-v1-enemy/1", str(aipp)).exit_code == 0
    done = session.json(
        "models", "export", "chase-v1-enemy/1", f"{session.root / 'exported-onnx'}/", "--format", "onnx"
    )
    path = Path(done["path"])
    assert path.name == "chase-v1-enemy-v1.onnx" and done["format"] == "onnx"
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["aip.role"] == "enemy" and meta["aip.task"] == "chase-v1"
    # The trained policy on the engine's own observations: onnxruntime and the portable runtime agree.
    worlds = aip_engine.Worlds("chase-v1", 64, seed=9)
    worlds.reset()
    policy = aip_engine.load_policy(aipp)
    session_ = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for _ in range(50):
        obs = np.array(worlds.observations("enemy"))
        (action,) = session_.run(["action"], {"observation": obs})
        np.testing.assert_allclose(action, policy.act(obs), atol=2e-5, rtol=0)
        worlds.step(policy.act(obs))
    again = session("models", "export", "chase-v1-enemy/2", str(path), "--format", "onnx")
    assert again.exit_code == ExitCode.REFUSED and "--force" in again.stderr
    assert session("models", "export", "chase-v1-enemy/2", str(path), "--format", "onnx", "--force").exit_code == 0
    wrong = session("models", "export", "chase-v1-enemy/1", str(path), "--format", "tflite")
    assert wrong.exit_code == ExitCode.USAGE and "--format must be one of aipp, onnx" in wrong.stderr


def test_export_refuses_special_files_and_writes_readable_files(session: Session) -> None:
    # `aip models export MODEL /dev/null --force` once replaced the device node with a file; here a
    # FIFO and a device node of the test's own (never /dev/null itself) stand in for it.
    import os
    import stat

    folder = session.root / "special"
    folder.mkdir()
    fifo = folder / "pipe.aipp"
    os.mkfifo(fifo)
    targets = [fifo]
    if os.geteuid() == 0:
        device = folder / "null.aipp"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        targets.append(device)
    for target in targets:
        refused = session("models", "export", "chase-v1-enemy/1", str(target), "--force")
        assert refused.exit_code == ExitCode.REFUSED, refused.output
        assert "not a regular file" in refused.stderr
        assert not stat.S_ISREG(os.lstat(target).st_mode)
    old = os.umask(0o022)
    try:
        fresh = folder / "fresh.aipp"
        assert session("models", "export", "chase-v1-enemy/1", str(fresh)).exit_code == 0
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        fresh.chmod(0o640)
        assert session("models", "export", "chase-v1-enemy/2", str(fresh), "--force").exit_code == 0
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o640  # a replaced file keeps its permissions
    finally:
        os.umask(old)


def test_train_refuses_a_second_task_and_infinite_numbers(session: Session) -> None:
    twice = session("train", "chase-v1", "task=dodge-v1", "total_steps=64")
    assert twice.exit_code == ExitCode.USAGE
    assert "names another task than 'chase-v1'" in twice.stderr
    infinite = session("train", "chase-v1", "learning_rate=inf")
    assert infinite.exit_code == ExitCode.USAGE
    assert "'learning_rate': expected a finite number, got inf" in infinite.stderr


def test_eval_of_a_file_a_model_and_a_bot(session: Session) -> None:
    target = session.root / "exported" / "for-eval.aipp"
    assert session("models", "export", "chase-v1-enemy/1", str(target)).exit_code == 0
    from_file = session.json("eval", str(target), "--episodes", "8")
    assert from_file["task"] == "chase-v1"  # read from the policy file's header
    assert set(from_file["bots"]) == {"chase", "intercept"}
    from_model = session.json("eval", "chase-v1-enemy/1", "-n", "8", "--no-bots")
    assert from_model["agent"] == from_file["agent"]  # the same policy on the same seeds
    assert from_model["bots"] == {}
    bot = session.json("eval", "bot:chase", "--task", "chase-v1", "-n", "8")
    for key in ("success_rate", "mean_return", "mean_frames"):
        assert bot["agent"][key] == pytest.approx(from_file["bots"]["chase"][key])
    table = session("eval", "bot:intercept", "--task", "chase-v1", "-n", "8")
    assert table.exit_code == 0 and "bot:intercept" in table.stdout


def test_play_against_the_champion_headless(session: Session) -> None:
    result = session("play", "--opponent", "chase-v1-enemy@champion", "--headless", "--frames", "30")
    assert result.exit_code == 0, result.output
    assert "chase-v1-enemy/2" in result.stdout
    wrong_side = session("play", "--opponent", "chase-v1-enemy", "--side", "enemy", "--headless")
    assert wrong_side.exit_code == ExitCode.USAGE
    assert "--side player" in wrong_side.stderr


def test_play_with_a_window_finds_the_model_behind_a_loading_line(session: Session) -> None:
    result = session("play", "--opponent", "chase-v1-enemy@champion", "--frames", "150")
    assert result.exit_code == 0, result.output
    log = (session.root / "game-data" / "game.log").read_text()
    assert "game started: player against chase-v1-enemy v2 @champion" in log


def test_a_learned_player_is_played_against_and_watched(session: Session, tiny: list[str]) -> None:
    trained = session("train", "survive-v1", *tiny)
    assert trained.exit_code == 0, trained.output
    assert "Play against it:  aip play --opponent survive-v1-player/1 --side enemy" in trained.stdout
    assert "Watch it play:    aip play --player survive-v1-player/1 --side watch" in trained.stdout
    hunted = session("play", "--opponent", "survive-v1-player/1", "--side", "enemy", "--frames", "60")
    assert hunted.exit_code == 0, hunted.output
    watched = session("play", "--side", "watch", "--player", "survive-v1-player/1", "--frames", "60")
    assert watched.exit_code == 0, watched.output
    assert "Player: survive-v1-player/1" in watched.stdout
    log = (session.root / "game-data" / "game.log").read_text()
    assert "game started: enemy against survive-v1-player v1" in log
    # the default enemy of Watch, and the model's name and version (not its cached file's stem, "policy")
    assert "game started: watch against bot: staged with survive-v1-player v1 as the player" in log
    against = session(
        "play", "--side", "watch", "--player", "survive-v1-player/1", "-o", "bot:chase", "--headless", "--frames", "30"
    )
    assert against.exit_code == 0, against.output
    wrong = session("play", "--side", "watch", "--player", "chase-v1-enemy/1", "--headless", "--frames", "30")
    assert wrong.exit_code == ExitCode.USAGE and "--player flies the player" in wrong.stderr
    alone = session("play", "--player", "survive-v1-player/1", "--headless", "--frames", "30")
    assert alone.exit_code == ExitCode.USAGE and "--side watch" in alone.stderr
    from aip_cli._train import watch_command

    assert watch_command("aip play --opponent chase-v1-enemy/1") is None


@pytest.mark.slow
def test_resume_continues_the_latest_run(session: Session, tiny: list[str]) -> None:
    more = [o for o in tiny if not o.startswith("total_steps=")] + ["total_steps=1024"]
    resumed = session.json("train", "chase-v1", *more, "--resume")
    assert resumed["global_step"] == 1024
    second_run = session.json("models", "show", "chase-v1-enemy/2")["run_id"]
    assert [v["reference"] for v in resumed["registered"]] == ["chase-v1-enemy/3"]
    assert resumed["registered"][0]["run_id"] == second_run  # the same MLflow run, continued
    assert resumed["mlflow_run_id"] == second_run


def test_play_command_depends_on_the_role() -> None:
    from aip_cli._train import play_command

    assert play_command("chase-v1-enemy/1", "enemy", None) == "aip play --opponent chase-v1-enemy/1"
    assert play_command("p.aipp", "player", "http://h:5000") == (
        "aip play --opponent p.aipp --side enemy --tracking-uri http://h:5000"
    )
    assert play_command("intercept-v1-missile/1", "missile", None) is None
