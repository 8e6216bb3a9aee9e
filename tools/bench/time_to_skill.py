"""Time to skill: how long from nothing to an agent that meets its task's skill target, beside SB3.

    python tools/bench/time_to_skill.py --json                  # every task with a target (long: see below)
    python tools/bench/time_to_skill.py --tasks chase-v1        # one task, every set-up
    python tools/bench/time_to_skill.py --arms aip_ml           # aip_ml alone (steps to target, memory)
    python tools/bench/time_to_skill.py --quick --json          # a smoke test: tiny runs, targets not expected
    python tools/bench/time_to_skill.py --device cuda           # adds aip_ml with everything on the GPU

For each task with a skill target (`aip_ml.skill_targets()`) and a shipped config, in one invocation:

- ``aip_ml``: `aip_ml.train` with the shipped config, checking the target every ``target_every_steps``
  environment steps on the same evaluation episodes (`aip_ml.TargetCallback`, what ``aip train`` and
  ``python3 tools/dev.py run`` report too). The time to target is the training time (checks excluded)
  at the first check from which every later check met the target.
- ``sb3_same``: Stable-Baselines3's PPO on our Gymnasium vector environment (`aip_engine.gym.AipVectorEnv`,
  one engine batch of N worlds, through a small SB3 VecEnv adapter) with the same hyperparameters:
  N, T, minibatch, epochs, learning rate and schedule, gamma, lambda, clip ranges, coefficients,
  network, activation, initial log std, observation and reward normalisation (VecNormalize). It has
  no behaviour cloning, so configs that start from a cloned bot (``imitate_bot``) are run without it.
- ``sb3_default``: ``PPO("MlpPolicy", env)`` with SB3's defaults on ``--sb3-default-envs`` worlds (4, as
  SB3's own PPO example) of the same vector environment, no normalisation.
- ``aip_ml_cuda`` (``--device cuda``): the aip_ml set-up with ``device=cuda``.

Both SB3 set-ups are checked with the same evaluation episodes and the same schedule, and stopped at
a cap: ``--cap-factor`` (same hyperparameters: 4, defaults: 12) times aip_ml's time to target in this
run (its whole training time when it did not reach it), at least ``--min-cap`` and at most
``--max-cap`` seconds, so a set-up that has not reached the target by then is reported as "not
reached within X s", which still proves the ratio up to the cap. Each set-up runs in a fresh process
(so its peak resident memory is its own) with torch on one thread, the engine on every core.

Also in the same run: the roofline (a 2048 x 2048 float32 matrix multiply, one thread and all cores)
and the learner's achieved FLOP rate (forward and backward FLOPs of its epochs, counted from the
network's shape, over the time of `PPO.learn`), and the rate of a multiply of the learner's own
shapes. The load of the machine (``os.getloadavg``) and the CPU share each set-up got are reported:
steps to target are robust to load; wall-time ratios are meaningful because they are measured in one
invocation, and more so on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for sub in ("packages/aip-engine/src", "packages/aip-ml/src"):
    if str(ROOT / sub) not in sys.path:
        sys.path.append(str(ROOT / sub))

ARMS = ("aip_ml", "sb3_same", "sb3_default")
CAP_FACTORS = {"sb3_same": 4.0, "sb3_default": 12.0}
QUICK_OVERRIDES = [
    "total_steps=16384",
    "num_worlds=64",
    "rollout_steps=32",
    "minibatch_size=512",
    "target_every_steps=4096",
    "target_episodes=16",
    "imitate_samples=4096",
    "imitate_epochs=1",
    "critic_warmup_updates=1",
]


# --- measurements that every worker shares -------------------------------------------------------


def _usage() -> dict[str, float]:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_seconds": u.ru_utime + u.ru_stime, "peak_rss_mb": u.ru_maxrss / 1024.0}


def _load() -> float:
    return os.getloadavg()[0]


def _finish(out: dict[str, Any], wall_start: float, load_start: float) -> dict[str, Any]:
    wall = time.perf_counter() - wall_start
    usage = _usage()
    out.update(usage)
    out["process_seconds"] = wall
    out["cpu_share"] = usage["cpu_seconds"] / max(wall, 1e-9)
    out["load"] = [load_start, _load()]
    return out


def _config(task: str, overrides: list[str]) -> Any:
    import aip_ml

    config = aip_ml.load_config(task, overrides=["eval_episodes=0", *overrides])
    if not config.target_every_steps:
        config = config.replace(target_every_steps=max(config.batch_size, config.total_steps // 30))
    return config


# --- aip_ml --------------------------------------------------------------------------------------


def worker_aip_ml(task: str, overrides: list[str]) -> dict[str, Any]:
    import aip_ml

    wall_start, load_start = time.perf_counter(), _load()
    config = _config(task, overrides)
    with tempfile.TemporaryDirectory(prefix="aip-tts-") as tmp:
        result = aip_ml.train(config, run_dir=Path(tmp) / "run")
    record = result.time_to_target
    assert record is not None
    # The final check's training seconds: the run's time less the checks before it (the final check
    # itself comes after the run's clock stopped), what `aip train` and `tools/dev.py run` report.
    last = record.checks[-1] if record.checks else None
    train_seconds = (
        last.train_seconds
        if last is not None and last.step == result.global_step
        else result.wall_seconds - record.check_seconds
    )
    out = {
        "steps_to_target": record.steps,
        "seconds_to_target": record.seconds,
        "reached": record.reached,
        "steps": result.global_step,
        "train_seconds": train_seconds,
        "wall_seconds": result.wall_seconds,
        "steps_per_second": result.global_step / max(train_seconds, 1e-9),
        "record": record.to_dict(),
        "config": config.to_dict(),
    }
    return _finish(out, wall_start, load_start)


# --- Stable-Baselines3 ---------------------------------------------------------------------------


def _sb3_env(task: str, num_envs: int, seed: int) -> Any:
    """An SB3 VecEnv over `aip_engine.gym.AipVectorEnv` (same-step autoreset, final observations in infos)."""
    import numpy as np
    from stable_baselines3.common.vec_env import VecEnv

    from aip_engine.gym import AipVectorEnv

    class AipSB3VecEnv(VecEnv):
        def __init__(self) -> None:
            self.env = AipVectorEnv(task, num_envs=num_envs)
            super().__init__(num_envs, self.env.single_observation_space, self.env.single_action_space)
            self._actions = np.zeros((num_envs, *(self.env.single_action_space.shape or ())), np.float32)
            self._seed = seed

        def reset(self) -> Any:
            obs, _ = self.env.reset(seed=self._seed)
            return obs

        def step_async(self, actions: Any) -> None:
            self._actions = np.asarray(actions, dtype=np.float32)

        def step_wait(self) -> Any:
            obs, reward, terminated, truncated, info = self.env.step(self._actions)
            done = terminated | truncated
            infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]
            if done.any():
                final = info["final_obs"]
                for i in np.flatnonzero(done):
                    infos[i]["terminal_observation"] = final[i]
                    infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            return obs, reward, done, infos

        def close(self) -> None:
            self.env.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self, attr_name, None)] * num_envs

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
            return [None] * num_envs

        def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
            return [False] * num_envs

        def seed(self, seed: int | None = None) -> list[int | None]:
            return [seed] * num_envs

    return AipSB3VecEnv()


def worker_sb3(arm: str, task: str, overrides: list[str], cap_seconds: float, default_envs: int) -> dict[str, Any]:
    import numpy as np
    import torch
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecNormalize

    import aip_ml

    wall_start, load_start = time.perf_counter(), _load()
    config = _config(task, overrides)
    torch.set_num_threads(1)
    target = aip_ml.skill_target(task)
    assert target is not None
    episodes, every = config.target_episodes, config.target_every_steps
    bot = aip_ml.evaluate_bot(target.bot, task, episodes=episodes, seed=2024) if target.bot else None
    if arm == "sb3_same":
        venv: Any = _sb3_env(task, config.num_worlds, config.seed)
        if config.obs_norm or config.reward_scale:
            venv = VecNormalize(
                venv,
                norm_obs=config.obs_norm,
                norm_reward=config.reward_scale,
                clip_obs=config.obs_clip,
                clip_reward=config.reward_clip,
                gamma=config.gamma,
            )
        lr0 = config.learning_rate
        schedule: Any = (lambda left: lr0 * left) if config.lr_schedule == "linear" else lr0
        activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU, "silu": torch.nn.SiLU}
        model = SB3PPO(
            "MlpPolicy",
            venv,
            n_steps=config.rollout_steps,
            batch_size=config.minibatch_size,
            n_epochs=config.epochs,
            learning_rate=schedule,
            gamma=config.gamma,
            gae_lambda=config.gae_lambda,
            clip_range=config.clip_range,
            clip_range_vf=config.clip_range_vf or None,
            normalize_advantage=config.normalize_advantage,
            ent_coef=config.ent_coef,
            vf_coef=config.vf_coef,
            max_grad_norm=config.max_grad_norm,
            target_kl=config.target_kl or None,
            policy_kwargs={
                "net_arch": {"pi": list(config.hidden_sizes), "vf": list(config.hidden_sizes)},
                "activation_fn": activation[config.activation],
                "log_std_init": config.log_std_init,
            },
            device="cpu",
            seed=config.seed,
            verbose=0,
        )
        total = config.total_steps
    else:
        venv = _sb3_env(task, default_envs, config.seed)
        model = SB3PPO("MlpPolicy", venv, device="cpu", seed=config.seed, verbose=0)
        total = 3 * config.total_steps
    low, high = venv.action_space.low, venv.action_space.high

    class Actor:
        def act(self, obs: Any) -> Any:
            x: Any = np.asarray(obs, dtype=np.float32)
            if isinstance(venv, VecNormalize):
                x = venv.normalize_obs(x)
            action, _ = model.predict(x, deterministic=True)
            return np.clip(action, low, high).astype(np.float32)

    checks: list[dict[str, Any]] = []
    state = {"next": every, "check_seconds": 0.0, "start": 0.0, "capped": False}

    def check(step: int) -> None:
        t0 = time.perf_counter()
        agent = aip_ml.evaluate(Actor(), task, episodes=episodes, seed=2024, bots=False).agent
        train_seconds = t0 - state["start"] - state["check_seconds"]
        met = target.met(agent, bot)
        frames = agent.mean_frames_to_success
        checks.append(
            {
                "step": step,
                "train_seconds": train_seconds,
                "success_rate": agent.success_rate,
                "mean_frames_to_success": None if math.isnan(frames) else frames,
                "met": met,
            }
        )
        state["check_seconds"] += time.perf_counter() - t0

    class Schedule(BaseCallback):
        def _on_training_start(self) -> None:
            state["start"] = time.perf_counter()

        def _on_step(self) -> bool:
            step = int(self.num_timesteps)
            if step >= state["next"]:
                state["next"] = (step // every + 1) * every
                check(step)
                if time.perf_counter() - state["start"] - state["check_seconds"] > cap_seconds:
                    state["capped"] = True
                    return False
            return True

    model.learn(total_timesteps=total, callback=Schedule())
    steps = int(model.num_timesteps)
    if not checks or checks[-1]["step"] < steps:
        check(steps)
    train_seconds = time.perf_counter() - state["start"] - state["check_seconds"]
    first = None
    for c in checks:
        first = None if not c["met"] else (first or c)
    out = {
        "steps_to_target": None if first is None else first["step"],
        "seconds_to_target": None if first is None else first["train_seconds"],
        "reached": first is not None,
        "steps": steps,
        "train_seconds": train_seconds,
        "steps_per_second": steps / max(train_seconds, 1e-9),
        "capped": state["capped"],
        "cap_seconds": cap_seconds,
        "step_cap": total,
        "checks": checks,
        "settings": "same hyperparameters" if arm == "sb3_same" else f"SB3 defaults, {default_envs} worlds",
        "behaviour_cloning_skipped": bool(config.imitate_bot) if arm == "sb3_same" else None,
    }
    venv.close()
    return _finish(out, wall_start, load_start)


# --- roofline and the learner's FLOP rate --------------------------------------------------------


def _matmul_rate(n: int, threads: int, seconds: float = 1.0) -> float:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    out = torch.empty(n, n)
    torch.mm(a, b, out=out)
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b, out=out)
        reps += 1
    elapsed = time.perf_counter() - start
    torch.set_num_threads(before)
    return 2.0 * n**3 * reps / elapsed


def _shape_rate(rows: int, inner: int, cols: int, seconds: float = 0.5) -> float:
    import torch

    a, b = torch.randn(rows, inner), torch.randn(inner, cols)
    out = torch.empty(rows, cols)
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b, out=out)
        reps += 1
    return 2.0 * rows * inner * cols * reps / (time.perf_counter() - start)


def learner_flops_per_sample(obs_size: int, act_size: int, hidden: tuple[int, ...]) -> dict[str, float]:
    """Forward and backward FLOPs of one sample through the actor and the critic (matrix products only)."""
    forward = backward = 0.0
    for out_size in (act_size, 1):
        sizes = [obs_size, *hidden, out_size]
        for i in range(len(sizes) - 1):
            macs = sizes[i] * sizes[i + 1]
            forward += 2 * macs
            backward += 2 * macs + (2 * macs if i > 0 else 0)  # weight gradient; input gradient past layer 0
    return {"forward": forward, "train": forward + backward}


def worker_roofline(task: str, overrides: list[str], updates: int, n: int) -> dict[str, Any]:
    import torch

    import aip_engine
    from aip_ml._train import make_worlds, set_threads
    from aip_ml.ppo import PPO

    wall_start, load_start = time.perf_counter(), _load()
    config = _config(task, overrides)
    set_threads(config)
    cores = os.cpu_count() or 1
    roof_1 = _matmul_rate(n, 1)
    roof_all = _matmul_rate(n, cores)
    torch.set_num_threads(config.torch_threads or 1)
    layout = aip_engine.role_layout(aip_engine.task_spec(task).agents[0])
    d, a, hidden = layout.obs_size, layout.act_size, tuple(config.hidden_sizes)
    mb = config.minibatch_size
    shapes = {
        f"{mb}x{d} @ {d}x{hidden[0]}": _shape_rate(mb, d, hidden[0]),
        f"{mb}x{hidden[0]} @ {hidden[0]}x{hidden[-1]}": _shape_rate(mb, hidden[0], hidden[-1]),
        f"{mb}x{hidden[-1]} @ {hidden[-1]}x{a}": _shape_rate(mb, hidden[-1], a),
    }
    worlds = make_worlds(task, config.num_worlds, seed=config.seed, threads=config.engine_threads)
    ppo = PPO(config.replace(imitate_bot=""), worlds)
    ppo.reseed(1)
    ppo.update()  # warm-up
    collect = learn = 0.0
    for _ in range(updates):
        t0 = time.perf_counter()
        ppo.collect()
        t1 = time.perf_counter()
        ppo.learn()
        collect += t1 - t0
        learn += time.perf_counter() - t1
    flops = learner_flops_per_sample(d, a, hidden)
    learn_flops = updates * config.batch_size * config.epochs * flops["train"]
    collect_flops = updates * config.batch_size * flops["forward"]
    out = {
        "matmul_n": n,
        "matmul_flops_1_thread": roof_1,
        "matmul_flops_all_cores": roof_all,
        "learner_shapes_flops": shapes,
        "torch_threads": torch.get_num_threads(),
        "updates": updates,
        "learn_seconds_per_update": learn / updates,
        "collect_seconds_per_update": collect / updates,
        "learn_share": learn / (learn + collect),
        "flops_per_sample": flops,
        "learn_flops_per_second": learn_flops / learn,
        "learn_fraction_of_matmul": learn_flops / learn / roof_1,
        "collect_inference_flops_per_second": collect_flops / collect,
        "steps_per_second": updates * config.batch_size / (learn + collect),
    }
    return _finish(out, wall_start, load_start)


# --- the driver ----------------------------------------------------------------------------------


def _spawn(args: list[str], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
        return {"error": f"exit code {proc.returncode}", "stderr_tail": tail}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def _ratio(theirs: dict[str, Any], ours: dict[str, Any], key: str) -> dict[str, Any]:
    """Their figure over ours; a lower bound ("> x") when they did not reach the target."""
    mine = ours.get(key)
    if not mine:
        return {"value": None, "bound": None, "text": "aip_ml did not reach the target"}
    if theirs.get("error"):
        return {"value": None, "bound": None, "text": f"failed: {theirs['error']}"}
    if theirs.get("reached"):
        value = float(theirs[key]) / float(mine)
        return {"value": value, "bound": None, "text": f"{value:.1f}x"}
    spent = theirs["train_seconds"] if key == "seconds_to_target" else theirs["steps"]
    bound = float(spent) / float(mine)
    unit = "s" if key == "seconds_to_target" else "steps"
    return {"value": None, "bound": bound, "text": f"> {bound:.1f}x (not reached within {spent:,.0f} {unit})"}


def run_task(task: str, args: argparse.Namespace, overrides: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"task": task}
    arms = [a for a in args.arms if a != "roofline"]
    timeout = args.timeout
    if "aip_ml" in arms or any(a.startswith("sb3") for a in arms):
        print(f"[{task}] aip_ml ...", file=sys.stderr, flush=True)
        out["aip_ml"] = _spawn(["aip_ml", task, "--", *overrides], timeout)
    if args.device == "cuda":
        print(f"[{task}] aip_ml on cuda ...", file=sys.stderr, flush=True)
        out["aip_ml_cuda"] = _spawn(["aip_ml", task, "--", *overrides, "device=cuda"], timeout)
    ours = out.get("aip_ml", {})
    base = ours.get("seconds_to_target") or ours.get("train_seconds") or 60.0
    for arm in ("sb3_same", "sb3_default"):
        if arm not in arms:
            continue
        cap = max(args.cap_factor.get(arm, CAP_FACTORS[arm]) * float(base), args.min_cap)
        if args.max_cap:
            cap = min(cap, args.max_cap)
        print(f"[{task}] {arm} (cap {cap:.0f} s) ...", file=sys.stderr, flush=True)
        out[arm] = _spawn([arm, task, str(cap), str(args.sb3_default_envs), "--", *overrides], timeout + cap)
    ratios: dict[str, Any] = {}
    for arm in ("sb3_same", "sb3_default", "aip_ml_cuda"):
        if arm in out and ours:
            ratios[f"{arm}/aip_ml seconds to target"] = _ratio(out[arm], ours, "seconds_to_target")
            ratios[f"{arm}/aip_ml steps to target"] = _ratio(out[arm], ours, "steps_to_target")
    out["ratios"] = ratios
    return out


def _sb3_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("stable_baselines3") is not None


def _cuda_available() -> str:
    try:
        import torch

        import aip_engine

        if not torch.cuda.is_available():
            return "torch sees no CUDA device"
        info = aip_engine.backends().get("cuda")
        if info is None or not info.available:
            return f"the engine's CUDA backend is not available ({getattr(info, 'reason', 'not built')})"
    except Exception as exc:
        return str(exc)
    return ""


def _print_table(report: dict[str, Any]) -> None:
    machine = report["machine"]
    print(f"time to skill, {machine['cores']} cores, load {report['load']}, torch {machine['torch']}")
    roof = report.get("roofline")
    if roof and not roof.get("error"):
        print(
            f"  roofline: {roof['matmul_flops_1_thread'] / 1e9:.1f} GFLOP/s (matmul {roof['matmul_n']}, 1 thread), "
            f"{roof['matmul_flops_all_cores'] / 1e9:.1f} all cores; learner {roof['learn_flops_per_second'] / 1e9:.1f} "
            f"GFLOP/s = {roof['learn_fraction_of_matmul']:.0%} of 1 thread; "
            f"learning {roof['learn_share']:.0%} of an update"
        )
    for t in report["tasks"]:
        print(f"{t['task']}:")
        for arm in ("aip_ml", "aip_ml_cuda", "sb3_same", "sb3_default"):
            r = t.get(arm)
            if r is None:
                continue
            if r.get("error"):
                print(f"  {arm:12s} failed: {r['error']}")
                continue
            where = (
                f"target at {r['steps_to_target']:>10,} steps, {r['seconds_to_target']:8.1f} s"
                if r.get("reached")
                else f"not reached within {r['steps']:,} steps, {r['train_seconds']:.0f} s"
            )
            print(
                f"  {arm:12s} {where}; {r['steps_per_second']:>9,.0f} steps/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
                f"cpu share {r['cpu_share']:.2f}"
            )
        for name, ratio in t["ratios"].items():
            print(f"  {name:40s} {ratio['text']}")
    for name, why in report["skipped"].items():
        print(f"  skipped {name}: {why}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--worker":
        return _worker(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="tiny runs: a smoke test of the script")
    parser.add_argument("--tasks", nargs="+", default=None, help="tasks (default: every task with a target)")
    parser.add_argument(
        "--arms",
        default=",".join([*ARMS, "roofline"]),
        help="set-ups, comma-separated: aip_ml,sb3_same,sb3_default,roofline",
    )
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="cuda: also train with device=cuda")
    parser.add_argument("--sb3-default-envs", type=int, default=4, help="worlds of the SB3-defaults set-up")
    parser.add_argument("--cap-factor", type=float, default=None, help="stop SB3 at this many times aip_ml's time")
    parser.add_argument("--min-cap", type=float, default=30.0, help="the smallest SB3 cap in seconds")
    parser.add_argument(
        "--max-cap", type=float, default=0.0, help="the largest SB3 cap in seconds (0: none); bounds a long run"
    )
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds before a set-up is abandoned")
    parser.add_argument("--learner-updates", type=int, default=5, help="updates timed for the learner's FLOP rate")
    parser.add_argument("overrides", nargs="*", help="config overrides key=value for every task")
    args = parser.parse_args(argv)
    import aip_ml

    args.arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = sorted(set(args.arms) - {*ARMS, "roofline"})
    if unknown:
        parser.error(f"unknown set-up {unknown[0]!r}; choose from {', '.join([*ARMS, 'roofline'])}")
    args.cap_factor = dict.fromkeys(CAP_FACTORS, args.cap_factor) if args.cap_factor else dict(CAP_FACTORS)
    tasks = args.tasks or [t for t in aip_ml.skill_targets() if t in aip_ml.config_tasks()]
    overrides = [*(QUICK_OVERRIDES if args.quick else []), *args.overrides]
    if args.quick:
        args.min_cap = min(args.min_cap, 5.0)
    skipped: dict[str, str] = {}
    if not _sb3_available():
        why = "stable-baselines3 is not installed: pip install stable-baselines3 (tools/dev.py setup does)"
        for arm in ("sb3_same", "sb3_default"):
            if arm in args.arms:
                args.arms.remove(arm)
                skipped[arm] = why
    if args.device == "cuda":
        why = _cuda_available()
        if why:
            skipped["aip_ml_cuda"] = why
            args.device = "cpu"
    load_start = _load()
    report: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "torch": _torch_version()},
        "quick": args.quick,
        "overrides": overrides,
        "cap_factors": args.cap_factor,
        "min_cap": args.min_cap,
        "max_cap": args.max_cap,
    }
    if "roofline" in args.arms:
        print("[roofline] matmul and learner ...", file=sys.stderr, flush=True)
        updates = 1 if args.quick else args.learner_updates
        n = "512" if args.quick else "2048"
        report["roofline"] = _spawn(["roofline", tasks[0], str(updates), n, "--", *overrides], args.timeout)
    report["tasks"] = [run_task(t, args, overrides) for t in tasks]
    report["load"] = [round(load_start, 2), round(_load(), 2)]
    report["skipped"] = skipped
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)
    return 0


def _torch_version() -> str:
    import torch

    return str(torch.__version__)


def _worker(argv: list[str]) -> int:
    arm, task, *rest = argv
    split = rest.index("--") if "--" in rest else len(rest)
    positional, overrides = rest[:split], rest[split + 1 :]
    if arm == "aip_ml":
        out = worker_aip_ml(task, overrides)
    elif arm == "roofline":
        out = worker_roofline(task, overrides, int(positional[0]), int(positional[1]))
    else:
        out = worker_sb3(arm, task, overrides, float(positional[0]), int(positional[1]))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
