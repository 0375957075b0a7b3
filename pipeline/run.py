"""A run, start to finish: find the inputs, hold OUT, extract, segment, normalize, write, log.

Every file in RAW gets one record, ok or a failure kind with a one-line reason. Interim records are
cached under OUT/interim keyed by the file's sha256 and stamped with the fingerprint of the code that
made them (pipeline.fingerprint): a re-run opens only new PDFs, identical bytes under two names are read
once, and a record made by other code is made again. A manifest of what the tables are made from lets
a run with nothing new write nothing. Each stage reads what the one before it wrote, in this order:
extract (pipeline.worker, pipeline.extract) → segment (pipeline.segment) → normalize (pipeline.normalize,
pipeline.tag) → write (pipeline.tables, pipeline.datapackage, pipeline.report).
"""

from __future__ import annotations

import fcntl
import json
import logging
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.failures import OK, Failure, is_retried
from pipeline.faults import stop_here
from pipeline.fingerprint import fingerprint
from pipeline.io import remove_temporaries, sha256_file, write_atomic
from pipeline.records import ExtractHeader, Notice, Page, SegmentRecord, from_dict, to_dict
from pipeline.worker import Limits, Source, internal_reason, one_line, read_in_workers, reason

log = logging.getLogger("pipeline")

STAGES = ("extract", "segment", "normalize", "all")
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


@dataclass
class Outcome:
    """What a run did: the sources it found, those it read now, and the files that failed."""

    sources: list[Source]
    read: list[Source]
    failed: list[Failed]


def run(options: Options, progress=None) -> Outcome:
    """Run the stages up to options.stage; `progress(source, done, total)` hears of each PDF read."""
    started, clock = datetime.now(timezone.utc), time.monotonic()
    sources = find_sources(options.raw)
    if options.out.resolve() == options.raw.resolve():
        raise UsageError(f"--out must not be the raw folder: {options.out}")
    options.out.mkdir(parents=True, exist_ok=True)
    with exclusive(options.out):
        remove_leftovers(options.out)
        read = run_extract(sources, options.out, options.jobs, options.limits, progress, options.force)
        log.info("extract: %d file(s), %d read, %d cached", len(sources), len(read), len(sources) - len(read))
        stop_here("after_extract")
        stage = "extract"
        if options.stage != "extract":
            run_segment(sources, options.out)
            stage = "segment"
        if options.stage in ("normalize", "all"):
            normalize_unless_current(sources, options.out, clock, options.force)
        outcome = Outcome(sources, read, failures(sources, options.out, stage))
        write_run_log(options, started, outcome)
    return outcome


# --------------------------------------------------------------------------- inputs


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


# --------------------------------------------------------------------------- OUT: lock, leftovers, cache


@contextmanager
def exclusive(out: Path):
    """Hold OUT for this run: a second run into the same folder stops instead of mixing files with this one."""
    with open(out / LOCK_NAME, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(f"another run is writing {out}; wait for it to finish") from None
        yield


def remove_leftovers(out: Path) -> None:
    """Delete the temporary files of a run that was killed before it could rename them into place."""
    for folder in (out, out / "interim" / "extract", out / "interim" / "segment"):
        for path in remove_temporaries(folder):
            log.debug("removed %s, left by an interrupted run", path)


def interim_path(out: Path, stage: str, sha256: str) -> Path:
    return out / "interim" / stage / f"{sha256}.{'jsonl' if stage == 'extract' else 'json'}"


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
    for stage in ("extract", "segment"):
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


def load_segments(sources: list[Source], out: Path) -> list[tuple[Source, SegmentRecord]]:
    """The segment record of every source, in source order."""
    result = []
    for s in sources:
        with interim_path(out, "segment", s.sha256).open(encoding="utf-8") as f:
            result.append((s, from_dict(SegmentRecord, json.load(f))))
    return result


# --------------------------------------------------------------------------- normalize and write


def normalize_unless_current(sources: list[Source], out: Path, started: float, force: bool = False) -> None:
    """Build and write the tables, unless OUT already holds those of these very inputs (and not forced)."""
    prune_interim(sources, out)
    inputs = manifest_inputs(sources, out)
    if not force and outputs_current(out, inputs):
        log.info("normalize: nothing changed since the last run, outputs in %s kept", out)
        return
    tables = normalize_and_write(sources, out, inputs)
    log.info("normalize: %d plans, %d pillars, %d projects, %d tags in %.1f s -> %s",
             len(tables["plans"]), len(tables["pillars"]), len(tables["projects"]), len(tables["tags"]),
             time.monotonic() - started, out)


def manifest_inputs(sources: list[Source], out: Path) -> dict:
    """What the tables are made from: the input files, what was read of them (a file read again under wider
    limits may come out differently) and the fingerprint of the normalize stage (its code, its data files
    such as the vocabulary, its libraries)."""
    return {
        "pipeline_version": PIPELINE_VERSION,
        "normalize_fingerprint": fingerprint("normalize"),
        "inputs": [{"source_file": s.name, "source_sha256": s.sha256, "bytes": s.path.stat().st_size} for s in sources],
        "segment_records": {s.sha256: sha256_file(interim_path(out, "segment", s.sha256)) for s in sources},
    }


def outputs_current(out: Path, inputs: dict) -> bool:
    """Whether OUT already holds, whole, the outputs of these very inputs: then a re-run has nothing to write."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        return all(manifest.get(k) == v for k, v in inputs.items()) and all(
            sha256_file(out / name) == digest for name, digest in manifest["outputs"].items())
    except (OSError, ValueError, KeyError):
        return False


def normalize_and_write(sources: list[Source], out: Path, inputs: dict) -> dict:
    """Build, tag and write the tables, then the manifest: written last, it names the sha256 of every output,
    so a reader can tell a complete set from one a killed run left half-replaced."""
    from pipeline.datapackage import write_datapackage
    from pipeline.tables import write_tables
    from pipeline.normalize import build_tables
    from pipeline.report import write_report
    from pipeline.tag import Tagger, tag_tables

    tables = build_tables([(s.name, seg) for s, seg in load_segments(sources, out)])
    plans, pillars, projects, tags = tag_tables(tables["plans"], tables["pillars"], tables["projects"], Tagger())
    tables.update(plans=plans, pillars=pillars, projects=projects, tags=tags)
    outputs = write_tables(tables, out)
    for path in (write_datapackage(out, tables), write_report(tables, out)):
        outputs[path.name] = sha256_file(path)
    manifest = {
        **inputs,
        "outputs": dict(sorted(outputs.items())),
        "rows": {name: len(df) for name, df in tables.items()},
    }
    stop_here("before_manifest")
    write_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return tables


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
    }
    write_atomic(options.out / RUN_LOG, json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
