"""A run, start to finish: find the inputs, hold OUT, extract, segment, normalize, write, log.

Every file in RAW gets one record, ok or a failure kind with a one-line reason. Interim records are
cached under OUT/interim keyed by the file's sha256 and stamped with the fingerprint of the code that
made them (pipeline.core.fingerprint): a re-run opens only new PDFs, identical bytes under two names are read
once, a file's table rows and tags are made once (only the steps across files are done whole), and a record
made by other code is made again. A manifest of what the tables are made from lets
a run with nothing new write nothing. Each stage reads what the one before it wrote, in this order:
extract (pipeline.extract, each file in a capped worker: pipeline.run.workers) → segment (pipeline.segment) →
normalize (pipeline.normalize) → write (pipeline.outputs). Listing RAW, holding OUT, the cache and the manifest
are the other modules of pipeline.run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import PIPELINE_VERSION
from pipeline.acquire.corrections import CORRECTIONS_NAME, Corrections, read_corrections
from pipeline.acquire.sources import SOURCES_NAME, RawBusy, Sources, hold_raw, read_sources, sources_sha256
from pipeline.core.failures import OK, UsageError
from pipeline.core.faults import stop_here
from pipeline.core.fingerprint import keep_facts, load_facts
from pipeline.core.io import json_by_key, sha256_file, write_atomic
from pipeline.core.records import DEFAULT_READER, FileRows, Limits, Notice, Source, from_dict, to_dict
from pipeline.outputs.views import VIEWS, start_views, write_views
from pipeline.run.cache import (
    FACTS_NAME,
    interim_path,
    is_reusable,
    load_extract,
    load_segment,
    prune_interim,
    read_cached,
    read_index,
    write_index,
    write_segment,
)
from pipeline.run.inputs import Refused, find_sources, same_bytes
from pipeline.run.manifest import MANIFEST_NAME, current_manifest, manifest_inputs, notices_record
from pipeline.run.outdir import (
    exclusive,
    prepare_out,
    prune_crops,
    remove_leftovers,
    remove_old_generations,
    start_generation,
    switch_to,
)
from pipeline.run.workers import beside, read_in_workers

if TYPE_CHECKING:
    from pipeline.normalize import Rows
    from pipeline.tagging.tagger import Tagger

log = logging.getLogger("pipeline")

STAGES = ("extract", "segment", "normalize", "all")
RUN_LOG = "run.json"


@dataclass(frozen=True)
class Options:
    """What a run is asked to do: the stages up to `stage`, from RAW into OUT."""

    raw: Path
    out: Path
    stage: str = "all"
    jobs: int = 1
    limits: Limits = field(default_factory=Limits)
    force: bool = False  # read every file again and rewrite every output, whatever the cache holds
    reader: str = DEFAULT_READER  # the page reader, one of records.READERS


@dataclass
class Failed:
    """A file that did not come out ok: its name, status, one-line reason and, for our own bugs, a traceback."""

    name: str
    status: str
    reason: str
    traceback: str | None = None


@dataclass
class Outcome:
    """What a run did: the files it found, the entries it refused, the files it read now, and the failures."""

    sources: list[Source]
    refused: list[Refused]
    read: list[Source]
    failed: list[Failed]
    adds_nothing: dict[str, str]  # file → why it adds no row (same bytes as another, plans all read before)
    view_errors: dict[str, str] = field(default_factory=dict)  # view (report.html…) → why it was not written
    needs_review: dict[str, str] = field(default_factory=dict)  # plan id → where it was read and why to check it


def run(options: Options, progress=None) -> Outcome:
    """Run the stages up to options.stage; `progress(source, done, total)` hears of each PDF read."""
    started, clock = datetime.now(UTC), time.monotonic()
    try:
        with hold_raw(options.raw):  # no fetch writes a PDF or a row while RAW is listed
            sources, refused = find_sources(options.raw)
            described, described_sha256 = read_sources(options.raw), sources_sha256(options.raw)
    except RawBusy as exc:
        raise UsageError(str(exc)) from None
    prepare_out(options.raw, options.out)
    with exclusive(options.out):
        remove_leftovers(options.out)
        load_facts(options.out / "interim" / FACTS_NAME)
        read = run_extract(
            sources, options.out, options.jobs, options.limits, progress, options.force, options.stage, options.reader
        )
        log.info("extract: %d file(s), %d read, %d cached", len(sources), len(read), len(sources) - len(read))
        stop_here("after_extract")
        stage = "extract"
        if options.stage != "extract":
            run_segment(sources, options.out)
            stage = "segment"
        manifest = {"adds_nothing": {}, "view_errors": {}, "needs_review": {}}
        if options.stage in ("normalize", "all"):
            manifest = normalize_unless_current(
                sources, refused, options.raw, (described, described_sha256), options.out, clock, options.force
            )
        adds_nothing = manifest["adds_nothing"] | same_bytes(sources)
        failed = [Failed(r.name, r.failure.status, r.reason) for r in refused] + failures(sources, options.out, stage)
        outcome = Outcome(
            sources,
            refused,
            read,
            sorted(failed, key=lambda f: f.name),
            dict(sorted(adds_nothing.items())),
            manifest["view_errors"],
            manifest.get("needs_review", {}),
        )
        write_run_log(options, started, outcome)
        keep_facts(options.out / "interim" / FACTS_NAME)
    return outcome


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


def run_extract(
    sources: list[Source],
    out: Path,
    jobs: int,
    limits: Limits,
    progress=None,
    force: bool = False,
    last: str = "extract",
    reader: str = DEFAULT_READER,
) -> list[Source]:
    """Extract every content not cached yet (every content, with `force`), each taken on to stage `last` in the
    worker that read it (read_in_workers); returns the sources read now, one per distinct sha256 (the first by
    name)."""
    todo: dict[str, Source] = {}
    for s in sources:
        if s.sha256 not in todo and (force or not is_reusable(read_cached(out, "extract", s.sha256), limits, reader)):
            todo[s.sha256] = s
    for sha in todo:
        for stage in ("extract", "segment"):  # a stale record must not pass for the new one
            interim_path(out, stage, sha).unlink(missing_ok=True)
        interim_path(out, "extract", sha).parent.mkdir(parents=True, exist_ok=True)
    if todo:
        merge = threading.Thread(target=import_quietly, args=(MERGE_MODULES,), daemon=True)
        meanwhile = merge.start if last in ("normalize", "all") else None
        read_in_workers(list(todo.values()), out, jobs, limits, progress, last, reader, meanwhile)
        if meanwhile is not None:
            merge.join()  # long done: the merge's imports never run beside another thread's
    return list(todo.values())


# What the merge imports (pandas, pyarrow, the writers and the views' engines): half a second of CPU, loaded while
# the workers read (read_in_workers' `meanwhile`) rather than after them, when the run has nothing else to do; in a
# thread, so that the run starts the next worker as soon as one ends (the thread waits for the interpreter lock,
# which the run holds only for that).
MERGE_MODULES = (
    "pandas",
    "pyarrow.parquet",
    "jinja2",
    "xlsxwriter",
    "pipeline.normalize",
    "pipeline.outputs.tables",
    "pipeline.outputs.changes",
    "pipeline.outputs.datapackage",
    "pipeline.outputs.report",
    "pipeline.outputs.workbook",
)


def import_quietly(names: tuple[str, ...]) -> None:
    """Import each module, leaving a failure to the code that imports it for use, which reports it."""
    for name in names:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


# --------------------------------------------------------------------------- segment


def run_segment(sources: list[Source], out: Path) -> None:
    """Segment every extracted source whose segment record is missing or stale: one whose extract record was
    cached (its workers segment the files read now)."""
    from pipeline.segment import segment_record

    for sha in dict.fromkeys(s.sha256 for s in sources):
        if read_cached(out, "segment", sha) is None:
            write_segment(out, sha, segment_record(*load_extract(out, sha)))


# --------------------------------------------------------------------------- normalize and write


def normalize_unless_current(
    sources: list[Source],
    refused: list[Refused],
    raw: Path,
    described: tuple[Sources, str | None],
    out: Path,
    started: float,
    force: bool = False,
) -> dict:
    """Build and write the tables, unless OUT already holds those of these very inputs (and not forced); then remove
    the crops and the sets of outputs OUT's set does not use. Returns the manifest of OUT, which also tells of files
    whose plans were all read from other files."""
    prune_interim(sources, out)
    inputs = manifest_inputs(sources, refused, raw, out, described[1])
    manifest = current_manifest(out, inputs) if not force else None
    if manifest is not None:
        log.info("normalize: nothing changed since the last run, outputs in %s kept", out)
        prune_crops(out, manifest["crops"])  # those a run stopped after its switch left
        return manifest
    manifest = normalize_and_write(sources, refused, raw, described[0], out, inputs, force)
    prune_crops(out, manifest["crops"])
    remove_old_generations(out)
    rows = manifest["rows"]
    log.info(
        "normalize: %d plans, %d pillars, %d projects, %d tags in %.1f s -> %s",
        rows["plans"],
        rows["pillars"],
        rows["projects"],
        rows["tags"],
        time.monotonic() - started,
        out,
    )
    return manifest


def rows_by_file(
    sources: list[Source],
    out: Path,
    segment_records: dict[str, str],
    force: bool = False,
    tagger: Callable[[], Tagger] | None = None,
) -> dict[str, Rows]:
    """What each distinct file adds to the tables (normalize.file_rows), by sha256, as its index and how to read its
    rows (normalize.Rows): the rows are read only when the merge keeps some plan of the file, never all at once. The
    index is taken from the index cache (cache.read_index, one file) when the current normalize code made it from the
    file's current segment record (`segment_records`: sha256 of each segment record file); else from the file's own
    rows record under OUT/interim/normalize when it stands; else the rows are made now, tagged and cached. The
    workers made the own records of the files read now (every file, with --force, which reads no index cache); made
    here are those of files whose extract record was cached but whose rows are stale (the segmenter, the normalizer
    or the vocabulary changed). The tagger, and with it SudachiPy and its dictionary, is loaded once, and only when
    some file with plans has no rows cached (`tagger`, which the run shares with the corrections: normalize.assemble).
    The index cache is written again when it does not hold exactly these files' current indexes."""
    from pipeline.normalize import decode_index, index_of
    from pipeline.tagging.tagger import Tagger

    tagger = tagger or cache(Tagger)
    shas = sorted({s.sha256 for s in sources})
    held, count = read_index(out, segment_records) if not force else ({}, 0)
    indexes, json_forms = {}, {}
    for sha in shas:
        try:
            indexes[sha], json_forms[sha] = decode_index(held[sha]), held[sha]
        except (KeyError, ValueError, TypeError, AttributeError):  # not held, or held in another shape
            indexes[sha] = index_of(load_rows(out, sha, segment_records[sha], tagger))
            json_forms[sha] = to_dict(indexes[sha])
    from_cache = sum(json_forms[sha] is held.get(sha) for sha in shas)
    log.info(
        "normalize: %d file(s) indexed from their own rows, %d from the index cache", len(shas) - from_cache, from_cache
    )
    if from_cache != len(shas) or count != len(shas):
        write_index(out, json_forms, segment_records)
    return {sha: (indexes[sha], partial(load_rows, out, sha, segment_records[sha], tagger)) for sha in shas}


def load_rows(out: Path, sha256: str, segment_sha256: str, tagger: Callable[[], Tagger]) -> FileRows:
    """A file's rows from its own cached record when it stands (normalize.read_rows_record), else made from its
    segment record now, tagged with `tagger()` when it has plans, and cached."""
    from pipeline.normalize import file_rows, read_rows_record, rows_record

    path = interim_path(out, "normalize", sha256)
    try:
        rows = read_rows_record(path.read_bytes(), segment_sha256)
    except OSError:
        rows = None
    if rows is None:
        seg = load_segment(out, sha256)
        rows = file_rows(seg, tagger() if seg.plans else None)
        write_atomic(path, rows_record(sha256, segment_sha256, rows))
    return rows


def normalize_and_write(
    sources: list[Source],
    refused: list[Refused],
    raw: Path,
    described: Sources,
    out: Path,
    inputs: dict,
    force: bool = False,
) -> dict:
    """Build, tag and write the tables and what changed in them since the previous run's (outputs.changes, said in
    one line), then their views (write_views), then the manifest, which it returns: it names the sha256 of every
    output and keeps the warnings normalize gave and the corrections it applied or refused as records
    (notices_record), for a view made later. All are written into a generation folder of their own, which then
    replaces OUT's set in one step (outdir.switch_to): OUT holds the whole old set or the whole new one, never a mix.
    A correction refused is said on the terminal too."""
    from pipeline.normalize import assemble, file_rows
    from pipeline.outputs.changes import diff_tables, read_previous, summarize
    from pipeline.outputs.datapackage import write_datapackage
    from pipeline.outputs.report import crop_names
    from pipeline.outputs.tables import write_tables
    from pipeline.segment import refused_record
    from pipeline.tagging.tagger import Tagger

    tagger = cache(Tagger)  # loaded at most once, for the rows not cached and the plans a correction changes
    rows = rows_by_file(sources, out, inputs["segment_records"], force, tagger)
    files = [(s.name, rows[s.sha256]) for s in sources] + [
        (r.name, file_rows(refused_record(r.failure, r.reason))) for r in refused
    ]
    assembled = assemble(files, read_listing(raw, described, [name for name, _ in files]), read_fixes(raw).rows, tagger)
    for outcome in assembled.corrections:
        if outcome.refused:
            c = outcome.correction
            log.warning("%s line %d (%s %s) refused: %s", CORRECTIONS_NAME, c.line, c.plan_id, c.field, outcome.refused)
    tables = assembled.tables
    tables["changes"] = diff_tables(read_previous(out), tables)  # read before write_tables replaces them
    log.info("changes: %s", summarize(tables["changes"], len(tables["plans"]))[1])
    generation = start_generation(out)
    started = start_views(
        tables, assembled.read_twice, assembled.corrections, generation, beside, {s.name: s.path for s in sources}
    )
    outputs = write_tables(tables, generation)
    path = write_datapackage(generation, tables)
    outputs[path.name] = sha256_file(path)
    view_errors = write_views(generation, outputs, started)
    manifest = {
        **inputs,
        "outputs": dict(sorted(outputs.items())),
        "rows": {name: len(df) for name, df in tables.items()},
        "crops": crop_names(tables["plans"]),
        "needs_review": needs_review(tables["plans"]),
        "adds_nothing": assembled.adds_nothing,
        "view_errors": view_errors,
        **notices_record(assembled.read_twice, assembled.notices, assembled.corrections),
    }
    stop_here("before_manifest")
    write_atomic(generation / MANIFEST_NAME, json_by_key(manifest))
    switch_to(out, generation, sorted({*outputs, *VIEWS, MANIFEST_NAME}))
    stop_here("after_switch")
    return manifest


def needs_review(plans) -> dict[str, str]:
    """Each plan that needs review (plans.needs_review), by id: its file, page and reasons, for the terminal."""
    columns = ("plan_id", "source_file", "page_start", "review_reasons", "needs_review")
    return {
        plan_id: f"{source_file} p{page}: {', '.join(reasons)}"
        for plan_id, source_file, page, reasons, flagged in zip(*(plans[c] for c in columns), strict=True)
        if flagged
    }


def read_listing(raw: Path, listing: Sources, names: list[str]) -> Sources:
    """RAW's sources.csv as read while RAW was listed, what in it concerns no file or no file of RAW said on the
    terminal (what concerns one file goes to its documents row)."""
    for problem in listing.problems:
        log.warning("%s", problem)
    for name in sorted(set(listing.rows) - set(names)):
        log.warning("%s line %d: %s is not in %s", SOURCES_NAME, listing.rows[name].line, name, raw)
    return listing


def read_fixes(raw: Path) -> Corrections:
    """RAW's corrections.csv, the rows that cannot be corrections said on the terminal."""
    fixes = read_corrections(raw)
    for problem in fixes.problems:
        log.warning("%s", problem)
    return fixes


def write_run_log(options: Options, started: datetime, outcome: Outcome) -> None:
    """Facts of this run (when, how long, which files were read): kept out of the tables and the manifest,
    which stay byte-identical for the same inputs."""
    record = {
        "pipeline_version": PIPELINE_VERSION,
        "stage": options.stage,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(UTC) - started).total_seconds(), 2),
        "limits": {"seconds": options.limits.seconds, "memory_mb": options.limits.memory_mb},
        "files": len(outcome.sources),
        "read": [s.name for s in outcome.read],
        "failed": {f.name: f.status for f in outcome.failed},
        # Readers run in processes of the fork server, whose memory a parent's rusage does not count: their
        # own largest resident memory, from the records they wrote (make bench reads it).
        "reader_peak_rss_mb": max(
            (
                head.get("peak_rss_mb") or 0
                for head in (read_cached(options.out, "extract", s.sha256) or {} for s in outcome.read)
            ),
            default=0,
        ),
    }
    write_atomic(options.out / RUN_LOG, json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
