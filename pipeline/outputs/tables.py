"""Rows to output tables and tables to bytes, driven by pipeline/schema.py.

A row with a column the schema does not declare, or without one it does, fails here, before anything is
written. The tag columns (`themes`, `instruments`) are filled by pipeline.tagging.tagger after the rows are framed: a
row may leave them out, and they start as empty lists. The same rows give the same bytes.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import PIPELINE_VERSION
from pipeline.core.faults import stop_here
from pipeline.core.io import write_atomic
from pipeline.core.schema import FIELDS, INT, STRING, STRINGS, TABLES, arrow_schema
from pipeline.core.text import csv_cell

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

TAG_COLUMNS = ("themes", "instruments")
# A list cell in CSV: the items joined with |; inside an item a backslash is written \\ and a | \|, and an
# apostrophe that starts the cell \' (so the formula guard below never takes it for its own). Read back: take off
# the guard, split at each | not escaped, then read each backslash and the character after it as that character.
LIST_SEPARATOR = "|"
ESCAPE = "\\"
LIST_ITEM_RE = r"(?:\\.|[^|\\])+"  # the items of a list cell, still escaped (the README's splitter)


def frame(rows: list[dict], table: str) -> pd.DataFrame:
    """Rows as a DataFrame with every column of the table, sorted by its key; tag lists start empty."""
    import pandas as pd

    names, key, _ = TABLES[table]
    check_columns(rows, table)
    df = pd.DataFrame(rows, columns=names)
    for name in names:
        if FIELDS[name][0] == INT:
            df[name] = df[name].astype("Int64")  # a missing page count stays missing, not 3.0
    for name in TAG_COLUMNS:
        if name in df:
            df[name] = [[] for _ in range(len(df))]
    return df.sort_values(key, kind="stable").reset_index(drop=True)


def check_columns(rows: list[dict], table: str) -> None:
    """Refuse rows whose keys are not the table's columns (tag columns aside): a misspelt key would otherwise
    become a silently empty column."""
    expected = set(TABLES[table][0]) - set(TAG_COLUMNS)
    for row in rows:
        keys = set(row) - set(TAG_COLUMNS)
        if keys != expected:
            raise ValueError(
                f"{table} row: unknown column(s) {sorted(keys - expected)}, missing column(s) {sorted(expected - keys)}"
            )


def parquet_bytes(df: pd.DataFrame, table: str) -> bytes:
    """A table as Parquet (zstd, dictionary-encoded strings) with its explicit schema and descriptions."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(table).with_metadata({"pipeline_version": PIPELINE_VERSION, "table": table})
    arrow = pa.table([pa.array(column_values(df[f.name], f.type), type=f.type) for f in schema], schema=schema)
    buf = io.BytesIO()
    pq.write_table(arrow, buf, compression="zstd", use_dictionary=True)
    return buf.getvalue()


def column_values(col: pd.Series, kind: pa.DataType) -> list:
    """Python values of a column, with pandas' missing markers as None and whole numbers as int; a list cell may be
    a list, a tuple or, read back from Parquet, an array."""
    import pandas as pd
    import pyarrow as pa

    na, nat = pd.NA, pd.NaT
    # The missing markers, tested cheaply: this runs on every cell of every table (pd.isna costs ten times more).
    values = [
        None if v is None or v is na or v is nat or (isinstance(v, float) and v != v) else v for v in col.tolist()
    ]
    if pa.types.is_integer(kind):
        return [None if v is None else int(v) for v in values]
    if pa.types.is_list(kind):
        return [None if v is None else list(v) for v in values]
    return values


def list_cell(items) -> str:
    """A list as the text of one CSV cell, every item recoverable (see LIST_SEPARATOR); an empty list is ''."""
    cell = LIST_SEPARATOR.join(
        item.replace(ESCAPE, ESCAPE * 2).replace(LIST_SEPARATOR, ESCAPE + LIST_SEPARATOR) for item in items
    )
    return ESCAPE + cell if cell.startswith("'") else cell


def csv_bytes(df: pd.DataFrame, table: str) -> bytes:
    """A table as CSV for spreadsheets: UTF-8 with BOM, lists |-joined with escapes, codes as text, no formulas."""
    import pandas as pd

    names = TABLES[table][0]
    out = pd.DataFrame(index=df.index)
    for name in names:
        kind = FIELDS[name][0]
        col = df[name]
        if kind == STRINGS:
            col = col.map(lambda v: list_cell(v) if v is not None else None)
        elif kind == INT:
            col = col.astype("Int64")
        if kind in (STRING, STRINGS):
            col = col.map(lambda v: csv_cell(v) if isinstance(v, str) else v)
        out[name] = col
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def write_tables(tables: dict[str, pd.DataFrame], out: Path) -> dict[str, str]:
    """Write every table as Parquet and CSV, each file whole or not at all; returns file name → sha256,
    for the manifest to tell which set of files belongs together."""
    written = {}
    for table, df in tables.items():
        for suffix, data in (("parquet", parquet_bytes(df, table)), ("csv", csv_bytes(df, table))):
            path = out / f"{table}.{suffix}"
            write_atomic(path, data)
            stop_here("mid_table_write")  # after the first file is written, before the others
            written[path.name] = hashlib.sha256(data).hexdigest()
    return written
