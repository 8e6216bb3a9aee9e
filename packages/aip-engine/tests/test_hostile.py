"""The engine under hostile use: sizes past every limit, refused threads, fork(), racing threads, odd dtypes.

Each behaviour is the documented one of docs/engine-api.md ("Limits" and "Threads and processes"):
a clear exception before anything is allocated, started or written, never a crash, a hang or a
batch left corrupt.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import aip_engine as ae
from aip_engine import reference
from aip_engine._batch_args import MAX_THREADS, MAX_WORLDS

_worlds = pytest.importorskip("aip_engine._worlds")
_core = pytest.importorskip("aip_engine._core")
Worlds = _worlds.Worlds


def _run(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )


# ---- limits ------------------------------------------------------------------------------------


def test_the_python_and_cpp_limits_are_the_same_numbers() -> None:
    assert _core.MAX_WORLDS == MAX_WORLDS
    assert _core.MAX_THREADS == MAX_THREADS


@pytest.mark.parametrize("num_worlds", [MAX_WORLDS + 1, 2**62, 2**64 + 5, 2**200])
def test_a_world_count_past_the_limit_is_refused_with_the_limit(num_worlds: int) -> None:
    with pytest.raises(ae.ConfigError, match=rf"num_worlds must be an integer in \[1, {MAX_WORLDS}\]"):
        Worlds("chase-v1", num_worlds)


def test_a_batch_larger_than_the_machine_is_refused_with_the_memory_it_needs() -> None:
    with pytest.raises(ae.ConfigError, match=r"num_worlds=1073741824 needs [0-9.]+ GiB of memory, more than"):
        Worlds("chase-v1", MAX_WORLDS)


def test_the_core_checks_sizes_itself_before_allocating() -> None:
    # The private core is also guarded: the byte size of 2**62 worlds would wrap around 2**64.
    with pytest.raises(ae.ConfigError, match=r"num_worlds must be in \[1, 1073741824\], got 4611686018427387904"):
        _core.Engine(2**62, _rules(), _params(), 1)
    with pytest.raises(ae.ConfigError, match=r"threads must be in \[1, 1024\]"):
        _core.Engine(4, _rules(), _params(), 5000)
    # The size computation itself reports an overflow (0) instead of wrapping around.
    assert _core.batch_bytes(2**62) == 0 and _core.batch_bytes(0) == 0
    assert _core.batch_bytes(2**30) > 2**30 * 1000


def _rules() -> dict[str, object]:
    cfg = ae.task_spec("chase-v1").config
    return {
        "player_radius": cfg.player_radius,
        "enemy_radius": cfg.enemy_radius,
        "missile_radius": cfg.missile_radius,
        "aim_error": cfg.aim_error,
        "max_turn": 0.2,
        "respawn_min_distance": cfg.respawn_min_distance,
        "respawn_margin": cfg.respawn_margin,
        "fire_range": cfg.fire_range,
        "reward_success": 10.0,
        "reward_failure": -5.0,
        "shaping_scale": 1.0,
        "boundary": 0,
        "fire_cooldown": 30,
        "missile_life_min": 480,
        "missile_life_max": 720,
        "respawn_delay": 60,
        "respawn_tries": 16,
        "catch_invulnerability": 0,
        "wander_min": 30,
        "wander_max": 90,
        "time_limit": 600,
        "task": 0,
        "agent": [0, 1, 0],
        "rewarded": [0, 1, 0],
        "auto_reset": True,
    }


def _params() -> dict[str, object]:
    return {
        "player_speed": 5.0,
        "enemy_speed": 5.0,
        "enemy_speed_scale": 1.0,
        "missile_speed": 5.0,
        "arena_width": 1280.0,
        "arena_height": 720.0,
        "fire_probability": 0.0,
        "max_missiles": 0,
        "player_bot": 2,
        "enemy_bot": 0,
        "guidance": 0,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("respawn_tries", 0, r"rule 'respawn_tries' is 0; allowed range is \[1, 1024\]"),
        ("missile_life_max", 10, r"rule 'missile_life_max' is 10; allowed range is \[480, 1000000\]"),
        ("player_radius", float("nan"), r"rule 'player_radius' is nan"),
        ("task", 99, r"unknown task code"),
    ],
)
def test_the_core_checks_the_rule_numbers(field: str, value: object, message: str) -> None:
    rules = _rules()
    rules[field] = value
    with pytest.raises(ae.ConfigError, match=message):
        _core.Engine(2, rules, _params(), 1)


def test_a_body_larger_than_the_arena_is_refused_in_config_and_parameters() -> None:
    with pytest.raises(ae.ConfigError, match=r"'enemy_radius' is 400; allowed range is \[0.5, 360\]"):
        ae.Config(boundary="clamp", enemy_radius=400)
    w = Worlds("chase-v1", 2, config={"enemy_radius": 80})
    w.params["arena_height"][1] = 150.0
    with pytest.raises(ae.ConfigError, match=r"params\['arena_height'\]\[1\] is 150; it must be at least 2 \* the"):
        w.step(np.zeros((2, 2), np.float32))


# ---- threads -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_refused_threads_and_memory_raise_a_resource_error_instead_of_hanging() -> None:
    # Under an address-space limit the 1000 thread stacks do not fit: the constructor must stop the
    # threads it started and raise, and the process must stay usable.
    result = _run(
        """
        import resource
        import aip_engine as ae
        from aip_engine._worlds import Worlds
        Worlds("chase-v1", 4, threads=2)  # everything loaded before the limit
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + 512 * 2**20, hard))
        try:
            Worlds("chase-v1", 4, threads=1000)
        except ae.ResourceError as exc:
            print("refused:", exc)
        try:
            Worlds("chase-v1", 2_000_000, threads=1)
        except ae.ResourceError as exc:
            print("memory:", exc)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        w = Worlds("chase-v1", 8, threads=2)
        w.step(__import__("numpy").zeros((8, 2), "float32"))
        print("still usable")
        """,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "refused: could not start 1000 threads: the operating system refused thread" in result.stdout
    assert "use fewer threads" in result.stdout and "still usable" in result.stdout
    assert "memory: could not allocate" in result.stdout and "for 2000000 worlds" in result.stdout


# ---- fork ----------------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_child_forked_during_a_step_gets_a_whole_batch_that_works() -> None:
    # Another thread steps the batch without pause. Nothing ends an episode here (an idle player,
    # an enemy at rest, no time limit), so in a whole batch every world has the same frame count;
    # a child forked in the middle of a step would see two counts, or a batch it cannot use.
    result = _run(
        """
        import os, threading, warnings
        import numpy as np
        from aip_engine._worlds import Worlds
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads: that is the point
        N = 4096
        zeros = np.zeros((N, 2), np.float32)
        w = Worlds("chase-v1", N, seed=3, threads=2, controllers={"player": "idle"}, config={"time_limit": 0})
        stop = threading.Event()
        def stepper():
            while not stop.is_set():
                w.step(zeros)
        t = threading.Thread(target=stepper)
        t.start()
        bad = 0
        for _ in range(30):
            pid = os.fork()
            if pid == 0:
                try:
                    frames = w.frame.copy()
                    whole = bool((frames == frames[0]).all())
                    w.step(zeros)
                    w.reset(seed=1)
                    code = 0 if whole else 3
                except BaseException as exc:
                    print("child:", type(exc).__name__, exc, flush=True)
                    code = 4
                os._exit(code)
            _, status = os.waitpid(pid, 0)
            bad += os.waitstatus_to_exitcode(status) != 0
        stop.set()
        t.join()
        print("bad children:", bad)
        """,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "bad children: 0" in result.stdout, result.stdout


# ---- racing threads --------------------------------------------------------------------------------


def _hammer(target: object, writer: object, seconds: float = 1.5) -> list[BaseException]:
    stop = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        while not stop.is_set():
            writer()  # type: ignore[operator]

    t = threading.Thread(target=write)
    t.start()
    import time

    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                target()  # type: ignore[operator]
            except ae.EngineError as exc:
                errors.append(exc)
    finally:
        stop.set()
        t.join()
    return errors


def test_parameters_written_during_a_step_never_reach_the_state() -> None:
    n = 20000
    w = Worlds("chase-v1", n, threads=2)
    speed = w.params["enemy_speed"]
    actions = np.zeros((n, 2), np.float32)

    def writer() -> None:
        speed[:] = np.nan
        speed[:] = 5.0

    errors = _hammer(lambda: w.step(actions), writer)
    assert all(isinstance(e, ae.ConfigError) and "enemy_speed" in str(e) for e in errors)
    for name, value in w.state().items():
        if value.dtype.kind == "f":
            assert np.isfinite(value).all(), name
    assert np.isfinite(w.observations("enemy")).all()


def test_actions_written_during_a_step_never_reach_the_state() -> None:
    n = 20000
    w = Worlds("chase-v1", n, threads=2)
    actions = np.zeros((n, 2), np.float32)

    def writer() -> None:
        actions[:] = np.nan
        actions[:] = 0.5

    errors = _hammer(lambda: w.step(actions), writer)
    assert all(isinstance(e, ae.ActionError) for e in errors)
    assert np.isfinite(w.state()["enemy_pos"]).all() and np.isfinite(w.state()["enemy_vel"]).all()


def test_set_state_during_a_step_is_refused_before_anything_is_written() -> None:
    n = 20000
    w = Worlds("dodge-v1", n, threads=2)  # the kite never reads the patterns' radius
    actions = np.zeros((n, 2), np.float32)
    refused: list[float] = []
    messages: list[str] = []
    value = [0.0]

    def writer() -> None:
        value[0] += 1.0  # every value is written once: a refused one must never appear
        try:
            w.set_state("patterns_radius", value[0])
        except ae.EngineError as exc:
            refused.append(value[0])
            messages.append(str(exc))
            assert not (w.state()["patterns_radius"] == value[0]).any()

    errors = _hammer(lambda: w.step(actions), writer)
    assert all("in use by another thread" in str(e) for e in errors)
    assert all("in use by another thread" in m and "nothing was changed" in m for m in messages)
    seen = set(np.unique(w.state()["patterns_radius"]).tolist())
    assert not seen & set(refused)


# ---- dtypes ----------------------------------------------------------------------------------------


def test_float32_with_metadata_is_float32() -> None:
    tagged = np.dtype(np.float32, metadata={"unit": "px"})
    for impl in (Worlds, reference.Worlds):
        w = impl("chase-v1", 3)
        w.step(np.zeros((3, 2), dtype=tagged))
        w.reset(mask=np.ones(3, dtype=np.dtype(bool, metadata={"why": "test"})))


@pytest.mark.parametrize("dtype", [">f4", "f8", "f2", "i4"])
def test_other_dtypes_are_named_and_the_suggested_fix_works(dtype: str) -> None:
    w = Worlds("chase-v1", 3)
    actions = np.zeros((3, 2), dtype=dtype)
    with pytest.raises(ae.ShapeError, match="must have dtype float32, got") as info:
        w.step(actions)
    assert "float32, got float32" not in str(info.value)
    w.step(np.asarray(actions, dtype=np.float32))  # the message's fix


# ---- set_state -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "values", "error", "message"),
    [
        ("player_pos", np.nan, ae.ConfigError, "must be finite"),
        ("player_pos", [1.0, 2.0, 3.0], ae.ShapeError, "must broadcast to shape"),
        ("player_pos", "left", ae.ShapeError, "must be numbers"),
        ("player_pos", {"x": 1}, ae.ShapeError, "must be numbers"),
        ("frame", 2**40, ae.ConfigError, r"must lie in \[-2147483648, 2147483647\]"),
        ("frame", 1e30, ae.ConfigError, r"must lie in"),
        ("rng", -1, ae.ConfigError, r"must lie in \[0, 18446744073709551615\]"),
    ],
)
def test_set_state_refuses_values_that_would_corrupt_the_batch(
    name: str, values: object, error: type[Exception], message: str
) -> None:
    w = Worlds("chase-v1", 2)
    before = {k: v.copy() for k, v in w.state().items()}
    with pytest.raises(error, match=message):
        w.set_state(name, values)
    for key, value in w.state().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


# ---- full-state import -----------------------------------------------------------------------------


def test_an_import_with_bad_parameters_changes_nothing() -> None:
    source = Worlds("chase-v1", 3, seed=1)
    source.step(np.full((3, 2), 0.5, np.float32))
    exported = source.export_state()
    exported["arrays"]["params/arena_width"] = exported["arrays"]["params/arena_width"].copy()
    exported["arrays"]["params/arena_width"][1] = np.nan
    target = Worlds("chase-v1", 3, seed=9)
    before = target.export_state()["arrays"]
    with pytest.raises(ae.ConfigError, match=r"params\['arena_width'\]\[1\] is nan"):
        target.import_state(exported)
    after = target.export_state()["arrays"]
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


def test_imported_parameters_are_in_effect_before_the_next_step() -> None:
    source = Worlds("chase-v1", 2, seed=1)
    source.params["arena_width"][:] = 900.0
    source.reset(seed=4)
    target = Worlds("chase-v1", 2, seed=9)
    target.import_state(source.export_state())
    np.testing.assert_array_equal(target.observations("player"), source.observations("player"))
