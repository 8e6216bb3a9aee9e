"""Checkpoints: everything needed to resume a run exactly, written atomically."""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

import aip_engine
from aip_engine._files import read_regular, write_atomic

from ._config import TrainConfig, config_from_dict
from ._errors import CheckpointError
from .ppo import ActorCritic, ObsNormalizer, RunningMeanStd, TorchPolicy

__all__ = ["CHECKPOINT_VERSION", "Checkpoint", "decode_worlds", "encode_worlds", "load_checkpoint", "save_checkpoint"]

#: The largest checkpoint file read (bytes).
MAX_CHECKPOINT_BYTES = 4 * 2**30

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
        rms = None
        try:
            model.load_state_dict(state["model"])
            if cfg.obs_norm:
                rms = RunningMeanStd((layout.obs_size,))
                rms.load_state_dict(state["obs_rms"])
        except (AttributeError, KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(
                f"checkpoint {str(self.path)!r}: its {role} model does not fit its config ({type(exc).__name__}); "
                "the file is corrupt"
            ) from None
        model.eval()
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
    write_atomic(path, buffer.getvalue(), what="checkpoint")
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
    try:
        data = read_regular(p, limit=MAX_CHECKPOINT_BYTES, what="checkpoint")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {str(p)!r} does not exist") from None
    except OSError as exc:
        raise CheckpointError(f"cannot read checkpoint {str(p)!r}: {exc}") from None
    try:
        # weights_only: tensors and plain containers only, never arbitrary pickled objects.
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        # Only the type is named: torch's own message suggests loading with weights_only=False,
        # which would run whatever code a damaged or hostile file holds.
        raise CheckpointError(
            f"checkpoint {str(p)!r} is corrupt or not a checkpoint ({type(exc).__name__}); resume from another "
            "checkpoint or start the run again"
        ) from None
    if not isinstance(payload, dict) or payload.get("checkpoint_version") != CHECKPOINT_VERSION:
        version = payload.get("checkpoint_version") if isinstance(payload, dict) else None
        raise CheckpointError(
            f"checkpoint {str(p)!r} has version {_short(version)}; this aip-ml reads version {CHECKPOINT_VERSION}"
        )
    try:
        config = config_from_dict(payload["config"])
    except Exception as exc:
        raise CheckpointError(f"checkpoint {str(p)!r} holds an invalid config ({exc})") from None
    try:
        update, steps = int(payload["update"]), int(payload["global_step"])
        wall = float(payload["wall_seconds"])
        state = payload["state"]
        layouts = {str(k): str(v) for k, v in dict(payload.get("layouts") or {}).items()}
        if not isinstance(state, dict) or update < 0 or steps < 0 or not math.isfinite(wall):
            raise ValueError("counters or state out of range")
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise CheckpointError(f"checkpoint {str(p)!r} is incomplete or corrupt ({type(exc).__name__}: {exc})") from None
    return Checkpoint(
        path=p,
        config=config,
        update=update,
        global_step=steps,
        state=state,
        wall_seconds=wall,
        saved_layouts=layouts,
    )


def encode_worlds(exported: dict[str, Any]) -> dict[str, Any]:
    """`aip_engine.Worlds.export_state` in the types a checkpoint holds (its arrays as bytes in tensors).

    Checkpoints are read with ``weights_only=True``, which refuses numpy arrays; each array is kept as
    its raw bytes, its dtype and its shape, so that every dtype (the bots' uint64 generators too) comes
    back bit for bit.
    """
    arrays = {
        name: {
            "dtype": a.dtype.str,
            "shape": list(a.shape),
            "data": torch.frombuffer(bytearray(np.ascontiguousarray(a).tobytes()), dtype=torch.uint8)
            if a.nbytes
            else torch.zeros(0, dtype=torch.uint8),
        }
        for name, a in exported["arrays"].items()
    }
    return {**{k: v for k, v in exported.items() if k != "arrays"}, "arrays": arrays}


def decode_worlds(encoded: dict[str, Any]) -> dict[str, Any]:
    """Undo `encode_worlds`: what `aip_engine.Worlds.import_state` takes."""
    arrays = {
        name: np.frombuffer(item["data"].numpy().tobytes(), dtype=np.dtype(item["dtype"])).reshape(item["shape"]).copy()
        for name, item in encoded["arrays"].items()
    }
    return {**{k: v for k, v in encoded.items() if k != "arrays"}, "arrays": arrays}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
