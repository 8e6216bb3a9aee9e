"""Checkpoints: everything needed to resume a run exactly, written atomically."""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import aip_engine

from ._config import TrainConfig, config_from_dict
from ._errors import CheckpointError
from .ppo import ActorCritic, ObsNormalizer, RunningMeanStd, TorchPolicy

__all__ = ["CHECKPOINT_VERSION", "Checkpoint", "load_checkpoint", "save_checkpoint"]

#: Version of the checkpoint layout; bumped on any incompatible change.
CHECKPOINT_VERSION = 1


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        path: Where it was read from.
        config: The run's config.
        update: Updates completed.
        global_step: Environment steps completed.
        state: The learner's full state (`aip_ml.ppo.PPO.state_dict`).
        wall_seconds: Training time spent before this checkpoint.
        saved_layouts: Role -> the layout name its network was trained on (empty in older files).
    """

    path: Path
    config: TrainConfig
    update: int
    global_step: int
    state: dict[str, Any]
    wall_seconds: float
    saved_layouts: dict[str, str] = field(default_factory=dict)

    @property
    def layouts(self) -> dict[str, str]:
        """Role -> layout name of each network (the current layouts for files that do not say)."""
        return {role: self.saved_layouts.get(role, aip_engine.role_layout(role).name) for role in self.roles}

    @property
    def roles(self) -> tuple[str, ...]:
        """The learning roles of the run's task (two for duel-v1)."""
        return aip_engine.task_spec(self.config.task).agents

    @property
    def policy(self) -> TorchPolicy:
        """The deterministic policy stored in the checkpoint (single-agent tasks; else see `policies`).

        Raises:
            CheckpointError: The run learned several roles.
        """
        if len(self.roles) != 1:
            raise CheckpointError(
                f"checkpoint {str(self.path)!r} holds policies for {', '.join(self.roles)}; use .policies[role]"
            )
        return self._policy(self.roles[0], self.state)

    @property
    def policies(self) -> dict[str, TorchPolicy]:
        """The deterministic policy of every learning role."""
        if len(self.roles) == 1:
            return {self.roles[0]: self._policy(self.roles[0], self.state)}
        return {role: self._policy(role, self.state["learners"][role]) for role in self.roles}

    def _policy(self, role: str, state: dict[str, Any]) -> TorchPolicy:
        cfg = self.config
        layout = aip_engine.role_layout(role)
        model = ActorCritic(layout.obs_size, layout.act_size, cfg.hidden_sizes, cfg.activation, cfg.log_std_init)
        model.load_state_dict(state["model"])
        model.eval()
        rms = None
        if cfg.obs_norm:
            rms = RunningMeanStd((layout.obs_size,))
            rms.load_state_dict(state["obs_rms"])
        meta = {
            "seed": cfg.seed,
            "updates": self.update,
            "global_step": self.global_step,
            "config": cfg.to_dict(),
        }
        return TorchPolicy(model, ObsNormalizer(rms, layout.obs_size, cfg.obs_clip), layout, cfg.task, meta)


def save_checkpoint(path: Path, config: TrainConfig, state: dict[str, Any], wall_seconds: float) -> Path:
    """Write a checkpoint atomically (a temporary file in the same folder, then a rename).

    Args:
        path: The checkpoint file.
        config: The run's config.
        state: The learner's state.
        wall_seconds: Training time so far.

    Returns:
        The path written.
    """
    payload = {
        "checkpoint_version": CHECKPOINT_VERSION,
        "config": config.to_dict(),
        "update": state["update_index"],
        "global_step": state["global_step"],
        "wall_seconds": wall_seconds,
        "engine_version": aip_engine.__version__,
        "layouts": {r: aip_engine.role_layout(r).name for r in aip_engine.task_spec(config.task).agents},
        "state": state,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read a checkpoint written by training.

    Args:
        path: The ``.ckpt`` file.

    Returns:
        The checkpoint.

    Raises:
        CheckpointError: The file is missing, corrupt, or of another checkpoint version.
    """
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {str(p)!r} does not exist")
    try:
        payload = torch.load(io.BytesIO(p.read_bytes()), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        raise CheckpointError(f"checkpoint {str(p)!r} is corrupt or not a checkpoint ({exc})") from None
    if not isinstance(payload, dict) or payload.get("checkpoint_version") != CHECKPOINT_VERSION:
        version = payload.get("checkpoint_version") if isinstance(payload, dict) else None
        raise CheckpointError(
            f"checkpoint {str(p)!r} has version {version!r}; this aip-ml reads version {CHECKPOINT_VERSION}"
        )
    try:
        config = config_from_dict(payload["config"])
    except Exception as exc:
        raise CheckpointError(f"checkpoint {str(p)!r} holds an invalid config ({exc})") from None
    return Checkpoint(
        path=p,
        config=config,
        update=int(payload["update"]),
        global_step=int(payload["global_step"]),
        state=payload["state"],
        wall_seconds=float(payload["wall_seconds"]),
        saved_layouts={str(k): str(v) for k, v in dict(payload.get("layouts") or {}).items()},
    )
