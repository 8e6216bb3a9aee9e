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

__all__ = [
    "MAX_THREADS",
    "MAX_WORLDS",
    "check_batch_size",
    "episode_time_limit",
    "resolve_config",
    "resolve_controllers",
]

#: The largest batch (the C++ core's kMaxWorlds); a batch must also fit in the machine's memory.
MAX_WORLDS = 1 << 30
#: The most threads one batch may use (the C++ core's kMaxThreads).
MAX_THREADS = 1024


def check_batch_size(num_worlds: object, threads: object) -> None:
    """Refuse a world count outside [1, MAX_WORLDS] or a thread count outside [0, MAX_THREADS] (0 = every core).

    Raises:
        ConfigError: Either is not an integer in range.
    """
    if isinstance(num_worlds, bool) or not isinstance(num_worlds, int) or not 1 <= num_worlds <= MAX_WORLDS:
        raise ConfigError(f"num_worlds must be an integer in [1, {MAX_WORLDS}], got {num_worlds!r}")
    if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= MAX_THREADS:
        raise ConfigError(
            f"threads must be an integer in [0, {MAX_THREADS}] (0 = every core this process may use), got {threads!r}"
        )


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
