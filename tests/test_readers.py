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
        for page in extract_pdf(pdf, reader)
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
