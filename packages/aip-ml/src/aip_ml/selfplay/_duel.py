"""duel-v1 measured against the scripted bots: the learned player and the learned enemy, side by side.

The learned player plays each scripted enemy bot (survival rate, hits per episode, score), and so does
every scripted player bot, on the same seeds; the learned enemy plays each scripted player bot (catch
rate, frames to catch), and so does every scripted enemy bot. An episode ends at a hit, a catch or
the time limit; the player survives it unless caught. The score is the game's: 100 per hit and 1
per full second survived.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import aip_engine

from .._errors import ConfigError
from ._matches import check_layout

__all__ = ["DuelReport", "DuelResult", "evaluate_duel"]

_TASK = "duel-v1"
_FPS = 60


@dataclass(frozen=True)
class DuelResult:
    """One player controller against one enemy controller.

    Attributes:
        player: The player's name (``"policy"`` or a bot).
        enemy: The enemy's name.
        episodes: Episodes played.
        survival_rate: Episodes the player was not caught in.
        hits_per_episode: Hits on the enemy per episode.
        score: Mean game score of the player.
        catch_rate: Episodes the enemy caught the player in.
        frames_to_catch: Mean frames of the caught episodes (NaN when none).
    """

    player: str
    enemy: str
    episodes: int
    survival_rate: float
    hits_per_episode: float
    score: float
    catch_rate: float
    frames_to_catch: float

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON values (NaN as None)."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class DuelReport:
    """The duel-v1 evaluation.

    Attributes:
        episodes: Episodes per pair.
        seed: The seed of every pair's episodes.
        player_side: Player controllers (the learned one first, as ``"policy"``) against each enemy bot.
        enemy_side: Enemy controllers (the learned one first) against each player bot.
    """

    episodes: int
    seed: int
    player_side: list[DuelResult] = field(default_factory=list)
    enemy_side: list[DuelResult] = field(default_factory=list)

    def survival(self) -> dict[str, float]:
        """Each player controller's survival rate, averaged over the enemy bots."""
        return _mean_by(self.player_side, "player", "survival_rate")

    def catches(self) -> dict[str, float]:
        """Each enemy controller's catch rate, averaged over the player bots."""
        return _mean_by(self.enemy_side, "enemy", "catch_rate")

    def targets(self) -> dict[str, bool]:
        """Whether the learned side beats every scripted bot of its role.

        ``player_beats_player_bots``: the learned player survives more often than every player bot;
        ``enemy_beats_enemy_bots``: the learned enemy catches more often than every enemy bot (each
        rate averaged over the scripted bots of the opposite role).
        """
        out: dict[str, bool] = {}
        for key, rates in (("player_beats_player_bots", self.survival()), ("enemy_beats_enemy_bots", self.catches())):
            if "policy" in rates:
                out[key] = all(rates["policy"] > v for k, v in rates.items() if k != "policy")
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON values."""
        return {
            "task": _TASK,
            "episodes": self.episodes,
            "seed": self.seed,
            "player_side": [r.to_dict() for r in self.player_side],
            "enemy_side": [r.to_dict() for r in self.enemy_side],
            "survival": self.survival(),
            "catches": self.catches(),
            "targets": self.targets(),
        }


def _mean_by(rows: Sequence[DuelResult], key: str, value: str) -> dict[str, float]:
    names: dict[str, list[float]] = {}
    for r in rows:
        names.setdefault(getattr(r, key), []).append(getattr(r, value))
    return {k: float(np.mean(v)) for k, v in names.items()}


def _load(policy: Any, role: str) -> Any:
    if policy is None:
        return None
    if isinstance(policy, (str, bytes)) or hasattr(policy, "__fspath__"):
        loaded = aip_engine.load_policy(policy)
        check_layout(str(policy), loaded, role)
        return loaded
    check_layout(repr(policy), policy, role)
    return policy


def duel_episodes(
    player: str | Any, enemy: str | Any, *, episodes: int, seed: int, threads: int = 0
) -> dict[str, np.ndarray]:
    """Play ``episodes`` duel-v1 episodes; each side is a bot's name or a policy (``act(obs)``).

    Returns:
        Per episode: ``caught`` and ``hit`` (bool) and ``frames`` (int).
    """
    controllers = {}
    actors: dict[str, Any] = {}
    for role, side in (("player", player), ("enemy", enemy)):
        if isinstance(side, str):
            controllers[role] = side
        else:
            controllers[role] = "agent"
            actors[role] = side
    worlds = aip_engine.Worlds(_TASK, episodes, seed=seed, controllers=controllers, threads=threads)
    obs: Any = worlds.reset(seed=seed)
    finished = np.zeros(episodes, bool)
    caught = np.zeros(episodes, bool)
    hit = np.zeros(episodes, bool)
    frames = np.zeros(episodes, np.int64)
    for _ in range(worlds.time_limit + 1):
        acts = {
            r: np.ascontiguousarray(a.act(np.asarray(obs[r] if isinstance(obs, dict) else obs)), np.float32)
            for r, a in actors.items()
        }
        if not acts:
            result = worlds.step(None)
        elif len(acts) == 1:
            result = worlds.step(next(iter(acts.values())))
        else:
            result = worlds.step(acts)
        obs = result.obs
        new = (result.terminated | result.truncated) & ~finished
        if new.any():
            caught[new] = worlds.success_of("enemy")[new]
            hit[new] = worlds.success_of("player")[new]
            frames[new] = worlds.episode_frames[new]
            finished |= new
            if finished.all():
                break
    return {"caught": caught, "hit": hit, "frames": frames}


def _result(player: str, enemy: str, ep: Mapping[str, np.ndarray]) -> DuelResult:
    caught, hit, frames = ep["caught"], ep["hit"], ep["frames"]
    score = 100.0 * hit + np.floor(frames / _FPS)
    return DuelResult(
        player=player,
        enemy=enemy,
        episodes=int(caught.size),
        survival_rate=float(1.0 - caught.mean()),
        hits_per_episode=float(hit.mean()),
        score=float(score.mean()),
        catch_rate=float(caught.mean()),
        frames_to_catch=float(frames[caught].mean()) if caught.any() else math.nan,
    )


def evaluate_duel(
    player: Any = None,
    enemy: Any = None,
    *,
    episodes: int = 200,
    seed: int = 12345,
    player_bots: Sequence[str] | None = None,
    enemy_bots: Sequence[str] | None = None,
    threads: int = 0,
) -> DuelReport:
    """Evaluate duel-v1 policies against the scripted bots of the other role, beside the bots of theirs.

    Args:
        player: The learned player (a ``.aipp`` path or a policy object), or None.
        enemy: The learned enemy, or None.
        episodes: Episodes per pair (one per world).
        seed: The seed of every pair's episodes.
        player_bots: The scripted player bots (default: the task's reference bots of the role).
        enemy_bots: The scripted enemy bots (default: the task's reference bots of the role).
        threads: Engine threads (0: every core).

    Returns:
        The report.

    Raises:
        ConfigError: A bad count, an unknown bot, or a policy of another role's layout.
    """
    if episodes < 1:
        raise ConfigError(f"episodes must be at least 1, got {episodes}")
    spec = aip_engine.task_spec(_TASK)
    pbots = list(player_bots if player_bots is not None else spec.reference_bots["player"])
    ebots = list(enemy_bots if enemy_bots is not None else spec.reference_bots["enemy"])
    for role, names in (("player", pbots), ("enemy", ebots)):
        for name in names:
            if name not in aip_engine.bots(role):
                raise ConfigError(f"{name!r} is none of the {role} bots: {', '.join(aip_engine.bots(role))}")
    p_actor, e_actor = _load(player, "player"), _load(enemy, "enemy")
    report = DuelReport(episodes=episodes, seed=seed)
    players: list[tuple[str, Any]] = ([("policy", p_actor)] if p_actor is not None else []) + [(b, b) for b in pbots]
    enemies: list[tuple[str, Any]] = ([("policy", e_actor)] if e_actor is not None else []) + [(b, b) for b in ebots]
    cache: dict[tuple[str, str], dict[str, np.ndarray]] = {}

    def pair(pn: str, p: Any, en: str, e: Any) -> dict[str, np.ndarray]:
        if (pn, en) not in cache:
            cache[(pn, en)] = duel_episodes(p, e, episodes=episodes, seed=seed, threads=threads)
        return cache[(pn, en)]

    for pn, p in players:
        for eb in ebots:
            report.player_side.append(_result(pn, eb, pair(pn, p, eb, eb)))
    for en, e in enemies:
        for pb in pbots:
            report.enemy_side.append(_result(pb, en, pair(pb, pb, en, e)))
    return report
