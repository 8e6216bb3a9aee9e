"""tools/bench/engine.py runs end to end and reports the JSON it documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BENCH = ROOT / "tools" / "bench" / "engine.py"


@pytest.mark.slow
def test_quick_benchmark_reports_engine_and_baselines() -> None:
    pytest.importorskip("gymnasium")
    out = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--json", "--batches", "1,64,4096", "--seconds", "0.02"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(out.stdout)
    assert set(report) >= {"machine", "settings", "results", "ratios", "skipped"}
    rows = report["results"]
    impls = {r["impl"] for r in rows}
    assert impls == {"engine", "python", "numpy"}
    for r in rows:
        assert r["world_steps_per_s"] > 0
        assert r["ns_per_world_step"] == pytest.approx(1e9 / r["world_steps_per_s"])
        assert r["extrapolated"] == (r["measured_batch"] != r["batch"])
    engine = {(r["task"], r["batch"], r["threads"]) for r in rows if r["impl"] == "engine"}
    assert engine == {(t, b, th) for t in ("chase-v1", "dodge-v1") for b in (1, 64, 4096) for th in (1, 2)}
    ratios = report["ratios"]
    assert any(k.startswith("engine/python chase-v1 batch=64") for k in ratios)
    assert any(k.startswith("engine/numpy chase-v1 batch=4096") for k in ratios)
    assert any(k.startswith("threads 2/1 dodge-v1 batch=4096") for k in ratios)


def test_a_backend_that_is_not_built_is_reported_not_crashed() -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--json",
            "--no-baselines",
            "--backend",
            "cpu,cuda",
            "--batches",
            "1",
            "--threads",
            "1",
            "--tasks",
            "chase-v1",
            "--seconds",
            "0.01",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    backends = {r["backend"] for r in report["results"]}
    assert "cpu" in backends
    # Where CUDA is not built (or has no device) the configuration is listed as skipped.
    assert "cuda" in backends or any("cuda" in s for s in report["skipped"])


def test_an_unknown_backend_name_fails_with_the_valid_names() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--json", "--no-baselines", "--backend", "nonesuch", "--batches", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode != 0
    assert "cpu" in out.stderr


def test_demonstration_reports_episodes_successes_and_speed() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aip_engine", "--task", "chase-v1", "--worlds", "256", "--seconds", "0.5", "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(out.stdout)
    assert report["task"] == "chase-v1" and report["worlds"] == 256
    assert set(report["per_bot"]) == {"enemy=chase", "enemy=intercept"}
    assert sum(b["worlds"] for b in report["per_bot"].values()) == 256
    assert report["episodes"] == sum(b["episodes"] for b in report["per_bot"].values())
    assert report["events"]["catch"] >= sum(b["successes"] for b in report["per_bot"].values()) > 0
    assert report["world_steps_per_s"] > 0


def test_demonstration_prints_a_readable_summary() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "aip_engine", "--task", "duel-v1", "--worlds", "64", "--seconds", "0.2"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "world-steps/s" in out.stdout
    assert "player=kite enemy=staged" in out.stdout
    assert "events: fire" in out.stdout
