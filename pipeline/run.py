"""Orchestration: find the inputs, run each stage with a per-file cache, isolate each PDF in a worker.

Every file in RAW gets one record, ok or a failure kind with a one-line reason. A PDF is read in
a forked worker under a wall-clock limit and an address-space cap, so a hostile file costs one
row, never the run. Interim results are cached under OUT/interim keyed by the file's sha256 and
the pipeline version, so a re-run opens only new PDFs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.io import write_atomic

log = logging.getLogger("pipeline")

FAILURE_HINTS = {
    "not_pdf": "not a PDF",
    "empty": "the file is empty (0 bytes)",
    "encrypted": "the PDF is encrypted; ask the publisher for an open copy (no password is tried)",
    "no_text": "no text layer: an image-only scan, which needs OCR first",
    "no_plans": "no plan header 「…」（…）【計画期間:…】 was found",
}


@dataclass(frozen=True)
class Limits:
    """Per-file limits of the extract worker."""

    seconds: float = 60.0
    memory_mb: int = 1024


@dataclass(frozen=True)
class Source:
    """One input file: its name relative to RAW, its path and the sha256 of its bytes."""

    name: str
    path: Path
    sha256: str


def find_sources(raw: Path) -> list[Source]:
    """Every regular, non-hidden file in RAW, sorted by name: each one gets a documents row."""
    if not raw.is_dir():
        raise FileNotFoundError(f"raw folder not found: {raw}")
    sources = []
    for path in sorted(raw.iterdir()):
        if path.name.startswith(".") or not path.is_file():
            continue
        digest = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        sources.append(Source(path.name, path, digest.hexdigest()))
    return sources


def interim_path(out: Path, stage: str, sha256: str) -> Path:
    return out / "interim" / stage / f"{sha256}.{'jsonl' if stage == 'extract' else 'json'}"


def read_cached(path: Path) -> dict | None:
    """A cached interim record of this pipeline version, or None."""
    try:
        with path.open(encoding="utf-8") as f:
            head = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    return head if head.get("pipeline_version") == PIPELINE_VERSION else None


def sniff(path: Path) -> tuple[str, str] | None:
    """A failure decided from the first bytes alone, before any PDF parser sees the file."""
    with path.open("rb") as f:
        head = f.read(1024)
    if not head:
        return "empty", FAILURE_HINTS["empty"]
    if b"%PDF-" not in head:
        start = head.lstrip()[:40].decode("latin-1", "replace")
        what = "an HTML page" if re.match(r"(?i)<(!doctype|html)", start) else f"starts with {start[:16]!r}"
        return "not_pdf", f"not a PDF: {what}"
    return None


def classify_error(exc: BaseException) -> tuple[str, str]:
    """Failure kind and one-line reason for an exception raised while reading a PDF."""
    name = type(exc).__name__
    if isinstance(exc, MemoryError):
        return "too_large", "memory cap reached while decoding the PDF (a decompression bomb or a huge page)"
    if "Password" in name or "Encrypt" in name:
        return "encrypted", FAILURE_HINTS["encrypted"]
    message = " ".join(str(exc).split())[:200]
    return "corrupt", f"unreadable PDF ({name}{': ' + message if message else ''})"


def extract_record(source: Source) -> list[dict]:
    """Header and page records of one file; failures become the header's status and error."""
    from pipeline.extract import extract_pdf

    head = {"kind": "document", "pipeline_version": PIPELINE_VERSION, "source_sha256": source.sha256,
            "status": "ok", "error": None, "pages": None}
    failure = sniff(source.path)
    pages: list[dict] = []
    if failure is None:
        try:
            pages = extract_pdf(source.path)
        except BaseException as exc:  # noqa: BLE001 - any parser failure is this file's status, never the run's
            failure = classify_error(exc)
        else:
            head["pages"] = len(pages)
            if pages and not any(p["lines"] for p in pages):
                failure = ("no_text", FAILURE_HINTS["no_text"]) if any(p["images"] for p in pages) else (
                    "no_text", "no text on any page")
    if failure:
        head["status"], head["error"] = failure
    return [head] + [{"kind": "page", **p} for p in pages]


def _worker(source: Source, target: Path, memory_mb: int) -> None:
    """Child process: cap memory, extract, write the interim file atomically.

    The cap is counted on top of the address space the fork inherited, so a parent that has already
    mapped large libraries does not leave its workers without room to import the PDF reader."""
    import resource

    inherited = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    cap = inherited + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    records = extract_record(source)
    write_atomic(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))


def failure_record(source: Source, status: str, error: str) -> list[dict]:
    return [{"kind": "document", "pipeline_version": PIPELINE_VERSION, "source_sha256": source.sha256,
             "status": status, "error": error, "pages": None}]


def run_extract(sources: list[Source], out: Path, jobs: int, limits: Limits, progress=None) -> list[Source]:
    """Extract every source not cached yet, `jobs` forked workers at a time; returns the ones read now."""
    todo: dict[str, Source] = {}
    for s in sources:
        if s.sha256 not in todo and read_cached(interim_path(out, "extract", s.sha256)) is None:
            todo[s.sha256] = s
    queue = list(todo.values())
    ctx = multiprocessing.get_context("fork")
    running: dict[str, tuple[multiprocessing.Process, float, Source]] = {}
    while queue or running:
        while queue and len(running) < max(jobs, 1):
            s = queue.pop(0)
            target = interim_path(out, "extract", s.sha256)
            target.parent.mkdir(parents=True, exist_ok=True)
            proc = ctx.Process(target=_worker, args=(s, target, limits.memory_mb), daemon=True)
            proc.start()
            running[s.sha256] = (proc, time.monotonic(), s)
        time.sleep(0.005)
        for sha, (proc, started, s) in list(running.items()):
            target = interim_path(out, "extract", sha)
            if proc.is_alive() and time.monotonic() - started <= limits.seconds:
                continue
            if proc.is_alive():
                proc.kill()
                proc.join()
                records = failure_record(s, "timeout", f"reading took longer than {limits.seconds:g} s")
            else:
                proc.join()
                if proc.exitcode == 0 and read_cached(target) is not None:
                    records = None
                else:
                    records = failure_record(
                        s, "too_large", f"the reader died (exit code {proc.exitcode}) under the "
                        f"{limits.memory_mb} MiB memory cap")
            if records is not None:
                write_atomic(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode())
            del running[sha]
            if progress:
                progress(s)
    return list(todo.values())


def load_extract(out: Path, sha256: str) -> tuple[dict, list[dict]]:
    """Header and pages of a cached extract record."""
    with interim_path(out, "extract", sha256).open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    return records[0], records[1:]


def run_segment(sources: list[Source], out: Path) -> None:
    """Segment every extracted source whose segment record is missing or stale."""
    from pipeline.segment import segment_document

    for sha in dict.fromkeys(s.sha256 for s in sources):
        target = interim_path(out, "segment", sha)
        if read_cached(target) is not None:
            continue
        head, pages = load_extract(out, sha)
        record = {
            "pipeline_version": PIPELINE_VERSION,
            "source_sha256": sha,
            "status": head["status"],
            "error": head["error"],
            "pages": head["pages"],
            "plans": [],
            "warnings": [],
            "vertical_pages": [str(p["page"]) for p in pages if p["is_vertical"]],
            "pages_with_unmapped_glyphs": [str(p["page"]) for p in pages if p["unmapped_chars"]],
        }
        if head["status"] == "ok":
            record.update(segment_document(pages))
            if not record["plans"]:
                record["status"], record["error"] = "no_plans", FAILURE_HINTS["no_plans"]
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))


def load_segments(sources: list[Source], out: Path) -> list[tuple[Source, dict]]:
    """The segment record of every source, in source order."""
    result = []
    for s in sources:
        with interim_path(out, "segment", s.sha256).open(encoding="utf-8") as f:
            result.append((s, json.load(f)))
    return result


def prune_interim(sources: list[Source], out: Path) -> None:
    """Drop interim records of files no longer in RAW, so the cache does not grow without bound."""
    keep = {s.sha256 for s in sources}
    for stage in ("extract", "segment"):
        folder = out / "interim" / stage
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name.split(".")[0] not in keep:
                    path.unlink()
