#!/usr/bin/env python3
"""Play in the browser, measured: input-to-screen latency, frame pacing and the server's CPU per game.

Starts ``aip dashboard`` on 127.0.0.1 (a subprocess), opens GAMES pages in headless Chromium (the
system's, driven by Playwright), plays each against OPPONENT (default: the circling enemy bot, so
that no game ends early) for SECONDS with key presses every ~150 ms, and reports:

- latency: from the key event in the page to the drawing of the first frame the server stepped with
  that input (the frame's ``a`` field acknowledges the input), p50 and p95, in ms;
- pacing: intervals between frames arriving from the server, and between frames drawn, in ms;
- server CPU: the dashboard process's user+system CPU time over the playing window divided by the
  window, minus the same measured idle, per game, in % of one core.

    python3 tools/bench/dashboard.py --games 1 --seconds 20 [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--opponent", default="bot:circular", help="an enemy that does not hunt keeps the game going")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "AIP_GAME_HOME": tmp, "AIP_CACHE_DIR": tmp}
        server = subprocess.Popen(
            [sys.executable, "-m", "aip_cli", "dashboard", "--port", "0", "--max-games", str(max(8, args.games))],
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        base = ""
        while not base:
            line = server.stdout.readline()
            if not line:
                raise SystemExit("aip dashboard did not start")
            found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            base = found.group(1) if found else ""
        try:
            time.sleep(3.0)
            c0, t0 = cpu_seconds(server.pid), time.monotonic()
            time.sleep(5.0)
            idle = (cpu_seconds(server.pid) - c0) / (time.monotonic() - t0)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS)
                pages = []
                for _ in range(args.games):
                    page = browser.new_page(viewport={"width": 1300, "height": 860})
                    page.goto(f"{base}/#play")
                    page.wait_for_selector("#play-start")
                    # the page offers the hunting bots; the bench may name any enemy bot
                    page.evaluate(
                        "o => { const s = document.querySelector('#play-opponent');"
                        " s.add(new Option(o, o)); s.value = o; }",
                        args.opponent,
                    )
                    page.click("#play-start")
                    page.wait_for_selector("#play-canvas[data-frame]")
                    pages.append(page)
                time.sleep(1.0)
                c0, t0 = cpu_seconds(server.pid), time.monotonic()
                keys = ["ArrowLeft", "ArrowUp", "ArrowRight", "ArrowDown"]
                i = 0
                while time.monotonic() - t0 < args.seconds:
                    for page in pages:
                        page.keyboard.down(keys[i % 4])
                    time.sleep(0.15)
                    for page in pages:
                        page.keyboard.up(keys[i % 4])
                    i += 1
                busy = (cpu_seconds(server.pid) - c0) / (time.monotonic() - t0)
                games = json.loads(pages[0].evaluate("() => fetch('/api/play/stats').then(r => r.text())"))["games"]
                stats = [json.loads(page.locator("#play-canvas").get_attribute("data-stats") or "{}") for page in pages]
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)

    def mean(key: str) -> float:
        return statistics.fmean(s[key] for s in stats if s.get(key) is not None)

    result = {
        "games": args.games,
        "seconds": args.seconds,
        "latency_ms_p50": mean("latency_ms_p50"),
        "latency_ms_p95": mean("latency_ms_p95"),
        "arrival_ms_p50": mean("arrival_ms_p50"),
        "arrival_ms_p95": mean("arrival_ms_p95"),
        "arrival_ms_p99": mean("arrival_ms_p99"),
        "draw_fps": mean("fps"),
        "server_fps": statistics.fmean(g["fps"] for g in games) if games else float("nan"),
        "server_skipped_frames": sum(g["skipped"] for g in games),
        "server_tick_ms_p99": max((g["tick_ms_p99"] for g in games), default=float("nan")),
        "server_cpu_idle_pct": 100 * idle,
        "server_cpu_pct_per_game": 100 * (busy - idle) / args.games,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>26}: {value:.2f}" if isinstance(value, float) else f"{key:>26}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
