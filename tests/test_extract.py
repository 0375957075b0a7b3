"""Text as PDFs encode it: vertical writing, glyphs without Unicode, letter spacing, side-by-side columns."""

import re
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from pipeline import extract
from pipeline.extract import build_lines, extract_pdf, join_chars
from tests.fixtures.render import _register_font
from tests.fixtures.variants import VARIANTS
from tests.fixtures.render import render

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"
needs_realworld = pytest.mark.skipif(not REALWORLD.is_dir(), reason=f"{REALWORLD} not present")


@needs_realworld
def test_tategaki_is_detected_and_read_right_to_left():
    page = extract_pdf(REALWORLD / "jo.pdf")[0]
    assert page.is_vertical is True
    assert [line.text for line in page.lines[:3]] == ["序", "わたくしといふ現象は", "假定された有機交流電燈の"]


@needs_realworld
def test_rotated_latin_is_detected_as_vertical():
    page = extract_pdf(REALWORLD / "issue-449-vertical.pdf")[0]
    assert page.is_vertical is True
    assert [line.text for line in page.lines] == ["Test", "Vertical", "Layout"]


def test_horizontal_sample_page_is_not_vertical():
    page = extract_pdf(Path(__file__).resolve().parents[1] / "raw" / "r2-approval-summary.pdf")[0]
    assert page.is_vertical is False and page.unmapped_chars == 0 and page.text_source == "pdfplumber"


def strip_tounicode(src: Path, dst: Path) -> Path:
    """The same PDF with its fonts' Unicode maps blanked out (same length, so offsets stay valid)."""
    data = re.sub(rb"/ToUnicode \d+ 0 R", lambda m: b" " * len(m.group()), src.read_bytes())
    dst.write_bytes(data)
    return dst


def test_unmapped_glyphs_are_flagged_per_page(tmp_path):
    doc, layout = VARIANTS["fake_bold"]
    render(doc, layout, tmp_path / "mapped.pdf")
    pages = extract_pdf(strip_tounicode(tmp_path / "mapped.pdf", tmp_path / "unmapped.pdf"))
    assert all(p.unmapped_chars > 100 for p in pages)
    # pypdfium2 cannot do better on a subset font without a cmap: the plumber text stays, flagged.
    assert {p.text_source for p in pages} == {"pdfplumber"}


def test_unmapped_page_is_reread_with_pypdfium2_when_that_reads_better(tmp_path, monkeypatch):
    doc, layout = VARIANTS["fake_bold"]
    render(doc, layout, tmp_path / "mapped.pdf")
    good = extract_pdf(tmp_path / "mapped.pdf")
    unmapped = strip_tounicode(tmp_path / "mapped.pdf", tmp_path / "unmapped.pdf")
    calls = []

    def fake_pdfium(self, index, height):
        calls.append((self.pdf, index))
        return [{"text": "読", "x0": 10.0, "x1": 20.0, "top": 10.0, "bottom": 20.0, "size": 10.0, "fontname": "",
                 "matrix": (1, 0, 0, 1, 10, 20)}]

    monkeypatch.setattr(extract.PdfiumFallback, "chars", fake_pdfium)
    pages = extract_pdf(unmapped)
    assert calls == [(unmapped, i) for i in range(len(good))]
    assert pages[0].text_source == "pypdfium2"
    assert [line.text for line in pages[0].lines] == ["読"]


def draw(path: Path, items: list[tuple[float, float, str, float]]) -> Path:
    """A one-page PDF with strings drawn at (x, y) with a character spacing, in the embedded Japanese font."""
    c = canvas.Canvas(str(path), invariant=1)
    font = _register_font("ttf")
    for x, y, text, char_space in items:
        t = c.beginText(x, y)
        t.setFont(font, 10.5)
        t.setCharSpace(char_space)
        t.textOut(text)
        c.drawText(t)
    c.showPage()
    c.save()
    return path


def test_letter_spaced_heading_reads_without_spaces(tmp_path):
    page = extract_pdf(draw(tmp_path / "spaced.pdf", [(60, 700, "1 事業承継支援", 6.0)]))[0]
    assert [line.text for line in page.lines] == ["1 事業承継支援"]


def test_columns_sharing_a_row_stay_apart(tmp_path):
    page = extract_pdf(draw(tmp_path / "columns.pdf", [(60, 700, "概要の一行目です", 0), (400, 700, "写真の説明", 0)]))[0]
    assert [line.text for line in page.lines] == ["概要の一行目です", "写真の説明"]


def chars(spec: str, x0: float = 0.0, size: float = 10.0, gap: float = 0.0) -> list[dict]:
    out = []
    for ch in spec:
        out.append({"text": ch, "x0": x0, "x1": x0 + size, "top": 0.0, "bottom": size, "size": size,
                    "fontname": "F", "matrix": (1, 0, 0, 1, x0, 0)})
        x0 += size + gap
    return out


def test_latin_words_get_one_space_japanese_none():
    assert join_chars(chars("Tech", gap=0) + chars("Future", x0=45.0)) == "Tech Future"
    assert join_chars(chars("事業", gap=3.0)) == "事業"


def test_rows_are_grouped_by_height_and_read_in_order():
    lower = [dict(c, top=20.0, bottom=30.0) for c in chars("下の行")]
    lines = build_lines(lower + chars("上の行"), page_no=1, vertical=False)
    assert [line.text for line in lines] == ["上の行", "下の行"]


@pytest.mark.parametrize("name", ["fake_bold", "cid_font", "beside_photos"])
def test_our_character_reading_matches_pdfplumbers(tmp_path, name):
    """layout_objects + dedupe_chars are a faster route to exactly what page.dedupe_chars().chars gives."""
    import pdfplumber

    from pipeline.extract import dedupe_chars, layout_objects

    doc, layout = VARIANTS[name]
    render(doc, layout, tmp_path / "v.pdf")
    keys = ("text", "x0", "x1", "top", "bottom", "size", "fontname", "matrix")
    with pdfplumber.open(tmp_path / "v.pdf") as pdf:
        for page in pdf.pages:
            ours, images, frames = layout_objects(page)
            theirs = page.dedupe_chars().chars
            assert [tuple(c[k] for k in keys) for c in dedupe_chars(ours)] == [tuple(c[k] for k in keys) for c in theirs]
            assert len(dedupe_chars(ours)) < len(ours) or name != "fake_bold"
            assert images == [{k: im[k] for k in ("x0", "top", "x1", "bottom")} for im in page.images]
            assert frames == []  # reportlab draws its photos as images, and no empty frames


def test_a_page_pypdfium2_cannot_read_keeps_pdfplumbers_reading(tmp_path, monkeypatch):
    import pypdfium2

    doc, layout = VARIANTS["fake_bold"]
    render(doc, layout, tmp_path / "mapped.pdf")
    unmapped = strip_tounicode(tmp_path / "mapped.pdf", tmp_path / "unmapped.pdf")

    def refuse(*args, **kwargs):
        raise pypdfium2.PdfiumError("Failed to load document")

    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)
    pages = extract_pdf(unmapped)
    assert {p.text_source for p in pages} == {"pdfplumber"} and all(p.unmapped_chars for p in pages)


def test_photos_inside_form_xobjects_are_found(tmp_path):
    """A photo drawn inside a form XObject (as slide and drawing software nest them), and one drawn twice through
    the same form, are photos like any image on the page."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    c = canvas.Canvas(str(tmp_path / "forms.pdf"), invariant=1)  # A4: 595 × 841.89
    picture = Image.new("RGB", (40, 30), (90, 140, 90))
    c.beginForm("photo")
    c.drawImage(ImageReader(picture), 0, 0, 160, 120)
    c.endForm()
    for x in (60, 300):
        c.saveState()
        c.translate(x, 500)
        c.doForm("photo")
        c.restoreState()
    c.drawImage(ImageReader(picture), 60, 300, 80, 60)  # and one on the page itself
    c.showPage()
    c.save()
    page = extract_pdf(tmp_path / "forms.pdf")[0]
    assert [(b.x0, b.top, b.x1, b.bottom) for b in page.images] == [
        (60.0, 221.89, 220.0, 341.89), (300.0, 221.89, 460.0, 341.89), (60.0, 481.89, 140.0, 541.89)]
    assert page.frames == []
