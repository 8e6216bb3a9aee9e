"""What the arguments of a batch of worlds mean.

The checks and defaults are shared by the C++ engine's `Worlds` and the reference's, so that both
accept, refuse and resolve them identically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._config import Config
from ._errors import ConfigError, ShapeError, shown, unknown_name_error
from ._layouts import roles
from ._tasks import AGENT, RANDOM, TaskSpec, bots

__all__ = [
    "AUTORESET_MODES",
    "MAX_THREADS",
    "MAX_WORLDS",
    "check_batch_size",
    "check_export",
    "check_mask",
    "episode_time_limit",
    "resolve_autoreset",
    "resolve_config",
    "resolve_controllers",
    "resolve_seed",
    "seed_states",
]

#: The autoreset modes in the order of their engine codes (Gymnasium's ``AutoresetMode`` values).
AUTORESET_MODES = ("disabled", "same-step", "next-step")
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
        raise ConfigError(f"num_worlds must be an integer in [1, {MAX_WORLDS}], got {shown(num_worlds)}")
    if isinstance(threads, bool) or not isinstance(threads, int) or not 0 <= threads <= MAX_THREADS:
        raise ConfigError(
            f"threads must be an integer in [0, {MAX_THREADS}] (0 = every core this process may use), "
            f"got {shown(threads)}"
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

    A task's limit may name a Config field (intercept-v1's is ``missile_life_max``, the largest missile
    lifetime, so its episodes end by hit or expiry); it is read from ``config``.
    """
    if config.time_limit is not None:
        return config.time_limit
    if spec.time_limit_field is not None:
        return int(getattr(config, spec.time_limit_field))
    return spec.time_limit


def resolve_autoreset(auto_reset: object) -> str:
    """The autoreset mode named by ``auto_reset``: True = ``"same-step"``, False = ``"disabled"``.

    Gymnasium's ``AutoresetMode`` members are accepted too (their values are ``"next_step"`` etc.).

    Raises:
        ConfigError: Not a bool or one of `AUTORESET_MODES`.
    """
    if isinstance(auto_reset, bool):
        return "same-step" if auto_reset else "disabled"
    value = getattr(auto_reset, "value", auto_reset)  # an Enum member such as gymnasium's AutoresetMode
    if isinstance(value, str) and value.replace("_", "-") in AUTORESET_MODES:
        return value.replace("_", "-")
    raise ConfigError(
        f"auto_reset must be True, False or one of {', '.join(repr(m) for m in AUTORESET_MODES)}, "
        f"got {shown(auto_reset)}"
    )


def _seed_int(seed: object, what: str) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigError(f"{what} must be an integer or None, got {shown(seed)}")
    return int(seed) % (1 << 64)


def resolve_seed(
    seed: object, num_worlds: int
) -> tuple[int | None, NDArray[np.uint64] | None, NDArray[np.bool_] | None]:
    """A reset's seed: one integer for the batch, or one entry per world (an integer or None).

    Returns:
        ``(batch_seed, world_seeds, seeded)``: the batch seed (or None), and for a per-world
        sequence the seeds as uint64 with the mask of the worlds that have one.

    Raises:
        ConfigError: A seed that is no integer (or None).
        ShapeError: A sequence whose length is not the number of worlds.
    """
    if seed is None or isinstance(seed, (bool, int, np.integer)):
        return (None if seed is None else _seed_int(seed, "seed")), None, None
    if isinstance(seed, np.ndarray):
        seed = seed.tolist()
    if not isinstance(seed, (list, tuple)):
        raise ConfigError(f"seed must be an integer, None or a sequence of one per world, got {type(seed).__name__}")
    if len(seed) != num_worlds:
        raise ShapeError(f"a per-world seed sequence needs {num_worlds} entries (one per world), got {len(seed)}")
    seeded = np.array([s is not None for s in seed], dtype=bool)
    values = np.array([0 if s is None else _seed_int(s, f"seed[{i}]") for i, s in enumerate(seed)], dtype=np.uint64)
    return None, values, seeded


def _mix64(z: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def seed_states(seeds: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Generator states of worlds seeded one by one: world i from ``(seeds[i], 0)`` (docs/rules.md).

    A world reseeded so plays what the one world of a batch of one reset with ``seeds[i]`` plays.
    """
    salt = np.full(seeds.shape, 0x632BE59BD9B4E019, dtype=np.uint64)
    return _mix64(seeds.astype(np.uint64)) ^ _mix64(salt)


def check_mask(mask: object, num_worlds: int) -> None:
    """Refuse a reset mask that is not a C-contiguous bool array of shape (N,), as the engine does.

    Raises:
        ShapeError: The mask's type, dtype, shape or layout.
    """
    if not isinstance(mask, np.ndarray):
        raise ShapeError("mask must be a numpy array of dtype bool")
    if mask.dtype != np.bool_ or mask.shape != (num_worlds,) or not mask.flags.c_contiguous:
        shape = "(" + ", ".join(str(d) for d in mask.shape) + ("," if mask.ndim == 1 else "") + ")"
        raise ShapeError(
            f"mask must be a C-contiguous bool array of shape ({num_worlds},), got dtype {mask.dtype} and shape {shape}"
        )


def check_export(
    exported: object, implementation: str, task: str, num_worlds: int, autoreset_mode: str
) -> Mapping[str, Any]:
    """The arrays of an `export_state` dictionary that fits a batch, or a clear error.

    Raises:
        ConfigError: Not such a dictionary, of another format version or implementation, or of a
            batch with another task, world count or autoreset mode.
    """
    if not isinstance(exported, Mapping) or "arrays" not in exported or "format" not in exported:
        raise ConfigError("import_state needs a dictionary returned by export_state()")
    if exported["format"] != 1:
        raise ConfigError(f"exported state has format {shown(exported['format'])}; this version reads format 1")
    got = {k: exported.get(k) for k in ("implementation", "task", "num_worlds", "autoreset_mode")}
    want = {"implementation": implementation, "task": task, "num_worlds": num_worlds, "autoreset_mode": autoreset_mode}
    for key, value in want.items():
        if got[key] != value:
            raise ConfigError(
                f"exported state is of {key} {shown(got[key])}, this batch has {value!r}; "
                "import it into a batch made with the same arguments"
            )
    arrays = exported["arrays"]
    if not isinstance(arrays, Mapping):
        raise ConfigError("exported state's 'arrays' must be a mapping name -> array")
    return arrays
