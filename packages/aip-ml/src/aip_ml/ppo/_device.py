"""PPO with the whole rollout on the engine's device (the CUDA backend): `DevicePPO`.

The engine's outputs of a batch on the GPU are device arrays that export through DLPack. This
learner takes torch views of them once, at construction (they are the same buffers at every step),
so observations, rewards and flags reach the network without a copy; the actions it returns are a
torch tensor on the same device, which the engine reads in place through DLPack. The rollout buffer,
the running statistics, the return accumulators, the advantages and the episode statistics live on
that device too. Nothing crosses to the host during a rollout: the bootstrap values of truncated
episodes are computed for every world and selected with a mask (no data-dependent branch), and the
episode statistics are masked sums read once per update with the losses.

The learner runs wherever the engine's arrays are: under the backend's host emulation they are CPU
memory exported through DLPack, so the same code runs, and is tested, on a machine without a GPU.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.dlpack import from_dlpack

from .._config import TrainConfig
from .._errors import ConfigError
from ._learner import PPO
from ._losses import gae
from ._model import ObsNormalizer, RunningMeanStd, TorchPolicy, action_bounds

__all__ = ["DevicePPO", "TorchRunningMeanStd", "on_device"]


def on_device(worlds: Any) -> bool:
    """Whether ``worlds`` keeps its arrays off the host's numpy (the CUDA backend, or its emulation)."""
    return str(getattr(worlds, "backend", "cpu")) != "cpu"


class TorchRunningMeanStd:
    """`RunningMeanStd` in float64 torch tensors on a device (the same algorithm and checkpoint format).

    Args:
        shape: Shape of one sample.
        device: Where the statistics live.
    """

    def __init__(self, shape: tuple[int, ...], device: torch.device) -> None:
        self.device = device
        self.mean = torch.zeros(shape, dtype=torch.float64, device=device)
        self.var = torch.ones(shape, dtype=torch.float64, device=device)
        self.count = 1e-4

    def update(self, batch: Any) -> None:
        """Fold a batch ``(B, *shape)`` (a tensor, or anything numpy reads) into the statistics."""
        x = torch.as_tensor(batch, device=self.device).to(torch.float64)
        n = x.shape[0]
        if n == 0:
            return
        self.fold(x.mean(dim=0), x.var(dim=0, correction=0), n)

    def fold(self, b_mean: torch.Tensor, b_var: torch.Tensor, n: float) -> None:
        """Fold in the moments of a batch of ``n > 0`` samples: its mean and (population) variance."""
        delta = b_mean - self.mean
        total = self.count + n
        self.mean = self.mean + delta * (n / total)
        m2 = self.var * self.count + b_var * n + delta * delta * (self.count * n / total)
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, Any]:
        """Return the statistics as CPU tensors and a float (what `RunningMeanStd.state_dict` returns)."""
        return {"mean": self.mean.detach().cpu(), "var": self.var.detach().cpu(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore statistics written by either class's `state_dict`."""
        self.mean = torch.as_tensor(state["mean"], dtype=torch.float64).to(self.device)
        self.var = torch.as_tensor(state["var"], dtype=torch.float64).to(self.device)
        self.count = float(state["count"])

    def to_host(self) -> RunningMeanStd:
        """Return a numpy `RunningMeanStd` with the same statistics (for policies and export)."""
        rms = RunningMeanStd(tuple(self.mean.shape))
        rms.load_state_dict(self.state_dict())
        return rms


class DevicePPO(PPO):
    """`PPO` on a batch whose arrays live on a torch device and export through DLPack.

    The interface is `PPO`'s: `act` returns a torch tensor on the device (the engine reads it in
    place), `record` reads the engine's outputs through the views taken at construction, and
    `state_dict` holds CPU tensors in the same format as `PPO`'s, so checkpoints load, export and
    evaluate on any machine.

    Raises:
        ConfigError: A config this learner does not support (bot cloning, a curriculum parameter).
    """

    def __init__(self, config: TrainConfig, worlds: Any, role: str | None = None, seed_offset: int = 0) -> None:
        for key in ("imitate_bot", "curriculum_param"):
            if getattr(config, key):
                raise ConfigError(
                    f"config key {key!r} is not supported with the engine on a device (device={config.device!r}) "
                    "yet; train that part on the CPU and continue with init_from"
                )
        super().__init__(config, worlds, role, seed_offset)

    def _device(self) -> torch.device:
        return from_dlpack(self.worlds.observations(self.role)).device

    def _allocate(self) -> None:
        cfg, worlds, role, dev = self.config, self.worlds, self.role, self.device
        n, t = cfg.num_worlds, cfg.rollout_steps
        d, a = self.layout.obs_size, self.layout.act_size
        # Views of the engine's outputs: the engine overwrites the same buffers at every step.
        self._v_obs = from_dlpack(worlds.observations(role))
        self._v_final = from_dlpack(worlds.final_observations(role))
        self._v_reward = from_dlpack(worlds.rewards(role))
        self._v_terminated = from_dlpack(worlds.terminated)
        self._v_truncated = from_dlpack(worlds.truncated)
        self._v_return = from_dlpack(worlds.episode_return(role))
        self._v_frames = from_dlpack(worlds.episode_frames)
        self._v_success = from_dlpack(worlds.success_of(role))
        self.obs_stats = TorchRunningMeanStd((d,), dev)
        self.ret_stats = TorchRunningMeanStd((), dev)
        # PPO's state_dict, load_state_dict and transfer_from use these names.
        self.obs_rms = self.obs_stats  # type: ignore[assignment]
        self.ret_rms = self.ret_stats  # type: ignore[assignment]
        self.normalizer = ObsNormalizer(None, d, cfg.obs_clip)
        self._refresh_normalizer()
        mid, half = action_bounds(self.layout)
        self._mid, self._half = mid.to(dev), half.to(dev)
        self._ret_t = torch.zeros(n, dtype=torch.float64, device=dev)
        self._actions_t = torch.zeros((n, a), dtype=torch.float32, device=dev)
        # Episode totals of the rollout: count, return, frames, successes, frames of successes.
        self._totals = torch.zeros(5, dtype=torch.float64, device=dev)
        self.dbuf = _DeviceBuffers(
            obs=torch.zeros((t, n, d), device=dev),
            raw_obs=torch.zeros((t, n, d), device=dev),
            actions=torch.zeros((t, n, a), device=dev),
            logprobs=torch.zeros((t, n), device=dev),
            rewards=torch.zeros((t, n), device=dev),
            returns_acc=torch.zeros((t, n), dtype=torch.float64, device=dev),
            dones=torch.zeros((t, n), dtype=torch.bool, device=dev),
            boot_values=torch.zeros((t, n), device=dev),
            values=torch.zeros((t, n), device=dev),
        )
        self.buf = self.dbuf  # type: ignore[assignment]

    def _refresh_normalizer(self) -> None:
        norm, d, dev = self.normalizer, self.layout.obs_size, self.device
        if self.config.obs_norm:
            rms = self.obs_stats
            # The portable runtime's arithmetic: scale = 1 / sqrt(var + eps) in float64, then float32.
            norm.mean = rms.mean.to(torch.float32)
            norm.scale = (1.0 / torch.sqrt(rms.var + norm.epsilon)).to(torch.float32)
        else:
            norm.mean = torch.zeros(d, device=dev)
            norm.scale = torch.ones(d, device=dev)

    # --- state -----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Return everything needed to continue exactly, as CPU tensors."""
        state = super().state_dict()
        state["model"] = {k: v.detach().cpu() for k, v in state["model"].items()}
        state["optimizer"] = _to_cpu(state["optimizer"])
        return state

    def rollout_state(self) -> dict[str, Any]:
        """Return the return accumulators of the episodes in progress (the observations are the engine's)."""
        return {"ret": self._ret_t.detach().cpu().clone()}

    def load_rollout_state(self, state: dict[str, Any]) -> None:
        """Restore what `rollout_state` returned (after the worlds' own state was imported)."""
        self._ret_t.copy_(state["ret"].to(self.device))

    def policy(self) -> TorchPolicy:
        """Return the current deterministic policy as a CPU copy (what evaluation and export run)."""
        model = copy.deepcopy(self.model).to("cpu")
        rms = self.obs_stats.to_host() if self.config.obs_norm else None
        normalizer = ObsNormalizer(rms, self.layout.obs_size, self.config.obs_clip)
        return TorchPolicy(model, normalizer, self.layout, self.config.task)

    # --- one update ------------------------------------------------------------------------------

    def start_episodes(self, obs: Any) -> None:
        """Take freshly reset worlds (the observations are read through the views)."""
        self._ret_t.zero_()
        if self.update_index == 0 and self.config.obs_norm and self.obs_stats.count < 1:
            self.obs_stats.update(self._v_obs)
            self._refresh_normalizer()

    def begin_rollout(self) -> None:
        """Start collecting a rollout."""
        self._std = torch.exp(self.model.log_std.detach())
        self._totals.zero_()

    @torch.no_grad()
    def act(self, t: int) -> Any:
        """Choose the stochastic actions of rollout step ``t``: a tensor on the device (overwritten next step)."""
        buf = self.dbuf
        buf.raw_obs[t].copy_(self._v_obs)
        obs_n = self.normalizer(buf.raw_obs[t])
        buf.obs[t] = obs_n
        mean = self.model.mean(obs_n)
        buf.values[t] = self.model.value(obs_n)
        noise = torch.randn(mean.shape, generator=self.generator, device=self.device)
        action = mean + self._std * noise
        buf.actions[t] = action
        buf.logprobs[t] = self._log_prob(mean, action)
        torch.clamp(action, -1.0, 1.0, out=self._actions_t)
        self._actions_t.mul_(self._half).add_(self._mid)
        return self._actions_t

    @torch.no_grad()
    def record(self, t: int, result: Any) -> None:
        """Store the engine's answer to step ``t`` (read through the views; ``result`` is not needed)."""
        cfg, buf = self.config, self.dbuf
        reward = self._v_reward
        buf.rewards[t] = reward
        terminated, truncated = self._v_terminated, self._v_truncated
        done = torch.logical_or(terminated, truncated, out=buf.dones[t])
        # Every world's final value, kept where the episode was cut by the time limit: no host branch.
        final_value = self.model.value(self.normalizer(self._v_final))
        buf.boot_values[t] = torch.where(truncated & ~terminated, final_value, 0.0)
        self._ret_t.mul_(cfg.gamma).add_(reward)
        buf.returns_acc[t] = self._ret_t
        self._ret_t.masked_fill_(done, 0.0)
        success = self._v_success & done
        f64 = torch.float64
        step_totals = torch.stack(
            [
                done.sum().to(f64),
                torch.where(done, self._v_return, 0.0).sum(dtype=f64),
                torch.where(done, self._v_frames, 0).sum(dtype=f64),
                success.sum().to(f64),
                torch.where(success, self._v_frames, 0).sum(dtype=f64),
            ]
        )
        self._totals += step_totals

    def end_rollout(self) -> dict[str, Any]:
        """Finish the rollout; return the totals of the episodes that ended in it (one host read)."""
        self.global_step += self.config.rollout_steps * self.config.num_worlds
        count, ret, frames, successes, success_frames = self._totals.tolist()
        return {
            "totals": {
                "episodes": count,
                "return_sum": ret,
                "frames_sum": frames,
                "successes": successes,
                "success_frames_sum": success_frames,
            }
        }

    @torch.no_grad()
    def _advantages(self) -> tuple[torch.Tensor, torch.Tensor]:
        cfg, buf = self.config, self.dbuf
        rewards = buf.rewards
        if cfg.reward_scale:
            self.ret_stats.update(buf.returns_acc.reshape(-1))
            scale = 1.0 / torch.sqrt(self.ret_stats.var + 1e-8)
            rewards = torch.clamp(buf.rewards * scale, -cfg.reward_clip, cfg.reward_clip).to(torch.float32)
        r = rewards + cfg.gamma * buf.boot_values
        nonterminal = (~buf.dones).float()
        next_value = self.model.value(self.normalizer(self._v_obs))
        adv = gae(r, buf.values, next_value, nonterminal, cfg.gamma, cfg.gae_lambda)
        return adv, adv + buf.values

    def _update_obs_stats(self) -> None:
        self.obs_stats.update(self.dbuf.raw_obs.reshape(self.config.batch_size, -1))


@dataclass
class _DeviceBuffers:
    """The rollout buffer of `DevicePPO`: `RolloutBuffer`'s fields, every one a tensor on the device."""

    obs: torch.Tensor
    raw_obs: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    rewards: torch.Tensor
    returns_acc: torch.Tensor
    dones: torch.Tensor
    boot_values: torch.Tensor
    values: torch.Tensor


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    return value
