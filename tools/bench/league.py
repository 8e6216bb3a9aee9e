"""duel-v1 measured: one self-play training with the opponent pool, one against the latest opponent only,
then the duel evaluation, the league of every learned model and scripted bot, and the head-to-head.

    python tools/bench/league.py --json                      # the shipped duel-v1 config (minutes)
    python tools/bench/league.py --total-steps 2000000       # shorter runs, the same measurements
    python tools/bench/league.py --quick --json              # a smoke test (a minute)

Everything runs in one process, in a temporary MLflow store (or --tracking-uri), like `aip train
duel-v1` followed by `aip league duel-v1`. Reported (figures, then the targets as booleans):

- each training's environment steps, wall time, steps/s and the machine's load average during it
  (the shipped config's step budget is meant to take <= 15 minutes on a quiet 2-core machine);
- the duel evaluation of the pool run (`aip_ml.selfplay.evaluate_duel`): survival rate, hits and score
  of the learned player and of each scripted player bot against each scripted enemy bot; catch rate and
  frames to catch of the learned enemy and of each scripted enemy bot against each scripted player bot;
- the league's table (openskill mu and sigma of every entrant) and how many standard deviations the
  top-rated player and enemy are above the best scripted bot of their role;
- the head-to-head between the pool run and the latest-only run: the pool player against the
  latest-only enemy and the pool enemy against the latest-only player (the pool run's mean win rate).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
for sub in ("packages/aip-engine/src", "packages/aip-ml/src"):
    if str(ROOT / sub) not in sys.path:
        sys.path.append(str(ROOT / sub))

import aip_engine  # noqa: E402
import aip_ml  # noqa: E402
from aip_ml.selfplay import Entrant, bot_entrants, evaluate_duel, league_rows, play_league  # noqa: E402

TASK = "duel-v1"


def _train(name: str, overrides: list[str], root: Path, uri: str) -> dict[str, Any]:
    from aip_ml.tracking import MlflowCallback

    config = aip_ml.load_config(TASK, overrides=overrides)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    with MlflowCallback(uri, run_name=name) as tracking:
        result = aip_ml.train(config, run_dir=root / name, callbacks=[tracking])
    wall = time.perf_counter() - start
    return {
        "name": name,
        "overrides": overrides,
        "global_step": result.global_step,
        "wall_seconds": wall,
        "steps_per_second": result.global_step / max(wall, 1e-9),
        "load_average_1min": [load_before, os.getloadavg()[0]],
        "policies": {r: str(p) for r, p in result.policy_paths.items()},
        "registered": [v.reference for v in tracking.registered],
    }


def _finite(value: Any) -> Any:
    """NaN and infinities as None, so that the output is valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--total-steps", type=int, default=None, help="steps of each training (default: the config's)")
    parser.add_argument("--episodes", type=int, default=200, help="episodes per pair of the duel evaluation")
    parser.add_argument("--league-episodes", type=int, default=64, help="matches per pair of the league")
    parser.add_argument("--seed", type=int, default=0, help="seed of both trainings")
    parser.add_argument("--quick", action="store_true", help="a smoke test: tiny trainings and few episodes")
    parser.add_argument("--tracking-uri", default=None, help="an MLflow store (default: a temporary SQLite one)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    steps = args.total_steps
    episodes, league_episodes = args.episodes, args.league_episodes
    extra: list[str] = []
    if args.quick:
        steps = steps or 65536
        episodes, league_episodes = 16, 8
        extra = ["num_worlds=64", "minibatch_size=1024", "selfplay_snapshot_every=2", "checkpoint_every=4"]
    common = [f"seed={args.seed}", *extra] + ([f"total_steps={steps}"] if steps else [])
    out: dict[str, Any] = {"task": TASK, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="aip-bench-league-") as tmp:
        root = Path(tmp)
        uri = args.tracking_uri or f"sqlite:///{root / 'mlflow.db'}"
        pool = _train("pool", common, root, uri)
        latest = _train("latest-only", [*common, "selfplay_latest_ratio=1.0", "selfplay_bots="], root, uri)
        out["trainings"] = [pool, latest]
        duel = evaluate_duel(pool["policies"]["player"], pool["policies"]["enemy"], episodes=episodes, seed=12345)
        out["duel"] = duel.to_dict()
        entrants = []
        for run in (pool, latest):
            for role, path in run["policies"].items():
                entrants.append(Entrant(f"{run['name']}/{role}", role, "policy", source=path))
        for role in aip_engine.task_spec(TASK).agents:
            entrants += bot_entrants(role)
        start = time.perf_counter()
        record = play_league(TASK, entrants, episodes=league_episodes, seed=1)
        rows = league_rows(record, entrants)
        out["league"] = {
            "episodes_per_pair": league_episodes,
            "matches": len(record.matches),
            "seconds": time.perf_counter() - start,
            "table": [r.to_dict() for r in rows],
        }
        targets: dict[str, Any] = dict(duel.targets())
        for role in ("player", "enemy"):
            mine = [r for r in rows if r.role == role]
            top = mine[0]
            targets[f"top_{role}_is_learned"] = top.kind == "policy"
            best_sep = max((r.above_best_bot for r in mine if r.kind == "policy"), default=math.nan)
            out["league"][f"{role}_sd_above_best_bot"] = best_sep
            targets[f"top_{role}_2sd_above_best_bot"] = top.kind == "policy" and top.above_best_bot >= 2.0

        def win_rate(first: str, second: str) -> float:
            ms = [m.outcome for m in record.matches if m.first == first and m.second == second]
            return sum(ms) / len(ms)

        h2h = {
            "pool_player_vs_latest_enemy": win_rate("pool/player", "latest-only/enemy"),
            "pool_enemy_vs_latest_player": 1.0 - win_rate("latest-only/player", "pool/enemy"),
        }
        h2h["pool_mean_win_rate"] = (h2h["pool_player_vs_latest_enemy"] + h2h["pool_enemy_vs_latest_player"]) / 2
        out["head_to_head"] = h2h
        targets["pool_beats_latest_only"] = h2h["pool_mean_win_rate"] > 0.5
        targets["training_within_15_min_here"] = pool["wall_seconds"] <= 900
        out["targets"] = targets
    if args.json:
        print(json.dumps(_finite(out), indent=2))
    else:
        for t in out["trainings"]:
            print(
                f"{t['name']:12s} {t['global_step']:>11,} steps in {t['wall_seconds']:7.1f} s "
                f"({t['steps_per_second']:,.0f} steps/s, load {t['load_average_1min'][0]:.1f}->"
                f"{t['load_average_1min'][1]:.1f})"
            )
        print("survival (learned player 'policy' vs the enemy bots):", json.dumps(out["duel"]["survival"]))
        print("catches (learned enemy 'policy' vs the player bots):  ", json.dumps(out["duel"]["catches"]))
        for r in out["league"]["table"]:
            print(
                f"  {r['rank']:>3} {r['entrant']:24s} {r['role']:7s} {r['mu']:6.2f} +- {r['sigma']:4.2f} "
                f"won {r['win_rate']:.0%}"
            )
        print("head to head:", json.dumps(h2h))
        print("targets:", json.dumps(out["targets"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
