"""Command line: `python -m pipeline extract|segment|normalize|all --raw DIR --out DIR`.

Exit status 0 when every file came out ok, 2 when any file failed (its reason is printed on
stderr, one line per file, and its row is in documents), 1 for a wrong argument or folder,
130 when interrupted (the previous outputs stay as they were).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.io import remove_temporaries, write_atomic
from pipeline.run import (Limits, failures, find_sources, interim_path, load_segments, prune_interim, run_extract,
                          run_segment)

log = logging.getLogger("pipeline")
STAGES = ("extract", "segment", "normalize", "all")
EXIT_FAILED_FILES = 2
EXIT_INTERRUPTED = 130
LOCK_NAME = ".lock"
RUN_LOG = "run.json"


class UsageError(Exception):
    """A folder the run cannot use: reported in one line, exit status 1."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a wrong argument is one line on stderr and exit status 1, like a missing folder."""

    def error(self, message: str) -> None:
        self.exit(1, f"error: {message} (see {self.prog} --help)\n")


STAGE_HELP = {
    "extract": "read each PDF's pages into positioned lines (OUT/interim/extract)",
    "segment": "extract, then cut the lines into plans, pillars and projects (OUT/interim/segment)",
    "normalize": "extract and segment, then build, tag and write the tables, datapackage and report",
    "all": "the whole pipeline (same as normalize)",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    options = argparse.ArgumentParser(add_help=False)
    add_options(options)
    parser = OneLineParser(
        prog="python -m pipeline",
        description="Turn approval-summary PDFs (地域産業活性化計画の概要) into documents, plans, pillars, projects "
        "and tags tables (Parquet + CSV), a datapackage and a report.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {PIPELINE_VERSION}")
    stages = parser.add_subparsers(dest="stage", required=True, metavar="STAGE", parser_class=OneLineParser)
    for stage in STAGES:
        stages.add_parser(stage, parents=[options], help=STAGE_HELP[stage], description=STAGE_HELP[stage])
    return parser.parse_args(argv)


def positive(kind):
    """An argparse type: a number of `kind` above zero (a zero limit would fail, and cache, every file)."""
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above zero: {text}")
        return value
    parse.__name__ = kind.__name__
    return parse


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options every stage takes."""
    parser.add_argument("--raw", type=Path, default=Path("raw"), help="folder of input PDFs (default: raw)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    parser.add_argument("-j", "--jobs", type=positive(int), default=os.cpu_count() or 1,
                        help="worker processes (default: cores)")
    parser.add_argument("--timeout", type=positive(float), default=Limits.seconds,
                        help=f"seconds allowed to read one PDF (default: {Limits.seconds:g})")
    parser.add_argument("--memory-mb", type=positive(int), default=Limits.memory_mb,
                        help=f"memory one PDF reader may add to what it starts with, MiB (default: {Limits.memory_mb})")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every file")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")


def manifest_inputs(sources, out: Path) -> dict:
    """What the tables are made from: the input files and what was read of them (a file read again under wider
    limits may come out differently), the pipeline version and its data tables (a maintainer's edit of the
    vocabulary changes the tags)."""
    from importlib import resources

    from pipeline.io import sha256_file

    data = resources.files("pipeline") / "data"
    return {
        "pipeline_version": PIPELINE_VERSION,
        "pipeline_data": {name: sha256_file(Path(str(data / name))) for name in ("municipalities.csv", "vocabulary.csv")},
        "inputs": [{"source_file": s.name, "source_sha256": s.sha256, "bytes": s.path.stat().st_size} for s in sources],
        "segment_records": {s.sha256: sha256_file(interim_path(out, "segment", s.sha256)) for s in sources},
    }


def outputs_current(out: Path, inputs: dict) -> bool:
    """Whether OUT already holds, whole, the outputs of these very inputs: then a re-run has nothing to write."""
    from pipeline.io import sha256_file

    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        return all(manifest.get(k) == v for k, v in inputs.items()) and all(
            sha256_file(out / name) == digest for name, digest in manifest["outputs"].items())
    except (OSError, ValueError, KeyError):
        return False


def normalize_and_write(sources, out: Path, inputs: dict) -> dict:
    """Build, tag and write the tables, then the manifest: written last, it names the sha256 of every output,
    so a reader can tell a complete set from one a killed run left half-replaced."""
    from pipeline.datapackage import write_datapackage
    from pipeline.io import sha256_file, write_tables
    from pipeline.normalize import build_tables
    from pipeline.report import write_report
    from pipeline.tag import Tagger, tag_tables

    segments = [(s.name, seg) for s, seg in load_segments(sources, out)]
    tables = build_tables(segments)
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
    write_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return tables


def check_folders(raw: Path, out: Path) -> None:
    """Refuse an OUT that is RAW itself: the outputs would be read back as inputs."""
    if out.resolve() == raw.resolve():
        raise UsageError(f"--out must not be the raw folder: {out}")


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


def run_stages(args: argparse.Namespace, sources) -> tuple[list, list[tuple[str, str, str]]]:
    """Run the stages up to args.stage; returns the sources read now and (file, status, reason) per failed file."""
    started = time.monotonic()
    with progress_reporter(args.quiet) as progress:
        read = run_extract(sources, args.out, args.jobs, Limits(args.timeout, args.memory_mb), progress=progress)
    log.info("extract: %d file(s), %d read, %d cached", len(sources), len(read), len(sources) - len(read))
    if args.stage == "extract":
        return read, failures(sources, args.out, "extract")
    run_segment(sources, args.out)
    if args.stage != "segment":
        normalize_unless_current(sources, args.out, started)
    return read, failures(sources, args.out, "segment")


def normalize_unless_current(sources, out: Path, started: float) -> None:
    """Build and write the tables, unless OUT already holds those of these very inputs."""
    prune_interim(sources, out)
    inputs = manifest_inputs(sources, out)
    if outputs_current(out, inputs):
        log.info("normalize: nothing changed since the last run, outputs in %s kept", out)
        return
    tables = normalize_and_write(sources, out, inputs)
    log.info("normalize: %d plans, %d pillars, %d projects, %d tags in %.1f s -> %s",
             len(tables["plans"]), len(tables["pillars"]), len(tables["projects"]), len(tables["tags"]),
             time.monotonic() - started, out)


@contextmanager
def progress_reporter(quiet: bool):
    """A tqdm bar over the files being read when stderr is a terminal, plain log lines when it is not."""
    if quiet or not sys.stderr.isatty():
        yield lambda source, done, total: log.info("read %s (%d/%d)", source.name, done, total)
        return
    from tqdm import tqdm

    bar = None
    def advance(source, done, total):
        nonlocal bar
        bar = bar or tqdm(total=total, unit="file", desc="extract", file=sys.stderr)
        bar.set_postfix_str(source.name, refresh=False)
        bar.update(1)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.close()


def write_run_log(args: argparse.Namespace, started: datetime, sources, read, failed) -> None:
    """Facts of this run (when, how long, which files were read): kept out of the tables and the manifest,
    which stay byte-identical for the same inputs."""
    run = {
        "pipeline_version": PIPELINE_VERSION,
        "stage": args.stage,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round((datetime.now(timezone.utc) - started).total_seconds(), 2),
        "limits": {"seconds": args.timeout, "memory_mb": args.memory_mb},
        "files": len(sources),
        "read": [s.name for s in read],
        "failed": {name: status for name, status, _ in failed},
    }
    write_atomic(args.out / RUN_LOG, json.dumps(run, ensure_ascii=False, indent=1).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    started = datetime.now(timezone.utc)
    try:
        sources = find_sources(args.raw)
        check_folders(args.raw, args.out)
        args.out.mkdir(parents=True, exist_ok=True)
        with exclusive(args.out):
            remove_leftovers(args.out)
            read, failed = run_stages(args, sources)
            write_run_log(args, started, sources, read, failed)
    except (OSError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: the previous outputs in {args.out} are unchanged; run again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    for name, status, reason in failed:
        print(f"{name}: {status}: {reason}", file=sys.stderr)
    return EXIT_FAILED_FILES if failed else 0
