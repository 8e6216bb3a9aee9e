"""Recordings replay frame-exact: across level-ups, against policies, with parameter changes by mods."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from aip_game import recording, replay
from aip_game._balance import default_balance
from aip_game._opponents import BotOpponent, Opponent, PolicyOpponent
from aip_game._session import GameSession
from aip_game.recording import RecordingWriter, load

FIXTURES = Path(__file__).parent / "data"


def _record(
    path: Path,
    frames: int,
    *,
    side: str = "player",
    opponent: Opponent | None = None,
    partner: Opponent | None = None,
    seed: int = 11,
    lives: int = 1000,
    on_frame: Callable[[GameSession], None] | None = None,
) -> GameSession:
    """Play `frames` frames with a scripted person (turns and shots drawn from a seeded generator)."""
    balance = dataclasses.replace(default_balance(), lives=lives)
    if opponent is None:
        opponent = BotOpponent("enemy" if side != "enemy" else "player", "chase" if side != "enemy" else "flee")
    s = GameSession(side, opponent, seed=seed, partner=partner, balance=balance)
    s.recorder = RecordingWriter(path, {**s.recording_header(), "created": "now", "game_version": "test"})
    rng = np.random.default_rng(seed)
    move = np.zeros(2, dtype=np.float32)
    for _ in range(frames):
        if s.over:
            break
        if rng.random() < 1 / 30:
            move = rng.choice([-1.0, 0.0, 1.0], size=2).astype(np.float32)
        if on_frame is not None:
            on_frame(s)
        if s.human_role == "player":
            s.set_human_action([move[0], move[1], float(rng.random() < 0.3)])
        elif s.human_role == "enemy":
            s.set_human_action(move)
        s.step()
    if not s.over:
        s.end("quit")
    return s


@pytest.mark.slow
def test_a_game_past_three_level_ups_replays_frame_exact(tmp_path: Path) -> None:
    path = tmp_path / "long.aiprec"
    levels = default_balance().frames_per_level
    played = _record(path, 3 * levels + 300)
    assert played.level == 4
    rec = load(path)
    assert rec.complete and len(rec) == played.frame and rec.replayable
    assert rec.outcome == {
        "reason": "quit",
        "score": played.score,
        "lives": played.lives,
        "level": 4,
        "frames": played.frame,
    }
    # every level's parameter change is in the file, at the frame it first applied to
    speed = [(c.frame, c.value) for c in rec.param_changes if c.name == "enemy_speed_scale"]
    assert [f for f, _ in speed] == [levels, 2 * levels, 3 * levels]
    started = time.perf_counter()
    result = replay.verify(path)
    assert result.exact and result.frames == played.frame, result
    assert result.score == played.score == result.recorded_score
    # a replay reproduces the whole state, not only what the HUD shows
    again = replay.Replay(rec)
    again.seek(played.frame)
    for name, value in played.worlds.state().items():
        np.testing.assert_array_equal(again.session.worlds.state()[name], value, err_msg=name)
    assert time.perf_counter() - started < 60


@pytest.mark.slow
def test_without_the_level_changes_a_replay_diverges_after_the_first_level_up(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    levels = default_balance().frames_per_level
    _record(path, levels + 600)
    rec = load(path)
    rec.param_changes = [c for c in rec.param_changes if c.name != "enemy_speed_scale"]
    result = replay.Replay(rec).run()
    assert result.diverged_at is not None and levels <= result.diverged_at < levels + 600


def test_a_policy_opponent_is_replayed_from_its_recorded_actions(
    tmp_path: Path, make_policy: Callable[..., Path]
) -> None:
    policy = make_policy(tmp_path / "enemy.aipp", "enemy", seed=3)
    path = tmp_path / "vs-policy.aiprec"
    played = _record(path, 900, opponent=PolicyOpponent("policy: enemy", "enemy", lambda: policy))
    rec = load(path)
    assert rec.header["opponent"]["kind"] == "policy" and len(rec.header["opponent"]["sha256"]) == 64
    assert [r for r, _ in rec.input_roles] == ["player", "enemy"]
    policy.unlink()  # the replay needs only the file: the policy's actions are in it
    result = replay.verify(path)
    assert result.exact and result.frames == played.frame == 900


def test_parameter_changes_made_during_a_game_are_replayed(tmp_path: Path) -> None:
    def tweak(s: GameSession) -> None:  # what a mod may do through GameView.set_param
        if s.frame == 200:
            s.set_param("player_speed", 6.5)
        if s.frame == 500:
            s.set_param("max_missiles", 1)

    path = tmp_path / "tweaked.aiprec"
    _record(path, 800, on_frame=tweak)
    rec = load(path)
    assert (200, "player_speed", 6.5) in rec.param_changes and (500, "max_missiles", 1.0) in rec.param_changes
    assert replay.verify(path).exact


@pytest.mark.parametrize("side", ["enemy", "watch"])
def test_the_other_sides_replay_too(tmp_path: Path, side: str) -> None:
    path = tmp_path / f"{side}.aiprec"
    if side == "watch":
        played = _record(
            path, 1500, side=side, opponent=BotOpponent("enemy", "dodge"), partner=BotOpponent("player", "kite")
        )
    else:
        played = _record(path, 1500, side=side)
    rec = load(path)
    assert rec.header["side"] == side and rec.header["role"] == ("enemy" if side == "enemy" else "player")
    assert replay.verify(path).exact and len(rec) == played.frame


def test_a_damaged_state_check_is_reported_at_its_frame(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _record(path, 300)
    rec = load(path)
    rec.checks = rec.checks.copy()
    rec.checks[123] ^= 1
    assert replay.Replay(rec).run().diverged_at == 123


def test_seeking_backwards_and_forwards_gives_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _record(path, 600)
    r = replay.Replay(path)
    r.seek(400)
    at_400 = {k: v.copy() for k, v in r.session.worlds.state().items()}
    r.seek(100)
    assert r.frame == 100
    r.seek(400)
    for name, value in at_400.items():
        np.testing.assert_array_equal(r.session.worlds.state()[name], value, err_msg=name)
    r.seek(10_000)
    assert r.frame == 600 and r.done and not r.step()


def test_an_interrupted_recording_replays_what_it_holds(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _record(path, 300)
    data = path.read_bytes()
    cut = tmp_path / "cut.aiprec"
    cut.write_bytes(data[: len(data) - 200])
    rec = load(cut)
    assert not rec.complete and 0 < len(rec) < 300 and rec.outcome is None
    result = replay.verify(cut)
    assert result.exact and result.frames == len(rec)


def test_format_1_recordings_stay_readable_and_are_refused_for_replay(tmp_path: Path) -> None:
    old = tmp_path / "old.aiprec"
    shutil.copy(FIXTURES / "format1-player.aiprec", old)
    rec = load(old)
    assert rec.format_version == 1 and rec.complete and len(rec) == 30
    assert rec.layout == "player-v1" and rec.observations.shape == (30, 26) and rec.actions.shape == (30, 3)
    assert not rec.replayable and rec.inputs.shape == (0, 0) and rec.param_changes == []
    with pytest.raises(replay.ReplayError, match=r"format 1 recording.*demonstration but not replayed"):
        replay.Replay(old)


def test_a_recording_from_a_newer_game_says_to_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    _record(path, 5)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"format_version": 2', b'"format_version": 9', 1))
    with pytest.raises(recording.RecordingError, match="newer aip-game: upgrade"):
        load(path)


def test_non_finite_frames_are_refused_when_written_and_when_read(tmp_path: Path) -> None:
    path = tmp_path / "r.aiprec"
    header = {"role": "player", "layout": "x", "observation_fields": ["a"], "action_fields": ["b"], "events": ["e"]}
    with RecordingWriter(path, header) as w:
        w.add(0, [1.0], [0.0], 0.0, [0])
        with pytest.raises(recording.RecordingError, match="not finite"):
            w.add(1, [float("nan")], [0.0], 0.0, [0])
    assert len(load(path)) == 1
