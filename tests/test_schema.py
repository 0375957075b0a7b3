from pathlib import Path

import pyarrow as pa
import pytest

from pipeline.core.schema import FIELDS, TABLES, arrow_schema
from pipeline.outputs.tables import check_columns
from tests.rows import document_row, pillar_row, plan_row, project_row
from tools.docs import generated_parts, render

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("doc", ["README.md", "docs/data-dictionary.md", "docs/maintaining.md"])
def test_generated_parts_of_the_docs_are_up_to_date(sample, doc):
    path = ROOT / doc
    parts = generated_parts(ROOT, sample["tags"])[path]
    assert render(path, parts) == path.read_text(encoding="utf-8"), "run: make docs"


def test_readme_stays_short_and_links_the_docs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 160
    for doc in ("docs/maintaining.md", "docs/data-dictionary.md", "docs/performance.md"):
        assert f"]({doc}" in text and (ROOT / doc).is_file()


def test_every_table_field_is_declared_once():
    for names, key, foreign in TABLES.values():
        assert len(names) == len(set(names))
        assert set(names) <= set(FIELDS) and set(key) <= set(names)
        for fields, target, *target_fields in foreign:
            assert set(fields) <= set(names)
            assert set(target_fields[0] if target_fields else fields) <= set(TABLES[target][1])  # its primary key


def test_arrow_schema_carries_types_and_titles():
    schema = arrow_schema("plans")
    assert schema.field("municipality_code").type == pa.string()
    assert schema.field("period_start_fy").type == pa.int32()
    assert schema.field("photo_captions").type == pa.list_(pa.string())
    assert schema.field("plan_id").nullable is False
    assert schema.field("plan_id").metadata[b"title"].decode() == "計画ID"


@pytest.mark.parametrize(
    "table, row", [("documents", document_row), ("plans", plan_row), ("pillars", pillar_row), ("projects", project_row)]
)
def test_the_hand_made_rows_of_the_tests_have_every_column_of_their_table(table, row):
    check_columns([row()], table)  # tests/rows.py: a new column goes there once, for every test
