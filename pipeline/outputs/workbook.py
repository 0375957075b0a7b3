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
(pipeline.outputs.page.NOT_TEXT); a text longer than a cell holds (32,767 UTF-16 units, a character beyond U+FFFF
counting two) is cut, ending with …: the Parquet files keep it whole.

The cells are made here, with pandas; the file is written from them by `outputs.xlsx` (xlsxwriter, the same
bytes for the same tables whatever the clock or the machine), which imports neither pandas nor pyarrow, so that
the run has a process of its own write it (start_workbook).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.schema import ARROW_TYPES, BOOL, FIELDS, INT, NUMBER, STRING, STRINGS, TABLES
from pipeline.outputs.page import NOT_TEXT_RE
from pipeline.outputs.tables import column_values, list_cell
from pipeline.outputs.xlsx import WORKBOOK_NAME, Sheet, workbook_from, write_sheets

if TYPE_CHECKING:
    import pandas as pd

# UTF-16 units a spreadsheet cell holds (Excel's limit; xlsxwriter cuts a longer text, without a mark).
CELL_MAX = 32767


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
        elif kind not in (INT, NUMBER):
            raise ValueError(f"{table}.{name}: no cell type for a field of type {kind}")
        columns.append(values)
    return [list(row) for row in zip(*columns, strict=True)]


def workbook_sheets(tables: dict[str, pd.DataFrame]) -> list[Sheet]:
    """Each table as a sheet (`xlsx.Sheet`) in the schema's order: its name, its two header rows (the column names,
    then their Japanese titles) and the cells of its rows (sheet_values), plain values, from which `xlsx` writes
    the workbook without pandas, in a process of its own if need be."""
    return [sheet_of(tables[table], table) for table in sorted(tables, key=list(TABLES).index)]


def sheet_of(df: pd.DataFrame, table: str) -> Sheet:
    names = TABLES[table][0]
    header = [list(names), [FIELDS[name][1] for name in names]]
    return Sheet(table, [[text_cell(cell) for cell in row] for row in header], sheet_values(df, table))


def workbook_bytes(tables: dict[str, pd.DataFrame]) -> bytes:
    """The workbook of the tables, one sheet each in the schema's order, as bytes that depend on nothing else."""
    return workbook_from(workbook_sheets(tables))


def write_workbook(tables: dict[str, pd.DataFrame], out: Path) -> Path:
    """Write OUT/tables.xlsx atomically; returns its path."""
    return write_sheets(workbook_sheets(tables), Path(out) / WORKBOOK_NAME)


def start_workbook(tables: dict[str, pd.DataFrame], out: Path, beside) -> Callable[[], Path]:
    """Start writing OUT/tables.xlsx with `beside(function, *args)`, which runs it in a process of its own (the
    run's `run.workers.beside`, whose processes need no pandas: the sheets' cells are made here), so that the run
    writes the rest meanwhile; what it returns gives the path, or raises what writing it raised."""
    return beside(write_sheets, workbook_sheets(tables), Path(out) / WORKBOOK_NAME)
