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
(pipeline.outputs.report.NOT_TEXT); a text longer than a cell holds (32,767 UTF-16 units, a character beyond U+FFFF
counting two) is cut, ending with …: the Parquet files keep it whole.

Written with xlsxwriter, which writes a cell in a third of openpyxl's time (the workbook was the run's largest
serial step), each value by the writer of its type.

The same tables give the same bytes: the workbook's properties carry a fixed date, and the zip entries a fixed
date, system and permissions, whatever the clock or the machine when it is written.
"""

from __future__ import annotations

import datetime
import io
import unicodedata
import zipfile
from collections.abc import Callable
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
# UTF-16 units a spreadsheet cell holds (Excel's limit; xlsxwriter cuts a longer text, without a mark).
CELL_MAX = 32767
WIDTH_MIN, WIDTH_MAX, WIDTH_PADDING = 6, 60, 2  # column widths, in widths of a narrow character


def text_cell(value: str) -> str | None:
    """Text as a cell holds it: characters XML cannot hold as U+FFFD, cut to what a cell holds; '' as None."""
    value = NOT_TEXT_RE.sub("\ufffd", value)
    if len(value) > CELL_MAX // 2 and len(units := value.encode("utf-16-le")) > 2 * CELL_MAX:
        # A pair cut in two loses its first half, which alone is no character.
        value = units[: 2 * (CELL_MAX - 1)].decode("utf-16-le", "ignore") + "…"
    return value or None


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
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def column_widths(header: list[list[str]], rows: list[list]) -> list[int]:
    """Each column's width: its widest header or value plus padding, within WIDTH_MIN and WIDTH_MAX. A text is
    measured on its first WIDTH_MAX characters, each of which is one wide at least; each distinct one once, as
    codes, names and flags repeat down a column."""
    widths = []
    for column in zip(*header, *rows, strict=True):
        texts = {str(value)[:WIDTH_MAX] for value in column if value is not None}
        widths.append(min(WIDTH_MAX, max(WIDTH_MIN, max(map(display_width, texts), default=0) + WIDTH_PADDING)))
    return widths


def workbook_sheets(tables: dict[str, pd.DataFrame]) -> list[tuple[str, list[list]]]:
    """Each table's name and the cells of its rows (sheet_values), in the schema's order: plain values, which the
    workbook is written from (workbook_from) without pandas, in a process of its own if need be."""
    return [(table, sheet_values(tables[table], table)) for table in sorted(tables, key=list(TABLES).index)]


def add_sheet(workbook, bold, table: str, rows: list[list]) -> None:
    """One table as a sheet: two bold header rows, frozen; an autofilter; widths; typed cells."""
    names = TABLES[table][0]
    header = [list(names), [FIELDS[name][1] for name in names]]
    sheet = workbook.add_worksheet(table)
    for i, width in enumerate(column_widths(header, rows)):
        # In pixels: 7 a narrow character at the default font, which xlsxwriter writes as the width itself,
        # where set_column would add its padding of 5 pixels.
        sheet.set_column_pixels(i, i, 7 * width)
    sheet.freeze_panes(HEADER_ROWS, 0)
    sheet.autofilter(HEADER_ROWS - 1, 0, HEADER_ROWS - 1 + len(rows), len(names) - 1)
    for r, row in enumerate(header):
        for c, value in enumerate(row):
            sheet.write_string(r, c, text_cell(value), bold)
    # Each value by its own writer: a string is never read as a formula, a number or an address.
    write = {str: sheet.write_string, int: sheet.write_number, bool: sheet.write_boolean}
    for r, row in enumerate(rows, start=HEADER_ROWS):
        for c, value in enumerate(row):
            if value is not None:
                write[type(value)](r, c, value)


def workbook_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """The workbook of the tables, one sheet each in the schema's order, as bytes that depend on nothing else."""
    return workbook_from(workbook_sheets(tables))


def workbook_from(sheets: list[tuple[str, list[list]]]) -> bytes:
    """The workbook of sheets made by workbook_sheets, as bytes that depend on nothing else."""
    import xlsxwriter

    buffer = io.BytesIO()
    # In memory: no temporary files, and faster here than constant_memory, whose inline strings make a larger file.
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"author": CREATOR, "created": FIXED_DATE})  # created and modified alike
    bold = workbook.add_format({"bold": True})
    for table, rows in sheets:
        add_sheet(workbook, bold, table, rows)
    workbook.close()
    # xlsxwriter dates the zip entries (1980-01-01), but zipfile marks each as made on Windows or on Unix after
    # the machine that writes it: write the entries again, the same on every machine and dated as the properties.
    return fixed_zip(buffer.getvalue())


def fixed_zip(data: bytes) -> bytes:
    """The zip archive `data` written again entry for entry, in the same order and compression, with the same
    date, system and permissions on every entry."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_DATE.timetuple()[:6])
            fixed.compress_type, fixed.create_system, fixed.external_attr = entry.compress_type, 3, 0o644 << 16
            target.writestr(fixed, source.read(entry))
    return out.getvalue()


def write_workbook(tables: dict[str, pd.DataFrame], out: Path) -> Path:
    """Write OUT/tables.xlsx atomically; returns its path."""
    return write_sheets(workbook_sheets(tables), out)


def write_sheets(sheets: list[tuple[str, list[list]]], out: Path) -> Path:
    """Write OUT/tables.xlsx of sheets made by workbook_sheets atomically; returns its path."""
    path = Path(out) / WORKBOOK_NAME
    write_atomic(path, workbook_from(sheets))
    return path


def start_workbook(tables: dict[str, pd.DataFrame], out: Path, beside) -> Callable[[], Path]:
    """Start writing OUT/tables.xlsx with `beside(function, *args)`, which runs it in a process of its own (the
    run's `run.workers.beside`, whose processes need no pandas: the sheets' cells are made here), so that the run
    writes the rest meanwhile; what it returns gives the path, or raises what writing it raised."""
    return beside(write_sheets, workbook_sheets(tables), out)
