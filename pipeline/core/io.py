"""Atomic writes and file hashes: a reader never sees a half-written file.

Standard library only: the extract workers write their records with it, and must stay small.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

TEMPORARY_SUFFIX = ".tmp"


@lru_cache(maxsize=1)
def file_mode() -> int:
    """Permissions of a new file under the current umask: mkstemp's 0600 would hide outputs from other users."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


class NotRegularFile(OSError):
    """What stands at a path is not a regular file (a FIFO, a socket, a device, a folder)."""


@contextmanager
def open_regular(path: Path) -> Iterator[BinaryIO]:
    """Open a regular file for reading, never blocking: O_NONBLOCK keeps a FIFO put in its place from stalling
    the open, and anything but a regular file is refused before a byte is read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegularFile(f"not a regular file: {path}")
        os.set_blocking(fd, True)
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        yield f


def sha256_file(path: Path) -> str:
    """sha256 of a regular file's bytes, read in blocks so a large PDF does not sit in memory."""
    digest = hashlib.sha256()
    with open_regular(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place: a run killed at
    any moment leaves either the previous file or the new one, never a mix."""
    with atomic_file(path) as f:
        f.write(data)


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file to write `path` through, renamed into place once written and flushed (write_atomic), for what is
    too large to hold in memory whole. Written unnamed (O_TMPFILE) where the file system allows: a process killed
    while writing (a view's, when its run is killed) then leaves nothing behind; the temporary name exists only
    for the instant between linking the written file and renaming it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    unnamed = getattr(os, "O_TMPFILE", 0)
    try:
        fd, tmp = os.open(path.parent, unnamed | os.O_WRONLY, 0o600), None
    except (OSError, ValueError):  # no O_TMPFILE here, or not on this file system
        unnamed = 0
    if not unnamed:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), file_mode())
            yield f
            f.flush()
            os.fsync(f.fileno())
            if tmp is None:
                tmp = link_unnamed(f.fileno(), path)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not exc.filename:  # a write names no file: say which one
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    sync_folder(path.parent)


def link_unnamed(fd: int, path: Path) -> str:
    """Give the unnamed file `fd` a temporary name beside `path` (linkat through /proc, following the link: a
    destination given by folder makes Python call linkat, which can follow it) and return that name."""
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        for _ in range(100):  # a name another writer took meanwhile: draw another
            name = f".{path.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}"
            try:
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=folder, follow_symlinks=True)
                return str(path.parent / name)
            except FileExistsError:
                continue
        raise FileExistsError(f"no free temporary name beside {path}")
    finally:
        os.close(folder)


@contextmanager
def held(fd: int, busy: Exception) -> Iterator[None]:
    """Hold an exclusive lock on the open file `fd` while the block runs, and close it after; raise `busy` at once
    when another process holds it: a second run or fetch is refused, never left waiting (outdir.exclusive,
    sources.hold_raw)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise busy from None
    try:
        yield
    finally:
        os.close(fd)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries, so a rename survives a power cut as well as a killed process."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files a killed run left in `folder` (hidden, ending in .tmp); returns them."""
    stale = sorted(folder.glob(f".*{TEMPORARY_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def json_by_key(record: dict) -> bytes:
    """A JSON object with each key on a line of its own and its value on that line: as readable as an indented
    dump for a record of a few keys, and written by json's C encoder, which an indent turns off (a manifest of 4,000
    files took 0.3 s indented)."""
    lines = (
        f"{json.dumps(key, ensure_ascii=False)}: {json.dumps(value, ensure_ascii=False)}"
        for key, value in record.items()
    )
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")
