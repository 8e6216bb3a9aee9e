"""The dashboard in a real browser: headless Chromium (the system's) driven by Playwright.

Each page opens against the real store; the live curve grows while a training subprocess runs; a
scrubbed replay draws the engine's positions; a game is played with key events until the enemy
catches the player. The screenshots go to $AIP_SCREENSHOTS_DIR (docs/images for the docs page).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.server, pytest.mark.slow]


def wait_for(page: Any, selector: str, attribute: str, test: Any, timeout: float = 60.0) -> str:
    """Poll an attribute until ``test(value)`` (the page's CSP forbids Playwright's evaluated predicates)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.locator(selector).get_attribute(attribute)
        if value is not None and test(value):
            return str(value)
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} [{attribute}] is {value!r} after {timeout} s")
        page.wait_for_timeout(50)


def shoot(page: Any, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"dashboard-{name}.png"), full_page=False)


def test_runs_page_lists_the_runs_and_draws_curves(page: Any, server: Any, store: Any, shots: Path) -> None:
    page.goto(f"{server.base}/#runs?compare={','.join(store.run_ids)}")
    page.wait_for_selector("#charts figure.chart canvas")
    rows = page.locator("#runs-table tbody tr")
    assert rows.count() >= 2
    assert page.locator("#charts figure.chart").count() >= 6
    assert int(page.locator("#charts").get_attribute("data-points")) > 20
    shoot(page, shots, "runs")


LIVE = [
    "num_worlds=16",
    "rollout_steps=32",
    "epochs=1",
    "minibatch_size=256",
    "hidden_sizes=[16,16]",
    "eval_episodes=8",
    "checkpoint_every=0",
    "torch_threads=1",
    "engine_threads=1",
    "total_steps=49152",
]


def _get(server: Any, path: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(f"{server.base}{path}", timeout=30) as response:
        return json.loads(response.read())


def test_the_live_curve_grows_while_a_run_trains(
    page: Any, server: Any, store: Any, tmp_path: Path, shots: Path
) -> None:
    env_root = store.root
    training = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aip_cli",
            "train",
            "chase-v1",
            *LIVE,
            "seed=9",
            "--replays",
            "0",
            "--json",
            "--tracking-uri",
            store.uri,
            "--run-dir",
            str(tmp_path / "live"),
        ],
        cwd=env_root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        running = []
        while not running and time.monotonic() < deadline:
            running = [r for r in _get(server, "/api/runs")["runs"] if r["status"] == "RUNNING"]
            time.sleep(0.5)
        assert running, "the training did not show up as a running run"
        while (
            time.monotonic() < deadline
            and not _get(server, f"/api/runs/{running[0]['run_id']}/metrics?keys=steps_per_second")["metrics"][
                "steps_per_second"
            ]
        ):
            time.sleep(0.5)
        page.goto(f"{server.base}/#runs")
        page.wait_for_selector("#charts figure.chart canvas")
        page.evaluate("window.__sameDocument = true")
        first = int(page.locator("#charts").get_attribute("data-points"))
        grown = first
        while grown <= first and time.monotonic() < deadline and training.poll() is None:
            time.sleep(1.0)
            grown = int(page.locator("#charts").get_attribute("data-points"))
        assert grown > first, "the curves did not grow while the run trained"
        assert page.evaluate("window.__sameDocument") is True  # no reload
        shoot(page, shots, "runs-live")
        training.wait(timeout=240)
        page.wait_for_selector(f"tr[data-run='{running[0]['run_id']}'] .status.finished", timeout=30_000)
    finally:
        if training.poll() is None:
            training.terminate()
            training.wait(timeout=30)


def test_scrubbing_a_replay_draws_the_engine_s_positions(page: Any, server: Any, store: Any, shots: Path) -> None:
    import aip_engine
    from aip_ml.tracking import cached_policy, make_client

    run_id = store.run_ids[0]
    page.goto(f"{server.base}/#replays?run={run_id}&replay=update-000016.aipreplay")
    page.wait_for_selector("#replay-canvas[data-frame]")
    client = make_client(store.uri)
    version = next(v for v in client.search_model_versions("name='chase-v1-enemy'") if v.run_id == run_id)
    policy = aip_engine.load_policy(cached_policy(store.uri, "chase-v1-enemy", version.version))
    worlds = aip_engine.Worlds("chase-v1", 3, seed=12345, threads=1, auto_reset=False)
    obs = worlds.reset(seed=12345)
    engine = {0: worlds.state()["player_pos"][0].copy()}
    enemy = {0: worlds.state()["enemy_pos"][0].copy()}
    frames = int(page.locator("#replay-scrub").get_attribute("max"))
    targets = sorted({0, 1, 37, frames // 2, frames})
    for t in range(1, max(targets) + 1):
        obs = worlds.step(policy.act(np.asarray(obs))).obs
        if t in targets:
            engine[t] = worlds.state()["player_pos"][0].copy()
            enemy[t] = worlds.state()["enemy_pos"][0].copy()
    for t in [targets[-1], *targets]:  # out of order: every jump is drawn from the replay, not from a running state
        page.locator("#replay-scrub").fill(str(t))
        wait_for(page, "#replay-canvas", "data-frame", lambda v, t=t: v == str(t))
        drawn = json.loads(page.locator("#replay-canvas").get_attribute("data-drawn"))
        assert drawn["frame"] == t
        assert drawn["player"] == pytest.approx(list(engine[t]), abs=0.01)
        if drawn["enemy"] is not None:
            assert drawn["enemy"] == pytest.approx(list(enemy[t]), abs=0.01)
    page.locator("#replay-scrub").fill(str(frames // 3))
    page.click("#replay-play")
    wait_for(page, "#replay-canvas", "data-frame", lambda v: int(v) > frames // 3 + 5)
    page.click("#replay-play")
    shoot(page, shots, "replays")
    page.goto(f"{server.base}/#replays?recording={store.recording}")
    page.wait_for_selector("#replay-canvas[data-frame]")
    page.locator("#replay-scrub").fill("300")
    wait_for(page, "#replay-canvas", "data-frame", lambda v: v == "300")
    shoot(page, shots, "recording")


def test_behaviour_and_models_pages(page: Any, server: Any, shots: Path) -> None:
    page.goto(f"{server.base}/#models")
    page.wait_for_selector("table.models")
    assert page.locator("table.models tbody tr").count() >= 2  # the live test may have added one
    assert "bot chase" in page.locator("table.models thead").inner_text()
    shoot(page, shots, "models")
    page.goto(f"{server.base}/#behaviour?of=bot:chase|chase-v1&episodes=16")
    page.wait_for_selector("#behaviour-out[data-ready]", timeout=120_000)
    assert int(page.locator("#behaviour-occupancy").get_attribute("data-total")) > 0
    assert int(page.locator("#behaviour-field").get_attribute("data-arrows")) > 100
    shoot(page, shots, "behaviour")


def test_play_with_the_keyboard_until_the_enemy_catches_the_player(page: Any, server: Any, shots: Path) -> None:
    page.goto(f"{server.base}/#play")
    page.wait_for_selector("#play-start")
    page.select_option("#play-opponent", "bot:chase")
    page.click("#play-start")
    page.wait_for_selector("#play-canvas[data-frame]")
    canvas = page.locator("#play-canvas")
    before = json.loads(canvas.get_attribute("data-drawn"))["player"]
    page.keyboard.down("ArrowRight")
    page.wait_for_timeout(400)
    page.keyboard.up("ArrowRight")
    after = json.loads(canvas.get_attribute("data-drawn"))["player"]
    moved = (after[0] - before[0]) % 1280
    assert 20 < moved < 400, f"holding the right arrow moved the player by {moved} px"
    page.keyboard.press("Space")
    deadline = time.monotonic() + 60
    while canvas.get_attribute("data-lives") == "3" and time.monotonic() < deadline:
        page.wait_for_timeout(200)  # standing still: the chase bot catches the player
    assert canvas.get_attribute("data-lives") == "2"
    # The game goes on after a life is lost; wait for a second of drawn frames (a loaded machine
    # may not have drawn 60 before the chase bot's first catch).
    wait_for(
        page, "#play-canvas", "data-stats", lambda v: json.loads(v)["inputs"] >= 2 and json.loads(v)["frames"] > 60
    )
    stats = json.loads(canvas.get_attribute("data-stats"))
    assert stats["frames"] > 60 and stats["inputs"] >= 2 and stats["latency_ms_p50"] > 0
    shoot(page, shots, "play")
    page.keyboard.press("Escape")
    page.wait_for_selector("#play-canvas[data-over]")
