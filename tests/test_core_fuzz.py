"""The coverage-guided fuzzer of the C++ core (packages/aip-engine/cpp/fuzz/step_fuzz.cpp).

It is built by the root CMakeLists with -DAIP_ENGINE_FUZZ=ON and clang (libFuzzer, AddressSanitizer,
UndefinedBehaviorSanitizer) into build/fuzz, which later runs reuse. Here the committed seed corpus
is replayed and the fuzzer runs for a bounded time; docs/security.md gives the longer release run.
`python tools/dev.py setup` installs clang where it can (apt-get, as root); without it these skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FUZZ_DIR = ROOT / "packages" / "aip-engine" / "cpp" / "fuzz"
CORPUS = FUZZ_DIR / "corpus"
BUILD = ROOT / "build" / "fuzz"
SECONDS = 25

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("clang++") is None, reason="clang++ is not installed (tools/dev.py setup)"),
    pytest.mark.skipif(shutil.which("cmake") is None, reason="cmake is not installed"),
]

SANITIZERS = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


@pytest.fixture(scope="module")
def fuzzer() -> Path:
    env = {**os.environ, "CXX": shutil.which("clang++") or "clang++"}
    if not (BUILD / "CMakeCache.txt").exists():
        configure = ["cmake", "-S", str(ROOT), "-B", str(BUILD), "-DAIP_ENGINE_FUZZ=ON", "-DAIP_TSAN=OFF"]
        configure += ["-DCMAKE_BUILD_TYPE=Debug"]
        if shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        subprocess.run(configure, env=env, check=True, capture_output=True, text=True, timeout=120)
    build = ["cmake", "--build", str(BUILD), "--target", "aip_engine_step_fuzz", "--parallel", "2"]
    done = subprocess.run(build, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return BUILD / "aip_engine_step_fuzz"


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env={**os.environ, **SANITIZERS}, capture_output=True, text=True, timeout=timeout)


def test_the_committed_corpus_replays_cleanly(fuzzer: Path) -> None:
    seeds = sorted(str(p) for p in CORPUS.iterdir())
    assert len(seeds) >= 10, "the seed corpus is the fuzzer's starting point: keep it"
    done = _run([str(fuzzer), *seeds], timeout=120)
    assert done.returncode == 0, done.stderr[-6000:]
    assert len(re.findall(r"Executed .* in \d+ ms", done.stderr)) == len(seeds)


def test_the_fuzzer_finds_no_crash_in_a_bounded_run(fuzzer: Path, tmp_path: Path) -> None:
    work = tmp_path / "corpus"
    work.mkdir()
    artifacts = tmp_path / "artifacts"
    artifacts.mkdir()
    args = [str(fuzzer), f"-max_total_time={SECONDS}", "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"]
    args += [f"-artifact_prefix={artifacts}/", "-seed=2027", str(work), str(CORPUS)]
    done = _run(args, timeout=SECONDS + 60)
    found = sorted(p.name for p in artifacts.iterdir())
    assert done.returncode == 0 and not found, f"the fuzzer saved {found}:\n{done.stderr[-6000:]}"
    runs = re.search(r"stat::number_of_executed_units:\s+(\d+)", done.stderr)
    assert runs is not None, done.stderr[-2000:]
    # A few thousand programs even on a loaded machine; far fewer means the target stalls somewhere.
    assert int(runs.group(1)) > 1000, done.stderr[-2000:]
