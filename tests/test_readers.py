"""pypdfium2's reading of every fixture against pdfplumber's, its reference: the same lines, their text exactly
after the folds below, their boxes within the tolerances below. A disagreement beyond them is a finding."""

from pathlib import Path

import pytest

from pipeline.extract import extract_pdf
from tests.fixtures.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = [ROOT / "raw" / "r2-approval-summary.pdf", *sorted((ROOT / "tests" / "fixtures").glob("*.pdf"))]

# Where a CJK font is not embedded, pdfium maps some glyphs through its own CJK tables, pdfminer through the
# font's Unicode map: the wave dash and the small tilde come out as their full-width and ASCII look-alikes.
FOLDS = str.maketrans({"\u301c": "\uff5e", "\u02dc": "~"})
NOT_EMBEDDED = {"cid_font.pdf"}  # the fixtures that print with such a font (HeiseiKakuGo-W5)

# Left and right edges come from the glyphs' origins and advances in both readers: they agree to rounding, and
# pdfium keeps coordinates in 32-bit floats (a few thousandths of a point off across an A4 page), so 0.1 pt.
ACROSS_PT = 0.1
# Tops and bottoms: pdfium takes the font's descent from the font file where its descriptor declares Descent 0
# (LibreOffice's prints), so its boxes sit lower by that descent, at most 0.07 em in these fixtures' fonts
# (IPAexGothic as LibreOffice subsets it) and 0.12 em in the fonts CJK typefaces ship with; 0.12 em of the line's
# size, that is. Where the descriptor gives the descent the two agree to rounding.
DOWN_EM = 0.12


def lines_of(pdf: Path, reader: str) -> list[tuple]:
    """Each line of each page as `reader` reads it: pdfium's own reading, without its fallback to pdfplumber."""
    return [
        (
            page.page,
            line.text.translate(FOLDS) if pdf.name in NOT_EMBEDDED else line.text,
            line.x0,
            line.top,
            line.x1,
            line.bottom,
            line.size,
        )
        for page in extract_pdf(pdf, reader, fallback=False)
        for line in page.lines
    ]


def assert_readers_agree(pdf: Path) -> None:
    reference, ours = lines_of(pdf, "pdfplumber"), lines_of(pdf, "pdfium")
    assert [(p, t) for p, t, *_ in ours] == [(p, t) for p, t, *_ in reference], pdf.name
    for (page, text, *box), (_, _, *theirs) in zip(ours, reference, strict=True):
        size = box[4]
        where = f"{pdf.name} page {page} line {text!r}: pdfium {box} pdfplumber {theirs}"
        assert abs(box[0] - theirs[0]) <= ACROSS_PT and abs(box[2] - theirs[2]) <= ACROSS_PT, where
        assert abs(box[1] - theirs[1]) <= DOWN_EM * size and abs(box[3] - theirs[3]) <= DOWN_EM * size, where
        assert box[4] == theirs[4], where


@pytest.mark.slow
@pytest.mark.parametrize("pdf", FIXTURES, ids=lambda p: p.name)
def test_readers_agree_on_the_fixtures(pdf):
    assert_readers_agree(pdf)


@pytest.mark.slow
@pytest.mark.parametrize("name", VARIANTS)
def test_readers_agree_on_every_variant(variant_pdfs, name):
    assert_readers_agree(variant_pdfs[name])


def test_a_page_in_a_cjk_font_not_embedded_is_read_by_pdfplumber(variant_pdfs):
    """pdfium reads some characters of such a page otherwise (FOLDS), so pdfplumber reads it again and its reading
    is kept; a page printed in embedded fonts keeps pdfium's."""
    pages = extract_pdf(variant_pdfs["cid_font"])
    assert [p.text_source for p in pages] == ["pdfplumber"]
    assert [p.text_source for p in extract_pdf(variant_pdfs["fake_bold"])] == ["pypdfium2"]
    periods = [line.text for line in pages[0].lines if "【計画期間" in line.text]
    assert [text[text.index("【") :] for text in periods] == [
        "【計画期間:平成27年度˜平成29年度】",
        "【計画期間:令和2年度〜令和4年度】",
    ]
