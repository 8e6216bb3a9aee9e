"""The task declarations of ``tasks.toml``: parsed, checked, and written as the C++ header.

This module uses the standard library only: the engine's build runs it (``cpp/gen_tasks.py``) before
the package exists, to write ``aip/task_table.h``; `aip_engine._tasks` builds the `TaskSpec` objects
from the same parse. Names, bits and term order defined here are the ones the C++ core compiles.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONDITIONS",
    "REWARD_TERMS",
    "ROLE_NAMES",
    "SHAPING",
    "WEIGHT_FIELDS",
    "RoleRules",
    "TaskDecl",
    "TaskDeclError",
    "c_header",
    "condition_mask",
    "parse",
]

ROLE_NAMES: tuple[str, ...] = ("player", "enemy", "missile")
#: What a frame can end with; bit k of a condition mask is ``CONDITIONS[k]``. The first five are the
#: event counters in the order of ``aip_engine.EVENTS``.
CONDITIONS: tuple[str, ...] = ("fire", "hit", "catch", "respawn", "expire", "slot0-hit", "slot0-expire", "time-limit")
#: Reward terms, in the order they are added to a role's reward.
REWARD_TERMS: tuple[str, ...] = ("shaping", "success", "failure", "alive", "fire", "hit", "catch", "respawn", "expire")
#: The Config fields a reward weight may name (the C++ core receives exactly these numbers).
WEIGHT_FIELDS: tuple[str, ...] = ("reward_success", "reward_failure", "shaping_scale")
#: Shaping directions: +1 paid for getting closer to the target, -1 for getting away from it.
SHAPING: dict[str, int] = {"toward": 1, "away": -1}
#: Things a task does at reset after the common reset.
AT_RESET: tuple[str, ...] = ("launch-missile",)
#: Config fields a task's time limit may name.
TIME_LIMIT_FIELDS: tuple[str, ...] = ("missile_life_max", "missile_life_min")

_TASK_KEYS = (
    "description",
    "controllers",
    "ends",
    "time_limit",
    "success_role",
    "reference_bots",
    "config",
    "at_reset",
    "gym_id",
    "benchmark",
    "roles",
)
_ROLE_KEYS = ("success", "failure", "shaping", "reward")


class TaskDeclError(ValueError):
    """The task declarations are malformed; the message names the file, the key and what to write."""


@dataclass(frozen=True)
class RoleRules:
    """What a role is rewarded for in a task, and what counts as its success and failure.

    Attributes:
        success: Conditions of the role's success.
        failure: Conditions of its failure.
        shaping: ``"toward"`` or ``"away"`` (its target).
        reward: Reward term -> weight: a number, or the name of a Config field in `WEIGHT_FIELDS`.
    """

    success: tuple[str, ...]
    failure: tuple[str, ...]
    shaping: str
    reward: dict[str, float | str]


@dataclass(frozen=True)
class TaskDecl:
    """One task as declared (see ``tasks.toml`` for the meaning of every field)."""

    name: str
    description: str
    controllers: dict[str, str]
    ends: tuple[str, ...]
    time_limit: int | str
    success_role: str | None
    reference_bots: dict[str, tuple[str, ...]]
    config: dict[str, Any]
    at_reset: tuple[str, ...]
    gym_id: str | None
    benchmark: bool
    roles: dict[str, RoleRules] = field(default_factory=dict)

    @property
    def agents(self) -> tuple[str, ...]:
        """The roles the caller's actions drive, in role order."""
        return tuple(r for r in ROLE_NAMES if self.controllers[r] == "agent")


def _fail(where: str, message: str) -> TaskDeclError:
    return TaskDeclError(f"{where}: {message}")


def _name_check(where: str, what: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        close = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _fail(where, f"unknown {what} {value!r}{hint} (one of {', '.join(allowed)})")
    return value


def _names(where: str, what: str, value: object, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _fail(where, f"must be a list of {what} names, e.g. [{allowed[0]!r}], got {value!r}")
    return tuple(_name_check(where, what, v, allowed) for v in value)


def _keys(where: str, table: object, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise _fail(where, f"must be a table, got {table!r}")
    for key in table:
        _name_check(where, "key", key, allowed)
    return table


def _role_rules(where: str, table: object, base: RoleRules | None) -> RoleRules:
    t = _keys(where, table, _ROLE_KEYS)
    if base is None:
        missing = [k for k in _ROLE_KEYS if k not in t]
        if missing:
            raise _fail(where, f"missing {', '.join(missing)} (every role declares {', '.join(_ROLE_KEYS)})")
    success = _names(f"{where}.success", "condition", t["success"], CONDITIONS) if "success" in t else None
    failure = _names(f"{where}.failure", "condition", t["failure"], CONDITIONS) if "failure" in t else None
    shaping = (
        _name_check(f"{where}.shaping", "shaping direction", t["shaping"], tuple(SHAPING)) if "shaping" in t else None
    )
    reward: dict[str, float | str] | None = None
    if "reward" in t:
        reward = {}
        for term, weight in _keys(f"{where}.reward", t["reward"], REWARD_TERMS).items():
            if isinstance(weight, bool) or not isinstance(weight, (int, float, str)):
                raise _fail(f"{where}.reward.{term}", f"a weight is a number or a Config field name, got {weight!r}")
            if isinstance(weight, str):
                _name_check(f"{where}.reward.{term}", "Config field", weight, WEIGHT_FIELDS)
            elif weight != weight or abs(weight) > 1e9:
                raise _fail(
                    f"{where}.reward.{term}", f"a weight must be finite and at most 1e9 in size, got {weight!r}"
                )
            reward[term] = weight if isinstance(weight, str) else float(weight)
    if base is not None:
        return RoleRules(
            success if success is not None else base.success,
            failure if failure is not None else base.failure,
            shaping if shaping is not None else base.shaping,
            reward if reward is not None else dict(base.reward),
        )
    assert success is not None and failure is not None and shaping is not None and reward is not None
    return RoleRules(success, failure, shaping, reward)


def _task(where: str, name: str, table: object, roles: dict[str, RoleRules]) -> TaskDecl:
    t = _keys(where, table, _TASK_KEYS)
    if "-v" not in name or not name.rsplit("-v", 1)[1].isdigit():
        raise _fail(where, f"a task name ends in -vN (its version), e.g. 'survive-v1', got {name!r}")
    for key in ("description", "controllers", "ends", "time_limit", "reference_bots"):
        if key not in t:
            raise _fail(where, f"missing {key!r}")
    ctl = _keys(f"{where}.controllers", t["controllers"], ROLE_NAMES)
    if set(ctl) != set(ROLE_NAMES):
        raise _fail(f"{where}.controllers", f"name a controller for every role ({', '.join(ROLE_NAMES)})")
    for role, value in ctl.items():
        if not isinstance(value, str) or not value:
            raise _fail(f"{where}.controllers.{role}", f"must be 'agent', a bot name or 'random', got {value!r}")
    ends = _names(f"{where}.ends", "condition", t["ends"], CONDITIONS[:-1])
    limit = t["time_limit"]
    if isinstance(limit, str):
        _name_check(f"{where}.time_limit", "Config field", limit, TIME_LIMIT_FIELDS)
    elif isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 1_000_000_000:
        raise _fail(f"{where}.time_limit", f"frames from 0 (none) to 1000000000, or a Config field, got {limit!r}")
    agents = tuple(r for r in ROLE_NAMES if ctl[r] == "agent")
    success_role: str | None = agents[0] if agents else None
    if "success_role" in t:
        value = t["success_role"]
        success_role = (
            None if value == "none" else _name_check(f"{where}.success_role", "role", value, (*ROLE_NAMES, "none"))
        )
    refs: dict[str, tuple[str, ...]] = {}
    for role, names in _keys(f"{where}.reference_bots", t["reference_bots"], ROLE_NAMES).items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _fail(f"{where}.reference_bots.{role}", f"must be a list of bot names, got {names!r}")
        refs[role] = tuple(names)
    config = t.get("config", {})
    if not isinstance(config, dict):
        raise _fail(f"{where}.config", f"must be a table of Config fields, got {config!r}")
    at_reset = _names(f"{where}.at_reset", "reset action", t.get("at_reset", []), AT_RESET)
    gym_id = t.get("gym_id")
    if gym_id is not None and (not isinstance(gym_id, str) or not gym_id.startswith("aip/") or len(agents) != 1):
        raise _fail(f"{where}.gym_id", f"a single-agent task's Gymnasium id 'aip/Name-vN', got {gym_id!r}")
    benchmark = t.get("benchmark", True)
    if not isinstance(benchmark, bool):
        raise _fail(f"{where}.benchmark", f"must be true or false, got {benchmark!r}")
    own = _keys(f"{where}.roles", t.get("roles", {}), ROLE_NAMES)
    task_roles = {r: _role_rules(f"{where}.roles.{r}", own[r], roles[r]) if r in own else roles[r] for r in ROLE_NAMES}
    description = t["description"]
    if not isinstance(description, str):
        raise _fail(f"{where}.description", f"must be a string, got {description!r}")
    return TaskDecl(
        name=name,
        description=description,
        controllers=dict(ctl),
        ends=ends,
        time_limit=limit,
        success_role=success_role,
        reference_bots=refs,
        config=dict(config),
        at_reset=at_reset,
        gym_id=gym_id,
        benchmark=benchmark,
        roles=task_roles,
    )


def parse(text: str, source: str = "tasks.toml") -> dict[str, TaskDecl]:
    """Parse and check the declarations.

    Args:
        text: The TOML text.
        source: The file's name, for messages.

    Returns:
        Task name -> declaration, in file order (the order of the engine's task codes).

    Raises:
        TaskDeclError: Not valid TOML, or a key or value out of place; the message says which.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaskDeclError(f"{source}: not valid TOML: {exc}") from None
    data = _keys(source, data, ("format", "roles", "tasks"))
    if data.get("format") != 1:
        raise _fail(source, f"format must be 1, got {data.get('format')!r}")
    role_tables = _keys(f"{source}: roles", data.get("roles"), ROLE_NAMES)
    if set(role_tables) != set(ROLE_NAMES):
        raise _fail(f"{source}: roles", f"declare every role ({', '.join(ROLE_NAMES)})")
    roles = {r: _role_rules(f"{source}: roles.{r}", role_tables[r], None) for r in ROLE_NAMES}
    tasks = data.get("tasks")
    if not isinstance(tasks, dict) or not tasks:
        raise _fail(source, "declare at least one [tasks.NAME] table")
    out = {name: _task(f"{source}: tasks.{name}", name, table, roles) for name, table in tasks.items()}
    ids = [d.gym_id for d in out.values() if d.gym_id]
    if len(ids) != len(set(ids)):
        raise _fail(source, f"Gymnasium ids must differ: {ids}")
    return out


def condition_mask(names: tuple[str, ...]) -> int:
    """The bit mask of condition names (bit k = `CONDITIONS` [k])."""
    mask = 0
    for n in names:
        mask |= 1 << CONDITIONS.index(n)
    return mask


def _c_name(task: str) -> str:
    return "k" + "".join(part[:1].upper() + part[1:] for part in task.replace("-v", "-V").split("-"))


def _c_double(x: float) -> str:
    text = repr(float(x))
    return text if any(c in text for c in ".en") else text + ".0"


def c_header(decls: dict[str, TaskDecl], source: str = "src/aip_engine/tasks.toml") -> str:
    """The C++ header ``aip/task_table.h`` of the declarations."""
    names = list(decls)
    lines = [
        f"// Generated from {source} by cpp/gen_tasks.py when the engine is built: do not edit.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        "namespace aip {",
        "",
        "enum Task : int32_t { " + ", ".join(f"{_c_name(n)} = {k}" for k, n in enumerate(names)) + " };",
        f"constexpr int32_t kNumTasks = {len(names)};",
        "constexpr const char* kTaskNames[kNumTasks] = {" + ", ".join(f'"{n}"' for n in names) + "};",
        "",
        "// Condition bits (aip_engine._task_decl.CONDITIONS).",
        "enum Condition : uint32_t {",
        *[f"  kCond{_c_name(c)[1:]} = 1u << {k}," for k, c in enumerate(CONDITIONS)],
        "};",
        "// Reward terms, in the order they are added (aip_engine._task_decl.REWARD_TERMS).",
        "enum RewardTerm : int32_t {",
        *[f"  kTerm{_c_name(t)[1:]} = {k}," for k, t in enumerate(REWARD_TERMS)],
        f"  kNumRewardTerms = {len(REWARD_TERMS)}",
        "};",
        "// The Config fields a weight can name: -1 = the literal weight.",
        "enum WeightField : int32_t { kWeightLiteral = -1, "
        + ", ".join(f"kWeight{_c_name(f.replace('_', '-'))[1:]} = {k}" for k, f in enumerate(WEIGHT_FIELDS))
        + " };",
        "",
        "// One task as declared; role rows are player, enemy, missile.",
        "struct TaskDecl {",
        "  uint32_t ends;              // conditions that terminate the episode",
        "  int32_t success_role;       // the role whose success is the world's; -1 none",
        "  uint8_t launch_at_reset;    // a missile is launched into slot 0 at reset",
        "  uint32_t success[3];        // per role: conditions of its success",
        "  uint32_t failure[3];        // per role: conditions of its failure",
        "  int32_t shaping_sign[3];    // per role: +1 toward its target, -1 away from it",
        "  double weight[3][kNumRewardTerms];        // literal weights",
        "  int32_t weight_field[3][kNumRewardTerms]; // or a WeightField",
        "};",
        "",
        "constexpr TaskDecl kTaskDecls[kNumTasks] = {",
    ]
    for n in names:
        d = decls[n]
        role_rules = [d.roles[r] for r in ROLE_NAMES]
        sr = -1 if d.success_role is None else ROLE_NAMES.index(d.success_role)
        weights, fields = [], []
        for rr in role_rules:
            w = [rr.reward.get(t, 0.0) for t in REWARD_TERMS]
            weights.append("{" + ", ".join(_c_double(0.0 if isinstance(x, str) else x) for x in w) + "}")
            fields.append("{" + ", ".join(str(WEIGHT_FIELDS.index(x)) if isinstance(x, str) else "-1" for x in w) + "}")
        lines += [
            f"    // {n}",
            "    {"
            + f"{condition_mask(d.ends)}u, {sr}, {int('launch-missile' in d.at_reset)}, "
            + "{"
            + ", ".join(f"{condition_mask(rr.success)}u" for rr in role_rules)
            + "}, "
            + "{"
            + ", ".join(f"{condition_mask(rr.failure)}u" for rr in role_rules)
            + "}, "
            + "{"
            + ", ".join(str(SHAPING[rr.shaping]) for rr in role_rules)
            + "}, "
            + "{"
            + ", ".join(weights)
            + "}, "
            + "{"
            + ", ".join(fields)
            + "}},",
        ]
    lines += ["};", "", "}  // namespace aip", ""]
    return "\n".join(lines)
