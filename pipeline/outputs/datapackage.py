"""The Frictionless Data Package descriptor of the output folder, generated from pipeline/schema.py alone.

`OUT/datapackage.json` describes each CSV file as a tabular resource (field types, Japanese titles, English
descriptions, constraints, primary and foreign keys), so `frictionless validate OUT/datapackage.json` checks
the CSV files against the schema, and each Parquet file as a file resource holding the same table.
The descriptor depends only on the schema and the pipeline version, never on the rows or the clock: the same
code writes the same bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline import PIPELINE_VERSION
from pipeline.core.io import write_atomic
from pipeline.core.schema import BOOL, FIELDS, STRINGS, TABLES, constraints
from pipeline.core.text import FORMULA_PREFIXES
from pipeline.outputs.tables import ESCAPE, LIST_ITEM_RE, LIST_SEPARATOR

if TYPE_CHECKING:  # only for the signatures: the descriptor never reads rows
    import pandas as pd

NAME = "tokyo-regional-industry-revitalization-plans"
TITLE = "承認した地域産業活性化計画の概要（東京都）: tables"
DESCRIPTION = (
    "Tables read from the Tokyo Metropolitan Government's PDF summaries 「承認した地域産業活性化計画の概要」 of the "
    "approved regional industry revitalization plans (地域産業活性化計画): documents, plans, pillars (柱), projects "
    "(事業) and tags. Each table is here twice: as CSV for spreadsheets and as Parquet for pandas, DuckDB or Arrow. "
    "Generated from pipeline/schema.py, the schema the README's data dictionary also comes from."
)
# How pipeline.core.io.csv_bytes writes a CSV: pandas' to_csv with CRLF rows and minimal quoting.
CSV_DIALECT = {
    "delimiter": ",",
    "doubleQuote": True,
    "header": True,
    "lineTerminator": "\r\n",
    "quoteChar": '"',
    "skipInitialSpace": False,
}
TRUE_VALUES, FALSE_VALUES = ["True"], ["False"]  # pandas writes booleans as True/False
CSV_NOTE = (
    "CSV, UTF-8 with a byte order mark (BOM) so that spreadsheets read it as UTF-8, CRLF line ends. Missing values "
    f"are empty cells. A text cell starting with {' '.join(FORMULA_PREFIXES)} (after any apostrophes) has one more "
    "leading apostrophe (') so that a spreadsheet shows it as text: remove one apostrophe before such a character "
    "to get the text back; the Parquet file keeps the text unchanged. List columns are declared as strings "
    f"holding the items joined with {LIST_SEPARATOR} (an empty cell for an empty list; no item is empty); inside an "
    f"item a backslash is written {ESCAPE * 2} and a {LIST_SEPARATOR} {ESCAPE}{LIST_SEPARATOR}, and an apostrophe "
    f"that starts the cell {ESCAPE}'. To read a list cell: take off the apostrophe guard, take the items as the "
    f"matches of the regular expression {LIST_ITEM_RE} (that is, split at each {LIST_SEPARATOR} no backslash "
    "escapes), then replace each backslash and the character after it with that character."
)
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"


def _field(name: str) -> dict:
    kind, title, description, _ = FIELDS[name]
    field: dict = {"name": name, "title": title}
    if kind == STRINGS:
        field["type"] = "string"
        field["description"] = (
            f"{description} List of strings: in this CSV the items joined with '{LIST_SEPARATOR}', a "
            f"'{LIST_SEPARATOR}' or a backslash inside an item escaped with a backslash (see the resource's "
            "description for how to split the cell); in the Parquet file a list<string> column."
        )
    else:
        field["type"] = kind
        field["description"] = description
    if kind == BOOL:
        field["trueValues"] = list(TRUE_VALUES)
        field["falseValues"] = list(FALSE_VALUES)
    if FIELDS[name][3]:
        field["constraints"] = constraints(name)
    return field


def _csv_resource(table: str) -> dict:
    names, key, foreign = TABLES[table]
    schema: dict = {
        "fields": [_field(name) for name in names],
        "missingValues": [""],
        "primaryKey": list(key),
    }
    if foreign:
        # A foreign key points at the referenced table's columns of the same names (its primary key) unless it
        # names them; a table referring to itself is the resource "" (the Table Schema's self-reference).
        schema["foreignKeys"] = [
            {
                "fields": list(fields),
                "reference": {
                    "resource": "" if ref == table else ref,
                    "fields": list(ref_fields[0] if ref_fields else fields),
                },
            }
            for fields, ref, *ref_fields in foreign
        ]
    return {
        "name": table,
        "title": f"{table} (CSV)",
        "description": f"The {table} table, key ({', '.join(key)}). {CSV_NOTE}",
        "path": f"{table}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        # The files start with a BOM: Python's codec name for that is utf-8-sig, which frictionless also
        # chooses by itself for a "utf-8" file that starts with one. "utf-8" is the IANA name readers expect.
        "encoding": "utf-8",
        "dialect": dict(CSV_DIALECT),
        "schema": schema,
    }


def _parquet_resource(table: str) -> dict:
    names, key, _ = TABLES[table]
    return {
        "name": f"{table}-parquet",
        "title": f"{table} (Parquet)",
        "description": (
            f"The {table} table as Parquet (zstd): the same rows and columns as resource `{table}`, key "
            f"({', '.join(key)}); list columns are list<string>, integers int32, text without the CSV's apostrophe. "
            "Each column carries its title and description in the Parquet schema's field metadata."
        ),
        "path": f"{table}.parquet",
        "type": "file",
        "format": "parquet",
        "mediatype": PARQUET_MEDIATYPE,
    }


def datapackage(tables: dict[str, pd.DataFrame] | None = None) -> dict:
    """The descriptor: a CSV resource and a Parquet resource for each table.

    `tables` only selects which tables are described (default: every table in the schema, in schema order);
    the rows themselves are never read, so the descriptor is the same for any data.
    """
    names = [t for t in TABLES if tables is None or t in tables]
    return {
        "profile": "data-package",  # not tabular-data-package: the Parquet resources are files
        "name": NAME,
        "title": TITLE,
        "description": DESCRIPTION,
        "version": PIPELINE_VERSION,
        "resources": [_csv_resource(t) for t in names] + [_parquet_resource(t) for t in names],
    }


def datapackage_bytes(tables: dict[str, pd.DataFrame] | None = None) -> bytes:
    """The descriptor as JSON text: keys sorted, 2-space indent, UTF-8, a final newline."""
    text = json.dumps(datapackage(tables), ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")


def write_datapackage(out: Path, tables: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write OUT/datapackage.json atomically; returns its path."""
    path = Path(out) / "datapackage.json"
    write_atomic(path, datapackage_bytes(tables))
    return path


if __name__ == "__main__":  # python -m pipeline.outputs.datapackage OUT
    import sys

    print(write_datapackage(Path(sys.argv[1] if len(sys.argv) > 1 else "out")))
