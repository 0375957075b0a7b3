"""A workbook of typed cells written with xlsxwriter, the same bytes for the same cells: the file-writing half of
OUT/tables.xlsx (`outputs.workbook` makes the cells from the tables, and says what they hold).

It imports neither pandas nor pyarrow, so that a process of the run's fork server, which has not loaded them,
writes the workbook while the run writes the rest (`workbook.start_workbook`): importing them there would cost
the half-second the process saves.

Written with xlsxwriter, which writes a cell in a third of openpyxl's time (the workbook was the run's largest
serial step), each value by the writer of its type. The workbook's properties carry a fixed date, and the zip
entries a fixed date, system and permissions, whatever the clock or the machine when it is written.
"""

from __future__ import annotations

import datetime
import io
import unicodedata
import zipfile
from pathlib import Path
from typing import NamedTuple

from pipeline import PIPELINE_VERSION
from pipeline.core.io import write_atomic

WORKBOOK_NAME = "tables.xlsx"
HEADER_ROWS = 2  # column names, then Japanese titles
# The date a workbook says it was created and modified, and its zip entries' dates: nothing that varies. The
# zip format counts from 1980; 2000-01-01 reads as an obviously made-up date.
FIXED_DATE = datetime.datetime(2000, 1, 1)
CREATOR = f"tokyo-plans {PIPELINE_VERSION}"
WIDTH_MIN, WIDTH_MAX, WIDTH_PADDING = 6, 60, 2  # column widths, in widths of a narrow character


class Sheet(NamedTuple):
    """One sheet: its name, its HEADER_ROWS header rows (bold, frozen) and its rows, every cell a str, int, bool or
    None (an empty cell)."""

    name: str
    header: list[list[str]]
    rows: list[list]


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


def add_sheet(workbook, bold, sheet_cells: Sheet) -> None:
    """One sheet: bold header rows, frozen; an autofilter on the last of them; widths; typed cells."""
    name, header, rows = sheet_cells
    sheet = workbook.add_worksheet(name)
    for i, width in enumerate(column_widths(header, rows)):
        # In pixels: 7 a narrow character at the default font, which xlsxwriter writes as the width itself,
        # where set_column would add its padding of 5 pixels.
        sheet.set_column_pixels(i, i, 7 * width)
    sheet.freeze_panes(HEADER_ROWS, 0)
    sheet.autofilter(HEADER_ROWS - 1, 0, HEADER_ROWS - 1 + len(rows), len(header[0]) - 1)
    for r, row in enumerate(header):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value, bold)
    # Each value by its own writer: a string is never read as a formula, a number or an address.
    write = {str: sheet.write_string, int: sheet.write_number, float: sheet.write_number, bool: sheet.write_boolean}
    for r, row in enumerate(rows, start=HEADER_ROWS):
        for c, value in enumerate(row):
            if value is not None:
                write[type(value)](r, c, value)


def workbook_from(sheets: list[Sheet]) -> bytes:
    """The workbook of the sheets, in their order, as bytes that depend on nothing else."""
    import xlsxwriter

    buffer = io.BytesIO()
    # In memory: no temporary files, and faster here than constant_memory, whose inline strings make a larger file.
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"author": CREATOR, "created": FIXED_DATE})  # created and modified alike
    bold = workbook.add_format({"bold": True})
    for sheet in sheets:
        add_sheet(workbook, bold, sheet)
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


def write_sheets(sheets: list[Sheet], path: Path) -> Path:
    """Write the workbook of the sheets to `path` atomically; returns the path."""
    write_atomic(path, workbook_from(sheets))
    return path
