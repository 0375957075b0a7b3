"""RAW/sources.csv: where each summary came from (its address, the press release, the round, when published).

`python -m pipeline fetch` appends a row for each summary it downloads; a maintainer may write rows by hand for
files obtained otherwise, leaving unknown cells empty. The run reads it into the documents table. A cell that
cannot be read is left out with a warning naming its line; a row whose sha256 is not the file's describes other
bytes and is not used at all: a wrong address or round would be worse than none.

This module alone reads and writes the file: one reading (read_sources_file) serves the run's checked view
(read_sources) and fetch (writable_sources, add_source_row); the manifest takes its hash from here too
(sources_sha256). It also holds the rule for what in RAW is an input (is_input_name): every entry that is not
hidden, nor sources.csv, nor corrections.csv (pipeline.acquire.corrections).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipeline.acquire.rounds import parse_round
from pipeline.core.io import held, sha256_file, write_atomic
from pipeline.core.text import csv_cell, csv_text

SOURCES_NAME = "sources.csv"
CORRECTIONS_NAME = "corrections.csv"  # a maintainer's fixes of misreads (pipeline.acquire.corrections)
SOURCE_COLUMNS = (
    "source_file",
    "url",
    "page_url",
    "page_title",
    "published",
    "round",
    "retrieved_at",
    "sha256",
    "bytes",
)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def is_input_name(name: str) -> bool:
    """The one rule for what in RAW is an input: every entry that is not hidden nor one of a maintainer's files
    about the inputs: sources.csv, which describes them, and corrections.csv, which fixes what was read of them."""
    return not name.startswith(".") and name not in (SOURCES_NAME, CORRECTIONS_NAME)


@dataclass(frozen=True)
class SourceInfo:
    """One file's row of sources.csv, its cells checked; empty cells are None."""

    line: int
    url: str | None
    page_url: str | None
    page_title: str | None
    published: str | None  # ISO date
    round: str | None  # canonical (pipeline.acquire.rounds.parse_round)
    sha256: str | None


@dataclass
class Sources:
    """What sources.csv says of each file, and what could not be read in it: per file (a documents warning) and
    of the whole (said on the terminal)."""

    rows: dict[str, SourceInfo]
    file_problems: dict[str, list[str]]
    problems: list[str]


def read_sources(raw: Path) -> Sources:
    """Read RAW/sources.csv when there is one. Never raises for its content: a maintainer's slip costs the cells it
    touches, with a warning, never the run."""
    found = Sources({}, {}, [])
    try:
        current = read_sources_file(raw)
    except OSError as exc:
        found.problems.append(f"{SOURCES_NAME} not read: {exc}")
        return found
    if current.text is None:
        return found
    if current.not_utf8:
        found.problems.append(
            f"{SOURCES_NAME} is not UTF-8 ({current.not_utf8}): read as cp932, as Japanese Excel saves it; save it as "
            "CSV UTF-8 for fetch to add rows"
        )
    header = [name.strip() for name in current.header]
    if "source_file" not in header:
        found.problems.append(f"{SOURCES_NAME} not read: no source_file column in its first line")
        return found
    for number, problem in current.bad_lines.items():
        said = f"{SOURCES_NAME} line {number}: {problem}, row ignored"
        found.problems.append(said)
        name = current.text.splitlines()[number - 1].split(",", 1)[0].strip()
        if name and not name.startswith('"'):
            found.file_problems.setdefault(name, []).append(said)
    for number, fields in current.lines[1:]:
        if not "".join(fields).strip():
            continue
        # A ragged row is read as far as it goes: a missing cell is empty, a field past the header is dropped; a
        # cell fetch guarded against a spreadsheet's formulas (csv_cell) is read back as it was.
        cells = {
            name: csv_text(value.strip()) or None
            for name, value in zip(header, fields, strict=False)
            if name in SOURCE_COLUMNS
        }
        name = cells.get("source_file")
        if name is None:
            found.problems.append(f"{SOURCES_NAME} line {number}: no source_file, row ignored")
            continue
        problems = found.file_problems.setdefault(name, [])
        if name in found.rows:
            problems.append(
                f"{SOURCES_NAME} line {number}: {name} listed again (first on line "
                f"{found.rows[name].line}); line {number} used"
            )
        found.rows[name] = SourceInfo(
            line=number,
            url=cells.get("url"),
            page_url=cells.get("page_url"),
            page_title=cells.get("page_title"),
            published=checked(cells, "published", is_date, "not a date YYYY-MM-DD", number, problems),
            round=checked_round(cells.get("round"), number, problems),
            sha256=checked(cells, "sha256", SHA256_RE.match, "not a lowercase hex sha256", number, problems),
        )
    if current.not_utf8:  # each file it describes was described through a guess: its documents row says so too
        for name in found.rows:
            found.file_problems.setdefault(name, []).insert(0, found.problems[0])
    return found


def checked(cells: dict, column: str, is_valid, what: str, line: int, problems: list[str]) -> str | None:
    """A cell's value when valid, else None and a problem naming the line."""
    value = cells.get(column)
    if value is not None and not is_valid(value):
        problems.append(f"{SOURCES_NAME} line {line}: {column} {value!r} is {what}, left out")
        return None
    return value


def checked_round(value: str | None, line: int, problems: list[str]) -> str | None:
    """A round cell made canonical (令和６年度 後期 → 令和6年度後期), or None and a problem when it names none."""
    round_name = parse_round(value)
    if value is not None and round_name is None:
        problems.append(f"{SOURCES_NAME} line {line}: round {value!r} names no round such as 令和6年度後期, left out")
    return round_name


def is_date(text: str) -> bool:
    """An ISO date, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


class RawUnusable(Exception):
    """RAW, or its sources.csv, cannot take new files: reported before anything is downloaded."""


class RawBusy(RawUnusable):
    """Another fetch, or a run listing RAW, holds RAW (hold_raw)."""


@contextmanager
def hold_raw(raw: Path) -> Iterator[None]:
    """Hold RAW for a fetch, or for a run while it lists RAW and reads sources.csv: a lock on the folder itself (no
    file added to it), so that two fetches, or a fetch and a run's listing, never interleave. The second is refused at
    once (RawBusy) rather than left waiting: a fetch may take minutes, and its maintainer is at the terminal to run
    the command again. A RAW that is not a folder is not held: the caller says what is wrong with it."""
    try:
        fd = os.open(raw, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        yield
        return
    with held(fd, RawBusy(f"{raw} is in use by another fetch, or by a run listing it: wait for it to finish")):
        yield


@dataclass(frozen=True)
class SourcesFile:
    """RAW/sources.csv as it stands: its text, whether it starts with a byte order mark, its line end, and its
    lines parsed as CSV, the header first."""

    text: str | None  # None when there is no sources.csv
    bom: bool
    newline: str
    lines: list[tuple[int, list[str]]]  # (line number, its cells) of each line read
    not_utf8: str | None = None  # why the bytes are not UTF-8 (then read as cp932), or None
    bad_lines: dict[int, str] = field(default_factory=dict)  # line number → why it was not read

    @property
    def header(self) -> list[str]:
        return self.lines[0][1] if self.lines and self.lines[0][0] == 1 else []


def read_sources_file(raw: Path) -> SourcesFile:
    """The one reading of RAW/sources.csv, for the run (read_sources) and for fetch (writable_sources), each of
    which says in its own way what it could not read: raises OSError. UTF-8, with or without byte order marks (a
    spreadsheet saves one, a second save through another tool a second), else cp932, as Japanese Excel saves it
    (`not_utf8` says why). Each line is a row of its own, read alone (a row never spans lines in this file): a
    line that cannot be read (an unbalanced quote, an over-long line) costs only itself, named in
    `bad_lines`, where one unclosed quote used to swallow every later row."""
    try:
        data = (raw / SOURCES_NAME).read_bytes()
    except FileNotFoundError:
        return SourcesFile(None, False, "\n", [])
    bom = data.startswith(codecs.BOM_UTF8)
    while data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text, not_utf8 = data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        text, not_utf8 = data.decode("cp932", "replace"), f"{exc.reason} at byte {exc.start}"
    first = text.split("\n", 1)[0]
    lines, bad = [], {}
    for number, line in enumerate(text.splitlines(), start=1):
        problem = line_problem(line)
        if problem is None:
            try:
                lines.append((number, next(csv.reader([line]), [])))
                continue
            except csv.Error as exc:
                problem = str(exc)
        bad[number] = problem
    return SourcesFile(text, bom, "\r\n" if first.endswith("\r") else "\n", lines, not_utf8, bad)


# The longest line of sources.csv read as a row: the csv module's default limit of a cell (131,072 characters), which
# no address, title or date comes near, checked here since any library in the process may raise the module's limit.
LINE_MAX_CHARS = 131_072


def line_problem(line: str) -> str | None:
    """Why a line of sources.csv cannot be a row, before the csv module reads it: a quote opened and never closed
    (the doubled quote of a quoted cell counts twice), which would make its cell run on over the next lines; a line
    longer than LINE_MAX_CHARS (a cell pasted whole from elsewhere)."""
    if line.count('"') % 2:
        return "a quote opened and never closed"
    return f"a line of {len(line):,} characters, over {LINE_MAX_CHARS:,}" if len(line) > LINE_MAX_CHARS else None


def sources_sha256(raw: Path) -> str | None:
    """The sha256 of RAW/sources.csv's bytes (an input of the tables, which the manifest records); None when there
    is none."""
    path = raw / SOURCES_NAME
    return sha256_file(path) if path.is_file() else None


def writable_sources(raw: Path) -> SourcesFile:
    """sources.csv as fetch rewrites it, its text None when there is none (or it is empty); RawUnusable when it
    cannot take a row."""
    path = raw / SOURCES_NAME
    try:
        current = read_sources_file(raw)
    except OSError as exc:
        raise RawUnusable(f"{path} cannot be read: {exc.strerror or exc}") from None
    if current.not_utf8:
        raise RawUnusable(f"{path} is not UTF-8 ({current.not_utf8}): save it as UTF-8")
    for number, problem in current.bad_lines.items():  # a row fetch could lose when it rewrites the file
        raise RawUnusable(f"{path} line {number}: {problem}: fix it first")
    if current.text is None or not current.text.strip():
        return SourcesFile(None, current.bom, "\n", [])
    if "source_file" not in (name.strip() for name in current.header):
        raise RawUnusable(f"{path} has no source_file column in its first line: fix it or move it away")
    return current


def add_source_row(raw: Path, row: dict[str, str]) -> None:
    """Rewrite sources.csv with the row added (atomically: a crash leaves the old file or the new one), its cells
    guarded as the output CSVs' are against a spreadsheet's formulas (a page titled =HYPERLINK(…)). Its rows,
    their order and quoting, its byte order mark and line ends stay as they were; columns it lacks are added at
    the end of its header (the old rows then rewritten as the csv module quotes them, their cells unchanged)."""
    current = writable_sources(raw)
    if current.text is None:
        text = rows_text([list(SOURCE_COLUMNS), [csv_cell(row[c]) for c in SOURCE_COLUMNS]], current.newline)
    else:
        names = [name.strip() for name in current.header]
        missing = [c for c in SOURCE_COLUMNS if c not in names]
        if missing:  # every row again, the new columns empty in the old rows
            text = rows_text([current.header + missing, *(cells for _, cells in current.lines[1:])], current.newline)
            names += missing
        else:
            text = current.text if current.text.endswith("\n") else current.text + current.newline
        text += rows_text([[csv_cell(row.get(name, "")) for name in names]], current.newline)
    write_atomic(raw / SOURCES_NAME, (codecs.BOM_UTF8 if current.bom else b"") + text.encode("utf-8"))


def rows_text(rows: list[list[str]], newline: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows(rows)
    return out.getvalue()
