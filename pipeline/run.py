"""A run, start to finish: find the inputs, hold OUT, extract, segment, normalize, write, log.

Every file in RAW gets one record, ok or a failure kind with a one-line reason. Interim records are
cached under OUT/interim keyed by the file's sha256 and stamped with the fingerprint of the code that
made them (pipeline.fingerprint): a re-run opens only new PDFs, identical bytes under two names are read
once, a file's table rows and tags are made once (only the steps across files are done whole), and a record
made by other code is made again. A manifest of what the tables are made from lets
a run with nothing new write nothing. Each stage reads what the one before it wrote, in this order:
extract (pipeline.worker, pipeline.extract) → segment (pipeline.segment) → normalize (pipeline.normalize,
pipeline.tag) → write (pipeline.tables, pipeline.datapackage, pipeline.report, pipeline.workbook).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import os
import stat
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.failures import OK, Failure, is_retried
from pipeline.faults import stop_here
from pipeline.fingerprint import fingerprint
from pipeline.io import NotRegularFile, remove_temporaries, sha256_file, write_atomic
from pipeline.records import ExtractHeader, FileRows, Notice, Page, SegmentRecord, from_dict, to_dict
from pipeline.sources import SOURCES_NAME, Sources, read_sources
from pipeline.worker import Limits, Source, internal_reason, one_line, read_in_workers, reason

log = logging.getLogger("pipeline")

STAGES = ("extract", "segment", "normalize", "all")
INTERIM_STAGES = ("extract", "segment", "normalize")  # the folders of OUT/interim, one record per file in each
# The files made from the tables for people to look at, written after them: one that fails costs only itself
# (normalize_and_write), and the next run tries it again.
VIEWS = ("report.html", "tables.xlsx")
LOCK_NAME = ".lock"
RUN_LOG = "run.json"


class UsageError(Exception):
    """A folder the run cannot use: reported in one line."""


@dataclass(frozen=True)
class Options:
    """What a run is asked to do: the stages up to `stage`, from RAW into OUT."""

    raw: Path
    out: Path
    stage: str = "all"
    jobs: int = 1
    limits: Limits = field(default_factory=Limits)
    force: bool = False  # read every file again and rewrite every output, whatever the cache holds


@dataclass
class Failed:
    """A file that did not come out ok: its name, status, one-line reason and, for our own bugs, a traceback."""

    name: str
    status: str
    reason: str
    traceback: str | None = None


@dataclass(frozen=True)
class Refused:
    """An entry of RAW that is not a file to read (a folder, a FIFO, a broken link, an unreadable file)."""

    name: str
    failure: Failure
    reason: str


@dataclass
class Outcome:
    """What a run did: the files it found, the entries it refused, the files it read now, and the failures."""

    sources: list[Source]
    refused: list[Refused]
    read: list[Source]
    failed: list[Failed]
    adds_nothing: dict[str, str]  # file → why it adds no row (same bytes as another, plans all read before)
    view_errors: dict[str, str] = field(default_factory=dict)  # view (report.html…) → why it was not written


def run(options: Options, progress=None) -> Outcome:
    """Run the stages up to options.stage; `progress(source, done, total)` hears of each PDF read."""
    started, clock = datetime.now(timezone.utc), time.monotonic()
    sources, refused = find_sources(options.raw)
    prepare_out(options.raw, options.out)
    with exclusive(options.out):
        remove_leftovers(options.out)
        read = run_extract(sources, options.out, options.jobs, options.limits, progress, options.force)
        log.info("extract: %d file(s), %d read, %d cached", len(sources), len(read), len(sources) - len(read))
        stop_here("after_extract")
        stage = "extract"
        if options.stage != "extract":
            run_segment(sources, options.out)
            stage = "segment"
        manifest = {"adds_nothing": {}, "view_errors": {}}
        if options.stage in ("normalize", "all"):
            manifest = normalize_unless_current(sources, refused, options.raw, options.out, clock, options.force)
        adds_nothing = manifest["adds_nothing"] | same_bytes(sources)
        failed = [Failed(r.name, r.failure.status, r.reason) for r in refused] + failures(sources, options.out, stage)
        outcome = Outcome(sources, refused, read, sorted(failed, key=lambda f: f.name),
                          dict(sorted(adds_nothing.items())), manifest["view_errors"])
        write_run_log(options, started, outcome)
    return outcome


# --------------------------------------------------------------------------- inputs


def find_sources(raw: Path) -> tuple[list[Source], list[Refused]]:
    """Every entry of RAW that is not hidden (nor sources.csv, pipeline.sources), sorted by name: the files to read, and the entries refused with
    their reason. Each gets a documents row.

    An entry is examined by its metadata before anything opens it, and a file is opened without blocking, so a
    FIFO or a device never stalls the run. A symbolic link is followed only when its target lies inside RAW:
    nothing outside RAW is read."""
    if not raw.exists():
        raise UsageError(f"raw folder not found: {raw}")
    if not raw.is_dir():
        raise UsageError(f"--raw must be a folder of PDFs, not a file: {raw} (put it in a folder)")
    root = raw.resolve()
    sources, refused = [], []
    for path in raw.iterdir():
        if path.name.startswith(".") or path.name == SOURCES_NAME:  # sources.csv describes the files, is none
            continue
        name = display_name(path.name)
        problem = entry_problem(path, root)
        if problem is None:
            try:
                sources.append(Source(name, path, sha256_file(path)))
                continue
            except NotRegularFile:  # replaced by something else since it was examined
                problem = Failure.not_a_file, reason(Failure.not_a_file, "no longer a regular file")
            except OSError as exc:
                problem = Failure.unreadable, reason(Failure.unreadable, f"cannot be read ({exc.strerror or exc})")
        refused.append(Refused(name, *problem))
    return sorted(sources, key=lambda s: s.name), sorted(refused, key=lambda r: r.name)


def same_bytes(sources: list[Source]) -> dict[str, str]:
    """Files whose bytes are those of a file before them by name, which alone is read: file → which one."""
    first: dict[str, str] = {}
    for s in sources:
        first.setdefault(s.sha256, s.name)
    return {s.name: f"same bytes as {first[s.sha256]}" for s in sources if first[s.sha256] != s.name}


def display_name(name: str) -> str:
    """A file name as the tables show it: as it is when it is UTF-8, its other bytes as \\xNN escapes, so that a
    name in Latin-1 or Shift_JIS is kept whole and never crashes a writer."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


ENTRY_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
               (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def entry_problem(path: Path, root: Path) -> tuple[Failure, str] | None:
    """Why an entry of RAW is not a file to read, from its metadata alone; None for a regular file."""
    try:
        mode = path.stat().st_mode  # through a link, to its target
    except OSError as exc:
        if not path.is_symlink():
            return Failure.unreadable, reason(Failure.unreadable, f"cannot be examined ({exc.strerror or exc})")
        what = "a symbolic link that loops" if exc.errno == errno.ELOOP else "a symbolic link to nothing"
        return Failure.not_a_file, reason(Failure.not_a_file, what)
    if path.is_symlink() and not path.resolve().is_relative_to(root):
        return Failure.not_a_file, reason(Failure.not_a_file, "a link to a file outside RAW, which is never read")
    kind = next((what for test, what in ENTRY_KINDS if test(mode)), None)
    return None if kind is None and stat.S_ISREG(mode) else (
        Failure.not_a_file, reason(Failure.not_a_file, kind or "not a regular file"))


# --------------------------------------------------------------------------- OUT: lock, leftovers, cache


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
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(f"another run is writing {out}; wait for it to finish") from None
    try:
        yield
    finally:
        os.close(fd)


def remove_leftovers(out: Path) -> None:
    """Delete the temporary files of a run that was killed before it could rename them into place."""
    for folder in (out, *(out / "interim" / stage for stage in INTERIM_STAGES)):
        for path in remove_temporaries(folder):
            log.debug("removed %s, left by an interrupted run", path)


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


def is_reusable(head: dict | None, limits: Limits) -> bool:
    """Whether a cached extract header stands: a file that hit a limit is read again under wider limits, one
    that changed while it was read is read again whatever the limits."""
    return head is not None and not is_retried(head["status"], limits.allow_more_than(head["limits"]))


def prune_interim(sources: list[Source], out: Path) -> None:
    """Drop interim records of files no longer in RAW, so the cache does not grow without bound."""
    keep = {s.sha256 for s in sources}
    for stage in INTERIM_STAGES:
        folder = out / "interim" / stage
        if folder.is_dir():
            for path in folder.iterdir():
                if path.name.split(".")[0] not in keep:
                    path.unlink()


def failures(sources: list[Source], out: Path, stage: str) -> list[Failed]:
    """Every source that failed, as far as `stage` can tell, and every ok source some of whose plans were
    rejected: a plan not kept is never silent."""
    from pipeline.segment import summarize_rejections

    rows = []
    for s in sources:
        record = read_cached(out, stage, s.sha256) or {}
        if record.get("status", OK) != OK:
            rows.append(Failed(s.name, record["status"], record["error"], record.get("traceback")))
        elif record.get("rejected"):
            rows.append(Failed(s.name, OK, summarize_rejections([from_dict(Notice, n) for n in record["rejected"]])))
    return rows


# --------------------------------------------------------------------------- extract


def run_extract(sources: list[Source], out: Path, jobs: int, limits: Limits, progress=None,
                force: bool = False) -> list[Source]:
    """Extract every content not cached yet (every content, with `force`); returns the sources read now, one
    per distinct sha256 (the first by name)."""
    todo: dict[str, Source] = {}
    for s in sources:
        if s.sha256 not in todo and (force or not is_reusable(read_cached(out, "extract", s.sha256), limits)):
            todo[s.sha256] = s
    for sha in todo:
        for stage in ("extract", "segment"):  # a stale record must not pass for the new one
            interim_path(out, stage, sha).unlink(missing_ok=True)
        interim_path(out, "extract", sha).parent.mkdir(parents=True, exist_ok=True)
    if todo:
        read_in_workers([(s, interim_path(out, "extract", s.sha256)) for s in todo.values()], jobs, limits, progress)
    return list(todo.values())


def load_extract(out: Path, sha256: str) -> tuple[ExtractHeader, list[Page]]:
    """Header and pages of a cached extract record."""
    with interim_path(out, "extract", sha256).open(encoding="utf-8") as f:
        head, *pages = (json.loads(line) for line in f)
    return from_dict(ExtractHeader, head), [from_dict(Page, p) for p in pages]


# --------------------------------------------------------------------------- segment


def run_segment(sources: list[Source], out: Path) -> None:
    """Segment every extracted source whose segment record is missing or stale."""
    for sha in dict.fromkeys(s.sha256 for s in sources):
        target = interim_path(out, "segment", sha)
        if read_cached(out, "segment", sha) is None:
            # One line, like every interim record: read_cached reads the first line only.
            write_atomic(target, json.dumps(to_dict(segment_record(*load_extract(out, sha))),
                                            ensure_ascii=False).encode("utf-8"))


def segment_record(head: ExtractHeader, pages: list[Page]) -> SegmentRecord:
    """The segment record of one extracted file: its plans and the plans it rejected, or why none were kept."""
    from pipeline import segment

    record = SegmentRecord(
        pipeline_version=PIPELINE_VERSION, fingerprint=fingerprint("segment"), source_sha256=head.source_sha256,
        status=head.status, error=head.error, pages=head.pages, plans=[], rejected=[], warnings=[],
        vertical_pages=[str(p.page) for p in pages if p.is_vertical],
        pages_with_unmapped_glyphs=[str(p.page) for p in pages if p.unmapped_chars], traceback=head.traceback,
    )
    if head.status == OK:
        try:
            found = segment.segment_document(pages)
        except Exception as exc:  # noqa: BLE001 - one layout nobody foresaw costs its file, never the run
            log.debug("segmenting %s failed", head.source_sha256, exc_info=True)
            record.status = Failure.internal_error.status
            record.error = internal_reason(f"segmenting failed: {type(exc).__name__}: {exc}")
            record.traceback = "".join(traceback.format_exception(exc))
        else:
            record.plans, record.rejected, record.warnings = found.plans, found.rejected, found.warnings
            record.lines_by_default = len(found.by_default)
            record.title = segment.document_title(pages)
            if record.rejected and not record.plans:
                record.status, record.error = Failure.unreadable_text.status, segment.summarize_rejections(record.rejected)
            elif not record.plans:
                record.status, record.error = Failure.no_plans.status, no_plans_reason(record)
    record.warnings = head.reader_warnings + record.warnings
    return record


def no_plans_reason(record: SegmentRecord) -> str:
    """Why no plan was found, with what the pages themselves suggest."""
    detail = "no plan header 「…」（…）【計画期間:…】 was found"
    if record.pages_with_unmapped_glyphs:
        detail += (f" (page(s) {', '.join(record.pages_with_unmapped_glyphs)} draw glyphs without a Unicode map,"
                   " so their text is unreadable: get a better copy or OCR)")
    elif record.vertical_pages:
        detail += f" (page(s) {', '.join(record.vertical_pages)} are vertical writing, tategaki)"
    return reason(Failure.no_plans, detail)


def refused_record(entry: Refused) -> SegmentRecord:
    """The segment record of an entry that was never read: its status and reason, nothing else."""
    return SegmentRecord(pipeline_version=PIPELINE_VERSION, fingerprint=fingerprint("segment"), source_sha256=None,
                         status=entry.failure.status, error=entry.reason, pages=None, plans=[], rejected=[],
                         warnings=[], vertical_pages=[], pages_with_unmapped_glyphs=[], traceback=None)


def load_segment(out: Path, sha256: str) -> SegmentRecord:
    """A file's cached segment record."""
    with interim_path(out, "segment", sha256).open(encoding="utf-8") as f:
        return from_dict(SegmentRecord, json.load(f))


# --------------------------------------------------------------------------- normalize and write


def normalize_unless_current(sources: list[Source], refused: list[Refused], raw: Path, out: Path, started: float,
                             force: bool = False) -> dict:
    """Build and write the tables, unless OUT already holds those of these very inputs (and not forced).
    Returns the manifest of OUT, which also tells of files whose plans were all read from other files."""
    prune_interim(sources, out)
    inputs = manifest_inputs(sources, refused, raw, out)
    manifest = current_manifest(out, inputs) if not force else None
    if manifest is not None:
        log.info("normalize: nothing changed since the last run, outputs in %s kept", out)
        return manifest
    manifest = normalize_and_write(sources, refused, raw, out, inputs, force)
    rows = manifest["rows"]
    log.info("normalize: %d plans, %d pillars, %d projects, %d tags in %.1f s -> %s",
             rows["plans"], rows["pillars"], rows["projects"], rows["tags"], time.monotonic() - started, out)
    return manifest


def manifest_inputs(sources: list[Source], refused: list[Refused], raw: Path, out: Path) -> dict:
    """What the tables are made from: the input files, what was read of them (a file read again under wider
    limits may come out differently), RAW's sources.csv and the fingerprint of the normalize stage (its code, its
    data files such as the vocabulary, its libraries)."""
    listing = raw / SOURCES_NAME
    return {
        "pipeline_version": PIPELINE_VERSION,
        "normalize_fingerprint": fingerprint("normalize"),
        "inputs": [{"source_file": s.name, "source_sha256": s.sha256, "bytes": s.path.stat().st_size} for s in sources],
        "refused": [{"source_file": r.name, "status": r.failure.status, "error": r.reason} for r in refused],
        "segment_records": {s.sha256: sha256_file(interim_path(out, "segment", s.sha256)) for s in sources},
        "sources_csv": sha256_file(listing) if listing.is_file() else None,
    }


def current_manifest(out: Path, inputs: dict) -> dict | None:
    """OUT's manifest when OUT already holds, whole, the outputs of these very inputs (then a re-run has nothing
    to write); else None."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        current = all(manifest.get(k) == v for k, v in inputs.items()) and all(
            sha256_file(out / name) == digest for name, digest in manifest["outputs"].items())
        return manifest if current and all(view in manifest["outputs"] for view in VIEWS) else None
    except (OSError, ValueError, KeyError):
        return None


def rows_by_file(sources: list[Source], out: Path, segment_records: dict[str, str],
                 force: bool = False) -> dict[str, FileRows]:
    """What each distinct file adds to the tables (normalize.file_rows), by sha256: read from OUT/interim/normalize
    when the current normalize code made it from the file's current segment record (`segment_records`: sha256 of
    each segment record file) and not forced, else made now, tagged and cached. The tagger, and with it SudachiPy
    and its dictionary, is loaded once, and only when some file with plans has no rows cached."""
    from pipeline.normalize import file_rows
    from pipeline.tag import Tagger

    tagger = cache(Tagger)
    rows: dict[str, FileRows] = {}
    made = 0
    for sha in dict.fromkeys(s.sha256 for s in sources):
        rows[sha] = None if force else read_file_rows(out, sha, segment_records[sha])
        if rows[sha] is None:
            seg = load_segment(out, sha)
            rows[sha] = file_rows(seg, tagger() if seg.plans else None)
            write_file_rows(out, sha, segment_records[sha], rows[sha])
            made += 1
    log.info("normalize: rows of %d file(s) made, %d cached", made, len(rows) - made)
    return rows


def read_file_rows(out: Path, sha256: str, segment_sha256: str) -> FileRows | None:
    """A file's cached rows when the current normalize code made them from this very segment record and they are
    whole; else None, whatever is wrong (missing, made by other code or from another record, unparsable, altered),
    and they are made again: never trusted."""
    try:
        with interim_path(out, "normalize", sha256).open("rb") as f:
            head, body = json.loads(f.readline()), f.read()
        if (head["fingerprint"], head["segment_sha256"], head["rows_sha256"]) != (
                fingerprint("normalize"), segment_sha256, hashlib.sha256(body).hexdigest()):
            return None
        return from_dict(FileRows, json.loads(body))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_file_rows(out: Path, sha256: str, segment_sha256: str, rows: FileRows) -> None:
    """Cache a file's rows: a header line naming the code and the segment record they were made from and the
    sha256 of the rows, then the rows, one line of JSON."""
    body = json.dumps(to_dict(rows), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = {"pipeline_version": PIPELINE_VERSION, "fingerprint": fingerprint("normalize"), "source_sha256": sha256,
            "segment_sha256": segment_sha256, "rows_sha256": hashlib.sha256(body).hexdigest()}
    write_atomic(interim_path(out, "normalize", sha256), json.dumps(head).encode("utf-8") + b"\n" + body)


def normalize_and_write(sources: list[Source], refused: list[Refused], raw: Path, out: Path, inputs: dict,
                        force: bool = False) -> dict:
    """Build, tag and write the tables, then their views (write_views), then the manifest, which it returns:
    written last, it names the sha256 of every output, so a reader can tell a complete set from one a killed run
    left half-replaced."""
    from pipeline.datapackage import write_datapackage
    from pipeline.normalize import assemble, file_rows, redundant_files
    from pipeline.tables import write_tables

    rows = rows_by_file(sources, out, inputs["segment_records"], force)
    files = [(s.name, rows[s.sha256]) for s in sources] + [(r.name, file_rows(refused_record(r))) for r in refused]
    tables = assemble(files, read_listing(raw, [name for name, _ in files]))
    outputs = write_tables(tables, out)
    path = write_datapackage(out, tables)
    outputs[path.name] = sha256_file(path)
    view_errors = write_views(tables, out, outputs)
    manifest = {
        **inputs,
        "outputs": dict(sorted(outputs.items())),
        "rows": {name: len(df) for name, df in tables.items()},
        "adds_nothing": redundant_files(files),
        "view_errors": view_errors,
    }
    stop_here("before_manifest")
    write_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return manifest


def read_listing(raw: Path, names: list[str]) -> Sources:
    """RAW's sources.csv, what in it concerns no file or no file of RAW said on the terminal (what concerns one
    file goes to its documents row)."""
    listing = read_sources(raw)
    for problem in listing.problems:
        log.warning("%s", problem)
    for name in sorted(set(listing.rows) - set(names)):
        log.warning("%s line %d: %s is not in %s", SOURCES_NAME, listing.rows[name].line, name, raw)
    return listing


def write_views(tables: dict, out: Path, outputs: dict[str, str]) -> dict[str, str]:
    """Write each of the VIEWS of the tables, adding its sha256 to `outputs`; returns view → why it failed. A view
    that fails costs only itself, never the tables: it is logged in one line, a stale file of its name is removed
    (it would show other tables), and the manifest leaves it out and keeps the reason, so that the run exits 2 and
    the next run tries it again."""
    from pipeline.report import write_report
    from pipeline.workbook import write_workbook

    errors = {}
    for name, write in zip(VIEWS, (write_report, write_workbook), strict=True):
        try:
            path = write(tables, out)
        except Exception as exc:  # noqa: BLE001 - a view of the tables is never a reason to lose them
            errors[name] = one_line(f"{type(exc).__name__}: {exc}")
            log.error("%s not written: %s", name, errors[name])
            log.debug("%s failed", name, exc_info=True)
            (out / name).unlink(missing_ok=True)
        else:
            outputs[path.name] = sha256_file(path)
    return errors


def write_run_log(options: Options, started: datetime, outcome: Outcome) -> None:
    """Facts of this run (when, how long, which files were read): kept out of the tables and the manifest,
    which stay byte-identical for the same inputs."""
    record = {
        "pipeline_version": PIPELINE_VERSION,
        "stage": options.stage,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(timezone.utc) - started).total_seconds(), 2),
        "limits": {"seconds": options.limits.seconds, "memory_mb": options.limits.memory_mb},
        "files": len(outcome.sources),
        "read": [s.name for s in outcome.read],
        "failed": {f.name: f.status for f in outcome.failed},
        # Readers run in processes of the fork server, whose memory a parent's rusage does not count: their
        # own largest resident memory, from the records they wrote (make bench reads it).
        "reader_peak_rss_mb": max((head.get("peak_rss_mb") or 0 for head in
                                   (read_cached(options.out, "extract", s.sha256) or {} for s in outcome.read)),
                                  default=0),
    }
    write_atomic(options.out / RUN_LOG, json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
