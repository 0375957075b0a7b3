"""OUT, held by one run at a time: made or refused, locked, and cleared of what a killed run left half-written."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.failures import UsageError
from pipeline.core.io import remove_temporaries
from pipeline.run.cache import INTERIM_STAGES

log = logging.getLogger("pipeline")


LOCK_NAME = ".lock"


def prepare_out(raw: Path, out: Path) -> None:
    """Make OUT, or refuse it in one plain line: RAW itself (the outputs would be read back as inputs), a file,
    or a folder the run cannot create."""
    if out.resolve() == raw.resolve():
        raise UsageError(f"--out must not be the raw folder: {out}")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out must be a folder, but {out} is a file")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder {out}: {exc.strerror or exc}") from None


@contextmanager
def exclusive(out: Path):
    """Hold OUT for this run: a second run into the same folder stops instead of mixing files with this one.
    The lock file is never followed through a link, nor truncated: whatever a link there points at is safe."""
    path = out / LOCK_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"{path} is a symbolic link: remove it (a lock is never followed)") from None
        raise UsageError(f"cannot write in the output folder {out}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(f"another run is writing {out}; wait for it to finish") from None
    try:
        yield
    finally:
        os.close(fd)


def remove_leftovers(out: Path) -> None:
    """Delete the temporary files of a run that was killed before it could rename them into place."""
    for folder in (out, *(out / "interim" / stage for stage in INTERIM_STAGES)):
        for path in remove_temporaries(folder):
            log.debug("removed %s, left by an interrupted run", path)
