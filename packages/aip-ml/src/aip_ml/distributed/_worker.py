r"""``python -m aip_ml train``: one rank of a data-parallel training run, started by torchrun.

On one machine ``aip train TASK --nproc N`` starts it for you. On several machines, start torchrun
on each with the same rendezvous (docs/tutorials/scale-out.md)::

    torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29400 \\
        --rdzv-id my-run -m aip_ml train chase-v1 --run-dir runs/chase-ddp total_steps=5000000

Every rank takes the same arguments; rank 0 writes the run folder, logs to MLflow and registers the
policy.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["ProgressLines", "main"]

_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


class ProgressLines:
    """Rank 0's progress: one line to stderr at most every ``every_s`` seconds, and at the last update."""

    def __init__(self, every_s: float = 10.0) -> None:
        self.every_s = every_s
        self._last = -math.inf

    def on_start(self, config: Any, run_dir: Path) -> None:
        """Nothing to show yet."""

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Print the update's figures when the last line is old enough."""
        now = time.monotonic()
        last = metrics.get("update") == metrics.get("total_updates")
        if now - self._last < self.every_s and not last:
            return
        self._last = now
        print(
            f"update {update}/{int(metrics.get('total_updates', 0))}  steps {int(metrics.get('global_step', 0)):,}  "
            f"{metrics.get('steps_per_second', float('nan')):,.0f} steps/s  "
            f"return {metrics.get('episode_return_mean', float('nan')):.2f}  "
            f"success {metrics.get('success_rate', float('nan')):.0%}",
            file=sys.stderr,
            flush=True,
        )

    def on_checkpoint(self, path: Path) -> None:
        """Nothing to show."""

    def on_end(self, result: Any) -> None:
        """Nothing to show (the summary follows)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aip_ml train",
        description="One rank of a data-parallel PPO run (start it with torchrun, or `aip train TASK --nproc N`).",
    )
    parser.add_argument("task", metavar="TASK", help="the task, e.g. chase-v1")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="config changes, e.g. total_steps=200000")
    parser.add_argument("--config", "-c", metavar="FILE", help="a TOML config file")
    parser.add_argument("--run-dir", metavar="DIR", required=True, help="the run folder (on rank 0's machine)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --run-dir from its checkpoint")
    parser.add_argument(
        "--track", action=argparse.BooleanOptionalAction, default=True, help="record the run in MLflow (rank 0)"
    )
    parser.add_argument(
        "--tracking-uri", metavar="URI", help="the MLflow store (default: MLFLOW_TRACKING_URI or sqlite)"
    )
    parser.add_argument("--summary-json", metavar="FILE", help="rank 0 writes the result here (JSON)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def _fail(message: str, code: int) -> int:
    print(f"aip_ml train: {message}", file=sys.stderr, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run this process's rank of a distributed training (the group comes from torchrun's environment).

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 done, 2 a usage or config error, 75 another rank was lost, 130 interrupted.
    """
    args = _parser().parse_intermixed_args(argv)
    import aip_ml
    from aip_ml import distributed

    for item in args.overrides:
        if "=" not in item:
            return _fail(f"{item!r} is not KEY=VALUE (e.g. total_steps=100000)", _EXIT_USAGE)
    rank = os.environ.get("RANK", "?")
    try:
        config = aip_ml.load_config(args.task, args.config, list(args.overrides))
        group = distributed.init(config.device)
    except aip_ml.ConfigError as exc:
        return _fail(f"rank {rank}: {exc}", _EXIT_USAGE)
    tracking = None
    finished = False
    try:
        callbacks: list[Any] = []
        if group.is_main:
            if args.track:
                from aip_ml.tracking import MlflowCallback

                tracking = MlflowCallback(args.tracking_uri, tags={"aip.world_size": str(group.world_size)})
                callbacks.append(tracking)
            if not args.quiet:
                callbacks.append(ProgressLines())
        result = aip_ml.train(
            config, run_dir=args.run_dir, callbacks=callbacks, resume=args.resume, tracking_uri=args.tracking_uri
        )
        finished = True
    except distributed.RankLostError as exc:
        if tracking is not None:
            tracking.close("FAILED")
        return _fail(str(exc), distributed.RANK_LOST_EXIT_CODE)
    except (aip_ml.ConfigError, aip_ml.RunDirError, aip_ml.CheckpointError) as exc:
        if tracking is not None:
            tracking.close("FAILED")
        return _fail(f"rank {group.rank}: {exc}", _EXIT_USAGE)
    except BaseException:
        if tracking is not None:
            tracking.close("FAILED")
        raise
    finally:
        distributed.shutdown(wait=finished)
    if group.is_main:
        summary = result.to_dict()
        summary["world_size"] = group.world_size
        summary["mlflow_run_id"] = tracking.run_id if tracking is not None else None
        summary["registered"] = [v.to_dict() for v in tracking.registered] if tracking is not None else []
        if args.summary_json:
            from aip_engine._files import write_atomic

            write_atomic(Path(args.summary_json), (json.dumps(summary, indent=2) + "\n").encode("utf-8"))
        if result.interrupted:
            print(
                f"aip_ml train: interrupted at update {result.updates}; continue with the same command and --resume",
                file=sys.stderr,
                flush=True,
            )
    return _EXIT_INTERRUPTED if result.interrupted else 0
