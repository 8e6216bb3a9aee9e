"""What the arguments of a batch of worlds mean.

The checks and defaults are shared by the C++ engine's `Worlds` and the reference's, so that both
accept, refuse and resolve them identically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._config import Config
from ._errors import ConfigError, unknown_name_error
from ._layouts import roles
from ._tasks import AGENT, RANDOM, TaskSpec, bots

__all__ = ["check_batch_size", "episode_time_limit", "resolve_config", "resolve_controllers"]


def check_batch_size(num_worlds: object, threads: object) -> None:
    """Refuse a world count below 1 or a negative thread count (0 means every core).

    Raises:
        ConfigError: Either is not an integer in range.
    """
    if isinstance(num_worlds, bool) or not isinstance(num_worlds, int) or num_worlds < 1:
        raise ConfigError(f"num_worlds must be an integer >= 1, got {num_worlds!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ConfigError(f"threads must be an integer >= 0 (0 = all cores), got {threads!r}")


def resolve_config(spec: TaskSpec, config: Config | Mapping[str, Any] | None) -> Config:
    """The batch's rule numbers: the task's, a whole `Config`, or the task's with a mapping's changes.

    Raises:
        ConfigError: Not a Config, a mapping or None, or a value out of range.
        UnknownNameError: A mapping key that is no config field.
    """
    if config is None:
        return spec.config
    if isinstance(config, Config):
        return config
    if isinstance(config, Mapping):
        return Config.from_mapping(config, base=spec.config)
    raise ConfigError(f"config must be a Config, a mapping of field names or None, got {type(config).__name__}")


def resolve_controllers(spec: TaskSpec, overrides: Mapping[str, str] | None) -> dict[str, str]:
    """The task's controllers with the caller's overrides (role -> "agent", a bot, or "random" for the enemy).

    Raises:
        UnknownNameError: An unknown role, or a controller the role cannot have.
    """
    merged = dict(spec.controllers)
    for role, name in (overrides or {}).items():
        if role not in roles():
            raise unknown_name_error("role", role, roles())
        allowed = (AGENT, *bots(role)) + ((RANDOM,) if role == "enemy" else ())
        if name not in allowed:
            raise unknown_name_error(f"{role} controller", name, allowed)
        merged[role] = name
    return merged


def episode_time_limit(spec: TaskSpec, config: Config) -> int:
    """Frames before truncation (0 = none): the config's, else the task's.

    intercept-v1's limit is the largest missile lifetime, so its episodes end by hit or expiry.
    """
    if config.time_limit is not None:
        return config.time_limit
    if spec.name == "intercept-v1":
        return config.missile_life_max
    return spec.time_limit
