"""Replays: the trainer records evaluation episodes frame by frame without changing the training."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import aip_engine
import aip_ml
from aip_ml.replays import ReplayCallback, ReplayError, load_replay, record_episodes, save_replay

TINY = [
    "total_steps=2048",
    "num_worlds=8",
    "rollout_steps=32",
    "epochs=1",
    "minibatch_size=128",
    "hidden_sizes=[16,16]",
    "eval_episodes=0",
    "checkpoint_every=0",
    "torch_threads=1",
    "engine_threads=1",
]


def test_recorded_episodes_are_the_engine_s_own() -> None:
    # The same actor in a batch of our own: a replay must hold exactly what the engine did.
    worlds = aip_engine.Worlds("chase-v1", 2, seed=7, threads=1, auto_reset=False)
    obs = worlds.reset(seed=7)

    class Toward:
        """Moves the enemy straight at the player (from its observation)."""

        def act(self, o: np.ndarray) -> np.ndarray:
            layout = aip_engine.role_layout("enemy")
            dx, dy = o[:, layout.obs_index("player_dx")], o[:, layout.obs_index("player_dy")]
            norm = np.maximum(np.hypot(dx, dy), 1e-6)
            return np.stack([dx / norm, dy / norm], axis=1).astype(np.float32)

    actor = Toward()
    replay = record_episodes("chase-v1", {"enemy": actor}, episodes=2, seed=7, header={"label": "x"})
    assert replay.episodes == 2 and replay.header["label"] == "x"
    for t in range(1, 40):
        worlds.step(actor.act(np.asarray(obs)))
        obs = worlds.observations("enemy")
        st = worlds.state()
        for k in range(2):
            if t <= replay.arrays["frames"][k]:
                np.testing.assert_allclose(replay.arrays["enemy_pos"][k, t], st["enemy_pos"][k], atol=1e-3)
                np.testing.assert_allclose(replay.arrays["player_pos"][k, t], st["player_pos"][k], atol=1e-3)
    ends = replay.arrays["frames"]
    assert all(0 < f <= 601 for f in ends)
    catches = replay.arrays["events"][..., aip_engine.EVENTS.index("catch")].sum(axis=1)
    assert list(catches) == [int(s) for s in replay.arrays["success"]]  # one catch ends a successful episode


def test_save_and_load_round_trip_and_refusals(tmp_path: Path) -> None:
    policy_obj = _Still()
    replay = record_episodes("chase-v1", {"enemy": policy_obj}, episodes=2, seed=3)
    path = save_replay(tmp_path / "a.aipreplay", replay)
    back = load_replay(path)
    assert back.header["task"] == "chase-v1" and back.header["format_version"] == 1
    for name, value in replay.arrays.items():
        np.testing.assert_array_equal(back.arrays[name], value)
    assert back.episode(1)["player_pos"].shape[0] == int(replay.arrays["frames"][1]) + 1
    with pytest.raises(IndexError, match="holds 2"):
        back.episode(2)
    (tmp_path / "junk.aipreplay").write_bytes(b"not a zip")
    with pytest.raises(ReplayError, match="not a replay"):
        load_replay(tmp_path / "junk.aipreplay")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ReplayError, match="no replay header"):
        load_replay(tmp_path / "other.npz")
    (tmp_path / "target").write_text("keep")
    (tmp_path / "link.aipreplay").symlink_to(tmp_path / "target")
    with pytest.raises(ReplayError, match="not a regular file"):
        save_replay(tmp_path / "link.aipreplay", replay)
    assert (tmp_path / "target").read_text() == "keep"


class _Still:
    def act(self, obs: np.ndarray) -> np.ndarray:
        return np.zeros((np.asarray(obs).shape[0], 2), np.float32)


def test_replay_callback_records_during_training_and_changes_nothing(tmp_path: Path) -> None:
    config = aip_ml.load_config("chase-v1", overrides=TINY)
    published: list[Path] = []
    callback = ReplayCallback(recordings=4, episodes=2, publish=published.append)
    with_replays = aip_ml.train(config, run_dir=tmp_path / "a", callbacks=[callback])
    without = aip_ml.train(config, run_dir=tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a" / "replays").iterdir())
    assert names == [f"update-{u:06d}.aipreplay" for u in (0, 2, 4, 6, 8)]
    assert [p.name for p in published] == [f"update-{u:06d}.aipreplay" for u in (0, 2, 4, 6, 8)]
    last = load_replay(tmp_path / "a" / "replays" / "update-000008.aipreplay")
    assert last.header["update"] == 8 and last.header["global_step"] == with_replays.global_step
    assert last.episodes == 2
    # Recording uses worlds of its own: the training is bit for bit the same as without it.
    a = aip_ml.load_checkpoint(with_replays.checkpoint).state["model"]
    b = aip_ml.load_checkpoint(without.checkpoint).state["model"]
    assert all(bool((a[k] == b[k]).all()) for k in a)
    assert math.isclose(with_replays.final_metrics["loss/value"], without.final_metrics["loss/value"])


def test_training_view_gives_each_role_s_policy(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    class Probe(aip_ml.CallbackBase):
        def on_attach(self, view: aip_ml.TrainingView) -> None:
            seen["roles"] = view.roles
            seen["update"] = view.update
            seen["act"] = view.policy().act(np.zeros((1, aip_engine.role_layout("enemy").obs_size), np.float32)).shape
            with pytest.raises(aip_ml.ConfigError, match="not a learning role"):
                view.policy("player")

    config = aip_ml.load_config("chase-v1", overrides=[*TINY, "total_steps=256"])
    aip_ml.train(config, run_dir=tmp_path / "r", callbacks=[Probe()])
    assert seen == {"roles": ("enemy",), "update": 0, "act": (1, 2)}
