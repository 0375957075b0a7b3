"""Scanned summaries with an OCR text layer: the page is one image with invisible text over it, and the photos
are regions of that image, found in its pixels (reading.regions) and captioned as photo objects are. The fixture,
tests/fixtures/scanned_ocr_layer.pdf, is made by tests/fixtures/make_scanned.py, which holds its truth."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pipeline.cli import main
from pipeline.extract import extract_pdf
from pipeline.reading.regions import components, picture_regions
from tests.fixtures.make_scanned import DOCUMENT, OUT
from tests.test_variants import actual, expected


@pytest.mark.slow
def test_a_scan_with_an_ocr_layer_reads_its_captions_under_the_photos_in_its_pixels(read_alone):
    tables = read_alone(OUT)
    documents = tables["documents"]
    assert (documents["status"].tolist(), documents["lines_by_default"].tolist()) == (["ok"], [0])
    assert actual(tables) == expected(DOCUMENT)


def test_the_picture_regions_of_the_scan_are_its_photos():
    regions = [[(round(b.x0), round(b.top), round(b.x1), round(b.bottom)) for b in p.regions] for p in extract_pdf(OUT)]
    # the photos as make_scanned's drawing placed them (tests/fixtures/render.py: 150 x 112.5 pt, a row of two)
    assert regions == [[(102, 142, 254, 256), (342, 142, 493, 256)], [(102, 114, 254, 228), (342, 114, 493, 228)]]


@pytest.mark.slow
def test_explain_outlines_the_picture_regions(tmp_path, capsys):
    assert main(["explain", str(OUT), "--out", str(tmp_path / "explain")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[1].endswith("; 0 kept by default; 2 picture region(s) found in the page image")


def page_image(*rectangles, width=595, height=842):
    """A white page at one pixel a point with filled rectangles (x0, top, x1, bottom, colour)."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    for x0, top, x1, bottom, colour in rectangles:
        draw.rectangle([x0, top, x1 - 1, bottom - 1], fill=colour)
    return image


def test_an_inked_area_of_a_photo_s_size_that_no_text_covers_is_a_picture_region():
    image = page_image(
        (100, 200, 250, 312, (120, 80, 160)),  # a photo
        (60, 100, 400, 112, (0, 0, 0)),  # a line of text, as ink, covered by its text box
        (60, 400, 540, 401, (0, 0, 0)),  # a rule: one point high
        (500, 600, 520, 620, (200, 0, 0)),  # an icon: under a photo's least side (8 % of 595 = 48 pt)
    )
    assert picture_regions(image, [(60, 100, 400, 112)], 595.0, 842.0) == [
        {"x0": 100.0, "top": 200.0, "x1": 250.0, "bottom": 312.0}
    ]


def test_a_pale_area_is_paper_not_ink():
    image = page_image((100, 200, 250, 312, (235, 235, 230)))  # a scan's off-white paper
    assert picture_regions(image, [], 595.0, 842.0) == []


def test_components_join_touching_runs_and_keep_apart_the_rest():
    ink = np.zeros((6, 8), dtype=bool)
    ink[0, 0:3] = ink[1, 2:4] = True  # runs of two rows that share column 2: one area
    ink[4:6, 6:8] = True  # a square apart
    assert sorted(components(ink)) == [(0, 0, 4, 2), (6, 4, 8, 6)]
