"""OUT/interim: each stage's record of each file, keyed by the file's sha256, and when a cached record stands.

A record made by other code (another fingerprint) is made again; records of files no longer in RAW are pruned.
Every file's rows are also kept together in one merged cache (OUT/interim/normalize.merged), which a run reads in
one pass instead of opening a record per file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import is_retried
from pipeline.core.fingerprint import fingerprint
from pipeline.core.io import atomic_file, write_atomic
from pipeline.core.records import DEFAULT_READER, ExtractHeader, Limits, Page, SegmentRecord, Source, from_dict, to_dict

INTERIM_STAGES = ("extract", "segment", "normalize")  # the folders of OUT/interim, one record per file in each
MERGED = "normalize.merged"  # in OUT/interim: every file's rows in one file (write_merged)


# In OUT/interim: what the fingerprints take from each source text (core.fingerprint.FACTS), kept between runs.
FACTS_NAME = "fingerprint-facts.json"


def interim_path(out: Path, stage: str, sha256: str) -> Path:
    return interim_folder(out, stage) / record_name(sha256)


def record_name(sha256: str) -> str:
    return f"{sha256}.jsonl"


@lru_cache(maxsize=64)
def interim_folder(out: Path, stage: str) -> Path:
    """OUT/interim/<stage>, joined once: a run over thousands of files asks for a record's path several times a
    file, and each join of a Path costs as much as reading the record's first line."""
    return out / "interim" / stage


def read_cached(out: Path, stage: str, sha256: str) -> dict | None:
    """The first line of a stage's cached record of a file, as JSON, when the stage's current code made it;
    else None."""
    try:
        with interim_path(out, stage, sha256).open(encoding="utf-8") as f:
            head = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    return head if isinstance(head, dict) and head.get("fingerprint") == fingerprint(stage) else None


def is_reusable(head: dict | None, limits: Limits, reader: str = DEFAULT_READER) -> bool:
    """Whether a cached extract header stands: a file that hit a limit is read again under wider limits, one
    that changed while it was read is read again whatever the limits, and one read by another page reader is
    read again by this one."""
    return (
        head is not None
        and head.get("reader") == reader
        and not is_retried(head["status"], limits.allow_more_than(head["limits"]))
    )


def prune_interim(sources: list[Source], out: Path) -> None:
    """Drop interim records of files no longer in RAW, so the cache does not grow without bound."""
    keep = {s.sha256 for s in sources}
    for stage in INTERIM_STAGES:
        folder = out / "interim" / stage
        if folder.is_dir():
            for path in folder.iterdir():
                sha = path.name.split(".")[0]
                if sha not in keep or path.name != record_name(sha):  # or named as an older version did
                    path.unlink()


def load_extract(out: Path, sha256: str) -> tuple[ExtractHeader, list[Page]]:
    """Header and pages of a cached extract record."""
    with interim_path(out, "extract", sha256).open(encoding="utf-8") as f:
        head, *pages = (json.loads(line) for line in f)
    return from_dict(ExtractHeader, head), [from_dict(Page, p) for p in pages]


def load_segment(out: Path, sha256: str) -> SegmentRecord:
    """A file's cached segment record (its second line: write_segment)."""
    with interim_path(out, "segment", sha256).open(encoding="utf-8") as f:
        f.readline()
        return from_dict(SegmentRecord, json.loads(f.readline()))


# What a run reads of every file's segment record, in its first line (read_cached): whether the current code made it,
# and the file's status, error and rejected plans (runner.failures). The record whole is the second line, read
# only where a file's rows are made again: a run over thousands of files otherwise parses every plan of every file
# to learn that nothing changed.
SEGMENT_HEAD = ("pipeline_version", "fingerprint", "source_sha256", "status", "error", "traceback", "rejected")


def write_segment(out: Path, sha256: str, record: SegmentRecord) -> str:
    """Cache a file's segment record, after a first line of SEGMENT_HEAD; returns the sha256 of its bytes, which its
    rows record names."""
    whole = to_dict(record)
    head = {key: whole[key] for key in SEGMENT_HEAD}
    data = b"\n".join(json.dumps(part, ensure_ascii=False).encode("utf-8") for part in (head, whole))
    write_atomic(interim_path(out, "segment", sha256), data)
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RowsAt:
    """Where a file's cached rows lie, one line of JSON (the second line of normalize.rows_record): held instead of
    the rows, which are read when the merge reaches the file, so that a run never holds every file's rows."""

    path: Path
    offset: int
    size: int
    sha256: str  # of the line, without its newline

    def read(self) -> bytes:
        with self.path.open("rb") as f:
            f.seek(self.offset)
            return f.read(self.size)


def read_merged(out: Path, segment_records: dict[str, str]) -> tuple[dict[str, RowsAt], int]:
    """The rows the merged cache (write_merged) holds of these files, by sha256: those the current normalize code
    made from the file's current segment record (`segment_records`), whose line is whole (its sha256); and how
    many files it holds. One pass over the file, keeping where each line lies. A merged cache made by other code,
    or damaged, gives what of it stands: at worst nothing, and each file's own record is read instead."""
    path = out / "interim" / MERGED
    found: dict[str, RowsAt] = {}
    try:
        with path.open("rb") as f:
            head = json.loads(f.readline())
            if head["fingerprint"] != fingerprint("normalize"):
                return {}, 0
            offset = f.tell()
            for sha, (segment_sha, rows_sha, size) in head["files"].items():
                if segment_records.get(sha) == segment_sha:
                    f.seek(offset)
                    line = f.read(size + 1)
                    if line.endswith(b"\n") and hashlib.sha256(line[:-1]).hexdigest() == rows_sha:
                        found[sha] = RowsAt(path, offset, size, rows_sha)
                offset += size + 1
            return found, len(head["files"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return found, -1  # what stood before the damage; never the count of files asked for, so it is rewritten


def write_merged(out: Path, rows: dict[str, RowsAt], segment_records: dict[str, str]) -> dict[str, RowsAt]:
    """Write every file's rows into the merged cache, in sha256 order: a first line naming the normalize code and,
    per file, the segment record its rows were made from, the sha256 of its line and the line's size; then one line
    per file. Returns where each file's rows now lie in it."""
    path = out / "interim" / MERGED
    order = sorted(rows)
    head = {
        "pipeline_version": PIPELINE_VERSION,
        "fingerprint": fingerprint("normalize"),
        "files": {sha: [segment_records[sha], rows[sha].sha256, rows[sha].size] for sha in order},
    }
    written = {}
    with atomic_file(path) as f:
        f.write(json.dumps(head).encode("utf-8") + b"\n")
        for sha in order:
            written[sha] = RowsAt(path, f.tell(), rows[sha].size, rows[sha].sha256)
            f.write(rows[sha].read() + b"\n")
    return written
