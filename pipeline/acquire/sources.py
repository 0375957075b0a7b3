"""RAW/sources.csv: where each summary came from (its address, the press release, the round, when published).

`python -m pipeline fetch` appends a row for each summary it downloads; a maintainer may write rows by hand for
files obtained otherwise, leaving unknown cells empty. The run reads it into the documents table. A cell that
cannot be read is left out with a warning naming its line; a row whose sha256 is not the file's describes other
bytes and is not used at all: a wrong address or round would be worse than none.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipeline.acquire.rounds import parse_round

SOURCES_NAME = "sources.csv"
SOURCE_COLUMNS = ("source_file", "url", "page_url", "page_title", "published", "round", "retrieved_at", "sha256",
                  "bytes")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


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
    path = raw / SOURCES_NAME
    found = Sources({}, {}, [])
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:  # -sig: spreadsheets save a BOM
            lines = list(csv.reader(file))
    except FileNotFoundError:
        return found
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        found.problems.append(f"{SOURCES_NAME} not read: {exc}")
        return found
    header = [name.strip() for name in lines[0]] if lines else []
    if "source_file" not in header:
        found.problems.append(f"{SOURCES_NAME} not read: no source_file column in its first line")
        return found
    for number, fields in enumerate(lines[1:], start=2):
        if not "".join(fields).strip():
            continue
        cells = {name: value.strip() or None for name, value in zip(header, fields) if name in SOURCE_COLUMNS}
        name = cells.get("source_file")
        if name is None:
            found.problems.append(f"{SOURCES_NAME} line {number}: no source_file, row ignored")
            continue
        problems = found.file_problems.setdefault(name, [])
        if name in found.rows:
            problems.append(f"{SOURCES_NAME} line {number}: {name} listed again (first on line "
                            f"{found.rows[name].line}); line {number} used")
        found.rows[name] = SourceInfo(
            line=number, url=cells.get("url"), page_url=cells.get("page_url"), page_title=cells.get("page_title"),
            published=checked(cells, "published", is_date, "not a date YYYY-MM-DD", number, problems),
            round=checked_round(cells.get("round"), number, problems),
            sha256=checked(cells, "sha256", SHA256_RE.match, "not a lowercase hex sha256", number, problems),
        )
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
