"""One PDF, read in a forked worker under a wall-clock limit and an address-space cap.

A hostile or broken file costs its own row, never the run: whatever the reader raises, and however
the worker dies (killed at the deadline, killed by the kernel at the memory cap), the file gets an
extract record whose header names the failure kind and a one-line reason.

Only the process handling is here. The record itself is made by the stage's face, `pipeline.extract`
(`extract_record`, `header`, `write_extract`), and the failure kinds come from `pipeline.reading.errors`.
Imports go one way: this module imports the face, inside the functions that need it, so that the run, which
imports this module, loads the reader only to write the record of a worker that died (the fork server preloads
both for its workers); the face never imports this module.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import select
import signal
import threading
import time
from multiprocessing.connection import wait
from pathlib import Path

from pipeline.core.failures import Failure
from pipeline.core.records import DEFAULT_READER, Limits, Source
from pipeline.reading.errors import EXIT_OUT_OF_MEMORY, deadline_failure, died


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


def _worker(source: Source, target: Path, limits: Limits, run: int, reader: str, after_crash: str | None) -> None:
    """Child process: cap memory, extract, write the extract record atomically.

    The cap is counted on top of the address space the worker starts with (the fork server's, with the
    reader's modules loaded). Ctrl-C is the run's to handle: caught here it would be cached as this file's
    failure."""
    from pipeline.extract import extract_record, write_extract

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_run(run)
    cap = address_space() + limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        write_extract(target, *extract_record(source, limits, reader, after_crash))
    except MemoryError:  # even while reporting a failure: the parent writes the record
        os._exit(EXIT_OUT_OF_MEMORY)


def read_in_workers(
    todo: list[tuple[Source, Path]], jobs: int, limits: Limits, progress=None, reader: str = DEFAULT_READER
) -> None:
    """Extract each source into its target path with the page reader `reader` (`records.READERS`), `jobs` workers at
    a time. `progress(source, done, total)` hears of each file read.

    Workers come from a fork server: a small single-threaded process that loads the reader's modules once and
    forks a worker per file. Forking the run itself, which may hold threads (pandas, pyarrow, a test runner),
    can deadlock a child, and Python 3.12 and later warn of it.

    A pdfium worker that crashes (pdfium aborts where an allocation fails under the memory cap, where pdfminer raises
    MemoryError) is started again on the same file with pdfplumber, whose failure, if any, is the file's."""
    queue: list[tuple[Source, Path, str | None]] = [(s, target, None) for s, target in todo]
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pipeline.run.workers", "pipeline.extract"])
    running: dict[int, tuple[multiprocessing.Process, float, Source, Path, str | None]] = {}
    while queue or running:
        while queue and len(running) < max(jobs, 1):
            s, target, after_crash = queue.pop(0)
            args = (s, target, limits, os.getpid(), reader, after_crash)
            proc = ctx.Process(target=_worker, args=args, daemon=True)
            proc.start()
            running[proc.sentinel] = (proc, time.monotonic() + limits.seconds, s, target, after_crash)
        next_deadline = min(deadline for _, deadline, *_ in running.values())
        done = wait(list(running), timeout=max(0.0, next_deadline - time.monotonic()))
        for sentinel, (proc, deadline, s, target, after_crash) in list(running.items()):
            if sentinel in done or time.monotonic() >= deadline:
                del running[sentinel]
                crash = finish_worker(proc, s, target, limits, sentinel not in done, reader, after_crash)
                if crash:
                    queue.insert(0, (s, target, crash))
                elif progress:
                    progress(s, len(todo) - len(queue) - len(running), len(todo))


def finish_worker(
    proc: multiprocessing.Process,
    source: Source,
    target: Path,
    limits: Limits,
    timed_out: bool,
    reader: str,
    after_crash: str | None = None,
) -> str | None:
    """Reap a worker; a worker past its deadline is killed, and one that died without a record gets one, unless it
    was pdfium's first reading and crashed: then the account of its crash, for pdfplumber's reading to report."""
    if timed_out and proc.is_alive():
        proc.kill()
        proc.join()
        from pipeline.extract import header, write_extract

        write_extract(target, header(source, limits, deadline_failure(limits), reader=reader))
        return None
    proc.join()
    if proc.exitcode == 0 and target.exists():
        return None
    failure = died(proc.exitcode, limits)
    if reader == "pdfium" and after_crash is None and failure[0] is Failure.reader_crashed:
        return f"pdfium died of {signal.Signals(-proc.exitcode).name}"
    from pipeline.extract import header, write_extract

    write_extract(target, header(source, limits, failure, reader=reader))
    return None
