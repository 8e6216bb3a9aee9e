"""Frame-time benchmark of the game: engine step, opponent decision and rendering at 1280 × 720, headless.

    python tools/bench/game.py --json
    python tools/bench/game.py --frames 5000 --opponent path/to/enemy.aipp --json

The game runs with rendering on (HUD, effects, trails) under SDL's dummy video driver, with no frame
limit. A scripted human holds fire and steers in a circle; when a game ends a new one starts (the
frames between games are not counted). Reports the median and the 99th percentile of each part.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"

TARGET_MEDIAN_MS = 4.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000.0 for s in seconds]
    return {
        "median_ms": round(statistics.median(ms), 4),
        "p99_ms": round(_percentile(ms, 0.99), 4),
        "mean_ms": round(statistics.fmean(ms), 4),
    }


def run(frames: int, warmup: int, opponent: str, side: str, seed: int) -> dict[str, object]:
    """Play `warmup + frames` frames and return the timing summary."""
    import pygame

    from aip_game._app import App, Options
    from aip_game._play import GameScreen
    from aip_game._screens import resolve_opponent, start_game

    with tempfile.TemporaryDirectory() as home:
        app = App(
            Options(
                headless=True,
                fps=0,
                opponent=opponent,
                side=side,
                seed=seed,
                mod_dirs=[],
                entry_point_mods=False,
                data_dir=Path(home),
                get_ready=False,
            )
        )
        if not isinstance(app.screen, GameScreen):
            raise SystemExit(f"could not start a game: {app.notice_lines()}")
        parts: dict[str, list[float]] = {"engine": [], "opponent": [], "render": [], "frame": []}
        keys = [pygame.K_RIGHT, pygame.K_DOWN, pygame.K_LEFT, pygame.K_UP]
        games = 1
        app.measure = True
        for i in range(warmup + frames):
            screen = app.screen
            if not isinstance(screen, GameScreen) or screen.session.over:
                role = "enemy" if side != "enemy" else "player"
                start_game(app, side, resolve_opponent(app, role, opponent))
                games += 1
                continue
            if i % 45 == 0:  # steer in a square-ish circle, firing all the time
                screen.keys = {pygame.K_SPACE, keys[(i // 45) % 4]}
            app.tick()
            if i < warmup:
                continue
            timings = screen.session.timings
            _, _, draw, present, total = app.frame_times[-1]
            render = draw + present
            parts["engine"].append(timings.engine)
            parts["opponent"].append(timings.opponent)
            parts["render"].append(render)
            parts["frame"].append(total)
        app.close()
    frame = _summary(parts["frame"])
    return {
        "benchmark": "aip-game frame time",
        "resolution": [1280, 720],
        "rendering": True,
        "video_driver": "dummy",
        "frames": len(parts["frame"]),
        "games": games,
        "opponent": opponent,
        "side": side,
        "seed": seed,
        "parts": {name: _summary(values) for name, values in parts.items()},
        "target_median_ms": TARGET_MEDIAN_MS,
        "meets_target": frame["median_ms"] < TARGET_MEDIAN_MS,
        "python": platform.python_version(),
        "pygame": pygame.version.ver,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the benchmark, print the result."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=3000, help="frames measured (default 3000)")
    p.add_argument("--warmup", type=int, default=120, help="frames played before measuring (default 120)")
    p.add_argument("--opponent", default="chase", help="a bot name or a policy file (default chase)")
    p.add_argument("--side", choices=("player", "enemy", "watch"), default="player")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--quick", action="store_true", help="a smoke run: 300 frames after 30 of warm-up")
    args = p.parse_args(argv)
    if args.quick:
        args.frames, args.warmup = min(args.frames, 300), min(args.warmup, 30)
    result = run(args.frames, args.warmup, args.opponent, args.side, args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['frames']} frames at 1280x720, rendering on, headless, vs {args.opponent} ({args.side})")
    parts = result["parts"]
    assert isinstance(parts, dict)
    for name, s in parts.items():
        print(f"  {name:9s} median {s['median_ms']:.3f} ms   p99 {s['p99_ms']:.3f} ms")
    print(f"target: median frame < {TARGET_MEDIAN_MS} ms: {'met' if result['meets_target'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
