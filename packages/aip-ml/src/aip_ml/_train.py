"""`train`: a whole PPO run in a run folder, with callbacks, checkpoints, Ctrl-C and resume."""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import torch

import aip_engine

from ._checkpoint import decode_worlds, encode_worlds, save_checkpoint
from ._config import TrainConfig
from ._errors import CheckpointError, ConfigError, RunDirError, WorldSizeChangedWarning
from ._export import export_policy
from ._interrupt import Interrupt
from ._plugins import PluggedWorlds, Plugin, PluginContext, plugins_from_config
from ._run_dir import lineage as read_lineage
from ._run_dir import saved_state
from ._run_dir import write_text as _write_text
from ._targets import TargetCallback, TimeToTarget
from .distributed._group import current as current_group
from .ppo import PPO, DevicePPO, derive_seed, on_device
from .selfplay._trainer import SelfPlay

if TYPE_CHECKING:
    from ._evaluate import EvalReport

__all__ = ["Callback", "CallbackBase", "TrainResult", "TrainingView", "make_worlds", "set_threads", "train"]


@runtime_checkable
class Callback(Protocol):
    """What `train` calls; subclass `CallbackBase` to implement only some of the methods."""

    def on_start(self, config: TrainConfig, run_dir: Path) -> None:
        """Called once before the first update (also when resuming)."""

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Called after every update with that update's metrics (INTERFACE.md lists them)."""

    def on_checkpoint(self, path: Path) -> None:
        """Called after a checkpoint was written."""

    def on_end(self, result: TrainResult) -> None:
        """Called once at the end, also after an interruption."""


class TrainingView:
    """What a callback may read of a training in progress; `train` hands it to ``on_attach``.

    A callback that defines ``on_attach(view)`` gets it once, before ``on_start``. The policies it
    gives share the learner's network: use them to act (evaluate, record, draw), never to train, and
    run them on worlds of your own, so that the training goes on exactly as without the callback.

    Args:
        config: The training config.
        run_dir: The run folder.
        learner: The learner (one PPO, or self-play's learners).
    """

    def __init__(self, config: TrainConfig, run_dir: Path, learner: Any, target: Any = None) -> None:
        self.config = config
        self.run_dir = run_dir
        self._learner = learner
        self._target = target

    @property
    def time_to_target(self) -> TimeToTarget | None:
        """The skill-target checks so far (``target_every_steps > 0``; resumed runs keep theirs), else None."""
        return None if self._target is None else self._target.record

    @property
    def roles(self) -> tuple[str, ...]:
        """The learning roles, in the task's order."""
        return tuple(getattr(self._learner, "roles", None) or (self._learner.role,))

    @property
    def update(self) -> int:
        """Updates completed."""
        return int(self._learner.update_index)

    @property
    def global_step(self) -> int:
        """Environment steps completed."""
        return int(self._learner.global_step)

    def policy(self, role: str | None = None) -> Any:
        """The current deterministic policy of ``role`` (default: the first learning role).

        Args:
            role: A learning role.

        Returns:
            An `aip_ml.TorchPolicy` (``act(obs)``).

        Raises:
            ConfigError: ``role`` is not a learning role of this training.
        """
        role = role or self.roles[0]
        if role not in self.roles:
            raise ConfigError(f"{role!r} is not a learning role of this training ({', '.join(self.roles)})")
        learners = getattr(self._learner, "learners", None)
        return (learners[role] if learners is not None else self._learner).policy()


class CallbackBase:
    """A callback that does nothing; override the methods you need."""

    def on_start(self, config: TrainConfig, run_dir: Path) -> None:
        """Called once before the first update."""

    def on_update(self, update: int, metrics: dict[str, float]) -> None:
        """Called after every update."""

    def on_checkpoint(self, path: Path) -> None:
        """Called after a checkpoint was written."""

    def on_end(self, result: TrainResult) -> None:
        """Called once at the end."""


@dataclass(frozen=True)
class TrainResult:
    """The outcome of `train`.

    Attributes:
        run_dir: The run folder.
        config: The config trained with.
        checkpoint: The last checkpoint written.
        policy_path: The exported policy (the first role's for duel-v1), or None when interrupted.
        updates: Updates completed.
        global_step: Environment steps completed.
        wall_seconds: Training time, summed over resumed sessions.
        steps_per_second: ``global_step / wall_seconds``.
        interrupted: Whether Ctrl-C stopped the run early.
        final_metrics: The last update's metrics.
        evaluation: The final evaluation, when ``eval_episodes > 0`` and the run finished
            (single-agent tasks; None for duel-v1).
        policy_paths: The exported policy of every learning role (``policy-<role>.aipp`` for duel-v1).
        lineage: What the run started from, from its plugins (``init_from``, ``demos.sha256``...).
        time_to_target: When the skill target was first met and kept (``target_every_steps > 0``),
            else None.
    """

    run_dir: Path
    config: TrainConfig
    checkpoint: Path
    policy_path: Path | None
    updates: int
    global_step: int
    wall_seconds: float
    steps_per_second: float
    interrupted: bool
    final_metrics: dict[str, float] = field(default_factory=dict)
    evaluation: EvalReport | None = None
    policy_paths: dict[str, Path] = field(default_factory=dict)
    lineage: dict[str, str] = field(default_factory=dict)
    time_to_target: TimeToTarget | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready values (NaN as None)."""
        return {
            "run_dir": str(self.run_dir),
            "config": self.config.to_dict(),
            "checkpoint": str(self.checkpoint),
            "policy_path": None if self.policy_path is None else str(self.policy_path),
            "updates": self.updates,
            "global_step": self.global_step,
            "wall_seconds": self.wall_seconds,
            "steps_per_second": self.steps_per_second,
            "interrupted": self.interrupted,
            "final_metrics": {k: None if math.isnan(v) else v for k, v in self.final_metrics.items()},
            "evaluation": None if self.evaluation is None else self.evaluation.to_dict(),
            "policy_paths": {k: str(v) for k, v in self.policy_paths.items()},
            "lineage": dict(self.lineage),
            "time_to_target": None if self.time_to_target is None else self.time_to_target.to_dict(),
        }


def set_threads(config: TrainConfig) -> tuple[int, int]:
    """Apply the config's thread counts; return ``(torch_threads, engine_threads)``.

    Torch gets one thread unless asked for more: the networks are small, the engine's steps alternate
    with torch's work, and OpenMP threads that spin-wait on a machine with 2 busy cores cost far more than
    they save (measured: a 1024x64 @ 64x64 layer took 80 us on 1 thread and 13 ms on 2 while the other
    core was busy). The engine gets every core (0 lets it choose); its share of the time is small.
    """
    torch_threads = config.torch_threads or 1
    if torch.get_num_threads() != torch_threads:
        torch.set_num_threads(torch_threads)
    return torch_threads, config.engine_threads


def make_worlds(task: str, num_worlds: int, *, seed: int, threads: int = 0, **kwargs: Any) -> Any:
    """Create the engine's batch (`aip_engine.Worlds`)."""
    return aip_engine.Worlds(task, num_worlds, seed=seed, threads=threads, **kwargs)


def train(
    config: TrainConfig,
    *,
    run_dir: str | os.PathLike[str],
    callbacks: Sequence[Callback] = (),
    resume: bool = False,
    plugins: Sequence[Plugin] = (),
    tracking_uri: str | None = None,
) -> TrainResult:
    """Train a policy with PPO and write its run folder.

    Args:
        config: The training config (`load_config`).
        run_dir: The run folder: ``config.toml``, ``checkpoints/``, ``policy.aipp``, ``eval.json``.
        callbacks: Objects with ``on_start``, ``on_update``, ``on_checkpoint``, ``on_end``. In a
            distributed run (`aip_ml.distributed.init` called first) each rank calls the callbacks it is
            given, ``on_checkpoint`` on rank 0 only (which writes); give tracking to rank 0 alone.
        resume: Continue the run in ``run_dir`` from its latest checkpoint.
        plugins: More training plugins (`aip_ml.Plugin`), after those the config asks for
            (``init_from``, ``demos``, ``imitate_bot``, ``[curriculum]``).
        tracking_uri: The MLflow store in which ``init_from`` model references are looked up
            (default: ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db``).

    In a distributed run every rank calls `train` with the same config; each steps ``num_worlds``
    worlds of its own, and rank 0 alone writes the run folder (``run_dir`` matters only there).

    Returns:
        The result; ``interrupted=True`` when Ctrl-C stopped it (a checkpoint was written first).

    Raises:
        RunDirError: ``run_dir`` holds a run and ``resume`` is false, or holds none and it is true.
        ConfigError: Resuming with a config that differs from the saved one (other than total_steps).
    """
    root = Path(run_dir)
    group = current_group()
    main = group is None or group.is_main
    world_size = 1 if group is None else group.world_size
    if group is None:
        state, wall_before = saved_state(config, root, resume)
    else:
        # Rank 0 alone reads the run folder (the other ranks may run on machines without it) and
        # hands the state, or the error, to every rank.
        shared: dict[str, Any] = {}
        if main:
            try:
                shared["state"], shared["wall"] = saved_state(config, root, resume)
            except (ConfigError, RunDirError, CheckpointError) as exc:
                shared["error"] = exc
        shared = group.broadcast_object(shared, "the checkpoint broadcast")
        if "error" in shared:
            raise shared["error"]
        state, wall_before = shared["state"], shared["wall"]
    saved_world = 1 if state is None else int(state.get("world_size", 1))
    if state is not None and saved_world != world_size and main:
        message = (
            f"resuming {str(root)!r} on {world_size} rank(s), saved on {saved_world}: the run continues, "
            "but not bit-identically to one that kept its world size (other worlds, another batch)"
        )
        warnings.warn(message, WorldSizeChangedWarning, stacklevel=2)
    if main:
        root.mkdir(parents=True, exist_ok=True)
        _write_text(root / "config.toml", config.to_toml())
    _, engine_threads = set_threads(config)
    if group is not None:
        engine_threads = group.engine_threads(engine_threads)  # the ranks of a machine share its cores
    backend = config.device
    if group is not None and group.backend == "nccl" and backend == "cuda":
        backend = f"cuda:{group.local_rank}"  # one GPU per rank
    worlds = make_worlds(config.task, config.num_worlds, seed=config.seed, threads=engine_threads, backend=backend)
    agents = aip_engine.task_spec(config.task).agents
    multi = len(agents) > 1
    active = [*plugins_from_config(config), *plugins]
    device = on_device(worlds)
    if multi or active:
        what = "self-play" if multi else "training plugins (" + ", ".join(p.name for p in active) + ")"
        if group is not None:
            raise ConfigError(
                f"distributed training ({world_size} ranks) runs plain PPO for now, not {what}; "
                "train such a run in one process (without --nproc)"
            )
        if device:
            raise ConfigError(
                f"device={config.device!r}: {what} run on device=cpu only for now; drop them or train on the CPU"
            )
    learner_worlds = PluggedWorlds(worlds, active) if active else worlds
    learner_class = DevicePPO if device else PPO
    ppo: Any
    if group is not None:
        from .distributed import DistributedDevicePPO, DistributedPPO

        ppo = (DistributedDevicePPO if device else DistributedPPO)(config, learner_worlds, group)
    else:
        ppo = SelfPlay(config, learner_worlds) if multi else learner_class(config, learner_worlds)
    context = PluginContext(config, worlds, root, agents[0], state is not None, ppo, tracking_uri)
    for plugin in active:
        plugin.setup(context)
    pending: dict[str, float] = {}
    rollout: dict[str, Any] | None = None
    if state is not None:
        saved_plugins = state.get("plugins", {})
        for plugin in active:
            if plugin.name in saved_plugins:
                plugin.load_state_dict(saved_plugins[plugin.name])
        ppo.load_state_dict(state)
        ranks: list[dict[str, Any]] = list(state.get("ranks") or [])
        if saved_world != world_size:
            # The batch changed: the remaining steps take another number of updates, from reseeded worlds.
            left = max(0, config.total_steps - ppo.global_step)
            ppo.total_updates = ppo.update_index + math.ceil(left / (config.batch_size * world_size))
        elif group is None:
            rollout = state.get("rollout")
        elif len(ranks) == world_size:
            ppo.generator.set_state(ranks[group.rank]["generator"])
            rollout = ranks[group.rank]["rollout"]
    else:
        if multi:
            pending.update(ppo.initialize())  # selfplay_imitate: learners cloned from bots
        for plugin in active:
            pending.update(plugin.initialize(ppo))
    lineage = read_lineage(root, active, state is None) if main else {}
    resumed_at = ppo.update_index if state is not None else -1
    target = None
    if config.target_every_steps and not multi and main:
        target = TargetCallback(config.target_every_steps, config.target_episodes)
        callbacks = [target, *callbacks]
    view = TrainingView(config, root, ppo, target)
    for cb in callbacks:
        attach = getattr(cb, "on_attach", None)
        if callable(attach):
            attach(view)
    for cb in callbacks:
        cb.on_start(config, root)
    checkpoint_path = root / "checkpoints" / "latest.ckpt"
    metrics: dict[str, float] = {}
    total_updates = int(getattr(ppo, "total_updates", config.total_updates))
    batch = config.batch_size * world_size
    start = time.perf_counter()
    interrupted = False

    def elapsed() -> float:
        return wall_before + time.perf_counter() - start

    def checkpoint(path: Path) -> None:
        """Write ``path`` (every rank calls it: rank 0 gathers the others' part and writes)."""
        learner_state = ppo.state_dict()
        if active:
            learner_state["plugins"] = {plugin.name: plugin.state_dict() for plugin in active}
        learner_state["world_size"] = world_size
        # Between two reseeds the worlds are in mid-episode: their state goes into the checkpoint, so
        # that a run resumed from it continues exactly (not from freshly reset worlds).
        reseeds_next = bool(config.checkpoint_every) and ppo.update_index % config.checkpoint_every == 0
        rollout_state = getattr(ppo, "rollout_state", None)
        mine = None
        if not reseeds_next and callable(rollout_state):
            mine = {"worlds": encode_worlds(worlds.export_state()), **rollout_state()}
        if group is None:
            if mine is not None:
                learner_state["rollout"] = mine
        else:
            parts = group.gather_objects({"generator": ppo.generator.get_state(), "rollout": mine}, "the checkpoint")
            if parts is None:
                return
            learner_state["ranks"] = parts
        save_checkpoint(path, config, learner_state, elapsed())
        for cb in callbacks:
            cb.on_checkpoint(path)

    with Interrupt(distributed=group is not None) as interrupt:
        while ppo.update_index < total_updates:
            u = ppo.update_index
            # Reseeding at checkpoint boundaries (and where a run resumes without the worlds' state)
            # makes a resumed run repeat exactly what the uninterrupted run did after that checkpoint.
            for plugin in active:
                plugin.before_update(u)
            if u == resumed_at and rollout is not None:
                worlds.import_state(decode_worlds(rollout["worlds"]))
                ppo.load_rollout_state(rollout)
            elif u == resumed_at or (config.checkpoint_every and u % config.checkpoint_every == 0) or u == 0:
                ppo.reseed(derive_seed(config.seed, u))
            metrics = ppo.update()
            metrics.setdefault("curriculum_value", float("nan"))
            metrics.update(pending)
            pending = {}
            metrics.update(
                {
                    "update": float(ppo.update_index),
                    "total_updates": float(total_updates),
                    "global_step": float(ppo.global_step),
                    "total_steps": float(total_updates * batch),
                    "progress": ppo.update_index / total_updates,
                    "time_elapsed": elapsed(),
                    "steps_per_second": batch / max(metrics["update_seconds"], 1e-9),
                }
            )
            for plugin in active:
                metrics.update(plugin.after_update(ppo.update_index, metrics))
            try:
                for cb in callbacks:
                    cb.on_update(ppo.update_index, metrics)
            except BaseException:
                if group is None:  # distributed: the others are not there to be gathered; the last one stays
                    checkpoint(checkpoint_path)
                raise
            if group is not None:
                interrupt.requested = group.any(interrupt.requested, "the interrupt all-reduce")
            if interrupt.requested:
                interrupted = True
                checkpoint(checkpoint_path)
                break
            if config.checkpoint_every and ppo.update_index % config.checkpoint_every == 0:
                checkpoint(checkpoint_path)
    wall = elapsed()
    if target is not None and not interrupted:
        target.final_check(ppo.global_step, wall)
    policy_path = None
    policy_paths: dict[str, Path] = {}
    evaluation = None
    final_path = checkpoint_path
    if not interrupted:
        final_path = root / "checkpoints" / "final.ckpt"
        checkpoint(final_path)
        if ppo.update_index % max(config.checkpoint_every, 1) != 0 or not config.checkpoint_every:
            checkpoint(checkpoint_path)
    if main and not interrupted:
        if multi:
            policy_paths = {
                role: export_policy(final_path, root / f"policy-{role}.aipp", overwrite=True, role=role)
                for role in ppo.roles
            }
            policy_path = policy_paths[ppo.roles[0]]
        else:
            policy_path = export_policy(final_path, root / "policy.aipp", overwrite=True)
            policy_paths = {ppo.role: policy_path}
        if config.eval_episodes > 0 and not multi:
            from ._evaluate import evaluate

            evaluation = evaluate(ppo.policy(), config.task, episodes=config.eval_episodes, seed=config.eval_seed)
            _write_text(root / "eval.json", json.dumps(evaluation.to_dict(), indent=2) + "\n")
    result = TrainResult(
        run_dir=root,
        config=config,
        checkpoint=final_path,
        policy_path=policy_path,
        updates=ppo.update_index,
        global_step=ppo.global_step,
        wall_seconds=wall,
        steps_per_second=ppo.global_step / max(wall, 1e-9),
        interrupted=interrupted,
        final_metrics=metrics,
        evaluation=evaluation,
        policy_paths=policy_paths,
        lineage=lineage,
        time_to_target=None if target is None else target.record,
    )
    for cb in callbacks:
        cb.on_end(result)
    return result
