"""Compile check of aip-engine's CUDA backend: configure and build only its targets in build/cuda.

    python tools/check_cuda_build.py            # exit 0: built, or skipped because nvcc is absent
    python tools/check_cuda_build.py --jobs 2 --arch 90-real
    python tools/check_cuda_build.py --emulate  # no nvcc needed: host emulation build + its tests

The backend (packages/aip-engine/cuda) builds the module aip_engine._core_cuda with nvcc. This
script proves that it compiles on a machine with the CUDA toolkit, GPU or not; it runs nothing on a
GPU. Without nvcc it prints "skipped: nvcc not found" and exits 0, so CI without the toolkit passes.
Exit status 1 means the configure or the build failed (its output is printed).

With --emulate it builds the host emulation of the backend instead (build/cuda-emulate; the host
compiler only: kernels run as loops on the CPU, see packages/aip-engine/cuda/host_emulation.h) and
runs packages/aip-engine/tests/test_cuda.py (and aip-ml's tests/test_device.py, the trainer's device
path, when aip_ml is installed) against it, so the backend's bindings, checks, DLPack
exchange and CPU/GPU comparisons are tested on any machine. Exit status 1 when a test fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "packages" / "aip-engine"
TARGET = "_core_cuda"
TESTS = ENGINE / "tests" / "test_cuda.py"
# The trainer's device path (aip-ml), run against the same build when aip_ml and torch are installed.
TRAINER_TESTS = ROOT / "packages" / "aip-ml" / "tests" / "test_device.py"

# Runs pytest with the emulation build's module as aip_engine._core_cuda (argv: build folder, pytest args).
_RUN_TESTS = """
import sys
import aip_engine
aip_engine.__path__.append(sys.argv[1])
import pytest
raise SystemExit(pytest.main(sys.argv[2:]))
"""


def find_nvcc() -> str | None:
    """The nvcc to use: $CUDACXX, then PATH, then /usr/local/cuda/bin/nvcc."""
    candidates = [os.environ.get("CUDACXX"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def run(cmd: Sequence[str]) -> int:
    """Run a command, streaming its output; return its exit status."""
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(list(cmd), check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """Configure and build the CUDA backend's targets; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / "build" / "cuda", help="build folder")
    parser.add_argument("--jobs", type=int, default=2, help="parallel compile jobs (default 2)")
    parser.add_argument(
        "--arch",
        default="80-real;90-real;90-virtual",
        help="CMAKE_CUDA_ARCHITECTURES (default: sm_80 and sm_90 code plus compute_90 PTX)",
    )
    parser.add_argument("--emulate", action="store_true", help="host emulation build and its tests (no nvcc)")
    args = parser.parse_args(argv)
    if args.emulate:
        build_dir = args.build_dir if args.build_dir != ROOT / "build" / "cuda" else ROOT / "build" / "cuda-emulate"
        return emulate(build_dir, args.jobs)

    nvcc = find_nvcc()
    if nvcc is None:
        print("skipped: nvcc not found (install the CUDA toolkit or set CUDACXX to check the CUDA build)")
        return 0
    cmake = shutil.which("cmake")
    if cmake is None:
        print("error: cmake not found; install it (pip install cmake)", file=sys.stderr)
        return 1
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    configure = [
        cmake,
        "-S",
        str(ENGINE),
        "-B",
        str(args.build_dir),
        *generator,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DAIP_ENGINE_CUDA=ON",
        "-DAIP_ENGINE_PYTHON=ON",
        f"-DPython_EXECUTABLE={sys.executable}",
        f"-DCMAKE_CUDA_COMPILER={nvcc}",
        f"-DCMAKE_CUDA_ARCHITECTURES={args.arch}",
    ]
    start = time.monotonic()
    if run(configure) != 0:
        print("error: configuring the CUDA build failed (output above)", file=sys.stderr)
        return 1
    build = [cmake, "--build", str(args.build_dir), "--target", TARGET, "--parallel", str(args.jobs)]
    if run(build) != 0:
        print("error: building the CUDA backend failed (output above)", file=sys.stderr)
        return 1
    built = sorted(args.build_dir.rglob(f"{TARGET}*.so"))
    print(f"built: {', '.join(str(p) for p in built) or TARGET} in {time.monotonic() - start:.0f} s (nvcc: {nvcc})")
    return 0


def emulate(build_dir: Path, jobs: int) -> int:
    """Build the host emulation of the CUDA backend in `build_dir` and run its tests against it."""
    cmake = shutil.which("cmake")
    if cmake is None:
        print("error: cmake not found; install it (pip install cmake)", file=sys.stderr)
        return 1
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    configure = [
        cmake,
        "-S",
        str(ENGINE),
        "-B",
        str(build_dir),
        *generator,
        "-DCMAKE_BUILD_TYPE=Release",
        "-DAIP_ENGINE_CUDA=ON",
        "-DAIP_ENGINE_CUDA_EMULATE=ON",
        "-DAIP_ENGINE_PYTHON=ON",
        f"-DPython_EXECUTABLE={sys.executable}",
    ]
    if run(configure) != 0:
        print("error: configuring the emulation build failed (output above)", file=sys.stderr)
        return 1
    if run([cmake, "--build", str(build_dir), "--target", TARGET, "--parallel", str(jobs)]) != 0:
        print("error: building the emulation of the CUDA backend failed (output above)", file=sys.stderr)
        return 1
    built = sorted(build_dir.rglob(f"{TARGET}*.so"))
    if not built:
        print(f"error: no {TARGET} module under {build_dir}", file=sys.stderr)
        return 1
    tests = [str(TESTS)]
    if importlib.util.find_spec("aip_ml") is not None and importlib.util.find_spec("torch") is not None:
        tests.append(str(TRAINER_TESTS))
    else:
        print("note: aip_ml or torch is not installed here, so the trainer's device tests do not run")
    pytest_args = [*tests, "-q", "-m", "not slow", "-p", "no:cacheprovider", "-rs"]
    return run([sys.executable, "-c", _RUN_TESTS, str(built[0].parent), *pytest_args])


if __name__ == "__main__":
    raise SystemExit(main())
