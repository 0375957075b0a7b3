"""Atomic, deterministic writers: a reader never sees a half-written file, and the same rows give the same bytes."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import PIPELINE_VERSION
from pipeline.schema import FIELDS, STRINGS, TABLES, arrow_schema

# A cell starting with one of these runs as a formula when a spreadsheet opens the CSV.
FORMULA_PREFIXES = ("=", "+", "-", "@")
LIST_SEPARATOR = "|"


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def parquet_bytes(df: pd.DataFrame, table: str) -> bytes:
    """A table as Parquet (zstd, dictionary-encoded strings) with its explicit schema and descriptions."""
    schema = arrow_schema(table).with_metadata({"pipeline_version": PIPELINE_VERSION, "table": table})
    arrow = pa.table([pa.array(column_values(df[f.name], f.type), type=f.type) for f in schema], schema=schema)
    buf = io.BytesIO()
    pq.write_table(arrow, buf, compression="zstd", use_dictionary=True)
    return buf.getvalue()


def column_values(col: pd.Series, kind: pa.DataType) -> list:
    """Python values of a column, with pandas' missing markers as None and whole numbers as int."""
    values = [None if not isinstance(v, (list, tuple)) and pd.isna(v) else v for v in col.tolist()]
    if pa.types.is_integer(kind):
        return [None if v is None else int(v) for v in values]
    if pa.types.is_list(kind):
        return [None if v is None else list(v) for v in values]
    return values


def csv_cell(value: str) -> str:
    """Quote a leading formula character with an apostrophe, as spreadsheets expect for literal text."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_bytes(df: pd.DataFrame, table: str) -> bytes:
    """A table as CSV for spreadsheets: UTF-8 with BOM, lists |-joined, codes as text, no formulas."""
    names = TABLES[table][0]
    out = pd.DataFrame(index=df.index)
    for name in names:
        kind = FIELDS[name][0]
        col = df[name]
        if kind == STRINGS:
            col = col.map(lambda v: LIST_SEPARATOR.join(v) if v is not None else None)
        elif kind == "integer":
            col = col.astype("Int64")
        if kind in ("string", STRINGS):
            col = col.map(lambda v: csv_cell(v) if isinstance(v, str) else v)
        out[name] = col
    return out.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def write_tables(tables: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    """Write every table as Parquet and CSV; each file appears whole or not at all."""
    written = []
    for table, df in tables.items():
        for suffix, data in (("parquet", parquet_bytes(df, table)), ("csv", csv_bytes(df, table))):
            path = out / f"{table}.{suffix}"
            write_atomic(path, data)
            written.append(path)
    return written
