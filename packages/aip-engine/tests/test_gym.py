"""The Gymnasium and PettingZoo adapters (aip_engine.gym) over the compiled engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402
from gymnasium.vector import AutoresetMode, VectorEnv  # noqa: E402
from gymnasium.wrappers.vector import RecordEpisodeStatistics  # noqa: E402

import aip_engine as ae  # noqa: E402
import aip_engine.gym as ag  # noqa: E402

IDS = list(ag.ENV_IDS)


def test_importing_the_engine_does_not_import_gymnasium() -> None:
    code = (
        "import sys, aip_engine; aip_engine.Worlds; aip_engine.reference.Worlds; assert 'gymnasium' not in sys.modules"
    )
    code = "import aip_engine.reference\n" + code
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("env_id", IDS)
def test_single_env_passes_gymnasiums_checker(env_id: str) -> None:
    env = gymnasium.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_make_finds_the_ids_without_an_explicit_import() -> None:
    # The start-up hook calls the `gymnasium.envs` entry point when gymnasium is imported.
    code = (
        "import sys, gymnasium\n"
        "env = gymnasium.make('aip/Chase-v1')\n"
        "obs, info = env.reset(seed=1)\n"
        "assert obs.shape == (24,)\n"
        "venv = gymnasium.make_vec('aip/Dodge-v1', num_envs=4)\n"
        "assert type(venv).__name__ == 'AipVectorEnv'\n"
        "env = gymnasium.make('aip_engine.gym:aip/Chase-v1')\n"  # the module-prefixed id still works
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_hook_is_what_registers_and_can_be_turned_off() -> None:
    import os

    code = (
        "import gymnasium\n"
        "try:\n    gymnasium.make('aip/Chase-v1')\nexcept gymnasium.error.NamespaceNotFound:\n    raise SystemExit(3)\n"
    )
    env = dict(os.environ, AIP_ENGINE_NO_GYMNASIUM_PLUGIN="1")
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 3
    # Importing the adapters registers them too.
    code = "import aip_engine.gym, gymnasium\ngymnasium.make('aip/Intercept-v1')\n"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    # The entry point is declared in Gymnasium's plugin group.
    from importlib.metadata import entry_points

    (ep,) = entry_points(group="gymnasium.envs", name="aip")
    assert ep.value == "aip_engine.gym:register_envs"


@pytest.mark.parametrize("env_id", IDS)
def test_single_env_episodes_end_by_the_task_rules(env_id: str) -> None:
    env = gymnasium.make(env_id)
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)
    ended = 0
    for _ in range(2000):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert isinstance(reward, float)
        assert info["events"].shape == (len(ae.EVENTS),)
        if terminated or truncated:
            ended += 1
            assert info["episode_frames"] >= 1
            assert isinstance(info["success"], bool)
            obs, _ = env.reset()
    assert ended >= 1
    env.close()


def test_single_env_refuses_to_step_a_finished_episode() -> None:
    env = ag.AipEnv("chase-v1", config={"time_limit": 3})
    env.reset(seed=0)
    for _ in range(3):
        *_, truncated, _info = env.step(np.zeros(2, np.float32))
    assert truncated
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))


@pytest.mark.parametrize("env_id", IDS)
def test_make_vec_gives_the_engine_batch_with_same_step_autoreset(env_id: str) -> None:
    venv = gymnasium.make_vec(env_id, num_envs=16)
    assert isinstance(venv, VectorEnv)
    assert isinstance(venv.unwrapped, ag.AipVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, _ = venv.reset(seed=5)
    shape = venv.single_observation_space.shape
    assert shape is not None and obs.shape == (16, *shape)
    assert obs.dtype == np.float32
    assert venv.observation_space.contains(obs)
    finished = 0
    for _ in range(950):
        actions = venv.action_space.sample()
        obs, rewards, terms, truncs, infos = venv.step(actions)
        assert rewards.shape == (16,) and rewards.dtype == np.float32
        assert terms.dtype == np.bool_ and truncs.dtype == np.bool_
        done = terms | truncs
        if done.any():
            finished += int(done.sum())
            np.testing.assert_array_equal(infos["_final_obs"], done)
            for i in np.flatnonzero(done):
                final = infos["final_obs"][i]
                assert final.shape == venv.single_observation_space.shape
                assert infos["final_info"]["episode_frames"][i] >= 1
            # The returned observation is the next episode's first: its frame counter is 0.
            assert (venv.unwrapped.worlds.frame[done] == 0).all()
        else:
            assert "final_obs" not in infos
    assert finished > 0
    venv.close()


def test_vector_env_is_deterministic_and_supports_a_reset_mask() -> None:
    a = ag.AipVectorEnv("dodge-v1", 8)
    b = ag.AipVectorEnv("dodge-v1", 8)
    oa, _ = a.reset(seed=2)
    ob, _ = b.reset(seed=2)
    np.testing.assert_array_equal(oa, ob)
    rng = np.random.default_rng(0)
    for _ in range(50):
        act = rng.uniform(-1, 1, (8, 2)).astype(np.float32)
        ra = a.step(act)
        rb = b.step(act)
        np.testing.assert_array_equal(ra[0], rb[0])
        np.testing.assert_array_equal(ra[1], rb[1])
    before, _ = a.reset(seed=None, options={"reset_mask": np.zeros(8, bool)})
    after, _ = a.reset(seed=None, options={"reset_mask": np.array([True] + [False] * 7)})
    np.testing.assert_array_equal(before[1:], after[1:])
    assert not np.array_equal(before[0], after[0])


def test_vector_env_matches_the_reference_adapter() -> None:
    fast = ag.AipVectorEnv("chase-flee-v1", 6)
    slow = ag.AipVectorEnv("chase-flee-v1", 6, reference=True)
    np.testing.assert_array_equal(fast.reset(seed=9)[0], slow.reset(seed=9)[0])
    rng = np.random.default_rng(1)
    for _ in range(300):
        act = rng.uniform(-1, 1, (6, 2)).astype(np.float32)
        f = fast.step(act)
        s = slow.step(act.copy())
        for x, y in zip(f[:4], s[:4], strict=True):
            np.testing.assert_array_equal(x, y)


def test_record_episode_statistics_sees_the_task_episodes() -> None:
    venv = RecordEpisodeStatistics(gymnasium.make_vec("aip/Chase-v1", num_envs=8))
    venv.reset(seed=0)
    lengths: list[int] = []
    for _ in range(700):
        _, _, _terms, _truncs, infos = venv.step(venv.action_space.sample())
        if "episode" in infos:
            done = infos["_episode"]
            lengths += infos["episode"]["l"][done].tolist()
            np.testing.assert_array_equal(infos["episode"]["l"][done], infos["final_info"]["episode_frames"][done])
    assert lengths and max(lengths) <= 600


# PettingZoo's seed test itself calls an API that PettingZoo 1.27 deprecates.
@pytest.mark.filterwarnings("ignore:The old environment creation API:DeprecationWarning")
def test_duel_parallel_env_passes_the_pettingzoo_api_test() -> None:
    pytest.importorskip("pettingzoo")
    from pettingzoo.test import parallel_api_test, parallel_seed_test

    parallel_api_test(ag.DuelParallelEnv(), num_cycles=2000)
    parallel_seed_test(lambda: ag.DuelParallelEnv())


def test_duel_pays_the_roles_in_opposite_directions() -> None:
    env = ag.DuelParallelEnv()
    obs, _ = env.reset(seed=4)
    assert set(obs) == {"player", "enemy"}
    assert obs["player"].shape == (26,) and obs["enemy"].shape == (24,)
    ends = 0
    for _ in range(3000):
        if not env.agents:
            env.reset()
            continue
        acts = {a: env.action_space(a).sample() for a in env.agents}
        _, rewards, terms, _truncs, infos = env.step(acts)
        if terms["player"]:
            ends += 1
            events = infos["player"]["events"]
            if events[ae.EVENTS.index("hit")]:
                assert rewards["player"] > 5 and rewards["enemy"] < -3
            if events[ae.EVENTS.index("catch")]:
                assert rewards["enemy"] > 5 and rewards["player"] < -3
    assert ends > 0


def test_multi_agent_tasks_are_refused_by_the_single_agent_adapters() -> None:
    with pytest.raises(ValueError, match="DuelParallelEnv"):
        ag.AipEnv("duel-v1")


def test_rgb_array_rendering_draws_the_entities() -> None:
    env = gymnasium.make("aip/Dodge-v1", render_mode="rgb_array")
    check_env(env.unwrapped)  # with the render check
    env.reset(seed=1)
    for _ in range(200):
        *_, terminated, truncated, _info = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
    img = env.render()
    assert isinstance(img, np.ndarray) and img.shape == (360, 640, 3) and img.dtype == np.uint8
    colours = {tuple(c) for c in img.reshape(-1, 3)[::7].tolist()}
    assert (80, 160, 255) in colours  # the player
    env.close()


def test_stable_baselines3_make_vec_env_accepts_the_id() -> None:
    sb3 = pytest.importorskip("stable_baselines3.common.env_util")
    venv = sb3.make_vec_env("aip/Chase-v1", n_envs=2, seed=0)
    obs = venv.reset()
    assert obs.shape == (2, 24)
    venv.close()
