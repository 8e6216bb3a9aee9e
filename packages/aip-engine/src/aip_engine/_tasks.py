"""Bots, events and the tasks of version 1 (docs/rules.md, "Bots" and "Tasks")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

from ._config import Config
from ._errors import ConfigError, EngineError, unknown_name_error
from ._layouts import roles
from ._task_decl import RoleRules, TaskDecl, TaskDeclError, parse

__all__ = [
    "AGENT",
    "BOTS",
    "EVENTS",
    "RANDOM",
    "TASKS",
    "TaskSpec",
    "bot_code",
    "bots",
    "load_tasks",
    "task_spec",
    "tasks",
]

#: Event counters reported per world and step, in column order.
EVENTS: tuple[str, ...] = ("fire", "hit", "catch", "respawn", "expire")

#: Controller name of a role that a learner (the caller's actions) drives.
AGENT = "agent"

#: Controller name meaning "the task draws a bot per episode" (intercept-v1's enemy motion).
RANDOM = "random"

#: Scripted bots per role; a bot's position is its integer code in `Worlds.params`.
BOTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "player": ("idle", "wander", "patterns", "kite", "flee"),
        "enemy": ("chase", "intercept", "dodge", "staged", "linear", "circular", "zigzag", "evasive"),
        "missile": ("straight", "homing"),
    }
)


def bots(role: str) -> tuple[str, ...]:
    """Return the scripted bots of a role, in the order of their integer codes.

    Args:
        role: ``"player"``, ``"enemy"`` or ``"missile"``.

    Returns:
        The bot names.

    Raises:
        UnknownNameError: Not a role.
    """
    try:
        return BOTS[role]
    except (KeyError, TypeError):
        raise unknown_name_error("role", role, roles()) from None


def bot_code(role: str, name: str) -> int:
    """Return the integer code of a bot (its index in `bots(role)`); ``"random"`` is -1.

    Args:
        role: The role.
        name: The bot's name.

    Returns:
        The code.

    Raises:
        UnknownNameError: Not a role, or not a bot of that role.
    """
    names = bots(role)
    if name == RANDOM:
        return -1
    if name not in names:
        raise unknown_name_error(f"{role} bot", name, names)
    return names.index(name)


@dataclass(frozen=True)
class TaskSpec:
    """A named, versioned task: who controls each role, how episodes end and pay.

    Every task is declared once, in ``aip_engine/tasks.toml`` (docs/tasks.md); the compiled engine, the
    reference implementation, the Gymnasium ids and docs/rules.md all read that declaration.

    Attributes:
        name: The task's name, e.g. ``"chase-v1"``.
        version: Its version.
        agents: The roles driven by the caller's actions, in the order of multi-agent dicts.
        controllers: Every role -> ``"agent"``, a bot name, or ``"random"`` (the task draws one).
        success: The condition(s) that count as success of the world, e.g. ``"catch"``, ``"hit"``,
            ``"time-limit"``, or ``"none"``; joined by ``" or "`` when several.
        time_limit: Frames before truncation; 0 = none (for a limit that names a Config field, that
            field's value in the task's config).
        reference_bots: Per agent role, the scripted bots to compare a learner with.
        config: The task's default rule numbers.
        autoreset_mode: Always ``"same-step"``.
        benchmark: Whether the task belongs to the benchmark suite.
        description: One line on what is learned.
        success_role: The role whose success is the world's ``success`` (None: never a success).
        ends: The conditions that end an episode (terminated).
        roles: Per role, what it is rewarded for and what counts as its success and failure.
        at_reset: What the task does at reset beyond the common reset (``"launch-missile"``).
        time_limit_field: The Config field that holds the time limit, or None.
        gym_id: The Gymnasium id of a single-agent task, or None.
    """

    name: str
    version: int
    agents: tuple[str, ...]
    controllers: Mapping[str, str]
    success: str
    time_limit: int
    reference_bots: Mapping[str, tuple[str, ...]]
    config: Config
    autoreset_mode: str = "same-step"
    benchmark: bool = True
    description: str = ""
    success_role: str | None = None
    ends: tuple[str, ...] = ()
    roles: Mapping[str, RoleRules] = field(default_factory=lambda: MappingProxyType({}))
    at_reset: tuple[str, ...] = ()
    time_limit_field: str | None = None
    gym_id: str | None = None

    def reward_weights(self, role: str, config: Config) -> dict[str, float]:
        """A role's reward term -> weight under ``config`` (weights naming Config fields resolved)."""
        rules = self.roles[role]
        return {term: float(getattr(config, w)) if isinstance(w, str) else float(w) for term, w in rules.reward.items()}


def _spec(decl: TaskDecl, source: str) -> TaskSpec:
    where = f"{source}: tasks.{decl.name}"
    for role, name in decl.controllers.items():
        allowed = (AGENT, *BOTS[role]) + ((RANDOM,) if role == "enemy" else ())
        if name not in allowed:
            raise ConfigError(f"{where}.controllers.{role}: {unknown_name_error(f'{role} controller', name, allowed)}")
    for role, names in decl.reference_bots.items():
        for name in names:
            if name not in BOTS[role]:
                raise ConfigError(
                    f"{where}.reference_bots.{role}: {unknown_name_error(f'{role} bot', name, BOTS[role])}"
                )
    try:
        config = Config(**decl.config)
    except (TypeError, EngineError) as exc:
        raise ConfigError(f"{where}.config: {exc}") from None
    limit_field = decl.time_limit if isinstance(decl.time_limit, str) else None
    limit = int(getattr(config, limit_field)) if limit_field else int(decl.time_limit)
    sr = decl.success_role
    success = "none" if sr is None else " or ".join(decl.roles[sr].success)
    return TaskSpec(
        name=decl.name,
        version=int(decl.name.rsplit("-v", 1)[1]),
        agents=decl.agents,
        controllers=MappingProxyType(dict(decl.controllers)),
        success=success,
        time_limit=limit,
        reference_bots=MappingProxyType(dict(decl.reference_bots)),
        config=config,
        benchmark=decl.benchmark,
        description=decl.description,
        success_role=sr,
        ends=decl.ends,
        roles=MappingProxyType(dict(decl.roles)),
        at_reset=decl.at_reset,
        time_limit_field=limit_field,
        gym_id=decl.gym_id,
    )


def load_tasks(text: str | None = None, source: str = "tasks.toml") -> dict[str, TaskSpec]:
    """Parse task declarations into specs (the package's own ``tasks.toml`` when ``text`` is None).

    Args:
        text: TOML text in the format of ``aip_engine/tasks.toml``.
        source: The file's name, for messages.

    Returns:
        Task name -> spec, in declaration order.

    Raises:
        ConfigError: A declaration is malformed; the message names the file, the key and the fix.
    """
    if text is None:
        text = resources.files("aip_engine").joinpath("tasks.toml").read_text(encoding="utf-8")
    try:
        decls = parse(text, source)
    except TaskDeclError as exc:
        raise ConfigError(str(exc)) from None
    return {name: _spec(d, source) for name, d in decls.items()}


TASKS: Mapping[str, TaskSpec] = MappingProxyType(load_tasks())


def tasks() -> tuple[str, ...]:
    """Return the names of all tasks."""
    return tuple(TASKS)


def task_spec(name: str) -> TaskSpec:
    """Return a task's specification.

    Args:
        name: The task's name, e.g. ``"chase-v1"``.

    Returns:
        The task spec.

    Raises:
        UnknownNameError: No task of that name.
    """
    try:
        return TASKS[name]
    except (KeyError, TypeError):
        raise unknown_name_error("task", name, tasks()) from None


def _weight_text(w: float | str) -> str:
    return f"`{w}`" if isinstance(w, str) else f"{w:g}"


def rules_table() -> str:
    """The task table of docs/rules.md, generated from the declarations (a test keeps the page equal).

    Returns:
        Markdown: one row per task with its controllers, ending conditions, success, time limit,
        config changes and the reward terms of its agent roles.
    """
    rows = [
        "| task | player | enemy | missile | ends (terminated) | success | time limit | config | rewards (agents) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for spec in TASKS.values():
        decl_config = {k: v for k, v in spec.config.to_dict().items() if v != getattr(Config(), k)}
        config = ", ".join(f"`{k} = {v}`" for k, v in decl_config.items()) or "defaults"
        limit = (
            f"`{spec.time_limit_field}` ({spec.time_limit})"
            if spec.time_limit_field
            else (str(spec.time_limit) if spec.time_limit else "none")
        )
        success = "none" if spec.success_role is None else f"{spec.success_role}: {spec.success}"
        rewards = "; ".join(
            f"{role}: " + ", ".join(f"{t} {_weight_text(w)}" for t, w in spec.roles[role].reward.items())
            for role in spec.agents
        )
        ctl = [f"`{spec.controllers[r]}`" for r in ("player", "enemy", "missile")]
        ends = ", ".join(spec.ends) or "never"
        rows.append(f"| `{spec.name}` | {' | '.join(ctl)} | {ends} | {success} | {limit} | {config} | {rewards} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m aip_engine._tasks: print the table of docs/rules.md
    print(rules_table(), end="")
