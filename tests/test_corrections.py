"""RAW/corrections.csv: a maintainer's fixes of misreads, checked on load and applied in normalize (issue 23)."""

import codecs

import pytest

from pipeline.acquire.corrections import read_corrections
from pipeline.acquire.sources import is_input_name
from pipeline.core.records import Correction

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
