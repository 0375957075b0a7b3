"""Approval rounds and RAW/sources.csv: parsed, checked, and carried into documents and plans."""

import codecs
import hashlib
import shutil

import pandas as pd
import pytest

from pipeline.acquire.rounds import parse_round, round_fy
from pipeline.acquire.sources import SOURCE_COLUMNS, add_source_row, read_sources
from pipeline.cli import main
from pipeline.normalize import link_previous_plans
from tests.conftest import SAMPLE_RAW, read_tables


@pytest.mark.parametrize(
    ("text", "bracketed_only", "expected"),
    [
        ("承認した地域産業活性化計画の概要（令和６年度 後期）", True, "令和6年度後期"),
        ("承認した地域産業活性化計画の概要【令和6年度前期】", True, "令和6年度前期"),
        ("「地域産業活性化計画」を承認しました（令和元年度第２回）", True, "令和元年度第2回"),
        ("令和6年度後期 地域産業成長支援事業の計画を承認", False, "令和6年度後期"),
        ("令和6年度後期 地域産業成長支援事業の計画を承認", True, None),
        ("平成27年度 地域産業活性化計画の承認について", False, "平成27年度"),
        ("計画期間 令和2年度～令和4年度", False, None),  # a period names no round
        ("計画期間 令和2年度 ～ 令和4年度", False, None),
        ("令和3年度から支援を開始", False, None),
        ("承認した地域産業活性化計画の概要", False, None),
        (None, False, None),
    ],
)
def test_parse_round(text, bracketed_only, expected):
    assert parse_round(text, bracketed_only=bracketed_only) == expected


@pytest.mark.parametrize(
    ("name", "fy"),
    [("令和6年度後期", 2024), ("令和元年度", 2019), ("平成27年度", 2015), (None, None), ("2024年度", None)],
)
def test_round_fy(name, fy):
    assert round_fy(name) == fy


def write_sources(raw, *rows: str) -> None:
    (raw / "sources.csv").write_text("\n".join([",".join(SOURCE_COLUMNS), *rows]) + "\n", encoding="utf-8")


def test_read_sources_keeps_good_cells_and_names_each_bad_one(tmp_path):
    write_sources(
        tmp_path,
        "a.pdf,https://x.test/a.pdf,,,2024/12/20,令和６年度 後期,,,",
        "b.pdf,,,,,next year,,ABC,",
        ",https://x.test/orphan.pdf,,,,,,,",
        "a.pdf,https://x.test/a2.pdf,,,2024-12-21,,,,",
    )
    found = read_sources(tmp_path)
    assert {name: (i.line, i.url, i.published, i.round, i.sha256) for name, i in found.rows.items()} == {
        "a.pdf": (5, "https://x.test/a2.pdf", "2024-12-21", None, None),
        "b.pdf": (3, None, None, None, None),
    }
    assert found.file_problems == {
        "a.pdf": [
            "sources.csv line 2: published '2024/12/20' is not a date YYYY-MM-DD, left out",
            "sources.csv line 5: a.pdf listed again (first on line 2); line 5 used",
        ],
        "b.pdf": [
            "sources.csv line 3: round 'next year' names no round such as 令和6年度後期, left out",
            "sources.csv line 3: sha256 'ABC' is not a lowercase hex sha256, left out",
        ],
    }
    assert found.problems == ["sources.csv line 4: no source_file, row ignored"]


def test_read_sources_without_the_file_or_its_key_column(tmp_path):
    assert (read_sources(tmp_path).rows, read_sources(tmp_path).problems) == ({}, [])
    (tmp_path / "sources.csv").write_text("file,url\na.pdf,https://x.test/a.pdf\n", encoding="utf-8")
    assert read_sources(tmp_path).problems == ["sources.csv not read: no source_file column in its first line"]


ROW_A = "a.pdf,https://x.test/a.pdf,,,2024-12-20,令和6年度後期,,,"
ROW_B = "b.pdf,https://x.test/b.pdf,,,,,,,"


def urls_read(raw) -> dict[str, str | None]:
    return {name: info.url for name, info in read_sources(raw).rows.items()}


def test_a_sources_csv_saved_by_japanese_excel_is_read_as_cp932_and_said(tmp_path):
    """Issue 25: a sources.csv in cp932, or with a double byte order mark, lost every row's url, round and date, in
    one terminal line."""
    text = "\r\n".join([",".join(SOURCE_COLUMNS), ROW_A, ROW_B]) + "\r\n"
    (tmp_path / "sources.csv").write_bytes(text.encode("cp932"))
    found = read_sources(tmp_path)
    assert (found.rows["a.pdf"].round, urls_read(tmp_path)["b.pdf"]) == ("令和6年度後期", "https://x.test/b.pdf")
    assert found.problems == [
        "sources.csv is not UTF-8 (invalid start byte at byte 119): read as cp932, as Japanese Excel saves it; save it "
        "as CSV UTF-8 for fetch to add rows"
    ]
    assert found.file_problems == {"a.pdf": found.problems, "b.pdf": found.problems}  # documents.warnings of each
    (tmp_path / "sources.csv").write_bytes(codecs.BOM_UTF8 * 2 + text.encode("utf-8"))
    assert urls_read(tmp_path) == {"a.pdf": "https://x.test/a.pdf", "b.pdf": "https://x.test/b.pdf"}
    assert read_sources(tmp_path).problems == []


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ('c.pdf,"https://x.test/c.pdf,,,,,,,', "a quote opened and never closed"),
        ("c.pdf," + "x" * 200_000, "a line of 200,006 characters, over 131,072"),
    ],
    ids=["unbalanced-quote", "huge-cell"],
)
def test_a_bad_line_of_sources_csv_costs_only_itself(tmp_path, bad, problem):
    """Issue 25: an unbalanced quote on line 2 swallowed every later row; a 200,000-character cell in one row lost
    every row. Now the line alone is left out, named, and its file warned of (documents.warnings)."""
    write_sources(tmp_path, bad, ROW_A, ROW_B)
    found = read_sources(tmp_path)
    assert urls_read(tmp_path) == {"a.pdf": "https://x.test/a.pdf", "b.pdf": "https://x.test/b.pdf"}
    said = f"sources.csv line 2: {problem}, row ignored"
    assert (found.problems, {k: v for k, v in found.file_problems.items() if v}) == ([said], {"c.pdf": [said]})


def test_a_cell_a_spreadsheet_would_run_is_written_guarded_and_read_back(tmp_path):
    """Issue 25: a page <title> of =HYPERLINK(…) went into sources.csv as it was, a live formula in LibreOffice."""
    row = dict.fromkeys(SOURCE_COLUMNS, "") | {"source_file": "a.pdf", "page_title": '=HYPERLINK("http://x")'}
    add_source_row(tmp_path, row)
    assert (tmp_path / "sources.csv").read_text(encoding="utf-8").splitlines()[1] == (
        'a.pdf,,,"\'=HYPERLINK(""http://x"")",,,,,'
    )
    assert read_sources(tmp_path).rows["a.pdf"].page_title == '=HYPERLINK("http://x")'


def test_previous_plan_is_the_latest_earlier_one_of_the_municipality():
    plans = pd.DataFrame(
        {
            "plan_id": [
                "131091-2014",
                "131091-2017",
                "131091-2020",
                "X町-2020",
                "X町-2023",
                "131148-2020",
                "131148-2020-2",
                "131148-2023",
                "131148-unknown-0a1b2c3d-p4",
            ],
            "municipality": ["品川区", "品川区", "品川区", "X町", "X町", "中野区", "中野区", "中野区", "中野区"],
            "municipality_code": ["131091", "131091", "131091", None, None, "131148", "131148", "131148", "131148"],
            "plan_title": ["A", "B", "C", "X", "X", "D", "E", "F", "G"],
            "period_start_fy": pd.array([2014, 2017, 2020, 2020, 2023, 2020, 2020, 2023, None], dtype="Int64"),
        }
    )
    linked, warnings = link_previous_plans(plans)
    assert linked["previous_plan_id"].tolist() == [
        None,
        "131091-2014",
        "131091-2017",
        None,
        "X町-2020",
        None,
        None,
        None,
        None,
    ]
    assert warnings == {
        "131148-2023": "131148-2023: no previous plan set, 2 plans started in 2020: 131148-2020, 131148-2020-2"
    }
    assert "previous_plan_id" not in plans  # the input is left as it was


def test_a_sources_csv_read_as_cp932_is_said_on_the_terminal_and_in_each_described_files_warnings(tmp_path, caplog):
    """Issue 25: the notice that sources.csv was read as cp932 was one terminal line; the documents it describes
    carried values read through that guess without a word. Now each described file's documents.warnings says it."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(SAMPLE_RAW / "r2-approval-summary.pdf", raw / "r2.pdf")
    text = "\r\n".join([",".join(SOURCE_COLUMNS), "r2.pdf,https://x.test/r2.pdf,,承認しました,2020-10-01,令和2年度,,,"])
    (raw / "sources.csv").write_bytes(text.encode("cp932") + b"\r\n")
    notice = (
        "sources.csv is not UTF-8 (invalid start byte at byte 109): read as cp932, as Japanese Excel saves it; save it "
        "as CSV UTF-8 for fetch to add rows"
    )
    assert main(["all", "--raw", str(raw), "--out", str(out), "--timeout", "600"]) == 0
    assert [m for m in caplog.messages if m.startswith("sources.csv")] == [notice]
    documents = read_tables(out)["documents"].set_index("source_file")
    assert list(documents.loc["r2.pdf", "warnings"]) == [notice]
    assert documents.loc["r2.pdf", ["round", "published", "url"]].tolist() == [
        "令和2年度",
        "2020-10-01",
        "https://x.test/r2.pdf",
    ]


def test_rounds_come_from_sources_csv_else_from_the_title(tmp_path, variant_pdfs, caplog):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    shutil.copy(SAMPLE_RAW / "r2-approval-summary.pdf", raw / "r2.pdf")
    shutil.copy(variant_pdfs["round_suffix_title"], raw / "later.pdf")
    sha = hashlib.sha256((raw / "r2.pdf").read_bytes()).hexdigest()
    write_sources(
        raw,
        f"r2.pdf,https://x.test/r2.pdf,https://x.test/press.html,承認しました,2020-10-01,令和2年度,"
        f"2026-11-29T00:00:00+00:00,{sha},1",
        f"later.pdf,https://x.test/later.pdf,,,2025-01-10,令和6年度前期,,{'0' * 64},",
        "gone.pdf,https://x.test/gone.pdf,,,,,,,",
    )
    assert main(["all", "--raw", str(raw), "--out", str(out), "--timeout", "600"]) == 0
    assert [m for m in caplog.messages if m.startswith("sources.csv")] == [
        f"sources.csv line 4: gone.pdf is not in {raw}"
    ]
    tables = read_tables(out)
    documents = tables["documents"].set_index("source_file")
    assert documents[["round", "round_fy", "published", "url"]].astype(object).where(
        documents[["round", "round_fy", "published", "url"]].notna(), None
    ).values.tolist() == [
        ["令和6年度後期", 2024, None, None],
        ["令和2年度", 2020, "2020-10-01", "https://x.test/r2.pdf"],
    ]
    assert list(documents.loc["later.pdf", "warnings"]) == [
        "sources.csv line 3 records other bytes for this file (sha256 000000000000…), so its url, date and round are "
        "not used"
    ]
    assert documents.loc["later.pdf", "title"] == "承認した地域産業活性化計画の概要（令和6年度後期）"
    plans = tables["plans"]
    assert plans.groupby("source_file")["round"].agg(lambda r: sorted(set(r))).to_dict() == {
        "later.pdf": ["令和6年度後期"],
        "r2.pdf": ["令和2年度"],
    }
    # sources.csv is an input: changing it alone changes the tables on the next run
    write_sources(raw, f"r2.pdf,https://x.test/r2.pdf,,,,令和2年度第2回,,{sha},")
    assert main(["all", "--raw", str(raw), "--out", str(out), "-q", "--timeout", "600"]) == 0
    assert read_tables(out)["documents"].set_index("source_file").loc["r2.pdf", "round"] == "令和2年度第2回"
