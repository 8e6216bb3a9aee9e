"""Export: the numpy runtime of aip_engine chooses the same actions as the torch policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import aip_engine
import aip_ml
from aip_ml._export import export_torch_policy
from aip_ml.ppo import ActorCritic, ObsNormalizer, RunningMeanStd, TorchPolicy


def _policy(role: str, activation: str, seed: int) -> TorchPolicy:
    layout = aip_engine.role_layout(role)
    torch.manual_seed(seed)
    model = ActorCritic(layout.obs_size, layout.act_size, (64, 32), activation, -0.5)
    # Larger output weights than the initialisation so that actions reach and pass the clip bounds.
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


@pytest.mark.parametrize("role", ["enemy", "missile", "player"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "elu", "silu"])
def test_exported_policy_acts_like_the_torch_policy(tmp_path: Path, role: str, activation: str) -> None:
    torch_policy = _policy(role, activation, seed=11)
    path = export_torch_policy(torch_policy, tmp_path / "p.aipp")
    numpy_policy = aip_engine.load_policy(path, role=role)
    obs = np.random.default_rng(3).normal(0, 1.5, (20_000, numpy_policy.obs_size)).astype(np.float32)
    expected = torch_policy.act(obs)
    got = numpy_policy.act(obs)
    np.testing.assert_allclose(got, expected, atol=2e-5, rtol=0)
    # The comparison covered both clipped and unclipped actions.
    raw = numpy_policy.raw_output(obs)
    assert (np.abs(raw) > 1).any()
    assert (np.abs(raw) < 1).any()
    if role == "player":  # fire decisions (>= 0.5) agree except within float rounding of the threshold
        fire_t = expected[:, 2] >= 0.5
        fire_n = got[:, 2] >= 0.5
        assert np.mean(fire_t != fire_n) < 1e-3
        assert 0.05 < fire_t.mean() < 0.95


def test_export_refuses_to_overwrite(tmp_path: Path) -> None:
    path = export_torch_policy(_policy("enemy", "tanh", 1), tmp_path / "p.aipp")
    with pytest.raises(FileExistsError):
        export_torch_policy(_policy("enemy", "tanh", 2), path)
    export_torch_policy(_policy("enemy", "tanh", 2), path, overwrite=True)
    assert aip_engine.load_policy(path).meta["training"]["seed"] == 2


def test_export_policy_rejects_a_missing_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(aip_ml.CheckpointError, match="does not exist"):
        aip_ml.export_policy(tmp_path / "none.ckpt", tmp_path / "p.aipp")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"garbage")
    with pytest.raises(aip_ml.CheckpointError, match="corrupt"):
        aip_ml.export_policy(bad, tmp_path / "p.aipp")
