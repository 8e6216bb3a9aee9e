"""aip_ml: PPO training on the Pixel Pursuit engine, checkpoints, evaluation and policy export.

The public surface is `__all__`; INTERFACE.md (beside the package) describes how it is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import aip_engine as _engine

__version__ = "0.1.0"

#: The engine API version this package is written against (docs/engine-api.md).
ENGINE_API_VERSION = 1

if getattr(_engine, "API_VERSION", None) != ENGINE_API_VERSION:
    raise ImportError(
        f"aip-ml {__version__} needs aip-engine API version {ENGINE_API_VERSION}, but the installed aip-engine "
        f"{getattr(_engine, '__version__', '?')} has API version {getattr(_engine, 'API_VERSION', None)}; "
        "install a matching aip-engine (pip install 'aip-engine>=0.1,<0.2')"
    )

# The public names load their modules (and torch) on first use, so that importing a light part of
# the package, such as the game's policy source in aip_ml.tracking, never pays for torch.
_LAZY = {
    "Checkpoint": "._checkpoint",
    "load_checkpoint": "._checkpoint",
    "TrainConfig": "._config",
    "config_path": "._config",
    "config_tasks": "._config",
    "load_config": "._config",
    "CheckpointError": "._errors",
    "ConfigError": "._errors",
    "RunDirError": "._errors",
    "WorldSizeChangedWarning": "._errors",
    "EvalReport": "._evaluate",
    "EvalResult": "._evaluate",
    "evaluate": "._evaluate",
    "evaluate_bot": "._evaluate",
    "export_policy": "._export",
    "export_onnx": "._onnx",
    "SkillTarget": "._targets",
    "TargetCallback": "._targets",
    "TargetCheck": "._targets",
    "TimeToTarget": "._targets",
    "skill_target": "._targets",
    "skill_targets": "._targets",
    "TorchPolicy": ".ppo",
    "PluggedWorlds": "._plugins",
    "Plugin": "._plugins",
    "PluginBase": "._plugins",
    "PluginContext": "._plugins",
    "Callback": "._train",
    "CallbackBase": "._train",
    "TrainResult": "._train",
    "TrainingView": "._train",
    "train": "._train",
}

if TYPE_CHECKING:
    from ._checkpoint import Checkpoint, load_checkpoint
    from ._config import TrainConfig, config_path, config_tasks, load_config
    from ._errors import CheckpointError, ConfigError, RunDirError, WorldSizeChangedWarning
    from ._evaluate import EvalReport, EvalResult, evaluate, evaluate_bot
    from ._export import export_policy
    from ._onnx import export_onnx
    from ._plugins import PluggedWorlds, Plugin, PluginBase, PluginContext
    from ._targets import SkillTarget, TargetCallback, TargetCheck, TimeToTarget, skill_target, skill_targets
    from ._train import Callback, CallbackBase, TrainingView, TrainResult, train
    from .ppo import TorchPolicy


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aip_ml' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "ENGINE_API_VERSION",
    "Callback",
    "CallbackBase",
    "Checkpoint",
    "CheckpointError",
    "ConfigError",
    "EvalReport",
    "EvalResult",
    "PluggedWorlds",
    "Plugin",
    "PluginBase",
    "PluginContext",
    "RunDirError",
    "SkillTarget",
    "TargetCallback",
    "TargetCheck",
    "TimeToTarget",
    "TorchPolicy",
    "TrainConfig",
    "TrainResult",
    "TrainingView",
    "WorldSizeChangedWarning",
    "__version__",
    "config_path",
    "config_tasks",
    "evaluate",
    "evaluate_bot",
    "export_onnx",
    "export_policy",
    "load_checkpoint",
    "load_config",
    "skill_target",
    "skill_targets",
    "train",
]
