"""Image-only summaries read by OCR (pipeline.reading.ocr) and the clean-up of what Tesseract reads
(pipeline.reading.ocr_text). The fixtures, tests/fixtures/image_only_grid.pdf and image_only_photos.pdf, and the raw
OCR text the rules are tested on, tests/data/ocr/*.txt, are made by tests/fixtures/make_image_only.py; their truth is
the truth of the fixtures they were scanned from, written by hand (make_calc_grid.DOCUMENT, make_scanned.DOCUMENT).

OCR text can differ from the print by a character, so the plans' numbers (count, municipality codes, periods,
pillar numbers) are compared exactly and their texts by difflib's ratio, at least SIMILAR: 0.85 lets one character
in seven be wrong, one plain misreading in the shortest pillar titles (断製品開発の支援 for 新製品開発の支援 is 0.875),
and no other text of the fixtures is that close to a text it is not (the nearest pair, 創業の支援 and 創業支援事業,
is 0.73). The summaries and captions read exactly, the projects at 0.97 or better (python -m bench.bench_ocr).
"""

from __future__ import annotations

from difflib import SequenceMatcher
from pathlib import Path

import pytest

from pipeline.extract import extract_pdf
from pipeline.reading import ocr
from pipeline.reading.ocr_text import clean_line
from tests.fixtures.make_calc_grid import DOCUMENT as GRID_DOCUMENT
from tests.fixtures.make_image_only import GRID, OCR_TEXT, PHOTOS
from tests.fixtures.make_scanned import DOCUMENT as PHOTOS_DOCUMENT
from tests.test_cache import run_log
from tests.test_variants import actual, expected

SIMILAR = 0.85


def raw_line(name: str, number: int) -> str:
    """Line `number` (from 1) of the raw OCR text of tests/data/ocr/<name>.txt, as Tesseract read it."""
    return (OCR_TEXT / f"{name}.txt").read_text(encoding="utf-8").splitlines()[number - 1]


# --------------------------------------------------------------------------- clean-up rules, on real OCR output


def test_spaces_between_japanese_characters_are_dropped():
    assert raw_line("image_only_grid", 1) == "承 認 し た 地 域 産 業 活 性 化 計 画 の 概 要"
    assert clean_line(raw_line("image_only_grid", 1)) == "承認した地域産業活性化計画の概要"


def test_circled_digits_in_a_year_become_digits_and_the_range_mark_and_brackets_are_restored():
    assert clean_line(raw_line("image_only_photos", 2)) == (
        "「小金井市地域産業活性化計画」（小金井市）【計画期間:令和2年度～令和4年度】"
    )
    # the range mark lost altogether
    assert clean_line(raw_line("image_only_grid", 11)) == (
        "「葛飾区中小企業成長支援計画」（葛飾区）【計画期間:令和4年度～令和6年度】"
    )


def test_a_run_of_circled_digits_is_one_number():
    assert clean_line(raw_line("image_only_grid", 2)) == (
        "「瑞穂町ものづくり産業振興計画」（瑞穂町）【計画期間:令和2年4月1日から令和5年3月31日まで】"
    )
    # the sample rendered and read by OCR: 平成28年度、30年度, the era at the end of one line
    assert clean_line(raw_line("r2-approval-summary", 10)).endswith("また、平成28")
    assert clean_line(raw_line("r2-approval-summary", 11)).startswith("年度、30年度に実施した区内産業の実態調査では、")


def test_a_circled_digit_that_starts_a_pillar_line_stays():
    assert clean_line(raw_line("image_only_photos", 6)) == "①創業の支援"
    assert clean_line(raw_line("image_only_grid", 19)) == "④経営基盤の強化"


def test_a_backquote_before_japanese_text_is_an_opening_bracket():
    assert clean_line(raw_line("r2-approval-summary", 11)).endswith("「人材確保」や「販路拡大」が主要課題としてあ")
    assert clean_line(raw_line("r2-approval-summary", 12)).endswith("「五反田バレー")  # closed on the next line


def test_a_confusion_is_undone_only_into_a_known_word():
    assert clean_line(raw_line("image_only_grid", 18)).startswith("③社会貢献型ビジネスの推進")
    assert clean_line("財務の支援") == "財務の支援"  # 財 is only 貢 in 貢献
    assert clean_line(raw_line("image_only_grid", 10)).startswith("③工業団地の連携強化")  # and [ left of a rule


def test_what_is_left_of_a_wiped_rule_is_dropped():
    assert raw_line("image_only_grid", 20).startswith("| 経 営 改 善")
    assert clean_line(raw_line("image_only_grid", 20)) == "経営改善相談事業（中小企業診断士による経営相談）"


# --------------------------------------------------------------------------- the image-only fixtures read


def similarity(a: str | None, b: str | None) -> float:
    return SequenceMatcher(None, a or "", b or "").ratio()


def project_text(project: dict) -> str:
    """A project as printed, name and detail: where a lost bracket moves the detail into the name, the text stands."""
    return project["name"] + (f"（{project['detail']}）" if project["detail"] else "")


def assert_read_like(got: dict, want: dict) -> None:
    """Plans read by OCR against their truth: the numbers exactly, the texts at least SIMILAR."""
    assert sorted(got) == sorted(want)  # titles as keys: the truth's; see below for how a title may differ
    for title, plan in want.items():
        read = got[title]
        assert (read["municipality"], read["period_text"]) == (plan["municipality"], plan["period_text"])
        assert [p["number"] for p in read["pillars"]] == [p["number"] for p in plan["pillars"]]
        pairs = [(read["summary"], plan["summary"])] + list(zip(read["captions"], plan["captions"], strict=True))
        for x, y in zip(read["pillars"], plan["pillars"], strict=True):
            pairs.append((x["title"], y["title"]))
            pairs += list(zip(map(project_text, x["projects"]), map(project_text, y["projects"]), strict=True))
        assert [(a, b) for a, b in pairs if similarity(a, b) < SIMILAR] == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "pdf, document, codes",
    [
        (PHOTOS, PHOTOS_DOCUMENT, ["131172", "132101"]),  # 北区, 小金井市
        (GRID, GRID_DOCUMENT, ["131211", "131229", "133035"]),  # 足立区, 葛飾区, 瑞穂町
    ],
    ids=["photos", "grid"],
)
def test_an_image_only_summary_reads_into_its_plans(read_alone, pdf, document, codes):
    tables = read_alone(pdf)
    documents = tables["documents"]
    assert documents[["status", "text_source"]].values.tolist() == [["ok", "ocr"]]
    assert list(documents["ocr_pages"][0]) == ["1", "2"]
    assert 90 <= documents["ocr_confidence"][0] <= 100  # the fixtures read at 94-96 (see make bench)
    plans = tables["plans"]
    assert sorted(plans["municipality_code"]) == codes
    assert all("ocr_text" in list(reasons) for reasons in plans["review_reasons"])
    assert_read_like(actual(tables), expected(document))


def test_pages_read_by_ocr_give_positioned_lines_in_the_page_record_shape():
    pages = extract_pdf(PHOTOS)
    assert [(p.text_source, p.readable_share) for p in pages] == [("ocr", 1.0), ("ocr", 1.0)]
    header = pages[0].lines[1]
    assert header.text == "「小金井市地域産業活性化計画」（小金井市）【計画期間:令和2年度～令和4年度】"
    assert header.fontname == "ocr"
    # drawn at 12 pt from 57 pt in, its top 88 pt down (tests/fixtures/render.py; the text layer of make_scanned):
    # the size estimated within a point, the place within 5 pt
    assert (abs(header.size - 12) <= 1, round(header.x0 / 10), round(header.top / 10)) == (True, 6, 9)
    # the two photos of each page found in its pixels, as on a scan with a text layer (tests/test_scans.py)
    assert [len(p.regions) for p in pages] == [2, 2]


def test_without_ocr_an_image_only_summary_has_no_text(monkeypatch):
    assert [p.lines for p in extract_pdf(GRID, ocr=False)] == [[], []]
    monkeypatch.setattr(ocr, "ocr_problem", lambda: "tesserocr cannot be loaded (made up)")
    assert [p.text_source for p in extract_pdf(GRID)] == ["pypdfium2", "pypdfium2"]


def test_the_worker_hears_how_many_pages_ocr_will_read():
    heard = []
    extract_pdf(Path(GRID), allow=heard.append)
    assert heard == [2]


def test_a_record_read_with_ocr_off_is_read_again_by_a_run_with_ocr_on():
    from dataclasses import asdict

    from pipeline.core.records import Limits
    from pipeline.run.cache import is_reusable

    head = {"reader": "pdfium", "status": "no_text", "limits": asdict(Limits(ocr=False))}
    assert (is_reusable(head, Limits(ocr=False)), is_reusable(head, Limits(ocr=True))) == (True, False)


@pytest.mark.slow
def test_a_run_without_ocr_on_the_machine_says_so_once_and_reads_scans_as_before(tmp_path, monkeypatch, caplog):
    import shutil

    from pipeline.cli import main

    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(GRID, raw / "a.pdf")
    shutil.copy(PHOTOS, raw / "b.pdf")
    monkeypatch.setattr(ocr, "ocr_problem", lambda: "tesserocr cannot be loaded (made up)")
    assert main(["extract", "--raw", str(raw), "--out", str(tmp_path / "out")]) == 2
    said = [r.getMessage() for r in caplog.records if "OCR" in r.getMessage()]
    assert said == ["no OCR on this machine: tesserocr cannot be loaded (made up); image-only scans get no_text"]
    assert run_log(tmp_path / "out")["failed"] == {"a.pdf": "no_text", "b.pdf": "no_text"}
