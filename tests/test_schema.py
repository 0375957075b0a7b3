from pathlib import Path

import pyarrow as pa

from pipeline.docs import render_readme
from pipeline.schema import FIELDS, TABLES, arrow_schema

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_dictionary_and_vocabulary_are_up_to_date(sample):
    text = README.read_text(encoding="utf-8")
    assert render_readme(text, sample["tags"]) == text, "run: .venv/bin/python -m pipeline.docs README.md out/tags.parquet"


def test_every_table_field_is_declared_once():
    for names, key, foreign in TABLES.values():
        assert len(names) == len(set(names))
        assert set(names) <= set(FIELDS) and set(key) <= set(names)
        for fields, target in foreign:
            assert set(fields) <= set(TABLES[target][0])


def test_arrow_schema_carries_types_and_titles():
    schema = arrow_schema("plans")
    assert schema.field("municipality_code").type == pa.string()
    assert schema.field("period_start_fy").type == pa.int32()
    assert schema.field("photo_captions").type == pa.list_(pa.string())
    assert schema.field("plan_id").nullable is False
    assert schema.field("plan_id").metadata[b"title"].decode() == "計画ID"
