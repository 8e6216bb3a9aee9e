"""What overlapping rollout collection with learning would gain on this machine, measured in one run.

    python tools/bench/overlap.py              # chase-v1 at the shipped size, 6 rounds
    python tools/bench/overlap.py --json num_worlds=512 rollout_steps=64

One round is one rollout collection and one learning phase (the epochs of minibatch steps) of the
PPO learner. ``sequential`` runs them one after the other, as `aip_ml.train` does; ``overlapped``
runs the collection in a second thread while the learning runs (torch and the engine release the
GIL in their kernels), which is the most any double buffering can gain: a learner that collects the
next rollout with the previous policy while it learns (Sample Factory, EnvPool's async mode) does
exactly this work plus the copies of the policy. The two halves run on two learners, so neither
waits for the other's data. Reported: wall seconds per round of each, their ratio, the CPU share
(process CPU seconds over wall seconds: 2.0 means both cores were ours) and the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for sub in ("packages/aip-engine/src", "packages/aip-ml/src"):
    if str(ROOT / sub) not in sys.path:
        sys.path.append(str(ROOT / sub))

import aip_ml  # noqa: E402
from aip_ml._train import make_worlds, set_threads  # noqa: E402
from aip_ml.ppo import PPO  # noqa: E402


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds of each mode")
    parser.add_argument("--task", default="chase-v1")
    parser.add_argument("overrides", nargs="*", help="config overrides key=value")
    args = parser.parse_args(argv)
    config = aip_ml.load_config(args.task, overrides=["engine_threads=1", *args.overrides])
    set_threads(config)
    learners = []
    for i in range(2):
        worlds = make_worlds(config.task, config.num_worlds, seed=config.seed + i, threads=1)
        ppo = PPO(config, worlds)
        ppo.reseed(1 + i)
        ppo.update()  # warm-up, and a rollout to learn from
        learners.append(ppo)
    collector, learner = learners
    load = [os.getloadavg()[0]]
    results: dict[str, Any] = {}
    for mode in ("sequential", "overlapped", "sequential", "overlapped"):
        wall0, cpu0 = time.perf_counter(), _cpu()
        for _ in range(args.rounds):
            if mode == "sequential":
                collector.collect()
                learner.learn()
            else:
                thread = threading.Thread(target=collector.collect)
                thread.start()
                learner.learn()
                thread.join()
        wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
        r = results.setdefault(mode, {"wall_seconds": 0.0, "cpu_seconds": 0.0, "rounds": 0})
        r["wall_seconds"] += wall
        r["cpu_seconds"] += cpu
        r["rounds"] += args.rounds
    load.append(os.getloadavg()[0])
    for r in results.values():
        r["seconds_per_round"] = r["wall_seconds"] / r["rounds"]
        r["cpu_share"] = r["cpu_seconds"] / r["wall_seconds"]
    gain = results["sequential"]["seconds_per_round"] / results["overlapped"]["seconds_per_round"]
    out = {
        "task": config.task,
        "settings": {k: getattr(config, k) for k in ("num_worlds", "rollout_steps", "minibatch_size", "epochs")},
        "cores": os.cpu_count(),
        "load": load,
        "results": results,
        "sequential/overlapped": gain,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for mode, r in results.items():
            print(f"{mode:11s} {r['seconds_per_round'] * 1000:8.1f} ms per round, cpu share {r['cpu_share']:.2f}")
        print(f"overlap gains {gain:.2f}x (load {load[0]:.1f} -> {load[1]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
