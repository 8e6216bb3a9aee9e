"""Self-play against a pool of past selves: one PPO learner per role of a two-role task (duel-v1).

The batch is shared out between the learners. With ``selfplay_swap_every = 0`` both roles learn at
once: the first half of the worlds trains the first role (the player), the second half the second
role (the enemy). With ``selfplay_swap_every = S`` the roles take turns: all worlds train one role for
S updates, then the other. In a world where a role learns, the other role's slot is filled by that
learner's opponent pool (`OpponentPool`): the other role's latest policy, one of its last
``selfplay_window`` snapshots (taken every ``selfplay_snapshot_every`` updates), or a scripted bot
that the engine drives in that world. Opponents other than bots are evaluated batched: one call per
distinct opponent per step over all the worlds that face it.

The learners (`PPO`) are unchanged: each sees its slice of the batch as its own batch of worlds.
The pools, their draws and every snapshot are in the checkpoint, so ``--resume`` is exact.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

import aip_engine

from .._config import TrainConfig
from .._errors import ConfigError
from ..ppo import PPO, ActorCritic, ObsNormalizer, RunningMeanStd, TorchPolicy, derive_seed, episode_metrics
from ._imitate import duel_demonstrations, imitate_pairs
from ._pool import OpponentPool, Snapshot
from ._probe import RatingProbe
from ._view import WorldsSlice

__all__ = ["SelfPlay", "pool_bots"]


def pool_bots(config: TrainConfig, role: str) -> tuple[str, ...]:
    """The scripted bots of ``role`` named in ``selfplay_bots``.

    Raises:
        ConfigError: A name that is no bot of the task's roles.
    """
    names = [n.strip() for n in config.selfplay_bots.split(",") if n.strip()]
    roles = aip_engine.task_spec(config.task).agents
    known = {b: r for r in roles for b in aip_engine.bots(r)}
    for n in names:
        if n not in known:
            raise ConfigError(
                f"config key 'selfplay_bots': {n!r} is not a bot of {', '.join(roles)}; "
                f"bots: {', '.join(sorted(known))}"
            )
    return tuple(n for n in names if known[n] == role)


class SelfPlay:
    """PPO learners for both roles of a two-role task, each against a pool of the other's past selves.

    Args:
        config: The training config (the ``selfplay_*`` keys configure the pools).
        worlds: The engine's batch of the task, ``config.num_worlds`` worlds.

    Raises:
        ConfigError: The task has not two learning roles, the batch does not split into learner
            batches that ``minibatch_size`` divides, or a pool bot is unknown.
    """

    def __init__(self, config: TrainConfig, worlds: Any) -> None:
        roles = aip_engine.task_spec(config.task).agents
        if len(roles) != 2:
            raise ConfigError(f"self-play needs a task with two learning roles; {config.task!r} has {len(roles)}")
        self.config = config
        self.worlds = worlds
        self.roles: tuple[str, str] = (roles[0], roles[1])
        self.turns = config.selfplay_swap_every > 0
        n, t = config.num_worlds, config.rollout_steps
        per_role = n if self.turns else n // 2
        if per_role < 1 or (not self.turns and n % 2) or (per_role * t) % config.minibatch_size:
            raise ConfigError(
                f"config key 'minibatch_size' = {config.minibatch_size}: with roles learning "
                f"{'in turns' if self.turns else 'at the same time'} each learner has {per_role} of the "
                f"{n} worlds, {per_role * t} samples per update, which minibatch_size must divide "
                "(use an even num_worlds and a minibatch_size that divides num_worlds * rollout_steps / 2)"
            )
        spans = dict.fromkeys(roles, (0, n)) if self.turns else {roles[0]: (0, n // 2), roles[1]: (n // 2, n)}
        self.views = {r: WorldsSlice(worlds, *spans[r]) for r in roles}
        learner_config = config.replace(num_worlds=per_role, total_steps=config.total_updates * per_role * t)
        self.learners = {
            r: PPO(learner_config, self.views[r], role=r, seed_offset=1000 * i) for i, r in enumerate(roles)
        }
        other = {roles[0]: roles[1], roles[1]: roles[0]}
        self.other = other
        # pools[r]: the opponents of role r's learner (members of the other role).
        self.pools = {
            r: OpponentPool(
                other[r],
                per_role,
                window=config.selfplay_window,
                latest_ratio=config.selfplay_latest_ratio,
                bots=pool_bots(config, other[r]),
                seed=config.seed + 7919 * (i + 1),
            )
            for i, r in enumerate(roles)
        }
        self.imitate = imitate_pairs(config)
        self.probe = RatingProbe(config) if config.selfplay_rating_every > 0 else None
        self._actions = {r: np.zeros((n, aip_engine.role_layout(r).act_size), np.float32) for r in roles}
        self.update_index = 0
        self._reseeded_at = -1

    def initialize(self) -> dict[str, float]:
        """Clone the learners that ``selfplay_imitate`` names from their bots (a new run, before PPO).

        Returns:
            The cloning's metrics per role (``"enemy/bc/loss"``, ...).
        """
        from ..imitation._bc import clone

        cfg = self.config
        metrics: dict[str, float] = {}
        for i, (role, bot) in enumerate(self.imitate):
            other = self.other[role]
            opponents = pool_bots(cfg, other) or tuple(aip_engine.task_spec(cfg.task).reference_bots.get(other, ()))
            data = duel_demonstrations(
                cfg.task,
                role,
                bot,
                opponents,
                cfg.imitate_samples,
                num_worlds=cfg.num_worlds,
                seed=derive_seed(cfg.seed, 104729 + i),
                threads=cfg.engine_threads,
            )
            done = clone(self.learners[role], data, epochs=cfg.imitate_epochs, holdout=cfg.bc_holdout, seed=cfg.seed)
            metrics.update({f"{role}/{k}": v for k, v in done.items()})
        return metrics

    # --- what train() reads ---------------------------------------------------------------------

    @property
    def global_step(self) -> int:
        """World-steps completed (each world-step moves both roles once)."""
        return self.update_index * self.config.batch_size

    def learning_roles(self, update: int | None = None) -> tuple[str, ...]:
        """The roles that learn in ``update`` (default: the next one)."""
        u = self.update_index if update is None else update
        if not self.turns:
            return self.roles
        return (self.roles[(u // self.config.selfplay_swap_every) % 2],)

    def policy(self, role: str) -> TorchPolicy:
        """The current deterministic policy of a role."""
        return self.learners[role].policy()

    # --- episodes and opponents -----------------------------------------------------------------

    def _write_drivers(self) -> None:
        """Put each world's next scripted opponent into the engine's driver parameters."""
        params = self.worlds.params
        if self.turns:
            learner = self.learning_roles()[0]
            params[f"{self.other[learner]}_driver"][:] = self.pools[learner].drivers()
            params[f"{learner}_driver"][:] = 0
            return
        for r in self.roles:
            o = self.other[r]
            self.views[r].cut(params[f"{o}_driver"])[:] = self.pools[r].drivers()
            self.views[r].cut(params[f"{r}_driver"])[:] = 0

    def reseed(self, seed: int) -> None:
        """Reset every world from ``seed``; the worlds face the opponents drawn for them."""
        self._reseeded_at = self.update_index
        self._write_drivers()
        obs = self.worlds.reset(seed=seed)
        for r in self.roles:
            self.pools[r].start_all()
            self.learners[r].start_episodes(self.views[r].cut(obs))
        self._write_drivers()

    @torch.no_grad()
    def _fill_opponents(self, role: str, latest: TorchPolicy) -> None:
        """Write the actions of role ``role``'s opponents into the other role's action array."""
        o = self.other[role]
        view = self.views[role]
        obs = view.cut(self.worlds.observations(o))
        out = view.cut(self._actions[o])
        pool = self.pools[role]
        idx = pool.latest_worlds()
        if idx.size:
            out[idx] = latest.act(obs[idx])
        idx = pool.snapshot_worlds()
        if idx.size:
            # Every snapshot in one batched pass (measured 4.6x faster than a call per snapshot for 10).
            out[idx] = pool.snapshot_actions(obs[idx], pool.current[idx])

    # --- one update -----------------------------------------------------------------------------

    def update(self) -> dict[str, float]:
        """Collect one rollout and let each learning role learn.

        Returns:
            Each learner's metrics prefixed with its role (``"enemy/success_rate"``), the first
            role's metrics also without the prefix, and the pools' sizes.
        """
        start = time.perf_counter()
        cfg = self.config
        u = self.update_index
        if self.turns and u % cfg.selfplay_swap_every == 0 and self._reseeded_at != u:
            # The roles swap: episodes start afresh, so that no world keeps an opponent of the other turn.
            self.reseed(derive_seed(cfg.seed, u))
        learning = self.learning_roles()
        latest = {r: self.learners[r].policy() for r in self.roles}
        for r in learning:
            self.learners[r].begin_rollout()
        for t in range(cfg.rollout_steps):
            for r in learning:
                self.views[r].cut(self._actions[r])[:] = self.learners[r].act(t)
                self._fill_opponents(r, latest[self.other[r]])
            result = self.worlds.step(self._actions)
            done = np.flatnonzero(result.terminated | result.truncated)
            for r in learning:
                self.learners[r].record(t, self.views[r].result(result))
            if done.size:
                for r in learning:
                    view = self.views[r]
                    mine = done[(done >= view.lo) & (done < view.hi)] - view.lo
                    self.pools[r].start(mine)
                self._write_drivers()
        metrics: dict[str, float] = {}
        for r in self.roles:
            if r in learning:
                role_metrics = episode_metrics(self.learners[r].end_rollout())
                role_metrics.update(self.learners[r].learn())
            else:
                role_metrics = {}
            role_metrics["pool_size"] = float(len(self.pools[r].members()))
            metrics.update({f"{r}/{k}": v for k, v in role_metrics.items()})
            if r == self.roles[0] and r in learning:
                metrics.update({k: v for k, v in role_metrics.items() if k != "pool_size"})
        if self.roles[0] not in learning:
            first = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith(f"{learning[0]}/")}
            metrics.update({k: v for k, v in first.items() if k != "pool_size"})
        self.update_index += 1
        if self.update_index % cfg.selfplay_snapshot_every == 0:
            for r in learning:
                self._snapshot(r)
        for r in self.roles:
            self.pools[r].prune()
        if self.probe is not None and self.update_index % cfg.selfplay_rating_every == 0:
            metrics.update(self.probe.rate(self, self.update_index))
        metrics["update_seconds"] = time.perf_counter() - start
        return metrics

    def _snapshot(self, role: str) -> None:
        """Add role's current policy, frozen, to the pool of the other role's learner."""
        learner = self.learners[role]
        state = {
            "role": role,
            "model": {k: v.detach().clone() for k, v in learner.model.state_dict().items()},
            "obs_rms": learner.obs_rms.state_dict(),
        }
        self.pools[self.other[role]].add(Snapshot(self.update_index, self._rebuild(state), state))

    def _rebuild(self, state: dict[str, Any]) -> TorchPolicy:
        cfg = self.config
        layout = aip_engine.role_layout(state["role"])
        model = ActorCritic(layout.obs_size, layout.act_size, cfg.hidden_sizes, cfg.activation, cfg.log_std_init)
        model.load_state_dict(state["model"])
        model.eval()
        rms = RunningMeanStd((layout.obs_size,))
        rms.load_state_dict(state["obs_rms"])
        normalizer = ObsNormalizer(rms if cfg.obs_norm else None, layout.obs_size, cfg.obs_clip)
        return TorchPolicy(model, normalizer, layout, cfg.task)

    # --- checkpoints ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Every learner's state, the pools (snapshots and draws) and the rating probe's table."""
        return {
            "learners": {r: learner.state_dict() for r, learner in self.learners.items()},
            "pools": {r: pool.state_dict() for r, pool in self.pools.items()},
            "probe": self.probe.state_dict() if self.probe is not None else None,
            "update_index": self.update_index,
            "global_step": self.global_step,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` returned."""
        for r, learner in self.learners.items():
            learner.load_state_dict(state["learners"][r])
        for r, pool in self.pools.items():
            pool.load_state_dict(state["pools"][r], self._rebuild)
        if self.probe is not None and state.get("probe") is not None:
            self.probe.load_state_dict(state["probe"])
        self.update_index = int(state["update_index"])
