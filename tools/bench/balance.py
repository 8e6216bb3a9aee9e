"""Balance benchmark of the playable game: how long players of every kind survive, per level, by measurement.

    python tools/bench/balance.py --json                      # the game's balance.toml, 100 seeds
    python tools/bench/balance.py --policy enemy.aipp         # also a trained enemy model
    python tools/bench/balance.py --balance candidate.toml    # try other numbers
    python tools/bench/balance.py --markdown                  # the tables of docs/game.md

Players: scripted input patterns a person might produce (stand still, hold one direction, random
turns, each with and without SPACE held) and the engine's player bots `wander`, `flee` and `kite`
(which fire with the game's fire probability), in increasing order of skill. Enemies: every hunting
enemy bot (`chase`, `intercept`, `dodge`, `staged`) and, with ``--policy``, a trained enemy model.

Every world plays the game's engine config (play-v1 with `balance.toml`'s changes) at one level
(its engine parameters held), with the game's lives and invulnerability, until the player has lost
every life or the time cap. Measured per (level, player, enemy), over the seeds: the survival time
of the first life, the length of a whole game at that level, and missile hits per minute. A second
part plays whole games as the game does (level 1 upwards, a level every `seconds_per_level`).
Finally the criteria of docs/game.md are checked and printed with their figures.

Everything is counted in frames (60 per second of game time), so the figures do not depend on the
machine's speed; the wall time is printed for information.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[2]
PATTERNS = ("still", "still+fire", "hold", "hold+fire", "turns", "turns+fire")
PLAYER_BOTS = ("wander", "flee", "kite")
#: A stand-in for a person new to the game: the flee bot (runs from the enemy, with reaction noise)
#: firing at a fifth of the bots' rate.
NOVICE = "novice"
NOVICE_FIRE_PROBABILITY = 0.01
#: Player controllers that are bots: name -> (engine bot, fire probability or None for the game's).
BOT_PLAYERS = {
    "wander": ("wander", None),
    NOVICE: ("flee", NOVICE_FIRE_PROBABILITY),
    "flee": ("flee", None),
    "kite": ("kite", None),
}
ENEMY_BOTS = ("chase", "intercept", "dodge", "staged")
#: Enemies held to "standing still or holding one direction loses within seconds" (staged is
#: deliberately slow for its first ten seconds of every life: docs/rules.md).
HUNTERS = ("chase", "intercept", "dodge")
POLICY = "model"
FPS = 60


@dataclass
class Cohort:
    """Worlds that share a player, an enemy and a level (`level` 0: the levels progress as in the game)."""

    player: str
    enemy: str
    level: int
    start: int = 0
    stop: int = 0


@dataclass
class Outcome:
    """Per world, over the whole time cap (the player is caught again and again; lives only count).

    Attributes:
        catches: ``(n, lives)`` frames of the first `lives` catches (the cap when fewer happened).
        caught: Catches over the whole cap.
        hits: Missile hits over the whole cap.
        cap: Frames played.
        level_at_end: Level when the `lives`-th catch ended the game (the last level played if it did not).
    """

    catches: npt.NDArray[np.int64]
    caught: npt.NDArray[np.int64]
    hits: npt.NDArray[np.int64]
    cap: int
    level_at_end: npt.NDArray[np.int64]
    wall_s: float = 0.0


def _pattern_actions(
    names: npt.NDArray[np.int64], frame: int, state: dict[str, npt.NDArray[Any]], rng: np.random.Generator
) -> npt.NDArray[np.float32]:
    """The player's actions of the scripted patterns (`names` indexes `PATTERNS` per world)."""
    n = names.shape[0]
    if "heading" not in state:
        angles = rng.integers(0, 8, n) * (np.pi / 4)
        state["heading"] = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        state["turn_at"] = rng.integers(30, 91, n)
    turning = (names == PATTERNS.index("turns")) | (names == PATTERNS.index("turns+fire"))
    due = turning & (state["turn_at"] <= frame)
    if due.any():
        k = int(due.sum())
        angles = rng.integers(0, 8, k) * (np.pi / 4)
        state["heading"][due] = np.stack([np.cos(angles), np.sin(angles)], axis=1)
        state["turn_at"][due] = frame + rng.integers(30, 91, k)
    act = np.zeros((n, 3), dtype=np.float32)
    moving = names >= PATTERNS.index("hold")
    act[moving, :2] = state["heading"][moving]
    act[:, 2] = np.isin(names, [PATTERNS.index(p) for p in PATTERNS if p.endswith("+fire")])
    return act


def simulate(
    balance: Any,
    cohorts: list[Cohort],
    seeds: int,
    *,
    cap_s: float,
    policy: Any = None,
    seed: int = 0,
    threads: int = 1,
) -> Outcome:
    """Play every cohort's `seeds` worlds in one batch of the engine and return what happened to each."""
    import aip_engine as ae

    players_are_patterns = cohorts[0].player in PATTERNS
    enemy_is_policy = cohorts[0].enemy == POLICY
    n = 0
    for c in cohorts:
        c.start, c.stop = n, n + seeds
        n += seeds
    controllers = {
        "player": "agent" if players_are_patterns else "wander",
        "enemy": "agent" if enemy_is_policy else "chase",
    }
    worlds = ae.Worlds(
        "play-v1", n, seed=seed, config=balance.engine_config(), controllers=controllers, threads=threads
    )
    params = worlds.params
    pattern = np.zeros(n, dtype=np.int64)
    level_of = np.zeros(n, dtype=np.int64)
    for c in cohorts:
        sl = slice(c.start, c.stop)
        if players_are_patterns:
            pattern[sl] = PATTERNS.index(c.player)
        else:
            bot, fire = BOT_PLAYERS[c.player]
            params["player_bot"][sl] = ae.bots("player").index(bot)
            if fire is not None:
                params["fire_probability"][sl] = fire
        if not enemy_is_policy:
            params["enemy_bot"][sl] = ae.bots("enemy").index(c.enemy)
        level_of[sl] = max(1, c.level)
    progressing = np.array([c.level == 0 for c in cohorts for _ in range(seeds)])
    _set_levels(balance, params, level_of)
    worlds.reset(seed)
    cap = int(cap_s * FPS)
    lives = balance.lives
    catches = np.full((n, lives), cap, dtype=np.int64)
    caught = np.zeros(n, dtype=np.int64)
    hits = np.zeros(n, dtype=np.int64)
    level_at_end = np.zeros(n, dtype=np.int64)
    catch_i, hit_i = ae.EVENTS.index("catch"), ae.EVENTS.index("hit")
    rng = np.random.default_rng(seed + 1)
    pattern_state: dict[str, npt.NDArray[Any]] = {}
    rows = np.arange(n)
    started = time.perf_counter()
    for frame in range(cap):
        if progressing.any() and frame > 0 and frame % balance.frames_per_level == 0:
            level_of[progressing] = np.minimum(balance.max_level, 1 + frame // balance.frames_per_level)
            _set_levels(balance, params, level_of)
        actions: dict[str, npt.NDArray[np.float32]] = {}
        if players_are_patterns:
            actions["player"] = _pattern_actions(pattern, frame, pattern_state, rng)
        if enemy_is_policy:
            actions["enemy"] = np.ascontiguousarray(policy.act(worlds.observations("enemy")), dtype=np.float32)
        worlds.step(actions if len(actions) > 1 else next(iter(actions.values())) if actions else None)
        ev = worlds.events
        now = ev[:, catch_i] > 0
        hits += ev[:, hit_i] > 0
        counted = now & (caught < lives)
        catches[rows[counted], caught[counted]] = frame + 1
        ended = now & (caught == lives - 1)
        level_at_end[ended] = level_of[ended]
        caught += now
    playing = caught < lives
    level_at_end[playing] = level_of[playing]
    return Outcome(catches, caught, hits, cap, level_at_end, time.perf_counter() - started)


def _set_levels(balance: Any, params: dict[str, npt.NDArray[Any]], level_of: npt.NDArray[np.int64]) -> None:
    for level in np.unique(level_of):
        mask = level_of == level
        for name, value in balance.level_params("player", int(level)).items():
            params[name][mask] = value


def _stats(frames: npt.NDArray[np.int64], cap: int) -> dict[str, float]:
    s = frames / FPS
    return {
        "median_s": round(float(np.median(s)), 1),
        "p10_s": round(float(np.percentile(s, 10)), 1),
        "p90_s": round(float(np.percentile(s, 90)), 1),
        "at_cap": round(float(np.mean(frames >= cap)), 3),
    }


def _rows(cohorts: list[Cohort], out: Outcome) -> list[dict[str, Any]]:
    rows = []
    minutes = out.cap / FPS / 60
    for c in cohorts:
        sl = slice(c.start, c.stop)
        row: dict[str, Any] = {
            "level": c.level if c.level else "game",
            "player": c.player,
            "enemy": c.enemy,
            "first_life": _stats(out.catches[sl, 0], out.cap),
            "game": _stats(out.catches[sl, -1], out.cap),
            "catches_per_min": round(float(np.mean(out.caught[sl]) / minutes), 2),
            "hits_per_min": round(float(np.mean(out.hits[sl]) / minutes), 2),
        }
        if c.level == 0:
            row["level_reached"] = {
                "median": float(np.median(out.level_at_end[sl])),
                "max": int(out.level_at_end[sl].max()),
            }
        rows.append(row)
    return rows


def run(
    balance: Any,
    *,
    seeds: int,
    cap_s: float,
    game_cap_s: float,
    policy: Any = None,
    threads: int = 1,
    seed: int = 0,
    quick: bool = False,
) -> dict[str, Any]:
    """Play every batch and return the result (rows, the criteria, timings)."""
    enemies = [*ENEMY_BOTS, *([POLICY] if policy is not None else [])]
    levels = list(range(1, balance.max_level + 1))
    if quick:
        levels = [1, balance.max_level]
    rows: list[dict[str, Any]] = []
    wall = 0.0
    frames = 0
    for p_index, players in enumerate((PATTERNS, tuple(BOT_PLAYERS))):
        for g_index, group in enumerate(([e for e in enemies if e != POLICY], [POLICY] if policy is not None else [])):
            if not group:
                continue
            for m_index, (level_set, cap) in enumerate(((levels, cap_s), ([0], game_cap_s))):
                # each batch's seed depends only on what it plays, so runs with and without --policy agree
                batch_seed = seed + 4 * p_index + 2 * g_index + m_index
                cohorts = [Cohort(p, e, lv) for lv in level_set for p in players for e in group]
                out = simulate(balance, cohorts, seeds, cap_s=cap, policy=policy, seed=batch_seed, threads=threads)
                rows += _rows(cohorts, out)
                wall += out.wall_s
                frames += out.cap
                print(
                    f"  {len(cohorts) * seeds} worlds ({players[0]}... vs {group[0]}...), {out.cap} frames "
                    f"in {out.wall_s:.1f} s",
                    file=sys.stderr,
                    flush=True,
                )
    return {
        "benchmark": "aip-game balance",
        "balance": balance.to_dict(),
        "seeds": seeds,
        "cap_s": cap_s,
        "game_cap_s": game_cap_s,
        "levels": levels,
        "enemies": enemies,
        "rows": rows,
        "criteria": criteria(rows, levels, enemies),
        "wall_s": round(wall, 1),
        "frames_stepped": frames,
    }


def _cell(rows: list[dict[str, Any]], level: int | str, player: str, enemy: str) -> dict[str, Any]:
    for r in rows:
        if r["level"] == level and r["player"] == player and r["enemy"] == enemy:
            return r
    raise KeyError((level, player, enemy))


def criteria(rows: list[dict[str, Any]], levels: list[int], enemies: list[str]) -> list[dict[str, Any]]:
    """The balance targets of docs/game.md, each with whether it is met and the figures behind it."""
    hunters = [e for e in enemies if e in HUNTERS or e == POLICY]
    out: list[dict[str, Any]] = []
    worst = max(
        (_cell(rows, lv, p, e)["first_life"]["median_s"], lv, p, e)
        for lv in levels
        for p in ("still", "hold")
        for e in hunters
    )
    out.append(
        {
            "criterion": "standing still or holding one direction loses a life within 5 s (median) at every level, "
            "against every hunter",
            "met": worst[0] <= 5.0,
            "detail": f"slowest: {worst[0]} s ({worst[2]} vs {worst[3]}, level {worst[1]})",
        }
    )
    ladder = ("wander", "flee", "kite")
    order = []
    for e in hunters:
        medians = [_cell(rows, "game", p, e)["game"]["median_s"] for p in ladder]
        if not all(a < b for a, b in itertools.pairwise(medians)):
            order.append(f"vs {e}: " + ", ".join(f"{p} {m}" for p, m in zip(ladder, medians, strict=True)))
    out.append(
        {
            "criterion": "the player bots' whole game lasts longer the more skilled they are (wander < flee < kite), "
            "against every hunter",
            "met": not order,
            "detail": "; ".join(order) or "in order against every hunter",
        }
    )
    new = [_cell(rows, "game", NOVICE, e)["game"]["median_s"] for e in hunters]
    out.append(
        {
            "criterion": "a new player (the novice: the flee bot firing at a fifth of the bots' rate) lasts about "
            "half a minute: median whole game 20-45 s against every hunter",
            "met": all(20.0 <= m <= 45.0 for m in new),
            "detail": ", ".join(f"{e} {m} s" for e, m in zip(hunters, new, strict=True)),
        }
    )
    harder = []
    for e in hunters:
        for p in BOT_PLAYERS:
            rates = [_cell(rows, lv, p, e)["catches_per_min"] for lv in levels]
            if not all(a < b for a, b in itertools.pairwise(rates)):
                harder.append(f"{p} vs {e}: {rates}")
    out.append(
        {
            "criterion": "each level is harder than the one before: every player bot is caught more often per minute "
            "at each level than at the level below, against every hunter",
            "met": not harder,
            "detail": "; ".join(harder[:6]) or "rising at every level",
        }
    )
    return out


def markdown(result: dict[str, Any]) -> str:
    """The tables of docs/game.md."""
    rows, levels, enemies = result["rows"], result["levels"], result["enemies"]
    lines = [
        f"Median survival of the **first life** in seconds at each level ({result['seeds']} seeds; "
        f"cap {result['cap_s']:.0f} s):",
        "",
        "| player | enemy | " + " | ".join(f"L{lv}" for lv in levels) + " |",
        "|---|---|" + "---|" * len(levels),
    ]
    for p in (*PATTERNS, *BOT_PLAYERS):
        for e in enemies:
            cells = [f"{_cell(rows, lv, p, e)['first_life']['median_s']:.1f}" for lv in levels]
            lines.append(f"| {p} | {e} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Catches per minute at each level (the player is caught again and again until the cap), and the player's "
        "missile hits per minute at level 1:",
        "",
        "| player | enemy | " + " | ".join(f"L{lv}" for lv in levels) + " | hits/min (L1) |",
        "|---|---|" + "---|" * (len(levels) + 1),
    ]
    for p in (*PATTERNS, *BOT_PLAYERS):
        for e in enemies:
            cells = [f"{_cell(rows, lv, p, e)['catches_per_min']:.2f}" for lv in levels]
            hits = _cell(rows, levels[0], p, e)["hits_per_min"]
            lines.append(f"| {p} | {e} | " + " | ".join(cells) + f" | {hits:.1f} |")
    lines += [
        "",
        "Whole games as the game plays them (level 1 upwards): median length in seconds [p10, p90], median level "
        "reached:",
        "",
        "| player | " + " | ".join(enemies) + " |",
        "|---|" + "---|" * len(enemies),
    ]
    for p in (*PATTERNS, *BOT_PLAYERS):
        cells = []
        for e in enemies:
            g = _cell(rows, "game", p, e)
            cells.append(
                f"{g['game']['median_s']:.0f} [{g['game']['p10_s']:.0f}, {g['game']['p90_s']:.0f}] "
                f"L{g['level_reached']['median']:.0f}"
            )
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    lines += ["", "| criterion | met | figures |", "|---|---|---|"]
    for c in result["criteria"]:
        lines.append(f"| {c['criterion']} | {'yes' if c['met'] else 'no'} | {c['detail']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the benchmark, print the result."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=100, help="worlds per (level, player, enemy) (default 100)")
    p.add_argument("--cap", type=float, default=120.0, help="seconds a fixed-level world plays at most (default 120)")
    p.add_argument("--game-cap", type=float, default=400.0, help="seconds a whole game plays at most (default 400)")
    p.add_argument("--policy", type=Path, help="a trained enemy policy (.aipp) to include as an enemy")
    p.add_argument("--balance", type=Path, help="a balance file to measure instead of the game's balance.toml")
    p.add_argument("--threads", type=int, default=1, help="engine threads (the figures do not depend on it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--markdown", action="store_true", help="print the docs tables")
    p.add_argument("--quick", action="store_true", help="a smoke run: 10 seeds, levels 1 and the last, short caps")
    args = p.parse_args(argv)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import aip_engine as ae
    from aip_game._balance import load_balance

    balance = load_balance(args.balance.read_text(), str(args.balance)) if args.balance else load_balance()
    policy = ae.load_policy(args.policy, role="enemy") if args.policy else None
    if args.quick:
        args.seeds, args.cap, args.game_cap = min(args.seeds, 10), min(args.cap, 30.0), min(args.game_cap, 60.0)
    result = run(
        balance,
        seeds=args.seeds,
        cap_s=args.cap,
        game_cap_s=args.game_cap,
        policy=policy,
        threads=args.threads,
        seed=args.seed,
        quick=args.quick,
    )
    if args.policy:
        result["policy"] = str(args.policy)
    if args.json:
        print(json.dumps(result, indent=2))
    elif args.markdown:
        print(markdown(result))
    else:
        print(markdown(result))
        print(f"\n{result['frames_stepped']} frames stepped in {result['wall_s']} s")
    return 0 if all(c["met"] for c in result["criteria"]) else 1


if __name__ == "__main__":
    sys.exit(main())
