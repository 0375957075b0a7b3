"""RAW's entries: the files to read, each with the sha256 of its bytes, and the entries refused with their reason.

What in RAW is an input follows the one rule of pipeline.acquire.sources.is_input_name: every entry that is not
hidden nor sources.csv nor corrections.csv. An entry is examined by its metadata before anything opens it, and a
symbolic link is followed only when its target lies inside RAW.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pipeline.acquire.sources import is_input_name
from pipeline.core.failures import Failure, UsageError, reason
from pipeline.core.io import NotRegularFile, sha256_file
from pipeline.core.records import Source


@dataclass(frozen=True)
class Refused:
    """An entry of RAW that is not a file to read (a folder, a FIFO, a broken link, an unreadable file)."""

    name: str
    failure: Failure
    reason: str


def find_sources(raw: Path) -> tuple[list[Source], list[Refused]]:
    """Every entry of RAW that is not hidden (nor sources.csv, pipeline.acquire.sources), sorted by name: the
    files to read, and the entries refused with their reason. Each gets a documents row.

    An entry is examined by its metadata before anything opens it, and a file is opened without blocking, so a
    FIFO or a device never stalls the run. A symbolic link is followed only when its target lies inside RAW:
    nothing outside RAW is read."""
    if not raw.exists():
        raise UsageError(f"raw folder not found: {raw}")
    if not raw.is_dir():
        raise UsageError(f"--raw must be a folder of PDFs, not a file: {raw} (put it in a folder)")
    root = raw.resolve()
    sources, refused = [], []
    for path in raw.iterdir():
        if not is_input_name(path.name):  # sources.csv, corrections.csv: about the files, none
            continue
        name = display_name(path.name)
        problem = entry_problem(path, root)
        if problem is None:
            try:
                sources.append(Source(name, path, sha256_file(path)))
                continue
            except NotRegularFile:  # replaced by something else since it was examined
                problem = Failure.not_a_file, reason(Failure.not_a_file, "no longer a regular file")
            except OSError as exc:
                problem = Failure.unreadable, reason(Failure.unreadable, f"cannot be read ({exc.strerror or exc})")
        refused.append(Refused(name, *problem))
    return sorted(sources, key=lambda s: s.name), sorted(refused, key=lambda r: r.name)


def same_bytes(sources: list[Source]) -> dict[str, str]:
    """Files whose bytes are those of a file before them by name, which alone is read: file → which one."""
    first: dict[str, str] = {}
    for s in sources:
        first.setdefault(s.sha256, s.name)
    return {s.name: f"same bytes as {first[s.sha256]}" for s in sources if first[s.sha256] != s.name}


def display_name(name: str) -> str:
    """A file name as the tables show it: as it is when it is UTF-8, its other bytes as \\xNN escapes, so that a
    name in Latin-1 or Shift_JIS is kept whole and never crashes a writer."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


ENTRY_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
)


def entry_problem(path: Path, root: Path) -> tuple[Failure, str] | None:
    """Why an entry of RAW is not a file to read, from its metadata alone; None for a regular file."""
    try:
        mode = path.stat().st_mode  # through a link, to its target
    except OSError as exc:
        if not path.is_symlink():
            return Failure.unreadable, reason(Failure.unreadable, f"cannot be examined ({exc.strerror or exc})")
        what = "a symbolic link that loops" if exc.errno == errno.ELOOP else "a symbolic link to nothing"
        return Failure.not_a_file, reason(Failure.not_a_file, what)
    if path.is_symlink() and not path.resolve().is_relative_to(root):
        return Failure.not_a_file, reason(Failure.not_a_file, "a link to a file outside RAW, which is never read")
    kind = next((what for test, what in ENTRY_KINDS if test(mode)), None)
    return (
        None
        if kind is None and stat.S_ISREG(mode)
        else (Failure.not_a_file, reason(Failure.not_a_file, kind or "not a regular file"))
    )
