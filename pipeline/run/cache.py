"""OUT/interim: each stage's record of each file, keyed by the file's sha256, and when a cached record stands.

A record made by other code (another fingerprint) is made again; records of files no longer in RAW are pruned.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.core.failures import is_retried
from pipeline.core.fingerprint import fingerprint
from pipeline.core.records import DEFAULT_READER, ExtractHeader, Limits, Page, SegmentRecord, Source, from_dict

INTERIM_STAGES = ("extract", "segment", "normalize")  # the folders of OUT/interim, one record per file in each


def interim_path(out: Path, stage: str, sha256: str) -> Path:
    return out / "interim" / stage / f"{sha256}.{'json' if stage == 'segment' else 'jsonl'}"


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
                if path.name.split(".")[0] not in keep:
                    path.unlink()


def load_extract(out: Path, sha256: str) -> tuple[ExtractHeader, list[Page]]:
    """Header and pages of a cached extract record."""
    with interim_path(out, "extract", sha256).open(encoding="utf-8") as f:
        head, *pages = (json.loads(line) for line in f)
    return from_dict(ExtractHeader, head), [from_dict(Page, p) for p in pages]


def load_segment(out: Path, sha256: str) -> SegmentRecord:
    """A file's cached segment record."""
    with interim_path(out, "segment", sha256).open(encoding="utf-8") as f:
        return from_dict(SegmentRecord, json.load(f))
