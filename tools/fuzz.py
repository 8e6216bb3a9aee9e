"""A fuzzer over AIP's public surface, as an outside tester would run it: each case in its own process.

Every target draws cases from a seeded generator (case ``i`` of target ``t`` with seed ``s`` is always
the same input, so ``--target t --case i`` replays one), runs each in a child process forked from a
warmed-up parent (the libraries are imported once; a crash, a hang or a runaway allocation of one
case cannot touch the next), and classifies what happened:

- ``ok`` / a documented error: the call returned, or raised one of the exception types the target's
  documentation allows, with a message that names no private internals;
- ``undocumented``: another exception type, or a message that leaks internals (``aip_engine._core``
  signatures, ``std::bad_alloc``, "unexpected RecursionError", torch's ``weights_only=False`` advice,
  a traceback on the ``aip`` command's stderr), or a documented promise broken (a loaded policy that
  produces NaN, a loaded recording with NaN frames, a game file that did not fall back to defaults);
- ``crash``: the child died by a signal or exited without reporting;
- ``hang``: the child did not finish within ``--case-timeout`` seconds, nor when the same case ran
  again with four times as long (a case that answers only on the retry is slow, not hung: it keeps
  its outcome and is counted and listed as slow, so a loaded machine does not report hangs).

Targets: ``engine`` (constructor, then a random program of step/reset/params/set_state/observations
calls), ``policy`` (``load_policy`` on random bytes, byte-mutated and structurally mutated valid
files, then ``act``), ``checkpoint``, ``recording``, ``dataset`` (demonstration sets), ``gamefiles``
(high scores and settings), ``config`` (training configs and ``key=value`` overrides) and ``cli``
(random ``aip`` command lines against a real store that holds one registered model).

    python tools/fuzz.py --seconds 60                      # every target, 60 s in all (CI uses this)
    nice -n 15 timeout 2000 python tools/fuzz.py --minutes 30 --json fuzz.json   # the release run
    python tools/fuzz.py --target policy --case 1234 -v    # replay one case and print its outcome

It prints, per target, inputs tried, distinct outcomes, and every crash, hang and undocumented
outcome with the command line that replays it; the exit status is 1 when there was any.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

Case = Callable[[random.Random, Path], str]

# Messages that name internals instead of the argument or file that was wrong.
LEAKS = re.compile(
    r"aip_engine\._core|std::|bad_alloc|unexpected \w+Error|RecursionError|weights_only=False|"
    r"incompatible function arguments|Traceback \(most recent call last\)|<built-in method"
)
MEMORY_LIMIT = 4 << 30  # address space of a case's process: a runaway allocation fails, not the machine


class Undocumented(Exception):
    """A case broke a documented promise (the message says which)."""


def _norm(text: str) -> str:
    """An outcome's message with the parts that vary per input removed (numbers, paths, quotes)."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(r"/[^\s,;:)]+", "PATH", text)
    text = re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "N", text)
    return text[:90]


def _refused(exc: BaseException, allowed: tuple[type[BaseException], ...]) -> str:
    if not isinstance(exc, allowed):
        raise Undocumented(f"{type(exc).__module__}.{type(exc).__name__}: {str(exc)[:300]}") from exc
    message = str(exc)
    if LEAKS.search(message) or not message.strip():
        raise Undocumented(f"{type(exc).__name__} with an unclear message: {message[:300]!r}") from exc
    return f"{type(exc).__name__}: {_norm(message)}"


# ---------------------------------------------------------------- shared input generators
INTERESTING_INTS = [
    0,
    1,
    -1,
    2,
    3,
    7,
    255,
    256,
    2**16,
    2**30,
    2**30 + 1,
    2**31 - 1,
    2**31,
    2**32,
    2**62,
    2**63 - 1,
    2**63,
    2**64,
    2**64 + 1,
    -(2**63),
    10**100,
]
INTERESTING_FLOATS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    1e-300,
    5e-324,
    1e300,
    3.5e38,
    3.4028235e38,
    float("inf"),
    float("-inf"),
    float("nan"),
    1e6,
    1e7,
    -1e6,
]


def _value(rng: random.Random, depth: int = 0) -> Any:
    """A random Python value of the kinds a hostile caller passes (or a JSON/TOML file holds)."""
    kind = rng.randrange(11 if depth < 3 else 7)
    if kind == 0:
        return rng.choice(INTERESTING_INTS)
    if kind == 1:
        return rng.choice(INTERESTING_FLOATS)
    if kind == 2:
        return rng.uniform(-1000, 1000)
    if kind == 3:
        return rng.randint(-10, 100)
    if kind == 4:
        return rng.choice(["", "x", "chase-v1", "wrap", "clamp", "nan", "inf", "\x00", "é" * 3, "a" * 300, "\ud800"])
    if kind == 5:
        return rng.choice([None, True, False])
    if kind == 6:
        return rng.choice([b"\xff\xfe", bytearray(3), object(), 1j])
    if kind in (7, 8):
        return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 9:
        return {str(_value(rng, 3))[:10]: _value(rng, depth + 1) for _ in range(rng.randrange(4))}
    nest: Any = 0
    for _ in range(rng.choice([10, 1000, 100_000])):
        nest = [nest]
    return nest


def _mutate(data: bytes, rng: random.Random) -> bytes:
    """One to four byte-level mutations: flips, interesting words, inserts, cuts, copies."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not buf:
            buf += rng.randbytes(rng.randint(1, 64))
            continue
        i = rng.randrange(len(buf))
        kind = rng.randrange(7)
        if kind == 0:
            buf[i] ^= 1 << rng.randrange(8)
        elif kind == 1:
            word = struct.pack("<Q", rng.choice(INTERESTING_INTS) % 2**64)[: rng.choice([1, 2, 4, 8])]
            buf[i : i + len(word)] = word
        elif kind == 2:
            buf[i:i] = rng.randbytes(rng.randint(1, 32))
        elif kind == 3:
            del buf[i : i + rng.randint(1, 64)]
        elif kind == 4:
            del buf[i:]
        elif kind == 5:
            j = rng.randrange(len(buf))
            buf[i:i] = buf[j : j + rng.randint(1, 128)]
        else:
            buf[i : i + 8] = struct.pack("<d", rng.choice(INTERESTING_FLOATS))
    return bytes(buf)


def _bytes_case(rng: random.Random, valid: list[bytes]) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.randbytes(rng.randint(0, 2048))
    if kind == 1:
        return b""
    return _mutate(rng.choice(valid), rng)


def _json_mutation(rng: random.Random, doc: Any) -> Any:
    """A JSON-like document with one value replaced, removed or added somewhere inside."""
    if isinstance(doc, dict) and doc and rng.random() < 0.8:
        key = rng.choice(list(doc))
        out = dict(doc)
        roll = rng.random()
        if roll < 0.15:
            del out[key]
        elif roll < 0.3:
            out[str(_value(rng, 3))[:12]] = _value(rng)
        elif roll < 0.6:
            out[key] = _json_mutation(rng, doc[key])
        else:
            out[key] = _value(rng)
        return out
    if isinstance(doc, list) and doc and rng.random() < 0.8:
        out_list = list(doc)
        i = rng.randrange(len(out_list))
        out_list[i] = _json_mutation(rng, out_list[i]) if rng.random() < 0.5 else _value(rng)
        if rng.random() < 0.2:
            out_list.append(_value(rng))
        return out_list
    return _value(rng)


def _dumps(doc: Any) -> bytes:
    try:
        return json.dumps(doc, allow_nan=True, default=repr).encode("utf-8", "surrogatepass")
    except (ValueError, RecursionError):
        return b'{"deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


def _text(value: Any) -> str:
    try:
        return str(value)
    except RecursionError:
        return "[" * 100_000


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- engine
def _engine_target() -> Case:
    import numpy as np

    import aip_engine as ae

    tasks = [*list(ae.tasks()), "", "chase-v2", 3, None]
    fields = list(ae.Config.field_names())
    allowed = (ae.EngineError, TypeError, ValueError, KeyError)

    def array(rng: random.Random, shape: tuple[int, ...]) -> Any:
        kind = rng.randrange(9)
        if kind == 0:
            return rng.choice([None, 3, "x", [1, 2], object()])
        if kind == 1:
            shape = tuple(max(0, s + rng.choice([-1, 1, 0])) for s in shape) + ((1,) if rng.random() < 0.3 else ())
        dtype = rng.choice(
            [np.float32] * 5
            + [np.float64, np.int32, np.bool_, np.complex64, object, np.dtype(np.float32, metadata={"m": 1})]
        )
        values = np.array(np.random.default_rng(rng.randrange(2**32)).uniform(-3, 3, shape), dtype=dtype)
        if kind == 2 and values.size:
            values.flat[rng.randrange(values.size)] = rng.choice([np.nan, np.inf, 1e39])
        if kind == 3 and values.ndim == 2 and values.shape[1] > 1:
            values = np.asfortranarray(values)
        if kind == 4 and values.ndim >= 1 and values.shape[0] > 1:
            values = values[::-1]
        return values

    def case(rng: random.Random, tmp: Path) -> str:
        task = rng.choice(tasks)
        n = rng.choice([1, 1, 2, 3, 5, 8]) if rng.random() < 0.9 else rng.choice([*INTERESTING_INTS, 0, -5, 2.5, "4"])
        kwargs: dict[str, Any] = {
            "seed": rng.choice([0, 1, rng.randrange(2**64)]) if rng.random() < 0.95 else _value(rng)
        }
        if rng.random() < 0.6:
            config = {}
            for _ in range(rng.randint(1, 4)):
                key = rng.choice(fields) if rng.random() < 0.95 else str(_value(rng, 3))
                config[key] = _value(rng) if rng.random() < 0.5 else rng.uniform(0, 3000)
            kwargs["config"] = config
        if rng.random() < 0.2:
            kwargs["threads"] = rng.choice([0, 1, 2, 3, 1024, 1025, -1, 2**31, "2", 1.5])
        else:
            kwargs["threads"] = rng.choice([1, 2])
        if rng.random() < 0.2:
            role = rng.choice(["player", "enemy", "missile", "nobody"])
            kwargs["controllers"] = {role: rng.choice(["agent", "random", "intercept", "wander", "still", "x"])}
        if rng.random() < 0.1:
            kwargs["auto_reset"] = rng.choice([False, True, "no", None])
        try:
            worlds = ae.Worlds(task, n, **kwargs)  # type: ignore[arg-type]
        except BaseException as exc:
            return "constructor " + _refused(exc, allowed)
        outcomes = []
        roles = list(ae.task_spec(worlds.task).controllers)
        for _ in range(rng.randint(1, 25)):
            op = rng.randrange(10)
            try:
                if op <= 3:
                    acts: Any = None
                    if worlds.agents:
                        per = {r: array(rng, (worlds.num_worlds, ae.role_layout(r).act_size)) for r in worlds.agents}
                        acts = per if len(per) > 1 else next(iter(per.values()))
                        if rng.random() < 0.1:
                            acts = {"nobody": acts}
                    result = worlds.step(acts)
                    for role in worlds.agents:
                        obs = worlds.observations(role)
                        if not np.isfinite(obs).all():
                            raise Undocumented(f"non-finite observations of {role} after a step")
                    del result
                    outcomes.append("step")
                elif op == 4:
                    mask = array(rng, (worlds.num_worlds,)) if rng.random() < 0.5 else None
                    if mask is not None and rng.random() < 0.7:
                        mask = np.asarray(np.random.default_rng(rng.randrange(99)).random(worlds.num_worlds) < 0.5)
                    worlds.reset(seed=rng.choice([None, 0, 5, rng.randrange(2**64), -1, 2**64]), mask=mask)
                    outcomes.append("reset")
                elif op in (5, 6):
                    name = rng.choice([*list(worlds.params), "nope"])
                    value = (
                        _value(rng)
                        if rng.random() < 0.3
                        else rng.choice([rng.uniform(0, 30), rng.randint(-1, 8), rng.uniform(100, 3000), rng.random()])
                    )
                    try:
                        worlds.params[name][...] = value
                    except (OverflowError, TypeError, ValueError) as exc:
                        # params are numpy arrays: a value numpy cannot store is refused by numpy at
                        # the write (docs/engine-api.md); what it stores is checked at the next call.
                        outcomes.append(f"params refused by numpy ({type(exc).__name__})")
                        continue
                    outcomes.append("params")
                elif op == 7:
                    state = worlds.state()
                    name = rng.choice([*list(state), "nope"])
                    shape = state[name].shape if name in state else (1,)
                    worlds.set_state(name, array(rng, shape) if rng.random() < 0.7 else _value(rng))
                    outcomes.append("set_state")
                elif op == 8:
                    worlds.observations(rng.choice([*roles, "nobody"]))
                    outcomes.append("observations")
                else:
                    for key, values in worlds.state().items():
                        if values.dtype.kind == "f" and not np.isfinite(values).all():
                            raise Undocumented(f"state {key} is not finite")
                    outcomes.append("state")
            except Undocumented:
                raise
            except BaseException as exc:
                outcomes.append(_refused(exc, allowed).split(":")[0])
        worlds.close()
        return "program " + ",".join(sorted(set(outcomes)))

    return case


# ---------------------------------------------------------------- policy files
def _policy_target() -> Case:
    import numpy as np

    import aip_engine as ae

    def valid(folder: Path, role: str, hidden: list[int], activation: str, transform: str) -> bytes:
        lay = ae.role_layout(role)
        sizes = [lay.obs_size, *hidden, lay.act_size]
        g = np.random.default_rng(len(hidden))
        path = ae.save_policy(
            folder / f"{role}-{len(hidden)}-{activation}.aipp",
            layout_name=lay.name,
            weights=[g.normal(0, 0.3, (o, i)).astype(np.float32) for i, o in itertools.pairwise(sizes)],
            biases=[g.normal(0, 0.1, o).astype(np.float32) for o in sizes[1:]],
            activation=activation,
            obs_mean=g.normal(0, 1, lay.obs_size),
            obs_var=g.uniform(0.5, 2, lay.obs_size),
            action_transform=transform,
            task="chase-v1" if role == "enemy" else None,
            training={"seed": 1},
            overwrite=True,
        )
        return path.read_bytes()

    folder = Path(tempfile.mkdtemp(prefix="aip-fuzz-policy-"))
    files = [
        valid(folder, "enemy", [8], "tanh", "clip"),
        valid(folder, "player", [6, 5], "relu", "tanh"),
        valid(folder, "missile", [], "identity", "clip"),
    ]
    members = []
    for raw in files:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            members.append({k: z[k] for k in z.files})
    shutil.rmtree(folder)

    def structural(rng: random.Random) -> bytes:
        arrays = dict(rng.choice(members))
        key = rng.choice([*list(arrays), "extra"])
        roll = rng.random()
        if key == "header" or roll < 0.3:
            header = json.loads(bytes(arrays["header"]).decode())
            text = _dumps(_json_mutation(rng, header))
            arrays["header"] = np.frombuffer(text, np.uint8)
        elif roll < 0.45:
            arrays.pop(key, None)
        elif roll < 0.6 and key in arrays:
            a = np.array(arrays[key], dtype=np.float64)
            if a.size:
                a.flat[rng.randrange(a.size)] = rng.choice([*INTERESTING_FLOATS, 1e39, -1e39])
            arrays[key] = a.astype(arrays[key].dtype if rng.random() < 0.5 else np.float64)
        elif roll < 0.75:
            shape = tuple(rng.choice([0, 1, 2, 3, 7, 40]) for _ in range(rng.randint(0, 3)))
            dtype = rng.choice([np.float32, np.float64, np.int8, np.uint8, np.complex64, np.float16, "U3", "V4"])
            arrays[key] = np.zeros(shape, dtype)
        else:
            arrays[key] = np.random.default_rng(rng.randrange(99)).normal(
                0, 10 ** rng.randint(0, 40), np.shape(arrays.get(key, (3,)))
            )
        buf = io.BytesIO()
        np.savez(buf, **arrays) if rng.random() < 0.7 else np.savez_compressed(buf, **arrays)
        return buf.getvalue()

    def zipbomb(rng: random.Random) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("header.npy", rng.choice(files)[:0] + b"\x93NUMPY" + b"\0" * 100)
            z.writestr("unused.npy", b"\0" * (rng.randint(1, 64) << 20))
        return buf.getvalue()

    def case(rng: random.Random, tmp: Path) -> str:
        roll = rng.random()
        data = structural(rng) if roll < 0.5 else zipbomb(rng) if roll < 0.53 else _bytes_case(rng, files)
        path = _write(tmp, "p.aipp", data)
        try:
            policy = ae.load_policy(path, role=rng.choice([None, None, "enemy", "player", "x"]))
        except BaseException as exc:
            return _refused(exc, (ae.PolicyError, ae.UnknownNameError))
        obs = np.random.default_rng(rng.randrange(99)).normal(0, 100, (4, policy.obs_size)).astype(np.float32)
        out = policy.act(obs)
        if out.shape != (4, policy.act_size) or not np.isfinite(out).all():
            raise Undocumented(f"a loaded policy acts with {out.shape} / non-finite values")
        return "loaded"

    return case


# ---------------------------------------------------------------- checkpoints
def _checkpoint_target() -> Case:
    import torch

    from aip_ml._checkpoint import load_checkpoint, save_checkpoint
    from aip_ml._config import load_config
    from aip_ml._errors import CheckpointError

    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="aip-fuzz-ckpt-"))
    state = {
        "update_index": 3,
        "global_step": 96,
        "model": {"w": torch.ones(4, 3)},
        "rng": torch.zeros(5, dtype=torch.uint8),
    }
    base = save_checkpoint(folder / "a.ckpt", load_config("chase-v1"), state, 1.5).read_bytes()
    payload = torch.load(io.BytesIO(base), weights_only=True)
    shutil.rmtree(folder)

    def structural(rng: random.Random) -> bytes:
        doc = dict(payload)
        key = rng.choice(list(doc))
        if key == "config" and rng.random() < 0.7:
            doc["config"] = _json_mutation(rng, dict(doc["config"]))
        else:
            value = _value(rng)
            doc[key] = (
                value
                if not isinstance(value, (object,))
                or isinstance(value, (int, float, str, list, dict, type(None), bool))
                else None
            )
        buf = io.BytesIO()
        try:
            torch.save(doc, buf)
        except Exception:
            return base
        return buf.getvalue()

    def case(rng: random.Random, tmp: Path) -> str:
        data = structural(rng) if rng.random() < 0.4 else _bytes_case(rng, [base])
        path = _write(tmp, "c.ckpt", data)
        try:
            load_checkpoint(path)
        except BaseException as exc:
            return _refused(exc, (CheckpointError,))
        return "loaded"

    return case


# ---------------------------------------------------------------- recordings
def _recording_target() -> Case:
    import numpy as np

    from aip_game.recording import Recording, RecordingError, RecordingWriter, load, read_header, summarize

    folder = Path(tempfile.mkdtemp(prefix="aip-fuzz-rec-"))
    header = {
        "role": "player",
        "layout": "player-v1",
        "layout_version": 1,
        "observation_fields": ["a", "b", "c"],
        "action_fields": ["x", "y"],
        "events": ["fire", "hit"],
        "inputs": [["player", 3]],
        "seed": 7,
    }
    valid = []
    for blocks in (1, 3):
        path = folder / f"v{blocks}.aiprec"
        with RecordingWriter(path, header, block_frames=blocks) as w:
            for t in range(8):
                if t == 4:
                    w.add_params(t, [("enemy_speed", 6.0)])
                w.add(t, [t, 0.5, -t], [0.25, -1.0], 0.1 * t, [t % 2, 0], inputs=[0.0, 1.0, 0.0], score=t, lives=3)
        valid.append(path.read_bytes())
    shutil.rmtree(folder)

    def case(rng: random.Random, tmp: Path) -> str:
        path = _write(tmp, "r.aiprec", _bytes_case(rng, valid))
        outcomes = []
        for reader in (load, read_header, summarize):
            try:
                result = reader(path)
            except BaseException as exc:
                outcomes.append(_refused(exc, (RecordingError,)))
                continue
            if isinstance(result, Recording):
                for name in ("observations", "actions", "rewards"):
                    if not np.isfinite(getattr(result, name)).all():
                        raise Undocumented(f"a loaded recording has non-finite {name}")
            outcomes.append("ok")
        return " / ".join(outcomes)

    return case


# ---------------------------------------------------------------- demonstration sets
def _dataset_target() -> Case:
    import numpy as np

    import aip_engine as ae
    from aip_ml.imitation._dataset import DatasetError, DemoDataset, _checksum, load_dataset

    folder = Path(tempfile.mkdtemp(prefix="aip-fuzz-demo-"))
    lay = ae.role_layout("enemy")
    g = np.random.default_rng(0)
    ds = DemoDataset(
        observations=g.normal(0, 1, (12, lay.obs_size)).astype(np.float32),
        actions=g.uniform(-1, 1, (12, lay.act_size)).astype(np.float32),
        episode=np.repeat(np.arange(3, dtype=np.int32), 4),
        role="enemy",
        layout=lay.name,
        layout_version=lay.version,
        sources=[{"file": "x"}] * 3,
    )
    base = ds.save(folder / "d.npz").read_bytes()
    with np.load(io.BytesIO(base), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    shutil.rmtree(folder)

    def structural(rng: random.Random) -> bytes:
        out = dict(arrays)
        key = rng.choice(list(out))
        if out[key].dtype == np.uint8 and rng.random() < 0.7:
            try:
                doc = json.loads(bytes(out[key]).decode())
                out[key] = np.frombuffer(_dumps(_json_mutation(rng, doc)), np.uint8)
            except ValueError:
                out[key] = np.zeros(3, np.uint8)
        elif rng.random() < 0.5:
            a = np.array(out[key], np.float64)
            if a.size:
                a.flat[rng.randrange(a.size)] = rng.choice(INTERESTING_FLOATS)
            out[key] = a.astype(out[key].dtype, casting="unsafe") if rng.random() < 0.5 else a
        else:
            out[key] = np.zeros(
                tuple(rng.choice([0, 1, 3, 12]) for _ in range(rng.randint(0, 3))),
                rng.choice([np.float32, np.int32, np.uint8]),
            )
        if rng.random() < 0.7:  # a consistent checksum over the changed parts: the checks behind it are reached
            try:
                meta = json.loads(bytes(out["meta"]).decode())
                arrs = [
                    np.asarray(out[k]).astype(t, copy=False)
                    for k, t in (("observations", np.float32), ("actions", np.float32), ("episode", np.int32))
                ]
                meta["sha256"] = _checksum(arrs[0], arrs[1], arrs[2], meta)
                out["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
            except Exception:
                pass
        buf = io.BytesIO()
        np.savez(buf, **out) if rng.random() < 0.5 else np.savez_compressed(buf, **out)
        return buf.getvalue()

    def case(rng: random.Random, tmp: Path) -> str:
        path = _write(tmp, "d.npz", structural(rng) if rng.random() < 0.5 else _bytes_case(rng, [base]))
        try:
            got = load_dataset(path)
        except BaseException as exc:
            return _refused(exc, (DatasetError,))
        for name in ("observations", "actions"):
            if not np.isfinite(getattr(got, name)).all():
                raise Undocumented(f"a loaded demonstration set has non-finite {name}")
        return "loaded"

    return case


# ---------------------------------------------------------------- high scores and settings
def _gamefiles_target() -> Case:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    from aip_game._highscores import HighScore, HighScoreTable
    from aip_game._settings import Settings

    scores = _dumps(
        {
            "version": 1,
            "entries": [{"name": "ANA", "score": 120, "frames": 900, "side": "player", "date": "2026-01-01"}],
        }
    )
    settings_doc = _dumps({"sound": True, "player_name": "ANA", "difficulty": "normal"})

    def case(rng: random.Random, tmp: Path) -> str:
        which = rng.choice(["scores", "settings"])
        valid = scores if which == "scores" else settings_doc
        roll = rng.random()
        data = _dumps(_json_mutation(rng, json.loads(valid))) if roll < 0.5 else _bytes_case(rng, [valid])
        path = _write(tmp, f"{which}.json", data)
        try:
            if which == "scores":
                table = HighScoreTable(path)
                if len(table.entries) > 10 or not all(e.name.isprintable() for e in table.entries):
                    raise Undocumented("a high-score table with too many or unprintable entries")
                # The new score enters unless ten higher ones are kept (a file may hold any score
                # below 2**63); either way the file must read back as the table in memory.
                qualified = table.qualifies(10**6)
                table.add(HighScore("NEW", 10**6))
                again = [(e.name, e.score) for e in HighScoreTable(path).entries]
                if again != [(e.name, e.score) for e in table.entries] or (qualified and ("NEW", 10**6) not in again):
                    raise Undocumented("the table did not save and read back after a damaged file")
                problem = table.problem
            else:
                s = Settings(path)
                for spec in s.visible():
                    if s.get(spec.key) not in spec.choices:
                        raise Undocumented(f"setting {spec.key} = {s.get(spec.key)!r} is not one of its choices")
                s.set("sound", False)
                if Settings(path).get("sound") is not False:
                    raise Undocumented("the settings did not save and read back after a damaged file")
                problem = s.problem
        except Undocumented:
            raise
        except BaseException as exc:
            raise Undocumented(f"the game refused a damaged {which} file: {type(exc).__name__}: {exc}") from exc
        if (problem is not None and "kept as" in problem) and not any(
            p.read_bytes() == data for p in tmp.glob(path.name + ".corrupt*")
        ):
            raise Undocumented("a damaged file was reported as kept but no copy holds its bytes")
        return f"{which} " + ("defaults: " + _norm(problem).split("(")[0] if problem else "read")

    return case


# ---------------------------------------------------------------- training configs
def _config_target() -> Case:
    from aip_ml._config import TrainConfig, config_tasks, load_config
    from aip_ml._errors import ConfigError

    shipped = [
        Path(__import__("aip_ml._config", fromlist=["config_path"]).config_path(t)).read_bytes() for t in config_tasks()
    ]
    keys = [f.name for f in __import__("dataclasses").fields(TrainConfig)]
    words = [
        "1",
        "0",
        "-1",
        "inf",
        "nan",
        "1e400",
        "[1,2]",
        "[]",
        "{a=1}",
        "true",
        "'x'",
        "chase-v1",
        "dodge-v1",
        "[[[[1]]]]",
        '"\\ud800"',
        "1_000",
        "0x10",
        "2026-01-01",
        "tanh",
        "cpu",
        "[16,16]",
        "1e-12",
    ]

    def case(rng: random.Random, tmp: Path) -> str:
        path = None
        overrides = []
        task = rng.choice([None, None, *config_tasks(), "nope"])
        if rng.random() < 0.6:
            path = _write(tmp, "c.toml", _bytes_case(rng, shipped))
            if rng.random() < 0.3:
                task = None
        for _ in range(rng.randint(0, 3)):
            key = rng.choice(keys) if rng.random() < 0.9 else rng.choice(["", "=", "nokey", "a.b", "task"])
            overrides.append(
                f"{key}={rng.choice(words) if rng.random() < 0.8 else _text(_value(rng))}"
                if rng.random() < 0.95
                else key
            )
        if task is None and path is None:
            task = "chase-v1"
        try:
            load_config(task, path=path, overrides=overrides)
        except BaseException as exc:
            return _refused(exc, (ConfigError,))
        return "loaded"

    return case


# ---------------------------------------------------------------- the aip command
TINY = [
    "total_steps=256",
    "num_worlds=8",
    "rollout_steps=32",
    "epochs=1",
    "minibatch_size=128",
    "hidden_sizes=[8]",
    "eval_episodes=2",
    "checkpoint_every=0",
    "torch_threads=1",
    "engine_threads=1",
]


def _cli_target() -> Case:
    import typer

    from aip_cli import app
    from aip_cli._app import main as aip_main

    # What the commands import lazily, imported once here so that each forked case starts warm.
    for name in ("torch", "mlflow", "mlflow.tracking", "aip_ml", "aip_ml.tracking", "aip_game", "aip_game._session"):
        with contextlib.suppress(ImportError):
            __import__(name)

    base = Path(tempfile.mkdtemp(prefix="aip-fuzz-cli-"))
    env = {
        **os.environ,
        "AIP_GAME_HOME": str(base / "game"),
        "AIP_CACHE_DIR": str(base / "cache"),
        "SDL_VIDEODRIVER": "dummy",
        "SDL_AUDIODRIVER": "dummy",
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    subprocess.run(
        [sys.executable, "-m", "aip_cli", "train", "chase-v1", *TINY],
        cwd=base,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
    )
    (base / "junk.aipp").write_bytes(b"PK\x03\x04 not a policy")
    (base / "junk.aiprec").write_bytes(b"AIPREC\x00\x00")
    (base / "bad.toml").write_bytes(b"task = 'chase-v1'\nlearning_rate = inf\n")
    os.mkfifo(base / "fifo")

    command = typer.main.get_command(app)
    tree: dict[str, list[str]] = {}

    def walk(cmd: Any, prefix: list[str]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, [*prefix, name])
        else:
            tree[" ".join(prefix)] = [o for p in cmd.params for o in getattr(p, "opts", []) if o.startswith("-")]

    walk(command, [])
    # Commands whose valid form runs for long (a server, a game window, a training): every case gives
    # them at least one bad token, so a case that runs past the timeout is a hang, not work.
    long_running = {"dashboard", "play", "train", "tune", "bench", "league run", "demos record", "eval"}
    refs = [
        "chase-v1-enemy",
        "chase-v1-enemy/1",
        "chase-v1-enemy/2",
        "chase-v1-enemy/0",
        "chase-v1-enemy/-1",
        "chase-v1-enemy/99999999999999999999",
        "chase-v1-enemy@champion",
        "chase-v1-enemy@nope",
        "chase-v1-enemy@",
        "chase-v1-enemy/1/2",
        "/",
        "@",
        "NAME/VERSION",
        "chase-v1-enemy/1@champion",
        "../../etc/passwd",
        "chase-v1-enemy/１",
        "chase-v1-enemy/1e3",
        "chase-v1-enemy%2F1",
        "x" * 300,
        "",
        "bot:intercept",
        "bot:nope",
        "junk.aipp",
        "fifo",
        "/dev/null",
        "missing.aipp",
        "chase-v1-enemy/ 1",
        "chase v1",
    ]
    values = [
        "0",
        "-1",
        "1e9",
        "abc",
        "nan",
        "inf",
        "",
        "chase-v1",
        "nope-v1",
        "junk.aiprec",
        "bad.toml",
        "fifo",
        "/dev/zero",
        "127.0.0.1",
        "0.0.0.0",
        "65536",
        "http://127.0.0.1:9/",
        "sqlite:///nope/x.db",
        "\x00",
        "é",
        "task=dodge-v1",
        "learning_rate=inf",
        "nokey=1",
        "total_steps=-5",
        "out.aipp",
    ]

    def argv_for(rng: random.Random) -> list[str]:
        name = rng.choice(list(tree))
        argv = name.split() if name else []
        opts = tree[name]
        for _ in range(rng.randint(0, 4)):
            roll = rng.random()
            if roll < 0.35 and opts:
                argv.append(rng.choice(opts))
                if rng.random() < 0.7:
                    argv.append(rng.choice(values + refs))
            elif roll < 0.7:
                argv.append(rng.choice(refs))
            elif roll < 0.9:
                argv.append(rng.choice(values))
            else:
                argv.append(rng.choice(["--json", "--help", "--force", "--", "-", "--nope", "-x"]))
        if any(" ".join(argv).startswith(c) for c in long_running):
            # Twice: an option that takes a value (`--mlflow-ui --help`, `--recordings --nope`) reads
            # the first as its value, so only the second is sure to be parsed as what it is.
            if "--help" in argv:
                argv += ["--help", "--help"]
            else:
                bad = rng.choice(
                    [["--nope"], ["nokey=1"], ["total_steps=-5"], ["--seed", "abc"], ["learning_rate=inf"]]
                )
                argv += bad + bad
        return argv

    def case(rng: random.Random, tmp: Path) -> str:
        argv = argv_for(rng)
        for item in ("mlflow.db", "mlartifacts", "junk.aipp", "junk.aiprec", "bad.toml"):
            src = base / item
            if src.is_dir():
                shutil.copytree(src, tmp / item, symlinks=True)
            elif src.exists():
                shutil.copy2(src, tmp / item)
        os.mkfifo(tmp / "fifo")
        os.chdir(tmp)
        for key in ("AIP_GAME_HOME", "AIP_CACHE_DIR"):
            os.environ[key] = str(tmp / key.lower())
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = aip_main(argv)
        text = err.getvalue()
        if LEAKS.search(text) or code not in (0, 1, 2, 3, 4, 5, 130):
            raise Undocumented(f"aip {' '.join(argv)!r} -> exit {code}: {text[-400:]}")
        first = next((ln for ln in text.splitlines() if ln.startswith(("aip: error", "Error", "Usage"))), "")
        return f"exit {code} {argv[0] if argv else ''}: {_norm(first)[:50]}"

    return case


TARGETS: dict[str, Callable[[], Case]] = {
    "engine": _engine_target,
    "policy": _policy_target,
    "checkpoint": _checkpoint_target,
    "recording": _recording_target,
    "dataset": _dataset_target,
    "gamefiles": _gamefiles_target,
    "config": _config_target,
    "cli": _cli_target,
}
WEIGHTS = {
    "engine": 3,
    "policy": 2,
    "checkpoint": 1,
    "recording": 1,
    "dataset": 1,
    "gamefiles": 1,
    "config": 1,
    "cli": 2,
}


# ---------------------------------------------------------------- running cases in child processes
def _child(case: Case, rng: random.Random, write_fd: int) -> None:
    import faulthandler
    import logging
    import warnings

    faulthandler.disable()  # a crash is an outcome the parent reports, not a traceback on the terminal

    warnings.simplefilter("ignore")  # deprecation and overflow warnings are not outcomes
    logging.disable(logging.CRITICAL)  # the game's reports of damaged files are outcomes here, not noise
    tmp = Path(tempfile.mkdtemp(prefix="aip-fuzz-case-"))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        sys.setrecursionlimit(3000)
        try:
            result = {"kind": "ok", "outcome": case(rng, tmp)}
        except Undocumented as exc:
            result = {"kind": "undocumented", "outcome": str(exc)}
        except BaseException as exc:
            result = {
                "kind": "undocumented",
                "outcome": f"{type(exc).__name__}: {str(exc)[:300]}",
                "traceback": traceback.format_exc()[-2000:],
            }
        os.write(write_fd, json.dumps(result).encode()[:60000])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        os._exit(0)


# A case that does not answer in time is run again with this many times the time: on a loaded
# machine a slow case answers then (and is reported as slow, with its real outcome); a real hang
# does not answer either time.
RETRY_FACTOR = 4.0


def run_case(
    case: Case, target: str, seed: int, index: int, timeout: float, retry_factor: float = RETRY_FACTOR
) -> dict[str, Any]:
    """Run case ``index`` of ``target`` in a forked child; returns its kind and outcome.

    A case without an answer within ``timeout`` seconds is run once more (the same input) with
    ``retry_factor`` times as long; only when that run does not answer either is it a hang. A case
    that answered only on the retry keeps its outcome and carries ``slow`` (why it was retried).
    """
    result = _run_once(case, target, seed, index, timeout)
    if result["kind"] != "hang" or retry_factor <= 1:
        return result
    longer = timeout * retry_factor
    again = _run_once(case, target, seed, index, longer)
    if again["kind"] == "hang":
        return {"kind": "hang", "outcome": f"no answer within {timeout:g} s, nor within {longer:g} s on a retry"}
    again["slow"] = f"no answer within {timeout:g} s; the retry answered within {longer:g} s"
    return again


def _run_once(case: Case, target: str, seed: int, index: int, timeout: float) -> dict[str, Any]:
    rng = random.Random(f"{target}:{seed}:{index}")
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        _child(case, rng, write_fd)
    os.close(write_fd)
    chunks = []
    deadline = time.monotonic() + timeout
    hung = False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            hung = True
            break
        ready, _, _ = select.select([read_fd], [], [], left)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    os.close(read_fd)
    if hung:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return {"kind": "hang", "outcome": f"no answer within {timeout:g} s"}
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return {"kind": "crash", "outcome": f"killed by {signal.Signals(os.WTERMSIG(status)).name}"}
    try:
        return dict(json.loads(b"".join(chunks)))
    except ValueError:
        return {
            "kind": "crash",
            "outcome": f"exited with status {os.waitstatus_to_exitcode(status)} without an outcome",
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, help="total time over all targets (default 60)")
    budget.add_argument("--minutes", type=float, help="total time over all targets")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="only these targets (repeatable)")
    parser.add_argument("--seed", type=int, default=0, help="the case generators' seed (default 0)")
    parser.add_argument("--case", type=int, help="run this one case of --target and print its outcome")
    parser.add_argument(
        "--case-timeout",
        type=float,
        default=20.0,
        help="seconds before a case is run again with 4x as long; a hang when that does not answer either (default 20)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case's outcome")
    args = parser.parse_args(argv)
    if sys.platform == "win32" or not hasattr(os, "fork"):
        parser.error("the fuzzer forks a process per case; run it on Linux or macOS")
    targets = args.target or list(TARGETS)
    total = args.minutes * 60 if args.minutes else args.seconds or 60.0
    if args.case is not None:
        if len(targets) != 1:
            parser.error("--case needs exactly one --target")
        case = TARGETS[targets[0]]()
        result = run_case(case, targets[0], args.seed, args.case, args.case_timeout)
        print(json.dumps(result, indent=2))
        return 0 if result["kind"] == "ok" else 1
    weight = sum(WEIGHTS[t] for t in targets)
    report: dict[str, Any] = {"seed": args.seed, "seconds": total, "targets": {}}
    bad_total = 0
    started = time.monotonic()
    for target in targets:
        share = total * WEIGHTS[target] / weight
        t0 = time.monotonic()
        try:
            case = TARGETS[target]()
        except Exception as exc:
            print(f"{target}: could not start ({type(exc).__name__}: {exc})", flush=True)
            report["targets"][target] = {"error": f"{type(exc).__name__}: {exc}"}
            bad_total += 1
            continue
        outcomes: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        problems: list[dict[str, Any]] = []
        slow: list[dict[str, Any]] = []
        index = 0
        while time.monotonic() - t0 < share or index == 0:
            result = run_case(case, target, args.seed, index, args.case_timeout)
            kinds[result["kind"]] += 1
            if "slow" in result:
                slow.append({"case": index, "kind": result["kind"], "slow": result["slow"]})
            outcomes[result["outcome"] if result["kind"] == "ok" else result["kind"]] += 1
            if result["kind"] != "ok":
                problems.append(
                    {
                        "case": index,
                        **result,
                        "replay": f"python tools/fuzz.py --target {target} --seed {args.seed} --case {index}",
                    }
                )
            if args.verbose:
                print(f"  {target} #{index}: {result['kind']}: {result['outcome'][:160]}", flush=True)
            index += 1
        seconds = time.monotonic() - t0
        entry = {
            "inputs": index,
            "seconds": round(seconds, 1),
            "distinct_outcomes": len(outcomes),
            "crashes": kinds["crash"],
            "hangs": kinds["hang"],
            "undocumented": kinds["undocumented"],
            "slow_retried": len(slow),
            "slow": slow[:50],
            "problems": problems[:50],
            "top_outcomes": outcomes.most_common(8),
        }
        report["targets"][target] = entry
        bad_total += len(problems)
        print(
            f"{target:>10}: {index:6d} inputs in {seconds:6.0f} s, {len(outcomes):4d} distinct outcomes, "
            f"{kinds['crash']} crashes, {kinds['hang']} hangs, {kinds['undocumented']} undocumented"
            + (f" ({len(slow)} slow, answered on a retry)" if slow else ""),
            flush=True,
        )
        for p in problems[:10]:
            print(f"            {p['kind']}: {p['outcome'][:200]}\n              replay: {p['replay']}", flush=True)
    figures = report["targets"].values()
    report["total"] = {
        key: sum(int(e.get(key, 0)) for e in figures)
        for key in ("inputs", "crashes", "hangs", "undocumented", "slow_retried")
    }
    report["total"]["seconds"] = round(time.monotonic() - started, 1)
    t = report["total"]
    print(
        f"{'total':>10}: {t['inputs']:6d} inputs in {t['seconds']:6.0f} s, {t['crashes']} crashes, {t['hangs']} hangs, "
        f"{t['undocumented']} undocumented"
        + (f" ({t['slow_retried']} slow, answered on a retry)" if t["slow_retried"] else ""),
        flush=True,
    )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
