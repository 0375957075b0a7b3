"""The bundled reference data, also written out as tables of their own: Tokyo's municipalities with their
English names, and the tag vocabulary with its English labels, so that the tables can be read, and joined,
without this repository."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.tag import VOCABULARY_COLUMNS, VOCABULARY_PATH, read_rows

if TYPE_CHECKING:
    import pandas as pd

MUNICIPALITIES_PATH = Path(__file__).parent / "data" / "municipalities.csv"
MUNICIPALITY_COLUMNS = ("municipality_code", "name_ja", "name_en", "municipality_kind", "municipality_kind_en")


@lru_cache(maxsize=1)
def municipality_rows() -> tuple[dict[str, str], ...]:
    """Tokyo's 62 municipalities as rows of municipalities.csv, in code order."""
    return tuple(row for _, row in read_rows(MUNICIPALITIES_PATH, MUNICIPALITY_COLUMNS))


@lru_cache(maxsize=1)
def vocabulary_codes() -> tuple[str, ...]:
    """The vocabulary's codes, in its order: the values a tag's code may take."""
    return tuple(row["code"] for _, row in read_rows(VOCABULARY_PATH, VOCABULARY_COLUMNS))


def reference_tables() -> dict[str, pd.DataFrame]:
    """The vocabulary and municipalities tables, checked against the schema like every other table."""
    from pipeline.tables import frame
    from pipeline.tag import load_vocabulary

    return {
        "vocabulary": frame(load_vocabulary().to_dict("records"), "vocabulary"),
        "municipalities": frame(list(municipality_rows()), "municipalities"),
    }
