"""Demonstration datasets: observation, action and episode arrays of one role layout, with a checksum.

File format (``.npz``, read with ``allow_pickle=False``): ``observations`` float32 (n, obs_size),
``actions`` float32 (n, act_size), ``episode`` int32 (n,) (the episode each sample belongs to,
0, 1, ... in order), and ``meta``: UTF-8 JSON as uint8 bytes holding ``format`` ("aip-demos"),
``format_version``, ``role``, ``layout``, ``layout_version``, ``observation_fields``,
``action_fields``, ``sources`` (what each episode came from), ``dropped`` and ``sha256``: the checksum
of the three arrays and of the metadata without it. A file is written once: an existing dataset is
never replaced.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import reprlib
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import aip_engine
from aip_engine._files import UnsafeFileError, read_regular, write_atomic

__all__ = ["FORMAT_VERSION", "DatasetError", "DatasetExistsError", "DemoDataset", "load_dataset"]

FORMAT_VERSION = 1
_KEYS = ("observations", "actions", "episode", "meta")
#: The largest dataset read (file and arrays alike): tens of millions of samples.
MAX_DATASET_BYTES = 4 << 30


class DatasetError(ValueError):
    """A demonstration dataset that cannot be used: missing, corrupt, or of another layout."""


class DatasetExistsError(DatasetError, FileExistsError):
    """The dataset file exists already (datasets are never overwritten)."""


@dataclass
class DemoDataset:
    """Demonstrations of one role, in its layout.

    Attributes:
        observations: float32 (n, obs_size).
        actions: float32 (n, act_size), in the layout's action ranges.
        episode: int32 (n,) episode index of each sample (0, 1, ...; non-decreasing).
        role: The role demonstrated.
        layout: The role layout's name (``"player-v1"``).
        layout_version: Its version.
        sources: One entry per episode: what it came from (file, frames, task, opponent).
        dropped: What was left out and why (one line each).
        path: The file it was read from, if any.
    """

    observations: npt.NDArray[np.float32]
    actions: npt.NDArray[np.float32]
    episode: npt.NDArray[np.int32]
    role: str
    layout: str
    layout_version: int
    sources: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    path: Path | None = None

    def __post_init__(self) -> None:
        lay = aip_engine.layout(self.layout)
        n = len(self.observations)
        if self.observations.shape != (n, lay.obs_size) or self.actions.shape != (n, lay.act_size):
            raise DatasetError(
                f"demonstrations of {self.layout} need observations (n, {lay.obs_size}) and actions (n, "
                f"{lay.act_size}); got {self.observations.shape} and {self.actions.shape}"
            )
        if self.episode.shape != (n,) or (n and np.any(np.diff(self.episode) < 0)):
            raise DatasetError("the episode array must give one non-decreasing episode index per sample")

    def __len__(self) -> int:
        return len(self.observations)

    @property
    def episodes(self) -> int:
        """Number of episodes."""
        return len(np.unique(self.episode))

    def meta(self) -> dict[str, Any]:
        """The metadata written with the arrays (without the checksum)."""
        lay = aip_engine.layout(self.layout)
        return {
            "format": "aip-demos",
            "format_version": FORMAT_VERSION,
            "role": self.role,
            "layout": self.layout,
            "layout_version": self.layout_version,
            "observation_fields": [f.name for f in lay.observation],
            "action_fields": [f.name for f in lay.action],
            "samples": len(self),
            "episodes": self.episodes,
            "sources": self.sources,
            "dropped": self.dropped,
        }

    @property
    def checksum(self) -> str:
        """SHA-256 of the arrays and the metadata (hex)."""
        return _checksum(self.observations, self.actions, self.episode, self.meta())

    def split(self, holdout: float, seed: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Masks of the training and held-out samples, whole episodes held out (at least one when possible).

        Args:
            holdout: Fraction of the episodes held out.
            seed: Seed of the choice.

        Returns:
            ``(train, held_out)`` boolean masks over the samples.
        """
        ids = np.unique(self.episode)
        count = round(holdout * len(ids))
        count = max(1, min(count, len(ids) - 1)) if holdout > 0 and len(ids) > 1 else 0
        chosen = np.random.default_rng(seed).choice(ids, size=count, replace=False) if count else ids[:0]
        held = np.isin(self.episode, chosen)
        return ~held, held

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the dataset; an existing file is never replaced.

        Args:
            path: The ``.npz`` file.

        Returns:
            The path written.

        Raises:
            DatasetExistsError: The file exists.
        """
        target = Path(path)
        if target.exists():
            raise DatasetExistsError(f"{target} exists; datasets are never overwritten: choose another name")
        meta = self.meta()
        meta["sha256"] = _checksum(self.observations, self.actions, self.episode, meta)
        buffer = io.BytesIO()
        np.savez_compressed(
            buffer,
            observations=self.observations,
            actions=self.actions,
            episode=self.episode,
            meta=np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8),
        )
        try:
            # Created exclusively: a file that appears meanwhile is not replaced either.
            write_atomic(target, buffer.getvalue(), overwrite=False, what="dataset")
        except (FileExistsError, UnsafeFileError):
            raise DatasetExistsError(f"{target} exists; datasets are never overwritten: choose another name") from None
        self.path = target
        return target


def _checksum(obs: npt.NDArray[Any], act: npt.NDArray[Any], episode: npt.NDArray[Any], meta: Mapping[str, Any]) -> str:
    h = hashlib.sha256()
    for array in (obs, act, episode):
        h.update(str(array.dtype.str).encode())
        h.update(str(array.shape).encode())
        h.update(np.ascontiguousarray(array).tobytes())
    h.update(json.dumps({k: v for k, v in meta.items() if k != "sha256"}, sort_keys=True).encode("utf-8"))
    return h.hexdigest()


def load_dataset(path: str | os.PathLike[str]) -> DemoDataset:
    """Read a demonstration dataset and check it.

    Args:
        path: The ``.npz`` file.

    Returns:
        The dataset.

    Raises:
        DatasetError: Missing, not a dataset, corrupt (checksum), or of a layout this engine does not know.
    """
    p = Path(path)
    try:
        return _load(p)
    except DatasetError:
        raise
    except (
        OSError,
        ValueError,
        TypeError,
        KeyError,
        EOFError,
        OverflowError,
        RecursionError,
        zlib.error,
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,  # an archive entry of a zip version or method zipfile cannot read
        MemoryError,
    ) as exc:
        # Whatever part of a damaged file gave way, one error type that names the file.
        raise DatasetError(
            f"{p}: corrupt or not a demonstration dataset ({type(exc).__name__}: {_clip(exc)})"
        ) from None


def _clip(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 160 else text[:157] + "..."


def _load(p: Path) -> DemoDataset:
    try:
        data = read_regular(p, limit=MAX_DATASET_BYTES, what="demonstration dataset")
    except FileNotFoundError:
        raise DatasetError(
            f"demonstration dataset {str(p)!r} does not exist (make one with `aip demos convert`)"
        ) from None
    except OSError as exc:
        raise DatasetError(f"cannot read demonstration dataset {str(p)!r}: {exc}") from None
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        missing = [k for k in _KEYS if k + ".npy" not in infos]
        if missing:
            raise DatasetError(f"{p}: not a demonstration dataset (missing {', '.join(missing)})")
        if sum(infos[k + ".npy"].file_size for k in _KEYS) > MAX_DATASET_BYTES:
            raise DatasetError(
                f"{p}: its arrays declare more than {MAX_DATASET_BYTES >> 20} MiB; not a dataset we wrote"
            )
        arrays = {}
        for key in _KEYS:  # only the members used, each read no further than it declares
            info = infos[key + ".npy"]
            with archive.open(info) as member:
                raw = member.read(info.file_size + 1)
            if len(raw) != info.file_size:
                raise DatasetError(
                    f"{p}: array {key!r} is not the size its archive entry declares; the file is corrupt"
                )
            arrays[key] = np.lib.format.read_array(io.BytesIO(raw), allow_pickle=False)
    if arrays["meta"].dtype != np.uint8 or arrays["meta"].ndim != 1:
        raise DatasetError(f"{p}: its metadata is damaged (not a byte string)")
    try:
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    except RecursionError:
        raise DatasetError(f"{p}: its metadata is damaged (JSON nested too deeply)") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{p}: its metadata is damaged ({_clip(exc)})") from None
    if not isinstance(meta, dict) or meta.get("format") != "aip-demos":
        raise DatasetError(f"{p}: not a demonstration dataset")
    if meta.get("format_version") != FORMAT_VERSION:
        raise DatasetError(
            f"{p}: format version {_short(meta.get('format_version'))}; this aip-ml reads {FORMAT_VERSION}"
        )
    for key, kinds in (("observations", "f"), ("actions", "f"), ("episode", "iu")):
        if arrays[key].dtype.kind not in kinds:
            raise DatasetError(f"{p}: array {key!r} has dtype {arrays[key].dtype}; the file is corrupt")
    obs = arrays["observations"].astype(np.float32, copy=False)
    act = arrays["actions"].astype(np.float32, copy=False)
    episode = arrays["episode"].astype(np.int32, copy=False)
    if _checksum(obs, act, episode, meta) != meta.get("sha256"):
        raise DatasetError(f"{p}: the checksum does not match; the file is corrupt or was changed")
    if not (np.isfinite(obs).all() and np.isfinite(act).all()):
        raise DatasetError(f"{p}: it holds NaN or infinite observations or actions; demonstrations must be finite")
    sources, dropped = meta.get("sources", []), meta.get("dropped", [])
    if not isinstance(sources, list) or not isinstance(dropped, list):
        raise DatasetError(f"{p}: its metadata is damaged ('sources' and 'dropped' must be lists)")
    try:
        aip_engine.layout(str(meta["layout"]))
        ds = DemoDataset(
            obs,
            act,
            episode,
            role=str(meta["role"]),
            layout=str(meta["layout"]),
            layout_version=int(meta["layout_version"]),
            sources=sources,
            dropped=dropped,
            path=p,
        )
    except (KeyError, aip_engine.UnknownNameError) as exc:
        raise DatasetError(f"{p}: its layout cannot be read by this engine ({exc})") from None
    return ds


def _short(value: object) -> str:
    text = reprlib.repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def concatenate(parts: Sequence[DemoDataset], dropped: Sequence[str] = ()) -> DemoDataset:
    """Join datasets of one layout into one, renumbering the episodes.

    Args:
        parts: The datasets (at least one).
        dropped: Notes on what was left out.

    Returns:
        The joined dataset.
    """
    first = parts[0]
    obs, act, ep, sources = [], [], [], []
    offset = 0
    for part in parts:
        if part.layout != first.layout:
            raise DatasetError(f"cannot join demonstrations of {part.layout} and {first.layout}")
        if len(part):
            _, inverse = np.unique(part.episode, return_inverse=True)
            ep.append((inverse + offset).astype(np.int32))
            offset += int(inverse.max()) + 1
            obs.append(part.observations)
            act.append(part.actions)
        sources.extend(part.sources)
    lay = aip_engine.layout(first.layout)
    return DemoDataset(
        np.concatenate(obs) if obs else np.zeros((0, lay.obs_size), np.float32),
        np.concatenate(act) if act else np.zeros((0, lay.act_size), np.float32),
        np.concatenate(ep) if ep else np.zeros(0, np.int32),
        role=first.role,
        layout=first.layout,
        layout_version=first.layout_version,
        sources=sources,
        dropped=[*[d for p in parts for d in p.dropped], *dropped],
    )
