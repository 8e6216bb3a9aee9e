"""The trainer's device path (`DevicePPO`, ``device=cuda``) against the CPU learner.

These tests need the engine's CUDA backend: a real one (a GPU), or its host emulation, where the
"device" arrays are host memory exported through DLPack, so that every line of the device path runs
on any machine. ``python tools/check_cuda_build.py --emulate`` builds the emulation and runs them;
so does the ``cuda`` CI job, and a GPU machine runs them as they are (tools/gpu_check.sh).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import aip_engine
import aip_ml
from aip_ml._train import make_worlds
from aip_ml.ppo import PPO, DevicePPO, on_device

pytestmark = pytest.mark.skipif(
    not aip_engine.backends()["cuda"].available,
    reason="needs the engine's CUDA backend or its host emulation: python tools/check_cuda_build.py --emulate",
)

OVERRIDES = [
    "num_worlds=64",
    "rollout_steps=64",
    "minibatch_size=1024",
    "epochs=2",
    "hidden_sizes=[32, 32]",
    "total_steps=40960",  # 10 updates: episodes end by catches and by the 600-frame limit
    "checkpoint_every=0",
    "eval_episodes=0",
    "engine_threads=1",
]


def _device() -> str:
    return "cuda:0"


def _pair(**changes: Any) -> tuple[PPO, PPO]:
    config = aip_ml.load_config("chase-v1", overrides=OVERRIDES).replace(**changes)
    gpu_worlds = make_worlds(config.task, config.num_worlds, seed=config.seed, threads=1, backend=_device())
    cpu_worlds = make_worlds(config.task, config.num_worlds, seed=config.seed, threads=1)
    gpu = DevicePPO(config.replace(device="cuda"), gpu_worlds)
    cpu = PPO(config, cpu_worlds)
    for learner in (gpu, cpu):
        learner.reseed(7)
    return gpu, cpu


def _emulated() -> bool:
    return "emulation" in " ".join(aip_engine.backends()["cuda"].devices)


def test_device_learner_matches_the_cpu_learner_update_by_update() -> None:
    gpu, cpu = _pair()
    assert on_device(gpu.worlds) and not on_device(cpu.worlds)
    saw_episodes = False
    for _ in range(10):
        a, b = gpu.update(), cpu.update()
        # Same seeds, same sampling stream where the device is the host (emulation): the same numbers
        # up to float rounding. On a GPU the sampling stream differs, so only shapes are compared there.
        if _emulated():
            for key in ("loss/value", "loss/policy", "episodes", "episode_return_mean", "success_rate"):
                assert a[key] == pytest.approx(b[key], rel=1e-3, abs=1e-4, nan_ok=True), key
        saw_episodes = saw_episodes or a["episodes"] > 0
    assert saw_episodes
    if _emulated():
        for (name, x), (_, y) in zip(gpu.model.state_dict().items(), cpu.model.state_dict().items(), strict=True):
            assert torch.allclose(x.cpu(), y, atol=1e-4), name
    assert gpu.global_step == cpu.global_step == 10 * gpu.config.batch_size


def test_device_learner_keeps_the_rollout_on_the_engines_device() -> None:
    gpu, _ = _pair()
    device = gpu.device
    assert gpu.model.log_std.device == device
    for name in ("obs", "raw_obs", "actions", "rewards", "returns_acc", "dones", "boot_values", "values"):
        assert getattr(gpu.dbuf, name).device == device, name
    gpu.begin_rollout()
    actions = gpu.act(0)
    assert isinstance(actions, torch.Tensor) and actions.device == device
    # Zero copy: the learner's observation view is the engine's own buffer.
    assert gpu._v_obs.data_ptr() == gpu.worlds.observations(gpu.role).data_ptr
    result = gpu.worlds.step(actions)
    gpu.record(0, result)
    assert gpu._v_obs.data_ptr() == gpu.worlds.observations(gpu.role).data_ptr


def test_device_checkpoint_loads_evaluates_and_resumes_on_the_host(tmp_path: Path) -> None:
    config = aip_ml.load_config("chase-v1", overrides=[*OVERRIDES, "total_steps=8192", "device=cuda"])
    result = aip_ml.train(config.replace(checkpoint_every=1), run_dir=tmp_path / "run")
    assert result.updates == 2 and result.policy_path is not None and result.policy_path.is_file()
    checkpoint = aip_ml.load_checkpoint(result.checkpoint)
    assert all(t.device.type == "cpu" for t in checkpoint.state["model"].values())
    report = aip_ml.evaluate(result.policy_path, "chase-v1", episodes=8, bots=False)
    assert report.agent.episodes == 8
    resumed = aip_ml.train(config.replace(checkpoint_every=1, total_steps=12288), run_dir=tmp_path / "run", resume=True)
    assert resumed.updates == 3 and not resumed.interrupted


def test_device_path_refuses_what_it_does_not_support_yet() -> None:
    config = aip_ml.load_config("chase-v1", overrides=[*OVERRIDES, "device=cuda"])
    worlds = make_worlds(config.task, config.num_worlds, seed=0, threads=1, backend=_device())
    with pytest.raises(aip_ml.ConfigError, match=r"imitate_bot.*device"):
        DevicePPO(config.replace(imitate_bot="chase"), worlds)
