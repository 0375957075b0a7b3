"""Orchestration: find the inputs, run each stage with a per-file cache, isolate each PDF in a worker.

Every file in RAW gets one record, ok or a failure kind with a one-line reason. A PDF is read in
a forked worker under a wall-clock limit and an address-space cap, so a hostile file costs one
row, never the run. Interim results are cached under OUT/interim keyed by the file's sha256 and
the pipeline version, so a re-run opens only new PDFs, and identical bytes under two names are
read once.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import time
from dataclasses import asdict, dataclass
from multiprocessing.connection import wait
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.io import sha256_file, write_atomic

log = logging.getLogger("pipeline")

FAILURE_HINTS = {
    "not_pdf": "not a PDF",
    "empty": "the file is empty (0 bytes); download it again",
    "encrypted": "the PDF is encrypted (password-protected); ask the publisher for an open copy "
                 "(no password is tried)",
    "no_text": "no text layer: an image-only scan; run OCR on it (e.g. ocrmypdf) and put the result in RAW",
    "no_plans": "no plan header 「…」（…）【計画期間:…】 was found",
}
# Failures caused by the limits, not by the file alone: retried when a later run allows more.
LIMIT_FAILURES = ("timeout", "too_large")
# Reader warnings kept per file (a corrupted stream can log the same one per glyph).
MAX_READER_WARNINGS = 10
MAX_REASON = 200


@dataclass(frozen=True)
class Limits:
    """Per-file limits of the extract worker."""

    seconds: float = 60.0
    memory_mb: int = 1024

    def allow_more_than(self, other: dict) -> bool:
        return self.seconds > other["seconds"] or self.memory_mb > other["memory_mb"]


@dataclass(frozen=True)
class Source:
    """One input file: its name relative to RAW, its path and the sha256 of its bytes."""

    name: str
    path: Path
    sha256: str


def find_sources(raw: Path) -> list[Source]:
    """Every regular, non-hidden file in RAW, sorted by name: each one gets a documents row.

    A symbolic link is followed only when its target lies inside RAW: nothing outside RAW is read."""
    if not raw.is_dir():
        raise FileNotFoundError(f"raw folder not found: {raw}")
    root = raw.resolve()
    sources = []
    for path in sorted(raw.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            log.warning("%s: skipped, a folder (put the PDFs themselves in %s)", path.name, raw)
            continue
        if not path.is_file():
            continue
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            log.warning("%s: skipped, a link to a file outside %s", path.name, raw)
            continue
        try:
            sources.append(Source(path.name, path, sha256_file(path)))
        except OSError as exc:
            log.warning("%s: skipped, cannot be read (%s)", path.name, one_line(str(exc)))
    return sources


def interim_path(out: Path, stage: str, sha256: str) -> Path:
    return out / "interim" / stage / f"{sha256}.{'jsonl' if stage == 'extract' else 'json'}"


def read_cached(path: Path) -> dict | None:
    """A cached interim record of this pipeline version (its first line for JSON Lines), or None."""
    try:
        with path.open(encoding="utf-8") as f:
            head = json.loads(f.readline())
    except (OSError, ValueError):
        return None
    return head if head.get("pipeline_version") == PIPELINE_VERSION else None


def is_reusable(head: dict | None, limits: Limits) -> bool:
    """Whether a cached extract header stands: a file that hit a limit is read again under wider limits."""
    return head is not None and not (head["status"] in LIMIT_FAILURES and limits.allow_more_than(head["limits"]))


def one_line(text: str) -> str:
    """Text on one line, cut to a length a person reads on a terminal."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def sniff(path: Path) -> tuple[str, str] | None:
    """A failure decided from the first bytes alone, before any PDF parser sees the file."""
    with path.open("rb") as f:
        head = f.read(1024)
    if not head:
        return "empty", FAILURE_HINTS["empty"]
    if b"%PDF-" not in head:
        start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if re.match(rb"(?i)<(!doctype html|html|head|body|\?xml)", start):
            return "not_pdf", "not a PDF: an HTML page (a web error page saved under a .pdf name?); download it again"
        return "not_pdf", one_line(f"not a PDF: starts with {start[:16].decode('latin-1')!r}")
    return None


def exception_chain(exc: BaseException):
    """The exception and every exception it wraps or was raised while handling (pdfplumber wraps pdfminer's)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack += [e.__context__, e.__cause__, *(a for a in e.args if isinstance(a, BaseException))]


def innermost(exc: BaseException) -> BaseException:
    """The exception a wrapper was made from: its name says more than PdfminerException."""
    while True:
        inner = next((a for a in exc.args if isinstance(a, BaseException)), None) or exc.__cause__
        if inner is None:
            return exc
        exc = inner


def classify_error(exc: BaseException, limits: Limits) -> tuple[str, str]:
    """Failure kind and one-line reason for an exception raised while reading a PDF."""
    chain = list(exception_chain(exc))
    if any("Password" in type(e).__name__ or "Encrypt" in type(e).__name__ for e in chain):
        return "encrypted", FAILURE_HINTS["encrypted"]
    if any(isinstance(e, MemoryError) or "allocate" in str(e) or "insufficient memory" in str(e) for e in chain):
        return "too_large", too_large_reason(limits)
    cause = innermost(exc)
    message = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
    return "corrupt", one_line(f"unreadable PDF ({message}); download it again or ask the publisher for a new copy")


def too_large_reason(limits: Limits, how: str = "reached") -> str:
    return (f"memory cap of {limits.memory_mb} MiB {how} while decoding the PDF (a decompression bomb or a huge "
            "page?); raise --memory-mb if the file is genuine")


def collect_reader_warnings() -> list[str]:
    """Route every warning logged in this worker (pdfminer's data loss in a corrupted stream, a missing font
    box) into a list for the file's documents row, instead of onto the maintainer's terminal."""
    messages: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(one_line(f"{record.name}: {record.getMessage()}"))
    logging.captureWarnings(True)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    return messages


def extract_record(source: Source, limits: Limits) -> list[dict]:
    """Header and page records of one file; failures become the header's status and error."""
    from pipeline.extract import extract_pdf

    reader_warnings = collect_reader_warnings()
    failure = sniff(source.path)
    pages: list[dict] | None = None
    if failure is None:
        try:
            pages = extract_pdf(source.path)
        except BaseException as exc:  # noqa: BLE001 - any parser failure is this file's status, never the run's
            failure = classify_error(exc, limits)
        else:
            if not pages:
                failure = ("no_text", "the PDF has no pages")
            elif not any(p["lines"] for p in pages):
                failure = ("no_text", FAILURE_HINTS["no_text"] if any(p["images"] for p in pages)
                           else "no text on any page")
    head = header(source, limits, *(failure or ("ok", None)), pages=None if pages is None else len(pages))
    head["reader_warnings"] = list(dict.fromkeys(reader_warnings))[:MAX_READER_WARNINGS]
    return [head] + [{"kind": "page", **p} for p in pages or []]


def header(source: Source, limits: Limits, status: str, error: str | None, pages: int | None = None) -> dict:
    """The first record of an extract file; the limits it was read under decide when a limit failure is retried."""
    return {"kind": "document", "pipeline_version": PIPELINE_VERSION, "source_sha256": source.sha256,
            "status": status, "error": error, "pages": pages, "limits": asdict(limits), "reader_warnings": []}


def write_records(target: Path, records: list[dict]) -> None:
    write_atomic(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))


def die_with_parent(parent: int) -> None:
    """Make the kernel kill this worker when the run is killed, so no reader outlives it (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def address_space() -> int:
    """Bytes of address space this process holds now (Linux), 0 where the system does not tell."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _worker(source: Source, target: Path, limits: Limits, parent: int) -> None:
    """Child process: cap memory, extract, write the interim file atomically.

    The cap is counted on top of the address space inherited from the parent, which a worker forked from
    a process holding pandas and pyarrow (a test, a notebook) would otherwise have used up before reading.
    Ctrl-C is the parent's to handle: caught here it would be cached as this file's failure."""
    import resource

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    cap = address_space() + limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    write_records(target, extract_record(source, limits))


def run_extract(sources: list[Source], out: Path, jobs: int, limits: Limits, progress=None) -> list[Source]:
    """Extract every content not cached yet, `jobs` forked workers at a time; returns the sources read now,
    one per distinct sha256 (the first by name). `progress(source, done, total)` hears of each file read."""
    todo: dict[str, Source] = {}
    for s in sources:
        if s.sha256 not in todo and not is_reusable(read_cached(interim_path(out, "extract", s.sha256)), limits):
            todo[s.sha256] = s
    if not todo:
        return []
    import pdfplumber  # noqa: F401 - imported once here, shared by every forked worker

    for sha in todo:
        interim_path(out, "segment", sha).unlink(missing_ok=True)
        interim_path(out, "extract", sha).parent.mkdir(parents=True, exist_ok=True)
    queue = list(todo.values())
    ctx = multiprocessing.get_context("fork")
    running: dict[int, tuple[multiprocessing.Process, float, Source]] = {}
    while queue or running:
        while queue and len(running) < max(jobs, 1):
            s = queue.pop(0)
            proc = ctx.Process(target=_worker, args=(s, interim_path(out, "extract", s.sha256), limits, os.getpid()),
                               daemon=True)
            proc.start()
            running[proc.sentinel] = (proc, time.monotonic() + limits.seconds, s)
        next_deadline = min(deadline for _, deadline, _ in running.values())
        done = wait(list(running), timeout=max(0.0, next_deadline - time.monotonic()))
        for sentinel, (proc, deadline, s) in list(running.items()):
            if sentinel in done or time.monotonic() >= deadline:
                finish_worker(proc, s, out, limits, timed_out=sentinel not in done)
                del running[sentinel]
                if progress:
                    progress(s, len(todo) - len(queue) - len(running), len(todo))
    return list(todo.values())


def finish_worker(proc: multiprocessing.Process, source: Source, out: Path, limits: Limits, timed_out: bool) -> None:
    """Reap a worker; a worker past its deadline is killed, and one that died without a record gets one."""
    target = interim_path(out, "extract", source.sha256)
    if timed_out and proc.is_alive():
        proc.kill()
        proc.join()
        write_records(target, [header(source, limits, "timeout", f"reading took longer than {limits.seconds:g} s "
                                      "(a decompression bomb or a very heavy page?); raise --timeout if the file "
                                      "is genuine")])
        return
    proc.join()
    if proc.exitcode == 0 and read_cached(target) is not None:
        return
    if proc.exitcode < 0:  # killed by a signal: what a reader at the memory cap dies of outside Python
        write_records(target, [header(source, limits, "too_large", too_large_reason(
            limits, f"probably reached (the reader was killed by {signal.Signals(-proc.exitcode).name})"))])
    else:
        write_records(target, [header(source, limits, "corrupt", f"the reader stopped with exit code "
                                      f"{proc.exitcode} and no result; please report this file")])


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
            try:
                record.update(segment_document(pages))
                failure = None if record["plans"] else no_plans_reason(record)
            except Exception as exc:  # noqa: BLE001 - one layout nobody foresaw costs its file, never the run
                failure = one_line(f"segmenting failed ({type(exc).__name__}: {exc}); please report this file")
            if failure:
                record["status"], record["error"] = "no_plans", failure
        record["warnings"] = head["reader_warnings"] + record["warnings"]
        # One line, like every interim record: read_cached reads the first line only.
        write_atomic(target, json.dumps(record, ensure_ascii=False).encode("utf-8"))


def no_plans_reason(record: dict) -> str:
    """Why no plan was found, with what the pages themselves suggest."""
    reason = FAILURE_HINTS["no_plans"]
    if record["pages_with_unmapped_glyphs"]:
        reason += (f"; page(s) {', '.join(record['pages_with_unmapped_glyphs'])} draw glyphs without a Unicode map,"
                   " so their text is unreadable (get a better copy or OCR)")
    elif record["vertical_pages"]:
        reason += f"; page(s) {', '.join(record['vertical_pages'])} are vertical writing (tategaki)"
    return reason


def load_segments(sources: list[Source], out: Path) -> list[tuple[Source, dict]]:
    """The segment record of every source, in source order."""
    result = []
    for s in sources:
        with interim_path(out, "segment", s.sha256).open(encoding="utf-8") as f:
            result.append((s, json.load(f)))
    return result


def failures(sources: list[Source], out: Path, stage: str) -> list[tuple[str, str, str]]:
    """(file, status, reason) of every source that failed, as far as `stage` can tell."""
    rows = []
    for s in sources:
        record = read_cached(interim_path(out, stage, s.sha256)) or {}
        if record.get("status", "ok") != "ok":
            rows.append((s.name, record["status"], record["error"]))
    return rows


def prune_interim(sources: list[Source], out: Path) -> None:
    """Drop interim records of files no longer in RAW, so the cache does not grow without bound."""
    keep = {s.sha256 for s in sources}
    for stage in ("extract", "segment"):
        folder = out / "interim" / stage
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name.split(".")[0] not in keep:
                    path.unlink()
