"""Data-parallel training under real torchrun processes (2 ranks, gloo, rendezvous on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

import aip_engine
import aip_ml
from aip_ml import distributed

pytestmark = [pytest.mark.slow, pytest.mark.server]

# 2 ranks x 8 worlds x 16 steps = 256 samples per update; 12 updates; a checkpoint every 3.
OVERRIDES = [
    "num_worlds=8",
    "rollout_steps=16",
    "minibatch_size=64",
    "epochs=2",
    "total_steps=3072",
    "checkpoint_every=3",
    "eval_episodes=0",
    "torch_threads=1",
    "engine_threads=1",
    "hidden_sizes=[16, 16]",
]

CHECK_SCRIPT = textwrap.dedent(
    """
    import copy, json, sys
    import torch
    import aip_ml
    from aip_ml import distributed
    from aip_ml.ppo import PPO, derive_seed
    from aip_ml._train import make_worlds

    out, overrides = sys.argv[1], sys.argv[2:]
    config = aip_ml.load_config("chase-v1", overrides=overrides)

    class Keep(aip_ml.CallbackBase):
        def on_attach(self, view):
            self.view = view

        def on_end(self, result):
            policy = self.view.policy()
            torch.save(
                {"model": policy.model.state_dict(), "mean": torch.as_tensor(policy.normalizer.mean).clone()},
                f"{out}/weights-{group.rank}.pt",
            )

    with distributed.session() as group:
        aip_ml.train(config, run_dir=f"{out}/run", callbacks=[Keep()])
        # One update of one minibatch: the gradient each rank applies is the mean of the ranks' own.
        one = config.replace(epochs=1, minibatch_size=config.batch_size, max_grad_norm=1e9, target_kl=0.0,
                             reward_scale=False)
        worlds = make_worlds("chase-v1", one.num_worlds, seed=0, threads=1)
        ppo = distributed.DistributedPPO(one, worlds, group)
        ppo.reseed(derive_seed(one.seed, 0))
        ppo.collect()
        local = PPO(one, worlds)
        local.load_state_dict(ppo.state_dict())
        local.generator.set_state(ppo.generator.get_state())
        local.buf = copy.deepcopy(ppo.buf)
        local._obs = ppo._obs.copy()
        ppo.learn()
        local.learn()
        applied = torch.cat([p.grad.reshape(-1) for p in ppo.model.parameters()])
        own = torch.cat([p.grad.reshape(-1) for p in local.model.parameters()])
        mean = torch.stack(group.all_gather(own, "test")).mean(dim=0)
        weights = torch.cat([p.detach().reshape(-1) for p in ppo.model.parameters()])
        first = group.all_gather(weights, "test")[0]
        report = {
            "mean_error": float((applied - mean).abs().max()),
            "own_distance": float((applied - own).abs().max()),
            "scale": float(own.abs().max()),
            "same_weights": bool(torch.equal(weights, first)),
        }
        with open(f"{out}/check-{group.rank}.json", "w") as f:
            json.dump(report, f)
    """
)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def _rank_pids(root: int, ranks: int, timeout: float = 60.0) -> dict[int, int]:
    """The worker processes under ``root``, by the RANK torchrun gave them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids: dict[int, int] = {}
        for pid in _descendants(root):
            try:
                env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            rank = next((e[5:].decode() for e in env if e.startswith(b"RANK=")), None)
            if rank is not None and b"aip_ml\x00train" in cmd:
                pids[int(rank)] = pid
        if len(pids) == ranks:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"the {ranks} ranks under {root} did not start")


class Launch:
    """`distributed.launch_local` in a thread, so that the test can signal its processes."""

    def __init__(self, worker: list[str]) -> None:
        self.lines: list[str] = []
        self.result: distributed.LaunchResult | None = None
        self._before = set(_children(os.getpid()))
        self._thread = threading.Thread(target=self._run, args=(worker,), daemon=True)
        self._thread.start()

    def _run(self, worker: list[str]) -> None:
        self.result = distributed.launch_local(2, worker, echo=self.lines.append)

    def torchrun_pid(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = set(_children(os.getpid())) - self._before
            if new:
                return new.pop()
            time.sleep(0.05)
        raise AssertionError("torchrun did not start")

    def wait(self, timeout: float = 120.0) -> distributed.LaunchResult:
        self._thread.join(timeout)
        assert self.result is not None, "torchrun did not end:\n" + "".join(self.lines)
        return self.result


def _worker(run_dir: Path, *extra: str) -> list[str]:
    return ["-m", "aip_ml", "train", "chase-v1", "--run-dir", str(run_dir), "--no-track", "--quiet", *OVERRIDES, *extra]


def _wait_for(check: Callable[[], bool], what: str, launch: Launch, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if launch.result is not None:
            raise AssertionError(f"the run ended before {what}:\n" + "".join(launch.lines))
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}:\n" + "".join(launch.lines))


def _checkpoint_at(run_dir: Path, least: int) -> Callable[[], bool]:
    def check() -> bool:
        path = run_dir / "checkpoints" / "latest.ckpt"
        if not path.is_file():
            return False
        try:
            return aip_ml.load_checkpoint(path).update >= least
        except aip_ml.CheckpointError:
            return False

    return check


def _final(run_dir: Path) -> dict[str, Any]:
    state: dict[str, Any] = aip_ml.load_checkpoint(run_dir / "checkpoints" / "final.ckpt").state
    return state


def _assert_same_final(a: Path, b: Path) -> None:
    sa, sb = _final(a), _final(b)
    assert sa["world_size"] == sb["world_size"] == 2
    assert sa["global_step"] == sb["global_step"] == 3072
    for key in sa["model"]:
        assert torch.equal(sa["model"][key], sb["model"][key]), key
    assert torch.equal(sa["obs_rms"]["mean"], sb["obs_rms"]["mean"])
    assert torch.equal(sa["ret_rms"]["var"], sb["ret_rms"]["var"])


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted 2-rank run of OVERRIDES."""
    run_dir = tmp_path_factory.mktemp("ddp") / "full"
    launch = Launch(_worker(run_dir))
    result = launch.wait()
    assert result.returncode == 0, "".join(launch.lines)
    return run_dir


def test_ranks_agree_and_apply_the_mean_gradient(tmp_path: Path) -> None:
    script = tmp_path / "check.py"
    script.write_text(CHECK_SCRIPT)
    launch = Launch([str(script), str(tmp_path), *OVERRIDES, "total_steps=1536"])
    result = launch.wait()
    assert result.returncode == 0, "".join(launch.lines)
    w0 = torch.load(tmp_path / "weights-0.pt")
    w1 = torch.load(tmp_path / "weights-1.pt")
    for key in w0["model"]:
        assert torch.equal(w0["model"][key], w1["model"][key]), key
    assert torch.equal(w0["mean"], w1["mean"])  # the observation statistics are the ranks' combined ones
    for rank in (0, 1):
        check = json.loads((tmp_path / f"check-{rank}.json").read_text())
        assert check["same_weights"]
        # The applied gradient is the ranks' mean (float rounding aside) and not the rank's own: a rank
        # that trained alone would apply its own gradient, far from the mean.
        assert check["mean_error"] <= 1e-6 * check["scale"], check
        assert check["own_distance"] > 1e-3 * check["scale"], check


def test_a_killed_rank_ends_the_run_and_the_resume_is_exact(full_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "killed"
    launch = Launch(_worker(run_dir))
    pids = _rank_pids(launch.torchrun_pid(), 2)
    _wait_for(_checkpoint_at(run_dir, 3), "the first checkpoint", launch)
    os.kill(pids[1], signal.SIGKILL)
    result = launch.wait(timeout=60)  # no hang: rank 0 ends too
    assert result.returncode == 1
    assert result.culprit is not None and result.culprit.describe() == "rank 1 was killed by SIGKILL", result
    latest = aip_ml.load_checkpoint(run_dir / "checkpoints" / "latest.ckpt")
    assert latest.update in (3, 6, 9) and latest.state["world_size"] == 2
    assert not (run_dir / "checkpoints" / "final.ckpt").exists()

    resumed = Launch(_worker(run_dir, "--resume"))
    assert resumed.wait().returncode == 0, "".join(resumed.lines)
    _assert_same_final(full_run, run_dir)


def test_sigint_stops_every_rank_and_the_resume_is_exact(full_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "interrupted"
    launch = Launch(_worker(run_dir))
    torchrun = launch.torchrun_pid()
    pids = _rank_pids(torchrun, 2)
    _wait_for(_checkpoint_at(run_dir, 3), "the first checkpoint", launch)
    for pid in (torchrun, *pids.values()):  # what Ctrl-C does: the whole process group gets SIGINT
        os.kill(pid, signal.SIGINT)
    result = launch.wait(timeout=60)
    assert result.interrupted, "".join(launch.lines)
    assert not result.culprit or all(f.exitcode == 130 for f in result.failures), result
    latest = aip_ml.load_checkpoint(run_dir / "checkpoints" / "latest.ckpt")
    assert 3 <= latest.update < 12, "".join(launch.lines)

    resumed = Launch(_worker(run_dir, "--resume"))
    assert resumed.wait().returncode == 0, "".join(resumed.lines)
    _assert_same_final(full_run, run_dir)


DEVICE_SCRIPT = textwrap.dedent(
    """
    import os, sys
    import aip_engine
    aip_engine.__path__.extend(p for p in os.environ["AIP_TEST_ENGINE_PATH"].split(os.pathsep) if p)
    import torch
    import aip_ml
    from aip_ml import distributed

    out, overrides = sys.argv[1], sys.argv[2:]
    config = aip_ml.load_config("chase-v1", overrides=overrides)

    class Keep(aip_ml.CallbackBase):
        def on_attach(self, view):
            self.view = view

        def on_end(self, result):
            torch.save(self.view.policy().model.state_dict(), f"{out}/weights-{group.rank}.pt")

    with distributed.session(config.device) as group:
        result = aip_ml.train(config, run_dir=f"{out}/run", callbacks=[Keep()])
        print("BACKEND", group.backend, result.global_step, flush=True)
    """
)


@pytest.mark.gpu
@pytest.mark.skipif(
    not aip_engine.backends()["cuda"].available,
    reason="needs the engine's CUDA backend or its host emulation",
)
def test_the_device_learner_trains_on_two_ranks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if torch.cuda.is_available() and torch.cuda.device_count() < 2:
        pytest.skip("NCCL needs a GPU per rank: 2 GPUs")
    # The host emulation is found through aip_engine's path (tools/check_cuda_build.py --emulate).
    monkeypatch.setenv("AIP_TEST_ENGINE_PATH", os.pathsep.join(list(aip_engine.__path__)[1:]))
    script = tmp_path / "device.py"
    script.write_text(DEVICE_SCRIPT)
    launch = Launch([str(script), str(tmp_path), *OVERRIDES, "device=cuda", "total_steps=1536"])
    result = launch.wait()
    assert result.returncode == 0, "".join(launch.lines)
    w0, w1 = torch.load(tmp_path / "weights-0.pt"), torch.load(tmp_path / "weights-1.pt")
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    state = aip_ml.load_checkpoint(tmp_path / "run" / "checkpoints" / "final.ckpt").state
    assert state["world_size"] == 2 and state["global_step"] == 1536


def test_another_world_size_continues_with_a_warning(full_run: Path, tmp_path: Path) -> None:
    # One process resumes the 2-rank run's checkpoint at update 9: it warns and trains to total_steps.
    import shutil

    run_dir = tmp_path / "one"
    shutil.copytree(full_run, run_dir)
    (run_dir / "checkpoints" / "final.ckpt").unlink()
    config = aip_ml.load_config("chase-v1", overrides=[*OVERRIDES, "total_steps=4096"])
    with pytest.warns(aip_ml.WorldSizeChangedWarning, match="not bit-identically"):
        result = aip_ml.train(config, run_dir=run_dir, resume=True)
    assert result.global_step == 4096 and result.updates == 12 + 8
    assert aip_ml.load_checkpoint(result.checkpoint).state["world_size"] == 1


def test_outside_torchrun_the_error_says_how_to_start() -> None:
    if "RANK" in os.environ:
        pytest.skip("running under torchrun")
    with pytest.raises(aip_ml.ConfigError, match="aip train TASK --nproc N"):
        distributed.init()
    assert distributed.current() is None


def test_lr_scale_is_validated_and_scales_with_ranks() -> None:
    with pytest.raises(aip_ml.ConfigError, match=r"'lr_scale'.*none, linear, sqrt"):
        aip_ml.load_config("chase-v1", overrides=["lr_scale=quadratic"])
    assert distributed.lr_factor("none", 4) == 1.0
    assert distributed.lr_factor("linear", 4) == 4.0
    assert distributed.lr_factor("sqrt", 4) == 2.0
    assert distributed.rank_seed(7, 0) == 7 and distributed.rank_seed(7, 1) != distributed.rank_seed(7, 2)


def test_the_ranks_of_a_machine_share_its_cores() -> None:
    group = distributed.RankGroup(rank=1, world_size=4, local_rank=1, backend="gloo", timeout_s=5, local_world_size=2)
    assert group.engine_threads(0) == max(1, (os.cpu_count() or 1) // 2)
    assert group.engine_threads(3) == 3  # what the config asks for is kept


def test_combined_moments_equal_those_of_the_concatenated_batch() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 3)), rng.normal(2.0, 3.0, size=(5, 3))
    n, mean, var = distributed.combine_moments([(7, a.mean(0), a.var(0)), (5, b.mean(0), b.var(0))])
    both = np.concatenate([a, b])
    assert n == 12
    np.testing.assert_allclose(mean, both.mean(0), rtol=1e-12)
    np.testing.assert_allclose(var, both.var(0), rtol=1e-12)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-x", "-q"]))
