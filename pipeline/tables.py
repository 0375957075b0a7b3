"""Rows to output tables, driven by pipeline/schema.py: a row with a column the schema does not declare, or
without one it does, fails here, before anything is written.

The tag columns (`themes`, `instruments`) are filled by pipeline.tag after the rows are framed: a row may
leave them out, and they start as empty lists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.schema import FIELDS, INT, TABLES

if TYPE_CHECKING:
    import pandas as pd

TAG_COLUMNS = ("themes", "instruments")


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
            raise ValueError(f"{table} row: unknown column(s) {sorted(keys - expected)}, "
                             f"missing column(s) {sorted(expected - keys)}")
