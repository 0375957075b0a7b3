"""RAW/corrections.csv: a maintainer's fixes of misreads, as data, so that fixing one needs no code.

Each row names a plan (the sha256 of the file it was read from and its plan id), a field of it (CORRECTION_FIELDS),
the value as read and the corrected value, and why. normalize applies them (pipeline.normalize.assemble) only
while the value as read is still what the file reads: a row written for other bytes, or for a reading the code has
since changed, is refused with a warning rather than applied to text it was not written for.

This module reads and checks the file: a row that cannot be a correction (an unknown field, a missing reason…) is
left out with a warning naming its line, and the other rows still apply. The manifest takes its hash from here
(corrections_sha256), so that editing it makes the tables again.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from pipeline.acquire.sources import CORRECTIONS_NAME, SHA256_RE
from pipeline.core.io import sha256_file
from pipeline.core.records import Correction
from pipeline.core.text import normalize_text

CORRECTION_COLUMNS = (
    "source_sha256",
    "plan_id",
    "field",
    "pillar_no",
    "project_no",
    "as_read",
    "corrected",
    "reason",
)


@dataclass(frozen=True)
class FieldRule:
    """What a field of corrections.csv needs: which numbers (`needs`, and `allows` beside them), and whether
    as_read and corrected must be given, may be empty (a value that may be null: an overview, a detail), or must be
    empty (nothing was read before an addition, nothing is left after a removal)."""

    description: str
    needs: tuple[str, ...] = ()
    allows: tuple[str, ...] = ()
    as_read: str = "required"  # "required", "optional" or "empty"
    corrected: str = "required"


# The one list of what a correction may change, each with what its row must hold.
CORRECTION_FIELDS = {
    "plan_title": FieldRule("The plan's title: as_read the title as read, corrected the title."),
    "summary": FieldRule(
        "The plan's overview: as_read the overview as read, corrected the overview (empty for none).",
        as_read="optional",
        corrected="optional",
    ),
    "photo_caption": FieldRule("One photo caption: as_read the caption as read, corrected its text."),
    "add_photo_caption": FieldRule(
        "A caption not read: as_read empty, corrected the caption, added after the others.", as_read="empty"
    ),
    "remove_photo_caption": FieldRule(
        "A caption read from other text: as_read the caption, corrected empty.", corrected="empty"
    ),
    "pillar_title": FieldRule(
        "The title of pillar pillar_no: as_read the title as read, corrected the title.", needs=("pillar_no",)
    ),
    "project_name": FieldRule(
        "The name of project project_no of pillar pillar_no: as_read the name as read, corrected the name.",
        needs=("pillar_no", "project_no"),
    ),
    "project_detail": FieldRule(
        "The detail of project project_no of pillar pillar_no: as_read the detail as read (empty for none), "
        "corrected the detail (empty for none).",
        needs=("pillar_no", "project_no"),
        as_read="optional",
        corrected="optional",
    ),
    "add_project": FieldRule(
        "A project not read, in pillar pillar_no: as_read empty, corrected the project as printed, name（detail） "
        "or name; put before project project_no when given, else after the pillar's last project.",
        needs=("pillar_no",),
        allows=("project_no",),
        as_read="empty",
    ),
    "remove_project": FieldRule(
        "Project project_no of pillar pillar_no, read from other text: as_read its name, corrected empty.",
        needs=("pillar_no", "project_no"),
        corrected="empty",
    ),
}
NUMBERS = ("pillar_no", "project_no")


@dataclass
class Corrections:
    """The rows of corrections.csv that can be corrections, and why the others are not (said on the terminal)."""

    rows: list[Correction]
    problems: list[str]


def read_corrections(raw: Path) -> Corrections:
    """Read RAW/corrections.csv when there is one (UTF-8, a spreadsheet's byte order mark allowed). Never raises
    for its content: a row that cannot be a correction is left out with a problem naming its line."""
    found = Corrections([], [])
    try:
        text = (raw / CORRECTIONS_NAME).read_bytes().decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except FileNotFoundError:
        return found
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        found.problems.append(f"{CORRECTIONS_NAME} not read: {exc}")
        return found
    header = [name.strip() for name in lines[0]] if lines else []
    missing = [name for name in CORRECTION_COLUMNS if name not in header]
    if lines and missing:
        found.problems.append(f"{CORRECTIONS_NAME} not read: no {', '.join(missing)} column in its first line")
        return found
    for number, fields in enumerate(lines[1:], start=2):
        if not "".join(fields).strip():
            continue
        cells = {name: value.strip() or None for name, value in zip(header, fields, strict=False)}
        problem = check_row(cells)
        if problem:
            found.problems.append(f"{CORRECTIONS_NAME} line {number}: {problem}, row ignored")
            continue
        found.rows.append(
            Correction(
                line=number,
                source_sha256=cells["source_sha256"],
                plan_id=cells["plan_id"],
                field=cells["field"],
                pillar_no=int(cells["pillar_no"]) if cells.get("pillar_no") else None,
                project_no=int(cells["project_no"]) if cells.get("project_no") else None,
                as_read=normalize_text(cells.get("as_read")),
                corrected=normalize_text(cells.get("corrected")),
                reason=cells["reason"],
            )
        )
    return found


def check_row(cells: dict[str, str | None]) -> str | None:
    """Why a row of corrections.csv cannot be a correction, or None when it can."""
    field, sha256 = cells.get("field"), cells.get("source_sha256")
    if field not in CORRECTION_FIELDS:
        return f"field {field!r} is none of {', '.join(CORRECTION_FIELDS)}"
    rule = CORRECTION_FIELDS[field]
    if sha256 is None or not SHA256_RE.match(sha256):
        return f"source_sha256 {sha256!r} is not a lowercase hex sha256"
    if cells.get("plan_id") is None:
        return "no plan_id"
    for name in NUMBERS:
        value = cells.get(name)
        if value is None and name in rule.needs:
            return f"{field} needs a {name}"
        if value is not None and name not in rule.needs + rule.allows:
            return f"{field} takes no {name}"
        if value is not None and not (value.isascii() and value.isdigit() and int(value) >= 1):
            return f"{name} {value!r} is not a number from 1"
    if rule.as_read == "required" and cells.get("as_read") is None:
        return f"{field} needs the value as read"
    if rule.as_read == "empty" and cells.get("as_read") is not None:
        return f"{field} adds what was not read: as_read must be empty"
    if rule.corrected == "required" and cells.get("corrected") is None:
        return f"{field} needs a corrected value"
    if rule.corrected == "empty" and cells.get("corrected") is not None:
        return f"{field} removes what was read: corrected must be empty"
    if cells.get("reason") is None:
        return "no reason"
    return None


def corrections_sha256(raw: Path) -> str | None:
    """The sha256 of RAW/corrections.csv's bytes (an input of the tables, which the manifest records); None when
    there is none."""
    path = raw / CORRECTIONS_NAME
    return sha256_file(path) if path.is_file() else None
