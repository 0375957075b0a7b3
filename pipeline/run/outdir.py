"""OUT, held by one run at a time: made or refused, locked, cleared of what a killed run left half-written, and
switched from one whole set of outputs to the next in one step.

The outputs (tables, datapackage, views, manifest) of a run are written into a generation folder of their own,
OUT/generations/<token>, and OUT/current, a symbolic link, is then renamed onto one that names the new generation: a
rename is atomic on Linux, so at every instant OUT/current is the complete old set or the complete new one. Each
output's name in OUT (OUT/documents.parquet…) is a link through OUT/current, made once, so that readers keep their
paths; a reader who needs several files of one set resolves OUT/current once. The crops (OUT/crops) are named by
what they show: a new set only adds some, and those no set shows are removed after the switch (prune_crops).
"""

from __future__ import annotations

import errno
import logging
import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path

from pipeline.core.failures import UsageError
from pipeline.core.io import TEMPORARY_SUFFIX, held, remove_temporaries, sync_folder
from pipeline.outputs.crops import CROPS_DIR
from pipeline.run.cache import INTERIM_STAGES

log = logging.getLogger("pipeline")


LOCK_NAME = ".lock"
GENERATIONS = "generations"
CURRENT = "current"


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
    with held(fd, UsageError(f"another run is writing {out}; wait for it to finish")):
        yield


def remove_leftovers(out: Path) -> None:
    """Delete the temporary files and the generation folders of a run that was killed before it could rename them
    into place."""
    for folder in (out, *(out / "interim" / stage for stage in INTERIM_STAGES)):
        for path in remove_temporaries(folder):
            log.debug("removed %s, left by an interrupted run", path)
    remove_old_generations(out)


def current_generation(out: Path) -> str | None:
    """The generation OUT/current names (None: no set written in generations yet), to tell which set OUT holds."""
    try:
        return os.readlink(out / CURRENT)
    except OSError:
        return None


def start_generation(out: Path) -> Path:
    """A new, empty generation folder for a run's outputs, with a link `crops` to OUT's crops, so that its report's
    images show however it is opened. Made with the umask's permissions: other users read the outputs."""
    (out / CROPS_DIR).mkdir(exist_ok=True)
    folder = out / GENERATIONS / secrets.token_hex(8)
    folder.mkdir(parents=True)
    os.symlink(Path("..", "..", CROPS_DIR), folder / CROPS_DIR)
    return folder


def switch_to(out: Path, generation: Path, names: list[str]) -> None:
    """Make `generation`, whole and synced, the set OUT holds, in one rename of OUT/current; first give each of
    `names` its link through OUT/current (adopting the files an older run wrote in OUT itself)."""
    link_names(out, names)
    sync_folder(generation)
    point_current(out, generation.name)


def link_names(out: Path, names: list[str]) -> None:
    """Make OUT/<name> a link to current/<name> for each name. Files an older layout wrote in OUT itself are first
    hard-linked into a generation that OUT/current then names, so that each file replaced by its link reads the same
    bytes through it: never a mix, even while OUT changes layout. A copy of OUT that followed the links holds each
    output as a file, and OUT/current as a folder of the same files: that folder goes, the files are adopted."""
    targets = {name: Path(CURRENT, name) for name in names}
    if (out / CURRENT).is_dir() and not (out / CURRENT).is_symlink():  # a copy of OUT that followed the links
        shutil.rmtree(out / CURRENT)
    regular = [name for name in names if (out / name).is_file() and not (out / name).is_symlink()]
    if regular and current_generation(out) is None:
        adopted = out / GENERATIONS / secrets.token_hex(8)
        adopted.mkdir(parents=True)
        for name in regular:
            os.link(out / name, adopted / name)
        os.symlink(Path("..", "..", CROPS_DIR), adopted / CROPS_DIR)
        point_current(out, adopted.name)
    for name, target in targets.items():
        path = out / name
        if path.is_symlink() and Path(os.readlink(path)) == target:
            continue
        replace_with_link(path, target)
    sync_folder(out)


def point_current(out: Path, generation: str) -> None:
    """Rename onto OUT/current a new link naming `generation`: the one step that changes the set OUT holds."""
    replace_with_link(out / CURRENT, Path(GENERATIONS, generation))
    sync_folder(out)


def replace_with_link(path: Path, target: Path) -> None:
    """Put a symbolic link to `target` at `path` in one rename, whatever stood there."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")
    os.symlink(target, tmp)
    os.replace(tmp, path)


def remove_old_generations(out: Path) -> None:
    """Delete every generation folder but the one OUT/current names: the sets replaced, and those a killed run left
    unfinished."""
    current = current_generation(out)
    folder = out / GENERATIONS
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if Path(GENERATIONS, path.name) != Path(current or ""):
            shutil.rmtree(path, ignore_errors=True)
            log.debug("removed %s, a replaced or unfinished set of outputs", path)


def prune_crops(out: Path, shown: list[str]) -> None:
    """Remove the crops the set OUT holds does not show (`shown`: their names under OUT), once that set is in place."""
    wanted = set(shown)
    folder = out / CROPS_DIR
    for path in folder.iterdir() if folder.is_dir() else ():
        if f"{CROPS_DIR}/{path.name}" not in wanted:
            path.unlink(missing_ok=True)
