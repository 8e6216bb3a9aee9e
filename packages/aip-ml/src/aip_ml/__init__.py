"""aip_ml: PPO training on the Pixel Pursuit engine, checkpoints, evaluation and policy export.

The public surface is `__all__`; INTERFACE.md (beside the package) describes how it is used.
"""

from __future__ import annotations

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

from ._checkpoint import Checkpoint, load_checkpoint  # noqa: E402
from ._config import TrainConfig, config_path, config_tasks, load_config  # noqa: E402
from ._errors import CheckpointError, ConfigError, RunDirError  # noqa: E402
from ._evaluate import EvalReport, EvalResult, evaluate  # noqa: E402
from ._export import export_policy  # noqa: E402
from ._model import TorchPolicy  # noqa: E402
from ._train import Callback, CallbackBase, TrainResult, train  # noqa: E402

__all__ = [
    "ENGINE_API_VERSION",
    "Callback",
    "CallbackBase",
    "Checkpoint",
    "CheckpointError",
    "ConfigError",
    "EvalReport",
    "EvalResult",
    "RunDirError",
    "TorchPolicy",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "config_path",
    "config_tasks",
    "evaluate",
    "export_policy",
    "load_checkpoint",
    "load_config",
    "train",
]
