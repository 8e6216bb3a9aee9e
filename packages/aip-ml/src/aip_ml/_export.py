"""Export a checkpoint's policy to the portable format (docs/policy-format.md)."""

from __future__ import annotations

import os
from pathlib import Path

import aip_engine
from aip_engine._policy import save_policy

from ._checkpoint import load_checkpoint
from ._errors import CheckpointError
from .ppo import TorchPolicy

__all__ = ["export_policy", "export_torch_policy"]


def export_torch_policy(policy: TorchPolicy, out_path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write a `TorchPolicy` as a portable ``.aipp`` file.

    Args:
        policy: The policy.
        out_path: The file to write.
        overwrite: Replace an existing file.

    Returns:
        The path written.

    Raises:
        FileExistsError: The file exists and ``overwrite`` is false.
    """
    layers = policy.model.linear_layers()
    norm = policy.normalizer
    meta = dict(policy.meta)
    meta.setdefault("engine_version", aip_engine.__version__)
    from . import __version__

    meta.setdefault("aip_ml_version", __version__)
    return save_policy(
        out_path,
        layout_name=policy.layout.name,
        weights=[layer.weight.detach().numpy() for layer in layers],
        biases=[layer.bias.detach().numpy() for layer in layers],
        activation=policy.model.activation,
        obs_mean=norm.np_mean,
        obs_var=norm.np_var,
        obs_clip=norm.clip,
        obs_epsilon=norm.epsilon,
        action_transform="clip",
        task=policy.task,
        training=meta,
        overwrite=overwrite,
    )


def export_policy(
    checkpoint: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    role: str | None = None,
) -> Path:
    """Export the policy of a training checkpoint to the portable format.

    Args:
        checkpoint: A ``.ckpt`` file written by `aip_ml.train`.
        out_path: The ``.aipp`` file to write (atomically).
        overwrite: Replace an existing file; otherwise an existing file is an error.
        role: Which role's policy, for a run that learned several (duel-v1); optional otherwise.

    Returns:
        The path written.

    Raises:
        CheckpointError: The checkpoint is missing or corrupt, or ``role`` is missing or not one of its roles.
        FileExistsError: ``out_path`` exists and ``overwrite`` is false.
    """
    ckpt = load_checkpoint(checkpoint)
    policies = ckpt.policies
    if role is None:
        if len(policies) != 1:
            raise CheckpointError(f"checkpoint {str(ckpt.path)!r} holds {', '.join(policies)} policies; pass role=")
        role = next(iter(policies))
    if role not in policies:
        raise CheckpointError(f"checkpoint {str(ckpt.path)!r} has no {role!r} policy; it has {', '.join(policies)}")
    return export_torch_policy(policies[role], out_path, overwrite=overwrite)
