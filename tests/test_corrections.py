"""RAW/corrections.csv: a maintainer's fixes of misreads, checked on load and applied in normalize (issue 23)."""

import codecs
import json
import logging
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.acquire.corrections import read_corrections
from pipeline.acquire.sources import is_input_name
from pipeline.core.records import Correction, CorrectionOutcome, Pillar, Plan, Project, SegmentRecord
from pipeline.normalize import assemble, file_rows
from pipeline.outputs.report import recorded_corrections, render_report
from tests.conftest import run_pipeline
from tests.test_report import hand_tables, parse

SAMPLE = Path(__file__).resolve().parents[1] / "raw" / "r2-approval-summary.pdf"

SHA = "a" * 64
HEADER = "source_sha256,plan_id,field,pillar_no,project_no,as_read,corrected,reason\n"


def write_corrections(raw, *rows: str, bom: bool = False) -> None:
    text = HEADER + "".join(row + "\n" for row in rows)
    (raw / "corrections.csv").write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))


def test_corrections_csv_is_no_input():
    assert not is_input_name("corrections.csv")
    assert is_input_name("corrections.pdf")


def test_a_row_is_read_with_its_numbers_and_its_text_made_canonical(tmp_path):
    write_corrections(tmp_path, f"{SHA},131091-2020,project_name,1,2,展示会出展事業,ＩｏＴ導入事業,misread", bom=True)
    assert read_corrections(tmp_path).rows == [
        Correction(2, SHA, "131091-2020", "project_name", 1, 2, "展示会出展事業", "IoT導入事業", "misread")
    ]
    assert read_corrections(tmp_path).problems == []


def test_no_file_no_corrections(tmp_path):
    found = read_corrections(tmp_path)
    assert (found.rows, found.problems) == ([], [])


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            f"{SHA},131091-2020,title,,,a,b,why",
            "field 'title' is none of plan_title, summary, photo_caption, add_photo_caption, remove_photo_caption, "
            "pillar_title, project_name, project_detail, add_project, remove_project",
        ),
        ("ABC,131091-2020,plan_title,,,a,b,why", "source_sha256 'ABC' is not a lowercase hex sha256"),
        (f"{SHA},,plan_title,,,a,b,why", "no plan_id"),
        (f"{SHA},131091-2020,plan_title,,,a,b,", "no reason"),
        (f"{SHA},131091-2020,pillar_title,,,a,b,why", "pillar_title needs a pillar_no"),
        (f"{SHA},131091-2020,project_name,1,,a,b,why", "project_name needs a project_no"),
        (f"{SHA},131091-2020,plan_title,1,,a,b,why", "plan_title takes no pillar_no"),
        (f"{SHA},131091-2020,pillar_title,0,,a,b,why", "pillar_no '0' is not a number from 1"),
        (f"{SHA},131091-2020,pillar_title,一,,a,b,why", "pillar_no '一' is not a number from 1"),
        (f"{SHA},131091-2020,add_project,1,,a,b,why", "add_project adds what was not read: as_read must be empty"),
        (f"{SHA},131091-2020,plan_title,,,a,,why", "plan_title needs a corrected value"),
        (f"{SHA},131091-2020,photo_caption,,,,b,why", "photo_caption needs the value as read"),
        (
            f"{SHA},131091-2020,remove_project,1,1,a,b,why",
            "remove_project removes what was read: corrected must be empty",
        ),
    ],
)
def test_a_row_that_cannot_be_a_correction_is_left_out_with_its_line_and_the_others_kept(tmp_path, row, problem):
    write_corrections(tmp_path, row, f"{SHA},131091-2020,summary,,,概要,,no overview")
    found = read_corrections(tmp_path)
    assert found.problems == [f"corrections.csv line 2: {problem}, row ignored"]
    assert found.rows == [Correction(3, SHA, "131091-2020", "summary", None, None, "概要", None, "no overview")]


def test_a_file_without_the_columns_is_not_read(tmp_path):
    (tmp_path / "corrections.csv").write_text("sha256,plan,field\n", encoding="utf-8")
    assert read_corrections(tmp_path).problems == [
        "corrections.csv not read: no source_sha256, plan_id, pillar_no, project_no, as_read, corrected, reason "
        "column in its first line"
    ]


def test_a_file_not_in_utf8_is_not_read(tmp_path):
    (tmp_path / "corrections.csv").write_bytes(HEADER.encode() + "品川区".encode("shift_jis"))
    [problem] = read_corrections(tmp_path).problems
    assert problem.startswith("corrections.csv not read: 'utf-8' codec can't decode byte 0x95")


# --------------------------------------------------------------------------- applied in normalize.assemble


def segment_of(sha: str, plans: list[Plan]) -> SegmentRecord:
    return SegmentRecord("test", "test", sha, "ok", None, 3, plans, [], [], [], [], None)


def shinagawa(title: str = "品川区計画") -> Plan:
    """品川区's plan of 令和2年度: an overview, two captions, two pillars of two projects and one."""
    return Plan(
        plan_title=title,
        municipality="品川区",
        period_text="令和2年度～令和4年度",
        summary="概要",
        photo_captions=["写真一", "写真二"],
        page_start=1,
        page_end=2,
        regions=[],
        pillars=[
            Pillar(
                1,
                "柱一",
                1,
                False,
                [Project("展示会出展事業", None, 1, []), Project("商談会", "年2回", 2, [])],
                [],
            ),
            Pillar(3, "柱三", 2, False, [Project("事業", None, 2, [])], []),
        ],
        doubts=[],
    )


def fix(line: int, field: str, as_read=None, corrected=None, pillar=None, project=None, plan="131091-2020", sha=SHA):
    return Correction(line, sha, plan, field, pillar, project, as_read, corrected, "読み誤り")


def assembled_with(*corrections: Correction, files=None):
    files = files or [("a.pdf", file_rows(segment_of(SHA, [shinagawa()])))]
    return assemble(files, corrections=list(corrections))


def table(assembled, name: str, *columns: str) -> list[list]:
    """The columns of a table's rows, a missing value as None."""
    return [
        [None if v is pd.NA or v != v else v for v in row]
        for row in assembled.tables[name][list(columns)].values.tolist()
    ]


def test_a_project_name_corrected_changes_its_row_its_tags_and_its_pillars_and_plans():
    assembled = assembled_with(fix(2, "project_name", "展示会出展事業", "創業支援補助金", 1, 1))
    assert table(assembled, "projects", "pillar_no", "project_no", "project_name", "is_corrected") == [
        [1, 1, "創業支援補助金", True],
        [1, 2, "商談会", False],
        [3, 1, "事業", False],
    ]
    assert table(assembled, "projects", "themes", "instruments")[0] == [["startup"], ["subsidy"]]
    # the plan is tagged again, rolled up: pillar 1 has 商談会 too (商談, an exhibition's sales), pillar 3 no term
    assert table(assembled, "pillars", "pillar_no", "is_corrected", "themes", "instruments") == [
        [1, False, ["sales", "startup"], ["exhibition", "subsidy"]],
        [3, False, [], []],
    ]
    assert table(assembled, "plans", "is_corrected", "themes", "instruments") == [
        [False, ["sales", "startup"], ["exhibition", "subsidy"]]
    ]
    tags = table(assembled, "tags", "level", "pillar_no", "project_no", "code", "terms")
    assert [row for row in tags if row[:3] == ["project", 1, 1]] == [
        ["project", 1, 1, "subsidy", ["補助", "補助金"]],
        ["project", 1, 1, "startup", ["創業"]],
    ]
    assert assembled.corrections == [
        CorrectionOutcome(fix(2, "project_name", "展示会出展事業", "創業支援補助金", 1, 1), "a.pdf", None)
    ]


def test_the_rows_given_are_not_changed():
    rows = file_rows(segment_of(SHA, [shinagawa()]))
    assembled_with(fix(2, "project_name", "展示会出展事業", "新事業", 1, 1), files=[("a.pdf", rows)])
    assert rows == file_rows(segment_of(SHA, [shinagawa()]))


def test_the_plans_own_fields_and_captions():
    assembled = assembled_with(
        fix(2, "plan_title", "品川区計画", "品川区産業計画"),
        fix(3, "summary", "概要", None),
        fix(4, "photo_caption", "写真二", "工場の写真"),
        fix(5, "remove_photo_caption", "写真一"),
        fix(6, "add_photo_caption", None, "店舗の写真"),
    )
    assert table(assembled, "plans", "plan_title", "summary", "photo_captions", "is_corrected") == [
        ["品川区産業計画", None, ["工場の写真", "店舗の写真"], True]
    ]
    assert [outcome.refused for outcome in assembled.corrections] == [None] * 5
    assert table(assembled, "pillars", "is_corrected") == [[False], [False]]


def test_a_pillar_title_and_projects_added_and_removed_numbered_again():
    assembled = assembled_with(
        fix(2, "pillar_title", "柱一", "販路拡大", 1),
        fix(3, "remove_project", "展示会出展事業", None, 1, 1),
        fix(4, "add_project", None, "見本市出展（海外）", 1, 2),
        fix(5, "add_project", None, "交流会", 1),
        fix(6, "project_detail", "年2回", "年4回", 1, 2),
        fix(7, "add_project", None, "新事業", 3),
    )
    assert table(assembled, "pillars", "pillar_no", "pillar_title", "is_corrected") == [
        [1, "販路拡大", True],
        [3, "柱三", True],
    ]
    assert table(
        assembled, "projects", "pillar_no", "project_no", "project_name", "project_detail", "is_corrected"
    ) == [
        [1, 1, "見本市出展", "海外", True],
        [1, 2, "商談会", "年4回", True],
        [1, 3, "交流会", None, True],
        [3, 1, "事業", None, False],
        [3, 2, "新事業", None, True],
    ]
    assert table(assembled, "plans", "is_corrected") == [[False]]


def test_refused_when_no_file_has_the_bytes():
    """Rule 1: the file's bytes changed (or it is gone): its sha256 is no file's."""
    assembled = assembled_with(fix(2, "project_name", "展示会出展事業", "新事業", 1, 1, sha="b" * 64))
    assert assembled.corrections == [
        CorrectionOutcome(
            fix(2, "project_name", "展示会出展事業", "新事業", 1, 1, sha="b" * 64),
            None,
            "no file in the raw folder has these bytes: the file changed or is gone",
        )
    ]
    assert table(assembled, "projects", "project_name", "is_corrected")[0] == ["展示会出展事業", False]


def test_refused_when_the_plan_is_none_kept_from_the_file():
    """Rule 2: an id the file's plans do not have, and a plan kept from another file read first."""
    b = "b" * 64
    files = [
        ("a.pdf", file_rows(segment_of(SHA, [shinagawa()]))),
        ("b.pdf", file_rows(segment_of(b, [shinagawa()]))),
    ]
    assembled = assembled_with(
        fix(2, "plan_title", "品川区計画", "新計画", plan="131091-2021"),
        fix(3, "plan_title", "品川区計画", "新計画", sha=b),
        files=files,
    )
    assert [(o.source_file, o.refused) for o in assembled.corrections] == [
        ("a.pdf", "131091-2021 is no plan kept from a.pdf"),
        ("b.pdf", "131091-2020 is no plan kept from b.pdf"),
    ]
    assert table(assembled, "plans", "plan_title", "is_corrected") == [["品川区計画", False]]


def test_refused_when_its_pillar_project_or_caption_is_not_read():
    """Rule 3."""
    assembled = assembled_with(
        fix(2, "pillar_title", "柱二", "新しい柱", 2),
        fix(3, "project_name", "事業", "新事業", 3, 2),
        fix(4, "remove_photo_caption", "写真三"),
        fix(5, "add_project", None, "新事業", 1, 3),
    )
    assert [o.refused for o in assembled.corrections] == [
        "131091-2020 has no pillar 2",
        "pillar 3 of 131091-2020 has no project 2",
        "131091-2020 has no caption 「写真三」",
        "pillar 1 of 131091-2020 has no project 3",
    ]
    assert table(assembled, "pillars", "is_corrected") == [[False], [False]]
    assert table(assembled, "projects", "is_corrected") == [[False], [False], [False]]


def test_refused_when_the_value_as_read_is_not_what_is_read():
    """Rule 4: the reading changed since the correction was written."""
    assembled = assembled_with(
        fix(2, "project_name", "展示会出店事業", "新事業", 1, 1),
        fix(3, "summary", None, "概要です"),
        fix(4, "remove_project", "商談", None, 1, 2),
    )
    assert [o.refused for o in assembled.corrections] == [
        "reads 「展示会出展事業」 now, not 「展示会出店事業」: the file or its reading changed",
        "reads 「概要」 now, not 「」: the file or its reading changed",
        "reads 「商談会」 now, not 「商談」: the file or its reading changed",
    ]
    assert table(assembled, "projects", "project_name", "is_corrected")[:2] == [
        ["展示会出展事業", False],
        ["商談会", False],
    ]


def test_the_second_correction_of_one_thing_is_refused():
    """Rule 5, however the two say it: a name corrected twice, a project removed then renamed, a caption changed
    then removed."""
    assembled = assembled_with(
        fix(5, "project_name", "展示会出展事業", "新事業", 1, 1),
        fix(2, "project_name", "展示会出展事業", "別事業", 1, 1),
        fix(3, "remove_project", "商談会", None, 1, 2),
        fix(4, "project_detail", "年2回", "年3回", 1, 2),
        fix(6, "photo_caption", "写真一", "写真", None),
        fix(7, "remove_photo_caption", "写真一"),
    )
    assert [(o.correction.line, o.refused) for o in assembled.corrections] == [
        (2, None),
        (3, None),
        (4, "line 3 corrects the same already"),
        (5, "line 2 corrects the same already"),
        (6, None),
        (7, "line 6 corrects the same already"),
    ]
    assert table(assembled, "projects", "project_name", "project_detail") == [["別事業", None], ["事業", None]]


# --------------------------------------------------------------------------- end to end

SAMPLE_SHA = "359ecd7b1031439f6575cbd1ae7374a9093dfc50837ba58e25f9f4de26cc0e99"  # raw/r2-approval-summary.pdf
MISREAD = "6010金士公連携プログラム"  # 練馬区's pillar 2, project 2, as the sample reads it (産学公金 misread)
ROW = f"{SAMPLE_SHA},131237-2020,project_name,2,2,{MISREAD},産学公金連携プログラム,"


def project(out, pillar: int, no: int) -> dict:
    projects = pd.read_parquet(out / "projects.parquet")
    row = projects[(projects["plan_id"] == "131237-2020") & (projects["pillar_no"] == pillar)]
    found = row[row["project_no"] == no].iloc[0]
    return {
        "name": found["project_name"],
        "corrected": bool(found["is_corrected"]),
        "themes": list(found["themes"]),
        "instruments": list(found["instruments"]),
    }


@pytest.mark.slow
def test_a_project_name_corrected_in_a_run_survives_a_rerun_and_is_refused_once_the_bytes_change(tmp_path, caplog):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / SAMPLE.name)
    assert run_pipeline(raw, out) == 0
    as_read = {"name": MISREAD, "corrected": False, "themes": ["management", "succession"], "instruments": ["advisory"]}
    assert project(out, 2, 2) == as_read
    assert "産学公金連携プログラム" not in (out / "report.html").read_text(encoding="utf-8")

    write_corrections(raw, ROW + "産学公金の読み誤り")
    assert run_pipeline(raw, out) == 0
    corrected = {
        **as_read,
        "name": "産学公金連携プログラム",
        "corrected": True,
        "themes": ["academia", *as_read["themes"]],
    }
    assert project(out, 2, 2) == corrected  # 産学 is a term of academia
    tags = pd.read_parquet(out / "tags.parquet")
    mine = tags[(tags["level"] == "project") & (tags["plan_id"] == "131237-2020") & (tags["pillar_no"] == 2)]
    assert [list(t) for t in mine.loc[mine["code"] == "academia", "terms"]] == [["産学"]]
    assert project(out, 2, 1)["corrected"] is False
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<td>産学公金連携プログラム</td><td>産学公金の読み誤り</td>" in report
    assert '<span class="ok">適用 / applied</span>' in report
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [(c["correction"]["line"], c["source_file"], c["refused"]) for c in manifest["corrections"]] == [
        (2, "r2-approval-summary.pdf", None)
    ]

    assert run_pipeline(raw, out) == 0  # nothing changed: the corrected tables stay
    assert project(out, 2, 2) == corrected
    write_corrections(raw, ROW + "読み誤り")  # another reason: the tables are made again, from the rows cached
    assert run_pipeline(raw, out) == 0
    assert project(out, 2, 2) == corrected
    assert "<td>産学公金連携プログラム</td><td>読み誤り</td>" in (out / "report.html").read_text(encoding="utf-8")

    write_corrections(raw, ROW + "読み誤り", f"{SAMPLE_SHA},131237-2020,project,2,2,a,b,c")
    with (raw / SAMPLE.name).open("ab") as pdf:
        pdf.write(b"\n% the same pages, other bytes\n")
    caplog.set_level(logging.WARNING, logger="pipeline")
    assert run_pipeline(raw, out) == 0
    assert project(out, 2, 2) == as_read
    refusal = "no file in the raw folder has these bytes: the file changed or is gone"
    assert f"corrections.csv line 2 (131237-2020 project_name) refused: {refusal}" in caplog.messages
    assert "corrections.csv line 3: field 'project' is none of plan_title, summary, photo_caption, " in "".join(
        caplog.messages
    )
    report = (out / "report.html").read_text(encoding="utf-8")
    assert f'<span class="bad">不適用 / refused</span>: {refusal}' in report
    assert recorded_corrections(out) == [
        CorrectionOutcome(
            Correction(
                2, SAMPLE_SHA, "131237-2020", "project_name", 2, 2, MISREAD, "産学公金連携プログラム", "読み誤り"
            ),
            None,
            refusal,
        )
    ]


def test_the_report_lists_each_correction_applied_or_refused():
    applied = fix(2, "project_name", "展示会出展事業", "<b>新事業</b>", 1, 1)
    refused = fix(3, "add_project", None, "交流会", 1, sha="b" * 64)
    page = parse(
        render_report(
            hand_tables(),
            [],
            [CorrectionOutcome(applied, "a.pdf", None), CorrectionOutcome(refused, None, "no file has these bytes")],
        )
    )
    rows = [row.text() for row in page.by_id("corrections-table").iter("tr")]
    assert rows[1:] == [
        "2適用 / applieda.pdf131091-2020project_name 柱 1 事業 1展示会出展事業<b>新事業</b>読み誤り",
        "3不適用 / refused: no file has these bytes" + "b" * 12 + "…131091-2020add_project 柱 1交流会読み誤り",
    ]
