"""Command line: `python -m pipeline extract|segment|normalize|all --raw DIR --out DIR`.

Exit status 0 when every file came out ok, 2 when any file failed (its reason is printed on
stderr, one line per file, and its row is in documents), 1 for a wrong argument or folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.run import Limits, find_sources, load_segments, prune_interim, run_extract, run_segment

log = logging.getLogger("pipeline")
STAGES = ("extract", "segment", "normalize", "all")
EXIT_FAILED_FILES = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="Turn approval-summary PDFs (地域産業活性化計画の概要) into documents, plans, pillars, projects "
        "and tags tables (Parquet + CSV).",
    )
    parser.add_argument("stage", choices=STAGES, help="stage to run; each stage runs the ones before it when needed")
    parser.add_argument("--raw", type=Path, default=Path("raw"), help="folder of input PDFs (default: raw)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds allowed to read one PDF (default: 60)")
    parser.add_argument("--memory-mb", type=int, default=1024, help="memory cap of one PDF reader, MiB (default: 1024)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every file")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    parser.add_argument("--version", action="version", version=f"%(prog)s {PIPELINE_VERSION}")
    return parser.parse_args(argv)


def normalize_and_write(sources, out: Path) -> "dict":
    """Build, tag and write the tables, then the manifest."""
    from pipeline.io import write_atomic, write_tables
    from pipeline.normalize import build_tables
    from pipeline.tag import Tagger, tag_tables

    segments = [(s.name, seg) for s, seg in load_segments(sources, out)]
    tables = build_tables(segments)
    plans, pillars, projects, tags = tag_tables(tables["plans"], tables["pillars"], tables["projects"], Tagger())
    tables.update(plans=plans, pillars=pillars, projects=projects, tags=tags)
    written = write_tables(tables, out)
    manifest = {
        "pipeline_version": PIPELINE_VERSION,
        "inputs": [{"source_file": s.name, "source_sha256": s.sha256, "bytes": s.path.stat().st_size} for s in sources],
        "outputs": [p.name for p in written],
        "rows": {name: len(df) for name, df in tables.items()},
    }
    write_atomic(out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
    return tables


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    try:
        sources = find_sources(args.raw)
    except (FileNotFoundError, NotADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    read = run_extract(sources, args.out, args.jobs, Limits(args.timeout, args.memory_mb),
                       progress=lambda s: log.debug("read %s", s.name))
    log.info("extract: %d file(s), %d read, %d cached", len(sources), len(read), len(sources) - len(read))
    if args.stage == "extract":
        return 0
    run_segment(sources, args.out)
    if args.stage == "segment":
        return 0
    prune_interim(sources, args.out)
    tables = normalize_and_write(sources, args.out)
    docs = tables["documents"]
    log.info("normalize: %d plans, %d pillars, %d projects, %d tags in %.1f s -> %s",
             len(tables["plans"]), len(tables["pillars"]), len(tables["projects"]), len(tables["tags"]),
             time.monotonic() - started, args.out)
    failed = docs[docs["status"] != "ok"]
    for row in failed.itertuples():
        print(f"{row.source_file}: {row.status}: {row.error}", file=sys.stderr)
    return EXIT_FAILED_FILES if len(failed) else 0
