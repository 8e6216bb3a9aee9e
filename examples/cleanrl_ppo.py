"""PPO with continuous actions in one file, in the style of CleanRL, on any Gymnasium 1.x vector env.

Nothing here is specific to this project but the default id: the environment comes from
``gymnasium.make_vec`` (``aip/Chase-v1`` is found with no import once ``aip-engine[gymnasium]`` is
installed) and follows Gymnasium 1.x's conventions:

- next-step autoreset (Gymnasium's default): the step after an episode ends returns the first
  observation of the next one, with reward 0; that step is masked out of the loss here, and a
  truncated episode is bootstrapped from its real last observation;
- Gymnasium's own vector wrappers for episode statistics, action clipping and observation/reward
  normalisation.

Run::

    python examples/cleanrl_ppo.py --env-id aip/Chase-v1 --total-timesteps 200000

It prints the mean return of the episodes finished in each update and, with ``--eval-episodes``, the
deterministic policy's mean return before and after training (as JSON on the last line).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers import vector as vw
from torch import nn
from torch.distributions.normal import Normal


@dataclass
class Args:
    env_id: str = "aip/Chase-v1"
    seed: int = 1
    total_timesteps: int = 200_000
    num_envs: int = 16
    num_steps: int = 128
    learning_rate: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 5
    clip_coef: float = 0.2
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    eval_episodes: int = 0
    threads: int = 1


def parse_args(argv: list[str] | None = None) -> Args:
    defaults = Args()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, value in vars(defaults).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    return Args(**vars(parser.parse_args(argv)))


def make_env(args: Args) -> tuple[gym.vector.VectorEnv, vw.NormalizeObservation]:
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs, autoreset_mode=AutoresetMode.NEXT_STEP)
    envs = vw.RecordEpisodeStatistics(envs)
    envs = vw.ClipAction(envs)
    envs = norm = vw.NormalizeObservation(envs)
    envs = vw.TransformObservation(envs, lambda o: np.clip(o, -10, 10), envs.observation_space)
    envs = vw.NormalizeReward(envs, gamma=args.gamma)
    return vw.TransformReward(envs, lambda r: np.clip(r, -10, 10)), norm


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, obs_size: int, act_size: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(obs_size, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 1), std=1.0),
        )  # fmt: skip
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(obs_size, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, 64)), nn.Tanh(),
            layer_init(nn.Linear(64, act_size), std=0.01),
        )  # fmt: skip
        self.actor_logstd = nn.Parameter(torch.full((1, act_size), -0.5))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(
        self, x: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        mean = self.actor_mean(x)
        probs = Normal(mean, self.actor_logstd.expand_as(mean).exp())
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action).sum(1), probs.entropy().sum(1), self.critic(x)


def evaluate(args: Args, agent: Agent, obs_rms: object, episodes: int) -> float:
    """Mean undiscounted return of the deterministic policy (the actor's mean), on fixed seeds."""
    env = gym.make(args.env_id)
    mean, var = obs_rms.mean, obs_rms.var  # type: ignore[attr-defined]
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=10_000 + episode)
        total, done = 0.0, False
        while not done:
            x = np.clip((obs - mean) / np.sqrt(var + 1e-8), -10, 10)
            with torch.no_grad():
                action = agent.actor_mean(torch.as_tensor(x, dtype=torch.float32)[None])[0].numpy()
            action = np.clip(action, env.action_space.low, env.action_space.high)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def train(args: Args) -> dict[str, object]:
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    envs, norm = make_env(args)
    obs_size = int(np.prod(envs.single_observation_space.shape))
    act_size = int(np.prod(envs.single_action_space.shape))
    agent = Agent(obs_size, act_size)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)
    obs_rms = norm.obs_rms  # NormalizeObservation's running statistics (the evaluation uses them too)
    before = evaluate(args, agent, obs_rms, args.eval_episodes) if args.eval_episodes else None

    n, t = args.num_envs, args.num_steps
    batch_size = n * t
    minibatch_size = batch_size // args.num_minibatches
    num_updates = max(1, args.total_timesteps // batch_size)
    obs_buf = torch.zeros((t, n, obs_size))
    next_obs_buf = torch.zeros((t, n, obs_size))
    actions = torch.zeros((t, n, act_size))
    logprobs = torch.zeros((t, n))
    rewards = torch.zeros((t, n))
    terms = torch.zeros((t, n))
    dones = torch.zeros((t, n))
    valid = torch.zeros((t, n))
    values = torch.zeros((t, n))

    next_obs = torch.as_tensor(envs.reset(seed=args.seed)[0], dtype=torch.float32)
    autoreset = np.zeros(n, dtype=bool)  # next-step autoreset: this step only restarts these envs
    history: list[float] = []
    start = time.monotonic()
    for update in range(num_updates):
        frac = 1.0 - update / num_updates
        optimizer.param_groups[0]["lr"] = frac * args.learning_rate
        finished: list[float] = []
        for step in range(t):
            obs_buf[step] = next_obs
            valid[step] = torch.as_tensor(~autoreset, dtype=torch.float32)
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs)
            values[step] = value.flatten()
            actions[step], logprobs[step] = action, logprob
            obs, reward, terminated, truncated, infos = envs.step(action.numpy())
            next_obs = torch.as_tensor(obs, dtype=torch.float32)
            next_obs_buf[step] = next_obs  # the real last observation when an episode ended here
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            terms[step] = torch.as_tensor(terminated, dtype=torch.float32)
            dones[step] = torch.as_tensor(terminated | truncated, dtype=torch.float32)
            autoreset = np.logical_or(terminated, truncated)
            if "episode" in infos:
                mask = infos["_episode"]
                finished += [float(r) for r in infos["episode"]["r"][mask]]
        if finished:
            history.append(float(np.mean(finished)))
            print(
                f"update {update + 1}/{num_updates}  steps {(update + 1) * batch_size}  return {history[-1]:.2f}  "
                f"{(update + 1) * batch_size / (time.monotonic() - start):.0f} steps/s",
                flush=True,
            )

        with torch.no_grad():  # GAE; V(s') of every step, so truncated episodes bootstrap from their last obs
            next_values = agent.get_value(next_obs_buf.reshape(-1, obs_size)).reshape(t, n)
            deltas = rewards + args.gamma * next_values * (1.0 - terms) - values
            advantages = torch.zeros_like(rewards)
            lastgaelam = torch.zeros(n)
            for step in reversed(range(t)):
                lastgaelam = deltas[step] + args.gamma * args.gae_lambda * (1.0 - dones[step]) * lastgaelam
                advantages[step] = lastgaelam
            advantages *= valid
            returns = advantages + values

        b_obs, b_actions = obs_buf.reshape(-1, obs_size), actions.reshape(-1, act_size)
        b_logprobs, b_adv = logprobs.reshape(-1), advantages.reshape(-1)
        b_returns, b_valid = returns.reshape(-1), valid.reshape(-1)
        b_inds = np.arange(batch_size)
        for _epoch in range(args.update_epochs):
            np.random.default_rng(args.seed + update * 97 + _epoch).shuffle(b_inds)
            for begin in range(0, batch_size, minibatch_size):
                mb = b_inds[begin : begin + minibatch_size]
                m = b_valid[mb]
                count = m.sum().clamp(min=1.0)
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb], b_actions[mb])
                ratio = (newlogprob - b_logprobs[mb]).exp()
                adv = b_adv[mb]
                mean = (adv * m).sum() / count
                std = (((adv - mean) ** 2 * m).sum() / count).sqrt()
                adv = (adv - mean) / (std + 1e-8)
                pg_loss = (
                    torch.max(-adv * ratio, -adv * ratio.clamp(1 - args.clip_coef, 1 + args.clip_coef)) * m
                ).sum()
                v_loss = 0.5 * (((newvalue.view(-1) - b_returns[mb]) ** 2) * m).sum()
                loss = (pg_loss - args.ent_coef * (entropy * m).sum() + args.vf_coef * v_loss) / count
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
    envs.close()
    after = evaluate(args, agent, obs_rms, args.eval_episodes) if args.eval_episodes else None
    return {"env_id": args.env_id, "steps": num_updates * batch_size, "returns": history,
            "eval_before": before, "eval_after": after}  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(train(parse_args())))
