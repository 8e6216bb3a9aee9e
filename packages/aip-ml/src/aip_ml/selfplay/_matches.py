"""Matches between entrants: episodes on fixed seeds between two controllers of a task's slots.

An entrant is a learned policy (a registered model version, a policy file or a policy object) or a
scripted bot; a single-agent task's fixed opponent is an entrant too, so that every policy of every
task gets a rating. Each pair plays the same episodes: one batch of worlds reset with the league's
seed, one episode per world, until each world's first episode ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import aip_engine

from .._errors import ConfigError
from ._ratings import Match

__all__ = [
    "Entrant",
    "bot_entrants",
    "check_layout",
    "match_sides",
    "opponent_entrant",
    "pairs_of",
    "play_pair",
    "play_pairs",
]

BOT_PREFIX = "bot:"
OPPONENT_PREFIX = "opponent:"


@dataclass(frozen=True)
class Entrant:
    """One controller of a task's slot in a league.

    Attributes:
        id: How the league names it: ``NAME/VERSION`` for a registered model, ``bot:NAME`` for a
            scripted bot, ``opponent:TASK`` for a single-agent task's fixed opponent, or any other
            name for a policy given directly.
        role: The role it plays.
        kind: ``"model"``, ``"policy"``, ``"bot"`` or ``"opponent"``.
        source: A policy file (models and policies given by path).
        actor: A loaded policy (an object with ``act(obs)``); loaded from `source` when None.
    """

    id: str
    role: str
    kind: str
    source: str | None = None
    actor: Any = field(default=None, compare=False, hash=False, repr=False)

    @property
    def bot(self) -> str | None:
        """The scripted bot's name, for a bot entrant."""
        return self.id[len(BOT_PREFIX) :] if self.kind == "bot" else None

    def load(self) -> Any:
        """The entrant's policy (None for bots and fixed opponents).

        Raises:
            ConfigError: The policy's role layout does not fit the entrant's role.
        """
        if self.kind in ("bot", "opponent"):
            return None
        actor = self.actor
        if actor is None:
            if self.source is None:
                raise ConfigError(f"entrant {self.id!r} has neither a policy file nor a loaded policy")
            actor = aip_engine.load_policy(self.source)
        check_layout(self.id, actor, self.role)
        return actor


def check_layout(name: str, actor: Any, role: str) -> None:
    """Refuse a policy whose role layout is not the layout of ``role``, naming both.

    Raises:
        ConfigError: The layouts differ.
    """
    layout = getattr(actor, "layout", None)
    want = aip_engine.role_layout(role)
    if layout is None:
        return
    if layout.role != role or layout.name != want.name:
        raise ConfigError(
            f"{name!r} is a policy of layout {layout.name!r} (role {layout.role!r}); the {role!r} slot takes "
            f"layout {want.name!r}: choose a {role} policy trained for this layout"
        )


def bot_entrants(role: str) -> list[Entrant]:
    """Every scripted bot of a role as an entrant."""
    return [Entrant(f"{BOT_PREFIX}{name}", role, "bot") for name in aip_engine.bots(role)]


def opponent_entrant(task: str) -> Entrant:
    """A single-agent task's fixed opponent (its controllers of the other roles) as an entrant."""
    spec = aip_engine.task_spec(task)
    others = [r for r in ("player", "enemy", "missile") if r not in spec.agents]
    return Entrant(f"{OPPONENT_PREFIX}{task}", others[0], "opponent")


def match_sides(task: str) -> tuple[str, str | None]:
    """The roles of a task's two sides: ``(first, second)``; second is None for a fixed opponent.

    Raises:
        ConfigError: A task without a time limit or with no learning role.
    """
    spec = aip_engine.task_spec(task)
    if spec.time_limit <= 0 or not spec.agents:
        raise ConfigError(f"{task!r} cannot host matches: its episodes never end by rule")
    if len(spec.agents) == 2:
        return spec.agents[0], spec.agents[1]
    return spec.agents[0], None


def play_pair(
    task: str,
    first: Entrant,
    second: Entrant,
    *,
    episodes: int,
    seed: int,
    round_index: int = 0,
    threads: int = 0,
    actors: Mapping[str, Any] | None = None,
) -> list[Match]:
    """Play ``episodes`` episodes of ``first`` against ``second`` on the seeds of ``seed``.

    In a two-role task (duel-v1) the first side is the player: it wins an episode it survives (by
    hitting the enemy or reaching the time limit) and loses it when caught. In a single-agent task
    the first side is the agent, the second the task's fixed opponent: the agent wins an episode it
    ends in success.

    Args:
        task: The task.
        first: The first side's entrant.
        second: The second side's entrant (`opponent_entrant` for a single-agent task).
        episodes: Episodes (one per world).
        seed: The seed of the worlds; every pair played with it sees the same episodes.
        round_index: Written into the matches.
        threads: Engine threads (0: every core).
        actors: Already loaded policies by entrant id (so a league loads each file once).

    Returns:
        One match per episode, in episode order.
    """
    first_role, second_role = match_sides(task)
    controllers: dict[str, str] = {}
    policies: dict[str, Any] = {}
    for entrant, role in ((first, first_role), (second, second_role)):
        if role is None:
            continue
        if entrant.role != role:
            raise ConfigError(f"entrant {entrant.id!r} plays the {entrant.role!r} role, not the {role!r} slot")
        if entrant.kind == "bot":
            controllers[role] = str(entrant.bot)
        else:
            controllers[role] = "agent"
            policies[role] = (actors or {}).get(entrant.id) or entrant.load()
    worlds = aip_engine.Worlds(task, episodes, seed=seed, controllers=controllers, threads=threads)
    obs: Any = worlds.reset(seed=seed)
    finished = np.zeros(episodes, bool)
    won = np.zeros(episodes, bool)
    frames = np.zeros(episodes, np.int64)
    agents = worlds.agents
    for _ in range(worlds.time_limit + 1):
        acts: dict[str, Any] = {}
        for role in agents:
            o = obs[role] if isinstance(obs, dict) else obs
            acts[role] = np.ascontiguousarray(policies[role].act(np.asarray(o)), dtype=np.float32)
        if not agents:
            result = worlds.step(None)
        elif len(agents) == 1:
            result = worlds.step(acts[agents[0]])
        else:
            result = worlds.step(acts)
        obs = result.obs
        new = (result.terminated | result.truncated) & ~finished
        if new.any():
            if second_role is not None:  # the player survives unless caught
                won[new] = ~worlds.success_of(second_role)[new]
            else:
                won[new] = worlds.success_of(first_role)[new]
            frames[new] = worlds.episode_frames[new]
            finished |= new
            if finished.all():
                break
    return [
        Match(first.id, second.id, seed, e, 1.0 if won[e] else 0.0, int(frames[e]), round_index)
        for e in range(episodes)
    ]


ProgressFn = Callable[[int, int], None]


def pairs_of(task: str, entrants: Sequence[Entrant], played: set[tuple[str, str]]) -> list[tuple[Entrant, Entrant]]:
    """The pairs of ``entrants`` that the league has not played yet, in a fixed order."""
    first_role, second_role = match_sides(task)
    firsts = sorted((e for e in entrants if e.role == first_role and e.kind != "opponent"), key=lambda e: e.id)
    if second_role is None:
        seconds = [opponent_entrant(task)]
    else:
        seconds = sorted((e for e in entrants if e.role == second_role), key=lambda e: e.id)
    return [(a, b) for a in firsts for b in seconds if (a.id, b.id) not in played]


def play_pairs(
    task: str,
    pairs: Sequence[tuple[Entrant, Entrant]],
    *,
    episodes: int,
    seed: int,
    round_index: int = 0,
    threads: int = 0,
    actors: Mapping[str, Any] | None = None,
) -> list[list[Match]]:
    """Play many pairs in one batch of worlds: faster than `play_pair` one by one, other seeds per pair.

    Pair p's episodes are worlds ``[p * episodes, (p + 1) * episodes)``: their episodes differ from
    pair to pair (the seeds are ``(seed, world)``), which suits a quick rating during training. Bots
    drive their slot world by world (the engine's ``*_driver`` parameters); every distinct policy
    acts once per step for all the worlds it plays in. Tasks whose agent is the missile fall back to
    `play_pair` for each pair.

    Returns:
        The matches of each pair, in the order of ``pairs``.
    """
    first_role, second_role = match_sides(task)
    if first_role not in ("player", "enemy") or not pairs:
        return [
            play_pair(task, a, b, episodes=episodes, seed=seed, round_index=round_index, threads=threads, actors=actors)
            for a, b in pairs
        ]
    n = len(pairs) * episodes
    worlds = aip_engine.Worlds(task, n, seed=seed, threads=threads)
    sides = [(first_role, 0)] + ([(second_role, 1)] if second_role is not None else [])
    groups: dict[str, dict[str, list[int]]] = {role: {} for role, _ in sides}
    loaded: dict[str, Any] = dict(actors or {})
    for p, pair in enumerate(pairs):
        for role, k in sides:
            entrant = pair[k]
            if entrant.role != role:
                raise ConfigError(f"entrant {entrant.id!r} plays the {entrant.role!r} role, not the {role!r} slot")
            block = slice(p * episodes, (p + 1) * episodes)
            if entrant.kind == "bot":
                worlds.params[f"{role}_driver"][block] = 1 + aip_engine.bots(role).index(str(entrant.bot))
            else:
                if entrant.id not in loaded:
                    loaded[entrant.id] = entrant.load()
                groups[role].setdefault(entrant.id, []).extend(range(p * episodes, (p + 1) * episodes))
    index = {role: {k: np.asarray(v) for k, v in g.items()} for role, g in groups.items()}
    actions = {role: np.zeros((n, aip_engine.role_layout(role).act_size), np.float32) for role in worlds.agents}
    worlds.reset(seed=seed)
    finished = np.zeros(n, bool)
    won = np.zeros(n, bool)
    frames = np.zeros(n, np.int64)
    for _ in range(worlds.time_limit + 1):
        for role, g in index.items():
            obs = worlds.observations(role)
            for entrant_id, idx in g.items():
                live = idx[~finished[idx]]
                if live.size:
                    actions[role][live] = loaded[entrant_id].act(obs[live])
        result = worlds.step(actions if len(actions) > 1 else actions[worlds.agents[0]])
        new = (result.terminated | result.truncated) & ~finished
        if new.any():
            if second_role is not None:
                won[new] = ~worlds.success_of(second_role)[new]
            else:
                won[new] = worlds.success_of(first_role)[new]
            frames[new] = worlds.episode_frames[new]
            finished |= new
            if finished.all():
                break
    return [
        [
            Match(
                a.id, b.id, seed, e, 1.0 if won[p * episodes + e] else 0.0, int(frames[p * episodes + e]), round_index
            )
            for e in range(episodes)
        ]
        for p, (a, b) in enumerate(pairs)
    ]
