"""ONNX export: onnxruntime, the torch policy and the portable runtime choose the same actions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx  # the onnx extra of aip-ml (pip install 'aip-ml[onnx]'; tools/dev.py setup installs it)
import onnxruntime as ort
import pytest
import torch

import aip_engine
import aip_ml
from aip_ml._export import export_torch_policy
from aip_ml.ppo import ActorCritic, ObsNormalizer, RunningMeanStd, TorchPolicy


def _policy(role: str, activation: str, seed: int) -> TorchPolicy:
    """A random policy whose actions and normalised observations reach past their clip bounds."""
    layout = aip_engine.role_layout(role)
    torch.manual_seed(seed)
    model = ActorCritic(layout.obs_size, layout.act_size, (64, 32), activation, -0.5)
    with torch.no_grad():
        for layer in model.linear_layers():
            layer.weight.normal_(0, 1.5 / layer.in_features**0.5)
            layer.bias.normal_(0, 0.3)
    rms = RunningMeanStd((layout.obs_size,))
    rng = np.random.default_rng(seed)
    rms.update(
        rng.normal(
            rng.normal(0, 0.3, layout.obs_size), rng.uniform(0.05, 1.5, layout.obs_size), (1000, layout.obs_size)
        )
    )
    return TorchPolicy(model, ObsNormalizer(rms, layout.obs_size, 5.0), layout, "chase-v1", {"seed": seed})


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _engine_observations(role: str, task: str, n: int) -> np.ndarray:
    """Observations the engine really produces for the role, over a few hundred frames of scripted play."""
    worlds = aip_engine.Worlds(task, 32, seed=5)
    worlds.reset()
    rng = np.random.default_rng(1)
    layout = aip_engine.role_layout(role)
    chunks = []
    for _ in range(n // 32):
        actions = rng.uniform(-1, 1, (32, layout.act_size)).astype(np.float32)
        worlds.step(actions)
        chunks.append(np.array(worlds.observations(role)))
    return np.concatenate(chunks)


@pytest.mark.parametrize(
    ("role", "task"), [("enemy", "chase-v1"), ("missile", "intercept-v1"), ("player", "survive-v1")]
)
@pytest.mark.parametrize("activation", ["tanh", "relu", "elu", "silu"])
def test_onnxruntime_acts_like_torch_and_the_portable_runtime(
    tmp_path: Path, role: str, task: str, activation: str
) -> None:
    torch_policy = _policy(role, activation, seed=21)
    aipp = export_torch_policy(torch_policy, tmp_path / "p.aipp")
    portable = aip_engine.load_policy(aipp, role=role)
    model_path = aip_ml.export_onnx(aipp, tmp_path / "p.onnx")
    onnx.checker.check_model(onnx.load(str(model_path)), full_check=True)
    session = _session(model_path)
    rng = np.random.default_rng(3)
    if task in aip_engine.tasks():
        engine_obs = _engine_observations(role, task, 640)
    else:  # a task of another engineer's lane may not exist yet in this engine
        engine_obs = np.zeros((0, portable.obs_size), np.float32)
    obs = np.concatenate([engine_obs, rng.normal(0, 1.5, (5000, portable.obs_size))]).astype(np.float32)
    action, actor_mean = session.run(["action", "actor_mean"], {"observation": obs})
    np.testing.assert_allclose(action, portable.act(obs), atol=2e-5, rtol=0)
    np.testing.assert_allclose(action, torch_policy.act(obs), atol=2e-5, rtol=0)
    np.testing.assert_allclose(actor_mean, portable.raw_output(obs), atol=2e-5, rtol=1e-5)
    # The comparison covered the clip of the observations and of the actions on both sides.
    assert (np.abs(actor_mean) > 1).any() and (np.abs(actor_mean) < 1).any()
    # One observation at a time (batch 1) gives the same as the batch.
    single = session.run(["action"], {"observation": obs[:1]})[0]
    np.testing.assert_allclose(single, action[:1], atol=1e-6)


def test_the_model_names_its_inputs_outputs_and_role_layout(tmp_path: Path) -> None:
    torch_policy = _policy("player", "tanh", seed=2)
    path = aip_ml.export_onnx(torch_policy, tmp_path / "player.onnx")  # straight from a TorchPolicy too
    model = onnx.load(str(path))
    layout = aip_engine.role_layout("player")
    assert [i.name for i in model.graph.input] == ["observation"]
    assert [o.name for o in model.graph.output] == ["action", "actor_mean"]
    shape = model.graph.input[0].type.tensor_type.shape.dim
    assert shape[0].dim_param == "batch" and shape[1].dim_value == layout.obs_size
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["aip.role"] == "player"
    assert meta["aip.layout"] == layout.name
    assert meta["aip.layout_version"] == str(layout.version)
    assert [f[0] for f in json.loads(meta["aip.observation"])] == [f.name for f in layout.observation]
    assert json.loads(meta["aip.action"]) == [[f.name, f.low, f.high] for f in layout.action]
    assert meta["aip.task"] == "chase-v1"
    assert json.loads(meta["aip.training"])["seed"] == 2
    # Every initializer is float32 and the normalisation is inside the graph (no Python step outside).
    ops = [n.op_type for n in model.graph.node]
    assert ops[:3] == ["Sub", "Mul", "Clip"]
    assert {i.name for i in model.graph.initializer} >= {"obs_mean", "obs_scale", "act_mid", "act_half"}
    session = _session(path)
    assert [i.name for i in session.get_inputs()] == ["observation"]
    assert session.get_modelmeta().custom_metadata_map["aip.layout"] == layout.name


def test_export_from_a_checkpoint_and_refusals(tmp_path: Path) -> None:
    torch_policy = _policy("enemy", "tanh", seed=4)
    aipp = export_torch_policy(torch_policy, tmp_path / "p.aipp")
    out = aip_ml.export_onnx(aipp, tmp_path / "p.onnx")
    before = out.read_bytes()
    with pytest.raises(FileExistsError, match="exists"):
        aip_ml.export_onnx(aipp, out)
    assert out.read_bytes() == before
    aip_ml.export_onnx(export_torch_policy(_policy("enemy", "tanh", 5), tmp_path / "q.aipp"), out, overwrite=True)
    assert out.read_bytes() != before
    with pytest.raises(aip_ml.CheckpointError, match=r"neither a policy file \(\.aipp\) nor a training checkpoint"):
        aip_ml.export_onnx(tmp_path / "p.txt", tmp_path / "x.onnx")
    with pytest.raises(aip_engine.PolicyError, match="'player' policy is needed"):
        aip_ml.export_onnx(aipp, tmp_path / "y.onnx", role="player")
    with pytest.raises(aip_ml.CheckpointError, match="does not exist"):
        aip_ml.export_onnx(tmp_path / "none.ckpt", tmp_path / "z.onnx")
    assert not (tmp_path / "x.onnx").exists() and not (tmp_path / "y.onnx").exists()
