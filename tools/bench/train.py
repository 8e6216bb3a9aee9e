"""End-to-end PPO training throughput on chase-v1: aip_ml beside Stable-Baselines3, in one run.

    python tools/bench/train.py                 # the full comparison (a few minutes)
    python tools/bench/train.py --quick --json  # a smoke test (seconds)
    python tools/bench/train.py --device cuda   # adds aip_ml with the worlds and the learner on the GPU

Three set-ups, each timed over whole PPO updates (collecting the rollout, then the epochs of
minibatch gradient steps), with the same network (separate 64x64 tanh actor and critic), the
same number of worlds N, rollout length T, minibatch size and epochs, observation and reward
normalisation on in all three:

- ``aip_ml``: aip_ml's PPO on the engine's batch of N worlds.
- ``sb3_batched``: Stable-Baselines3's PPO on a VecEnv adapter over one engine batch of N worlds
  (the best one can do with SB3 on this engine), wrapped in VecNormalize.
- ``aip_ml_cuda`` (``--device cuda``): the same with ``device=cuda``: the engine's CUDA backend and
  `aip_ml.ppo.DevicePPO`, observations and actions exchanged through DLPack, nothing on the host per
  step.
- ``sb3_dummy``: Stable-Baselines3's PPO on ``make_vec_env("aip/Chase-v1", n_envs=N)`` (a DummyVecEnv
  of N single-world Gymnasium envs, each with SB3's Monitor), wrapped in VecNormalize: the ordinary
  way to use SB3.

Reported: steps/s of each (environment steps, i.e. world-steps, per wall-clock second, after one
warm-up update) and the ratios aip_ml / sb3_batched and aip_ml / sb3_dummy; also the rollout
collection alone (steps/s and share of an update), since the gradient work of an update is the same
computation in all three. Torch uses the same thread count in all set-ups.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
for sub in ("packages/aip-engine/src", "packages/aip-ml/src"):
    if str(ROOT / sub) not in sys.path:
        sys.path.append(str(ROOT / sub))

import aip_engine  # noqa: E402
import aip_ml  # noqa: E402
from aip_ml._train import make_worlds, set_threads  # noqa: E402
from aip_ml.ppo import PPO, DevicePPO, on_device  # noqa: E402

TASK = "chase-v1"


def bench_aip_ml(config: aip_ml.TrainConfig, updates: int) -> dict[str, Any]:
    set_threads(config)
    worlds = make_worlds(
        config.task, config.num_worlds, seed=config.seed, threads=config.engine_threads, backend=config.device
    )
    ppo = (DevicePPO if on_device(worlds) else PPO)(config, worlds)
    ppo.reseed(1)
    ppo.update()  # warm-up
    start = time.perf_counter()
    collect = 0.0
    for _ in range(updates):  # the same split as the SB3 set-ups report
        t0 = time.perf_counter()
        ppo.collect()
        collect += time.perf_counter() - t0
        ppo.learn()
    elapsed = time.perf_counter() - start
    steps = updates * config.batch_size
    return {
        "steps": steps,
        "seconds": elapsed,
        "steps_per_second": steps / elapsed,
        "collect_share": collect / elapsed,
        "collect_steps_per_second": steps / collect,
    }


def _sb3_vec_adapter() -> type:
    from stable_baselines3.common.vec_env import VecEnv

    from aip_engine.gym import AipEnv

    class EngineVecEnv(VecEnv):
        """An SB3 VecEnv over one engine batch (same-step auto-reset, final observations in infos)."""

        def __init__(self, task: str, num_worlds: int, seed: int, threads: int) -> None:
            probe = AipEnv(task=task)
            super().__init__(num_worlds, probe.observation_space, probe.action_space)
            probe.close()
            self.worlds = aip_engine.Worlds(task, num_worlds, seed=seed, threads=threads)
            self.role = aip_engine.task_spec(task).agents[0]
            self._seed = seed
            act_size = aip_engine.role_layout(self.role).act_size
            self._actions: np.ndarray = np.zeros((num_worlds, act_size), np.float32)

        def reset(self) -> np.ndarray:
            return np.array(self.worlds.reset(seed=self._seed))

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.ascontiguousarray(actions, dtype=np.float32)

        def step_wait(self) -> Any:
            r = self.worlds.step(self._actions)
            done = r.terminated | r.truncated
            infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
            if done.any():
                final = self.worlds.final_observations(self.role)
                for i in np.flatnonzero(done):
                    infos[i]["terminal_observation"] = final[i].copy()
                    infos[i]["TimeLimit.truncated"] = bool(r.truncated[i] and not r.terminated[i])
            return np.array(r.obs), np.array(r.reward), done, infos

        def close(self) -> None:
            pass

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self, attr_name)] * self.num_envs

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kwargs: Any) -> list[Any]:
            return [None] * self.num_envs

        def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
            return [False] * self.num_envs

        def seed(self, seed: int | None = None) -> list[int | None]:
            return [seed] * self.num_envs

    return EngineVecEnv


def bench_sb3(kind: str, config: aip_ml.TrainConfig, updates: int) -> dict[str, Any]:
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    threads, engine_threads = set_threads(config)
    if kind == "sb3_batched":
        venv: Any = _sb3_vec_adapter()(TASK, config.num_worlds, config.seed, engine_threads)
    else:
        import gymnasium
        from stable_baselines3.common.env_util import make_vec_env

        import aip_engine.gym  # noqa: F401  (registers the Gymnasium ids)

        # The ordinary way: make_vec_env over gymnasium.make of the registered id (Monitor and
        # Gymnasium's passive checker on each env), one single-world env per slot in a DummyVecEnv.
        # A callable, because make_vec_env asks an id string for render_mode="rgb_array", which
        # AipEnv (it renders nothing) refuses.
        venv = make_vec_env(
            lambda: gymnasium.make("aip/Chase-v1"), n_envs=config.num_worlds, vec_env_cls=DummyVecEnv, seed=config.seed
        )
    venv = VecNormalize(venv, norm_obs=True, norm_reward=True, gamma=config.gamma)
    model = SB3PPO(
        "MlpPolicy",
        venv,
        n_steps=config.rollout_steps,
        batch_size=config.minibatch_size,
        n_epochs=config.epochs,
        learning_rate=config.learning_rate,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        clip_range=config.clip_range,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        max_grad_norm=config.max_grad_norm,
        policy_kwargs={
            "net_arch": {"pi": list(config.hidden_sizes), "vf": list(config.hidden_sizes)},
            "activation_fn": torch.nn.Tanh,
            "log_std_init": config.log_std_init,
        },
        device="cpu",
        seed=config.seed,
        verbose=0,
    )
    torch.set_num_threads(threads)
    model.learn(total_timesteps=config.batch_size)  # warm-up update
    start = time.perf_counter()
    model.learn(total_timesteps=updates * config.batch_size, reset_num_timesteps=False)
    elapsed = time.perf_counter() - start
    steps = updates * config.batch_size
    # The share of one update spent collecting the rollout (the rest is the same gradient work).
    from stable_baselines3.common.callbacks import BaseCallback

    class _Continue(BaseCallback):
        def _on_step(self) -> bool:
            return True

    callback = _Continue()
    callback.init_callback(model)
    t0 = time.perf_counter()
    assert model.env is not None
    model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=config.rollout_steps)
    collect = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train()
    learn = time.perf_counter() - t0
    venv.close()
    return {
        "steps": steps,
        "seconds": elapsed,
        "steps_per_second": steps / elapsed,
        "collect_share": collect / (collect + learn),
        "collect_steps_per_second": config.batch_size / collect,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a measurement")
    parser.add_argument("--updates", type=int, default=None, help="timed updates of aip_ml (default 10)")
    parser.add_argument("--sb3-updates", type=int, default=None, help="timed updates of each SB3 set-up (default 2)")
    parser.add_argument("--no-baselines", action="store_true", help="aip_ml only, no Stable-Baselines3 set-ups")
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cpu", help="cuda: also aip_ml with everything on the GPU"
    )
    parser.add_argument("overrides", nargs="*", help="config overrides key=value (num_worlds=..., rollout_steps=...)")
    args = parser.parse_args(argv)
    overrides = list(args.overrides)
    if args.quick:
        overrides = ["num_worlds=16", "rollout_steps=16", "minibatch_size=64", *overrides]
    config = aip_ml.load_config(TASK, overrides=overrides)
    updates = args.updates or (2 if args.quick else 10)
    sb3_updates = args.sb3_updates or (1 if args.quick else 2)
    results = {"aip_ml": bench_aip_ml(config, updates)}
    ratios: dict[str, float] = {}
    skipped: dict[str, str] = {}
    if args.device == "cuda":
        # The device set-up: worlds, rollout and network on the GPU, exchanged through DLPack.
        info = aip_engine.backends()["cuda"]
        if not info.available:
            skipped["aip_ml_cuda"] = f"the engine's CUDA backend is not available: {info.reason}"
        else:
            results["aip_ml_cuda"] = bench_aip_ml(config.replace(device="cuda"), updates)
            ratios["aip_ml_cuda/aip_ml"] = (
                results["aip_ml_cuda"]["steps_per_second"] / results["aip_ml"]["steps_per_second"]
            )
    if args.no_baselines:
        skipped["sb3_batched"] = skipped["sb3_dummy"] = "--no-baselines"
    elif importlib.util.find_spec("stable_baselines3") is None:
        # The baselines are a development tool (tools/dev.py setup installs them), not a dependency.
        why = "stable-baselines3 is not installed: pip install stable-baselines3"
        skipped["sb3_batched"] = skipped["sb3_dummy"] = why
    else:
        results["sb3_batched"] = bench_sb3("sb3_batched", config, sb3_updates)
        results["sb3_dummy"] = bench_sb3("sb3_dummy", config, sb3_updates)
        ours = results["aip_ml"]["steps_per_second"]
        ours_collect = results["aip_ml"]["collect_steps_per_second"]
        ratios |= {
            "aip_ml/sb3_batched": ours / results["sb3_batched"]["steps_per_second"],
            "aip_ml/sb3_dummy": ours / results["sb3_dummy"]["steps_per_second"],
            "collect aip_ml/sb3_batched": ours_collect / results["sb3_batched"]["collect_steps_per_second"],
            "collect aip_ml/sb3_dummy": ours_collect / results["sb3_dummy"]["collect_steps_per_second"],
        }
    out = {
        "task": TASK,
        "quick": args.quick,
        "machine": {"cores": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
        "torch_threads": torch.get_num_threads(),
        "settings": {
            k: getattr(config, k)
            for k in ("num_worlds", "rollout_steps", "minibatch_size", "epochs", "hidden_sizes", "activation")
        },
        "results": results,
        "ratios": ratios,
        "skipped": skipped,
    }
    if args.json:
        print(json.dumps(out, indent=2, default=list))
    else:
        s = out["settings"]
        print(
            f"PPO on {TASK}: N={s['num_worlds']} T={s['rollout_steps']} minibatch={s['minibatch_size']} "
            f"epochs={s['epochs']} net={list(s['hidden_sizes'])} {s['activation']}, "
            f"torch threads {out['torch_threads']}"
        )
        for name, r in results.items():
            print(
                f"  {name:12s} {r['steps_per_second']:>12,.0f} steps/s  ({r['steps']} steps in {r['seconds']:.2f} s);"
                f" collecting alone {r['collect_steps_per_second']:>12,.0f} steps/s"
                f" ({r['collect_share']:.0%} of an update)"
            )
        for name, v in ratios.items():
            print(f"  {name:22s} {v:8.1f}x")
        for name, why in skipped.items():
            print(f"  {name:12s} skipped: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
