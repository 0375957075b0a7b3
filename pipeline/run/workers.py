"""One PDF, read in a forked worker under a wall-clock limit and an address-space cap, and taken as far as the
run goes: segmented and made into its rows and tags there too, so that the run itself only merges.

A hostile or broken file costs its own row, never the run: whatever the reader raises, and however
the worker dies (killed at the deadline, killed by the kernel at the memory cap), the file gets an
extract record whose header names the failure kind and a one-line reason.

Only the process handling is here. The records themselves are made by the stages' faces, `pipeline.extract`
(`extract_record`, `header`, `write_extract`), `pipeline.segment` (`segment_record`) and `pipeline.normalize`
(`file_rows`, `rows_record`), and the failure kinds come from `pipeline.reading.errors`.
Imports go one way: this module imports the faces, inside the functions that need them, so that the run, which
imports this module, loads the reader only to write the record of a worker that died (the fork server preloads
them for its workers); the faces never import this module.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import select
import signal
import threading
import time
from functools import cache
from multiprocessing import forkserver
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.core.failures import MACHINE_ERRNOS, Failure, is_machine_error, machine_reason
from pipeline.core.fingerprint import adopt, fingerprint
from pipeline.core.io import write_atomic
from pipeline.core.records import DEFAULT_READER, OCR_SECONDS_PER_PAGE, Limits, Source
from pipeline.reading.errors import EXIT_OUT_OF_MEMORY, deadline_failure, died
from pipeline.run.cache import INTERIM_STAGES as STAGES
from pipeline.run.cache import interim_path, write_segment

if TYPE_CHECKING:
    from pipeline.tagging.tagger import Tagger


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


# What the fork server loads once for all the workers it forks: the stages' code (none of it loads pandas or
# pyarrow on import); for a run that tags, the tagger too (PRELOAD_TAGGER).
PRELOAD = ("pipeline.run.workers", "pipeline.extract", "pipeline.segment", "pipeline.normalize")
PRELOAD_TAGGER = "pipeline.run.tagger_preload"
TAGGING = ("normalize", "all")  # the stages a run goes to that need each file's rows, and with them its tags


@cache
def shared_tagger() -> Tagger:
    """This process's tagger: in a worker, the one the fork server built before forking it."""
    from pipeline.tagging.tagger import Tagger

    return Tagger()


def load_tagger() -> None:
    """Build this process's tagger unless it is built: in the fork server, so that every worker shares it
    (copy-on-write) instead of loading the vocabulary and the Sudachi dictionary per file; in a worker forked by a
    fork server started without it (an earlier run of this process did not tag), before the memory cap, which would
    otherwise count their 1.3 GB of address space against the file. A tagger that
    cannot be built (a broken vocabulary file) is left to the run, which makes those rows itself and says why."""
    with contextlib.suppress(Exception):
        shared_tagger()


def _worker(
    source: Source,
    out: Path,
    limits: Limits,
    run: int,
    fingerprints: dict[str, str],
    last: str,
    reader: str,
    after_crash: str | None,
    extra=None,
) -> None:
    """Child process: cap memory, read the file with the page reader `reader` and write its records atomically;
    the seconds its OCR'd pages add to its time limit (OCR_SECONDS_PER_PAGE) go into the shared value `extra`,
    which the run adds to the worker's deadline.

    The cap is counted on top of the address space the worker starts with (the fork server's, with the
    stages' modules and the tagger loaded). The fingerprints are the run's, computed once. Ctrl-C is the run's
    to handle: caught here it would be cached as this file's failure."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_run(run)
    adopt(fingerprints)
    if last in TAGGING:
        load_tagger()
    cap = address_space() + limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        read_file(source, out, limits, last, reader, after_crash, lambda pages: allow(extra, pages))
    except MemoryError:  # even while reporting a failure: the parent writes the record
        os._exit(EXIT_OUT_OF_MEMORY)
    except OSError as exc:  # a full disk is the machine's failure, not a bug: the parent records it, read again
        if not is_machine_error(exc):
            raise
        os._exit(EXIT_MACHINE + MACHINE_ERRNOS.index(exc.errno))


def allow(extra, pages: int) -> None:
    """Tell the run the seconds `pages` pages read by OCR add to this worker's deadline."""
    if extra is not None:
        extra.value = pages * OCR_SECONDS_PER_PAGE


def read_file(
    source: Source,
    out: Path,
    limits: Limits,
    last: str,
    reader: str = DEFAULT_READER,
    after_crash: str | None = None,
    allow_ocr=None,
) -> None:
    """Extract one file with the page reader `reader` (`after_crash`: the account of the pdfium worker that
    crashed on it, for pdfplumber's reading to report) and, as far as the run goes (`last`), segment it and make
    its rows and tags, caching each record under OUT/interim, and render the crops of its plans (outputs.crops):
    where the file was read, so that the run only merges. Rows that cannot be made here are left to the run, which
    makes them again from the segment record and reports what failed. `allow_ocr(n)` hears how many pages will be
    read by OCR, before they are."""
    from pipeline.extract import extract_record, write_extract
    from pipeline.normalize import file_rows, rows_record
    from pipeline.outputs.crops import crops_of, make_crops
    from pipeline.segment import segment_record

    head, pages = extract_record(source, limits, reader, after_crash, allow_ocr)
    write_extract(interim_path(out, "extract", source.sha256), head, pages)
    if last == "extract":
        return
    record = segment_record(head, pages)  # a failure to segment is the record's status: it costs this file
    segment_sha256 = write_segment(out, source.sha256, record)
    if last not in TAGGING:
        return
    try:
        rows = file_rows(record, shared_tagger() if record.plans else None)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - the run makes them again, and stops on what fails as it would alone
        return
    write_atomic(interim_path(out, "normalize", source.sha256), rows_record(source.sha256, segment_sha256, rows))
    make_crops([crop for plan in rows.plans for crop in crops_of(source.path, source.sha256, plan.row["boxes"])], out)


def read_in_workers(
    todo: list[Source],
    out: Path,
    jobs: int,
    limits: Limits,
    progress=None,
    last: str = "extract",
    reader: str = DEFAULT_READER,
    meanwhile=None,
) -> None:
    """Extract each source into OUT/interim with the page reader `reader` (`records.READERS`), `jobs` workers at a
    time, and take it on to stage `last` (read_file). `progress(source, done, total)` hears of each file read;
    `meanwhile()`, called once the first workers are started, does the run's own preparation (the imports of the
    merge) while they read, instead of after them.

    Workers come from a fork server: a small process that loads the stages' modules once (and the tagger, for a
    run that tags: PRELOAD_TAGGER) and forks a worker per file. Forking the run itself, which may hold threads
    (pandas, pyarrow, a test runner), can deadlock a child, and Python 3.12 and later warn of it; the fork server
    loads neither pandas nor pyarrow. It is started first, so that it loads the stages while the fingerprints are
    computed here, once, to be handed to each worker. The largest files are read first: the last to finish are then
    small ones, and no worker idles long at the end of the run while another reads a large file.

    A pdfium worker that crashes while reading (pdfium aborts where an allocation fails under the memory cap,
    where pdfminer raises MemoryError) is started again on the same file with pdfplumber, whose failure, if any,
    is the file's."""
    queue: list[tuple[Source, str | None]] = [(s, None) for s in sorted(todo, key=file_size, reverse=True)]
    ctx = multiprocessing.get_context("forkserver")
    # Taken when the fork server starts: the first run of a process that starts it decides.
    ctx.set_forkserver_preload([*PRELOAD, *([PRELOAD_TAGGER] if last in TAGGING else [])])
    forkserver.ensure_running()
    fingerprints = {stage: fingerprint(stage) for stage in STAGES[: 1 + (last != "extract") + (last in TAGGING)]}
    # sentinel -> the worker, its deadline before OCR, its file, how pdfium crashed on it, the seconds OCR adds
    running: dict[int, tuple[multiprocessing.Process, float, Source, str | None, Any]] = {}
    while queue or running:
        while queue and len(running) < max(jobs, 1):
            s, after_crash = queue.pop(0)
            extra = ctx.Value("d", 0.0, lock=False)
            args = (s, out, limits, os.getpid(), fingerprints, last, reader, after_crash, extra)
            proc = ctx.Process(target=_worker, args=args, daemon=True)
            proc.start()
            running[proc.sentinel] = (proc, time.monotonic() + limits.seconds, s, after_crash, extra)
        if meanwhile is not None:
            meanwhile()
            meanwhile = None
        next_deadline = min(deadline + extra.value for _, deadline, _, _, extra in running.values())
        done = wait(list(running), timeout=max(0.0, next_deadline - time.monotonic()))
        for sentinel, (proc, deadline, s, after_crash, extra) in list(running.items()):
            if sentinel in done or time.monotonic() >= deadline + extra.value:
                del running[sentinel]
                crash = finish_worker(proc, s, out, limits, sentinel not in done, reader, after_crash)
                if crash:
                    queue.insert(0, (s, crash))
                elif progress:
                    progress(s, len(todo) - len(queue) - len(running), len(todo))


def beside(function, *args):
    """Run `function(*args)` in a process of the fork server, which ends as soon as the run dies (die_with_run) and
    never takes Ctrl-C (the run's to handle); returns what waits for it and gives its result, or raises what it
    raised (a RuntimeError when it died without a result). For work of the run that needs no pandas, done while the
    run does the rest: the report and the workbook (outputs.views.start_views)."""
    ctx = multiprocessing.get_context("forkserver")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_beside, args=(os.getpid(), function, args, send), daemon=True)
    proc.start()
    send.close()

    def result():
        try:
            kind, value = receive.recv()
        except EOFError:
            proc.join()
            raise RuntimeError(f"its process ended without a result (exit code {proc.exitcode})") from None
        finally:
            receive.close()
        proc.join()
        if kind == "error":
            raise value
        return value

    return result


def _beside(run: int, function, args: tuple, send) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_run(run)
    try:
        result = ("ok", function(*args))
    except Exception as exc:  # noqa: BLE001 - the caller's to report, as if it had raised there
        result = ("error", exc)
    with contextlib.suppress(BrokenPipeError):  # the run stopped (a full disk, Ctrl-C) and no longer waits for it
        send.send(result)


def file_size(source: Source) -> int:
    """Bytes of a source's file; 0 for one that cannot be read, which its worker reports."""
    try:
        return source.path.stat().st_size
    except OSError:
        return 0


# A worker stopped by an error of the machine exits with this status plus the error's place in MACHINE_ERRNOS, above
# EXIT_OUT_OF_MEMORY and below 128 (a shell's mark of a signal): the parent records which error it was.
EXIT_MACHINE = 16


def machine_failure(exitcode: int, out: Path) -> tuple[Failure, str] | None:
    """The failure of a worker that exited on an error of the machine (a full disk while writing its records under
    OUT/interim), or None: the file is read again by the next run, and no bug is reported."""
    if not EXIT_MACHINE <= exitcode < EXIT_MACHINE + len(MACHINE_ERRNOS):
        return None
    code = MACHINE_ERRNOS[exitcode - EXIT_MACHINE]
    return Failure.write_failed, machine_reason(OSError(code, os.strerror(code), str(out / "interim")))


def finish_worker(
    proc: multiprocessing.Process,
    source: Source,
    out: Path,
    limits: Limits,
    timed_out: bool,
    reader: str = DEFAULT_READER,
    after_crash: str | None = None,
) -> str | None:
    """Reap a worker; a worker past its deadline is killed, and one that died without a record gets one. A worker
    that died, however far it got, leaves a failure: its segment record, if it wrote one, goes with the extract
    record it was made from. Unless it was pdfium's first reading and crashed before its extract record was
    written: then nothing is written, and the account of its crash is returned, for pdfplumber's reading to
    report."""
    target = interim_path(out, "extract", source.sha256)
    if timed_out and proc.is_alive():
        proc.kill()
        proc.join()
        failure = deadline_failure(limits)
    else:
        proc.join()
        if proc.exitcode == 0 and target.exists():
            return None
        failure = machine_failure(proc.exitcode, out) or died(proc.exitcode, limits)
        if reader == "pdfium" and after_crash is None and failure[0] is Failure.reader_crashed and not target.exists():
            return f"pdfium died of {signal.Signals(-proc.exitcode).name}"
    from pipeline.extract import header, write_extract

    interim_path(out, "segment", source.sha256).unlink(missing_ok=True)
    write_extract(target, header(source, limits, failure, reader=reader))
    return None
