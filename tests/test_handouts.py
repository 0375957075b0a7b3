"""Sheets of pages (handouts, several pages per sheet): each page a sheet holds is read on its own, its frame found
from the sheet (reading.subpages.find_subpages), and the sheet's own print (a date, page numbers, `1 / 2`) is
furniture. The fixtures, tests/fixtures/handout_2up.pdf and handout_4up.pdf, are made by
tests/fixtures/make_handout.py, which holds their truth."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_pdf
from pipeline.reading.subpages import find_subpages
from tests.fixtures.make_handout import DOCUMENTS, FIXTURES
from tests.test_variants import actual, expected

SHEET_PRINT = ("2021/04/01", "1 / 2", "2 / 2", "1 / 1")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_each_page_of_a_handout_is_read_as_a_page(read_alone, name):
    tables = read_alone(FIXTURES / f"{name}.pdf")
    documents = tables["documents"]
    assert (documents["status"].tolist(), documents["lines_by_default"].tolist()) == (["ok"], [0])
    assert actual(tables) == expected(DOCUMENTS[name])
    texts = list(tables["plans"]["summary"]) + list(tables["projects"]["project_name"])
    assert [text for text in texts if any(label in text for label in SHEET_PRINT)] == []


def test_the_frames_of_the_pages_a_sheet_holds_are_found_in_reading_order():
    frames = [
        [(round(b.x0), round(b.top)) for b in page.subpages] for page in extract_pdf(FIXTURES / "handout_4up.pdf")
    ]
    assert frames == [[(36, 54), (316, 54), (36, 439), (316, 439)]]
    two_up = [len(page.subpages) for page in extract_pdf(FIXTURES / "handout_2up.pdf")]
    assert two_up == [2, 2]


def box(x0, top, x1, bottom):
    return {"x0": x0, "top": top, "x1": x1, "bottom": bottom}


def chars_in(*boxes, outside=0):
    """A character in the middle of each box, and `outside` characters in none of them."""
    inside = [
        {
            "text": "字",
            **box(
                (b["x0"] + b["x1"]) / 2 - 5,
                (b["top"] + b["bottom"]) / 2 - 5,
                (b["x0"] + b["x1"]) / 2 + 5,
                (b["top"] + b["bottom"]) / 2 + 5,
            ),
        }
        for b in boxes
    ]
    return inside + [{"text": "1", **box(5, 5 + k, 10, 10 + k)} for k in range(outside)]


A4 = (595.0, 842.0)


def test_two_frames_of_one_size_holding_the_text_are_pages():
    left, right = box(36, 54, 280, 400), box(316, 54, 560, 400)
    assert find_subpages([right, left], chars_in(left, right), *A4) == [left, right]


def test_boxes_of_other_sizes_are_no_pages():
    # Two plans boxed to their content: one taller by more than two percent
    top, bottom = box(36, 54, 560, 300), box(36, 320, 560, 620)
    assert find_subpages([top, bottom], chars_in(top, bottom), *A4) == []


def test_frames_holding_too_little_of_the_text_are_no_pages():
    # Most of the text stands outside the frames: boxes on a page, not pages on a sheet
    left, right = box(36, 54, 280, 400), box(316, 54, 560, 400)
    assert find_subpages([left, right], chars_in(left, right, outside=3), *A4) == []


def test_small_frames_are_no_pages():
    # Table cells, photo frames: under a fifth of the sheet's shorter side
    cells = [box(36 + 100 * k, 54, 136 + 100 * k, 154) for k in range(4)]
    assert find_subpages(cells, chars_in(*cells), *A4) == []
