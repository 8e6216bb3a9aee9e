"""Policy files as hostile input: `load_policy` raises only `PolicyError`, reads little, and never loads a NaN policy.

The property tests mutate valid files (bit flips, truncation, spliced bytes, rewritten header
fields, swapped members) and feed random bytes; whatever the file, the loader either returns a
policy whose actions are finite for finite observations or raises `PolicyError`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import aip_engine as ae
from aip_engine._policy import PolicyError, load_policy, save_policy

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = settings().max_examples


def _parts(role: str = "enemy", seed: int = 0) -> dict[str, Any]:
    lay = ae.role_layout(role)
    rng = np.random.default_rng(seed)
    sizes = [lay.obs_size, 8, lay.act_size]
    return {
        "layout_name": lay.name,
        "weights": [rng.normal(0, 0.5, (sizes[i + 1], sizes[i])).astype(np.float32) for i in range(2)],
        "biases": [rng.normal(0, 0.1, sizes[i + 1]).astype(np.float32) for i in range(2)],
        "activation": "tanh",
        "obs_mean": rng.normal(0, 0.2, lay.obs_size),
        "obs_var": rng.uniform(0.1, 2.0, lay.obs_size),
    }


def _valid_bytes(tmp: Path) -> bytes:
    return save_policy(tmp / "valid.aipp", overwrite=True, **_parts()).read_bytes()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name) for name in z.namelist()}


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, raw in members.items():
            z.writestr(name, raw)
    return out.getvalue()


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def _with_header(data: bytes, **changes: Any) -> bytes:
    members = _members(data)
    header = json.loads(np.load(io.BytesIO(members["header.npy"])).tobytes())
    header.update(changes)
    members["header.npy"] = _npy(np.frombuffer(json.dumps(header).encode(), np.uint8))
    return _zip(members)


def _outcome(path: Path) -> str:
    """'ok' for a policy that acts finitely, else the PolicyError; any other exception fails the test."""
    try:
        policy = load_policy(path)
    except PolicyError as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        assert message.startswith(f"cannot load policy {str(path)!r}: "), message
        assert "allow_pickle" not in message and "Traceback" not in message
        return "refused"
    obs = np.random.default_rng(0).uniform(-5, 5, (64, policy.obs_size)).astype(np.float32)
    with np.errstate(all="raise"):
        actions = policy.act(obs)
    assert np.isfinite(actions).all()
    return "ok"


# ---- properties --------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    kind = draw(st.sampled_from(["flip", "truncate", "splice", "insert", "header", "member"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        del data[draw(st.integers(0, len(data) - 1)) :]
    elif kind == "splice":
        i = draw(st.integers(0, len(data) - 1))
        chunk = draw(st.binary(min_size=1, max_size=64))
        data[i : i + len(chunk)] = chunk
    elif kind == "insert":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    elif kind == "header":
        key = draw(
            st.sampled_from(
                ["format", "format_version", "layout", "layer_sizes", "obs_clip", "obs_epsilon", "activation", "action"]
            )
        )
        value = draw(
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                max_leaves=10,
            )
        )
        return _with_header(valid, **{key: value})
    else:
        members = _members(valid)
        name = draw(st.sampled_from(sorted(members)))
        shape = draw(st.lists(st.integers(0, 30), max_size=3))
        dtype = draw(st.sampled_from(["<f4", ">f8", "<f2", "<i4", "|u1", "<c8"]))
        fill = draw(st.sampled_from([0.0, 1e39, -1e300, float("nan"), float("inf"), 3.0]))
        with np.errstate(all="ignore"):
            members[name] = _npy(np.full(shape, fill).astype(dtype))
        return _zip(members)
    return bytes(data)


@settings(max_examples=EXAMPLES * 5, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_are_refused_with_policy_error_or_act_finitely(tmp_path: Path, data: st.DataObject) -> None:
    valid = _valid_bytes(tmp_path)
    path = tmp_path / "mutated.aipp"
    path.write_bytes(data.draw(mutated(valid)))
    _outcome(path)


@settings(max_examples=EXAMPLES * 2, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096))
def test_random_bytes_are_refused_with_policy_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "random.aipp"
    path.write_bytes(raw)
    assert _outcome(path) == "refused"


# ---- the classes the fuzzer found --------------------------------------------------------------


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "p.aipp"
    path.write_bytes(data)
    return path


def test_float64_weights_beyond_float32_are_refused(tmp_path: Path) -> None:
    members = _members(_valid_bytes(tmp_path))
    members["w0.npy"] = _npy(np.full((8, 24), 1e39))
    with pytest.raises(PolicyError, match="too large for float32"):
        load_policy(_write(tmp_path, _zip(members)))


def test_a_zero_variance_with_zero_epsilon_is_refused(tmp_path: Path) -> None:
    parts = _parts()
    parts["obs_var"][3] = 0.0
    with pytest.raises(PolicyError, match=r"cannot save policy: the observation scale .* could only produce NaN"):
        save_policy(tmp_path / "p.aipp", obs_epsilon=0.0, **parts)
    data = _with_header(_valid_bytes(tmp_path), obs_epsilon=0.0)
    members = _members(data)
    members["obs_var.npy"] = _npy(np.zeros(24))
    with pytest.raises(PolicyError, match="could only produce NaN"):
        load_policy(_write(tmp_path, _zip(members)))


def test_weights_that_overflow_inside_the_network_are_refused(tmp_path: Path) -> None:
    # Every number fits float32, but one layer can reach about 24 * 10 * 3e37: infinity.
    members = _members(_valid_bytes(tmp_path))
    members["w0.npy"] = _npy(np.full((8, 24), 3e37, np.float32))
    members["header.npy"] = _members(_with_header(_valid_bytes(tmp_path), activation="relu"))["header.npy"]
    with pytest.raises(PolicyError, match=r"layer 0 can reach .* beyond float32"):
        load_policy(_write(tmp_path, _zip(members)))


@pytest.mark.parametrize(
    ("header_text", "message"),
    [
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
        ('{"format": "aip-policy", "format_version": ' + "9" * 5000 + "}", "not valid JSON"),
        ('{"format": "aip-policy", "format_version": 1, "obs_clip": NaN}', "holds NaN"),
        ('{"format": "aip-policy", "format_version": 1, "obs_clip": Infinity}', "holds Infinity"),
        ("\xff\xfe not text", "not UTF-8"),
    ],
)
def test_a_hostile_header_is_refused_with_its_cause(tmp_path: Path, header_text: str, message: str) -> None:
    members = _members(_valid_bytes(tmp_path))
    raw = header_text.encode("latin-1") if header_text.startswith("\xff") else header_text.encode()
    members["header.npy"] = _npy(np.frombuffer(raw, np.uint8))
    with pytest.raises(PolicyError, match=message):
        load_policy(_write(tmp_path, _zip(members)))


def test_a_member_that_inflates_beyond_its_shape_is_not_inflated(tmp_path: Path) -> None:
    members = _members(_valid_bytes(tmp_path))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in members.items():
            if name != "w0.npy":
                z.writestr(name, raw)
        with z.open("w0.npy", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(300):  # 300 MiB of zeros, about 300 KiB compressed
                member.write(chunk)
    with pytest.raises(PolicyError, match="array 'w0' declares 314572800 bytes"):
        load_policy(_write(tmp_path, out.getvalue()))


@pytest.mark.slow
def test_unused_members_are_never_read(tmp_path: Path) -> None:
    # 600 MiB of zeros in a member the header does not name: loading reads only what it uses.
    members = _members(_valid_bytes(tmp_path))
    path = tmp_path / "padded.aipp"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in members.items():
            z.writestr(name, raw)
        with z.open("padding.npy", "w", force_zip64=True) as member:
            chunk = bytes(2**20)
            for _ in range(600):
                member.write(chunk)
    assert path.stat().st_size < 4 * 2**20
    code = f"""
        import resource
        from aip_engine._policy import load_policy
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        load_policy({str(path)!r})
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) < 64, f"loading took {done.stdout.strip()} MiB more"


def test_too_many_members_and_too_many_layers_are_refused(tmp_path: Path) -> None:
    members = _members(_valid_bytes(tmp_path))
    many = dict(members, **{f"x{i}.npy": b"" for i in range(1100)})
    with pytest.raises(PolicyError, match="1107 members"):
        load_policy(_write(tmp_path, _zip(many)))
    with pytest.raises(PolicyError, match=r"layer sizes .* must be 2 to 65 widths"):
        load_policy(_write(tmp_path, _with_header(_valid_bytes(tmp_path), layer_sizes=[24] + [8] * 100 + [2])))
    with pytest.raises(PolicyError, match="parameters; at most 33554432"):
        load_policy(_write(tmp_path, _with_header(_valid_bytes(tmp_path), layer_sizes=[24, 65536, 65536, 2])))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_special_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.aipp"
    os.mkfifo(fifo)
    with pytest.raises(PolicyError, match="is a FIFO"):
        load_policy(fifo)
    link = tmp_path / "zero.aipp"
    link.symlink_to("/dev/zero")
    with pytest.raises(PolicyError, match="is a character device"):
        load_policy(link)
    with pytest.raises(PolicyError, match="is a directory"):
        load_policy(tmp_path)


def test_save_policy_refuses_what_would_not_load(tmp_path: Path) -> None:
    parts = _parts()
    parts["weights"][0] = parts["weights"][0] * np.float32(np.inf)
    with pytest.raises(PolicyError, match="cannot save policy: array 'w0' is not all finite"):
        save_policy(tmp_path / "p.aipp", **parts)
    with pytest.raises(PolicyError, match="not JSON-serialisable"):
        save_policy(tmp_path / "p.aipp", training={"score": float("nan")}, **_parts())
    assert not (tmp_path / "p.aipp").exists()
