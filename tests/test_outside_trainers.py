"""Outside trainers on the Gymnasium ids, unchanged but for the id: each trains chase-v1 briefly; its return rises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_stable_baselines3_ppo_learns_chase_through_make_vec_env() -> None:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy

    torch.set_num_threads(1)  # bounded and fast on a shared machine
    venv = make_vec_env("aip/Chase-v1", n_envs=16, seed=1)
    model = PPO("MlpPolicy", venv, n_steps=64, batch_size=256, n_epochs=5, learning_rate=1e-3, seed=1, device="cpu")
    evaluation = make_vec_env("aip/Chase-v1", n_envs=1, seed=1000)
    before, _ = evaluate_policy(model, evaluation, n_eval_episodes=8, deterministic=True)
    model.learn(30_000)
    after, _ = evaluate_policy(model, evaluation, n_eval_episodes=8, deterministic=True)
    print(f"SB3 PPO on aip/Chase-v1: mean return {before:.1f} before, {after:.1f} after 30k steps")
    assert after > before + 20.0


@pytest.mark.slow
def test_the_cleanrl_style_example_learns_chase() -> None:
    cmd = [sys.executable, str(ROOT / "examples" / "cleanrl_ppo.py"), "--env-id", "aip/Chase-v1"]
    cmd += ["--total-timesteps", "100000", "--eval-episodes", "8"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    before, after = report["eval_before"], report["eval_after"]
    print(
        f"CleanRL-style PPO on aip/Chase-v1: mean return {before:.1f} before, {after:.1f} after {report['steps']} steps"
    )
    assert after > before + 20.0


def test_supersuit_vectorises_the_duel_parallel_env_after_padding() -> None:
    import numpy as np
    import supersuit as ss

    from aip_engine.gym import DuelParallelEnv

    env = ss.pad_action_space_v0(ss.pad_observations_v0(DuelParallelEnv()))
    venv = ss.concat_vec_envs_v1(ss.pettingzoo_env_to_vec_env_v1(env), 4, base_class="gymnasium")
    obs, _ = venv.reset(seed=1)
    assert obs.shape[0] == 8  # 4 duels x 2 agents, observations padded to the larger layout
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(700):
        actions = rng.uniform(-1, 1, (venv.num_envs, *venv.action_space.shape)).astype(np.float32)
        obs, reward, terminated, truncated, _ = venv.step(actions)
        assert obs.shape[0] == reward.shape[0] == 8 and np.isfinite(reward).all()
        ended += int(np.sum(terminated | truncated))
    assert ended > 0  # episodes ended and the vector env went on
    venv.close()


def test_torchrl_wraps_the_single_and_the_native_vector_env() -> None:
    import gymnasium
    from torchrl.envs import GymEnv, GymWrapper
    from torchrl.envs.utils import check_env_specs

    single = GymEnv("aip/Chase-v1")
    check_env_specs(single)
    rollout = single.rollout(700, break_when_any_done=False)
    assert rollout.shape == (700,) and rollout["next", "done"].any()  # chase-v1 ends within 600 frames
    batched = GymWrapper(gymnasium.make_vec("aip/Chase-v1", num_envs=4))
    assert tuple(batched.batch_size) == (4,)
    check_env_specs(batched)
    rollout = batched.rollout(700, break_when_any_done=False)
    assert rollout.shape == (4, 700) and rollout["next", "done"].any(dim=1).all()


@pytest.mark.slow
# TorchRL 0.14's own collector builds its deprecated default weight updaters (nothing of ours to change).
@pytest.mark.filterwarnings("ignore:Creating .*WeightUpdater which inherits from WeightUpdaterBase:DeprecationWarning")
def test_torchrl_ppo_learns_chase_through_its_gymnasium_wrapper() -> None:
    # TorchRL's own parts end to end: its Gymnasium wrapper over the native vector env, its collector,
    # GAE, clipped PPO loss and replay buffer (the recipe of TorchRL's PPO tutorial), 40,960 frames.
    import gymnasium
    import torch
    from tensordict.nn import NormalParamExtractor, TensorDictModule
    from torch import nn
    from torchrl.collectors import Collector
    from torchrl.data.replay_buffers import LazyTensorStorage, ReplayBuffer, SamplerWithoutReplacement
    from torchrl.envs import GymWrapper, RewardSum
    from torchrl.envs.utils import ExplorationType, set_exploration_type
    from torchrl.modules import ProbabilisticActor, TanhNormal, ValueOperator
    from torchrl.objectives import ClipPPOLoss
    from torchrl.objectives.value import GAE

    torch.manual_seed(1)
    torch.set_num_threads(1)

    def make(worlds: int, seed: int) -> Any:
        env = GymWrapper(gymnasium.make_vec("aip/Chase-v1", num_envs=worlds))  # a TransformedEnv already
        env.append_transform(RewardSum())  # episode returns
        env.set_seed(seed)
        return env

    def mlp(inputs: int, outputs: int) -> nn.Sequential:
        return nn.Sequential(nn.Linear(inputs, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, outputs))

    env = make(16, 1)
    obs_size, act_size = env.observation_spec["observation"].shape[-1], env.action_spec.shape[-1]
    actor = TensorDictModule(
        nn.Sequential(mlp(obs_size, 2 * act_size), NormalParamExtractor()),
        in_keys=["observation"],
        out_keys=["loc", "scale"],
    )
    bounds = {"low": env.action_spec.space.low, "high": env.action_spec.space.high}
    policy = ProbabilisticActor(
        actor, spec=env.action_spec, in_keys=["loc", "scale"], distribution_class=TanhNormal,
        distribution_kwargs=bounds, return_log_prob=True,
    )  # fmt: skip
    value = ValueOperator(mlp(obs_size, 1), in_keys=["observation"])

    def mean_return() -> float:
        evaluation = make(8, 1000)
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            rollout = evaluation.rollout(700, policy, break_when_any_done=False)
        ended = rollout["next", "done"].squeeze(-1)
        return float(rollout["next", "episode_reward"].squeeze(-1)[ended].mean())

    before = mean_return()
    batch = 16 * 64
    collector = Collector(
        env, policy, frames_per_batch=batch, total_frames=40 * batch, auto_register_policy_transforms=False
    )
    buffer = ReplayBuffer(storage=LazyTensorStorage(batch), sampler=SamplerWithoutReplacement())
    advantage = GAE(gamma=0.99, lmbda=0.95, value_network=value, average_gae=True)
    loss = ClipPPOLoss(policy, value, clip_epsilon=0.2, entropy_coeff=0.0, normalize_advantage=False)
    optimiser = torch.optim.Adam(loss.parameters(), 1e-3)
    for data in collector:
        for _ in range(5):
            with torch.no_grad():
                advantage(data)
            buffer.extend(data.reshape(-1))
            for _ in range(batch // 256):
                losses = loss(buffer.sample(256))
                total = losses["loss_objective"] + losses["loss_critic"] + losses["loss_entropy"]
                optimiser.zero_grad()
                total.backward()
                torch.nn.utils.clip_grad_norm_(loss.parameters(), 0.5)
                optimiser.step()
    collector.shutdown()
    after = mean_return()
    print(f"TorchRL PPO on aip/Chase-v1: mean return {before:.1f} before, {after:.1f} after {40 * batch} frames")
    assert after > before + 20.0
