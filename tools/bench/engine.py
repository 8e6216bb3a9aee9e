"""World-steps per second of the engine, beside two pure-Python baselines, in one run.

    python tools/bench/engine.py            # the full table (a few minutes)
    python tools/bench/engine.py --quick --json

Configurations: each task x batch size x thread count on the chosen backends. Every
timed step includes the observations and rewards (the engine writes them every step);
actions are random, generated before timing and cycled. Each configuration is warmed
up, then stepped until a minimum duration has passed.

Baselines (same tasks, same batch sizes, same work per world-step):
- ``python``: the reference implementation (`aip_engine.reference`) stepped per world in
  a Gymnasium ``SyncVectorEnv`` of single reference envs (same-step autoreset), the way the
  previous implementation vectorised. At large batches it is timed on a sub-batch and
  extrapolated per world-step (its cost is linear in the worlds); the output says so.
- ``numpy``: ``_numpy_chase.py``, chase-v1 vectorised over all worlds with numpy.

Ratios reported: engine / python, engine / numpy at batch 64 and at the largest batch
>= 4096, and 2-thread / 1-thread engine throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ACTION_POOL = 16  # pre-generated action arrays, cycled
PYTHON_MAX_WORLDS = 64  # larger python-baseline batches are timed on this many and extrapolated


@dataclass
class Result:
    """One timed configuration."""

    impl: str  # engine, python, numpy
    task: str
    batch: int
    threads: int
    backend: str
    steps: int
    seconds: float
    world_steps_per_s: float
    ns_per_world_step: float
    measured_batch: int  # worlds actually stepped (< batch when extrapolated)
    extrapolated: bool


def _time(step: Callable[[int], Any], min_seconds: float, warmup: int) -> tuple[int, float]:
    """Call ``step(k)`` until ``min_seconds`` have passed (after ``warmup`` calls)."""
    for k in range(warmup):
        step(k)
    steps = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < min_seconds:
        for _ in range(8):
            step(steps)
            steps += 1
        elapsed = time.perf_counter() - start
    return steps, elapsed


def _actions(act_size: int, batch: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, (batch, act_size)).astype(np.float32) for _ in range(ACTION_POOL)]


def _result(
    impl: str, task: str, batch: int, threads: int, backend: str, steps: int, seconds: float, measured: int
) -> Result:
    wsps = steps * measured / seconds
    return Result(impl, task, batch, threads, backend, steps, seconds, wsps, 1e9 / wsps, measured, measured != batch)


# --- the three implementations ---------------------------------------------------------------


def bench_engine(task: str, batch: int, threads: int, backend: str, min_seconds: float) -> Result:
    """Time `aip_engine.Worlds`; the backend hook: any backend name `Worlds` accepts."""
    import aip_engine as ae

    worlds = ae.Worlds(task, batch, seed=0, threads=threads, backend=backend)
    (role,) = worlds.agents
    pool = _actions(ae.role_layout(role).act_size, batch)

    def step(k: int) -> None:
        worlds.step(pool[k % ACTION_POOL])

    steps, seconds = _time(step, min_seconds, warmup=max(3, 2000 // batch))
    return _result("engine", task, batch, worlds.threads, backend, steps, seconds, batch)


def bench_python(task: str, batch: int, min_seconds: float) -> Result:
    """Time reference envs in a Gymnasium SyncVectorEnv (sub-batch + extrapolation when large)."""
    import gymnasium
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    from aip_engine.gym import AipEnv

    measured = min(batch, PYTHON_MAX_WORLDS)
    env = SyncVectorEnv(
        [lambda: AipEnv(task, reference=True) for _ in range(measured)],
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    env.reset(seed=0)
    space = env.single_action_space
    assert isinstance(space, gymnasium.spaces.Box)
    pool = _actions(space.shape[0], measured)

    def step(k: int) -> None:
        env.step(pool[k % ACTION_POOL])

    steps, seconds = _time(step, min_seconds, warmup=2)
    env.close()
    return _result("python", task, batch, 1, "cpu", steps, seconds, measured)


def bench_numpy(batch: int, min_seconds: float) -> Result:
    """Time the numpy chase-v1."""
    from _numpy_chase import NumpyChase

    env = NumpyChase(batch, seed=0)
    pool = _actions(2, batch)

    def step(k: int) -> None:
        env.step(pool[k % ACTION_POOL])

    steps, seconds = _time(step, min_seconds, warmup=3)
    return _result("numpy", "chase-v1", batch, 1, "cpu", steps, seconds, batch)


# --- the run ---------------------------------------------------------------------------------


def _find(results: Sequence[Result], **keys: Any) -> Result | None:
    for r in results:
        if all(getattr(r, k) == v for k, v in keys.items()):
            return r
    return None


def ratios(results: Sequence[Result], batches: Sequence[int], threads: Sequence[int]) -> dict[str, Any]:
    """Engine throughput divided by the baselines', and 2-thread over 1-thread."""
    out: dict[str, Any] = {}
    t1 = min(threads)
    big = [b for b in batches if b >= 4096]
    for r in results:
        if r.impl != "engine" or r.threads != t1:
            continue
        py = _find(results, impl="python", task=r.task, batch=r.batch)
        if py is not None:
            out[f"engine/python {r.task} batch={r.batch} backend={r.backend}"] = (
                r.world_steps_per_s / py.world_steps_per_s
            )
        npy = _find(results, impl="numpy", task=r.task, batch=r.batch)
        if npy is not None and (r.batch == 64 or (big and r.batch == max(big))):
            out[f"engine/numpy {r.task} batch={r.batch} backend={r.backend}"] = (
                r.world_steps_per_s / npy.world_steps_per_s
            )
    if 1 in threads and 2 in threads:
        for r in results:
            if r.impl == "engine" and r.threads == 2:
                one = _find(results, impl="engine", task=r.task, batch=r.batch, threads=1, backend=r.backend)
                if one is not None:
                    out[f"threads 2/1 {r.task} batch={r.batch} backend={r.backend}"] = (
                        r.world_steps_per_s / one.world_steps_per_s
                    )
    return out


def _table(results: Sequence[Result]) -> str:
    head = (
        f"{'impl':<7} {'backend':<7} {'task':<14} {'batch':>6} {'thr':>3} "
        f"{'world-steps/s':>14} {'ns/world-step':>14}  note"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        note = f"timed on {r.measured_batch} worlds, extrapolated" if r.extrapolated else ""
        lines.append(
            f"{r.impl:<7} {r.backend:<7} {r.task:<14} {r.batch:>6} {r.threads:>3} "
            f"{r.world_steps_per_s:>14,.0f} {r.ns_per_world_step:>14,.1f}  {note}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print a table, or JSON with --json."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="short durations and small batches (CI smoke)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--tasks", default="chase-v1,dodge-v1", help="comma-separated tasks")
    p.add_argument("--batches", default=None, help="comma-separated batch sizes (default 1,64,1024,16384)")
    p.add_argument("--threads", default="1,2", help="comma-separated engine thread counts")
    p.add_argument(
        "--backend", default="cpu", help="comma-separated engine backends: cpu, cuda (where built; skipped otherwise)"
    )
    p.add_argument("--seconds", type=float, default=None, help="minimum timed seconds per configuration")
    p.add_argument("--no-baselines", action="store_true", help="time the engine only")
    args = p.parse_args(argv)

    tasks = [t for t in args.tasks.split(",") if t]
    batches = [int(b) for b in (args.batches or ("1,64,1024" if args.quick else "1,64,1024,16384")).split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    backends = [b for b in args.backend.split(",") if b]
    min_seconds = args.seconds if args.seconds is not None else (0.05 if args.quick else 0.5)

    from aip_engine import BackendError

    results: list[Result] = []
    skipped: list[str] = []
    for backend in backends:
        for task in tasks:
            for batch in batches:
                for t in threads:
                    try:
                        results.append(bench_engine(task, batch, t, backend, min_seconds))
                    except BackendError as exc:  # a backend not built here or without a device
                        skipped.append(f"engine {backend} {task} batch={batch} threads={t}: {exc}")
    if not args.no_baselines:
        for task in tasks:
            for batch in batches:
                results.append(bench_python(task, batch, min_seconds))
                if task == "chase-v1":
                    results.append(bench_numpy(batch, min_seconds))

    import aip_engine

    report: dict[str, Any] = {
        "engine_version": aip_engine.__version__,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "settings": {
            "tasks": tasks,
            "batches": batches,
            "threads": threads,
            "backends": backends,
            "min_seconds": min_seconds,
            "action_pool": ACTION_POOL,
            "python_baseline_max_worlds": PYTHON_MAX_WORLDS,
            "note": "python-baseline rows with extrapolated=true were timed on measured_batch worlds "
            "and scaled per world-step",
        },
        "results": [asdict(r) for r in results],
        "ratios": ratios(results, batches, threads),
        "skipped": skipped,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_table(results))
        print()
        for k, v in report["ratios"].items():
            print(f"{k:<55} {v:10.1f}x")
        for s in skipped:
            print("skipped:", s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
