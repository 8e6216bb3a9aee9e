"""Every package writes its files through the one atomic writer, which replaces only regular files.

The writers of aip-engine (policies), aip-game (high scores, settings) and aip-ml (checkpoints, run
files, league records) are run against the paths a careless or hostile command line can name: a
FIFO, a device node, a folder, a dangling link, a link to a device. Each must be refused with the
path named and left exactly as it was; a regular file is replaced atomically, keeps its
permissions, and a new file gets 0666 minus the umask.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import aip_engine as ae
from aip_engine._files import UnsafeFileError, write_atomic

Writer = Callable[[Path], object]


def _policy(path: Path) -> object:
    lay = ae.role_layout("enemy")
    return ae.save_policy(
        path,
        layout_name=lay.name,
        weights=[np.zeros((lay.act_size, lay.obs_size), np.float32)],
        biases=[np.zeros(lay.act_size, np.float32)],
        activation="tanh",
        obs_mean=np.zeros(lay.obs_size),
        obs_var=np.ones(lay.obs_size),
        overwrite=True,
    )


def _game_bytes(path: Path) -> object:
    from aip_game._atomic import write_bytes_atomic

    return write_bytes_atomic(path, b"{}\n")


def _checkpoint(path: Path) -> object:
    pytest.importorskip("torch")
    from aip_ml._checkpoint import save_checkpoint
    from aip_ml._config import load_config

    return save_checkpoint(path, load_config("chase-v1"), {"update_index": 0, "global_step": 0}, 0.0)


def _run_text(path: Path) -> object:
    pytest.importorskip("torch")
    from aip_ml._train import _write_text

    return _write_text(path, "task = 'chase-v1'\n")


def _league(path: Path) -> object:
    pytest.importorskip("torch")
    from aip_ml.selfplay._record import _write_atomic

    return _write_atomic(path, b"")


WRITERS: dict[str, Writer] = {
    "engine write_atomic": lambda p: write_atomic(p, b"data"),
    "policy": _policy,
    "game file": _game_bytes,
    "checkpoint": _checkpoint,
    "run file": _run_text,
    "league record": _league,
}


def _special_paths(folder: Path) -> dict[str, Path]:
    paths = {}
    fifo = folder / "fifo"
    os.mkfifo(fifo)
    paths["fifo"] = fifo
    if os.geteuid() == 0:
        device = folder / "null-device"
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        paths["device"] = device
    (folder / "dir").mkdir()
    paths["directory"] = folder / "dir"
    paths["dangling link"] = folder / "dangling"
    paths["dangling link"].symlink_to(folder / "nothing-here")
    paths["link to a device"] = folder / "to-null"
    paths["link to a device"].symlink_to("/dev/null")
    return paths


def _identity(path: Path) -> tuple[int, int, int, str]:
    info = os.lstat(path)
    return info.st_mode, info.st_ino, info.st_rdev, os.readlink(path) if path.is_symlink() else ""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and device nodes")
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_special_files_are_refused_and_left_alone(tmp_path: Path, writer: str) -> None:
    for kind, path in _special_paths(tmp_path).items():
        before = _identity(path)
        with pytest.raises((UnsafeFileError, OSError, ValueError, RuntimeError)) as info:
            WRITERS[writer](path)
        assert path.name in str(info.value), f"{writer} on a {kind}: {info.value}"
        assert _identity(path) == before, f"{writer} changed the {kind}"
    assert Path("/dev/null").is_char_device()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "a temporary file was left behind"


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_regular_files_get_the_usual_permissions_and_links_are_written_through(tmp_path: Path, writer: str) -> None:
    old = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh"
        WRITERS[writer](fresh)
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
        fresh.chmod(0o600)
        WRITERS[writer](fresh)
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
        real = tmp_path / "real"
        real.write_bytes(b"old")
        link = tmp_path / "link"
        link.symlink_to(real)
        WRITERS[writer](link)
        assert link.is_symlink() and real.read_bytes() != b"old"
    finally:
        os.umask(old)
