"""The game in a real X window: frame time windowed and fullscreen, and game time against real time under load.

    python tools/bench/window.py --json              # starts its own Xvfb (1920 x 1080)
    python tools/bench/window.py --display :0        # a real display instead
    python tools/bench/window.py --stress 2 --seconds 20

Two parts, each configuration in a fresh process of the real game (SDL's x11 driver):

1. **Frame time.** In interleaved rounds (so that a change of the machine's load affects every
   configuration alike), the game runs unpaced (one frame simulated per frame drawn) against the chase bot
   with a scripted pilot that steers and fires, windowed (1280 x 720) and fullscreen (the whole
   screen), each with SDL's renderer scaling (``pygame.SCALED``, the default) and with pygame's
   software scaling (``AIP_GAME_SCALING=software``, the fallback). Reported: median and 99th
   percentile of drawing, presenting (scaling and copying to the window) and the whole frame.
2. **Pacing.** The game runs as a player runs it (60 frames per second of real time, drawing as
   often as the machine allows) for ``--seconds`` of real time while ``--stress`` processes keep the
   CPUs busy; reported: game time / real time, frames drawn per second, frames dropped. The same is
   measured for the loop the game had before (one frame simulated per frame drawn, at most 60 per
   second), so the two can be compared in one run.

The machine's load changes absolute times; compare the ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000.0 for s in seconds]
    return {"median_ms": round(statistics.median(ms), 3), "p99_ms": round(_percentile(ms, 0.99), 3)}


# ---------------------------------------------------------------------------------------------- workers


def _app(fullscreen: bool, fps: int, home: str) -> Any:
    from aip_game._app import App, Options

    app = App(
        Options(
            opponent="chase",
            seed=7,
            fullscreen=fullscreen,
            fps=fps,
            mod_dirs=[],
            entry_point_mods=False,
            data_dir=Path(home),
            get_ready=False,
        )
    )
    app.settings.values["sound"] = False
    return app


def _pilot(app: Any, i: int) -> None:
    import pygame

    from aip_game._play import GameScreen
    from aip_game._screens import resolve_opponent, start_game

    screen = app.screen
    if not isinstance(screen, GameScreen) or screen.session.over:
        start_game(app, "player", resolve_opponent(app, "enemy", "chase"))
        screen = app.screen
    keys = [pygame.K_RIGHT, pygame.K_DOWN, pygame.K_LEFT, pygame.K_UP]
    if i % 45 == 0:
        screen.keys = {pygame.K_SPACE, keys[(i // 45) % 4]}


def worker_frames(fullscreen: bool, frames: int, warmup: int) -> dict[str, Any]:
    """Unpaced frames: drawing, presenting and the whole frame (every sample, in seconds)."""
    import pygame

    with tempfile.TemporaryDirectory() as home:
        app = _app(fullscreen, 0, home)
        parts: dict[str, list[float]] = {"draw": [], "present": [], "frame": []}
        app.measure = True
        for i in range(warmup + frames):
            _pilot(app, i)
            app.tick()
            if i >= warmup:
                _, _, draw, present, total = app.frame_times[-1]
                parts["draw"].append(draw)
                parts["present"].append(present)
                parts["frame"].append(total)
        result = {
            "scaling": app.scaling,
            "fullscreen": app.fullscreen,
            "window": list(pygame.display.get_window_size()),
            "driver": pygame.display.get_driver(),
            "samples": parts,
        }
        app.close()
    return result


def worker_pacing(seconds: float, old_loop: bool) -> dict[str, Any]:
    """Real time: the game's loop (or the former one) for `seconds`; game time against real time."""
    import pygame

    with tempfile.TemporaryDirectory() as home:
        app = _app(False, 60, home)
        start = time.perf_counter()
        i = 0
        if old_loop:
            # the former loop: events, one frame, draw, then wait for the next 60th of a second
            clock = pygame.time.Clock()
            while time.perf_counter() - start < seconds:
                _pilot(app, i)
                app.tick()
                clock.tick(60)
                i += 1
            simulated, drawn, dropped = app.frames, app.frames, 0
        else:
            pacer = app.pacer
            pacer.start()
            while time.perf_counter() - start < seconds:
                due = pacer.due()
                if due == 0:
                    pacer.wait()
                    continue
                app._events()
                for _ in range(due):
                    _pilot(app, i)
                    app._update()
                    i += 1
                app._draw()
                pacer.drew()
            simulated, drawn, dropped = pacer.stats.frames, pacer.stats.draws, pacer.stats.dropped
        real = time.perf_counter() - start
        app.close()
    return {
        "loop": "former (one frame per draw, at most 60/s)" if old_loop else "fixed 60 Hz simulation, drawing skips",
        "real_s": round(real, 2),
        "game_s": round(simulated / 60, 2),
        "game_time_per_real_time": round(simulated / 60 / real, 3),
        "drawn_per_s": round(drawn / real, 1),
        "dropped_frames": dropped,
    }


# ---------------------------------------------------------------------------------------------- driver


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed (python3 tools/dev.py setup installs it as root); or pass --display")
    read, write = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    return proc, f":{number}"


def _run_worker(display: str, spec: dict[str, Any], software: bool) -> dict[str, Any]:
    env = {**os.environ, "DISPLAY": display, "SDL_VIDEODRIVER": "x11", "SDL_AUDIODRIVER": "dummy"}
    env["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    if software:
        env["AIP_GAME_SCALING"] = "software"
    else:
        env.pop("AIP_GAME_SCALING", None)
    out = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)], env=env, capture_output=True, text=True, timeout=900
    )
    if out.returncode != 0:
        raise SystemExit(f"the game failed in {spec}: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _stress(n: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def run(display: str, frames: int, warmup: int, seconds: float, stress: int, rounds: int) -> dict[str, Any]:
    """Every configuration (in interleaved rounds, so that a change of the machine's load hits all alike)."""
    result: dict[str, Any] = {"benchmark": "aip-game in a real window", "display": display, "frame_time": []}
    configs = [(fullscreen, software) for fullscreen in (False, True) for software in (False, True)]
    merged: dict[tuple[bool, bool], dict[str, Any]] = {}
    for r in range(rounds):
        for fullscreen, software in configs if r % 2 == 0 else list(reversed(configs)):
            spec = {"part": "frames", "fullscreen": fullscreen, "frames": frames // rounds, "warmup": warmup}
            row = _run_worker(display, spec, software)
            into = merged.setdefault((fullscreen, software), {**row, "samples": {k: [] for k in row["samples"]}})
            for name, values in row["samples"].items():
                into["samples"][name] += values
            mode = "fullscreen" if fullscreen else "windowed"
            print(f"  round {r + 1}: {mode} {row['scaling']}", file=sys.stderr, flush=True)
    for key in configs:
        row = merged[key]
        samples = row.pop("samples")
        summary = {name: _summary(values) for name, values in samples.items()}
        result["frame_time"].append({**row, "frames": len(samples["frame"]), **summary})
    result["pacing"] = []
    hogs = _stress(stress)
    try:
        for old in (False, True):
            row = _run_worker(display, {"part": "pacing", "seconds": seconds, "old_loop": old}, False)
            row["stress_processes"] = stress
            print(f"  pacing ({row['loop']}): {row['game_time_per_real_time']}", file=sys.stderr, flush=True)
            result["pacing"].append(row)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()

    def frame(fullscreen: bool, scaling: str) -> float:
        row = next(r for r in result["frame_time"] if r["fullscreen"] == fullscreen and r["scaling"] == scaling)
        return float(row["frame"]["median_ms"])

    result["ratios"] = {
        "fullscreen_software_over_hardware": round(frame(True, "software") / frame(True, "hardware"), 2),
        "windowed_software_over_hardware": round(frame(False, "software") / frame(False, "hardware"), 2),
        "fullscreen_over_windowed_hardware": round(frame(True, "hardware") / frame(False, "hardware"), 2),
        "game_time_per_real_time_new": result["pacing"][0]["game_time_per_real_time"],
        "game_time_per_real_time_former": result["pacing"][1]["game_time_per_real_time"],
    }
    result.update(
        {
            "load_average": os.getloadavg(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run every configuration, print the result."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--display", help="an X display to use (default: start a private Xvfb)")
    p.add_argument("--frames", type=int, default=600, help="frames measured per configuration (default 600)")
    p.add_argument("--warmup", type=int, default=60)
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds over the configurations (default 3)")
    p.add_argument("--seconds", type=float, default=20.0, help="real seconds of each pacing run (default 20)")
    p.add_argument("--stress", type=int, default=2, help="busy processes during the pacing runs (default 2)")
    p.add_argument("--json", action="store_true", help="print JSON only")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        spec = json.loads(args.worker)
        if spec["part"] == "frames":
            out = worker_frames(spec["fullscreen"], spec["frames"], spec["warmup"])
        else:
            out = worker_pacing(spec["seconds"], spec["old_loop"])
        print(json.dumps(out))
        return 0
    xvfb = None
    display = args.display
    if display is None:
        xvfb, display = _start_xvfb()
    try:
        result = run(display, args.frames, args.warmup, args.seconds, args.stress, args.rounds)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for row in result["frame_time"]:
        mode = "fullscreen" if row["fullscreen"] else "windowed"
        print(
            f"{mode:10s} {row['scaling']:8s} window {row['window'][0]}x{row['window'][1]}: frame "
            f"{row['frame']['median_ms']:.2f} ms (p99 {row['frame']['p99_ms']:.2f}), "
            f"draw {row['draw']['median_ms']:.2f}, present {row['present']['median_ms']:.2f}"
        )
    for row in result["pacing"]:
        print(
            f"{row['loop']}: game time / real time {row['game_time_per_real_time']}, {row['drawn_per_s']} frames "
            f"drawn/s, {row['dropped_frames']} dropped, with {row['stress_processes']} busy processes"
        )
    print("ratios:", json.dumps(result["ratios"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
