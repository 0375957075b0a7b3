"""Command line: `python -m pipeline extract|segment|normalize|all --raw DIR --out DIR`.

Exit status 0 when every file came out ok, 2 when any file failed (its reason is printed on
stderr, one line per file, and its row is in documents), 1 for a wrong argument or folder,
130 when interrupted (the previous outputs stay as they were). The run itself is pipeline.run's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.run import STAGES, Options, UsageError, run
from pipeline.worker import Limits

EXIT_FAILED_FILES = 2
EXIT_INTERRUPTED = 130
STAGE_HELP = {
    "extract": "read each PDF's pages into positioned lines (OUT/interim/extract)",
    "segment": "extract, then cut the lines into plans, pillars and projects (OUT/interim/segment)",
    "normalize": "extract and segment, then build, tag and write the tables, datapackage and report",
    "all": "the whole pipeline (same as normalize)",
}


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a wrong argument is one line on stderr and exit status 1, like a missing folder."""

    def error(self, message: str) -> None:
        self.exit(1, f"error: {message} (see {self.prog} --help)\n")


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
    parser.add_argument("--force", action="store_true",
                        help="read every file again and rewrite every output, whatever OUT/interim holds")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log every file, and the traceback of any failure of the pipeline's own code")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")


@contextmanager
def progress_reporter(quiet: bool):
    """A tqdm bar over the files being read when stderr is a terminal, plain log lines when it is not."""
    log = logging.getLogger("pipeline")
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    options = Options(raw=args.raw, out=args.out, stage=args.stage, jobs=args.jobs,
                      limits=Limits(args.timeout, args.memory_mb), force=args.force)
    try:
        with progress_reporter(args.quiet) as progress:
            outcome = run(options, progress)
    except (OSError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: the previous outputs in {args.out} are unchanged; run again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    for failed in outcome.failed:
        print(f"{failed.name}: {failed.status}: {failed.reason}", file=sys.stderr)
        if args.verbose and failed.traceback:
            print(failed.traceback, file=sys.stderr, end="")
    return EXIT_FAILED_FILES if outcome.failed else 0
