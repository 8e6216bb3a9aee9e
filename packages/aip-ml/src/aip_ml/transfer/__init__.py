"""Transfer: start a run from a model that already knows a related task.

``init_from`` (config key or ``aip train TASK init_from=...``) names a registered model
(``NAME/VERSION``, ``NAME@alias``), a run folder, a checkpoint (``.ckpt``) or a policy file
(``.aipp``). Weights and observation statistics are loaded when the role layouts agree; a mismatch is
an error naming both layouts. ``init_freeze`` freezes the first hidden layers, ``init_lr_scale``
lowers the learning rate of the loaded ones. The run's lineage (``init_from``, the model version and
its run) is recorded in MLflow and shown by ``aip models show``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._plugin import Transfer, load_into
from ._sources import Source, resolve_source

if TYPE_CHECKING:
    from .._config import TrainConfig
    from .._plugins import Plugin

__all__ = ["Source", "Transfer", "load_into", "plugins_from_config", "resolve_source"]


def plugins_from_config(config: TrainConfig) -> list[Plugin]:
    """The transfer plugin a config asks for (none without ``init_from``).

    Args:
        config: The run's config.

    Returns:
        ``[Transfer(...)]`` or ``[]``.
    """
    if not config.init_from:
        return []
    return [Transfer(config.init_from, config.init_freeze, config.init_lr_scale)]
