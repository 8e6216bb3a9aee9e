"""The process group of a data-parallel run: set up from torchrun's environment, collectives, errors.

torchrun (``torch.distributed.run``) starts the processes and gives each its ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK`` and the rendezvous address in the environment; `init` joins the group through
``init_method="env://"``. Every collective goes through `RankGroup`, which turns a lost peer (a rank
that died, a broken connection, a timeout) into `RankLostError`, so that the run ends on every rank
with a message instead of hanging.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as td

from .._errors import ConfigError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "LR_SCALES",
    "RANK_LOST_EXIT_CODE",
    "RankGroup",
    "RankLostError",
    "current",
    "init",
    "lr_factor",
    "rank_seed",
    "session",
    "shutdown",
]

#: Seconds a rank waits in a collective for the others before the run is ended (``AIP_DIST_TIMEOUT``).
DEFAULT_TIMEOUT_S = 300.0

#: The exit status of a rank that stopped because another rank was lost (the launcher tells them apart).
RANK_LOST_EXIT_CODE = 75

#: How ``lr_scale`` scales the learning rate with the number of ranks N.
LR_SCALES = ("none", "linear", "sqrt")


class RankLostError(RuntimeError):
    """Another rank of a distributed run died, or did not answer within the timeout."""


def lr_factor(lr_scale: str, world_size: int) -> float:
    """The learning rate's factor for ``world_size`` ranks: 1, N or sqrt(N).

    Args:
        lr_scale: ``none``, ``linear`` or ``sqrt`` (the config key ``lr_scale``).
        world_size: The number of ranks.

    Returns:
        The factor (1.0 for one rank, whatever the rule).
    """
    if lr_scale == "linear":
        return float(world_size)
    if lr_scale == "sqrt":
        return math.sqrt(world_size)
    return 1.0


def rank_seed(seed: int, rank: int) -> int:
    """The seed of ``rank`` derived from the run's ``seed`` (rank 0 keeps ``seed`` itself).

    Rank 0 of a distributed run therefore steps the same worlds as a one-process run of the same config.
    """
    if rank == 0:
        return seed
    import numpy as np

    return int(np.random.SeedSequence([seed & 0xFFFFFFFFFFFFFFFF, 0x5241_4E4B, rank]).generate_state(1, np.uint64)[0])


@dataclass(frozen=True)
class RankGroup:
    """This process's place in the run and the collectives between the ranks.

    Attributes:
        rank: This process's rank, 0 to ``world_size - 1``; rank 0 logs, writes and registers.
        world_size: The number of ranks N.
        local_rank: The rank on this machine (the GPU index with NCCL).
        backend: ``gloo`` (CPU tensors) or ``nccl`` (CUDA tensors).
        timeout_s: How long a collective waits for the other ranks.
        local_world_size: The ranks on this machine (they share its cores).
    """

    rank: int
    world_size: int
    local_rank: int
    backend: str
    timeout_s: float
    local_world_size: int = 1

    def engine_threads(self, configured: int) -> int:
        """The engine threads of this rank: ``configured``, or for 0 (all cores) its share of the cores."""
        if configured:
            return configured
        return max(1, (os.cpu_count() or 1) // max(1, self.local_world_size))

    @property
    def is_main(self) -> bool:
        """Whether this is rank 0."""
        return self.rank == 0

    def _device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if self.backend == "nccl" else torch.device("cpu")

    def _lost(self, what: str, exc: BaseException) -> RankLostError:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return RankLostError(
            f"rank {self.rank} of {self.world_size}: {what} failed: another rank stopped or did not answer within "
            f"{self.timeout_s:g} s ({detail[:200]}); the run ends on every rank, its last checkpoint is valid"
        )

    def all_reduce_sum(self, tensor: torch.Tensor, what: str) -> torch.Tensor:
        """Sum ``tensor`` over the ranks in place (every rank gets the same bytes) and return it."""
        target = tensor if tensor.device == self._device() else tensor.to(self._device())
        try:
            td.all_reduce(target, op=td.ReduceOp.SUM)
        except (RuntimeError, td.DistBackendError, ValueError) as exc:
            raise self._lost(what, exc) from None
        if target is not tensor:
            tensor.copy_(target)
        return tensor

    def all_gather(self, tensor: torch.Tensor, what: str) -> list[torch.Tensor]:
        """Every rank's ``tensor`` (same shape and dtype on every rank), in rank order."""
        local = tensor.to(self._device())
        parts = [torch.empty_like(local) for _ in range(self.world_size)]
        try:
            td.all_gather(parts, local)
        except (RuntimeError, td.DistBackendError, ValueError) as exc:
            raise self._lost(what, exc) from None
        return [p.to(tensor.device) for p in parts]

    def broadcast(self, tensor: torch.Tensor, what: str) -> torch.Tensor:
        """Rank 0's ``tensor`` (same shape and dtype on every rank), returned on every rank."""
        target = tensor.detach().clone().to(self._device())
        try:
            td.broadcast(target, src=0)
        except (RuntimeError, td.DistBackendError, ValueError) as exc:
            raise self._lost(what, exc) from None
        return target.to(tensor.device)

    def gather_objects(self, value: Any, what: str) -> list[Any] | None:
        """Every rank's picklable ``value`` on rank 0 (in rank order); None on the other ranks."""
        values: list[Any] | None = self._exchange(value, what, gather=True)
        return values

    def broadcast_object(self, value: Any, what: str) -> Any:
        """Rank 0's picklable ``value`` on every rank."""
        return self._exchange(value, what, gather=False)

    def _exchange(self, value: Any, what: str, *, gather: bool) -> Any:
        # Pickled bytes in uint8 tensors: the size first, then the padded payloads (two collectives),
        # which works the same on gloo and NCCL.
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) if (gather or self.is_main) else b""
        size = torch.tensor([len(data)], dtype=torch.int64)
        sizes = [int(s.item()) for s in self.all_gather(size, what)]
        longest = max(sizes)
        payload = torch.zeros(longest, dtype=torch.uint8)
        if data:
            payload[: len(data)] = torch.frombuffer(bytearray(data), dtype=torch.uint8)
        if gather:
            parts = self.all_gather(payload, what)
            if not self.is_main:
                return None
            values: list[Any] = [pickle.loads(p[:n].numpy().tobytes()) for p, n in zip(parts, sizes, strict=True)]
            return values
        try:
            target = payload.to(self._device())
            td.broadcast(target, src=0)
        except (RuntimeError, td.DistBackendError, ValueError) as exc:
            raise self._lost(what, exc) from None
        return pickle.loads(target.cpu()[: sizes[0]].numpy().tobytes())

    def any(self, flag: bool, what: str) -> bool:
        """Whether ``flag`` is true on any rank."""
        return bool(self.all_reduce_sum(torch.tensor([float(flag)], dtype=torch.float64), what).item() > 0)


_CURRENT: RankGroup | None = None


def current() -> RankGroup | None:
    """The group this process joined with `init`, or None (a one-process run)."""
    return _CURRENT


def _env_int(name: str) -> int:
    text = os.environ.get(name, "")
    try:
        return int(text)
    except ValueError:
        raise ConfigError(
            f"environment variable {name}={text!r} is not an integer; start distributed training with torchrun "
            "(`torchrun --nproc-per-node N -m aip_ml train TASK`) or `aip train TASK --nproc N`"
        ) from None


def _timeout() -> float:
    text = os.environ.get("AIP_DIST_TIMEOUT", "")
    if not text:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or not math.isfinite(value):
        raise ConfigError(f"AIP_DIST_TIMEOUT={text!r} must be a positive number of seconds, e.g. 300")
    return value


def init(device: str = "cpu") -> RankGroup:
    """Join the process group torchrun set up (gloo for ``device=cpu``, NCCL for CUDA).

    Args:
        device: The training config's ``device``: ``cpu`` (gloo) or ``cuda[:N]`` (NCCL when torch sees
            CUDA, one GPU per rank: ``LOCAL_RANK``; gloo otherwise).

    Returns:
        This process's group; `current` returns it until `shutdown`.

    Raises:
        ConfigError: The environment is not torchrun's (``RANK``/``WORLD_SIZE`` missing).
    """
    global _CURRENT
    if _CURRENT is not None:
        return _CURRENT
    missing = [k for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT") if k not in os.environ]
    if missing:
        raise ConfigError(
            f"not started by torchrun ({', '.join(missing)} not set); run `aip train TASK --nproc N` on one machine, "
            "or `torchrun --nnodes M --nproc-per-node N --rdzv-backend c10d --rdzv-endpoint HOST:PORT "
            "-m aip_ml train TASK` on several"
        )
    rank, world, local = _env_int("RANK"), _env_int("WORLD_SIZE"), _env_int("LOCAL_RANK")
    backend = "gloo"
    if device.startswith("cuda") and torch.cuda.is_available():
        # One GPU per rank; without CUDA (the engine's host emulation of its CUDA backend) gloo.
        backend = "nccl"
        torch.cuda.set_device(local)
    timeout = _timeout()
    td.init_process_group(
        backend=backend, init_method="env://", rank=rank, world_size=world, timeout=dt.timedelta(seconds=timeout)
    )
    local_world = _env_int("LOCAL_WORLD_SIZE") if "LOCAL_WORLD_SIZE" in os.environ else 1
    _CURRENT = RankGroup(
        rank=rank,
        world_size=world,
        local_rank=local,
        backend=backend,
        timeout_s=timeout,
        local_world_size=local_world,
    )
    return _CURRENT


def shutdown() -> None:
    """Leave the process group (nothing to do when `init` was not called)."""
    global _CURRENT
    if _CURRENT is not None and td.is_initialized():
        td.destroy_process_group()
    _CURRENT = None


@contextmanager
def session(device: str = "cpu") -> Iterator[RankGroup]:
    """`init` on entry, `shutdown` on exit: ``with aip_ml.distributed.session() as group: aip_ml.train(...)``."""
    group = init(device)
    try:
        yield group
    finally:
        shutdown()
