"""``python -m aip_engine``: scripted bots in every slot of many worlds, and what happened.

The agent slot of the task is given to its reference bots (docs/rules.md, "Tasks"): the
worlds are split evenly among them through the per-world bot parameters, so one run
compares the bots on the same seeds. The report counts episodes, successes per bot,
events, and the engine's world-steps per second.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._tasks import EVENTS, bot_code, task_spec, tasks

__all__ = ["main", "run_demo"]

_PARAM_OF_ROLE = {"player": "player_bot", "enemy": "enemy_bot", "missile": "guidance"}


def run_demo(
    task: str = "dodge-v1",
    worlds: int = 4096,
    seconds: float = 3.0,
    threads: int = 0,
    seed: int = 0,
    reference: bool = False,
) -> dict[str, Any]:
    """Step ``worlds`` worlds of ``task`` with bots in every slot for about ``seconds``.

    Args:
        task: The task's name.
        worlds: How many worlds.
        seconds: Wall-clock seconds to run (at least one step is made).
        threads: Engine threads (0 = all cores).
        seed: The seed.
        reference: Step the Python reference instead of the compiled engine (slow).

    Returns:
        The report: episodes and successes per bot, event totals, frames, world-steps/s.
    """
    worlds_class: Any
    if reference:
        from .reference import Worlds as worlds_class
    else:
        from . import Worlds as worlds_class

    spec = task_spec(task)
    controllers = {role: spec.reference_bots[role][0] for role in spec.agents}
    w = worlds_class(task, worlds, seed=seed, controllers=controllers, threads=threads)
    # Split the worlds among each agent role's reference bots: world i plays bot i mod k.
    labels = np.empty(worlds, dtype=object)
    labels[:] = ""
    for role in spec.agents:
        names = spec.reference_bots[role]
        codes = np.array([bot_code(role, n) for n in names], dtype=np.int32)
        pick = np.arange(worlds) % len(names)
        w.params[_PARAM_OF_ROLE[role]][:] = codes[pick]
        labels = labels + np.array([f"{role}={names[k]} " for k in pick], dtype=object)
    labels = np.array([str(x).strip() for x in labels], dtype=object)
    w.reset(seed=seed)

    groups = sorted(set(labels.tolist()))
    index = {g: np.flatnonzero(labels == g) for g in groups}
    episodes = dict.fromkeys(groups, 0)
    successes = dict.fromkeys(groups, 0)
    success_frames = dict.fromkeys(groups, 0)
    events = np.zeros(len(EVENTS), np.int64)
    steps = 0
    start = time.perf_counter()
    while True:
        res = w.step()
        steps += 1
        events += res.events.sum(axis=0, dtype=np.int64)
        done = res.terminated | res.truncated
        if done.any():
            ok = done & w.success
            for g in groups:
                rows = index[g]
                episodes[g] += int(done[rows].sum())
                successes[g] += int(ok[rows].sum())
                success_frames[g] += int(w.episode_frames[rows][ok[rows]].sum())
        if time.perf_counter() - start >= seconds:
            break
    elapsed = time.perf_counter() - start
    per_bot = {
        g: {
            "worlds": int(index[g].size),
            "episodes": episodes[g],
            "successes": successes[g],
            "success_rate": successes[g] / episodes[g] if episodes[g] else 0.0,
            "mean_frames_to_success": success_frames[g] / successes[g] if successes[g] else None,
        }
        for g in groups
    }
    return {
        "task": task,
        "worlds": worlds,
        "threads": w.threads,
        "steps": steps,
        "frames_per_world": steps,
        "seconds": elapsed,
        "world_steps_per_s": steps * worlds / elapsed,
        "success_means": spec.success,
        "episodes": sum(episodes.values()),
        "per_bot": per_bot,
        "events": {name: int(events[k]) for k, name in enumerate(EVENTS)},
    }


def _print(report: dict[str, Any]) -> None:
    print(
        f"{report['task']}: {report['worlds']} worlds x {report['steps']} frames in {report['seconds']:.2f} s "
        f"on {report['threads']} thread(s): {report['world_steps_per_s']:,.0f} world-steps/s "
        f"({report['steps'] / 60:.0f} s of game time per world)"
    )
    print(f"episodes: {report['episodes']}   success = {report['success_means']}")
    print(f"{'bots':<40} {'worlds':>7} {'episodes':>9} {'successes':>10} {'rate':>7} {'frames to success':>18}")
    for g, r in report["per_bot"].items():
        mf = "-" if r["mean_frames_to_success"] is None else f"{r['mean_frames_to_success']:.0f}"
        print(f"{g:<40} {r['worlds']:>7} {r['episodes']:>9} {r['successes']:>10} {r['success_rate']:>7.1%} {mf:>18}")
    ev = report["events"]
    print("events: " + ", ".join(f"{k} {v:,}" for k, v in ev.items()))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line of ``python -m aip_engine``."""
    p = argparse.ArgumentParser(
        prog="python -m aip_engine",
        description="Run many worlds of a task with scripted bots in every slot and report what happened.",
    )
    p.add_argument("--task", default="dodge-v1", choices=[t for t in tasks() if task_spec(t).agents])
    p.add_argument("--worlds", type=int, default=4096, help="number of worlds (default 4096)")
    p.add_argument("--seconds", type=float, default=3.0, help="wall-clock seconds to run (default 3)")
    p.add_argument("--threads", type=int, default=0, help="engine threads, 0 = all cores")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--reference", action="store_true", help="step the Python reference instead (slow)")
    args = p.parse_args(argv)
    if args.worlds < 1:
        p.error("--worlds must be at least 1")
    if args.seconds < 0:
        p.error("--seconds must not be negative")
    report = run_demo(args.task, args.worlds, args.seconds, args.threads, args.seed, args.reference)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)
    return 0
