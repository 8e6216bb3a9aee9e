#!/usr/bin/env bash
# Every check of the CUDA backend and of the trainer's device path that needs a GPU, in one go
# (about 10 minutes on an H100/H200 machine with 16 cores). Run from the repository root:
#
#     bash tools/gpu_check.sh                 # results under ${OUT:-gpu-check}/
#     PYTHON=/opt/py/bin/python bash tools/gpu_check.sh
#     ONLY="tests sanitizer" bash tools/gpu_check.sh     # rerun some steps only
#
# Steps (each with its own time limit; a failed step is reported and the next one runs):
#   build      cmake: aip_engine._core and _core_cuda with AIP_ENGINE_CUDA=ON for this GPU (native),
#              copied into packages/aip-engine/src/aip_engine (an in-place build, as pip -e would)
#   backends   what aip_engine.backends() reports (the GPU must be listed and available)
#   tests      packages/aip-engine/tests/test_cuda.py and packages/aip-ml/tests/test_device.py with
#              no skip allowed (CPU vs GPU field by field, DLPack zero copy with torch CUDA tensors,
#              no memory growth; the device learner on the GPU)
#   sanitizer  compute-sanitizer --tool memcheck over the CPU/GPU comparison of chase-v1
#   engine     tools/bench/engine_gpu.py: world-steps/s up to 8M worlds beside the CPU, bandwidth fraction
#   trainer    tools/bench/train.py --device cuda (steps/s, CPU beside) at the shipped size and at 64k worlds
#   skill      tools/bench/time_to_skill.py --device cuda --tasks chase-v1 --arms aip_ml: time to target
#              on the GPU beside the CPU trainer in the same run
#
# Needs: an NVIDIA driver and GPU, nvcc (CUDA 12 or 13) and CMake >= 3.21, a C++ compiler, and a
# Python >= 3.11 with numpy, pybind11 and a CUDA build of torch (mlflow is not needed). Nothing is
# installed and nothing is downloaded. Every step's output is in $OUT/<step>.log, the figures in
# $OUT/*.json, and $OUT/summary.txt says which steps passed.
set -u -o pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-check}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
ONLY="${ONLY:-build backends tests sanitizer engine trainer skill}"
JOBS="${JOBS:-$(nproc)}"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
export PYTHONPATH="$ROOT/packages/aip-engine/src:$ROOT/packages/aip-game/src:$ROOT/packages/aip-ml/src:$ROOT/packages/aip-cli/src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1 SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy

wanted() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# step NAME SECONDS COMMAND...: run with a time limit, log, record the outcome.
step() {
  local name="$1" limit="$2"
  shift 2
  wanted "$name" || return 0
  local start=$SECONDS
  echo "==> $name (limit ${limit}s): $*" | tee -a "$SUMMARY"
  timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  local code=$?
  local verdict="passed"
  [ $code -eq 124 ] && verdict="TIMED OUT"
  [ $code -ne 0 ] && [ $code -ne 124 ] && verdict="FAILED (exit $code)"
  echo "    $name: $verdict in $((SECONDS - start)) s (log: $OUT/$name.log)" | tee -a "$SUMMARY"
  tail -n 5 "$OUT/$name.log" | sed 's/^/      /'
  return 0
}

{
  echo "gpu_check $(date -u +%Y-%m-%dT%H:%M:%SZ) commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: not found"
  command -v nvcc >/dev/null && nvcc --version | tail -n 1 || echo "nvcc: not on PATH (CUDACXX or /usr/local/cuda/bin/nvcc is tried)"
  "$PY" -c "import sys, numpy, torch; print(sys.version.split()[0], 'numpy', numpy.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())" 2>&1
} | tee -a "$SUMMARY"

build() {
  local nvcc="${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
  local pybind11_dir
  pybind11_dir="$("$PY" -m pybind11 --cmakedir)" || { echo "pybind11 is missing in $PY"; return 1; }
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S packages/aip-engine -B build/gpu "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DAIP_ENGINE_CUDA=ON -DAIP_ENGINE_PYTHON=ON -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-native}" \
    -DCMAKE_CUDA_COMPILER="$nvcc" -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$pybind11_dir" &&
    cmake --build build/gpu --target _core _core_cuda --parallel "$JOBS" &&
    find build/gpu -name '_core*.so' -exec cp -v {} packages/aip-engine/src/aip_engine/ \;
}

step build 420 build
step backends 60 "$PY" -c "import aip_engine as ae, json; b = ae.backends(); print(b); import sys; sys.exit(0 if b['cuda'].available and 'emulation' not in str(b['cuda'].devices) else 1)"
# -rs lists skips; the grep turns any skip into a failure of the step.
step tests 600 bash -c "'$PY' -m pytest packages/aip-engine/tests/test_cuda.py packages/aip-ml/tests/test_device.py -p no:cacheprovider -rs -s -q 2>&1 | tee '$OUT/tests.raw'; code=\${PIPESTATUS[0]}; grep -q 'SKIPPED' '$OUT/tests.raw' && { echo 'some tests were skipped'; exit 1; }; exit \$code"
step sanitizer 420 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 3 \
  "$PY" -m pytest packages/aip-engine/tests/test_cuda.py -p no:cacheprovider -q -k "matches_cpu and chase"
step engine 480 bash -c "'$PY' tools/bench/engine_gpu.py --json > '$OUT/engine_gpu.json' && '$PY' tools/bench/engine_gpu.py --batches 4194304 --cpu-max-batch 0"
step trainer 420 bash -c "'$PY' tools/bench/train.py --device cuda --json --no-baselines > '$OUT/train_shipped.json' && '$PY' tools/bench/train.py --device cuda --json --no-baselines --updates 5 num_worlds=65536 rollout_steps=32 minibatch_size=65536 > '$OUT/train_64k.json'"
step skill 600 bash -c "'$PY' tools/bench/time_to_skill.py --device cuda --tasks chase-v1 --arms aip_ml,roofline --json > '$OUT/time_to_skill.json'"

echo "summary: $SUMMARY" | tee -a "$SUMMARY"
grep -c "passed in" "$SUMMARY" | xargs -I{} echo "{} steps passed" | tee -a "$SUMMARY"
