"""The CUDA backend: same results as the CPU backend, device arrays through DLPack, errors, leaks.

Tests marked `gpu` need a visible GPU and skip cleanly without one (`aip_engine.backends()` says
why). The others run everywhere: they check what a machine without a GPU or without the CUDA build
reports.

Tolerance of the CPU/GPU comparison: integer, flag and event fields must be equal; float fields must
agree within `STATE_ATOL` (float64 state) and `OUT_ATOL` (float32 observations and rewards). Both
backends evaluate the same formulas in the same order without fused multiply-add (-ffp-contract=off,
-fmad=false), and sqrt and division are correctly rounded on both, so most steps are bit-identical;
the device's sin, cos and atan2 are within 2 ulp of the exact result and may differ from glibc's in
the last bit, which the tolerances cover.
"""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import aip_engine as ae

CUDA = ae.backends()["cuda"]
needs_gpu = pytest.mark.skipif(not CUDA.available, reason=f"no GPU for the CUDA backend: {CUDA.reason}")

STATE_ATOL = 1e-6  # px, px/frame, heading components
OUT_ATOL = 1e-5  # float32 observations, rewards and returns
ROOT = Path(__file__).resolve().parents[3]


def host(a: Any) -> np.ndarray:
    """A host copy of a CPU array or a CUDA DeviceArray."""
    return a if isinstance(a, np.ndarray) else a.to_numpy()


def dlpack_device_type() -> int:
    """2 (kDLCUDA); 1 (kDLCPU) under the host emulation build used to test without a GPU."""
    from aip_engine import _core_cuda

    return 1 if _core_cuda.EMULATED else 2


def torch_cuda() -> Any:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device (a CPU-only torch build or no GPU)")
    return torch


# ---- everywhere ---------------------------------------------------------------------------------


def test_backends_names_cpu_and_cuda() -> None:
    info = ae.backends()
    assert tuple(info) == ("cpu", "cuda")
    assert info["cpu"].built and info["cpu"].available and info["cpu"].reason == ""
    assert isinstance(info["cuda"], ae.BackendInfo)
    assert info["cuda"].available == bool(info["cuda"].devices)
    if not info["cuda"].available:
        assert info["cuda"].reason


@pytest.mark.skipif(CUDA.built, reason="this installation has the CUDA backend")
def test_without_the_cuda_build_only_cpu_is_reported() -> None:
    assert not CUDA.available and CUDA.devices == ()
    assert "not built" in CUDA.reason and "AIP_ENGINE_CUDA=ON" in CUDA.reason


@pytest.mark.skipif(CUDA.available, reason="a GPU is visible")
def test_cuda_backend_without_a_gpu_is_a_clear_backend_error() -> None:
    with pytest.raises(ae.BackendError) as err:
        ae.Worlds("chase-v1", 4, backend="cuda")
    text = str(err.value)
    assert "cuda" in text
    if CUDA.built:
        assert "needs a GPU" in text and "backend='cpu'" in text
    else:
        assert "not built" in text and "AIP_ENGINE_CUDA=ON" in text


def test_gpu_is_not_a_backend_name_and_the_message_says_cuda() -> None:
    with pytest.raises(ae.UnknownNameError, match="named 'cuda'"):
        ae.Worlds("chase-v1", 4, backend="gpu")
    with pytest.raises(ae.UnknownNameError, match="Valid backends: cpu, cuda"):
        ae.Worlds("chase-v1", 4, backend="tpu")


@pytest.mark.skipif(not CUDA.built or CUDA.available, reason="needs the CUDA build on a machine without a GPU")
def test_cuda_module_calls_without_a_gpu_raise_instead_of_exiting() -> None:
    code = (
        "import numpy as np, aip_engine as ae, aip_engine._core_cuda as c\n"
        "n, reason = c.device_count(); assert n == 0 and reason, (n, reason)\n"
        "for call in (lambda: c.to_device(np.zeros(3)), lambda: c.mem_info(0), lambda: c.synchronize(0)):\n"
        "    try:\n"
        "        call()\n"
        "    except ae.BackendError as exc:\n"
        "        assert 'no usable GPU' in str(exc), exc\n"
        "    else:\n"
        "        raise AssertionError('no BackendError')\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not found")
def test_the_cuda_backend_compiles(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_cuda_build.py"), "--build-dir", str(tmp_path / "build")],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "built:" in done.stdout
    assert list((tmp_path / "build").rglob("_core_cuda*.so"))


# ---- CPU and GPU step the same worlds ------------------------------------------------------------


def _actions(rng: np.random.Generator, worlds: ae.Worlds) -> dict[str, np.ndarray]:
    acts = {}
    for role in worlds.agents:
        a = rng.uniform(-1.2, 1.2, (worlds.num_worlds, ae.role_layout(role).act_size)).astype(np.float32)
        acts[role] = a
    return acts


def _step(worlds: ae.Worlds, acts: dict[str, np.ndarray]) -> None:
    if not worlds.agents:
        worlds.step(None)
    elif len(worlds.agents) == 1:
        worlds.step(acts[worlds.agents[0]])
    else:
        worlds.step(acts)


def _compare_outputs(cpu: ae.Worlds, dev: ae.Worlds, where: str) -> dict[str, float]:
    """Asserts equal events, flags and counters and close floats; returns the largest float gaps."""
    gaps: dict[str, float] = {}
    exact = {
        "terminated": (cpu.terminated, dev.terminated),
        "truncated": (cpu.truncated, dev.truncated),
        "events": (cpu.events, dev.events),
        "success": (cpu.success, dev.success),
        "episode_frames": (cpu.episode_frames, dev.episode_frames),
        "frame": (cpu.frame, dev.frame),
    }
    for role in ("player", "enemy", "missile"):
        exact[f"success_of({role})"] = (cpu.success_of(role), dev.success_of(role))
    for name, (a, b) in exact.items():
        np.testing.assert_array_equal(host(b), a, err_msg=f"{name} differs {where}")
    close: dict[str, tuple[Any, Any]] = {}
    for role in ("player", "enemy", "missile"):
        close[f"rewards({role})"] = (cpu.rewards(role), dev.rewards(role))
        close[f"episode_return({role})"] = (cpu.episode_return(role), dev.episode_return(role))
    for role in cpu.agents:
        close[f"observations({role})"] = (cpu.observations(role), dev.observations(role))
        close[f"final_observations({role})"] = (cpu.final_observations(role), dev.final_observations(role))
    for name, (a, b) in close.items():
        got = host(b)
        np.testing.assert_allclose(got, a, rtol=0, atol=OUT_ATOL, err_msg=f"{name} differs {where}")
        gaps[name] = float(np.max(np.abs(got.astype(np.float64) - a))) if a.size else 0.0
    return gaps


def _compare_state(cpu: ae.Worlds, dev: ae.Worlds, where: str) -> dict[str, float]:
    gaps: dict[str, float] = {}
    cs, ds = cpu.state(), dev.state()
    assert set(cs) == set(ds)
    for name, a in cs.items():
        b = host(ds[name])
        assert b.dtype == a.dtype and b.shape == a.shape, name
        if a.dtype.kind == "f":
            np.testing.assert_allclose(b, a, rtol=0, atol=STATE_ATOL, err_msg=f"state {name} differs {where}")
            gaps[f"state {name}"] = float(np.max(np.abs(b - a))) if a.size else 0.0
        else:
            np.testing.assert_array_equal(b, a, err_msg=f"state {name} differs {where}")
    for name, a in cpu.params.items():
        np.testing.assert_array_equal(host(dev.params[name]), a, err_msg=f"params {name} differ {where}")
    return gaps


def _run_both(
    task: str, n: int, steps: int, seed: int, **kwargs: Any
) -> tuple[ae.Worlds, ae.Worlds, dict[str, float], int]:
    """Steps a CPU and a GPU batch with the same seeds and actions, comparing as it goes.

    Returns:
        Both batches, the largest gap of every float field, and the number of episodes that ended.
    """
    cpu = ae.Worlds(task, n, seed=seed, threads=2, **kwargs)
    dev = ae.Worlds(task, n, seed=seed, backend="cuda", **kwargs)
    gaps = _compare_state(cpu, dev, "after the first reset")
    rng = np.random.default_rng(seed)
    worst: dict[str, float] = {}
    ended = 0
    for t in range(steps):
        acts = _actions(rng, cpu)
        _step(cpu, acts)
        _step(dev, acts)
        ended += int(np.sum(cpu.terminated | cpu.truncated))
        gaps = _compare_outputs(cpu, dev, f"at step {t}")
        if t % 25 == 0 or t == steps - 1:
            gaps.update(_compare_state(cpu, dev, f"at step {t}"))
        for k, v in gaps.items():
            worst[k] = max(worst.get(k, 0.0), v)
    return cpu, dev, worst, ended


@pytest.mark.parametrize("task", ae.tasks())
@pytest.mark.gpu
@needs_gpu
def test_gpu_matches_cpu_on_every_task(task: str) -> None:
    # A short time limit makes every world finish episodes (truncation and automatic resets).
    limit = 120 if task != "play-v1" else None
    config = {"time_limit": limit} if limit else None
    _, _, worst, ended = _run_both(task, 1024, 300, seed=11, config=config)
    if limit:
        assert ended >= 1024  # every world finished at least one episode
    bit_identical = [k for k, v in worst.items() if v == 0.0]
    print(
        f"{task}: bit-identical fields {len(bit_identical)}/{len(worst)}; largest gaps",
        {k: v for k, v in worst.items() if v > 0},
    )


@pytest.mark.gpu
@needs_gpu
def test_gpu_matches_cpu_with_clamp_walls_bots_and_masked_resets() -> None:
    controllers = {"enemy": "dodge", "player": "flee"}
    kwargs: dict[str, Any] = {"config": {"boundary": "clamp", "time_limit": 200}, "controllers": controllers}
    cpu, dev, _, _ = _run_both("dodge-v1", 512, 50, seed=3, **kwargs)
    mask = np.zeros(512, dtype=bool)
    mask[::3] = True
    cpu.reset(seed=99, mask=mask)
    dev.reset(seed=99, mask=mask)
    _compare_state(cpu, dev, "after a masked reseed")
    cpu.reset(mask=~mask)
    dev.reset(mask=~mask)
    _compare_state(cpu, dev, "after a masked reset without reseeding")
    for _ in range(100):
        cpu.step(None)
        dev.step(None)
        _compare_outputs(cpu, dev, "after the masked resets")
    _compare_state(cpu, dev, "at the end")


@pytest.mark.gpu
@needs_gpu
def test_gpu_per_world_params_and_set_state_match_cpu() -> None:
    cpu = ae.Worlds("chase-flee-v1", 256, seed=5, threads=2)
    dev = ae.Worlds("chase-flee-v1", 256, seed=5, backend="cuda")
    speeds = np.linspace(1.0, 8.0, 256)
    cpu.params["enemy_speed"][:] = speeds
    dev.params["enemy_speed"][:] = speeds
    cpu.set_state("player_pos", [[640.0, 360.0]])
    dev.set_state("player_pos", [[640.0, 360.0]])
    _compare_outputs(cpu, dev, "after set_state")
    rng = np.random.default_rng(1)
    for t in range(100):
        acts = _actions(rng, cpu)
        _step(cpu, acts)
        _step(dev, acts)
        _compare_outputs(cpu, dev, f"at step {t}")
    _compare_state(cpu, dev, "at the end")


# ---- device arrays ----------------------------------------------------------------------------


@pytest.mark.gpu
@needs_gpu
def test_outputs_are_device_arrays_with_a_cpu_copy_on_request() -> None:
    dev = ae.Worlds("chase-v1", 64, seed=0, backend="cuda")
    obs: Any = dev.reset(seed=0)  # a DeviceArray
    assert obs.shape == (64, 24) and obs.dtype == np.float32 and obs.device == "cuda:0"
    assert obs.__dlpack_device__() == (dlpack_device_type(), 0)
    cai = obs.__cuda_array_interface__
    assert cai["shape"] == (64, 24) and cai["typestr"] == "<f4" and cai["data"][0] == obs.data_ptr
    copy = obs.to_numpy()
    assert isinstance(copy, np.ndarray) and copy.shape == (64, 24)
    np.testing.assert_array_equal(np.asarray(obs), copy)
    assert dev.events.dtype == np.uint8 and dev.terminated.dtype == np.bool_


@pytest.mark.gpu
@needs_gpu
def test_torch_sees_observations_without_a_copy_and_they_stay_in_place() -> None:
    torch = torch_cuda()
    dev = ae.Worlds("chase-v1", 4096, seed=0, backend="cuda")
    result: Any = dev.step(np.zeros((4096, 2), np.float32))  # DeviceArrays
    t_obs = torch.from_dlpack(result.obs)
    t_rew = torch.from_dlpack(result.reward)
    t_done = torch.from_dlpack(result.terminated)
    assert t_obs.is_cuda and t_obs.data_ptr() == result.obs.data_ptr
    assert t_rew.data_ptr() == result.reward.data_ptr and t_done.dtype == torch.bool
    assert torch.as_tensor(result.obs, device="cuda").data_ptr() == result.obs.data_ptr  # CUDA array interface
    before = t_obs.clone()
    again: Any = dev.step(np.ones((4096, 2), np.float32))
    assert again.obs.data_ptr == result.obs.data_ptr  # the same buffer every step
    assert not torch.equal(before, t_obs)  # the torch view sees the new step without a new export
    np.testing.assert_array_equal(t_obs.cpu().numpy(), again.obs.to_numpy())


@pytest.mark.gpu
@needs_gpu
def test_an_exported_tensor_keeps_the_worlds_memory_alive() -> None:
    torch = torch_cuda()
    dev = ae.Worlds("chase-v1", 128, seed=0, backend="cuda")
    t = torch.from_dlpack(dev.observations("enemy"))
    expected = host(dev.observations("enemy"))
    del dev
    gc.collect()
    torch.cuda.synchronize()
    np.testing.assert_array_equal(t.cpu().numpy(), expected)


@pytest.mark.gpu
@needs_gpu
def test_actions_from_a_torch_cuda_tensor_match_numpy_actions_on_the_cpu() -> None:
    torch = torch_cuda()
    cpu = ae.Worlds("dodge-v1", 2048, seed=2, threads=2)
    dev = ae.Worlds("dodge-v1", 2048, seed=2, backend="cuda")
    gen = torch.Generator(device="cuda").manual_seed(0)
    for t in range(60):
        acts = torch.rand((2048, 2), device="cuda", generator=gen) * 2 - 1
        dev.step(acts)
        cpu.step(acts.cpu().numpy())
        _compare_outputs(cpu, dev, f"at step {t}")
    # A device mask from torch, too.
    mask = torch.zeros(2048, dtype=torch.bool, device="cuda")
    mask[::2] = True
    dev.reset(seed=4, mask=mask)
    cpu.reset(seed=4, mask=mask.cpu().numpy())
    _compare_state(cpu, dev, "after a torch-masked reset")


@pytest.mark.gpu
@needs_gpu
def test_actions_from_engine_device_arrays_need_no_torch() -> None:
    from aip_engine import _core_cuda

    cpu = ae.Worlds("chase-v1", 1000, seed=8, threads=2)
    dev = ae.Worlds("chase-v1", 1000, seed=8, backend="cuda")
    rng = np.random.default_rng(0)
    for t in range(30):
        a = rng.uniform(-1, 1, (1000, 2)).astype(np.float32)
        dev.step(_core_cuda.to_device(a))
        cpu.step(a)
        _compare_outputs(cpu, dev, f"at step {t}")


# ---- errors -----------------------------------------------------------------------------------


@pytest.mark.gpu
@needs_gpu
def test_bad_actions_are_rejected_with_the_cpu_backends_messages() -> None:
    cpu = ae.Worlds("chase-v1", 16, seed=0, threads=1)
    dev = ae.Worlds("chase-v1", 16, seed=0, backend="cuda")
    bad_inputs: list[Any] = [
        np.zeros((16, 3), np.float32),
        np.zeros((15, 2), np.float32),
        np.zeros((16, 2), np.float64),
        np.zeros((2, 16), np.float32).T,
        [[0.0, 0.0]] * 16,
    ]
    for bad in bad_inputs:
        with pytest.raises(ae.ShapeError):
            cpu.step(bad)
        with pytest.raises(ae.ShapeError):
            dev.step(bad)
    nan = np.zeros((16, 2), np.float32)
    nan[7, 1] = np.nan
    with pytest.raises(ae.ActionError) as cpu_err:
        cpu.step(nan)
    with pytest.raises(ae.ActionError) as dev_err:
        dev.step(nan)
    assert str(dev_err.value) == str(cpu_err.value)
    assert "world 7" in str(dev_err.value) and "move_y" in str(dev_err.value)
    assert int(host(dev.frame)[0]) == 0  # nothing was stepped


@pytest.mark.gpu
@needs_gpu
def test_non_finite_actions_on_the_device_raise_action_error() -> None:
    torch = torch_cuda()
    dev = ae.Worlds("chase-v1", 100_000, seed=0, backend="cuda")
    acts = torch.zeros((100_000, 2), device="cuda")
    acts[77_777, 0] = float("inf")
    acts[99_999, 1] = float("nan")
    with pytest.raises(ae.ActionError, match=r"world 77777, field 'move_x' is inf"):
        dev.step(acts)
    with pytest.raises(ae.ShapeError, match="C-contiguous"):
        dev.step(torch.zeros((2, 100_000), device="cuda").T)
    with pytest.raises(ae.ShapeError, match="float32"):
        dev.step(torch.zeros((100_000, 2), device="cuda", dtype=torch.float64))
    dev.step(torch.zeros((100_000, 2), device="cuda"))  # still usable
    assert int(host(dev.frame)[0]) == 1


@pytest.mark.gpu
@needs_gpu
def test_bad_params_raise_config_error_like_the_cpu() -> None:
    cpu = ae.Worlds("chase-v1", 32, seed=0, threads=1)
    dev = ae.Worlds("chase-v1", 32, seed=0, backend="cuda")
    for w in (cpu, dev):
        w.params["enemy_speed"][9] = -2.0
        w.params["enemy_speed"][20] = 5000.0
    acts = np.zeros((32, 2), np.float32)
    with pytest.raises(ae.ConfigError) as cpu_err:
        cpu.step(acts)
    with pytest.raises(ae.ConfigError) as dev_err:
        dev.step(acts)
    assert str(dev_err.value) == str(cpu_err.value)
    assert "params['enemy_speed'][9]" in str(dev_err.value)


BAD_PARAMS = [
    ("player_speed", -1.0),
    ("enemy_speed", 1e4),
    ("enemy_speed_scale", float("nan")),
    ("missile_speed", -0.5),
    ("arena_width", 50.0),
    ("arena_height", 2e6),
    ("fire_probability", 1.5),
    ("max_missiles", 4),
    ("player_bot", 9),
    ("enemy_bot", -2),
    ("guidance", 2),
]


@pytest.mark.parametrize(("field", "value"), BAD_PARAMS)
@pytest.mark.gpu
@needs_gpu
def test_every_bad_param_is_reported_like_the_cpu(field: str, value: float) -> None:
    cpu = ae.Worlds("dodge-v1", 40, seed=0, threads=1)
    dev = ae.Worlds("dodge-v1", 40, seed=0, backend="cuda")
    acts = np.zeros((40, 2), np.float32)
    for w in (cpu, dev):
        good = host(w.params[field])[0].item()
        w.params[field][31] = value
        w.params[field][17] = value
    with pytest.raises(ae.ConfigError) as cpu_err:
        cpu.step(acts)
    with pytest.raises(ae.ConfigError) as dev_err:
        dev.step(acts)
    assert str(dev_err.value) == str(cpu_err.value)
    assert f"params['{field}'][17]" in str(dev_err.value)
    with pytest.raises(ae.ConfigError):
        dev.reset(seed=1)  # reset checks them too
    for w in (cpu, dev):
        w.params[field][:] = good
        w.step(acts)


@pytest.mark.gpu
@needs_gpu
def test_cuda_errors_become_backend_errors_and_the_process_goes_on() -> None:
    with pytest.raises(ae.BackendError, match="does not exist"):
        ae.Worlds("chase-v1", 4, backend="cuda:99")
    with pytest.raises(ae.BackendError, match="cannot allocate"):
        ae.Worlds("chase-v1", 10**11, backend="cuda")
    w = ae.Worlds("chase-v1", 4, backend="cuda")  # the device is still usable
    w.step(np.zeros((4, 2), np.float32))


@pytest.mark.gpu
@needs_gpu
def test_no_device_memory_leaks_over_many_worlds_and_resets() -> None:
    from aip_engine import _core_cuda

    def cycle() -> None:
        w = ae.Worlds("dodge-v1", 100_000, seed=1, backend="cuda")
        w.reset(seed=2)
        w.step(np.zeros((100_000, 2), np.float32))
        w.observations("player")
        w.reset(mask=np.ones(100_000, dtype=bool))
        _core_cuda.to_device(np.zeros((100_000, 2), np.float32))
        del w

    cycle()  # first use loads the kernels (lazy module loading takes device memory once)
    gc.collect()
    _core_cuda.synchronize(0)
    free_before, _ = _core_cuda.mem_info(0)
    for _ in range(100):
        cycle()
    gc.collect()
    _core_cuda.synchronize(0)
    free_after, _ = _core_cuda.mem_info(0)
    assert free_before - free_after < 2**20, f"{(free_before - free_after) / 2**20:.1f} MiB not returned"


@pytest.mark.gpu
@needs_gpu
def test_concurrent_calls_on_one_gpu_batch_are_refused() -> None:
    import threading

    w = ae.Worlds("dodge-v1", 1_000_000, backend="cuda")
    a = np.zeros((1_000_000, 2), np.float32)  # host actions: each step copies 8 MB in, a long call
    stop = threading.Event()
    refused: list[Exception] = []

    def hammer() -> None:
        while not stop.is_set():
            try:
                w.step(a)
            except ae.EngineError as exc:
                refused.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for _ in range(200):
            if refused:
                break
            try:
                w.step(a)
            except ae.EngineError as exc:
                refused.append(exc)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert refused, "no concurrent call was refused"
    assert "another thread" in str(refused[0])
    w.step(a)  # the batch is usable afterwards


# ---- the DLPack protocol under the host emulation build (no GPU needed) --------------------------


def _emulated() -> bool:
    if not CUDA.available:
        return False
    from aip_engine import _core_cuda

    return bool(_core_cuda.EMULATED)


needs_emulation = pytest.mark.skipif(
    not _emulated(), reason="needs the host emulation build (-DAIP_ENGINE_CUDA_EMULATE=ON)"
)


@needs_emulation
def test_emulated_device_arrays_export_through_dlpack_without_a_copy() -> None:
    torch = pytest.importorskip("torch")
    dev = ae.Worlds("chase-v1", 256, seed=0, backend="cuda")
    result: Any = dev.step(np.zeros((256, 2), np.float32))
    as_numpy = np.from_dlpack(result.obs)
    as_torch = torch.from_dlpack(result.obs)
    assert as_numpy.__array_interface__["data"][0] == result.obs.data_ptr
    assert as_torch.data_ptr() == result.obs.data_ptr
    assert torch.from_dlpack(result.terminated).dtype == torch.bool
    assert torch.from_dlpack(result.events).dtype == torch.uint8
    dev.step(np.ones((256, 2), np.float32))
    np.testing.assert_array_equal(as_numpy, result.obs.to_numpy())  # the views follow the steps
    np.testing.assert_array_equal(as_torch.numpy(), result.obs.to_numpy())
    expected = result.obs.to_numpy()
    del dev, result
    gc.collect()
    np.testing.assert_array_equal(as_torch.numpy(), expected)  # the export keeps the memory alive
    capsule = ae.Worlds("chase-v1", 4, backend="cuda").observations("enemy").__dlpack__()
    del capsule  # an unconsumed capsule frees its tensor without a consumer


@needs_emulation
def test_emulated_actions_and_masks_through_dlpack_match_the_cpu() -> None:
    torch = pytest.importorskip("torch")
    cpu = ae.Worlds("dodge-v1", 300, seed=6, threads=1)
    dev = ae.Worlds("dodge-v1", 300, seed=6, backend="cuda")
    rng = np.random.default_rng(2)
    for t in range(40):
        a = rng.uniform(-1, 1, (300, 2)).astype(np.float32)
        dev.step(torch.from_numpy(a))  # a DLPack producer on the host
        cpu.step(a)
        _compare_outputs(cpu, dev, f"at step {t}")
    mask = torch.arange(300) % 4 == 0
    dev.reset(seed=1, mask=mask)
    cpu.reset(seed=1, mask=mask.numpy())
    _compare_state(cpu, dev, "after a DLPack-masked reset")
    with pytest.raises(ae.ShapeError, match="C-contiguous"):
        dev.step(torch.zeros((2, 300)).T)
    with pytest.raises(ae.ShapeError, match="float32"):
        dev.step(torch.zeros((300, 2), dtype=torch.float64))
    bad = torch.zeros((300, 2))
    bad[123, 1] = float("nan")
    with pytest.raises(ae.ActionError, match="world 123, field 'move_y' is nan"):
        dev.step(bad)


def test_the_gpu_benchmark_runs_or_says_why_not(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib
    import json

    sys.path.insert(0, str(ROOT / "tools" / "bench"))
    try:
        bench = importlib.import_module("engine_gpu")
        args = ["--quick", "--json", "--tasks", "chase-v1", "--batches", "256", "--seconds", "0.01"]
        assert bench.main(args) == 0
    finally:
        sys.path.remove(str(ROOT / "tools" / "bench"))
        for name in ("engine_gpu", "engine", "_numpy_chase"):
            sys.modules.pop(name, None)
    out = capsys.readouterr().out
    if not CUDA.available:
        assert out.startswith("skipped: ") and CUDA.reason in out
        return
    report = json.loads(out)
    (row,) = report["gpu"]
    assert row["task"] == "chase-v1" and row["batch"] == 256 and row["world_steps_per_s"] > 0
    assert row["bytes_per_world_step"] > 500
    assert report["cpu"][0]["batch"] == 256
