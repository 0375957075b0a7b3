"""`python -m pipeline explain FILE`: a page image per page with every line boxed by its role, the lines table, the
role counts; and lines_by_default, the count of lines no rule claimed, from segment to the documents table."""

import csv
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from pipeline.cli import main
from pipeline.core.records import ExtractHeader
from pipeline.normalize import build_tables
from pipeline.segment import segment_record
from tests.test_segment import page_of, positioned

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "raw" / "r2-approval-summary.pdf"


def read_lines_table(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@pytest.mark.slow
def test_explain_draws_each_page_of_the_sample_and_every_line_has_a_rule(tmp_path, capsys):
    out = tmp_path / "explain"
    assert main(["explain", str(SAMPLE), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    images = sorted(p.name for p in out.glob("*.png"))
    assert images == [f"r2-approval-summary-p0{n}.png" for n in range(1, 7)]
    with Image.open(out / images[0]) as image:  # A4 at 100 dpi, and the legend under it
        assert image.width == 827 and image.height > 1170
    # Page 1 as a person reads it (rendered and counted by hand): the document title (furniture), the plan's
    # header, five summary lines, two photo captions, four pillar headings and eight project lines.
    assert printed[1] == (
        "page 1: 21 lines: header 1, summary 5, caption 2, pillar 4, project 8, furniture 1; "
        "2 photo(s); 0 kept by default"
    )
    assert printed[0] == (
        "r2-approval-summary.pdf: 6 page(s), 116 lines, 6 plan(s) kept, 0 rejected, 0 line(s) kept by default"
    )
    assert len(printed) == 1 + 6 + 1  # the file, its pages, what was written: no line kept by default
    rows = read_lines_table(out / "r2-approval-summary-lines.tsv")
    assert len(rows) == 116
    assert Counter(r["role"] for r in rows if r["page"] == "1") == {
        "furniture": 1,
        "header": 1,
        "summary": 5,
        "caption": 2,
        "pillar": 4,
        "project": 8,
    }
    assert Counter(r["role"] for r in rows) == {
        "furniture": 1,
        "header": 6,
        "summary": 29,
        "caption": 14,
        "pillar": 20,
        "project": 44,
        "footnote": 2,
    }
    assert [r for r in rows if r["by_default"]] == []
    assert rows[0]["text"] == "【承認した地域産業活性化計画の概要】" and rows[0]["role"] == "furniture"


def test_explain_refuses_a_missing_file_and_a_file_that_is_no_pdf(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "missing.pdf"), "--out", str(tmp_path / "x")]) == 1
    assert capsys.readouterr().err == f"error: not a file: {tmp_path / 'missing.pdf'}\n"
    (tmp_path / "page.pdf").write_text("<html>not found</html>")
    assert main(["explain", str(tmp_path / "page.pdf"), "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.startswith("error: page.pdf could not be read: ")


def test_lines_kept_by_default_reach_the_documents_table():
    # Hand count: the line before the first header, the summary line 65 points below the one before it, and the
    # project line that goes on after the page break under no heading: 3.
    page1 = page_of(
        [
            positioned("令和2年10月 産業振興課", 50, 120),
            positioned("「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】", 50, 150),
            positioned("品川区は、ものづくりの町である。", 50, 170),
            positioned("区内の事業者を支える。", 50, 185),
            positioned("また、創業を支援する。", 50, 260),
            positioned("1 事業承継支援", 50, 290),
            positioned("承継支援事業（相談）", 60, 305),
        ]
    )
    page2 = page_of([positioned("、販路拡大事業（補助）", 60, 100, page=2)], number=2)
    head = ExtractHeader(
        pipeline_version="test",
        fingerprint="test",
        source_sha256="a" * 64,
        status="ok",
        error=None,
        pages=2,
        limits={},
        reader_warnings=[],
        traceback=None,
    )
    record = segment_record(head, [page1, page2])
    assert (record.status, record.lines_by_default) == ("ok", 3)
    documents = build_tables([("a.pdf", record)])["documents"]
    assert documents["lines_by_default"].tolist() == [3]


@pytest.mark.slow
def test_explain_outlines_the_pages_a_sheet_holds(tmp_path, capsys):
    handout = Path(__file__).parent / "fixtures" / "handout_4up.pdf"
    assert main(["explain", str(handout), "--out", str(tmp_path / "explain")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].endswith("; 0 kept by default; 4 page frame(s), each read as a page")
