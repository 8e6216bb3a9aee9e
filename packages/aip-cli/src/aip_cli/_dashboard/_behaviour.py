"""Pictures of what a policy does: where it goes, where it succeeds and fails, and its action field.

For a registered version (or a scripted bot) of a role, on the version's task:

- occupancy: the agent's positions over ``episodes`` evaluation episodes, as a grid of counts (and the
  same for its opponent);
- events: where each catch, hit and expiry happened (success or failure for the agent);
- action field: the agent held at the arena's centre and its opponent placed at every point of a grid
  around it, at rest and with no missile in flight; the arrow at a point is the move the agent makes
  when its opponent stands there (for the missile role: the heading it turns to). Built with the
  engine's ``set_state`` and ``observations``, so the observations are exactly what training saw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

import aip_engine

__all__ = ["CELL", "FIELD_STEP", "behaviour"]

#: Occupancy cell size, arena pixels.
CELL = 20
#: Spacing of the action field's grid, arena pixels.
FIELD_STEP = 48
_ENTITY = {"enemy": "enemy_pos", "player": "player_pos", "missile": "missile_pos"}
_OPPONENT = {"enemy": "player_pos", "player": "enemy_pos", "missile": "enemy_pos"}

Actor = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


def _positions(st: dict[str, Any], name: str) -> npt.NDArray[np.float64]:
    value = np.asarray(st[name], dtype=np.float64)
    return value[:, 0, :] if value.ndim == 3 else value  # a missile: its first slot


def _episodes(task: str, role: str, act: Actor | None, bot: str | None, episodes: int, seed: int) -> dict[str, Any]:
    spec = aip_engine.task_spec(task)
    controllers = {role: bot} if bot is not None else None
    worlds = aip_engine.Worlds(task, episodes, seed=seed, threads=1, auto_reset=False, controllers=controllers)
    obs = worlds.reset(seed=seed)
    w, h = worlds.config.arena_width, worlds.config.arena_height
    shape = (int(np.ceil(h / CELL)), int(np.ceil(w / CELL)))
    mine = np.zeros(shape, np.int64)
    theirs = np.zeros(shape, np.int64)
    points: list[list[float | str]] = []
    done = np.zeros(episodes, bool)
    success = np.zeros(episodes, bool)
    names = aip_engine.EVENTS

    def count(grid: npt.NDArray[np.int64], xy: npt.NDArray[np.float64], alive: npt.NDArray[np.bool_]) -> None:
        cols = np.clip((xy[alive, 0] // CELL).astype(int), 0, shape[1] - 1)
        rows = np.clip((xy[alive, 1] // CELL).astype(int), 0, shape[0] - 1)
        np.add.at(grid, (rows, cols), 1)

    for _ in range((worlds.time_limit or 3600) + 1):
        live = ~done
        st = worlds.state()
        count(mine, _positions(st, _ENTITY[role]), live & _alive(st, role))
        count(theirs, _positions(st, _OPPONENT[role]), live)
        result = worlds.step(None if act is None else np.ascontiguousarray(act(np.asarray(obs)), np.float32))
        obs = result.obs
        st = worlds.state()
        events = np.asarray(worlds.events)
        for i in np.flatnonzero(live & events.any(axis=1)):
            for e, name in enumerate(names):
                if events[i, e] and name in ("catch", "hit", "expire"):
                    where = st["player_pos"][i] if name == "catch" else st["enemy_pos"][i]
                    if name == "expire":
                        where = st["missile_pos"][i, 0]
                    points.append([round(float(where[0]), 1), round(float(where[1]), 1), name])
        ended = (np.asarray(result.terminated) | np.asarray(result.truncated)) & ~done
        success[ended] = np.asarray(worlds.success_of(role))[ended]
        done |= ended
        if done.all():
            break
    return {
        "cell": CELL,
        "occupancy": mine.tolist(),
        "opponent_occupancy": theirs.tolist(),
        "events": points,
        "success_rate": float(success.mean()),
        "success_event": spec.success,
    }


def _alive(st: dict[str, Any], role: str) -> npt.NDArray[np.bool_]:
    if role == "enemy":
        return np.asarray(st["enemy_active"], bool)
    if role == "missile":
        return np.asarray(st["missile_alive"], bool)[:, 0]
    return np.ones(np.asarray(st["player_pos"]).shape[0], bool)


def _field(task: str, role: str, act: Actor | None, bot: str | None) -> dict[str, Any]:
    config = aip_engine.task_spec(task).config
    w, h = config.arena_width, config.arena_height
    xs = np.arange(FIELD_STEP / 2, w, FIELD_STEP)
    ys = np.arange(FIELD_STEP / 2, h, FIELD_STEP)
    gx, gy = np.meshgrid(xs, ys)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)
    n = points.shape[0]
    controllers = {role: bot} if bot is not None else None
    worlds = aip_engine.Worlds(task, n, seed=0, threads=1, controllers=controllers)
    worlds.reset(seed=0)
    centre = np.array([w / 2, h / 2])
    me, them = _ENTITY[role], _OPPONENT[role]
    worlds.set_state("missile_alive", np.zeros_like(np.asarray(worlds.state()["missile_alive"])))
    worlds.set_state("player_vel", 0.0)
    worlds.set_state("enemy_vel", 0.0)
    worlds.set_state("enemy_active", True)
    worlds.set_state("enemy_fade", 10_000)
    if role == "missile":
        pos = np.asarray(worlds.state()["missile_pos"]).copy()
        pos[:, 0, :] = centre
        alive = np.zeros_like(np.asarray(worlds.state()["missile_alive"]))
        alive[:, 0] = True
        heading = np.zeros_like(np.asarray(worlds.state()["missile_heading"]))
        heading[:, 0, 0] = 1.0
        worlds.set_state("missile_pos", pos)
        worlds.set_state("missile_alive", alive)
        worlds.set_state("missile_heading", heading)
        worlds.set_state("missile_life", 600)
    else:
        worlds.set_state(me, np.broadcast_to(centre, (n, 2)))
    worlds.set_state(them, points)
    before = _positions(worlds.state(), me).copy()
    actions = None if act is None else np.asarray(act(np.asarray(worlds.observations(role))), np.float32)
    if role == "missile":
        turn = actions[:, 0] if actions is not None else _bot_turn(worlds)
        angle = np.deg2rad(config.missile_max_turn_deg) * np.clip(turn, -1, 1)
        moves = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    elif actions is not None:
        moves = actions[:, :2].astype(np.float64)
        norm = np.maximum(1.0, np.linalg.norm(moves, axis=1, keepdims=True))
        moves = moves / norm  # the engine clips moves to the unit disc
    else:
        worlds.step(None)
        after = _positions(worlds.state(), me)
        delta = after - before
        half = np.array([w / 2, h / 2])
        delta = (delta + half) % (2 * half) - half  # shortest displacement under wrap
        speed = config.enemy_speed if role == "enemy" else config.player_speed
        moves = delta / max(speed, 1e-9)
    caught = np.linalg.norm(points - centre, axis=1) < (config.player_radius + config.enemy_radius)
    return {
        "step": FIELD_STEP,
        "centre": centre.tolist(),
        "points": np.round(points, 1).tolist(),
        "moves": np.round(moves, 3).tolist(),
        "contact": caught.tolist(),
    }


def _bot_turn(worlds: Any) -> npt.NDArray[np.float64]:
    before = np.asarray(worlds.state()["missile_heading"])[:, 0, :].copy()
    worlds.step(None)
    after = np.asarray(worlds.state()["missile_heading"])[:, 0, :]
    angle = np.arctan2(after[:, 1], after[:, 0]) - np.arctan2(before[:, 1], before[:, 0])
    limit = np.deg2rad(worlds.config.missile_max_turn_deg)
    return np.clip(angle / max(limit, 1e-9), -1, 1)  # type: ignore[no-any-return]


def behaviour(
    task: str, role: str, *, policy: Any | None = None, bot: str | None = None, episodes: int = 64, seed: int = 12345
) -> dict[str, Any]:
    """Occupancy, events and action field of a policy (or a scripted bot) in ``role`` on ``task``.

    Args:
        task: The task (its agent role must be ``role``).
        role: ``enemy``, ``player`` or ``missile``.
        policy: An object with ``act(obs)`` (an exported policy), or ``None`` with ``bot``.
        bot: A scripted bot of ``role``, when no policy is given.
        episodes: Evaluation episodes for the occupancy and the events.
        seed: Their seed.

    Returns:
        ``task``, ``role``, ``arena``, ``radius``, ``occupancy`` (rows of counts, cell ``cell`` px),
        ``opponent_occupancy``, ``events`` (``[x, y, kind]``), ``success_rate`` and ``field``.

    Raises:
        ValueError: ``role`` is not the task's single agent role, or neither or both of ``policy``
            and ``bot`` are given.
    """
    spec = aip_engine.task_spec(task)
    if tuple(spec.agents) != (role,):
        raise ValueError(f"{task!r} is not a task of the {role} role alone (its agents: {', '.join(spec.agents)})")
    if (policy is None) == (bot is None):
        raise ValueError("give a policy or a bot")
    if bot is not None and bot not in aip_engine.bots(role):
        raise ValueError(f"{bot!r} is not a {role} bot; the {role} bots are {', '.join(aip_engine.bots(role))}")
    act = None if policy is None else policy.act
    out = {"task": task, "role": role, **_episodes(task, role, act, bot, episodes, seed)}
    config = spec.config
    out["arena"] = [config.arena_width, config.arena_height]
    out["radius"] = {"player": config.player_radius, "enemy": config.enemy_radius, "missile": config.missile_radius}
    out["field"] = _field(task, role, act, bot)
    return out
