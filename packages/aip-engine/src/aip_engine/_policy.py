"""The portable policy runtime: read, check and run an exported policy with numpy alone.

The file format is specified in docs/policy-format.md. A policy file (``.aipp``) is a numpy ``.npz``
archive (a zip) holding the layer weights, the observation normalisation and a JSON header that names
the role layout, the action layout and the training metadata. `load_policy` checks it against the
engine's layouts; `Policy.act` maps observations to actions deterministically (the actor's mean,
transformed into the action ranges exactly as the trainer does when it evaluates).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ._errors import EngineError, ShapeError, UnknownNameError
from ._layouts import RoleLayout, layout

__all__ = [
    "ACTION_TRANSFORMS",
    "ACTIVATIONS",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "Policy",
    "PolicyError",
    "load_policy",
    "save_policy",
]

#: Name written into every policy file's header.
FORMAT_NAME: Final = "aip-policy"

#: Version of the format this runtime writes; it reads every version up to this one.
FORMAT_VERSION: Final = 1

#: Hidden-layer activations the runtime implements.
ACTIVATIONS: Final = ("tanh", "relu", "elu", "silu", "identity")

#: How the network's raw output is mapped into each action field's ``[low, high]`` range.
ACTION_TRANSFORMS: Final = ("clip", "tanh")

_HEADER_KEY = "header"


class PolicyError(EngineError, ValueError):
    """A policy file is unreadable, corrupt, of an unknown format version, or for another role."""


def _activation(name: str, x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, np.float32(0.0))
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, np.float32(0.0)))).astype(np.float32)
    if name == "silu":
        # x * sigmoid(x), with sigmoid written through tanh so that no exp() can overflow.
        out: npt.NDArray[np.float32] = (x * np.float32(0.5) * (np.float32(1.0) + np.tanh(x * np.float32(0.5)))).astype(
            np.float32
        )
        return out
    return x


class Policy:
    """An exported policy: a small MLP with observation normalisation, bound to a role layout.

    Build one with `load_policy`; the constructor takes already-checked parts.

    Attributes:
        layout: The role layout the policy observes and acts in (an engine layout).
        meta: The file's header: format, layout, action fields, task, training metadata.
        activation: The hidden-layer activation.
        action_transform: ``"clip"`` or ``"tanh"`` (docs/policy-format.md).
    """

    def __init__(
        self,
        role_layout: RoleLayout,
        weights: Sequence[npt.NDArray[np.float32]],
        biases: Sequence[npt.NDArray[np.float32]],
        *,
        activation: str,
        obs_mean: npt.NDArray[np.float64],
        obs_var: npt.NDArray[np.float64],
        obs_clip: float,
        obs_epsilon: float,
        action_transform: str,
        meta: Mapping[str, Any],
    ) -> None:
        self.layout = role_layout
        self.meta: dict[str, Any] = dict(meta)
        self.activation = activation
        self.action_transform = action_transform
        self._weights_t = [np.ascontiguousarray(w.T, dtype=np.float32) for w in weights]
        self._biases = [np.asarray(b, dtype=np.float32) for b in biases]
        self._obs_mean = np.asarray(obs_mean, dtype=np.float32)
        self._obs_scale = (1.0 / np.sqrt(np.asarray(obs_var, dtype=np.float64) + obs_epsilon)).astype(np.float32)
        self._obs_clip = np.float32(obs_clip)
        low = np.array([f.low for f in role_layout.action], dtype=np.float32)
        high = np.array([f.high for f in role_layout.action], dtype=np.float32)
        self._act_mid = (high + low) / np.float32(2.0)
        self._act_half = (high - low) / np.float32(2.0)

    @property
    def role(self) -> str:
        """The role this policy plays (``"enemy"``, ``"missile"`` or ``"player"``)."""
        return self.layout.role

    @property
    def obs_size(self) -> int:
        """Number of observation values the policy reads."""
        return self.layout.obs_size

    @property
    def act_size(self) -> int:
        """Number of action values the policy writes."""
        return self.layout.act_size

    @property
    def task(self) -> str | None:
        """The task the policy was trained on, if the file records one."""
        task = self.meta.get("task")
        return task if isinstance(task, str) else None

    def network(self) -> dict[str, Any]:
        """Copies of the numbers that define the policy, for converters (aip-ml's ONNX export).

        Returns:
            ``weights`` (each ``(in, out)``, applied as ``h @ w + b``), ``biases``, ``activation``,
            ``obs_mean`` and ``obs_scale`` (normalised = ``clip((obs - obs_mean) * obs_scale,
            ±obs_clip)``), ``obs_clip``, ``action_transform`` and ``act_mid``/``act_half``
            (action = ``act_mid + act_half * transform(output)``), all float32.
        """
        return {
            "weights": [w.copy() for w in self._weights_t],
            "biases": [b.copy() for b in self._biases],
            "activation": self.activation,
            "obs_mean": self._obs_mean.copy(),
            "obs_scale": self._obs_scale.copy(),
            "obs_clip": float(self._obs_clip),
            "action_transform": self.action_transform,
            "act_mid": self._act_mid.copy(),
            "act_half": self._act_half.copy(),
        }

    def raw_output(self, obs: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Return the network's output (the actor's mean) before the action transform.

        Args:
            obs: One observation ``(obs_size,)`` or a batch ``(N, obs_size)``.

        Returns:
            ``(act_size,)`` or ``(N, act_size)`` float32.

        Raises:
            ShapeError: The observation's last dimension is not ``obs_size``.
        """
        x = np.asarray(obs, dtype=np.float32)
        if x.ndim not in (1, 2) or x.shape[-1] != self.obs_size:
            raise ShapeError(
                f"policy for layout {self.layout.name!r} expects observations of shape "
                f"({self.obs_size},) or (N, {self.obs_size}); got shape {x.shape}"
            )
        h: npt.NDArray[np.float32] = np.clip(
            (x - self._obs_mean) * self._obs_scale, -self._obs_clip, self._obs_clip
        ).astype(np.float32, copy=False)
        last = len(self._weights_t) - 1
        for i, (w, b) in enumerate(zip(self._weights_t, self._biases, strict=True)):
            h = h @ w + b
            if i < last:
                h = _activation(self.activation, h)
        return h.astype(np.float32, copy=False)

    def act(self, obs: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """Choose actions deterministically: the actor's mean mapped into the action ranges.

        Args:
            obs: One observation ``(obs_size,)`` or a batch ``(N, obs_size)``, e.g. the view returned
                by `Worlds.observations(role)`.

        Returns:
            A new C-contiguous float32 array ``(act_size,)`` or ``(N, act_size)``, ready for
            `Worlds.step`. The player's ``fire`` value fires when it is ``>= 0.5``.

        Raises:
            ShapeError: The observation's last dimension is not ``obs_size``.
        """
        y = self.raw_output(obs)
        y = np.tanh(y) if self.action_transform == "tanh" else np.clip(y, np.float32(-1.0), np.float32(1.0))
        return np.ascontiguousarray(self._act_mid + self._act_half * y, dtype=np.float32)

    def __repr__(self) -> str:
        sizes = [self.obs_size] + [int(b.shape[0]) for b in self._biases]
        return f"Policy(layout={self.layout.name!r}, sizes={sizes}, activation={self.activation!r}, task={self.task!r})"


def _fail(path: str | os.PathLike[str], what: str) -> PolicyError:
    return PolicyError(f"cannot load policy {os.fspath(path)!r}: {what}")


def _read_archive(path: str | os.PathLike[str]) -> dict[str, npt.NDArray[Any]]:
    p = Path(path)
    if not p.is_file():
        raise _fail(path, "no such file (export one with `aip models export` or aip_ml.export_policy)")
    try:
        # Read the bytes first so that a corrupt archive leaves no open file behind.
        with np.load(io.BytesIO(p.read_bytes()), allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        # numpy's own message may suggest allow_pickle, which a policy file never needs.
        raise _fail(
            path, f"the file is not a policy archive or is corrupt ({type(exc).__name__}); export it again"
        ) from None


def _header(path: str | os.PathLike[str], arrays: Mapping[str, npt.NDArray[Any]]) -> dict[str, Any]:
    raw = arrays.get(_HEADER_KEY)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise _fail(path, "the archive has no policy header; it is not a policy file")
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"the policy header is corrupt ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise _fail(path, f"the header does not name the format {FORMAT_NAME!r}; it is not a policy file")
    version = header.get("format_version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise _fail(
            path,
            f"format version {version!r} is not supported; this aip-engine reads versions 1 to "
            f"{FORMAT_VERSION} (a newer file needs a newer aip-engine)",
        )
    return header


def _array(
    path: str | os.PathLike[str], arrays: Mapping[str, npt.NDArray[Any]], name: str, shape: tuple[int, ...]
) -> npt.NDArray[Any]:
    a = arrays.get(name)
    if a is None:
        raise _fail(path, f"array {name!r} is missing; the file is corrupt")
    if a.shape != shape:
        raise _fail(path, f"array {name!r} has shape {a.shape}, expected {shape}; the file is corrupt")
    if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
        raise _fail(path, f"array {name!r} is not all finite floating-point numbers; the file is corrupt")
    return a


def load_policy(path: str | os.PathLike[str], role: str | None = None) -> Policy:
    """Load an exported policy and check it against the engine's layouts.

    Args:
        path: The policy file (``.aipp``).
        role: If given, the role the caller will use the policy for; a policy of another role (or of
            a layout that is not the role's) is rejected.

    Returns:
        The policy, ready to `Policy.act`.

    Raises:
        PolicyError: The file is missing, corrupt, of an unknown format version, names a layout this
            engine does not know or whose sizes differ, or plays another role than ``role``.
    """
    arrays = _read_archive(path)
    header = _header(path, arrays)
    name = header.get("layout")
    try:
        lay = layout(str(name))
    except UnknownNameError as exc:
        raise _fail(path, f"it was made for layout {name!r}, which this aip-engine does not know: {exc}") from None
    if header.get("layout_version") != lay.version or header.get("role") != lay.role:
        raise _fail(
            path,
            f"its header's role/version ({header.get('role')!r}, {header.get('layout_version')!r}) "
            f"do not match layout {lay.name!r} ({lay.role!r}, {lay.version})",
        )
    if role is not None and role != lay.role:
        raise _fail(path, f"it is a {lay.role!r} policy (layout {lay.name!r}); a {role!r} policy is needed here")
    actions = header.get("action")
    expected_actions = [[f.name, f.low, f.high] for f in lay.action]
    if actions != expected_actions:
        raise _fail(path, f"its action layout {actions!r} differs from {lay.name!r}'s {expected_actions!r}")
    if header.get("obs_size") != lay.obs_size:
        raise _fail(path, f"it reads {header.get('obs_size')!r} observation values; {lay.name!r} has {lay.obs_size}")
    activation = header.get("activation")
    if activation not in ACTIVATIONS:
        raise _fail(path, f"activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    transform = header.get("action_transform")
    if transform not in ACTION_TRANSFORMS:
        raise _fail(path, f"action transform {transform!r} is not one of {', '.join(ACTION_TRANSFORMS)}")
    sizes = header.get("layer_sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(s, int) and s > 0 for s in sizes)
        or sizes[0] != lay.obs_size
        or sizes[-1] != lay.act_size
    ):
        raise _fail(path, f"layer sizes {sizes!r} must start with {lay.obs_size} and end with {lay.act_size}")
    weights = [_array(path, arrays, f"w{i}", (sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    biases = [_array(path, arrays, f"b{i}", (sizes[i + 1],)) for i in range(len(sizes) - 1)]
    obs_mean = _array(path, arrays, "obs_mean", (lay.obs_size,))
    obs_var = _array(path, arrays, "obs_var", (lay.obs_size,))
    if np.any(obs_var < 0):
        raise _fail(path, "obs_var has negative entries; the file is corrupt")
    clip, eps = header.get("obs_clip"), header.get("obs_epsilon")
    if not isinstance(clip, (int, float)) or not clip > 0 or not isinstance(eps, (int, float)) or not eps >= 0:
        raise _fail(path, f"obs_clip {clip!r} must be > 0 and obs_epsilon {eps!r} >= 0")
    return Policy(
        lay,
        [w.astype(np.float32) for w in weights],
        [b.astype(np.float32) for b in biases],
        activation=str(activation),
        obs_mean=obs_mean.astype(np.float64),
        obs_var=obs_var.astype(np.float64),
        obs_clip=float(clip),
        obs_epsilon=float(eps),
        action_transform=str(transform),
        meta=header,
    )


def save_policy(
    path: str | os.PathLike[str],
    *,
    layout_name: str,
    weights: Sequence[npt.ArrayLike],
    biases: Sequence[npt.ArrayLike],
    activation: str,
    obs_mean: npt.ArrayLike,
    obs_var: npt.ArrayLike,
    obs_clip: float = 10.0,
    obs_epsilon: float = 1e-8,
    action_transform: str = "clip",
    task: str | None = None,
    training: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a policy file atomically (a temporary file in the same folder, then a rename).

    Args:
        path: Where to write (``.aipp`` by convention).
        layout_name: The role layout, e.g. ``"enemy-v1"``; must be a layout the engine knows.
        weights: The layer weights, torch ``Linear`` convention ``(out, in)``, first layer first.
        biases: The layer biases ``(out,)``.
        activation: Hidden-layer activation, one of `ACTIVATIONS`.
        obs_mean: Running mean of the observations ``(obs_size,)``.
        obs_var: Running variance of the observations ``(obs_size,)``.
        obs_clip: Normalised observations are clipped to ``[-obs_clip, obs_clip]``.
        obs_epsilon: Added to the variance before the square root.
        action_transform: ``"clip"`` or ``"tanh"`` (docs/policy-format.md).
        task: The task the policy was trained on.
        training: JSON-serialisable training metadata (run id, updates, steps, seed, config...).
        overwrite: Replace an existing file; otherwise an existing file is an error.

    Returns:
        The path written.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        PolicyError: The parts do not fit the layout or each other, or the metadata is not JSON.
    """
    out = Path(path)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{os.fspath(out)!r} exists; choose another path or pass overwrite=True")
    try:
        lay = layout(layout_name)
    except UnknownNameError as exc:
        raise PolicyError(f"cannot save policy: {exc}") from None
    if activation not in ACTIVATIONS:
        raise PolicyError(f"cannot save policy: activation {activation!r} is not one of {', '.join(ACTIVATIONS)}")
    if action_transform not in ACTION_TRANSFORMS:
        raise PolicyError(
            f"cannot save policy: action transform {action_transform!r} is not one of {', '.join(ACTION_TRANSFORMS)}"
        )
    ws = [np.asarray(w, dtype=np.float32) for w in weights]
    bs = [np.asarray(b, dtype=np.float32) for b in biases]
    if not ws or len(ws) != len(bs):
        raise PolicyError(f"cannot save policy: {len(ws)} weight matrices and {len(bs)} bias vectors")
    sizes = [lay.obs_size]
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        if w.ndim != 2 or w.shape[1] != sizes[-1] or b.shape != (w.shape[0],):
            raise PolicyError(
                f"cannot save policy: layer {i} has weight {w.shape} and bias {b.shape}; "
                f"expected ({'out'}, {sizes[-1]}) and (out,)"
            )
        sizes.append(int(w.shape[0]))
    if sizes[-1] != lay.act_size:
        raise PolicyError(
            f"cannot save policy: the last layer has {sizes[-1]} outputs; {lay.name!r} has {lay.act_size} actions"
        )
    mean = np.asarray(obs_mean, dtype=np.float64)
    var = np.asarray(obs_var, dtype=np.float64)
    if mean.shape != (lay.obs_size,) or var.shape != (lay.obs_size,):
        raise PolicyError(
            f"cannot save policy: obs_mean {mean.shape} and obs_var {var.shape} must be ({lay.obs_size},)"
        )
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "role": lay.role,
        "layout": lay.name,
        "layout_version": lay.version,
        "obs_size": lay.obs_size,
        "action": [[f.name, f.low, f.high] for f in lay.action],
        "layer_sizes": sizes,
        "activation": activation,
        "action_transform": action_transform,
        "obs_clip": float(obs_clip),
        "obs_epsilon": float(obs_epsilon),
        "task": task,
        "training": dict(training or {}),
    }
    try:
        header_bytes = json.dumps(header, sort_keys=True).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise PolicyError(f"cannot save policy: the training metadata is not JSON-serialisable ({exc})") from None
    arrays: dict[str, npt.NDArray[Any]] = {_HEADER_KEY: np.frombuffer(header_bytes, dtype=np.uint8)}
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        arrays[f"w{i}"] = w
        arrays[f"b{i}"] = b
    arrays["obs_mean"] = mean
    arrays["obs_var"] = var
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    _atomic_write(out, buffer.getvalue())
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
