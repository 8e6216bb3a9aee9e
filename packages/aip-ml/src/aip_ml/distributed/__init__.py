"""Data-parallel training over several processes and machines with torch.distributed and torchrun.

torchrun starts one process per rank (``aip train TASK --nproc N`` starts it on one machine;
``torchrun ... -m aip_ml train TASK`` on several); each joins the group with `init` (or `session`),
after which `aip_ml.train` runs `DistributedPPO`: every rank steps its own worlds, the gradients are
averaged, the statistics combined, and rank 0 alone writes the run folder and calls the callbacks.
"""

from __future__ import annotations

from aip_ml.distributed._group import (
    DEFAULT_TIMEOUT_S,
    LR_SCALES,
    RANK_LOST_EXIT_CODE,
    RankGroup,
    RankLostError,
    current,
    init,
    lr_factor,
    rank_seed,
    session,
    shutdown,
)
from aip_ml.distributed._launch import LaunchResult, RankFailure, launch_local, torchrun_command
from aip_ml.distributed._learner import (
    DistributedDevicePPO,
    DistributedPPO,
    SharedRunningMeanStd,
    SharedTorchRunningMeanStd,
    combine_moments,
)

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "LR_SCALES",
    "RANK_LOST_EXIT_CODE",
    "DistributedDevicePPO",
    "DistributedPPO",
    "LaunchResult",
    "RankFailure",
    "RankGroup",
    "RankLostError",
    "SharedRunningMeanStd",
    "SharedTorchRunningMeanStd",
    "combine_moments",
    "current",
    "init",
    "launch_local",
    "lr_factor",
    "rank_seed",
    "session",
    "shutdown",
    "torchrun_command",
]
