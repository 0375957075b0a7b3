"""Atomic, deterministic writers: a reader never sees a half-written file, and the same rows give the same bytes.

pandas and pyarrow are imported inside the functions that need them: the extract stage forks its
PDF workers from a parent that imports this module, and a parent without them is small (the
workers' memory cap counts the address space they inherit) and has no threads when it forks.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import PIPELINE_VERSION

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

# A cell starting with one of these runs as a formula when a spreadsheet opens the CSV.
FORMULA_PREFIXES = ("=", "+", "-", "@")
LIST_SEPARATOR = "|"
TEMPORARY_SUFFIX = ".tmp"


@lru_cache(maxsize=1)
def file_mode() -> int:
    """Permissions of a new file under the current umask: mkstemp's 0600 would hide outputs from other users."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes, read in blocks so a large PDF does not sit in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, flush it to disk, then rename it into place: a run killed at
    any moment leaves either the previous file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), file_mode())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries, so a rename survives a power cut as well as a killed process."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the temporary files a killed run left in `folder` (hidden, ending in .tmp); returns them."""
    stale = sorted(folder.glob(f".*{TEMPORARY_SUFFIX}")) if folder.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def parquet_bytes(df: pd.DataFrame, table: str) -> bytes:
    """A table as Parquet (zstd, dictionary-encoded strings) with its explicit schema and descriptions."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.schema import arrow_schema

    schema = arrow_schema(table).with_metadata({"pipeline_version": PIPELINE_VERSION, "table": table})
    arrow = pa.table([pa.array(column_values(df[f.name], f.type), type=f.type) for f in schema], schema=schema)
    buf = io.BytesIO()
    pq.write_table(arrow, buf, compression="zstd", use_dictionary=True)
    return buf.getvalue()


def column_values(col: pd.Series, kind: pa.DataType) -> list:
    """Python values of a column, with pandas' missing markers as None and whole numbers as int."""
    import pandas as pd
    import pyarrow as pa

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
    import pandas as pd

    from pipeline.schema import FIELDS, INT, STRING, STRINGS, TABLES

    names = TABLES[table][0]
    out = pd.DataFrame(index=df.index)
    for name in names:
        kind = FIELDS[name][0]
        col = df[name]
        if kind == STRINGS:
            col = col.map(lambda v: LIST_SEPARATOR.join(v) if v is not None else None)
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
            written[path.name] = hashlib.sha256(data).hexdigest()
    return written
