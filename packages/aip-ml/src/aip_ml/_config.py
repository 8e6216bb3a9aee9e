"""Training configuration: one TOML file per task, validated, with ``key=value`` overrides."""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import tomllib
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from aip_engine._files import read_regular

from ._errors import ConfigError

__all__ = ["TrainConfig", "config_path", "config_tasks", "load_config"]

_ACTIVATIONS = ("tanh", "relu", "elu", "silu")

#: Config sections (TOML tables) and the function that validates each one and returns its canonical form.
SECTIONS: dict[str, str] = {"curriculum": "aip_ml.curriculum:validate_section"}

# Keys kept for one minor release after the [curriculum] section replaced them, with their defaults.
_DEPRECATED: dict[str, Any] = {
    "curriculum_param": "",
    "curriculum_start": 0.0,
    "curriculum_begin": 0.0,
    "curriculum_fraction": 0.5,
}
_SCHEDULES = ("constant", "linear")
#: Behaviour cloning augmentations (`aip_ml.imitation.clone`).
AUGMENTS = ("none", "mirror")
_LR_SCALES = ("none", "linear", "sqrt")  # aip_ml.distributed.LR_SCALES
_MAX_CONFIG_BYTES = 2**20  # a training config is a page of TOML


def _f(help_text: str, default: Any) -> Any:
    if isinstance(default, (list, tuple)):
        value = tuple(default)
        return field(default_factory=lambda: value, metadata={"help": help_text})
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a PPO training run; `field_help` describes each field."""

    task: str = _f("the task to learn (aip_engine.tasks())", "chase-v1")
    seed: int = _f("seed of the run: engine worlds, network initialisation, sampling", 0)
    total_steps: int = _f("environment steps to train for (world-steps summed over the batch)", 1_000_000)
    num_worlds: int = _f("worlds stepped together (the batch size N)", 256)
    rollout_steps: int = _f("steps per world in each rollout; one update uses num_worlds * rollout_steps", 64)
    epochs: int = _f("passes over each rollout", 4)
    minibatch_size: int = _f("samples per gradient step; must divide num_worlds * rollout_steps", 4096)
    learning_rate: float = _f("Adam learning rate (initial, for the linear schedule)", 3e-4)
    lr_schedule: str = _f("learning-rate schedule: constant or linear (decays to 0 at total_steps)", "linear")
    lr_scale: str = _f(
        "distributed runs (N ranks, a batch N times larger): the learning rate's factor: none (x1), linear (x N) "
        "or sqrt (x sqrt N); one process: x1 whatever the rule",
        "none",
    )
    gamma: float = _f("discount factor", 0.99)
    gae_lambda: float = _f("GAE lambda", 0.95)
    clip_range: float = _f("PPO policy clip range", 0.2)
    clip_range_vf: float = _f("value clip range; 0 disables value clipping", 0.0)
    ent_coef: float = _f("entropy bonus coefficient", 0.0)
    vf_coef: float = _f("value loss coefficient", 0.5)
    max_grad_norm: float = _f("gradient norm clip", 0.5)
    target_kl: float = _f("stop an update's epochs early when the approximate KL exceeds this; 0 = never", 0.0)
    normalize_advantage: bool = _f("normalise advantages per minibatch", True)
    hidden_sizes: tuple[int, ...] = _f("hidden layer sizes of the actor and of the critic", (64, 64))
    activation: str = _f("hidden activation: tanh, relu, elu or silu", "tanh")
    log_std_init: float = _f("initial log standard deviation of the Gaussian policy", -0.5)
    obs_norm: bool = _f("normalise observations with running statistics", True)
    obs_clip: float = _f("clip normalised observations to [-obs_clip, obs_clip]", 10.0)
    obs_norm_preserve: bool = _f(
        "when the observation statistics change, rescale the first layer of the actor and of the critic so that "
        "their outputs stay the same: a cloned or loaded policy is not upset by statistics of states it was not "
        "fitted on",
        False,
    )
    reward_scale: bool = _f("divide rewards by the running std of the discounted return", True)
    reward_clip: float = _f("clip scaled rewards to [-reward_clip, reward_clip]", 10.0)
    curriculum: dict[str, Any] | None = field(
        default=None,
        metadata={
            "help": "the [curriculum] section: lessons that set per-world task parameters (fixed, sampled per "
            "world, or ramped) and the criteria that end each lesson (docs/tutorials/curriculum.md); none = the "
            "task as it is"
        },
    )
    curriculum_param: str = _f("deprecated since 0.2.0: use the [curriculum] section (a ramp)", "")
    curriculum_start: float = _f("deprecated since 0.2.0: use the [curriculum] section (a ramp)", 0.0)
    curriculum_begin: float = _f("deprecated since 0.2.0: use the [curriculum] section (a ramp)", 0.0)
    curriculum_fraction: float = _f("deprecated since 0.2.0: use the [curriculum] section (a ramp)", 0.5)
    init_from: str = _f(
        "start from another model of the same role layout (transfer): a registered model NAME/VERSION or "
        "NAME@alias, a run folder, a checkpoint (.ckpt) or a policy file (.aipp); empty = a fresh network",
        "",
    )
    init_freeze: int = _f("hidden layers of the actor and critic kept frozen after init_from (0 = none)", 0)
    init_lr_scale: float = _f("learning-rate factor of the layers loaded by init_from (1 = the same as new ones)", 1.0)
    demos: str = _f(
        "a demonstration dataset (.npz from `aip demos convert`) for behaviour cloning and GAIL; empty = none", ""
    )
    bc_holdout: float = _f("fraction of the demonstration episodes held out to report the cloning loss", 0.1)
    bc_full_speed_gain: float = _f(
        "behaviour cloning fits demonstrated full-speed moves at this length (1 to 1.5): above 1, the clone's errors "
        "fall outside the unit disc, where moves are clipped to full speed, not inside it, where they slow it down",
        1.0,
    )
    bc_augment: str = _f(
        "behaviour cloning data augmentation: none, or mirror (each sample also as the arena's mirror images: "
        "four times the demonstrations, as the rules are symmetric)",
        "none",
    )
    gail_weight: float = _f("weight of the GAIL reward added to the task's reward (0 = no GAIL)", 0.0)
    gail_epochs: int = _f("discriminator passes per update (GAIL)", 1)
    imitate_bot: str = _f(
        "before PPO, clone this scripted bot of the agent's role (behaviour cloning on its moves); empty = none",
        "",
    )
    imitate_samples: int = _f("observation-action pairs collected from the bot for cloning", 1_000_000)
    imitate_epochs: int = _f("behaviour-cloning passes over the demonstrations (demos or imitate_bot's) before PPO", 5)
    dagger_iterations: int = _f(
        "DAgger rounds after cloning imitate_bot: the learner plays, the bot labels what it saw (0 = plain cloning)",
        0,
    )
    critic_warmup_updates: int = _f(
        "first updates that train only the critic (the policy keeps what it started with)", 0
    )
    selfplay_snapshot_every: int = _f(
        "self-play: updates between snapshots of each learning role into the pool (ML-Agents save_steps)", 10
    )
    selfplay_window: int = _f("self-play: snapshots kept in each pool (ML-Agents window)", 10)
    selfplay_latest_ratio: float = _f(
        "self-play: probability that a world faces the other role's latest policy rather than a pool member "
        "(ML-Agents play_against_latest_model_ratio); 1 = latest only",
        0.5,
    )
    selfplay_swap_every: int = _f(
        "self-play: 0 = both roles learn at once (half the worlds each); S = roles take turns every S updates "
        "(ML-Agents team_change)",
        0,
    )
    selfplay_bots: str = _f("self-play: scripted bots in the pools, comma-separated (e.g. 'kite,flee,chase')", "")
    selfplay_imitate: str = _f(
        "self-play: roles cloned from a scripted bot before PPO, 'ROLE:BOT' comma-separated (e.g. 'enemy:dodge'); "
        "the demonstrations face the other role's selfplay_bots (imitate_samples pairs, imitate_epochs passes)",
        "",
    )
    selfplay_rating_every: int = _f(
        "self-play: updates between rating the learners against the bots and the pool (0 = never)", 0
    )
    selfplay_rating_episodes: int = _f("self-play: episodes per pair when rating the learners", 16)
    checkpoint_every: int = _f("updates between checkpoints (the worlds are reseeded there); 0 = only at the end", 20)
    eval_episodes: int = _f("episodes of the final evaluation (0 = none)", 200)
    eval_seed: int = _f("seed of the final evaluation", 12345)
    target_every_steps: int = _f(
        "environment steps between checks of the task's skill target during training (aip_ml.skill_target); "
        "the run reports when it was first met and kept; 0 = no checks",
        0,
    )
    target_episodes: int = _f("episodes of each skill-target check (the same seeds every time)", 200)
    device: str = _f(
        "where the worlds, the rollout and the network live: cpu, or cuda / cuda:N (the engine's CUDA "
        "backend, exchanged with torch through DLPack; docs/gpu.md)",
        "cpu",
    )
    torch_threads: int = _f("torch threads; 0 = 1 (small networks gain nothing from more)", 0)
    engine_threads: int = _f("engine threads; 0 = all cores (shared out among the ranks of a machine)", 0)

    def __post_init__(self) -> None:
        _convert_deprecated(self)
        _validate(self)

    @staticmethod
    def field_help() -> dict[str, str]:
        """Return every field's name and one-line description."""
        return {f.name: str(f.metadata["help"]) for f in fields(TrainConfig)}

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a validated copy with some fields changed.

        Args:
            **changes: Field names and new values.

        Returns:
            The new config.

        Raises:
            ConfigError: An unknown field or an invalid value.
        """
        for key in changes:
            _check_key(key)
        return dataclasses.replace(self, **{k: _coerce(k, v) for k, v in changes.items()})

    def to_dict(self) -> dict[str, Any]:
        """Return the config as plain TOML/JSON types (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def to_toml(self) -> str:
        """Return the config as a TOML document that `load_config(path=...)` reads back."""
        lines = ["# aip-ml training config (keys: aip_ml.TrainConfig.field_help())"]
        sections: dict[str, dict[str, Any]] = {}
        for key, value in self.to_dict().items():
            if key in SECTIONS:
                if value is not None:
                    sections[key] = value
            elif key in _DEPRECATED and value == _DEPRECATED[key]:
                continue  # old keys are written only when set (they are not, once converted)
            else:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, table in sections.items():
            lines.append(f"\n[{key}]")
            for sub, value in table.items():
                if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    items = ",\n".join(f"  {_toml_value(v)}" for v in value)
                    lines.append(f"{sub} = [\n{items},\n]")
                else:
                    lines.append(f"{sub} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"

    @property
    def batch_size(self) -> int:
        """Samples per update: ``num_worlds * rollout_steps``."""
        return self.num_worlds * self.rollout_steps

    @property
    def total_updates(self) -> int:
        """Updates needed to reach `total_steps` (rounded up)."""
        return max(1, math.ceil(self.total_steps / self.batch_size))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


_HINTS: dict[str, Any] = {}


def _hints() -> dict[str, Any]:
    if not _HINTS:
        _HINTS.update(get_type_hints(TrainConfig))
    return _HINTS


def _check_key(key: str) -> None:
    names = [f.name for f in fields(TrainConfig)]
    if key not in names:
        close = difflib.get_close_matches(key, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown config key {key!r}{hint} Valid keys: {', '.join(names)}.")


def _type_name(tp: Any) -> str:
    if get_origin(tp) is tuple:
        return "a list of integers"
    if get_origin(tp) is dict:
        return "a table (a TOML section)"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(tp, str(tp))


def _coerce(key: str, value: Any) -> Any:
    tp = _hints()[key]
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        tp = next(a for a in get_args(tp) if a is not type(None))
        origin = get_origin(tp)
    ok = True
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        try:
            number = float(value) if ok else math.nan
        except OverflowError:
            number = math.nan
        if ok and not math.isfinite(number):
            # inf or nan would pass range checks written as comparisons and train into NaN.
            raise ConfigError(f"config key {key!r}: expected a finite number, got {value!r}")
        value = number if ok else value
    elif tp is str:
        ok = isinstance(value, str)
    elif origin is dict:
        ok = value is None or isinstance(value, Mapping)
        value = dict(value) if isinstance(value, Mapping) else value  # not a table: refused below
    elif origin is tuple:
        if isinstance(value, str):
            try:
                value = [int(v) for v in value.split(",") if v.strip()]
            except ValueError:
                ok = False
        ok = (
            ok
            and isinstance(value, (list, tuple))
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        value = tuple(value) if ok else value
    if not ok:
        raise ConfigError(f"config key {key!r}: expected {_type_name(tp)}, got {value!r}")
    return value


def _convert_deprecated(c: TrainConfig) -> None:
    """Turn the old single-parameter ramp into the equivalent [curriculum] section, with a warning."""
    changed = [k for k, default in _DEPRECATED.items() if getattr(c, k) != default]
    if not changed:
        return
    import warnings

    from aip_engine._deprecation import AIPDeprecationWarning

    warnings.warn(
        AIPDeprecationWarning(
            f"config keys {', '.join(changed)} are deprecated since 0.2.0 and will be removed in 0.4.0; use the "
            "[curriculum] section instead (a lesson whose parameter is { ramp = [start, end], over = [begin, "
            "fraction] })",
            since="0.2.0",
            removed_in="0.4.0",
            replacement="the [curriculum] section",
        ),
        stacklevel=5,
    )
    if c.curriculum_param:
        if c.curriculum is not None:
            raise ConfigError(
                "config keys 'curriculum_param' and 'curriculum' both set; keep only the [curriculum] section"
            )
        if not 0 < c.curriculum_fraction <= 1:
            raise ConfigError(f"config key 'curriculum_fraction' = {c.curriculum_fraction!r}: must be in (0, 1]")
        if not 0 <= c.curriculum_begin < c.curriculum_fraction:
            raise ConfigError(
                f"config key 'curriculum_begin' = {c.curriculum_begin!r}: must be in "
                f"[0, curriculum_fraction = {c.curriculum_fraction})"
            )
        ramp = {"ramp": [float(c.curriculum_start), "task"], "over": [c.curriculum_begin, c.curriculum_fraction]}
        section = {"lessons": [{"name": f"ramp of {c.curriculum_param}", "params": {c.curriculum_param: ramp}}]}
        object.__setattr__(c, "curriculum", section)
    for key, default in _DEPRECATED.items():
        object.__setattr__(c, key, default)


def _validate_sections(c: TrainConfig) -> None:
    import importlib

    for key, entry in SECTIONS.items():
        value = getattr(c, key)
        if value is None:
            continue
        module, _, function = entry.partition(":")
        canonical = getattr(importlib.import_module(module), function)(value, c)
        object.__setattr__(c, key, canonical)


def _validate(c: TrainConfig) -> None:
    from aip_engine import tasks

    def bad(key: str, rule: str) -> ConfigError:
        return ConfigError(f"config key {key!r} = {getattr(c, key)!r}: {rule}")

    for f in fields(c):
        _coerce(f.name, getattr(c, f.name))
    if c.task not in tasks():
        close = difflib.get_close_matches(c.task, tasks(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"config key 'task' = {c.task!r}: unknown task{hint} Valid tasks: {', '.join(tasks())}.")
    for key in ("total_steps", "num_worlds", "rollout_steps", "epochs", "minibatch_size"):
        if getattr(c, key) < 1:
            raise bad(key, "must be at least 1")
    for key in ("learning_rate", "clip_range", "obs_clip", "reward_clip"):
        if not getattr(c, key) > 0:
            raise bad(key, "must be greater than 0")
    for key in ("gamma", "gae_lambda"):
        if not 0 <= getattr(c, key) <= 1:
            raise bad(key, "must be between 0 and 1")
    for key in ("clip_range_vf", "ent_coef", "vf_coef", "max_grad_norm", "target_kl", "gail_weight"):
        if not getattr(c, key) >= 0:
            raise bad(key, "must be 0 or more")
    for key in (
        "checkpoint_every",
        "eval_episodes",
        "torch_threads",
        "engine_threads",
        "imitate_samples",
        "imitate_epochs",
        "critic_warmup_updates",
        "target_every_steps",
        "init_freeze",
        "gail_epochs",
        "dagger_iterations",
        "selfplay_swap_every",
        "selfplay_rating_every",
    ):
        if getattr(c, key) < 0:
            raise bad(key, "must be 0 or more")
    if c.target_episodes < 1:
        raise bad("target_episodes", "must be at least 1")
    if c.target_every_steps:
        from ._targets import skill_targets

        if c.task not in skill_targets():
            raise bad(
                "target_every_steps",
                f"task {c.task!r} has no skill target (tasks with one: {', '.join(skill_targets())}); use 0",
            )
    if c.batch_size % c.minibatch_size:
        raise bad(
            "minibatch_size",
            f"must divide num_worlds * rollout_steps = {c.batch_size} "
            f"(e.g. {_divisor_near(c.batch_size, c.minibatch_size)})",
        )
    if c.lr_schedule not in _SCHEDULES:
        raise bad("lr_schedule", f"must be one of {', '.join(_SCHEDULES)}")
    if c.lr_scale not in _LR_SCALES:
        raise bad("lr_scale", f"must be one of {', '.join(_LR_SCALES)}")
    if c.activation not in _ACTIVATIONS:
        raise bad("activation", f"must be one of {', '.join(_ACTIVATIONS)}")
    if not c.hidden_sizes or any(h < 1 for h in c.hidden_sizes):
        raise bad("hidden_sizes", "must be a non-empty list of positive integers, e.g. [64, 64]")
    if not 0 < c.curriculum_fraction <= 1:
        raise bad("curriculum_fraction", "must be in (0, 1]")
    if not 0 <= c.curriculum_begin < c.curriculum_fraction:
        raise bad("curriculum_begin", f"must be in [0, curriculum_fraction = {c.curriculum_fraction})")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", c.device):
        raise bad("device", "must be cpu, cuda or cuda:N (a GPU index), e.g. device=cuda")
    for key in ("selfplay_snapshot_every", "selfplay_window", "selfplay_rating_episodes"):
        if getattr(c, key) < 1:
            raise bad(key, "must be at least 1")
    if not 0 <= c.selfplay_latest_ratio <= 1:
        raise bad("selfplay_latest_ratio", "must be between 0 and 1")
    if not -5 <= c.log_std_init <= 2:
        raise bad("log_std_init", "must be between -5 and 2")
    if not 0 <= c.bc_holdout < 1:
        raise bad("bc_holdout", "must be in [0, 1)")
    if not 1 <= c.bc_full_speed_gain <= 1.5:
        raise bad("bc_full_speed_gain", "must be in [1, 1.5] (1 = fit the moves as demonstrated)")
    if c.bc_augment not in AUGMENTS:
        raise bad("bc_augment", f"must be one of {', '.join(AUGMENTS)}")
    if not c.init_lr_scale >= 0:
        raise bad("init_lr_scale", "must be 0 or more (0 freezes the loaded layers like init_freeze)")
    if c.init_freeze > len(c.hidden_sizes):
        raise bad("init_freeze", f"must be at most the number of hidden layers ({len(c.hidden_sizes)})")
    _validate_sections(c)


def _divisor_near(n: int, want: int) -> int:
    return min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: abs(d - want))


def config_tasks() -> tuple[str, ...]:
    """Return the tasks that have a shipped config."""
    folder = resources.files("aip_ml") / "configs"
    return tuple(sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")))


def config_path(task: str) -> Path:
    """Return the path of a task's shipped config file.

    Args:
        task: The task, e.g. ``"chase-v1"``.

    Returns:
        The path of ``aip_ml/configs/<task>.toml``.

    Raises:
        ConfigError: No config is shipped for that task.
    """
    available = config_tasks()
    if task not in available:
        close = difflib.get_close_matches(task, available, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"no shipped config for task {task!r}{hint} Shipped: {', '.join(available)}.")
    return Path(str(resources.files("aip_ml") / "configs" / f"{task}.toml"))


def _parse_override(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not key=value (e.g. learning_rate=3e-4)")
    key, raw = (s.strip() for s in text.split("=", 1))
    _check_key(key)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare word is a string (task=chase-v1, activation=relu)
    except RecursionError:
        raise ConfigError(f"override {text!r}: the value is nested too deeply") from None
    if key in SECTIONS and isinstance(value, str):
        value = _section_from_text(key, value)
    return key, value


def _section_from_text(key: str, text: str) -> dict[str, Any] | None:
    """``curriculum=none`` turns a section off; ``curriculum=FILE.toml`` reads it from a file."""
    if text.strip().lower() in ("", "none", "off"):
        return None
    data = _read_toml_file(Path(text))
    table = data.get(key, data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {text!r}: [{key}] must be a table")
    return table


def _read_toml_file(path: Path) -> dict[str, Any]:
    try:
        text = read_regular(path, limit=_MAX_CONFIG_BYTES, what="config file").decode("utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise ConfigError(f"config file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config file {str(path)!r} is nested too deeply to be a training config") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    data = _read_toml_file(path)
    for key in data:
        try:
            _check_key(key)
        except ConfigError as exc:
            raise ConfigError(f"config file {str(path)!r}: {exc}") from None
    return data


def load_config(task: str | None = None, path: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Load a training config: a task's shipped file or a TOML file, then ``key=value`` overrides.

    Args:
        task: The task whose shipped config to start from; with ``path``, it must match the file's task.
        path: A TOML config file (every key a `TrainConfig` field).
        overrides: ``"key=value"`` strings applied last; values are TOML literals or bare words.

    Returns:
        The validated config.

    Raises:
        ConfigError: A missing file, an unknown key (with the nearest valid key), a value of the wrong
            type or out of range, or a task that disagrees with the file's.
    """
    if task is None and path is None:
        raise ConfigError("give a task (e.g. 'chase-v1') or a config file path")
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_toml(Path(path)))
        if task is not None and values.get("task", task) != task:
            raise ConfigError(f"config file {str(path)!r} is for task {values['task']!r}, not {task!r}")
    else:
        assert task is not None
        values.update(_read_toml(config_path(task)))
    if task is not None:
        values.setdefault("task", task)
    for text in overrides:
        key, value = _parse_override(text)
        if key == "task" and task is not None and value != task:
            raise ConfigError(
                f"override {text!r} names another task than {task!r}; give the task once (e.g. `aip train {value}`)"
            )
        values[key] = value
    coerced = {k: _coerce(k, v) for k, v in values.items()}
    return TrainConfig(**coerced)


def config_from_dict(data: Mapping[str, Any]) -> TrainConfig:
    """Build a config from `TrainConfig.to_dict` output (checkpoints use this)."""
    for key in data:
        _check_key(key)
    return TrainConfig(**{k: _coerce(k, v) for k, v in data.items()})
