"""OUT/tables.xlsx: every table as one sheet of a workbook, for those who open the data in a spreadsheet.

A sheet per table, in the schema's order, whatever tables it is given. Row 1 holds the column names, row 2 their
Japanese titles (項目, pipeline/schema.py). A second header row rather than cell comments: a row is seen in every
spreadsheet, printed and kept by a CSV export, where a comment is hidden until hovered and lost on export. The
autofilter's buttons sit on the titles' row, so that sorting or filtering never moves either header row; panes
are frozen below both.

Cells are typed by the schema, never guessed from their text: every string field (codes and ids among them,
`131091` and sha256 alike) is a text cell, even when it looks like a number, a formula (`=1+1`, `@SUM(A1)`) or
an error (`#N/A`), so no spreadsheet turns it into anything else; an integer is a number, a boolean a boolean, a
list its items joined with `|` escaped as in the CSV (pipeline.outputs.tables.list_cell). A null, an empty text or an
empty list is an empty cell. Characters XML cannot hold become U+FFFD, as in the report
(pipeline.outputs.report.NOT_TEXT); a text longer than a cell holds (32,767 characters) is cut, ending with …: the
Parquet files keep it whole.

The same tables give the same bytes: the workbook's properties carry a fixed date, and the zip entries a fixed
date, whatever the clock says when it is written.
"""

from __future__ import annotations

import datetime
import io
import unicodedata
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import PIPELINE_VERSION
from pipeline.core.io import write_atomic
from pipeline.core.schema import ARROW_TYPES, BOOL, FIELDS, INT, STRING, STRINGS, TABLES
from pipeline.outputs.report import NOT_TEXT_RE
from pipeline.outputs.tables import column_values, list_cell

if TYPE_CHECKING:
    import pandas as pd

WORKBOOK_NAME = "tables.xlsx"
HEADER_ROWS = 2  # column names, then Japanese titles
# The date a workbook says it was created and modified, and its zip entries' dates: nothing that varies. The
# zip format counts from 1980; 2000-01-01 reads as an obviously made-up date.
FIXED_DATE = datetime.datetime(2000, 1, 1)
CREATOR = f"tokyo-plans {PIPELINE_VERSION}"
CELL_MAX = 32767  # characters a spreadsheet cell holds (Excel's limit; a longer text makes it repair the file)
WIDTH_MIN, WIDTH_MAX, WIDTH_PADDING = 6, 60, 2  # column widths, in widths of a narrow character


def text_cell(value: str) -> str | None:
    """Text as a cell holds it: characters XML cannot hold as U+FFFD, cut to what a cell holds; '' as None."""
    if len(value) > CELL_MAX:
        value = value[: CELL_MAX - 1] + "…"
    return NOT_TEXT_RE.sub("\ufffd", value) or None


def sheet_values(df: pd.DataFrame, table: str) -> list[list]:
    """The cells of a table's rows, by the schema's type of each column (see the module's docstring)."""
    columns = []
    for name in TABLES[table][0]:
        kind = FIELDS[name][0]
        values = column_values(df[name], ARROW_TYPES[kind])
        if kind == STRINGS:
            values = [None if v is None else text_cell(list_cell(v)) for v in values]
        elif kind == STRING:
            values = [None if v is None else text_cell(str(v)) for v in values]
        elif kind == BOOL:
            values = [None if v is None else bool(v) for v in values]
        elif kind != INT:
            raise ValueError(f"{table}.{name}: no cell type for a field of type {kind}")
        columns.append(values)
    return [list(row) for row in zip(*columns, strict=True)]


def display_width(text: str) -> int:
    """Width of a text in narrow characters: an East Asian wide or full-width character counts two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def column_widths(header: list[list[str]], rows: list[list]) -> list[int]:
    """Each column's width: its widest header or value plus padding, within WIDTH_MIN and WIDTH_MAX. A text is
    measured on its first WIDTH_MAX characters, each of which is one wide at least."""
    widths = [0] * len(header[0])
    for row in (*header, *rows):
        for i, value in enumerate(row):
            if value is not None:
                widths[i] = max(widths[i], display_width(str(value)[:WIDTH_MAX]))
    return [min(WIDTH_MAX, max(WIDTH_MIN, w + WIDTH_PADDING)) for w in widths]


def add_sheet(workbook, df: pd.DataFrame, table: str) -> None:
    """One table as a write-only sheet: two bold header rows, frozen; an autofilter; widths; typed cells."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    names = TABLES[table][0]
    header = [list(names), [FIELDS[name][1] for name in names]]
    rows = sheet_values(df, table)
    sheet = workbook.create_sheet(table)
    for i, width in enumerate(column_widths(header, rows), start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    last = get_column_letter(len(names))
    sheet.freeze_panes = f"A{HEADER_ROWS + 1}"
    sheet.auto_filter.ref = f"A{HEADER_ROWS}:{last}{HEADER_ROWS + len(rows)}"
    bold = Font(bold=True)

    def cell(value, font=None):
        c = WriteOnlyCell(sheet, value)
        if isinstance(value, str):
            c.data_type = "s"  # openpyxl would take '=…' for a formula and '#N/A' for an error
        if font is not None:
            c.font = font
        return c

    for row in header:
        sheet.append([cell(text_cell(value), bold) for value in row])
    for row in rows:
        sheet.append([cell(value) for value in row])


def workbook_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """The workbook of the tables, one sheet each in the schema's order, as bytes that depend on nothing else."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for table in sorted(tables, key=list(TABLES).index):
        add_sheet(workbook, tables[table], table)
    buffer = io.BytesIO()
    workbook.save(buffer)
    # openpyxl stamps the properties with the clock as it saves, and zipfile each entry: write both again, fixed.
    properties = workbook.properties
    properties.creator, properties.created, properties.modified = CREATOR, FIXED_DATE, FIXED_DATE
    return fixed_zip(buffer.getvalue(), {"docProps/core.xml": properties_xml(properties)})


def properties_xml(properties) -> bytes:
    """docProps/core.xml of these properties, serialized as openpyxl serializes it."""
    from openpyxl.xml.functions import tostring

    return tostring(properties.to_tree())


def fixed_zip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The zip archive `data` written again entry for entry, in the same order and compression, with the bytes of
    the entries named in `replace` replaced, and the same date, system and permissions on every entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        if set(replace) - set(source.namelist()):
            raise ValueError(f"no such entry to replace: {sorted(set(replace) - set(source.namelist()))}")
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_DATE.timetuple()[:6])
            fixed.compress_type, fixed.create_system, fixed.external_attr = entry.compress_type, 3, 0o644 << 16
            target.writestr(fixed, replace[entry.filename] if entry.filename in replace else source.read(entry))
    return out.getvalue()


def write_workbook(tables: dict[str, pd.DataFrame], out: Path) -> Path:
    """Write OUT/tables.xlsx atomically; returns its path."""
    path = Path(out) / WORKBOOK_NAME
    write_atomic(path, workbook_bytes(tables))
    return path
