"""Export a policy as an ONNX model (docs/onnx.md): the normalisation, the network and the action mapping in one graph.

The graph computes exactly what the portable runtime's `aip_engine.Policy.act` computes
(docs/policy-format.md), in float32:

``observation`` ``(batch, obs_size)`` -> clip((obs - mean) * scale, ±clip) -> the MLP -> ``actor_mean``
``(batch, act_size)`` -> clip or tanh -> mid + half * y = ``action`` ``(batch, act_size)``.

The role layout (observation and action fields with their ranges), the task and the training metadata
are in the model's metadata properties, under ``aip.*`` keys. The graph is built node by node with
``onnx.helper`` from the numbers of a loaded ``.aipp`` policy, so it needs neither torch's exporter nor
a trace; ``onnx.checker`` checks it before it is written.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

import aip_engine
from aip_engine._files import write_atomic

from ._errors import CheckpointError

if TYPE_CHECKING:
    import onnx

    from .ppo import TorchPolicy

__all__ = ["ONNX_INPUT", "ONNX_OPSET", "ONNX_OUTPUTS", "export_onnx", "policy_to_onnx", "require_onnx"]

#: The graph's input: raw observations, float32 ``(batch, obs_size)``.
ONNX_INPUT: Final = "observation"
#: The graph's outputs: the actions in each field's range, and the network's output before the transform.
ONNX_OUTPUTS: Final = ("action", "actor_mean")
#: The operator set the graph uses (every op is in the default domain; runtimes from 2022 on run it).
ONNX_OPSET: Final = 17
_IR_VERSION: Final = 8  # the IR version of opset 17; newer IRs are refused by older runtimes

_INSTALL_HINT = "ONNX export needs the onnx package: pip install 'aip-ml[onnx]'"


def require_onnx() -> None:
    """Check that the onnx package is installed.

    Raises:
        ImportError: It is not; the message says how to install it.
    """
    _onnx()


def _onnx() -> Any:
    try:
        import onnx
    except ImportError as exc:  # an optional extra
        raise ImportError(_INSTALL_HINT) from exc
    return onnx


def _fields(fields: tuple[aip_engine.Field, ...]) -> str:
    return json.dumps([[f.name, f.low, f.high] for f in fields])


def policy_to_onnx(policy: aip_engine.Policy) -> onnx.ModelProto:
    """Build the ONNX model of a portable policy.

    Args:
        policy: A policy loaded with `aip_engine.load_policy`.

    Returns:
        A checked ``onnx.ModelProto`` with input `ONNX_INPUT` and outputs `ONNX_OUTPUTS`, a dynamic
        batch dimension, and the role layout in its metadata.

    Raises:
        ImportError: The onnx package is not installed.
        onnx.checker.ValidationError: The graph does not check (a bug: report it).
    """
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    net = policy.network()
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    clip = float(net["obs_clip"])
    h = node("Sub", [ONNX_INPUT, const("obs_mean", net["obs_mean"])], "obs_centred")
    h = node("Mul", [h, const("obs_scale", net["obs_scale"])], "obs_scaled")
    h = node("Clip", [h, const("obs_clip_low", -clip), const("obs_clip_high", clip)], "normalized_observation")
    weights, biases = net["weights"], net["biases"]
    last = len(weights) - 1
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        pre = node("Gemm", [h, const(f"w{i}", w), const(f"b{i}", b)], "actor_mean" if i == last else f"linear{i}")
        if i == last:
            h = pre
            break
        act = net["activation"]
        if act == "tanh":
            h = node("Tanh", [pre], f"hidden{i}")
        elif act == "relu":
            h = node("Relu", [pre], f"hidden{i}")
        elif act == "elu":
            h = node("Elu", [pre], f"hidden{i}", alpha=1.0)
        elif act == "silu":
            h = node("Mul", [pre, node("Sigmoid", [pre], f"sigmoid{i}")], f"hidden{i}")
        else:  # identity
            h = pre
    if net["action_transform"] == "tanh":
        y = node("Tanh", [h], "action_unit")
    else:
        y = node("Clip", [h, const("unit_low", -1.0), const("unit_high", 1.0)], "action_unit")
    y = node("Mul", [y, const("act_half", net["act_half"])], "action_offset")
    node("Add", [y, const("act_mid", net["act_mid"])], "action")

    role_layout = policy.layout
    graph = helper.make_graph(
        nodes,
        f"aip-policy-{role_layout.name}",
        [helper.make_tensor_value_info(ONNX_INPUT, TensorProto.FLOAT, ["batch", policy.obs_size])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", policy.act_size]) for name in ONNX_OUTPUTS],
        initializer=inits,
    )
    graph.input[0].doc_string = "raw observations in the order of the role layout (metadata aip.observation)"
    graph.output[0].doc_string = "deterministic actions, each in its field's range (metadata aip.action)"
    graph.output[1].doc_string = "the actor's mean before the action transform, in the normalised space"
    from . import __version__

    model = helper.make_model(
        graph,
        producer_name="aip-ml",
        producer_version=__version__,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        doc_string=f"{role_layout.role} policy of layout {role_layout.name} (task {policy.task or '-'})",
    )
    model.ir_version = _IR_VERSION
    meta = {
        "aip.format": "aip-policy-onnx",
        "aip.format_version": "1",
        "aip.role": role_layout.role,
        "aip.layout": role_layout.name,
        "aip.layout_version": str(role_layout.version),
        "aip.observation": _fields(role_layout.observation),
        "aip.action": _fields(role_layout.action),
        "aip.task": policy.task or "",
        "aip.activation": str(net["activation"]),
        "aip.action_transform": str(net["action_transform"]),
        "aip.training": json.dumps(policy.meta.get("training", {}), sort_keys=True),
        "aip.engine_version": aip_engine.__version__,
    }
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def _load_source(
    source: str | os.PathLike[str] | aip_engine.Policy | TorchPolicy, role: str | None
) -> aip_engine.Policy:
    if isinstance(source, aip_engine.Policy):
        return source
    from ._export import export_policy, export_torch_policy
    from .ppo import TorchPolicy

    with tempfile.TemporaryDirectory(prefix="aip-onnx-") as tmp:
        aipp = Path(tmp) / "policy.aipp"
        if isinstance(source, TorchPolicy):
            export_torch_policy(source, aipp)
            return aip_engine.load_policy(aipp)
        path = Path(source)
        if path.suffix == ".ckpt":
            export_policy(path, aipp, role=role)
            return aip_engine.load_policy(aipp)
        if path.suffix != ".aipp":
            raise CheckpointError(
                f"{os.fspath(path)!r} is neither a policy file (.aipp) nor a training checkpoint (.ckpt); "
                "pass one of those"
            )
    return aip_engine.load_policy(path, role=role)


def export_onnx(
    source: str | os.PathLike[str] | aip_engine.Policy | TorchPolicy,
    out_path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    role: str | None = None,
) -> Path:
    """Write a policy as an ONNX model, atomically.

    Args:
        source: A portable policy file (``.aipp``), a training checkpoint (``.ckpt``), a loaded
            `aip_engine.Policy` or a `TorchPolicy`.
        out_path: The ``.onnx`` file to write.
        overwrite: Replace an existing file; otherwise an existing file is an error.
        role: For a checkpoint of several roles (duel-v1): which one; for a policy file: the role it
            must have.

    Returns:
        The path written.

    Raises:
        ImportError: The onnx package is not installed (``pip install 'aip-ml[onnx]'``).
        aip_engine.PolicyError: The policy file does not load.
        CheckpointError: The checkpoint is missing or corrupt, the role is wrong, or the file is
            neither ``.aipp`` nor ``.ckpt``.
        FileExistsError: ``out_path`` exists and ``overwrite`` is false.
    """
    _onnx()  # fail before any work when the extra is missing
    out = Path(out_path)
    if os.path.lexists(out) and not overwrite:
        raise FileExistsError(f"{os.fspath(out)!r} exists; choose another path or allow overwriting (--force)")
    model = policy_to_onnx(_load_source(source, role))
    return write_atomic(out, model.SerializeToString(), overwrite=overwrite, what="ONNX model")
