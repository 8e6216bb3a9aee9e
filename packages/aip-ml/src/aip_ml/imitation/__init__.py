"""Imitation learning: demonstration datasets, behaviour cloning, DAgger and the GAIL reward signal.

- `DemoDataset` / `load_dataset`: observation, action and episode arrays of one role layout with a
  checksum (made from the game's recordings by `aip demos convert`, which re-simulates each recording
  through the engine with `resimulate`, or from a scripted bot with `bot_demonstrations`).
- Behaviour cloning (`clone`): continuous moves by mean squared error, fire as a Bernoulli head,
  whole episodes held out to report the loss.
- DAgger with a scripted bot as the expert (`dagger_round`; config ``dagger_iterations``).
- GAIL (`GailReward`): a discriminator's reward added to the task's (config ``gail_weight``).

From a config: ``demos = "PATH"`` clones the dataset before PPO (``imitate_epochs``; 0 = no cloning)
and, with ``gail_weight > 0``, adds the GAIL reward during PPO; ``imitate_bot = "NAME"`` clones a
scripted bot (and ``dagger_iterations`` corrects it by DAgger). The dataset's checksum is logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import ConfigError
from ._bc import BINARY_ACTIONS, FIRE_LOGIT_SCALE, clone, cloning_loss
from ._bots import bot_demonstrations, dagger_round
from ._dataset import FORMAT_VERSION, DatasetError, DatasetExistsError, DemoDataset, concatenate, load_dataset
from ._gail import GailReward
from ._plugin import BehaviourCloning, check_dataset
from ._resim import TOLERANCE, ConversionRefused, RecordingEpisodes, resimulate

if TYPE_CHECKING:
    from .._config import TrainConfig
    from .._plugins import Plugin

__all__ = [
    "BINARY_ACTIONS",
    "FIRE_LOGIT_SCALE",
    "FORMAT_VERSION",
    "TOLERANCE",
    "BehaviourCloning",
    "ConversionRefused",
    "DatasetError",
    "DatasetExistsError",
    "DemoDataset",
    "GailReward",
    "RecordingEpisodes",
    "bot_demonstrations",
    "check_dataset",
    "clone",
    "cloning_loss",
    "concatenate",
    "dagger_round",
    "load_dataset",
    "plugins_from_config",
    "resimulate",
]


def plugins_from_config(config: TrainConfig) -> list[Plugin]:
    """The imitation plugins a config asks for: cloning (``demos`` or ``imitate_bot``) and GAIL.

    Args:
        config: The run's config.

    Returns:
        The plugins (cloning first).

    Raises:
        ConfigError: Both ``demos`` and ``imitate_bot`` give cloning data, GAIL without demonstrations, or a
            dataset that cannot be read or is of another role or layout.
    """
    from ..ppo import derive_seed

    seed = derive_seed(config.seed, 2**31)
    out: list[Plugin] = []
    if config.demos and config.imitate_bot and config.imitate_epochs > 0:
        raise ConfigError(
            "config keys 'demos' and 'imitate_bot' both give cloning data; keep one (or imitate_epochs=0 to use the "
            "demonstrations for GAIL only)"
        )
    if config.gail_weight > 0 and not config.demos:
        raise ConfigError("config key 'gail_weight' needs demonstrations: set demos = \"PATH\" (aip demos convert)")
    dataset = None
    if config.demos:
        try:
            dataset = load_dataset(config.demos)
        except DatasetError as exc:
            raise ConfigError(f"config key 'demos': {exc}") from None
        check_dataset(dataset, config.task)
        if config.imitate_epochs > 0:
            out.append(
                BehaviourCloning(
                    epochs=config.imitate_epochs,
                    holdout=config.bc_holdout,
                    seed=seed,
                    dataset=dataset,
                    full_speed_gain=config.bc_full_speed_gain,
                    augment=config.bc_augment,
                )
            )
    elif config.imitate_bot:
        out.append(
            BehaviourCloning(
                epochs=config.imitate_epochs,
                holdout=config.bc_holdout,
                seed=seed,
                bot=config.imitate_bot,
                samples=config.imitate_samples,
                dagger_iterations=config.dagger_iterations,
                full_speed_gain=config.bc_full_speed_gain,
                augment=config.bc_augment,
            )
        )
    if dataset is not None and config.gail_weight > 0:
        out.append(GailReward(dataset, config.gail_weight, config.gail_epochs, seed=seed))
    return out
