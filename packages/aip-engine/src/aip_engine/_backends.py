"""Which engine backends this installation has built, and which GPUs the CUDA backend sees."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Any

from ._errors import BackendError, UnknownNameError, unknown_name_error

__all__ = ["BACKENDS", "BackendInfo", "backends", "cuda_device", "load_cuda_core", "require_cuda"]

BACKENDS = ("cpu", "cuda")

_BUILD_HINT = (
    "rebuild aip-engine with the CUDA toolkit: "
    "AIP_ENGINE_CUDA=ON pip install --no-build-isolation -e packages/aip-engine (see docs/gpu.md)"
)


@dataclass(frozen=True)
class BackendInfo:
    """What one backend can do here.

    Attributes:
        name: ``"cpu"`` or ``"cuda"``.
        built: The backend's compiled module is part of this installation.
        available: Built and usable now (for ``"cuda"``: at least one GPU is visible).
        devices: The devices it would run on, e.g. ``("cuda:0 NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)",)``.
        reason: Why it is not available (empty when it is).
    """

    name: str
    built: bool
    available: bool
    devices: tuple[str, ...]
    reason: str


def load_cuda_core() -> Any:
    """Import the CUDA backend's module.

    Returns:
        The module ``aip_engine._core_cuda``.

    Raises:
        BackendError: The module is not built into this installation.
    """
    try:
        core = importlib.import_module("aip_engine._core_cuda")
    except ImportError as exc:
        raise BackendError(f"backend 'cuda' is not built into this installation ({exc}); {_BUILD_HINT}") from exc
    from ._worlds import check_task_table

    check_task_table(core)
    return core


def _cpu_info() -> BackendInfo:
    try:
        from . import _core  # noqa: F401
    except ImportError as exc:
        return BackendInfo("cpu", False, False, (), f"aip_engine._core is not built ({exc})")
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return BackendInfo("cpu", True, True, (f"cpu ({cores} cores)",), "")


def _cuda_info() -> BackendInfo:
    try:
        core = load_cuda_core()
    except BackendError as exc:
        return BackendInfo("cuda", False, False, (), str(exc))
    count, reason = core.device_count()
    if count == 0:
        return BackendInfo("cuda", True, False, (), f"backend 'cuda' is built but has no usable GPU: {reason}")
    names = []
    for d in core.devices():
        major, minor = d["compute_capability"]
        names.append(f"cuda:{d['index']} {d['name']} (sm_{major}{minor}, {d['total_memory'] / 2**30:.1f} GiB)")
    return BackendInfo("cuda", True, True, tuple(names), "")


def backends() -> dict[str, BackendInfo]:
    """Report the backends of this installation and the devices they see.

    Returns:
        A mapping backend name -> `BackendInfo`, for every name `Worlds(backend=...)` accepts.
        ``backends()["cuda"].available`` is true when a GPU can run worlds.
    """
    return {"cpu": _cpu_info(), "cuda": _cuda_info()}


def cuda_device(backend: str) -> int:
    """The device index of a CUDA backend name: ``"cuda"`` is device 0, ``"cuda:N"`` device N.

    Args:
        backend: The backend name given to `Worlds`.

    Returns:
        The device index.

    Raises:
        UnknownNameError: Not a CUDA backend name.
    """
    if backend == "cuda":
        return 0
    head, _, index = backend.partition(":")
    if head == "cuda" and index.isdigit():
        return int(index)
    if head.lower() in ("gpu", "nvidia"):
        raise UnknownNameError(
            f"unknown backend {backend!r}: the GPU backend is named 'cuda' (or 'cuda:N' for device N). "
            f"Valid backends: {', '.join(BACKENDS)}."
        )
    raise unknown_name_error("backend", backend, BACKENDS)


def require_cuda(device: int) -> Any:
    """Import the CUDA module and check that `device` exists.

    Args:
        device: The CUDA device index.

    Returns:
        The module ``aip_engine._core_cuda``.

    Raises:
        BackendError: Not built, no driver, no GPU, or no such device (the message says which).
    """
    core = load_cuda_core()
    count, reason = core.device_count()
    if count == 0:
        raise BackendError(
            f"backend 'cuda' needs a GPU, and none is usable here: {reason}. "
            "Use backend='cpu', or run on a machine with an NVIDIA GPU and driver"
        )
    if device >= count:
        raise BackendError(
            f"CUDA device {device} does not exist: this process sees {count} device(s) "
            f"(cuda:0 to cuda:{count - 1}; CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})"
        )
    return core
