"""Search spaces: which config keys a study varies, over which values, declared in TOML.

A space file has three tables::

    [study]                      # optional: how trials are judged and cut short
    objective = "steps_to_target"    # steps_to_target (minimise), success or return (maximise)
    pruner = "median"                # median, halving or none

    [fixed]                      # optional: config keys set for every trial
    total_steps = 3_000_000

    [params]                     # the keys the sampler chooses, one distribution each
    learning_rate = { type = "float", low = 3e-4, high = 3e-3, log = true }
    epochs = { type = "int", low = 3, high = 10 }
    hidden_sizes = { type = "categorical", choices = [[64, 64], [128, 128]] }

Every key of ``[fixed]`` and ``[params]`` is a `TrainConfig` key; each bound and choice is checked
against the task's config when the space is loaded, so that a typo or an impossible value is reported
with the key's name before any trial runs.
"""

from __future__ import annotations

import difflib
import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aip_engine._files import read_regular

from .._config import TrainConfig
from .._errors import ConfigError

if TYPE_CHECKING:
    import optuna

__all__ = [
    "OBJECTIVES",
    "PRUNERS",
    "Param",
    "SearchSpace",
    "SearchSpaceError",
    "load_space",
    "space_path",
    "space_tasks",
]

#: The objectives a study can optimise, with their direction.
OBJECTIVES: dict[str, str] = {"steps_to_target": "minimize", "success": "maximize", "return": "maximize"}
#: The pruners: Optuna's median rule, successive halving, or none.
PRUNERS = ("median", "halving", "none")
_TYPES = ("float", "int", "categorical")
_PARAM_KEYS = {
    "float": {"type", "low", "high", "log", "step"},
    "int": {"type", "low", "high", "log", "step"},
    "categorical": {"type", "choices"},
}
_TABLES = ("study", "fixed", "params")
_STUDY_KEYS = ("objective", "pruner")
_MAX_SPACE_BYTES = 2**20
# Keys a study must not vary: they say what is trained and where, not how well.
_NOT_SEARCHABLE = ("task", "device", "torch_threads", "engine_threads")


class SearchSpaceError(ConfigError):
    """A search space file or value is wrong; the message names the key and says how to fix it."""


@dataclass(frozen=True)
class Param:
    """One searched config key and its distribution.

    Attributes:
        name: The `TrainConfig` key.
        kind: ``float``, ``int`` or ``categorical``.
        low: The lower bound (float and int).
        high: The upper bound, included (float and int).
        log: Sample on a log scale.
        step: The grid step (0 = continuous for floats, 1 for ints).
        choices: The values of a categorical key, as config values (lists for tuple keys).
    """

    name: str
    kind: str
    low: float = 0.0
    high: float = 0.0
    log: bool = False
    step: float = 0.0
    choices: tuple[Any, ...] = ()

    def suggest(self, trial: optuna.Trial) -> Any:
        """Draw this key's value for ``trial`` (a config value: a list for tuple keys).

        Args:
            trial: The Optuna trial.

        Returns:
            The value.
        """
        if self.kind == "float":
            return trial.suggest_float(self.name, self.low, self.high, log=self.log, step=self.step or None)
        if self.kind == "int":
            return trial.suggest_int(self.name, int(self.low), int(self.high), log=self.log, step=int(self.step or 1))
        labels = [_label(c) for c in self.choices]
        return self.from_optuna(trial.suggest_categorical(self.name, labels))

    def from_optuna(self, value: Any) -> Any:
        """Turn the value Optuna stores (a list choice is kept as its JSON text) into a config value."""
        if self.kind == "categorical" and isinstance(value, str):
            for choice in self.choices:
                if _label(choice) == value:
                    return choice
        return value

    def to_optuna(self, value: Any) -> Any:
        """Turn a config value into what Optuna stores (for enqueued trials)."""
        if self.kind == "categorical":
            return _label(list(value) if isinstance(value, tuple) else value)
        return value

    def describe(self) -> str:
        """The distribution in one line."""
        if self.kind == "categorical":
            return "one of " + ", ".join(json.dumps(c) for c in self.choices)
        scale = ", log scale" if self.log else ""
        step = f", step {self.step:g}" if self.step else ""
        return f"{self.kind} in [{self.low:g}, {self.high:g}]{scale}{step}"


def _label(choice: Any) -> Any:
    # Optuna keeps categorical choices as None, bool, int, float or str: a list is kept as its JSON.
    return json.dumps(choice) if isinstance(choice, list) else choice


@dataclass(frozen=True)
class SearchSpace:
    """A study's search space: the searched keys, the keys fixed for every trial, the objective.

    Attributes:
        task: The task the space was checked against.
        params: The searched keys, in file order.
        fixed: Config keys and values applied to every trial (before the searched ones).
        objective: ``steps_to_target``, ``success`` or ``return``.
        pruner: ``median``, ``halving`` or ``none``.
        source: Where it was read from.
    """

    task: str
    params: tuple[Param, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    objective: str = "success"
    pruner: str = "median"
    source: str = ""

    @property
    def direction(self) -> str:
        """``minimize`` or ``maximize``: the objective's direction."""
        return OBJECTIVES[self.objective]

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Draw every searched key for ``trial``.

        Args:
            trial: The Optuna trial.

        Returns:
            Config key to value.
        """
        return {p.name: p.suggest(trial) for p in self.params}

    def config_values(self, optuna_params: Mapping[str, Any]) -> dict[str, Any]:
        """Turn a trial's stored params (``trial.params``) into config values."""
        by_name = {p.name: p for p in self.params}
        return {k: by_name[k].from_optuna(v) if k in by_name else v for k, v in optuna_params.items()}

    def with_study(self, objective: str | None = None, pruner: str | None = None) -> SearchSpace:
        """Return the space with another objective or pruner (``--objective``, ``--pruner``).

        Raises:
            SearchSpaceError: An unknown objective or pruner, or a steps objective on a task without a
                skill target.
        """
        from dataclasses import replace

        chosen = replace(self, objective=objective or self.objective, pruner=pruner or self.pruner)
        _check_study(chosen.objective, chosen.pruner, chosen.task, "the command line")
        return chosen


def space_tasks() -> tuple[str, ...]:
    """Return the tasks that ship a default search space."""
    folder = resources.files("aip_ml") / "configs" / "spaces"
    return tuple(sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")))


def space_path(task: str) -> Path:
    """Return the path of a task's default search space, ``aip_ml/configs/spaces/<task>.toml``.

    Args:
        task: The task.

    Returns:
        The path.

    Raises:
        SearchSpaceError: The task ships no search space.
    """
    available = space_tasks()
    if task not in available:
        close = difflib.get_close_matches(task, available, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SearchSpaceError(
            f"no default search space for task {task!r}{hint} Shipped: {', '.join(available)}; "
            "write one and pass it with --space FILE"
        )
    return Path(str(resources.files("aip_ml") / "configs" / "spaces" / f"{task}.toml"))


def load_space(task: str, path: str | Path | None = None, *, base: TrainConfig | None = None) -> SearchSpace:
    """Read and check a search space: the task's default one, or a file.

    Args:
        task: The task.
        path: A space file; None = the task's default (`space_path`).
        base: The config the trials start from (default: the task's shipped config); every bound and
            choice is applied to it to check that it makes a valid config.

    Returns:
        The space.

    Raises:
        SearchSpaceError: The file is missing or not TOML, or a table, key or value is wrong.
    """
    import aip_engine

    if len(aip_engine.task_spec(task).agents) > 1:
        raise SearchSpaceError(
            f"task {task!r} trains several roles by self-play, which has no single objective to tune yet; "
            "tune a single-agent task (aip train --help lists them)"
        )
    source = Path(path) if path is not None else space_path(task)
    where = f"search space {str(source)!r}"
    data = _read(source, where)
    if base is None:
        from .._config import load_config

        base = load_config(task)
    for table in data:
        if table not in _TABLES:
            raise SearchSpaceError(
                f"{where}: unknown table [{table}]{_near(table, _TABLES)} Tables: [study], [fixed], [params]."
            )
        if not isinstance(data[table], dict):
            raise SearchSpaceError(f"{where}: {table!r} must be a table ([{table}]), not {data[table]!r}")
    study = data.get("study", {})
    for key in study:
        if key not in _STUDY_KEYS:
            raise SearchSpaceError(
                f"{where}: unknown key 'study.{key}'{_near(key, _STUDY_KEYS)} Keys: objective, pruner."
            )
    from .._targets import skill_target

    objective = study.get("objective", "steps_to_target" if skill_target(task) else "success")
    pruner = study.get("pruner", "median")
    _check_study(objective, pruner, task, where)
    fixed = dict(data.get("fixed", {}))
    names = list(TrainConfig.field_help())
    for key, value in fixed.items():
        _check_name(key, "fixed", names, where)
        if key == "task" and value != task:
            raise SearchSpaceError(f"{where}: 'fixed.task' = {value!r} but the study is for {task!r}; remove it")
    try:
        start = base.replace(**fixed) if fixed else base
    except ConfigError as exc:
        raise SearchSpaceError(f"{where}: [fixed] makes an invalid config: {exc}") from None
    params_table = data.get("params", {})
    if not params_table:
        raise SearchSpaceError(
            f"{where}: [params] is empty; declare at least one key to search, "
            'e.g. learning_rate = { type = "float", low = 1e-4, high = 3e-3, log = true }'
        )
    params = tuple(_param(key, spec, names, where, start) for key, spec in params_table.items())
    for p in params:
        if p.name in fixed:
            raise SearchSpaceError(
                f"{where}: {p.name!r} is both fixed and searched; keep it in one of [fixed] and [params]"
            )
    if objective == "steps_to_target" and not start.target_every_steps:
        raise SearchSpaceError(
            f"{where}: objective 'steps_to_target' needs skill-target checks during each trial; set "
            "target_every_steps in [fixed] (e.g. target_every_steps = 131072)"
        )
    return SearchSpace(task, params, fixed, objective, pruner, str(source))


def _read(source: Path, where: str) -> dict[str, Any]:
    try:
        text = read_regular(source, limit=_MAX_SPACE_BYTES, what="search space").decode("utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise SearchSpaceError(f"{where} does not exist") from None
    except OSError as exc:
        raise SearchSpaceError(f"cannot read {where}: {exc}") from None
    except RecursionError:
        raise SearchSpaceError(f"{where} is nested too deeply to be a search space") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SearchSpaceError(f"{where} is not valid TOML: {exc}") from None


def _near(word: str, options: Any) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f"; did you mean {close[0]!r}?" if close else "."


def _check_study(objective: Any, pruner: Any, task: str, where: str) -> None:
    if objective not in OBJECTIVES:
        raise SearchSpaceError(
            f"{where}: objective {objective!r} is not one of {', '.join(OBJECTIVES)} "
            "(steps_to_target: fewest environment steps to the skill target; success, return: the final evaluation)"
        )
    if pruner not in PRUNERS:
        raise SearchSpaceError(f"{where}: pruner {pruner!r} is not one of {', '.join(PRUNERS)}")
    if objective == "steps_to_target":
        from .._targets import skill_target, skill_targets

        if skill_target(task) is None:
            raise SearchSpaceError(
                f"{where}: objective 'steps_to_target' needs a task with a skill target "
                f"({', '.join(skill_targets())}); {task!r} has none: use objective 'success' or 'return'"
            )


def _check_name(key: str, table: str, names: list[str], where: str) -> None:
    if key not in names:
        close = difflib.get_close_matches(key, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SearchSpaceError(
            f"{where}: '{table}.{key}' is not a config key{hint} (keys: aip train TASK --show-config)"
        )
    if table == "params" and key in _NOT_SEARCHABLE:
        raise SearchSpaceError(f"{where}: 'params.{key}' cannot be searched; set it in [fixed] or on the command line")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _param(key: str, spec: Any, names: list[str], where: str, base: TrainConfig) -> Param:
    _check_name(key, "params", names, where)
    name = f"'params.{key}'"
    example = f'e.g. {key} = {{ type = "float", low = 1e-4, high = 1e-2, log = true }}'
    if not isinstance(spec, dict):
        raise SearchSpaceError(f"{where}: {name} must be a table with a type ({example}), not {spec!r}")
    kind = spec.get("type")
    if kind not in _TYPES:
        raise SearchSpaceError(f"{where}: {name}.type = {kind!r} must be one of {', '.join(_TYPES)} ({example})")
    for extra in spec:
        if extra not in _PARAM_KEYS[kind]:
            allowed = ", ".join(sorted(_PARAM_KEYS[kind]))
            raise SearchSpaceError(f"{where}: {name} of type {kind!r} has no key {extra!r} (keys: {allowed})")
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise SearchSpaceError(f"{where}: {name}.choices must be a non-empty list, e.g. choices = [256, 512]")
        labels = [_label(c) for c in choices]
        if len(set(map(json.dumps, labels))) != len(labels):
            raise SearchSpaceError(f"{where}: {name}.choices lists a value twice: {choices!r}")
        for choice in choices:
            _check_value(key, choice, base, where)
        return Param(key, kind, choices=tuple(choices))
    low, high = spec.get("low"), spec.get("high")
    if not (_number(low) and _number(high)):
        raise SearchSpaceError(f"{where}: {name} needs finite numbers low and high, got low={low!r}, high={high!r}")
    assert isinstance(low, (int, float)) and isinstance(high, (int, float))
    if not low < high:
        raise SearchSpaceError(
            f"{where}: {name}: low ({low!r}) must be below high ({high!r}); swap them or use [fixed]"
        )
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise SearchSpaceError(f"{where}: {name}.log must be true or false, got {log!r}")
    if log and low <= 0:
        raise SearchSpaceError(f"{where}: {name}: a log scale needs low > 0, got {low!r}")
    step = spec.get("step", 0)
    if "step" in spec and not (_number(step) and step > 0):
        raise SearchSpaceError(f"{where}: {name}.step must be a number above 0, got {step!r}")
    if log and step and not (kind == "int" and step == 1):
        raise SearchSpaceError(f"{where}: {name}: a log scale takes no step (Optuna cannot combine them); drop one")
    if kind == "int":
        for label, value in (("low", low), ("high", high), ("step", step or 1)):
            if not isinstance(value, int):
                raise SearchSpaceError(f"{where}: {name}.{label} must be an integer for type 'int', got {value!r}")
    config_type = type(getattr(base, key))
    if kind == "float" and config_type is not float:
        raise SearchSpaceError(
            f"{where}: {name} is {_kind_of(config_type)} in the config, not a number; use type "
            f"{'int' if config_type is int else 'categorical'}"
        )
    if kind == "int" and config_type is not int and config_type is not float:
        raise SearchSpaceError(f"{where}: {name} is {_kind_of(config_type)} in the config; use type 'categorical'")
    for value in (low, high):
        _check_value(key, int(value) if kind == "int" else float(value), base, where)
    return Param(key, kind, float(low), float(high), log, float(step))


def _kind_of(tp: type) -> str:
    return {bool: "true/false", str: "a string", tuple: "a list", dict: "a table", int: "an integer"}.get(tp, str(tp))


def _check_value(key: str, value: Any, base: TrainConfig, where: str) -> None:
    try:
        base.replace(**{key: value})
    except ConfigError as exc:
        raise SearchSpaceError(
            f"{where}: 'params.{key}' allows {json.dumps(value)}, which the config refuses: {exc}. "
            "Narrow the range or change the choices (or the [fixed] keys it depends on)"
        ) from None
