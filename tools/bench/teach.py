"""Teaching methods against plain PPO: success against environment steps, one invocation.

    python tools/bench/teach.py --json                     # every method on dodge-v1 and chase-flee-v1
    python tools/bench/teach.py --methods scratch curriculum --tasks dodge-v1
    python tools/bench/teach.py --quick --json             # a smoke test of the script (tiny budgets)

Methods (each one `aip_ml.train` run with the task's shipped config and these changes):
- ``scratch``: PPO from a fresh network, no cloning (``imitate_bot=""``).
- ``curriculum``: PPO with examples/configs/<task>-curriculum.toml's lessons (no cloning).
- ``bc``: behaviour cloning from 20 recorded episodes of the task's best scripted bot (made through
  the game's recorder format by `aip_ml.imitation.bot_demonstrations`), then PPO; ``bc_only`` is the
  cloned policy before any PPO update (``bc_one_update``: after one), compared with the demonstrator's.
  The cloning (`BC_SETTINGS`) shows each sample as one of the arena's mirror images
  (``bc_augment=mirror``), fits full-speed moves at length 1.1 and takes 240 passes; PPO then starts
  after the shipped config's critic warm-up, with ``obs_norm_preserve`` (the clone is fitted on the
  statistics of 20 episodes; the first rollout's would otherwise change its inputs);
  ``dagger_success``: that clone after each of ``--dagger-rounds`` DAgger rounds (no reward either).
- ``gail``: GAIL reward (weight 0.1) plus the task's reward, from the same 20 episodes.
- ``transfer``: PPO started from a chase-v1 model trained first with its shipped config.

Success per update is the rate of episodes that ended in that update (a moving mean over 5 updates is
reported); "steps to target" is the first environment step at which it reaches the target (0.9).
Steps-based, so the load of a shared machine changes the wall time but not the figures. Writes
``teach-curves.png`` (docs/images/) and prints ratios against ``scratch``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for sub in ("packages/aip-engine/src", "packages/aip-ml/src"):
    if str(ROOT / sub) not in sys.path:
        sys.path.append(str(ROOT / sub))

import numpy as np  # noqa: E402

import aip_ml  # noqa: E402

TASKS = ("dodge-v1", "chase-flee-v1")
METHODS = ("scratch", "curriculum", "bc", "gail", "transfer")
DEMONSTRATOR = {"dodge-v1": "dodge", "chase-flee-v1": "chase"}
TARGET = 0.9
#: How the ``bc`` method clones its 20 episodes (docs/tutorials/teach.md, "BC alone").
BC_SETTINGS = {"imitate_epochs": 240, "bc_augment": "mirror", "bc_full_speed_gain": 1.1, "obs_norm_preserve": True}


class Curve(aip_ml.CallbackBase):
    """Success rate and wall time per update."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.success: list[float] = []
        self.seconds: list[float] = []

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        self.steps.append(int(metrics["global_step"]))
        # a curriculum's success counts from its last lesson on: success in an easier lesson is not the task's
        in_task = metrics.get("curriculum/lesson", 1.0) >= metrics.get("curriculum/lessons", 1.0)
        self.success.append(float(metrics.get("success_rate", float("nan"))) if in_task else float("nan"))
        self.seconds.append(float(metrics["time_elapsed"]))


def _smooth(values: list[float], window: int = 5) -> list[float]:
    out, buf = [], []
    for v in values:
        if np.isfinite(v):
            buf.append(v)
        del buf[:-window]
        out.append(float(np.mean(buf)) if buf else float("nan"))
    return out


def _steps_to(curve: Curve, target: float) -> int | None:
    for step, s in zip(curve.steps, _smooth(curve.success), strict=True):
        if np.isfinite(s) and s >= target:
            return step
    return None


def _run(
    task: str,
    method: str,
    out: Path,
    quick: bool,
    extra: list[str],
    chase_model: Path | None,
    curriculum: Path | None = None,
    dagger_rounds: int = 0,
) -> dict[str, Any]:
    overrides = ["eval_episodes=0", "imitate_bot=", "critic_warmup_updates=0", *extra]
    if quick:
        overrides += ["total_steps=65536", "num_worlds=64", "rollout_steps=32", "minibatch_size=512"]
    config = aip_ml.load_config(task, overrides=overrides)
    result: dict[str, Any] = {"task": task, "method": method}
    if method == "curriculum":
        path = curriculum or ROOT / "examples" / "configs" / f"{task}-curriculum.toml"
        if not path.is_file():
            return {**result, "skipped": f"no {path.name}"}
        result["curriculum"] = str(path)
        config = config.replace(curriculum=aip_ml.load_config(path=path).curriculum)
    if method in ("bc", "gail"):
        from aip_ml.imitation import bot_demonstrations

        bot = DEMONSTRATOR[task]
        spec = __import__("aip_engine").task_spec(task)
        demos = bot_demonstrations(task, "enemy", bot, 20 * max(spec.time_limit, 1), num_worlds=20, seed=77)
        path = out / f"{task}-{bot}-20.npz"
        if not path.exists():
            demos.save(path)
        result["demonstrations"] = {"episodes": demos.episodes, "samples": len(demos), "bot": bot}
        config = config.replace(demos=str(path), imitate_epochs=0)
        if method == "bc":
            shipped = aip_ml.load_config(task).critic_warmup_updates
            config = config.replace(**BC_SETTINGS, critic_warmup_updates=shipped)
        if method == "gail":
            config = config.replace(gail_weight=0.1)
    if method == "transfer":
        assert chase_model is not None
        config = config.replace(init_from=str(chase_model))
    curve = Curve()
    start = time.perf_counter()
    run = aip_ml.train(config, run_dir=out / f"{task}-{method}", callbacks=[curve])
    result.update(
        {
            "wall_seconds": time.perf_counter() - start,
            "global_step": run.global_step,
            "steps": curve.steps,
            "success": curve.success,
            "steps_to_target": _steps_to(curve, TARGET),
        }
    )
    episodes = 200 if quick else 1000
    report = aip_ml.evaluate(run.policy_path or "", task, episodes=episodes, seed=2024)
    result["final_success"] = report.agent.success_rate
    result["bots"] = {k: v.success_rate for k, v in report.bots.items()}
    if method == "bc":
        # The clone itself: the same cloning as the run's (seed, epochs, hold-out), no PPO update after it.
        import aip_engine
        from aip_ml.imitation import clone, load_dataset
        from aip_ml.ppo import PPO, derive_seed

        learner = PPO(config, aip_engine.Worlds(task, config.num_worlds, seed=config.seed))
        cloning = {
            "epochs": config.imitate_epochs,
            "holdout": config.bc_holdout,
            "seed": derive_seed(config.seed, 2**31),
            "full_speed_gain": config.bc_full_speed_gain,
            "augment": config.bc_augment,
        }
        data = load_dataset(out / f"{task}-{DEMONSTRATOR[task]}-20.npz")
        stats = clone(learner, data, **cloning)
        only = aip_ml.evaluate(learner.policy(), task, episodes=episodes, seed=2024)
        result["bc_only_success"] = only.agent.success_rate
        result["bc_only_holdout_loss"] = stats["bc/holdout_loss"]
        result["demonstrator_success"] = only.bots[DEMONSTRATOR[task]].success_rate
        # DAgger on top of that clone, still without any reward: the learner plays 20 episodes a round, the
        # demonstrator labels the states it visited, and the clone is fitted again to everything so far.
        from aip_ml.imitation import dagger_round
        from aip_ml.imitation._dataset import concatenate

        limit = max(__import__("aip_engine").task_spec(task).time_limit, 1)
        result["dagger_success"] = []
        for i in range(dagger_rounds):
            visited = dagger_round(
                learner, task, DEMONSTRATOR[task], 20 * limit, seed=derive_seed(config.seed, 2**30 + i), num_worlds=20
            )
            data = concatenate([data, visited])
            clone(learner, data, update_statistics=False, **cloning)
            rate = aip_ml.evaluate(learner.policy(), task, episodes=episodes, seed=2024).agent.success_rate
            result["dagger_success"].append({"round": i + 1, "samples": len(data), "success": rate})
        # and after one PPO update (a critic warm-up update for bc), what this benchmark reported as BC alone before
        first = out / f"{task}-bc-one-update"
        cloned = aip_ml.train(config.replace(total_steps=config.batch_size), run_dir=first)
        result["bc_one_update_success"] = aip_ml.evaluate(
            cloned.checkpoint, task, episodes=episodes, seed=2024
        ).agent.success_rate
    return result


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({r["task"] for r in results})
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks, strict=True):
        for r in results:
            if r["task"] == task and "steps" in r:
                ax.plot(np.array(r["steps"]) / 1e6, _smooth(r["success"]), label=r["method"])
        ax.axhline(TARGET, color="grey", lw=0.8, ls="--")
        ax.set_title(task)
        ax.set_xlabel("environment steps (millions)")
        ax.set_ylabel("success rate (5-update mean)")
        ax.set_ylim(0, 1.02)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="tiny budgets: a smoke test, targets not expected")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--out", type=Path, default=None, help="folder for the runs (default: a temp dir)")
    parser.add_argument(
        "--png",
        type=Path,
        default=None,
        help="the curves (default: docs/images/teach-curves.png; --quick: the run folder)",
    )
    parser.add_argument(
        "--curriculum",
        type=Path,
        default=None,
        help="the curriculum's config (default: examples/configs/TASK-curriculum.toml)",
    )
    parser.add_argument(
        "--dagger-rounds",
        type=int,
        default=5,
        help="bc: DAgger rounds (20 episodes each, the demonstrator as the expert) after the clone, measured alone",
    )
    parser.add_argument("overrides", nargs="*", help="config overrides key=value for every run")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="aip-teach-"))
    if args.png is None:  # a smoke test's curves do not replace the documented ones
        args.png = out / "teach-curves.png" if args.quick else ROOT / "docs" / "images" / "teach-curves.png"
    chase_model = None
    if "transfer" in args.methods:
        quick = ["total_steps=65536", "num_worlds=64", "rollout_steps=32", "minibatch_size=512"] if args.quick else []
        chase = aip_ml.train(
            aip_ml.load_config("chase-v1", overrides=["eval_episodes=0", *quick]), run_dir=out / "chase-v1"
        )
        chase_model = chase.run_dir
    results = [
        _run(t, m, out, args.quick, list(args.overrides), chase_model, args.curriculum, args.dagger_rounds)
        for t in args.tasks
        for m in args.methods
    ]
    _plot(results, args.png)
    ratios: dict[str, Any] = {}
    for task in args.tasks:
        base = next((r.get("steps_to_target") for r in results if r["task"] == task and r["method"] == "scratch"), None)
        for r in results:
            if r["task"] == task and r.get("steps_to_target") and base:
                ratios[f"{task}/{r['method']}"] = r["steps_to_target"] / base
    summary = {
        "quick": args.quick,
        "target": TARGET,
        "out": str(out),
        "png": str(args.png),
        "ratios_vs_scratch": ratios,
        "runs": [{k: v for k, v in r.items() if k not in ("steps", "success")} for r in results],
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for r in summary["runs"]:
            print(r)
        print("ratios of steps to target against scratch:", ratios)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
