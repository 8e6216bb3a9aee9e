"""Reading a policy file (docs/policy-format.md) as untrusted input: bounded, lazy, fully checked.

The archive is opened once; only the members the header calls for are read, each no larger than
its declared shape allows, so a small file can never cost much memory (an archive of a thousand
members or one member that inflates to gigabytes is refused, not expanded). Every number is
checked where it will be used: weights and normalisation as float32 (a finite float64 weight that
overflows float32 is refused), the normalisation scale finite and positive, and the network's
largest possible pre-activation finite in float32, so that a policy that loads can only produce
finite actions from finite observations. Any other damage is reported as `PolicyError` naming the
file; no other exception type escapes.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from ._errors import PolicyError, UnknownNameError
from ._files import read_regular
from ._layouts import RoleLayout, layout

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LAYERS",
    "MAX_PARAMETERS",
    "MAX_UNITS",
    "PolicyParts",
    "check_policy_bytes",
    "read_policy_file",
]

#: The largest policy file read (bytes).
MAX_FILE_BYTES: Final = 256 * 2**20
#: The most layers (weight matrices) a policy may have.
MAX_LAYERS: Final = 64
#: The widest layer.
MAX_UNITS: Final = 65536
#: The most weights and biases in all.
MAX_PARAMETERS: Final = 2**25
_MAX_MEMBERS: Final = 1024
_MAX_HEADER_BYTES: Final = 2**20
_NPY_SLACK: Final = 2**17  # the .npy header in front of an array's data
_F32_MAX: Final = float(np.finfo(np.float32).max)
# Bounds on the network's values: well inside float32, so that the bound's own rounding cannot matter.
_VALUE_LIMIT: Final = _F32_MAX / 1024

_FORMAT_NAME: Final = "aip-policy"
_FORMAT_VERSION: Final = 1


@dataclass(frozen=True)
class PolicyParts:
    """What a checked policy file holds, ready for `aip_engine.Policy`."""

    layout: RoleLayout
    header: dict[str, Any]
    weights: list[npt.NDArray[np.float32]]
    biases: list[npt.NDArray[np.float32]]
    obs_mean: npt.NDArray[np.float64]
    obs_var: npt.NDArray[np.float64]
    obs_clip: float
    obs_epsilon: float
    activation: str
    action_transform: str


class _Refused(Exception):
    """A reason to refuse the file, turned into PolicyError with its path by `read_policy_file`."""


def _no_constant(name: str) -> Any:
    raise _Refused(f"the header holds {name}, which is not a number a policy file may hold")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 parses to infinity
        raise _Refused(f"the header holds {text[:40]}, a number too large for a policy file")
    return value


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError:
        raise _Refused("the policy header is not UTF-8 text") from None
    except RecursionError:
        raise _Refused("the policy header is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts
        raise _Refused(f"the policy header is not valid JSON ({str(exc).splitlines()[0][:200]})") from None


class _Archive:
    """A zip archive of ``.npy`` members, read member by member with size limits."""

    def __init__(self, data: bytes) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, KeyError) as exc:
            raise _Refused(f"it is not a policy archive or is corrupt ({type(exc).__name__})") from None
        if len(infos) > _MAX_MEMBERS:
            raise _Refused(f"the archive has {len(infos)} members; a policy file has a few dozen")
        self._infos = {info.filename: info for info in infos}

    def read(self, name: str, max_bytes: int) -> bytes | None:
        info = self._infos.get(name + ".npy")
        if info is None:
            return None
        if info.file_size > max_bytes:
            raise _Refused(f"array {name!r} declares {info.file_size} bytes; at most {max_bytes} fit its shape")
        with self._zip.open(info) as member:
            raw = member.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise _Refused(f"array {name!r} holds more than the {max_bytes} bytes its shape allows")
        return raw

    def array(self, name: str, shape: tuple[int, ...], *, floating: bool = True) -> npt.NDArray[Any]:
        count = math.prod(shape) if shape else 1
        raw = self.read(name, count * 8 + _NPY_SLACK)
        if raw is None:
            raise _Refused(f"array {name!r} is missing; the file is corrupt")
        a = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
        if a.shape != shape:
            raise _Refused(f"array {name!r} has shape {a.shape}, expected {shape}; the file is corrupt")
        if floating and a.dtype.kind != "f":
            raise _Refused(f"array {name!r} has dtype {a.dtype}; a policy's numbers are floating point")
        return a


def read_policy_file(path: str | os.PathLike[str], role: str | None) -> PolicyParts:
    """Read and check a policy file; every problem is a `PolicyError` naming the file.

    Raises:
        PolicyError: The file is missing, unreadable, corrupt, too large, of an unknown format
            version, for another layout or role, or holds numbers that cannot give finite actions.
    """
    where = os.fspath(path)
    try:
        data = read_regular(path, limit=MAX_FILE_BYTES, what="policy file")
    except FileNotFoundError:
        raise PolicyError(
            f"cannot load policy {where!r}: no such file (export one with `aip models export` or aip_ml.export_policy)"
        ) from None
    except OSError as exc:
        raise PolicyError(f"cannot load policy {where!r}: {exc}") from None
    return check_policy_bytes(data, role, f"cannot load policy {where!r}")


def check_policy_bytes(data: bytes, role: str | None, context: str) -> PolicyParts:
    """Check the bytes of a policy file (`read_policy_file`; `save_policy` checks what it writes).

    Raises:
        PolicyError: ``"<context>: <what is wrong>"``.
    """
    try:
        return _parts(_Archive(data), role)
    except _Refused as exc:
        raise PolicyError(f"{context}: {exc}") from None
    except Exception as exc:  # a damaged archive: zlib, zipfile, numpy and struct raise many types
        # Only the type is named: numpy's and zipfile's own messages may suggest unsafe options.
        raise PolicyError(f"{context}: the file is corrupt ({type(exc).__name__}); export it again") from None


def _header(archive: _Archive) -> dict[str, Any]:
    raw = archive.read("header", _MAX_HEADER_BYTES + _NPY_SLACK)
    if raw is None:
        raise _Refused("the archive has no policy header; it is not a policy file")
    array = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise _Refused("the archive has no policy header; it is not a policy file")
    header = _json(array.tobytes())
    if not isinstance(header, dict) or header.get("format") != _FORMAT_NAME:
        raise _Refused(f"the header does not name the format {_FORMAT_NAME!r}; it is not a policy file")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= _FORMAT_VERSION:
        raise _Refused(
            f"format version {version!r} is not supported; this aip-engine reads versions 1 to "
            f"{_FORMAT_VERSION} (a newer file needs a newer aip-engine)"
        )
    return header


def _layout(header: dict[str, Any], role: str | None) -> RoleLayout:
    name = header.get("layout")
    if not isinstance(name, str):
        raise _Refused(f"the header's layout {name!r} is not a layout name")
    try:
        lay = layout(name)
    except UnknownNameError as exc:
        raise _Refused(f"it was made for layout {name!r}, which this aip-engine does not know: {exc}") from None
    if header.get("layout_version") != lay.version or header.get("role") != lay.role:
        raise _Refused(
            f"its header's role/version ({header.get('role')!r}, {header.get('layout_version')!r}) "
            f"do not match layout {lay.name!r} ({lay.role!r}, {lay.version})"
        )
    if role is not None and role != lay.role:
        raise _Refused(f"it is a {lay.role!r} policy (layout {lay.name!r}); a {role!r} policy is needed here")
    actions = header.get("action")
    expected = [[f.name, f.low, f.high] for f in lay.action]
    if actions != expected:
        raise _Refused(f"its action layout {_short(actions)} differs from {lay.name!r}'s {expected!r}")
    if header.get("obs_size") != lay.obs_size:
        raise _Refused(f"it reads {_short(header.get('obs_size'))} observation values; {lay.name!r} has {lay.obs_size}")
    return lay


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _sizes(header: dict[str, Any], lay: RoleLayout) -> list[int]:
    sizes = header.get("layer_sizes")
    if (
        not isinstance(sizes, list)
        or not 2 <= len(sizes) <= MAX_LAYERS + 1
        or not all(isinstance(s, int) and not isinstance(s, bool) and 0 < s <= MAX_UNITS for s in sizes)
        or sizes[0] != lay.obs_size
        or sizes[-1] != lay.act_size
    ):
        raise _Refused(
            f"layer sizes {_short(sizes)} must be 2 to {MAX_LAYERS + 1} widths of at most {MAX_UNITS}, starting "
            f"with {lay.obs_size} and ending with {lay.act_size}"
        )
    count = sum(sizes[i] * sizes[i + 1] + sizes[i + 1] for i in range(len(sizes) - 1))
    if count > MAX_PARAMETERS:
        raise _Refused(f"layer sizes {_short(sizes)} make {count} parameters; at most {MAX_PARAMETERS} are read")
    return sizes


def _number(header: dict[str, Any], key: str, low: float, high: float, *, open_low: bool) -> float:
    value = header.get(key)
    try:
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an integer beyond float
        number = math.nan
    if not (math.isfinite(number) and (number > low if open_low else number >= low) and number <= high):
        bracket = "(" if open_low else "["
        raise _Refused(f"{key} {_short(value)} must be a number in {bracket}{low:g}, {high:g}]")
    return number


def _float32(name: str, a: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    if not np.all(np.isfinite(a)):
        raise _Refused(f"array {name!r} is not all finite numbers; the file is corrupt")
    with np.errstate(over="ignore"):
        out = a.astype(np.float32)
    if not np.all(np.isfinite(out)):
        raise _Refused(f"array {name!r} holds numbers too large for float32 (the runtime's precision)")
    return out


def _parts(archive: _Archive, role: str | None) -> PolicyParts:
    header = _header(archive)
    lay = _layout(header, role)
    activation = header.get("activation")
    if not isinstance(activation, str) or activation not in _activations():
        raise _Refused(f"activation {_short(activation)} is not one of {', '.join(_activations())}")
    transform = header.get("action_transform")
    if not isinstance(transform, str) or transform not in ("clip", "tanh"):
        raise _Refused(f"action transform {_short(transform)} is not one of clip, tanh")
    sizes = _sizes(header, lay)
    clip = _number(header, "obs_clip", 0.0, 1e30, open_low=True)
    eps = _number(header, "obs_epsilon", 0.0, 1e30, open_low=False)
    layers = range(len(sizes) - 1)
    weights = [_float32(f"w{i}", archive.array(f"w{i}", (sizes[i + 1], sizes[i]))) for i in layers]
    biases = [_float32(f"b{i}", archive.array(f"b{i}", (sizes[i + 1],))) for i in layers]
    mean = archive.array("obs_mean", (lay.obs_size,)).astype(np.float64)
    var = archive.array("obs_var", (lay.obs_size,)).astype(np.float64)
    _float32("obs_mean", mean)
    if not np.all(np.isfinite(var)) or np.any(var < 0):
        raise _Refused("obs_var must hold finite numbers >= 0; the file is corrupt")
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        scale = (1.0 / np.sqrt(var + eps)).astype(np.float32)
    if not np.all(np.isfinite(scale)) or not np.all(scale > 0):
        raise _Refused(
            "the observation scale 1 / sqrt(obs_var + obs_epsilon) is not finite and positive "
            "(a variance of 0 needs obs_epsilon > 0); this policy could only produce NaN"
        )
    _check_bounds(weights, biases, clip, activation)
    return PolicyParts(lay, header, weights, biases, mean, var, clip, eps, activation, transform)


def _activations() -> tuple[str, ...]:
    from ._policy import ACTIVATIONS

    return tuple(ACTIVATIONS)


def _check_bounds(
    weights: list[npt.NDArray[np.float32]], biases: list[npt.NDArray[np.float32]], clip: float, activation: str
) -> None:
    """Refuse a network whose values can overflow float32 for some normalised observation."""
    bound = np.full(weights[0].shape[1], clip, dtype=np.float64)  # |normalised observation| <= obs_clip
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        with np.errstate(over="ignore", invalid="ignore"):
            bound = np.abs(w.astype(np.float64)) @ bound + np.abs(b.astype(np.float64))
        largest = float(np.max(bound)) if bound.size else 0.0
        if not largest <= _VALUE_LIMIT:
            raise _Refused(
                f"layer {i} can reach {largest:.3g}, beyond float32 (at most {_F32_MAX:.3g}): its weights "
                "would produce infinite or NaN actions; the file is corrupt"
            )
        if i < len(weights) - 1:
            # tanh is within [-1, 1]; relu, silu and identity never grow |x|; elu's floor is -1.
            bound = np.minimum(bound, 1.0) if activation == "tanh" else np.maximum(bound, 1.0)
