"""World-steps per second of the CUDA backend beside the CPU backend, and the memory bandwidth it uses.

    python tools/bench/engine_gpu.py                      # chase-v1 and dodge-v1, up to 8M worlds
    python tools/bench/engine_gpu.py --quick --json
    python tools/bench/engine_gpu.py --batches 1048576,4194304 --cpu-max-batch 0   # GPU only

GPU timing: actions are device arrays (made once with ``aip_engine._core_cuda.to_device`` and
cycled), so a step moves nothing between host and device except the 32-byte result of the
on-device action and parameter check. Each configuration is warmed up, stepped until a minimum
duration has passed, then the device is synchronised before the clock stops. CPU rows come from
``engine.py``'s ``bench_engine`` (numpy actions, all cores) in the same run and at the same batch
sizes (up to ``--cpu-max-batch``).

Bandwidth model: bytes per world-step = the state arrays a task touches, read and written once;
the per-world parameters and the actions, read once; the step's outputs, written once (sizes from
the SoA layout). ``bandwidth_fraction`` = bytes x world-steps/s / peak bandwidth; ``x_of_bound``
= measured time / the time that traffic needs at peak bandwidth (1.0 would be perfect). Peak
bandwidth: memory clock x bus width x 2 from the driver, or a table by device name.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

GPU_ACTION_POOL = 4  # device action arrays, cycled (each is batch x act_size float32)

# Peak DRAM bandwidth (bytes/s) by device name, where the driver does not report clock and width.
PEAK_BANDWIDTH = {
    "H200": 4.8e12,
    "H100 NVL": 3.9e12,
    "H100 PCIe": 2.0e12,
    "H100": 3.35e12,  # SXM5 80 GB HBM3
    "A100-SXM4-80GB": 2.039e12,
    "A100 80GB PCIe": 1.935e12,
    "A100": 1.555e12,  # 40 GB
}

_MISSILE_STATE = ("missile_pos", "missile_heading", "missile_life")
_ENEMY_BOT_STATE = (
    "enemy_wander",
    "enemy_wander_timer",
    "enemy_motion",
    "motion_heading",
    "motion_turn",
    "motion_base",
    "motion_leg",
    "motion_sign",
)
_PATTERNS_STATE = (
    "patterns_mode",
    "patterns_timer",
    "patterns_centre",
    "patterns_radius",
    "patterns_phase",
    "patterns_diagonal",
)


@dataclass
class GpuResult:
    """One timed GPU configuration."""

    task: str
    batch: int
    device: str
    steps: int
    seconds: float
    world_steps_per_s: float
    ns_per_world_step: float
    bytes_per_world_step: int
    bandwidth_fraction: float
    x_of_bound: float
    speedup_vs_cpu: float | None


def _per_world(array: Any, n: int) -> int:
    return int(array.nbytes) // n


def bytes_per_world_step(worlds: Any) -> int:
    """The memory traffic one world-step needs under the model of the module docstring."""
    n = worlds.num_worlds
    ctl = worlds.controllers
    uses_missiles = worlds.task in ("dodge-v1", "intercept-v1", "duel-v1", "play-v1")
    skip: set[str] = set()
    if not uses_missiles:
        skip.update(_MISSILE_STATE)
    if ctl["enemy"] == "agent" or ctl["enemy"] in ("chase", "intercept", "dodge"):
        skip.update(_ENEMY_BOT_STATE)
    if ctl["player"] != "patterns":
        skip.update(_PATTERNS_STATE)
    if ctl["player"] != "kite":
        skip.add("kite_side")
    if ctl["player"] == "agent":
        skip.update(("player_wander", "player_wander_timer"))
    state = worlds.state()
    total = sum(2 * _per_world(a, n) for name, a in state.items() if name not in skip)
    total += sum(_per_world(a, n) for a in worlds.params.values())
    out = worlds._out  # the output buffers, for their sizes
    for name, a in out.items():
        if name.startswith(("obs_", "final_obs_")) and name.split("_")[-1] not in worlds.agents:
            continue
        total += _per_world(a, n)
    from aip_engine import role_layout

    total += sum(4 * role_layout(r).act_size for r in worlds.agents)
    return total


def peak_bandwidth(device: dict[str, Any]) -> float:
    """Peak DRAM bandwidth of a device (bytes/s): from the driver, else the table, else 0."""
    if device.get("peak_bandwidth", 0) > 0:
        return float(device["peak_bandwidth"])
    for key, value in PEAK_BANDWIDTH.items():
        if key in device["name"]:
            return value
    return 0.0


def bench_gpu(task: str, batch: int, device: int, min_seconds: float, peak: float) -> GpuResult:
    """Time `Worlds(backend="cuda")` with device-resident actions."""
    import aip_engine as ae
    from aip_engine import _core_cuda

    worlds = ae.Worlds(task, batch, seed=0, backend=f"cuda:{device}")
    (role,) = worlds.agents
    rng = np.random.default_rng(0)
    size = ae.role_layout(role).act_size
    pool = [
        _core_cuda.to_device(rng.uniform(-1, 1, (batch, size)).astype(np.float32), device)
        for _ in range(GPU_ACTION_POOL)
    ]
    for k in range(3):
        worlds.step(pool[k % GPU_ACTION_POOL])
    _core_cuda.synchronize(device)
    steps = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < min_seconds:
        for _ in range(4):
            worlds.step(pool[steps % GPU_ACTION_POOL])
            steps += 1
        _core_cuda.synchronize(device)
        elapsed = time.perf_counter() - start
    wsps = steps * batch / elapsed
    nbytes = bytes_per_world_step(worlds)
    fraction = nbytes * wsps / peak if peak else float("nan")
    bound = (1 / fraction) if peak else float("nan")
    del worlds, pool
    return GpuResult(task, batch, f"cuda:{device}", steps, elapsed, wsps, 1e9 / wsps, nbytes, fraction, bound, None)


def _table(cpu: Sequence[Any], gpu: Sequence[GpuResult]) -> str:
    head = (
        f"{'backend':<8} {'task':<10} {'batch':>9} {'world-steps/s':>15} {'ns/ws':>8} "
        f"{'B/ws':>6} {'BW used':>8} {'x bound':>8} {'GPU/CPU':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in cpu:
        lines.append(
            f"{'cpu':<8} {r.task:<10} {r.batch:>9} {r.world_steps_per_s:>15,.0f} {r.ns_per_world_step:>8.2f} "
            f"{'':>6} {'':>8} {'':>8} {'':>8}   ({r.threads} threads)"
        )
    for g in gpu:
        ratio = f"{g.speedup_vs_cpu:>7.1f}x" if g.speedup_vs_cpu else f"{'':>8}"
        lines.append(
            f"{g.device:<8} {g.task:<10} {g.batch:>9} {g.world_steps_per_s:>15,.0f} {g.ns_per_world_step:>8.3f} "
            f"{g.bytes_per_world_step:>6} {g.bandwidth_fraction:>8.1%} {g.x_of_bound:>7.2f}x {ratio}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a table, or JSON with --json. Exit 0 with a note when no GPU is visible."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="short durations and smaller batches")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--tasks", default="chase-v1,dodge-v1", help="comma-separated tasks")
    p.add_argument(
        "--batches", default=None, help="comma-separated batch sizes (default 65536,1048576,4194304,8388608)"
    )
    p.add_argument("--cpu-max-batch", type=int, default=4194304, help="largest batch also timed on the CPU (0: none)")
    p.add_argument("--cpu-threads", type=int, default=0, help="CPU threads (0: all cores)")
    p.add_argument("--device", type=int, default=0, help="CUDA device index")
    p.add_argument("--seconds", type=float, default=None, help="minimum timed seconds per configuration")
    args = p.parse_args(argv)

    import aip_engine as ae

    tasks = [t for t in args.tasks.split(",") if t]
    default = "65536,1048576" if args.quick else "65536,1048576,4194304,8388608"
    batches = [int(b) for b in (args.batches or default).split(",")]
    min_seconds = args.seconds if args.seconds is not None else (0.2 if args.quick else 1.0)
    info = ae.backends()["cuda"]
    if not info.available:
        print(f"skipped: {info.reason}")
        return 0
    from engine import bench_engine

    from aip_engine import _core_cuda

    device = _core_cuda.devices()[args.device]
    peak = peak_bandwidth(device)
    threads = args.cpu_threads or len(os.sched_getaffinity(0))
    cpu_results = []
    gpu_results: list[GpuResult] = []
    for task in tasks:
        for batch in batches:
            cpu = None
            if batch <= args.cpu_max_batch:
                cpu = bench_engine(task, batch, threads, "cpu", min_seconds)
                cpu_results.append(cpu)
            g = bench_gpu(task, batch, args.device, min_seconds, peak)
            if cpu is not None:
                g.speedup_vs_cpu = g.world_steps_per_s / cpu.world_steps_per_s
            gpu_results.append(g)
    report = {
        "engine_version": ae.__version__,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "device": device | {"peak_bandwidth_used": peak},
        "cuda": {
            "runtime": _core_cuda.runtime_version(),
            "driver": _core_cuda.driver_version(),
            "architectures": _core_cuda.CUDA_ARCHITECTURES,
        },
        "settings": {"tasks": tasks, "batches": batches, "min_seconds": min_seconds, "cpu_threads": threads},
        "cpu": [asdict(r) for r in cpu_results],
        "gpu": [asdict(r) for r in gpu_results],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{device['name']}: peak bandwidth {peak / 1e12:.2f} TB/s; CPU: {threads} threads")
        print(_table(cpu_results, gpu_results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
