"""Creating and destroying engines, policies and games in a loop does not grow the resident set.

Each kind of object is made, used and dropped many times in a fresh interpreter (so that no other
test's caches or threads move the numbers); after a warm-up, which fills the allocators' pools and
the import caches, the resident set must stay within a small bound. A leak of one batch of worlds,
one policy or one game per round exceeds the bound many times over.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads the resident set from /proc (Linux)"),
]

# Growth allowed after the warm-up, in MiB: malloc arenas and Python's free lists still settle a
# little; a leaked batch of 1024 worlds is 1.5 MiB, a policy 0.3 MiB, a game's screen 3.5 MiB, so a
# leak of one per round is far above it.
BOUND_MIB = 12

PROGRAM = textwrap.dedent(
    """
    import gc, json, os, sys
    from pathlib import Path

    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    os.environ["PYGAME_HIDE_SUPPORT_PROMPT"] = "1"
    import numpy as np
    import aip_engine as ae

    kind, warmup, rounds, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    os.environ["AIP_GAME_HOME"] = str(folder / "home")
    os.chdir(folder)
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        gc.collect()
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    def policy_file(role: str) -> Path:
        lay = ae.role_layout(role)
        rng = np.random.default_rng(0)
        sizes = [lay.obs_size, 256, 256, lay.act_size]  # about 0.3 MiB of weights
        weights = [rng.normal(0, 0.3, (sizes[i + 1], sizes[i])).astype(np.float32) for i in range(3)]
        biases = [np.zeros(sizes[i + 1], dtype=np.float32) for i in range(3)]
        path = folder / f"{role}.aipp"
        ae.save_policy(path, layout_name=lay.name, weights=weights, biases=biases, activation="tanh",
                       obs_mean=np.zeros(lay.obs_size), obs_var=np.ones(lay.obs_size), task="chase-v1")
        return path

    def engine_round(i: int) -> None:
        task = ("chase-v1", "dodge-v1", "duel-v1", "intercept-v1")[i % 4]
        worlds = ae.Worlds(task, 1024, seed=i, threads=2)
        worlds.reset()
        actions = {role: np.zeros((1024, ae.role_layout(role).act_size), np.float32) for role in worlds.agents}
        for _ in range(5):
            worlds.step(actions)
        worlds.params["enemy_speed"][:] = 4.0
        worlds.step(actions)
        worlds.import_state(worlds.export_state())
        if i % 2:
            worlds.close()  # else dropped with its last reference

    enemy_policy = player_policy = None

    def policy_round(i: int) -> None:
        policy = ae.load_policy(enemy_policy)
        obs = np.zeros((256, policy.obs_size), np.float32)
        for _ in range(3):
            policy.act(obs)

    def game_round(i: int) -> None:
        import pygame
        from aip_game._app import App, Options

        app = App(Options(headless=True, fps=0, mod_dirs=[], entry_point_mods=False, seed=i,
                          get_ready=False, opponent=str(player_policy), side="enemy"))
        for _ in range(30):
            app.tick()
        app.close()

    if kind == "policy":
        enemy_policy = policy_file("enemy")
    if kind == "game":
        player_policy = policy_file("player")
    run = {"engine": engine_round, "policy": policy_round, "game": game_round}[kind]
    for i in range(warmup):
        run(i)
    samples = [resident()]
    for i in range(rounds):
        run(warmup + i)
        if (i + 1) % max(1, rounds // 10) == 0:
            samples.append(resident())
    print(json.dumps(samples))
    """
)


def _resident_samples(kind: str, warmup: int, rounds: int, folder: Path) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, kind, str(warmup), str(rounds), str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    samples: list[int] = json.loads(done.stdout.strip().splitlines()[-1])
    return samples


@pytest.mark.parametrize(
    ("kind", "warmup", "rounds"),
    [("engine", 40, 300), ("policy", 40, 400), ("game", 8, 40)],
)
def test_making_and_dropping_does_not_grow_the_resident_set(
    kind: str, warmup: int, rounds: int, tmp_path: Path
) -> None:
    samples = _resident_samples(kind, warmup, rounds, tmp_path)
    mib = [round(s / 2**20, 1) for s in samples]
    growth = (max(samples[1:]) - samples[0]) / 2**20
    assert growth <= BOUND_MIB, f"{kind}: the resident set grew {growth:.1f} MiB over {rounds} rounds: {mib} MiB"
