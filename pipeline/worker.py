"""One PDF, read in a forked worker under a wall-clock limit and an address-space cap.

A hostile or broken file costs its own row, never the run: whatever the reader raises, and however
the worker dies (killed at the deadline, killed by the kernel at the memory cap), the file gets an
extract record whose header names the failure kind and a one-line reason.
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
from pipeline.io import write_atomic
from pipeline.records import ExtractHeader, Notice, Page, to_dict

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


def extract_record(source: Source, limits: Limits) -> tuple[ExtractHeader, list[Page]]:
    """Header and pages of one file; failures become the header's status and error."""
    from pipeline.extract import extract_pdf

    reader_warnings = collect_reader_warnings()
    failure = sniff(source.path)
    pages: list[Page] | None = None
    if failure is None:
        try:
            pages = extract_pdf(source.path)
        except BaseException as exc:  # noqa: BLE001 - any parser failure is this file's status, never the run's
            failure = classify_error(exc, limits)
        else:
            if not pages:
                failure = ("no_text", "the PDF has no pages")
            elif not any(p.lines for p in pages):
                failure = ("no_text", FAILURE_HINTS["no_text"] if any(p.images for p in pages)
                           else "no text on any page")
    head = header(source, limits, *(failure or ("ok", None)), pages=None if pages is None else len(pages))
    head.reader_warnings = [Notice("reader", message)
                            for message in list(dict.fromkeys(reader_warnings))[:MAX_READER_WARNINGS]]
    return head, pages or []


def header(source: Source, limits: Limits, status: str, error: str | None, pages: int | None = None) -> ExtractHeader:
    """The header of an extract record; the limits it was read under decide when a limit failure is retried."""
    return ExtractHeader(pipeline_version=PIPELINE_VERSION, source_sha256=source.sha256, status=status, error=error,
                         pages=pages, limits=asdict(limits), reader_warnings=[])


def write_extract(target: Path, head: ExtractHeader, pages: list[Page] = ()) -> None:
    """An extract record as JSON Lines: the header first, so that a cache check reads one line only."""
    records = [to_dict(head)] + [to_dict(p) for p in pages]
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
    write_extract(target, *extract_record(source, limits))


def read_in_workers(todo: list[tuple[Source, Path]], jobs: int, limits: Limits, progress=None) -> None:
    """Extract each source into its target path, `jobs` forked workers at a time. `progress(source, done,
    total)` hears of each file read."""
    import pdfplumber  # noqa: F401 - imported once here, shared by every forked worker

    queue = list(todo)
    ctx = multiprocessing.get_context("fork")
    running: dict[int, tuple[multiprocessing.Process, float, Source, Path]] = {}
    while queue or running:
        while queue and len(running) < max(jobs, 1):
            s, target = queue.pop(0)
            proc = ctx.Process(target=_worker, args=(s, target, limits, os.getpid()), daemon=True)
            proc.start()
            running[proc.sentinel] = (proc, time.monotonic() + limits.seconds, s, target)
        next_deadline = min(deadline for _, deadline, _, _ in running.values())
        done = wait(list(running), timeout=max(0.0, next_deadline - time.monotonic()))
        for sentinel, (proc, deadline, s, target) in list(running.items()):
            if sentinel in done or time.monotonic() >= deadline:
                finish_worker(proc, s, target, limits, timed_out=sentinel not in done)
                del running[sentinel]
                if progress:
                    progress(s, len(todo) - len(queue) - len(running), len(todo))


def finish_worker(proc: multiprocessing.Process, source: Source, target: Path, limits: Limits,
                  timed_out: bool) -> None:
    """Reap a worker; a worker past its deadline is killed, and one that died without a record gets one."""
    if timed_out and proc.is_alive():
        proc.kill()
        proc.join()
        write_extract(target, header(source, limits, "timeout", f"reading took longer than {limits.seconds:g} s "
                                     "(a decompression bomb or a very heavy page?); raise --timeout if the file "
                                     "is genuine"))
        return
    proc.join()
    if proc.exitcode == 0 and target.exists():
        return
    if proc.exitcode < 0:  # killed by a signal: what a reader at the memory cap dies of outside Python
        write_extract(target, header(source, limits, "too_large", too_large_reason(
            limits, f"probably reached (the reader was killed by {signal.Signals(-proc.exitcode).name})")))
    else:
        write_extract(target, header(source, limits, "corrupt", f"the reader stopped with exit code "
                                     f"{proc.exitcode} and no result; please report this file"))
