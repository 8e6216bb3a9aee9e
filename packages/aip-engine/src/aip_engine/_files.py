"""Reading and writing the files AIP keeps: bounded reads of regular files, atomic writes that refuse special files.

Every package of AIP reads and writes its files through these two functions (aip_game, aip_ml and
aip_cli import them from here), so that the rules of docs/security.md hold everywhere:

- `read_regular` reads only a regular file (after following symbolic links), never a FIFO, a
  device or a directory (a FIFO would block forever, ``/dev/zero`` would never end), and never more
  than a limit the caller names.
- `write_atomic` writes a temporary file in the destination's folder, flushes it to disk and
  renames it over the destination, so a reader sees the old file or the whole new one. It replaces
  only a regular file (through a symbolic link, the regular file it names) or creates a missing
  one; a device, FIFO, socket, directory or dangling link is refused and left alone. A new file gets
  the permissions a plain ``open()`` would give it (0666 minus the umask); a replaced file keeps its
  own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["UnsafeFileError", "read_regular", "write_atomic"]


class UnsafeFileError(OSError):
    """A path that AIP refuses to read or replace: not a regular file, or larger than allowed."""

    def __str__(self) -> str:
        return str(self.strerror)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def read_regular(path: str | os.PathLike[str], *, limit: int, what: str = "file") -> bytes:
    """Return the bytes of a regular file of at most `limit` bytes.

    Args:
        path: The file (symbolic links are followed).
        limit: The largest size accepted, in bytes.
        what: What the file is, for messages (``"policy file"``).

    Returns:
        The file's bytes.

    Raises:
        FileNotFoundError: There is no such file.
        UnsafeFileError: The path is not a regular file, or the file is larger than `limit`.
        OSError: The file cannot be read (permissions, I/O error).
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except IsADirectoryError:
        raise UnsafeFileError(errno.EISDIR, f"{what} {name!r} is a directory, not a file") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(errno.EINVAL, f"{what} {name!r} is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise UnsafeFileError(
                errno.EFBIG,
                f"{what} {name!r} has {info.st_size} bytes; at most {limit} are read (is it the right file?)",
            )
        chunks = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # it grew while being read
            raise UnsafeFileError(errno.EFBIG, f"{what} {name!r} has more than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _destination(path: Path, what: str) -> tuple[Path, int | None]:
    """The regular file to replace (a link's target) and its permission bits, or (path, None) when missing."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path, None
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.resolve(strict=True)
            info = os.stat(target)
        except (FileNotFoundError, RuntimeError):
            raise UnsafeFileError(
                errno.ENOENT, f"refusing to write {what} {os.fspath(path)!r}: it is a symbolic link to nothing"
            ) from None
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(
                errno.EINVAL,
                f"refusing to write {what} {os.fspath(path)!r}: it links to {_kind(info.st_mode)}, not a regular file",
            )
        return target, stat.S_IMODE(info.st_mode)
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(
            errno.EINVAL,
            f"refusing to write {what} {os.fspath(path)!r}: it is {_kind(info.st_mode)}, not a regular file; "
            "choose a file path",
        )
    return path, stat.S_IMODE(info.st_mode)


def write_atomic(
    path: str | os.PathLike[str], data: bytes, *, overwrite: bool = True, what: str = "file", mode: int | None = None
) -> Path:
    """Write `data` to `path` atomically, replacing only a regular file.

    Args:
        path: The destination; missing parent folders are created.
        data: The bytes to write.
        overwrite: Replace an existing file; otherwise an existing one is an error (checked
            atomically: a file that appears meanwhile is not replaced either).
        what: What the file is, for messages.
        mode: Permission bits of a new file (default: 0666 minus the umask).

    Returns:
        The path of the file written (for a symbolic link: the file it names).

    Raises:
        FileExistsError: The destination exists and `overwrite` is false.
        UnsafeFileError: The destination is not a regular file (or a link to one).
        OSError: The folder cannot be written.
    """
    requested = Path(path)
    target, existing_mode = _destination(requested, what)
    if existing_mode is not None and not overwrite:
        raise FileExistsError(f"{os.fspath(requested)!r} exists; choose another path or allow overwriting")
    if existing_mode is not None:
        bits = existing_mode
    elif mode is not None:
        bits = mode
    else:
        umask = os.umask(0)
        os.umask(umask)
        bits = 0o666 & ~umask
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), bits)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            _destination(requested, what)  # once more, just before the rename
            os.replace(tmp, target)
        else:
            try:
                os.link(tmp, target)  # fails if the destination appeared meanwhile
            except FileExistsError:
                raise FileExistsError(
                    f"{os.fspath(requested)!r} exists; choose another path or allow overwriting"
                ) from None
            except OSError:  # a file system without hard links
                if os.path.lexists(target):
                    raise FileExistsError(f"{os.fspath(requested)!r} exists") from None
                os.replace(tmp, target)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_folder(target.parent)
    return target


def _sync_folder(folder: Path) -> None:
    # The rename is durable once the folder's entry is on disk; best effort where folders cannot be opened.
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
