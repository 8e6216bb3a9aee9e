"""PPO on a batch with the engine's interface: it learns a simple task fast, and handles auto-reset."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest
import torch

import aip_ml
from aip_ml.ppo import PPO


class _Step(NamedTuple):
    obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    events: np.ndarray


class AimWorlds:
    """N toy worlds with the engine's batch interface for the enemy role (24 observations, 2 actions).

    The reward is 1 minus the distance between the move and the first two observation values; episodes
    are cut by a time limit of `limit` steps (truncation, same-step auto-reset like the engine).
    """

    def __init__(self, num_worlds: int, limit: int = 8) -> None:
        self.num_worlds = num_worlds
        self.limit = limit
        self.rng = np.random.default_rng(0)
        self.obs = np.zeros((num_worlds, 24), np.float32)
        self.final = np.zeros_like(self.obs)
        self.frame = np.zeros(num_worlds, np.int32)
        self.ret = np.zeros(num_worlds, np.float32)
        self.episode_frames = np.zeros(num_worlds, np.int32)
        self.ep_ret = np.zeros(num_worlds, np.float32)
        self.success = np.zeros(num_worlds, bool)

    def reset(self, seed: int | None = None) -> np.ndarray:
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        self.obs[:] = self.rng.uniform(-1, 1, self.obs.shape)
        self.frame[:] = 0
        self.ret[:] = 0
        return self.obs

    def step(self, actions: np.ndarray) -> _Step:
        assert actions.dtype == np.float32
        assert actions.shape == (self.num_worlds, 2)
        reward = (1.0 - np.abs(actions - self.obs[:, :2]).mean(axis=1)).astype(np.float32)
        self.frame += 1
        self.ret += reward
        truncated = self.frame >= self.limit
        terminated = np.zeros(self.num_worlds, bool)
        self.final[:] = self.obs
        self.episode_frames[truncated] = self.frame[truncated]
        self.ep_ret[truncated] = self.ret[truncated]
        self.success[:] = truncated
        self.obs[:] = self.rng.uniform(-1, 1, self.obs.shape)
        self.frame[truncated] = 0
        self.ret[truncated] = 0
        return _Step(self.obs, reward, terminated, truncated, np.zeros((self.num_worlds, 5), np.uint8))

    def final_observations(self, role: str) -> np.ndarray:
        return self.final

    def episode_return(self, role: str) -> np.ndarray:
        return self.ep_ret

    def success_of(self, role: str) -> np.ndarray:
        return self.success


def _config(**changes: Any) -> aip_ml.TrainConfig:
    base: dict[str, Any] = {
        "task": "chase-v1",
        "num_worlds": 64,
        "rollout_steps": 16,
        "minibatch_size": 256,
        "epochs": 4,
        "learning_rate": 3e-3,
        "lr_schedule": "constant",
        "total_steps": 64 * 16 * 60,
        "hidden_sizes": (32, 32),
        "torch_threads": 1,
        "gamma": 0.5,
    }
    base.update(changes)
    return aip_ml.TrainConfig(**base)


def test_ppo_learns_to_aim_within_seconds() -> None:
    torch.set_num_threads(1)
    ppo = PPO(_config(), AimWorlds(64))
    ppo.reseed(1)
    policy = ppo.policy()
    probe = np.random.default_rng(5).uniform(-0.9, 0.9, (512, 24)).astype(np.float32)
    before = float(np.abs(policy.act(probe) - probe[:, :2]).mean())
    returns = []
    for _ in range(60):
        metrics = ppo.update()
        returns.append(metrics["episode_return_mean"])
    after = float(np.abs(ppo.policy().act(probe) - probe[:, :2]).mean())
    assert before > 0.4
    assert after < 0.1, f"mean aiming error {after:.3f} after 60 updates (before {before:.3f})"
    assert np.mean(returns[-5:]) > np.mean(returns[:5]) + 1.5


def test_truncated_episodes_are_bootstrapped_from_final_observations() -> None:
    # With gamma = 1 and a truncation every step, every step's target is r + V(final observation):
    # the bootstrapped value must come from the final observation, not from the reset one.
    ppo = PPO(_config(gamma=1.0, gae_lambda=1.0, reward_scale=False, obs_norm=False), AimWorlds(64, limit=1))
    ppo.reseed(3)
    ppo.collect()
    with torch.no_grad():
        final_values = ppo.model.value(torch.from_numpy(ppo.worlds.final.copy()))
    np.testing.assert_allclose(ppo.buf.boot_values[-1].numpy(), final_values.numpy(), rtol=1e-5, atol=1e-6)
    _, returns = ppo._advantages()
    expected = torch.from_numpy(ppo.buf.rewards) + ppo.buf.boot_values
    torch.testing.assert_close(returns, expected)


def test_one_learner_plays_one_role() -> None:
    with pytest.raises(NotImplementedError, match=r"duel-v1.*one PPO learner plays one role"):
        PPO(_config(task="duel-v1"), AimWorlds(64))
    with pytest.raises(aip_ml.ConfigError, match="'missile' is not a learning role"):
        PPO(_config(task="duel-v1"), AimWorlds(64), role="missile")


@pytest.mark.slow
def test_ppo_learns_to_catch_on_the_engine(tmp_path: Path) -> None:
    config = aip_ml.load_config(
        "chase-v1",
        overrides=["total_steps=1_500_000", "num_worlds=256", "minibatch_size=2048", "eval_episodes=200"],
    )
    result = aip_ml.train(config, run_dir=tmp_path / "run")
    assert result.evaluation is not None
    agent = result.evaluation.agent
    assert agent.success_rate > 0.8, result.evaluation.to_dict()
    assert (tmp_path / "run" / "policy.aipp").is_file()
    assert (tmp_path / "run" / "eval.json").is_file()


def test_gae_matches_the_recursion_written_out() -> None:
    from aip_ml.ppo import gae

    rng = np.random.default_rng(3)
    t, n, gamma, lam = 7, 5, 0.9, 0.8
    rewards = rng.normal(size=(t, n)).astype(np.float32)
    values = rng.normal(size=(t, n)).astype(np.float32)
    next_value = rng.normal(size=n).astype(np.float32)
    nonterminal = (rng.random((t, n)) > 0.3).astype(np.float32)
    expected = np.zeros((t, n))
    for w in range(n):
        running = 0.0
        for s in reversed(range(t)):
            nv = next_value[w] if s == t - 1 else values[s + 1, w]
            delta = rewards[s, w] + gamma * nv * nonterminal[s, w] - values[s, w]
            running = delta + gamma * lam * nonterminal[s, w] * running
            expected[s, w] = running
    got = gae(
        torch.from_numpy(rewards),
        torch.from_numpy(values),
        torch.from_numpy(next_value),
        torch.from_numpy(nonterminal),
        gamma,
        lam,
    )
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)
    # An episode that ends at the last step takes nothing from next_value.
    nonterminal[-1] = 0.0
    a = gae(*(torch.from_numpy(x) for x in (rewards, values, next_value, nonterminal)), gamma, lam)
    b = gae(*(torch.from_numpy(x) for x in (rewards, values, next_value * 0 + 99, nonterminal)), gamma, lam)
    assert torch.equal(a, b)


@pytest.mark.parametrize("preserve", [False, True])
def test_obs_norm_preserve_keeps_what_the_networks_compute_when_the_statistics_move(preserve: bool) -> None:
    import aip_engine

    # One critic warm-up update leaves the actor's weights alone, but its statistics update moves the
    # normaliser; preserved, the first layers are rescaled so the actor and critic compute what they did.
    overrides = ["num_worlds=32", "rollout_steps=32", "minibatch_size=256", "critic_warmup_updates=1"]
    config = aip_ml.load_config("chase-v1", overrides=[*overrides, f"obs_norm_preserve={str(preserve).lower()}"])
    torch.manual_seed(0)
    ppo = PPO(config, aip_engine.Worlds("chase-v1", 32, seed=3))
    probe = torch.from_numpy(np.array(ppo.worlds.observations("enemy")))
    with torch.no_grad():
        before = ppo.model.mean(ppo.normalizer(probe))
    mean_before = ppo.normalizer.mean.clone()
    ppo.update()
    assert not torch.allclose(ppo.normalizer.mean, mean_before, atol=1e-3)
    with torch.no_grad():
        after = ppo.model.mean(ppo.normalizer(probe))
    assert torch.allclose(after, before, atol=1e-4) == preserve
