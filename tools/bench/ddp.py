"""Data-parallel training on this machine: 1 rank beside 2 (or more) under torchrun, in one run.

    python tools/bench/ddp.py --json                   # 1 and 2 ranks on chase-v1 (several minutes)
    python tools/bench/ddp.py --quick --json           # a smoke test (under a minute)
    python tools/bench/ddp.py --ranks 1 2 4 --scaling weak

Each arm is one whole training (`aip_ml.train`, the shipped config of ``--task``) in fresh processes:
1 rank is the ordinary one-process run; N > 1 ranks run under torchrun (`aip_ml.distributed.launch_local`,
gloo on 127.0.0.1). ``--scaling strong`` (the default) gives each rank ``num_worlds / N`` worlds, so
that every arm learns from the same batch per update and the same schedule (the comparison is of
wall time); ``--scaling weak`` gives each rank the shipped ``num_worlds`` (N times the batch).

Reported per arm, from rank 0:

- ``steps_per_second``: environment steps (summed over ranks) per second of training, skill checks
  excluded; ``speedup`` against 1 rank;
- ``steps_to_target`` / ``seconds_to_target``: when the task's skill target was first met and kept
  (`aip_ml.TargetCallback`, checks every ``--target-every`` steps, not counted in the time);
- the shares of an update: collecting the rollout, learning, and inside learning the gradient
  all-reduce (``allreduce_share``: its time over the update's);
- ``allreduce_alone_seconds``: after the training, one all-reduce of the gradient's size (``parameters``
  float32) between ranks that do nothing else: the communication itself. The rest of the all-reduce's
  share in training is a rank waiting for the slower one (``--allreduce-only`` measures this alone);
- the machine's load (``os.getloadavg``) before and after, since the ranks share its cores with
  whatever else runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for sub in ("packages/aip-engine/src", "packages/aip-ml/src"):
    if str(ROOT / sub) not in sys.path:
        sys.path.append(str(ROOT / sub))

QUICK = ["total_steps=65536", "num_worlds=64", "rollout_steps=32", "minibatch_size=512", "epochs=2"]


class Meter:
    """Rank 0's per-update timings (an `aip_ml.Callback` that times the learner's rollout collection)."""

    def __init__(self) -> None:
        self.updates: list[dict[str, float]] = []
        self._collect = 0.0

    def on_attach(self, view: Any) -> None:
        learner = view._learner  # a benchmark may look inside: it times the rollout part of an update
        collect = learner.collect

        def timed() -> Any:
            start = time.perf_counter()
            try:
                return collect()
            finally:
                self._collect = time.perf_counter() - start

        learner.collect = timed

    def on_start(self, config: Any, run_dir: Path) -> None:
        """Nothing to do."""

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        self.updates.append(
            {
                "update_seconds": metrics["update_seconds"],
                "collect_seconds": self._collect,
                "allreduce_seconds": metrics.get("allreduce_seconds", 0.0),
            }
        )

    def on_checkpoint(self, path: Path) -> None:
        """Nothing to do."""

    def on_end(self, result: Any) -> None:
        """Nothing to do."""


def parameter_count(config: Any) -> int:
    """The number of parameters of the config's actor-critic (what one gradient all-reduce carries)."""
    import aip_engine
    from aip_ml.ppo import ActorCritic

    layout = aip_engine.role_layout(aip_engine.task_spec(config.task).agents[0])
    model = ActorCritic(layout.obs_size, layout.act_size, config.hidden_sizes, config.activation, config.log_std_init)
    return sum(p.numel() for p in model.parameters())


def allreduce_alone(group: Any, numel: int, repeats: int) -> float:
    """Mean seconds of one all-reduce of ``numel`` float32 between ranks that do nothing else."""
    import torch

    flat = torch.ones(numel)
    for _ in range(10):
        group.all_reduce_sum(flat, "the warm-up")
    start = time.perf_counter()
    for _ in range(repeats):
        group.all_reduce_sum(flat, "the all-reduce benchmark")
    return (time.perf_counter() - start) / repeats


def worker(out: Path, run_dir: Path, task: str, overrides: list[str]) -> None:
    """One rank (or the one process) of an arm; rank 0 writes ``out``."""
    import aip_ml
    from aip_ml import distributed

    config = aip_ml.load_config(task, overrides=overrides)
    group = distributed.init(config.device) if "RANK" in os.environ else None
    meter = Meter()
    main = group is None or group.is_main
    alone = None
    try:
        if os.environ.get("AIP_BENCH_ALLREDUCE_ONLY") != "1":
            result = aip_ml.train(config, run_dir=run_dir, callbacks=[meter] if main else [])
        if group is not None:
            alone = allreduce_alone(group, parameter_count(config), 500)
    finally:
        distributed.shutdown(wait=True)
    if os.environ.get("AIP_BENCH_ALLREDUCE_ONLY") == "1":
        if main:
            out.write_text(json.dumps({"allreduce_alone_seconds": alone, "parameters": parameter_count(config)}))
        return
    if not main:
        return
    record = result.time_to_target
    timed = meter.updates[1:] or meter.updates  # the first update warms up
    total = sum(u["update_seconds"] for u in timed)
    collect = sum(u["collect_seconds"] for u in timed)
    allreduce = sum(u["allreduce_seconds"] for u in timed)
    checks = record.check_seconds if record is not None else 0.0
    train_seconds = result.wall_seconds - checks
    report = {
        "world_size": 1 if group is None else group.world_size,
        "num_worlds_per_rank": config.num_worlds,
        "batch_per_update": config.batch_size * (1 if group is None else group.world_size),
        "updates": result.updates,
        "steps": result.global_step,
        "train_seconds": train_seconds,
        "steps_per_second": result.global_step / max(train_seconds, 1e-9),
        "update_steps_per_second": sum(1 for _ in timed)
        * config.batch_size
        * (1 if group is None else group.world_size)
        / max(total, 1e-9),
        "mean_update_seconds": total / max(len(timed), 1),
        "collect_share": collect / max(total, 1e-9),
        "learn_share": 1.0 - collect / max(total, 1e-9),
        "allreduce_share": allreduce / max(total, 1e-9),
        "allreduce_seconds_per_update": allreduce / max(len(timed), 1),
        "reached": bool(record.reached) if record is not None else None,
        "steps_to_target": record.steps if record is not None else None,
        "seconds_to_target": record.seconds if record is not None else None,
        "final_success_rate": result.final_metrics.get("success_rate"),
        "parameters": parameter_count(config),
        "allreduce_alone_seconds": alone,
        "allreduces_per_update": config.epochs * config.batch_size // config.minibatch_size,
    }
    out.write_text(json.dumps(report, indent=2) + "\n")


def run_arm(ranks: int, task: str, overrides: list[str]) -> dict[str, Any]:
    """Train once on ``ranks`` ranks (in fresh processes) and return rank 0's report."""
    import subprocess

    from aip_ml.distributed import launch_local

    with tempfile.TemporaryDirectory(prefix="aip-bench-ddp-") as tmp:
        out = Path(tmp) / "report.json"
        args = [str(Path(__file__).resolve()), "--worker", str(out), str(Path(tmp) / "run"), task, *overrides]
        load = os.getloadavg()[0]
        start = time.perf_counter()
        if ranks == 1:
            env = dict(os.environ, OMP_NUM_THREADS="1")
            code = subprocess.run([sys.executable, *args], env=env, check=False).returncode
        else:
            launched = launch_local(ranks, args, echo=lambda line: print(line, end="", file=sys.stderr))
            code = launched.returncode
        if code != 0 or not out.is_file():
            raise SystemExit(f"the {ranks}-rank arm failed (exit status {code})")
        report: dict[str, Any] = json.loads(out.read_text())
    report["process_seconds"] = time.perf_counter() - start
    report["load"] = [load, os.getloadavg()[0]]
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="chase-v1")
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--scaling", choices=("strong", "weak"), default="strong")
    parser.add_argument("--steps", type=int, default=0, help="total_steps of every arm (0: the shipped config's)")
    parser.add_argument("--target-every", type=int, default=131_072, help="steps between skill-target checks")
    parser.add_argument("--quick", action="store_true", help="tiny runs: a smoke test, targets not expected")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--allreduce-only", action="store_true", help="only time the gradient all-reduce alone on the N > 1 arms"
    )
    parser.add_argument("--worker", nargs=3, metavar=("OUT", "RUN_DIR", "TASK"), help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]), args.worker[2], rest)
        return 0
    import aip_ml

    base = aip_ml.load_config(args.task, overrides=QUICK if args.quick else [])
    common = ["eval_episodes=0", "torch_threads=1", f"target_every_steps={8192 if args.quick else args.target_every}"]
    if args.quick:
        common += [*QUICK, "target_episodes=16"]
    if args.steps:
        common.append(f"total_steps={args.steps}")
    if args.allreduce_only:
        os.environ["AIP_BENCH_ALLREDUCE_ONLY"] = "1"
    arms = {}
    for n in args.ranks:
        if args.allreduce_only and n == 1:
            continue
        worlds = base.num_worlds // n if args.scaling == "strong" else base.num_worlds
        minibatch = min(base.minibatch_size, worlds * base.rollout_steps)
        if args.scaling == "strong":
            minibatch = max(1, base.minibatch_size // n)
        arms[str(n)] = run_arm(n, args.task, [*common, f"num_worlds={worlds}", f"minibatch_size={minibatch}"])
    one = arms.get("1")
    for report in arms.values():
        if "steps_per_second" in report:
            report["speedup"] = report["steps_per_second"] / one["steps_per_second"] if one else None
    doc = {
        "task": args.task,
        "scaling": args.scaling,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "arms": arms,
    }
    if args.json or args.allreduce_only:
        print(json.dumps(doc, indent=2))
    else:
        for n, r in arms.items():
            target = (
                f"target met at {r['steps_to_target']:,} steps, {r['seconds_to_target']:.0f} s"
                if r["reached"]
                else "target not met"
            )
            print(
                f"{n} rank(s): {r['steps_per_second']:,.0f} steps/s"
                + (f" (x{r['speedup']:.2f})" if r.get("speedup") else "")
                + f", {target}, "
                f"update: rollout {r['collect_share']:.0%}, all-reduce {r['allreduce_share']:.0%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
