"""Tasks as one declaration (tasks.toml): the parser's checks, and every reader agreeing with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import aip_engine as ae
from aip_engine import _core
from aip_engine._errors import BackendError, ConfigError
from aip_engine._task_decl import CONDITIONS, REWARD_TERMS, c_header, parse
from aip_engine._tasks import TASKS, load_tasks, rules_table
from aip_engine._worlds import check_task_table

ROOT = Path(__file__).resolve().parents[3]
SOURCE = (ROOT / "packages/aip-engine/src/aip_engine/tasks.toml").read_text(encoding="utf-8")

MINIMAL = """
format = 1
[roles.player]
success = ["hit"]
failure = ["catch"]
shaping = "away"
reward = { shaping = "shaping_scale", success = "reward_success", failure = "reward_failure" }
[roles.enemy]
success = ["catch"]
failure = ["hit"]
shaping = "toward"
reward = { success = 2.5 }
[roles.missile]
success = ["slot0-hit"]
failure = ["slot0-expire"]
shaping = "toward"
reward = {}
[tasks.tiny-v3]
description = "A task of a test."
controllers = { player = "agent", enemy = "chase", missile = "straight" }
ends = ["catch"]
time_limit = 99
reference_bots = { player = ["flee"] }
config = { max_missiles = 2 }
[tasks.tiny-v3.roles.player]
success = ["time-limit"]
reward = { alive = 0.5, hit = 3 }
"""


def test_the_engine_is_built_from_the_declarations() -> None:
    assert list(_core.task_names()) == list(ae.tasks()) == list(TASKS)


def test_a_module_built_from_other_declarations_is_refused() -> None:
    class Stale:
        __name__ = "aip_engine._core"

        @staticmethod
        def task_names() -> list[str]:
            return ["chase-v1"]

    with pytest.raises(BackendError, match="rebuild it"):
        check_task_table(Stale())


def test_docs_rules_table_is_the_generated_one() -> None:
    page = (ROOT / "docs/rules.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- tasks-table:begin -->\n(.*?)<!-- tasks-table:end -->", page, re.S)
    assert found, "docs/rules.md lost its tasks-table markers"
    assert found.group(1) == rules_table(), "docs/rules.md's task table differs: run python -m aip_engine._tasks"


def test_gymnasium_ids_come_from_the_declarations() -> None:
    gym = pytest.importorskip("aip_engine.gym")
    assert {s.gym_id: n for n, s in TASKS.items() if s.gym_id} == gym.ENV_IDS
    assert gym.ENV_IDS["aip/Chase-v1"] == "chase-v1"
    assert all(len(TASKS[t].agents) == 1 for t in gym.ENV_IDS.values())


def test_a_declaration_is_parsed_with_role_defaults_and_overrides() -> None:
    specs = load_tasks(MINIMAL, "mini.toml")
    spec = specs["tiny-v3"]
    assert spec.version == 3 and spec.agents == ("player",) and spec.success_role == "player"
    assert spec.success == "time-limit" and spec.time_limit == 99 and spec.config.max_missiles == 2
    assert spec.roles["player"].failure == ("catch",)  # kept from [roles.player]
    assert spec.reward_weights("player", spec.config) == {"alive": 0.5, "hit": 3.0}
    assert spec.reward_weights("enemy", spec.config.replace(reward_success=7.0)) == {"success": 2.5}
    header = c_header(parse(MINIMAL))
    assert "kTinyV3 = 0" in header and "kNumTasks = 1" in header
    assert f"kNumRewardTerms = {len(REWARD_TERMS)}" in header
    assert f"kCondTimeLimit = 1u << {CONDITIONS.index('time-limit')}" in header


def test_the_shipped_header_text_is_stable() -> None:
    assert c_header(parse(SOURCE)) == c_header(parse(SOURCE))
    for name in TASKS:
        assert f"// {name}\n" in c_header(parse(SOURCE))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('ends = ["catch"]', 'ends = ["cach"]'),
            r"tasks\.tiny-v3\.ends: unknown condition 'cach'; did you mean 'catch'",
        ),
        (('ends = ["catch"]', 'ends = ["time-limit"]'), r"ends: unknown condition 'time-limit'"),
        (
            ("alive = 0.5", 'alive = "reward_sucess"'),
            r"unknown Config field 'reward_sucess'; did you mean 'reward_success'",
        ),
        (("alive = 0.5", "alive = true"), r"a weight is a number or a Config field name"),
        (("alive = 0.5", "alife = 0.5"), r"unknown key 'alife'; did you mean 'alive'"),
        (('enemy = "chase"', 'enemy = "chace"'), r"controllers\.enemy: .*chace.*did you mean 'chase'"),
        (('player = ["flee"]', 'player = ["fle"]'), r"reference_bots\.player: .*fle"),
        (("max_missiles = 2", "max_missiles = 9"), r"tasks\.tiny-v3\.config: .*max_missiles"),
        (("time_limit = 99", "time_limit = -1"), r"time_limit: frames from 0"),
        (("[tasks.tiny-v3]", "[tasks.tiny]"), r"ends in -vN"),
        (('description = "A task of a test."\n', ""), r"missing 'description'"),
        (('shaping = "away"', 'shaping = "awy"'), r"unknown shaping direction 'awy'; did you mean 'away'"),
        (("format = 1", "format = 2"), r"format must be 1"),
    ],
)
def test_bad_declarations_name_the_key_and_the_fix(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in MINIMAL
    with pytest.raises(ConfigError, match=message) as info:
        load_tasks(MINIMAL.replace(old, new, 1), "mini.toml")
    assert str(info.value).startswith("mini.toml")


def test_not_toml_is_refused_with_the_file_name() -> None:
    with pytest.raises(ConfigError, match=r"mini\.toml: not valid TOML"):
        load_tasks("format = = 1", "mini.toml")
