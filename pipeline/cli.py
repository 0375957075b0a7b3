"""Command line: `python -m pipeline extract|segment|normalize|all --raw DIR --out DIR`,
`python -m pipeline explain FILE [--out DIR]` to see how one PDF's pages were read (pipeline.explain), and
`python -m pipeline fetch URL… [--raw DIR]` to download new summaries into RAW (pipeline.acquire.fetch). The
installed console command `tokyo-plans` (console, below) is the same with its own name in the help.

The run itself is pipeline.run.runner's; this module parses arguments, shows progress, and tells the outcome on
stderr, one line per file, every name and reason with its control characters escaped, so that no file
name can move the cursor, colour the terminal or print a line of its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import textwrap
import threading
import unicodedata
from contextlib import contextmanager
from pathlib import Path

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import UsageError, is_machine_error, machine_reason
from pipeline.core.records import DEFAULT_READER, READERS, Limits
from pipeline.run.outdir import current_generation
from pipeline.run.runner import STAGES, Options, run

EXIT_USAGE = 1
EXIT_FAILED_FILES = 2
EXIT_MACHINE = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, what a shell reports for a process SIGTERM ended
EXIT_CODES = f"""exit status:
  0    every file came out ok
  {EXIT_USAGE}    a wrong argument, a folder that cannot be used, or a raw folder holding no file
  {EXIT_FAILED_FILES}    a file failed, or lost plans as unreadable: one line per file on stderr, a row in documents;
       or report.html or tables.xlsx could not be written (the tables were)
  {EXIT_MACHINE}    the machine failed: a full disk, a quota, an I/O error (the path is named); OUT holds the
       previous outputs, whole: free some space and run again
  {EXIT_INTERRUPTED}  interrupted: OUT holds the previous outputs, or this run's if it had switched to them, whole
  {EXIT_TERMINATED}  stopped by SIGTERM (kill, a service manager, a CI timeout): the same as interrupted"""
# Characters that move the cursor or reorder text on a terminal: controls, line and paragraph separators, and
# the bidirectional overrides and isolates a name could use to show itself backwards.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
STAGE_HELP = {
    "extract": "read each PDF's pages into positioned lines (OUT/interim/extract)",
    "segment": "extract, then cut the lines into plans, pillars and projects (OUT/interim/segment)",
    "normalize": "extract and segment, then build, tag and write the tables, datapackage, report and workbook",
    "all": "the whole pipeline (same as normalize)",
}


FETCH_HELP = (
    "download approval summaries into RAW, from press-release pages (their PDF links that say 概要 or 別紙) "
    "or from the PDFs' own addresses, and describe each in RAW/sources.csv"
)
FETCH_EXIT_CODES = f"""exit status:
  0    every summary was saved, or was in RAW already
  {EXIT_USAGE}    a wrong argument (an address that is not http or https), a RAW that cannot take files, or one
       another fetch or a run's listing holds (try again when it has finished)
  {EXIT_FAILED_FILES}    an address failed: one line each on stderr; the other addresses were still fetched
  {EXIT_MACHINE}    the machine failed writing into RAW: a full disk, a quota, an I/O error (the path is named); RAW
       holds what was saved before, whole: free some space and fetch again
  {EXIT_INTERRUPTED}  interrupted: RAW holds what was saved before, whole
  {EXIT_TERMINATED}  stopped by SIGTERM: the same as interrupted"""
EXPLAIN_HELP = (
    "read one PDF afresh and draw each page with every line boxed by the role it was given and the photos "
    "outlined (FILE-pNN.png), list every line (FILE-lines.tsv), print the role counts of each page"
)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a wrong argument is one line on stderr and exit status 1, like a missing folder."""

    def error(self, message: str) -> None:
        self.exit(EXIT_USAGE, f"error: {message} (see {self.prog} --help)\n")


def parse_args(argv: list[str] | None, prog: str = "python -m pipeline") -> argparse.Namespace:
    options = argparse.ArgumentParser(add_help=False)
    add_options(options)
    parser = OneLineParser(
        prog=prog,
        description="Turn approval-summary PDFs (地域産業活性化計画の概要) into documents, plans, pillars, projects "
        "and tags tables (Parquet + CSV, and one workbook tables.xlsx), a datapackage and a report.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {PIPELINE_VERSION}")
    stages = parser.add_subparsers(dest="stage", required=True, metavar="STAGE", parser_class=OneLineParser)
    for stage in STAGES:
        stages.add_parser(
            stage,
            parents=[options],
            help=STAGE_HELP[stage],
            description=STAGE_HELP[stage],
            epilog=EXIT_CODES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    explain = stages.add_parser("explain", help=EXPLAIN_HELP, description=EXPLAIN_HELP)
    explain.add_argument("file", type=Path, metavar="FILE", help="the PDF to explain")
    explain.add_argument(
        "--out",
        type=Path,
        default=Path("out") / "explain",
        help="folder for the page images and the lines table (default: out/explain)",
    )
    fetch = stages.add_parser(
        "fetch",
        help=FETCH_HELP,
        description=textwrap.fill(FETCH_HELP, 100),
        epilog=FETCH_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument(
        "urls", nargs="+", metavar="URL", help="a press release (web page) or a summary PDF, http or https"
    )
    fetch.add_argument(
        "--raw",
        type=Path,
        default=Path("raw"),
        help="folder the PDFs and sources.csv go into, made if missing (default: raw)",
    )
    fetch.add_argument(
        "--timeout",
        type=positive(float),
        default=30.0,
        help="seconds allowed to connect, and between two reads of an answer (default: 30)",
    )
    fetch.add_argument(
        "--deadline",
        type=positive(float),
        default=argparse.SUPPRESS,  # acquire.http.Settings.deadline: not imported here, which would load httpx
        help="seconds one download may take in all, however slowly the server sends (default: 600)",
    )
    fetch.add_argument(
        "--run-deadline",
        type=positive(float),
        default=argparse.SUPPRESS,  # acquire.http.Settings.run_deadline
        help="seconds the whole fetch may take (default: 3600)",
    )
    fetch.add_argument(
        "--max-mb",
        type=positive(float),
        default=100.0,
        help="largest download, MiB: a larger one is stopped and refused (default: 100)",
    )
    fetch.add_argument(
        "--page-max-mb",
        type=positive(float),
        default=argparse.SUPPRESS,  # acquire.http.Settings.page_max_bytes
        help="most bytes fetched from one page, its PDFs together, MiB: the later links are left (default: 200)",
    )
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
    parser.add_argument(
        "-j", "--jobs", type=positive(int), default=os.cpu_count() or 1, help="worker processes (default: cores)"
    )
    parser.add_argument(
        "--timeout",
        type=positive(float),
        default=Limits.seconds,
        help=f"seconds allowed to read one PDF (default: {Limits.seconds:g})",
    )
    parser.add_argument(
        "--memory-mb",
        type=positive(int),
        default=Limits.memory_mb,
        help=f"memory one PDF reader may add to what it starts with, MiB (default: {Limits.memory_mb})",
    )
    parser.add_argument(
        "--reader",
        choices=READERS,
        default=DEFAULT_READER,
        help=f"page reader: pypdfium2, or pdfplumber, its slower reference (default: {DEFAULT_READER})",
    )
    parser.add_argument(
        "--no-ocr",
        action="store_true",
        help="read no image-only scan by OCR: such a file gets no_text (default: OCR with Tesseract, jpn)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="read every file again and rewrite every output, whatever OUT/interim holds",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log every file, and the traceback of any failure of the pipeline's own code",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only")


def printable(text: str) -> str:
    """Text safe to print on one terminal line: control and reordering characters as backslash escapes."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in _BIDI_CONTROLS
        else ch
        for ch in text
    )


@contextmanager
def progress_reporter(quiet: bool):
    """A tqdm bar over the files being read when stderr is a terminal, plain log lines when it is not."""
    log = logging.getLogger("pipeline")
    if quiet or not sys.stderr.isatty():
        yield lambda source, done, total: log.info("read %s (%d/%d)", printable(source.name), done, total)
        return
    from tqdm import tqdm

    bar = None

    def advance(source, done, total):
        nonlocal bar
        bar = bar or tqdm(total=total, unit="file", desc="extract", file=sys.stderr)
        bar.set_postfix_str(printable(source.name), refresh=False)
        bar.update(1)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.close()


def explain_file(pdf: Path, out: Path) -> int:
    """`explain`: its report on stdout; a file that is missing or cannot be read is one line on stderr."""
    from pipeline.explain import explain

    if not pdf.is_file():
        print(f"error: not a file: {printable(str(pdf))}", file=sys.stderr)
        return EXIT_USAGE
    try:
        report = explain(pdf, out)
    except OSError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - a PDF the reader refuses: say so in one line
        print(
            f"error: {printable(pdf.name)} could not be read: {type(exc).__name__}: {printable(str(exc))}",
            file=sys.stderr,
        )
        return EXIT_FAILED_FILES
    for line in report:
        print(printable(line))
    return 0


def fetch_urls(args: argparse.Namespace) -> int:
    """`fetch`: a line on stdout per summary saved or found in RAW already, one on stderr per failure."""
    from pipeline.acquire.fetch import FAILED, check_raw, fetch, is_web_address
    from pipeline.acquire.http import MIB, Settings
    from pipeline.acquire.sources import RawUnusable

    for url in args.urls:
        if not is_web_address(url):
            print(f"error: not an http or https address: {printable(url)}", file=sys.stderr)
            return EXIT_USAGE
    try:
        check_raw(args.raw)
    except RawUnusable as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    failed = False
    try:
        given = {name: getattr(args, name) for name in ("deadline", "run_deadline") if hasattr(args, name)}
        if hasattr(args, "page_max_mb"):
            given["page_max_bytes"] = int(args.page_max_mb * MIB)
        settings = Settings(timeout=args.timeout, max_bytes=int(args.max_mb * MIB), **given)
        for outcome in fetch(args.urls, args.raw, settings):
            failed |= outcome.status == FAILED
            print(printable(outcome.line), file=sys.stderr if outcome.status == FAILED else sys.stdout, flush=True)
    except RawUnusable as exc:  # another fetch, or a run's listing, holds RAW
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        if not is_machine_error(exc):
            raise
        print(fetch_machine_line(args.raw, exc), file=sys.stderr)
        return EXIT_MACHINE
    except KeyboardInterrupt as exc:
        print(
            f"interrupted: {args.raw} holds the summaries saved before, each whole and in sources.csv", file=sys.stderr
        )
        return interrupted_status(exc)
    return EXIT_FAILED_FILES if failed else 0


def fetch_machine_line(raw: Path, exc: OSError) -> str:
    """What a fetch stopped by a full disk (or a quota, an I/O error) says: the path, what to do, and that RAW holds
    only whole summaries with their rows (fetch.save takes a PDF back when its row could not be written)."""
    where = f" writing {exc.filename}" if exc.filename else ""
    return printable(
        f"error: {exc.strerror or exc}{where}; free some space (or mend the disk) and fetch again: {raw} holds the "
        "summaries saved before, each whole and in sources.csv"
    )


def interrupted_line(out: Path, held: str | None) -> str:
    """What OUT holds after a run was interrupted, told by the set OUT/current names now against `held`, the one it
    named when the run started: the outputs switch in one step (run.outdir), so it is one or the other."""
    if current_generation(out) != held:
        return f"interrupted: {printable(str(out))} holds this run's outputs, complete"
    return f"interrupted: the previous outputs in {printable(str(out))} are unchanged; run again to finish"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C raises KeyboardInterrupt: the same unwinding, the same truthful line about what
    OUT (or RAW) holds, instead of a death that says nothing."""


def interrupted_status(exc: KeyboardInterrupt) -> int:
    """The exit status of a command stopped by Ctrl-C (130) or SIGTERM (143), as a shell reports either."""
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


@contextmanager
def terminate_as_interrupt():
    """While the command runs, SIGTERM raises Terminated in it, as Ctrl-C raises KeyboardInterrupt: `kill`, a service
    manager or a CI timeout then gets the line saying which set OUT holds. A process forked meanwhile (the run's
    workers) keeps dying of SIGTERM as before: the handler tells it by its pid."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set a handler
        yield
        return
    pid = os.getpid()

    def terminate(signum, frame):
        if os.getpid() != pid:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: list[str] | None = None, prog: str = "python -m pipeline") -> int:
    """Run the command line `argv` (sys.argv's by default); `prog` names the command in its help and errors."""
    args = parse_args(argv, prog)
    with terminate_as_interrupt():
        return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    """The command `args` asks for, its outcome told on stderr, its exit status returned."""
    if args.stage == "explain":
        return explain_file(args.file, args.out)
    if args.stage == "fetch":
        return fetch_urls(args)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    logging.captureWarnings(True)  # a library's warnings are log lines too: -q silences them
    from pipeline.reading.ocr import ocr_problem  # here: the other commands need no reader

    problem = None if args.no_ocr else ocr_problem()
    if problem:
        logging.getLogger("pipeline").warning("no OCR on this machine: %s; image-only scans get no_text", problem)
    options = Options(
        raw=args.raw,
        out=args.out,
        stage=args.stage,
        jobs=args.jobs,
        limits=Limits(args.timeout, args.memory_mb, ocr=not args.no_ocr and problem is None),
        force=args.force,
        reader=args.reader,
    )
    held = current_generation(args.out)
    try:
        with progress_reporter(args.quiet) as progress:
            outcome = run(options, progress)
    except (OSError, UsageError) as exc:
        if is_machine_error(exc):
            print(f"error: {printable(machine_reason(exc))}", file=sys.stderr)
            return EXIT_MACHINE
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print(interrupted_line(args.out, held), file=sys.stderr)
        return interrupted_status(exc)
    log = logging.getLogger("pipeline")
    for name, why in outcome.adds_nothing.items():
        log.warning("%s: adds nothing: %s", printable(name), why)
    for plan_id, why in outcome.needs_review.items():
        log.warning("needs review: %s (%s)", plan_id, printable(why))
    for failed in outcome.failed:
        print(f"{printable(failed.name)}: {failed.status}: {printable(failed.reason)}", file=sys.stderr)
        if args.verbose and failed.traceback:
            print(failed.traceback, file=sys.stderr, end="")
    if not outcome.sources and not outcome.refused:
        print(f"warning: {printable(str(args.raw))} holds no file: nothing to read", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_FAILED_FILES if outcome.failed or outcome.view_errors else 0


def console() -> int:
    """The `tokyo-plans` console command ([project.scripts]): main, named as it was invoked."""
    return main(prog=Path(sys.argv[0]).name or "tokyo-plans")
