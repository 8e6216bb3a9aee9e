"""The errors aip_ml raises for mistakes a user can make."""

from __future__ import annotations

__all__ = ["CheckpointError", "ConfigError", "RunDirError", "WorldSizeChangedWarning"]


class ConfigError(ValueError):
    """A training config key, value or file is wrong; the message says what and how to fix it."""


class RunDirError(RuntimeError):
    """A run folder holds a run already (and resume was not asked for), or holds none to resume."""


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, corrupt or incompatible with this version of aip_ml."""


class WorldSizeChangedWarning(UserWarning):
    """A run is resumed on another number of ranks than it was saved on: it continues, not bit-identically."""
