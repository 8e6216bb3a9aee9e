"""tools/fuzz.py: its classification of outcomes, and a bounded run over every target (the CI's share).

The release run (30 minutes or more) is documented in docs/security.md; here the fuzzer runs for
under a minute in all, each case in its own process, and must find no crash, hang or undocumented
exception type.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fuzzer forks a process per case")


@pytest.fixture(scope="module")
def fuzz() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("aip_fuzz_tool", ROOT / "tools" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_crashes_hangs_and_undocumented_errors_are_told_apart(fuzz: types.ModuleType) -> None:
    def segfault(rng: random.Random, tmp: Path) -> str:
        os.kill(os.getpid(), signal.SIGSEGV)
        return "unreachable"

    def hang(rng: random.Random, tmp: Path) -> str:
        time.sleep(60)
        return "unreachable"

    def odd_error(rng: random.Random, tmp: Path) -> str:
        return fuzz._refused(ZeroDivisionError("x"), (ValueError,))

    def leaky(rng: random.Random, tmp: Path) -> str:
        return fuzz._refused(ValueError("unexpected RecursionError: maximum depth"), (ValueError,))

    def documented(rng: random.Random, tmp: Path) -> str:
        assert tmp.is_dir() and not any(tmp.iterdir())  # each case gets its own empty folder
        return fuzz._refused(ValueError(f"num_worlds is {rng.randrange(10**6)}; allowed [1, 2**30]"), (ValueError,))

    assert fuzz.run_case(segfault, "t", 0, 0, 10)["kind"] == "crash"
    assert fuzz.run_case(segfault, "t", 0, 0, 10)["outcome"] == "killed by SIGSEGV"
    assert fuzz.run_case(hang, "t", 0, 0, 1.0, retry_factor=2)["kind"] == "hang"
    assert "ZeroDivisionError" in fuzz.run_case(odd_error, "t", 0, 0, 10)["outcome"]
    assert fuzz.run_case(odd_error, "t", 0, 0, 10)["kind"] == "undocumented"
    assert fuzz.run_case(leaky, "t", 0, 0, 10)["kind"] == "undocumented"
    a, b = (fuzz.run_case(documented, "t", 0, i, 10) for i in (1, 2))
    assert a["kind"] == b["kind"] == "ok" and a["outcome"] == b["outcome"]  # numbers vary, the outcome not


def test_a_slow_case_is_retried_and_a_real_hang_is_still_a_hang(fuzz: types.ModuleType, tmp_path: Path) -> None:
    marker = tmp_path / "ran-once"

    def slow_the_first_time(rng: random.Random, tmp: Path) -> str:
        if not marker.exists():  # a machine under load: the first run takes too long
            marker.touch()
            time.sleep(3)
        return "answered"

    def hang(rng: random.Random, tmp: Path) -> str:
        time.sleep(60)
        return "unreachable"

    slow = fuzz.run_case(slow_the_first_time, "t", 0, 0, 0.5, retry_factor=6)
    assert slow["kind"] == "ok" and slow["outcome"] == "answered"
    assert "no answer within 0.5 s" in slow["slow"]
    start = time.monotonic()
    hung = fuzz.run_case(hang, "t", 0, 0, 0.5, retry_factor=3)
    assert hung["kind"] == "hang" and "nor within 1.5 s on a retry" in hung["outcome"]
    assert time.monotonic() - start < 10
    assert "slow" not in fuzz.run_case(slow_the_first_time, "t", 0, 1, 0.5)  # answers at once now


def test_a_case_replays_exactly(fuzz: types.ModuleType) -> None:
    def draw(rng: random.Random, tmp: Path) -> str:
        return str(rng.random())

    assert fuzz.run_case(draw, "t", 3, 17, 10) == fuzz.run_case(draw, "t", 3, 17, 10)
    assert fuzz.run_case(draw, "t", 3, 17, 10) != fuzz.run_case(draw, "t", 3, 18, 10)


@pytest.mark.slow
def test_a_short_run_over_every_target_finds_nothing(tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "fuzz.py"), "--seconds", "48", "--seed", "1", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        env=env,
    )
    report = json.loads(out.read_text())
    assert set(report["targets"]) == {
        "engine",
        "policy",
        "checkpoint",
        "recording",
        "dataset",
        "gamefiles",
        "config",
        "cli",
    }
    for name, entry in report["targets"].items():
        assert "error" not in entry, (name, entry)
        assert entry["inputs"] >= 1 and entry["distinct_outcomes"] >= 1, (name, entry)
        assert entry["crashes"] == entry["hangs"] == entry["undocumented"] == 0, (name, entry["problems"])
    assert report["total"]["inputs"] > 100
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "inputs in" in proc.stdout and "0 crashes, 0 hangs, 0 undocumented" in proc.stdout
