"""The PPO learner: the actor-critic model, the rollout buffer, the losses, and the learner itself.

`PPO` runs one collect-and-learn cycle per `PPO.update` on the engine's batch of worlds (`DevicePPO`
when the batch lives on a GPU: everything stays there, exchanged with the engine through DLPack); the
training loop (`aip_ml.train`) drives it. Methods that change what the learner sees (lessons, reward signals,
opponents) plug into the loop, not into this package: it imports none of them.
"""

from __future__ import annotations

from aip_ml.ppo._buffer import RolloutBuffer
from aip_ml.ppo._device import DevicePPO, TorchRunningMeanStd, on_device
from aip_ml.ppo._learner import PPO, derive_seed, episode_metrics
from aip_ml.ppo._losses import clipped_policy_loss, gae, gaussian_entropy, gaussian_log_prob, value_loss
from aip_ml.ppo._model import ActorCritic, ObsNormalizer, RunningMeanStd, TorchPolicy, action_bounds

__all__ = [
    "PPO",
    "ActorCritic",
    "DevicePPO",
    "ObsNormalizer",
    "RolloutBuffer",
    "RunningMeanStd",
    "TorchPolicy",
    "TorchRunningMeanStd",
    "action_bounds",
    "clipped_policy_loss",
    "derive_seed",
    "episode_metrics",
    "gae",
    "gaussian_entropy",
    "gaussian_log_prob",
    "on_device",
    "value_loss",
]
