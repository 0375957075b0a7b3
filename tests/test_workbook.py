"""OUT/tables.xlsx (pipeline.outputs.workbook), read back with openpyxl: sheets, header rows, cell types, formulas and
control characters kept as text, widths, and the same bytes whatever the clock. (xlsxwriter writes the workbook;
openpyxl, another library, reads it as a spreadsheet would.)"""

import datetime
import hashlib
import io
import json
import time
import zipfile

import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from pipeline.outputs.tables import frame
from pipeline.outputs.workbook import CELL_MAX, text_cell, workbook_bytes, write_workbook
from pipeline.outputs.xlsx import column_widths, display_width
from tests.rows import document_row, pillar_row, plan_row

DOCUMENTS_NAMES = [
    "source_file",
    "source_sha256",
    "title",
    "round",
    "round_fy",
    "published",
    "url",
    "pages",
    "status",
    "error",
    "plans_found",
    "plans_needing_review",
    "plans_rejected",
    "lines_by_default",
    "warnings",
    "vertical_pages",
    "pages_with_unmapped_glyphs",
    "text_source",
    "ocr_pages",
    "ocr_confidence",
]
DOCUMENTS_TITLES = [
    "ファイル名",
    "SHA-256",
    "表題",
    "承認回",
    "承認年度",
    "公表日",
    "URL",
    "ページ数",
    "処理結果",
    "エラー",
    "計画数",
    "要確認計画数",
    "除外計画数",
    "既定割当行数",
    "警告",
    "縦書きページ",
    "文字化けページ",
    "テキストの読み取り方法",
    "OCRページ",
    "OCR信頼度",
]


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    """Small hand-made tables: a formula-like title, a bell in a file name, lists with a | and a backslash, a
    missing code."""
    documents = frame(
        [
            document_row(source_file="bell\x07.pdf", warnings=["a|b", "c\\d"], vertical_pages=["2", "3"]),
            document_row(source_file="c.pdf", pages=None, status="not_pdf", error="@SUM(A1)"),
        ],
        "documents",
    )
    plans = frame(
        [
            plan_row(plan_title="=1+1", summary="-1 と #N/A", photo_captions=["'引用", "写真"]),
            plan_row(
                plan_id="国立市-2021",
                municipality="国立市",
                municipality_code=None,
                period_start_fy=2021,
                period_end_fy=2023,
                summary="",
                source_file="b.pdf",
            ),
        ],
        "plans",
    )
    plans["themes"] = [["startup", "digital"], []]
    pillars = frame([pillar_row(has_more_projects=True), pillar_row(pillar_no=2)], "pillars")
    return {"plans": plans, "pillars": pillars, "documents": documents}  # not in the schema's order


def read_back(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def cells(sheet) -> list[list]:
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_one_sheet_per_table_in_the_schema_order(tables):
    assert read_back(workbook_bytes(tables)).sheetnames == ["documents", "plans", "pillars"]
    assert read_back(workbook_bytes({"pillars": tables["pillars"]})).sheetnames == ["pillars"]


def test_header_rows_are_the_column_names_then_their_titles(tables):
    sheet = read_back(workbook_bytes(tables))["documents"]
    assert cells(sheet)[:2] == [DOCUMENTS_NAMES, DOCUMENTS_TITLES]
    assert all(c.font.bold for row in sheet.iter_rows(max_row=2) for c in row)
    assert not any(c.font.bold for c in sheet[3])


def test_frozen_below_the_headers_and_filtered_over_the_data(tables):
    book = read_back(workbook_bytes(tables))
    assert [book[name].freeze_panes for name in book.sheetnames] == ["A3", "A3", "A3"]
    assert [book[name].auto_filter.ref for name in book.sheetnames] == ["A2:T4", "A2:AC4", "A2:Q4"]
    empty = read_back(workbook_bytes({"documents": tables["documents"].iloc[0:0]}))["documents"]
    assert empty.auto_filter.ref == "A2:T2" and empty.max_row == 2


def test_cells_are_typed_by_the_schema(tables):
    book = read_back(workbook_bytes(tables))
    plans = book["plans"]
    code = plans["C3"]
    assert (code.value, code.data_type) == ("131091", "s")
    assert (plans["A3"].value, plans["A3"].data_type) == ("131091-2020", "s")
    assert (plans["T3"].value, plans["T3"].data_type) == ("0" * 64, "s")
    assert [plans["F3"].value, plans["G3"].value, plans["U3"].value] == [2020, 2022, 1]
    assert (plans["W3"].value, plans["W3"].data_type, plans["AA3"].value) == (56.69, "n", 595.28)
    assert (plans["R3"].value, plans["R3"].data_type) == (False, "b")  # is_corrected
    assert (plans["H3"].value, plans["H3"].data_type, plans["I3"].value) == ("令和2年度", "s", 2020)
    assert type(plans["F3"].value) is int and plans["F3"].data_type == "n"
    pillars = book["pillars"]
    assert [pillars["D3"].value, pillars["D4"].value] == [True, False]
    assert type(pillars["D3"].value) is bool and pillars["D3"].data_type == "b"
    assert type(pillars["B4"].value) is int


def test_list_cells_are_joined_and_escaped_as_in_the_csv(tables):
    book = read_back(workbook_bytes(tables))
    documents, plans = book["documents"], book["plans"]
    assert documents["O3"].value == "a\\|b|c\\\\d"
    assert documents["P3"].value == "2|3"
    assert plans["L3"].value == "\\'引用|写真"  # an apostrophe starting the cell is escaped, as the CSV writes it
    assert plans["M3"].value == "startup|digital"


def test_nulls_and_empty_texts_and_lists_are_empty_cells(tables):
    book = read_back(workbook_bytes(tables))
    documents, plans = book["documents"], book["plans"]
    assert documents["H4"].value is None and documents["J3"].value is None and documents["Q3"].value is None
    assert plans["C4"].value is None  # 国立市 has no code: null, not ''
    assert plans["K4"].value is None and plans["M4"].value is None  # an empty summary, an empty list


def test_text_that_looks_like_a_formula_stays_text(tables):
    data = workbook_bytes(tables)
    book = read_back(data)
    title, error, summary = book["plans"]["D3"], book["documents"]["J4"], book["plans"]["K3"]
    assert (title.value, title.data_type) == ("=1+1", "s")
    assert (error.value, error.data_type) == ("@SUM(A1)", "s")
    assert (summary.value, summary.data_type) == ("-1 と #N/A", "s")
    error_like = read_back(workbook_bytes({"plans": tables["plans"].assign(municipality="#N/A")}))["plans"]["B3"]
    assert (error_like.value, error_like.data_type) == ("#N/A", "s")  # not an error value
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert len(sheets) == 3 and not any(b"<f>" in sheet or b"<f " in sheet for sheet in sheets)


def test_characters_xml_cannot_hold_become_a_replacement_character(tables):
    cell = read_back(workbook_bytes(tables))["documents"]["A3"]
    assert cell.value == "bell\ufffd.pdf"


def test_a_text_longer_than_a_cell_holds_is_cut():
    long = "あ" * (CELL_MAX + 10)
    plans = frame([plan_row(summary=long)], "plans")
    value = read_back(workbook_bytes({"plans": plans}))["plans"]["K3"].value
    assert value == "あ" * (CELL_MAX - 1) + "…" and len(value) == CELL_MAX


def test_a_cell_holds_utf16_units_where_a_character_beyond_ffff_counts_two():
    fits = "あ" + "𠮷" * 16383  # 1 + 2 × 16,383 = 32,767 units
    assert text_cell(fits) == fits
    assert text_cell("a" + "𠮷" * 16384) == "a" + "𠮷" * 16382 + "…"  # the pair cut in two is left out whole
    plans = frame([plan_row(summary="𠮷" * 16384)], "plans")  # 32,768 units
    assert read_back(workbook_bytes({"plans": plans}))["plans"]["K3"].value == "𠮷" * 16383 + "…"


def test_text_that_reads_as_an_xml_escape_stays_text():
    plans = frame([plan_row(plan_title="_x0041_")], "plans")
    data = workbook_bytes({"plans": plans})
    assert read_back(data)["plans"]["D3"].value == "_x0041_"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<t>_x005F_x0041_</t>" in archive.read("xl/sharedStrings.xml")  # not "A", as Excel reads _x0041_


def test_display_width_counts_wide_characters_twice():
    assert display_width("品川区abc") == 9
    assert display_width("Ａ１") == 4  # full-width
    assert display_width("ｶﾀｶﾅ") == 4  # half-width katakana


def test_column_widths_follow_the_headers_and_the_content_within_limits(tables):
    plans = frame([plan_row(summary="概要" * 100)], "plans")
    dims = read_back(workbook_bytes({"plans": plans}))["plans"].column_dimensions
    assert dims["A"].width == 13  # plan_id: '131091-2020' (11) + 2
    assert dims["B"].width == 14  # municipality: the name (12) is wider than 区市町村 (8) and 品川区 (6)
    assert dims["C"].width == 24  # municipality_code: 全国地方公共団体コード (22) + 2
    assert dims["K"].width == 60  # summary: 400 wide, capped
    assert dims["U"].width == 12  # page_start: the name and 開始ページ (10) + 2
    assert column_widths([["a", "b"], ["c", "d"]], [["x", None]]) == [6, 6]  # the minimum


class LaterClock(type):
    """A clock years ahead, as xlsxwriter reads it: its name `datetime`, whose now() is later and of which every
    datetime is still an instance (a date given to set_properties is checked so)."""

    def now(cls, tz=None):
        return datetime.datetime(2031, 5, 6, 7, 8, 9, tzinfo=tz)

    def __instancecheck__(cls, value):
        return isinstance(value, datetime.datetime)


class Later(metaclass=LaterClock):
    pass


def later_clock(monkeypatch):
    """Every clock xlsxwriter and zipfile read while saving, moved forward: the properties' dates
    (datetime.now in xlsxwriter) and the zip entries' dates (time.localtime in zipfile)."""
    monkeypatch.setattr("xlsxwriter.core.datetime", Later)
    real = time.localtime
    monkeypatch.setattr(
        time, "localtime", lambda seconds=None: real((time.time() if seconds is None else seconds) + 400 * 86400)
    )


def plain_save() -> bytes:
    """A workbook saved by xlsxwriter alone, with nothing fixed."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    book.add_worksheet().write_string(0, 0, "x")
    book.close()
    return buffer.getvalue()


def test_same_tables_same_bytes_whatever_the_clock(tables, monkeypatch):
    first, again = workbook_bytes(tables), workbook_bytes(tables)
    plain = plain_save()
    later_clock(monkeypatch)
    assert plain_save() != plain  # the moved clock reaches what xlsxwriter and zipfile write…
    assert workbook_bytes(tables) == first == again  # …and none of it reaches the workbook
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2 and "2031" not in core


def test_write_workbook_writes_tables_xlsx(tables, tmp_path):
    path = write_workbook(tables, tmp_path)
    assert path == tmp_path / "tables.xlsx" and path.read_bytes() == workbook_bytes(tables)
    assert [p.name for p in tmp_path.iterdir()] == ["tables.xlsx"]  # no temporary file left


def test_the_sample_run_writes_every_table_into_the_workbook(sample_out, sample):
    book = openpyxl.load_workbook(sample_out / "tables.xlsx")
    assert book.sheetnames == [
        "documents",
        "plans",
        "pillars",
        "projects",
        "tags",
        "changes",
        "vocabulary",
        "municipalities",
    ]
    assert (book["vocabulary"].max_row - 2, book["municipalities"].max_row - 2) == (22, 62)
    assert [c.value for c in book["municipalities"][3]] == [
        "131016",
        "千代田区",
        "Chiyoda City",
        "特別区",
        "special ward",
    ]
    plans = book["plans"]
    assert plans.max_row - 2 == len(pd.read_parquet(sample_out / "plans.parquet")) == 6
    assert [c.value for c in plans["C"][2:]] == ["131091", "131148", "131237", "132012", "132047", "132152"]
    assert {c.data_type for c in plans["C"][2:]} == {"s"}
    for name, df in sample.items():
        assert book[name].max_row - 2 == len(df), name
    # The tables read back from Parquet (list cells as arrays) give the very bytes the run wrote.
    every = {
        **sample,
        **{
            name: pd.read_parquet(sample_out / f"{name}.parquet")
            for name in ("changes", "vocabulary", "municipalities")
        },
    }
    assert workbook_bytes(every) == (sample_out / "tables.xlsx").read_bytes()
    manifest = json.loads((sample_out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["tables.xlsx"] == hashlib.sha256((sample_out / "tables.xlsx").read_bytes()).hexdigest()
    assert manifest["view_errors"] == {}
