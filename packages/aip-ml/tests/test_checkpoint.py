"""Checkpoints: a run killed with SIGKILL, or stopped with Ctrl-C, and resumed ends exactly where an
uninterrupted run ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import aip_ml

OVERRIDES = [
    "num_worlds=16",
    "rollout_steps=32",
    "minibatch_size=128",
    "total_steps=4096",  # 8 updates
    "checkpoint_every=2",
    "eval_episodes=0",
    "torch_threads=1",
    "engine_threads=1",
    "hidden_sizes=[32, 32]",
]

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import aip_ml

    run_dir, mode = sys.argv[1], sys.argv[2]
    config = aip_ml.load_config("chase-v1", overrides=sys.argv[3:])

    class Report(aip_ml.CallbackBase):
        checkpoints = 0

        def on_update(self, update, metrics):
            print("UPDATE", update, flush=True)
            if mode == "sigint" and update == 3:
                time.sleep(2)  # the test's SIGINT arrives here: the run stops after update 3

        def on_checkpoint(self, path):
            self.checkpoints += 1
            print("CHECKPOINT", self.checkpoints, flush=True)
            if mode == "hang" and self.checkpoints == 2:
                time.sleep(600)  # the test kills the process here

    result = aip_ml.train(config, run_dir=run_dir, callbacks=[Report()], resume=(mode == "resume"))
    print("RESULT", result.updates, result.interrupted, flush=True)
    """
)


def _env() -> dict[str, str]:
    # The child imports the installed packages (editable or not), like any user's script.
    return dict(os.environ)


def _start(script: Path, run_dir: Path, mode: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(script), str(run_dir), mode, *OVERRIDES],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
    )


def _run(script: Path, run_dir: Path, mode: str) -> str:
    proc = _start(script, run_dir, mode)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    return out


def _weights(path: Path) -> dict[str, torch.Tensor]:
    weights: dict[str, torch.Tensor] = aip_ml.load_checkpoint(path).state["model"]
    return weights


def test_killed_run_resumes_to_the_same_weights(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    full = _run(script, tmp_path / "full", "plain")
    assert "RESULT 8 False" in full

    lines = []
    with _start(script, tmp_path / "killed", "hang") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("CHECKPOINT 2"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(lines)
    latest = tmp_path / "killed" / "checkpoints" / "latest.ckpt"
    assert aip_ml.load_checkpoint(latest).update == 4
    assert not (tmp_path / "killed" / "policy.aipp").exists()

    resumed = _run(script, tmp_path / "killed", "resume")
    assert "UPDATE 5" in resumed
    assert "UPDATE 1\n" not in resumed
    assert "RESULT 8 False" in resumed

    a = _weights(tmp_path / "full" / "checkpoints" / "final.ckpt")
    b = _weights(tmp_path / "killed" / "checkpoints" / "final.ckpt")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    sa = aip_ml.load_checkpoint(tmp_path / "full" / "checkpoints" / "final.ckpt").state
    sb = aip_ml.load_checkpoint(tmp_path / "killed" / "checkpoints" / "final.ckpt").state
    assert torch.equal(sa["obs_rms"]["mean"], sb["obs_rms"]["mean"])
    assert sa["global_step"] == sb["global_step"] == 8 * 16 * 32


def test_sigint_finishes_the_update_and_writes_a_checkpoint(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    out = []
    with _start(script, tmp_path / "run", "plain") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if line.startswith("UPDATE 3"):
                proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    text = "".join(out)
    assert proc.returncode == 0, text
    result_line = next(line for line in out if line.startswith("RESULT"))
    updates = int(result_line.split()[1])
    assert result_line.split()[2] == "True"
    assert updates < 8
    assert aip_ml.load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.ckpt").update == updates
    resumed = _run(script, tmp_path / "run", "resume")
    assert "RESULT 8 False" in resumed
    assert (tmp_path / "run" / "policy.aipp").is_file()


def test_sigint_between_checkpoints_resumes_to_the_same_weights(tmp_path: Path) -> None:
    # Update 3 is not a checkpoint boundary (checkpoint_every=2): the worlds are in mid-episode there,
    # and the continuation must be that of the uninterrupted run, not one from freshly reset worlds.
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    full = _run(script, tmp_path / "full", "plain")
    assert "RESULT 8 False" in full
    out = []
    with _start(script, tmp_path / "run", "sigint") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if line.startswith("UPDATE 3"):
                proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    assert proc.returncode == 0, "".join(out)
    assert "RESULT 3 True" in "".join(out)
    latest = aip_ml.load_checkpoint(tmp_path / "run" / "checkpoints" / "latest.ckpt")
    assert latest.update == 3 and "rollout" in latest.state and latest.state["world_size"] == 1
    resumed = _run(script, tmp_path / "run", "resume")
    assert "UPDATE 4" in resumed and "RESULT 8 False" in resumed
    a = aip_ml.load_checkpoint(tmp_path / "full" / "checkpoints" / "final.ckpt").state
    b = aip_ml.load_checkpoint(tmp_path / "run" / "checkpoints" / "final.ckpt").state
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    for key in ("obs_rms", "ret_rms"):
        assert torch.equal(a[key]["mean"], b[key]["mean"]) and torch.equal(a[key]["var"], b[key]["var"])
    assert torch.equal(a["optimizer"]["state"][0]["exp_avg"], b["optimizer"]["state"][0]["exp_avg"])


def test_run_dir_is_never_overwritten(tmp_path: Path) -> None:
    config = aip_ml.load_config("chase-v1", overrides=[*OVERRIDES, "total_steps=512"])
    aip_ml.train(config, run_dir=tmp_path / "r")
    with pytest.raises(aip_ml.RunDirError, match="already holds a run"):
        aip_ml.train(config, run_dir=tmp_path / "r")
    with pytest.raises(aip_ml.RunDirError, match="nothing to resume"):
        aip_ml.train(config, run_dir=tmp_path / "empty", resume=True)
    with pytest.raises(aip_ml.ConfigError, match="different config"):
        aip_ml.train(config.replace(learning_rate=0.1), run_dir=tmp_path / "r", resume=True)
