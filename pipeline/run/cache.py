"""OUT/interim: each stage's record of each file, keyed by the file's sha256, and when a cached record stands.

A record made by other code (another fingerprint) is made again; records of files no longer in RAW are pruned.
What the merge needs of every file before its rows (its index: records.FileIndex) is also kept together in one
cache (OUT/interim/normalize.index), which a run reads in one pass instead of opening a record per file.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import is_retried
from pipeline.core.fingerprint import fingerprint
from pipeline.core.io import write_atomic
from pipeline.core.records import DEFAULT_READER, ExtractHeader, Limits, Page, SegmentRecord, Source, from_dict, to_dict

INTERIM_STAGES = ("extract", "segment", "normalize")  # the folders of OUT/interim, one record per file in each
INDEX = "normalize.index"  # in OUT/interim: every file's index in one file (write_index)
RETIRED = ("normalize.merged",)  # in OUT/interim: caches of older versions, removed (every file's rows, whole)


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
    read again by this one, as is one read with OCR on or off when the run turns it the other way."""
    return (
        head is not None
        and head.get("reader") == reader
        and head["limits"].get("ocr", True) == limits.ocr
        and not is_retried(head["status"], limits.allow_more_than(head["limits"]))
    )


def prune_interim(sources: list[Source], out: Path) -> None:
    """Drop interim records of files no longer in RAW, so the cache does not grow without bound, and the caches an
    older version kept (RETIRED)."""
    keep = {s.sha256 for s in sources}
    for name in RETIRED:
        (out / "interim" / name).unlink(missing_ok=True)
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


def read_index(out: Path, segment_records: dict[str, str]) -> tuple[dict[str, dict], int]:
    """The indexes the index cache (write_index) holds of these files, by sha256, in their JSON form: those the
    current normalize code made from the file's current segment record (`segment_records`); and how many files it
    holds. An index cache made by other code, altered (its files' sha256) or damaged gives nothing, and each file's
    own record is read instead."""
    try:
        with (out / "interim" / INDEX).open("rb") as f:
            head, body = json.loads(f.readline()), f.read()
        if (head["fingerprint"], head["files_sha256"]) != (fingerprint("normalize"), hashlib.sha256(body).hexdigest()):
            return {}, 0
        files = json.loads(body)
        found = {sha: index for sha, (segment_sha, index) in files.items() if segment_records.get(sha) == segment_sha}
        return found, len(files)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}, -1  # never the count of files asked for, so it is written again


def write_index(out: Path, indexes: dict[str, dict], segment_records: dict[str, str]) -> None:
    """Write every file's index (records.FileIndex, in its JSON form) into the index cache, in sha256 order: a first
    line naming the normalize code and the sha256 of the second, which maps each file to the segment record its
    index was made from and the index."""
    files = {sha: [segment_records[sha], indexes[sha]] for sha in sorted(indexes)}
    body = json.dumps(files, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = {
        "pipeline_version": PIPELINE_VERSION,
        "fingerprint": fingerprint("normalize"),
        "files_sha256": hashlib.sha256(body).hexdigest(),
    }
    write_atomic(out / "interim" / INDEX, json.dumps(head).encode("utf-8") + b"\n" + body)
