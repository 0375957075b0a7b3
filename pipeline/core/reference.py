"""The bundled reference data and the reader of every maintainers' CSV under pipeline/data: Tokyo's
municipalities with their English names, and the tag vocabulary's codes, which the schema's constraints and
the tables of their own (normalize.reference_tables) are made from. Nothing is read before it is asked for."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
MUNICIPALITIES_PATH = DATA_DIR / "municipalities.csv"
MUNICIPALITY_COLUMNS = ("municipality_code", "name_ja", "name_en", "municipality_kind", "municipality_kind_en")
VOCABULARY_PATH = DATA_DIR / "vocabulary.csv"
VOCABULARY_COLUMNS = ("code", "kind", "label_ja", "label_en", "covers", "excludes", "terms")
REVIEW_REASONS_PATH = DATA_DIR / "review_reasons.csv"
REVIEW_REASON_COLUMNS = ("code", "label_ja", "label_en", "meaning", "what_to_check")


def read_rows(path: Path, columns: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[tuple[int, dict[str, str]]]:
    """Read a maintainers' CSV as (line number, stripped cells), rejecting edits that would silently mis-tag;
    `optional` columns must be there but their cells may be empty."""
    with open(path, encoding="utf-8-sig", newline="") as file:  # -sig: spreadsheets save a BOM
        reader = csv.reader(file)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in columns + optional if name not in header]
        if missing:
            raise ValueError(f"{path.name}: missing column(s) {', '.join(missing)}")
        rows = []
        for fields in reader:
            if not "".join(fields).strip():  # a blank line, or a blank row as spreadsheets save it
                continue
            if len(fields) != len(header):
                raise ValueError(
                    f"{path.name} line {reader.line_num}: {len(fields)} fields, the header has {len(header)}"
                    " (a comma inside a cell?)"
                )
            cells = {
                name: value.strip() for name, value in zip(header, fields, strict=True) if name in columns + optional
            }
            empty = [name for name in columns if not cells[name]]
            if empty:
                raise ValueError(f"{path.name} line {reader.line_num}: empty {', '.join(empty)}")
            rows.append((reader.line_num, cells))
    return rows


@lru_cache(maxsize=1)
def municipality_rows() -> tuple[dict[str, str], ...]:
    """Tokyo's 62 municipalities as rows of municipalities.csv, in code order."""
    return tuple(row for _, row in read_rows(MUNICIPALITIES_PATH, MUNICIPALITY_COLUMNS))


def municipality_codes() -> tuple[str, ...]:
    """The municipalities' codes, in code order: the values a municipality_code may take."""
    return tuple(row["municipality_code"] for row in municipality_rows())


@lru_cache(maxsize=1)
def vocabulary_codes() -> tuple[str, ...]:
    """The vocabulary's codes, in its order: the values a tag's code may take."""
    return tuple(row["code"] for _, row in read_rows(VOCABULARY_PATH, VOCABULARY_COLUMNS))


@lru_cache(maxsize=1)
def review_reasons() -> dict[str, dict[str, str]]:
    """Why a plan may need a person's check, by code (review_reasons.csv): its labels, what it means, what to
    check. The one vocabulary of plans.review_reasons."""
    return {row["code"]: row for _, row in read_rows(REVIEW_REASONS_PATH, REVIEW_REASON_COLUMNS)}
