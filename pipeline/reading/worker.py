"""One PDF, read in a forked worker under a wall-clock limit and an address-space cap.

A hostile or broken file costs its own row, never the run: whatever the reader raises, and however
the worker dies (killed at the deadline, killed by the kernel at the memory cap), the file gets an
extract record whose header names the failure kind and a one-line reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
import resource
import select
import signal
import threading
import time
import traceback
from dataclasses import asdict, dataclass
from multiprocessing.connection import wait
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import Failure, internal_reason, one_line, reason
from pipeline.core.fingerprint import fingerprint
from pipeline.core.io import open_regular, write_atomic
from pipeline.core.records import ExtractHeader, Notice, Page, to_dict

PACKAGE_DIR = Path(__file__).resolve().parents[1]

# Reader warnings kept per file (a corrupted stream can log the same one per glyph).
MAX_READER_WARNINGS = 10
# A worker that ran out of memory, even while reporting it, exits with this status: the parent writes its record.
EXIT_OUT_OF_MEMORY = 3


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


def sniff(data: bytes) -> tuple[Failure, str] | None:
    """A failure decided from the first bytes alone, before any PDF parser sees the file."""
    head = data[:1024]
    if not head:
        return Failure.empty, reason(Failure.empty, "the file is empty (0 bytes)")
    if b"%PDF-" not in head:
        start = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if re.match(rb"(?i)<(!doctype html|html|head|body|\?xml)", start):
            return Failure.not_pdf, reason(Failure.not_pdf, "not a PDF: an HTML page (a web error page saved under "
                                                            "a .pdf name?)")
        return Failure.not_pdf, reason(Failure.not_pdf, f"not a PDF: starts with {start[:16].decode('latin-1')!r}")
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


def raised_by_pipeline(exc: BaseException) -> bool:
    """Whether an exception was raised in this package's own code rather than inside a PDF library: a bug of
    ours, not a property of the file."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


def classify_error(exc: BaseException, limits: Limits) -> tuple[Failure, str]:
    """Failure kind and one-line reason for an exception raised while reading a PDF. A memory failure is looked
    for first and by type alone: formatting a message could need the memory that just ran out."""
    chain = list(exception_chain(exc))
    if any(isinstance(e, MemoryError) for e in chain):
        return Failure.too_large, too_large_reason(limits)
    if any("Password" in type(e).__name__ or "Encrypt" in type(e).__name__ for e in chain):
        return Failure.encrypted, reason(Failure.encrypted, "the PDF is encrypted (password-protected, no password "
                                                            "is tried)")
    cause = innermost(exc)
    message = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
    if any("allocate" in str(e) or "insufficient memory" in str(e) for e in chain):
        return Failure.too_large, too_large_reason(limits)
    if raised_by_pipeline(cause):
        return Failure.internal_error, internal_reason(message)
    return Failure.corrupt, reason(Failure.corrupt, f"unreadable PDF ({message})")


def too_large_reason(limits: Limits, how: str = "reached") -> str:
    return reason(Failure.too_large, f"memory cap of {limits.memory_mb} MiB {how} while reading")


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
    """Header and pages of one file; failures become the header's status and error.

    The bytes are read once and hashed: what is parsed is exactly what the header's sha256 names, and a file
    that changed since RAW was listed is reported, never cached under the hash of other bytes."""
    from pipeline.extract import extract_pdf

    reader_warnings = collect_reader_warnings()
    with open_regular(source.path) as f:
        data = f.read()
    pages: list[Page] | None = None
    trace = None
    read_sha256 = hashlib.sha256(data).hexdigest()
    if read_sha256 != source.sha256:
        failure = (Failure.changed_during_run, reason(Failure.changed_during_run, (
            f"the file changed while the run read it (listed as {source.sha256[:12]}…, read as {read_sha256[:12]}…)")))
    else:
        failure = sniff(data)
    if failure is None:
        try:
            pages = extract_pdf(data)
        except MemoryError:
            failure = (Failure.too_large, too_large_reason(limits))
        except BaseException as exc:  # noqa: BLE001 - any parser failure is this file's status, never the run's
            failure = classify_error(exc, limits)
            if failure[0] is Failure.internal_error:
                trace = "".join(traceback.format_exception(exc))
        else:
            if not pages:
                failure = (Failure.no_text, reason(Failure.no_text, "the PDF has no pages"))
            elif not any(p.lines for p in pages):
                failure = (Failure.no_text, reason(Failure.no_text) if any(p.images for p in pages)
                           else reason(Failure.no_text, "no text on any page"))
    head = header(source, limits, failure, pages=None if pages is None else len(pages))
    head.traceback = trace
    head.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux
    head.reader_warnings = [Notice("reader", message)
                            for message in list(dict.fromkeys(reader_warnings))[:MAX_READER_WARNINGS]]
    return head, pages or []


def header(source: Source, limits: Limits, failure: tuple[Failure, str] | None, pages: int | None = None
           ) -> ExtractHeader:
    """The header of an extract record; the limits it was read under decide when a limit failure is retried."""
    status, error = (failure[0].status, failure[1]) if failure else ("ok", None)
    return ExtractHeader(pipeline_version=PIPELINE_VERSION, fingerprint=fingerprint("extract"),
                         source_sha256=source.sha256, status=status, error=error, pages=pages, limits=asdict(limits),
                         reader_warnings=[], traceback=None)


def write_extract(target: Path, head: ExtractHeader, pages: list[Page] = ()) -> None:
    """An extract record as JSON Lines: the header first, so that a cache check reads one line only."""
    records = [to_dict(head)] + [to_dict(p) for p in pages]
    write_atomic(target, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8"))


def die_with_run(run: int) -> None:
    """End this worker as soon as the run that asked for it dies, so that no reader outlives a killed run.

    A run killed with SIGKILL cannot stop its workers, and the kernel's parent-death signal would watch the fork
    server, not the run: a thread of the worker waits on a pidfd of the run instead (Linux 5.3 and later)."""
    try:
        pidfd = os.pidfd_open(run)
    except ProcessLookupError:  # the run died before the worker started
        os._exit(1)

    def watch() -> None:
        select.select([pidfd], [], [])
        os._exit(1)

    threading.Thread(target=watch, name="die-with-run", daemon=True).start()


def address_space() -> int:
    """Bytes of address space this process holds now (Linux), 0 where the system does not tell."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _worker(source: Source, target: Path, limits: Limits, run: int) -> None:
    """Child process: cap memory, extract, write the extract record atomically.

    The cap is counted on top of the address space the worker starts with (the fork server's, with the
    reader's modules loaded). Ctrl-C is the run's to handle: caught here it would be cached as this file's
    failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_run(run)
    cap = address_space() + limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        write_extract(target, *extract_record(source, limits))
    except MemoryError:  # even while reporting a failure: the parent writes the record
        os._exit(EXIT_OUT_OF_MEMORY)


def read_in_workers(todo: list[tuple[Source, Path]], jobs: int, limits: Limits, progress=None) -> None:
    """Extract each source into its target path, `jobs` workers at a time. `progress(source, done, total)` hears
    of each file read.

    Workers come from a fork server: a small single-threaded process that loads the reader's modules once and
    forks a worker per file. Forking the run itself, which may hold threads (pandas, pyarrow, a test runner),
    can deadlock a child, and Python 3.12 and later warn of it."""
    queue = list(todo)
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pipeline.reading.worker", "pipeline.extract"])
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
        write_extract(target, header(source, limits, (Failure.timeout, reason(
            Failure.timeout, f"reading took longer than {limits.seconds:g} s"))))
        return
    proc.join()
    if proc.exitcode == 0 and target.exists():
        return
    write_extract(target, header(source, limits, died(proc.exitcode, limits)))


def died(exitcode: int, limits: Limits) -> tuple[Failure, str]:
    """The failure of a worker that ended without writing its record, from how it ended."""
    if exitcode == EXIT_OUT_OF_MEMORY:
        return Failure.too_large, too_large_reason(limits)
    if exitcode == -signal.SIGKILL:  # the kernel's last resort when memory runs out
        return Failure.too_large, too_large_reason(limits, "probably reached (the reader was killed)")
    if exitcode < 0:
        return Failure.reader_crashed, reason(Failure.reader_crashed, (
            f"the reader died of {signal.Signals(-exitcode).name} under a memory cap of {limits.memory_mb} MiB"))
    return Failure.internal_error, internal_reason(f"the reader stopped with exit code {exitcode} and no result")
