"""The portable policy runtime: round trip, deterministic actions, and every rejection."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import aip_engine as ae
from aip_engine._policy import FORMAT_VERSION, Policy, PolicyError, load_policy, save_policy


def _parts(role: str, hidden: tuple[int, ...] = (16, 8), seed: int = 0) -> dict[str, Any]:
    lay = ae.role_layout(role)
    rng = np.random.default_rng(seed)
    sizes = [lay.obs_size, *hidden, lay.act_size]
    return {
        "layout_name": lay.name,
        "weights": [rng.normal(0, 0.5, (sizes[i + 1], sizes[i])).astype(np.float32) for i in range(len(sizes) - 1)],
        "biases": [rng.normal(0, 0.1, sizes[i + 1]).astype(np.float32) for i in range(len(sizes) - 1)],
        "activation": "tanh",
        "obs_mean": rng.normal(0, 0.2, lay.obs_size),
        "obs_var": rng.uniform(0.1, 2.0, lay.obs_size),
        "task": "chase-v1" if role == "enemy" else None,
        "training": {"updates": 3, "seed": 7},
    }


def _reference_act(parts: dict[str, Any], obs: np.ndarray, role: str, transform: str = "clip") -> np.ndarray:
    """The formula of docs/policy-format.md in float64, written independently of the runtime."""
    x = np.clip((obs - parts["obs_mean"]) / np.sqrt(parts["obs_var"] + 1e-8), -10, 10)
    n = len(parts["weights"])
    for i, (w, b) in enumerate(zip(parts["weights"], parts["biases"], strict=True)):
        x = x @ w.astype(np.float64).T + b
        if i < n - 1:
            x = np.tanh(x)
    y = np.tanh(x) if transform == "tanh" else np.clip(x, -1, 1)
    lay = ae.role_layout(role)
    low = np.array([f.low for f in lay.action])
    high = np.array([f.high for f in lay.action])
    out: np.ndarray = (high + low) / 2 + (high - low) / 2 * y
    return out


@pytest.mark.parametrize("role", ["enemy", "missile", "player"])
def test_round_trip_acts_by_the_documented_formula(tmp_path: Path, role: str) -> None:
    parts = _parts(role)
    path = save_policy(tmp_path / f"{role}.aipp", **parts)
    policy = load_policy(path, role=role)
    assert isinstance(policy, Policy)
    assert policy.layout == ae.role_layout(role)
    assert policy.meta["training"] == {"updates": 3, "seed": 7}
    assert policy.meta["format_version"] == FORMAT_VERSION
    obs = np.random.default_rng(1).normal(0, 1, (500, policy.obs_size)).astype(np.float32)
    actions = policy.act(obs)
    assert actions.dtype == np.float32
    assert actions.shape == (500, policy.act_size)
    assert actions.flags.c_contiguous
    np.testing.assert_allclose(actions, _reference_act(parts, obs.astype(np.float64), role), atol=2e-5)
    lows = np.array([f.low for f in policy.layout.action], dtype=np.float32)
    highs = np.array([f.high for f in policy.layout.action], dtype=np.float32)
    assert np.all(actions >= lows)
    assert np.all(actions <= highs)
    # One observation gives the same action as the same row of a batch, and calls are deterministic.
    np.testing.assert_allclose(policy.act(obs[3]), actions[3], atol=1e-6)
    np.testing.assert_array_equal(policy.act(obs), actions)


def test_tanh_transform_and_other_activations(tmp_path: Path) -> None:
    parts = _parts("enemy")
    parts["action_transform"] = "tanh"
    policy = load_policy(save_policy(tmp_path / "t.aipp", **parts))
    obs = np.random.default_rng(2).normal(0, 1, (64, policy.obs_size)).astype(np.float32)
    np.testing.assert_allclose(
        policy.act(obs), _reference_act(parts, obs.astype(np.float64), "enemy", "tanh"), atol=2e-5
    )
    for activation in ("relu", "elu", "silu", "identity"):
        parts = _parts("enemy")
        parts["activation"] = activation
        out = load_policy(save_policy(tmp_path / f"{activation}.aipp", **parts)).act(obs)
        assert out.shape == (64, 2)
        assert np.all(np.isfinite(out))


def test_numpy_alone_reads_the_file(tmp_path: Path) -> None:
    path = save_policy(tmp_path / "p.aipp", **_parts("enemy"))
    with np.load(path, allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
        assert header["layout"] == "enemy-v1"
        assert header["layer_sizes"] == [24, 16, 8, 2]
        assert archive["w0"].shape == (16, 24)


def test_wrong_role_is_rejected(tmp_path: Path) -> None:
    path = save_policy(tmp_path / "m.aipp", **_parts("missile"))
    with pytest.raises(PolicyError, match=r"'missile' policy.*'enemy' policy is needed"):
        load_policy(path, role="enemy")
    with pytest.raises(ae.EngineError):
        load_policy(path, role="player")


def _rewrite(path: Path, change: dict[str, Any] | None = None, drop: str | None = None) -> None:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    header = json.loads(arrays["header"].tobytes())
    header.update(change or {})
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    if drop:
        del arrays[drop]
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": FORMAT_VERSION + 1}, "format version .* not supported"),
        ({"format": "something-else"}, "not a policy file"),
        ({"layout": "enemy-v9"}, "layout 'enemy-v9'.*does not know"),
        ({"layout": "missile-v1"}, "do not match layout"),
        ({"activation": "softsign"}, "activation 'softsign'"),
        ({"action_transform": "sigmoid"}, "action transform 'sigmoid'"),
        ({"layer_sizes": [24, 16, 8, 3]}, "layer sizes"),
        ({"obs_clip": -1}, "obs_clip"),
    ],
)
def test_bad_headers_are_rejected(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = save_policy(tmp_path / "p.aipp", **_parts("enemy"))
    _rewrite(path, change)
    with pytest.raises(PolicyError, match=message):
        load_policy(path)


def test_corrupt_files_are_rejected(tmp_path: Path) -> None:
    path = save_policy(tmp_path / "p.aipp", **_parts("enemy"))
    data = path.read_bytes()
    truncated = tmp_path / "truncated.aipp"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(PolicyError, match="corrupt"):
        load_policy(truncated)
    garbage = tmp_path / "garbage.aipp"
    garbage.write_bytes(b"not a zip at all")
    with pytest.raises(PolicyError, match="corrupt"):
        load_policy(garbage)
    with pytest.raises(PolicyError, match="no such file"):
        load_policy(tmp_path / "missing.aipp")
    _rewrite(path, drop="w1")
    with pytest.raises(PolicyError, match="'w1' is missing"):
        load_policy(path)
    other = tmp_path / "plain.npz"
    with zipfile.ZipFile(other, "w"):
        pass
    with pytest.raises(PolicyError):
        load_policy(other)


def test_non_finite_weights_are_rejected(tmp_path: Path) -> None:
    parts = _parts("enemy")
    path = save_policy(tmp_path / "p.aipp", **parts)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["b0"] = arrays["b0"].copy()
    arrays["b0"][0] = np.nan
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(PolicyError, match="not all finite"):
        load_policy(path)


def test_save_refuses_to_overwrite_and_checks_shapes(tmp_path: Path) -> None:
    parts = _parts("enemy")
    path = save_policy(tmp_path / "p.aipp", **parts)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_policy(path, **parts)
    save_policy(path, overwrite=True, **parts)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    bad = dict(parts, layout_name="missile-v1")
    with pytest.raises(PolicyError, match="layer 0"):
        save_policy(tmp_path / "bad.aipp", **bad)
    with pytest.raises(PolicyError, match="JSON"):
        save_policy(tmp_path / "bad.aipp", **dict(parts, training={"x": object()}))
    assert not (tmp_path / "bad.aipp").exists()


def test_act_checks_the_observation_shape(tmp_path: Path) -> None:
    policy = load_policy(save_policy(tmp_path / "p.aipp", **_parts("enemy")))
    with pytest.raises(ae.ShapeError, match=r"\(24,\) or \(N, 24\)"):
        policy.act(np.zeros((4, 10), dtype=np.float32))


def test_public_names() -> None:
    assert ae.load_policy is load_policy
    assert ae.Policy is Policy
