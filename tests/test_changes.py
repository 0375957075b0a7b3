"""What changed since the previous run (issue 23, item 5): the changes table compares this run's plans, pillars and
projects with those the previous run left in OUT, and the report opens with it. The comparison is tried on small
tables made by hand, the run on fixture PDFs added to RAW one after the other."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.core.io import sha256_file
from pipeline.outputs.changes import diff_tables, read_previous, summarize
from pipeline.outputs.report import render_report
from pipeline.outputs.tables import frame, parquet_bytes
from tests.conftest import run_pipeline
from tests.fixtures.render import render
from tests.fixtures.variants import VARIANTS
from tests.rows import pillar_row, plan_row, project_row

SAMPLE = Path(__file__).resolve().parents[1] / "raw" / "r2-approval-summary.pdf"

COLUMNS = ["change", "level", "plan_id", "pillar_no", "project_no", "field", "before", "after", "round"]


def tables(plans: list[dict], pillars: list[dict] = (), projects: list[dict] = ()) -> dict[str, pd.DataFrame]:
    return {
        "plans": frame(list(plans), "plans"),
        "pillars": frame(list(pillars), "pillars"),
        "projects": frame(list(projects), "projects"),
    }


def rows(changes: pd.DataFrame) -> list[tuple]:
    """The changes as tuples, missing values as None, in the table's order."""
    assert list(changes.columns) == COLUMNS
    return [tuple(None if pd.isna(v) else v for v in row) for row in changes.astype(object).itertuples(index=False)]


KEPT = plan_row()
OTHER = plan_row(plan_id="131067-2020", municipality="台東区", municipality_code="131067", round="令和3年度")


def test_the_same_tables_change_nothing():
    same = tables([KEPT], [pillar_row()], [project_row()])
    assert rows(diff_tables(same, tables([KEPT], [pillar_row()], [project_row()]))) == []
    assert summarize(diff_tables(same, same), 1) == (
        "前回の実行から変更はありません。",
        "Nothing changed since the previous run.",
    )


def test_a_plan_added_or_removed_is_one_row_whatever_its_pillars_and_projects():
    before = tables([KEPT], [pillar_row()], [project_row()])
    after = tables(
        [plan_row(), OTHER],
        [pillar_row(), pillar_row(plan_id="131067-2020"), pillar_row(plan_id="131067-2020", pillar_no=2)],
        [project_row(), project_row(plan_id="131067-2020")],
    )
    assert rows(diff_tables(before, after)) == [
        ("added", "plan", "131067-2020", None, None, None, None, None, "令和3年度"),
    ]
    assert rows(diff_tables(after, before)) == [
        ("removed", "plan", "131067-2020", None, None, None, None, None, "令和3年度"),
    ]
    assert summarize(diff_tables(before, after), 2) == (
        "この実行で令和3年度の計画を1件追加。",
        "This run: added 1 plan of 令和3年度.",
    )


def test_without_previous_tables_every_plan_is_added_and_the_sentence_says_there_were_none():
    after = tables([KEPT, OTHER], [pillar_row()], [project_row()])
    assert rows(diff_tables(None, after)) == [
        ("added", "plan", "131067-2020", None, None, None, None, None, "令和3年度"),
        ("added", "plan", "131091-2020", None, None, None, None, None, "令和2年度"),
    ]
    assert summarize(diff_tables(None, after), 2) == (
        "前回の計画がありません（初回の実行、または前回の表が不完全）。この実行で令和2年度の計画を1件追加、"
        "令和3年度の計画を1件追加。",
        "No previous plans (a first run, or the previous tables were incomplete). This run: added 1 plan of 令和2年度; "
        "added 1 plan of 令和3年度.",
    )


def test_a_field_of_a_plan_both_runs_hold_is_listed_with_its_value_before_and_after():
    before = tables([KEPT, OTHER])
    after = tables([plan_row(plan_title="新しい計画", summary=None), OTHER])
    assert rows(diff_tables(before, after)) == [
        ("changed", "plan", "131091-2020", None, None, "plan_title", "計画", "新しい計画", "令和2年度"),
        ("changed", "plan", "131091-2020", None, None, "summary", "概要", None, "令和2年度"),
    ]
    assert summarize(diff_tables(before, after), 2) == (
        "この実行で1件の計画が変更: 131091-2020。",
        "This run: 1 plan changed: 131091-2020.",
    )


def test_a_list_field_is_compared_and_shown_as_its_csv_cell():
    before = tables([plan_row(photo_captions=["工場", "店|舗"])])
    after = tables([plan_row(photo_captions=["工場"])])
    after["plans"]["themes"] = [["manufacturing", "tourism"]]
    assert rows(diff_tables(before, after)) == [
        ("changed", "plan", "131091-2020", None, None, "photo_captions", "工場|店\\|舗", "工場", "令和2年度"),
        ("changed", "plan", "131091-2020", None, None, "themes", "", "manufacturing|tourism", "令和2年度"),
    ]


def test_pillars_and_projects_added_removed_and_changed_within_a_plan_both_runs_hold():
    before = tables(
        [KEPT],
        [pillar_row(), pillar_row(pillar_no=2, pillar_title="二")],
        [project_row(), project_row(pillar_no=2, project_name="旧")],
    )
    after = tables(
        [KEPT],
        [pillar_row(has_more_projects=True), pillar_row(pillar_no=3, pillar_title="三")],
        [project_row(project_detail="内容"), project_row(project_no=2), project_row(pillar_no=3)],
    )
    assert rows(diff_tables(before, after)) == [
        ("added", "pillar", "131091-2020", 3, None, None, None, None, "令和2年度"),
        ("added", "project", "131091-2020", 1, 2, None, None, None, "令和2年度"),
        ("added", "project", "131091-2020", 3, 1, None, None, None, "令和2年度"),
        ("changed", "pillar", "131091-2020", 1, None, "has_more_projects", "False", "True", "令和2年度"),
        ("changed", "project", "131091-2020", 1, 1, "project_detail", None, "内容", "令和2年度"),
        ("removed", "pillar", "131091-2020", 2, None, None, None, None, "令和2年度"),
        ("removed", "project", "131091-2020", 2, 1, None, None, None, "令和2年度"),
    ]
    assert summarize(diff_tables(before, after), 1)[1] == "This run: 1 plan changed: 131091-2020."


def test_provenance_and_columns_one_side_lacks_are_not_compared():
    """A plan read from another file, or on other pages or elsewhere on them, is the same plan; a column the previous
    tables lack (an older run's) or this run's lack (one dropped since) is no change."""
    before = tables([KEPT], [pillar_row()], [project_row()])
    before["plans"] = before["plans"].drop(columns="is_corrected")
    after = tables(
        [
            plan_row(
                source_file="b.pdf",
                source_sha256="1" * 64,
                page_start=5,
                page_end=6,
                box_x0=70.0,
                boxes=["5:70,88.33,538.52,516.5"],
                review_notes=["p5: a note"],
            )
        ],
        [pillar_row(source_file="b.pdf", page=5, page_height=595.28)],
        [project_row(source_file="b.pdf", page=6)],
    )
    after["projects"] = after["projects"].drop(columns="is_corrected")
    assert rows(diff_tables(before, after)) == []


def test_tables_read_back_from_parquet_compare_equal_to_those_made(tmp_path):
    """Lists read back as arrays, integers with missing values as floats: the same values all the same."""
    made = tables(
        [plan_row(photo_captions=["写真"], period_start_fy=None)],
        [pillar_row(has_more_projects=True)],
        [project_row(project_detail="内容")],
    )
    made["plans"]["themes"] = [["manufacturing"]]
    read = {}
    for name, df in made.items():
        (tmp_path / f"{name}.parquet").write_bytes(parquet_bytes(df, name))
        read[name] = pd.read_parquet(tmp_path / f"{name}.parquet")
    assert rows(diff_tables(read, made)) == []


def test_the_previous_tables_are_read_only_when_the_manifest_vouches_for_them(tmp_path):
    """A set a killed run left mixed (a file the manifest names with other bytes) is no previous run."""
    assert read_previous(tmp_path) is None
    written = tables([KEPT], [pillar_row()], [project_row()])
    for name, df in written.items():
        (tmp_path / f"{name}.parquet").write_bytes(parquet_bytes(df, name))
    digests = {f"{name}.parquet": sha256_file(tmp_path / f"{name}.parquet") for name in written}
    (tmp_path / "manifest.json").write_text(json.dumps({"outputs": digests}), encoding="utf-8")
    assert read_previous(tmp_path)["plans"]["plan_id"].tolist() == ["131091-2020"]
    (tmp_path / "plans.parquet").write_bytes(parquet_bytes(frame([KEPT, OTHER], "plans"), "plans"))
    assert read_previous(tmp_path) is None


def test_the_report_lists_the_first_200_changes_and_counts_the_others():
    added = [
        {"change": "added", "level": "plan", "plan_id": f"131091-{2000 + i}", "round": "令和2年度"}
        | dict.fromkeys(["pillar_no", "project_no", "field", "before", "after"])
        for i in range(201)
    ]
    page = render_report({"changes": frame(added, "changes")}, [])
    assert page.count("<tr><td>added</td>") == 200
    assert "<code>131091-2199</code>" in page and "<code>131091-2200</code>" not in page
    assert "ほかに 1 件の変更は changes 表にあります。" in page


def summary_paragraph(out: Path) -> str:
    """The sentence that opens the report's changes section."""
    page = (out / "report.html").read_text(encoding="utf-8")
    start = page.index('<p id="changes-summary">')
    return page[start : page.index("</p>", start) + 4]


@pytest.mark.slow
def test_a_file_added_to_raw_is_in_the_changes_table_the_report_and_the_run_s_line(tmp_path, caplog):
    """台東区's two plans and 北区's, then the sample's six plans added with the round sources.csv gives them; then a
    run with nothing new, which writes nothing; then one forced to write the same tables again, which changed none."""
    caplog.set_level(logging.INFO, logger="pipeline")
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    doc, layout = VARIANTS["same_municipality_and_year"]
    render(doc, layout, raw / "d.pdf")
    assert run_pipeline(raw, out) == 0
    assert rows(pd.read_parquet(out / "changes.parquet")) == [
        ("added", "plan", "131067-2020", None, None, None, None, None, None),
        ("added", "plan", "131067-2020-2", None, None, None, None, None, None),
        ("added", "plan", "131172-2020", None, None, None, None, None, None),
    ]
    assert summary_paragraph(out) == (
        '<p id="changes-summary">前回の計画がありません（初回の実行、または前回の表が不完全）。'
        "この実行で承認回不明の計画を3件追加。"
        '<span class="en">No previous plans (a first run, or the previous tables were incomplete). '
        "This run: added 3 plans of unknown round.</span></p>"
    )

    shutil.copy(SAMPLE, raw / "b.pdf")
    (raw / "sources.csv").write_text("source_file,round\nb.pdf,令和2年度\n", encoding="utf-8")
    caplog.clear()
    assert run_pipeline(raw, out) == 0
    assert rows(pd.read_parquet(out / "changes.parquet")) == [
        ("added", "plan", plan_id, None, None, None, None, None, "令和2年度")
        for plan_id in ("131091-2020", "131148-2020", "131237-2020", "132012-2020", "132047-2020", "132152-2020")
    ]
    assert summary_paragraph(out) == (
        '<p id="changes-summary">この実行で令和2年度の計画を6件追加。'
        '<span class="en">This run: added 6 plans of 令和2年度.</span></p>'
    )
    assert "changes: This run: added 6 plans of 令和2年度." in caplog.messages

    written = (out / "changes.parquet").stat().st_mtime_ns, (out / "report.html").read_bytes()
    caplog.clear()
    assert run_pipeline(raw, out) == 0
    assert ((out / "changes.parquet").stat().st_mtime_ns, (out / "report.html").read_bytes()) == written
    assert [m for m in caplog.messages if m.startswith(("normalize", "changes"))] == [
        f"normalize: nothing changed since the last run, outputs in {out} kept"
    ]

    caplog.clear()
    assert run_pipeline(raw, out, "--force") == 0
    assert rows(pd.read_parquet(out / "changes.parquet")) == []
    assert summary_paragraph(out) == (
        '<p id="changes-summary">前回の実行から変更はありません。'
        '<span class="en">Nothing changed since the previous run.</span></p>'
    )
    assert "changes: Nothing changed since the previous run." in caplog.messages
