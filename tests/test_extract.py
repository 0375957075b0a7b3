"""Text as PDFs encode it: vertical writing, glyphs without Unicode, letter spacing, side-by-side columns."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

from pipeline.extract import extract_pdf
from pipeline.reading.chars import join_chars
from pipeline.reading.order import build_lines
from pipeline.reading.pdfium import PdfiumFallback
from pipeline.segment import segment_document
from tests.conftest import frozen
from tests.fixtures.render import _register_font

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
    assert page.is_vertical is False and page.unmapped_chars == 0 and page.text_source == "pypdfium2"


def strip_tounicode(src: Path, dst: Path) -> Path:
    """The same PDF with its fonts' Unicode maps blanked out (same length, so offsets stay valid)."""
    data = re.sub(rb"/ToUnicode \d+ 0 R", lambda m: b" " * len(m.group()), src.read_bytes())
    dst.write_bytes(data)
    return dst


@pytest.fixture(scope="session")
def unmapped(variant_pdfs, tmp_path_factory) -> Iterator[Path]:
    """The fake_bold variant with its fonts' Unicode maps blanked out, made once per session (read only)."""
    folder = tmp_path_factory.mktemp("unmapped")
    pdf = strip_tounicode(variant_pdfs["fake_bold"], folder / "unmapped.pdf")
    with frozen(folder):
        yield pdf


@pytest.mark.parametrize("reader", ["pdfium", "pdfplumber"])
def test_unmapped_glyphs_are_flagged_per_page(unmapped, reader):
    pages = extract_pdf(unmapped, reader)
    assert all(p.unmapped_chars > 100 for p in pages)
    # pypdfium2 cannot do better on a subset font without a cmap (it reads control characters): whichever reader
    # reads first, pdfplumber's text is kept, its glyphs flagged.
    assert {p.text_source for p in pages} == {"pdfplumber"}


def test_unmapped_page_is_reread_with_pypdfium2_when_that_reads_better(variant_pdfs, unmapped, monkeypatch):
    good = extract_pdf(variant_pdfs["fake_bold"])
    calls = []

    def fake_pdfium(self, index, height):
        calls.append((self.pdf, index))
        return [
            {
                "text": "読",
                "x0": 10.0,
                "x1": 20.0,
                "top": 10.0,
                "bottom": 20.0,
                "size": 10.0,
                "fontname": "",
                "matrix": (1, 0, 0, 1, 10, 20),
            }
        ]

    monkeypatch.setattr(PdfiumFallback, "chars", fake_pdfium)
    pages = extract_pdf(unmapped, "pdfplumber")  # pdfplumber's reader, and its pypdfium2 fallback
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
    page = extract_pdf(draw(tmp_path / "columns.pdf", [(60, 700, "概要の一行目です", 0), (400, 700, "写真の説明", 0)]))[
        0
    ]
    assert [line.text for line in page.lines] == ["概要の一行目です", "写真の説明"]


def chars(spec: str, x0: float = 0.0, size: float = 10.0, gap: float = 0.0) -> list[dict]:
    out = []
    for ch in spec:
        out.append(
            {
                "text": ch,
                "x0": x0,
                "x1": x0 + size,
                "top": 0.0,
                "bottom": size,
                "size": size,
                "fontname": "F",
                "matrix": (1, 0, 0, 1, x0, 0),
            }
        )
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
def test_our_character_reading_matches_pdfplumbers(variant_pdfs, name):
    """layout_objects + dedupe_chars are a faster route to exactly what page.dedupe_chars().chars gives."""
    import pdfplumber

    from pipeline.reading.chars import dedupe_chars
    from pipeline.reading.objects import layout_objects, photo_frames

    keys = ("text", "x0", "x1", "top", "bottom", "size", "fontname", "matrix")
    with pdfplumber.open(variant_pdfs[name]) as pdf:
        for page in pdf.pages:
            ours, images, shapes, rulings = layout_objects(page)
            theirs = page.dedupe_chars().chars
            assert [tuple(c[k] for k in keys) for c in dedupe_chars(ours)] == [
                tuple(c[k] for k in keys) for c in theirs
            ]
            assert len(dedupe_chars(ours)) < len(ours) or name != "fake_bold"
            assert images == [{k: im[k] for k in ("x0", "top", "x1", "bottom")} for im in page.images]
            # reportlab draws its photos as images, and no empty frames
            assert photo_frames(shapes, ours, images, float(page.width), float(page.height)) == []


def test_a_page_pypdfium2_cannot_read_keeps_pdfplumbers_reading(unmapped, monkeypatch):
    import pypdfium2

    def refuse(*args, **kwargs):
        raise pypdfium2.PdfiumError("Failed to load document")

    monkeypatch.setattr(pypdfium2, "PdfDocument", refuse)
    pages = extract_pdf(unmapped, "pdfplumber")  # pdfplumber's reader, whose fallback pypdfium2 refuses the file
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
        (60.0, 221.89, 220.0, 341.89),
        (300.0, 221.89, 460.0, 341.89),
        (60.0, 481.89, 140.0, 541.89),
    ]
    assert page.frames == []


# --------------------------------------------------------------------------- grids, boxes and columns


def draw_page(path: Path, texts, rulings=(), pagesize=A4) -> Path:
    """A one-page PDF: strings (x, top, text, size) with their top `top` points below the page's top edge, in the
    embedded Japanese font, and lines (x0, top, x1, bottom) stroked half a point wide."""
    font = _register_font("ttf")
    c = canvas.Canvas(str(path), pagesize=pagesize, invariant=1)
    height = pagesize[1]
    for x, top, text, size in texts:
        c.setFont(font, size)
        c.drawString(x, height - top - size * 0.88, text)
    c.setLineWidth(0.5)
    for x0, top, x1, bottom in rulings:
        c.line(x0, height - top, x1, height - bottom)
    c.showPage()
    c.save()
    return path


def wrap(text: str, width: float, size: float = 10.5) -> list[str]:
    """`text` broken into lines at most `width` points wide, character by character, as a spreadsheet wraps."""
    font = _register_font("ttf")
    lines, line = [], ""
    for ch in text:
        if line and pdfmetrics.stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line]


def pillars_read(pages) -> list[tuple]:
    """(municipality, pillar number, title, project names) of every pillar the pages segment to."""
    return [
        (plan.municipality, p.pillar_no, p.pillar_title, [x.project_name for x in p.projects])
        for plan in segment_document(pages).plans
        for p in plan.pillars
    ]


HEADER = "「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】"
# Grid rows: number, title, projects, and how many lines below the title's row the projects start.
GRID_ROWS = [
    (
        "1",
        "事業承継の推進",
        "事業承継支援事業（専門家派遣による個別相談、後継者塾の開催）、創業支援事業（創業塾の開催、家賃補助）、"
        "販路拡大支援事業（展示会への出展補助）等",
        0,
    ),
    (
        "2",
        "店舗の魅力向上と商店街の活性化",
        "商店街活性化事業（空き店舗への出店支援、イベントの開催）、店舗改装支援事業（改装費の"
        "補助）、キャッシュレス導入支援事業（端末導入の補助）",
        1,
    ),
    (
        "3",
        "社会貢献型ビジネスの推進",
        "ソーシャルビジネス支援事業（起業相談、交流会の開催、資金調達の支援）、地域課題解決プロジェクト"
        "事業（区内事業者と大学との協働）、販路開拓支援事業（商談会の開催）",
        0,
    ),
]


def grid_pdf(path: Path) -> Path:
    """A plan laid out as a spreadsheet: under the header and overview, one bordered row per pillar, its number in
    a narrow cell (too close to its title to part them by the gap alone), its title in the next cell (wrapped when
    long), its projects wrapped over three lines in the third cell, from the title's row or the row under it."""
    x = [50, 66, 190, 545]
    texts = [(50, 60, HEADER, 12), (50, 85, "品川区は、ものづくりの町である。", 10.5)]
    rulings, top, lead = [], 110.0, 15
    for number, title, run, drop in GRID_ROWS:
        titles, runs = wrap(title, x[2] - x[1] - 6), wrap(run, x[3] - x[2] - 6)
        assert len(runs) == 3
        texts.append((x[0] + 5, top + 3, number, 10.5))
        texts += [(x[1] + 3, top + 3 + k * lead, t, 10.5) for k, t in enumerate(titles)]
        texts += [(x[2] + 3, top + 3 + (k + drop) * lead, t, 10.5) for k, t in enumerate(runs)]
        rulings.append((x[0], top, x[3], top))
        top += max(len(runs) + drop, len(titles)) * lead + 6
    rulings += [(x[0], top, x[3], top)] + [(xx, 110.0, xx, top) for xx in x]
    return draw_page(path, texts, rulings)


def test_a_grid_row_reads_as_number_title_and_projects_cell_by_cell(tmp_path):
    page = extract_pdf(grid_pdf(tmp_path / "grid.pdf"))[0]
    runs = [run for _, _, run, _ in GRID_ROWS]
    assert [line.text for line in page.lines] == [
        HEADER,
        "品川区は、ものづくりの町である。",
        "1",
        "事業承継の推進",
        runs[0],
        "2",
        "店舗の魅力向上と商店街の活性化",
        runs[1],  # the title wrapped in its cell, joined
        "3",
        "社会貢献型ビジネスの推進",
        runs[2],
    ]


def test_a_grid_row_segments_to_one_pillar_with_its_projects_from_the_titles_row_or_under_it(tmp_path):
    assert pillars_read(extract_pdf(grid_pdf(tmp_path / "grid.pdf"))) == [
        ("品川区", 1, "事業承継の推進", ["事業承継支援事業", "創業支援事業", "販路拡大支援事業"]),
        (
            "品川区",
            2,
            "店舗の魅力向上と商店街の活性化",
            ["商店街活性化事業", "店舗改装支援事業", "キャッシュレス導入支援事業"],
        ),
        (
            "品川区",
            3,
            "社会貢献型ビジネスの推進",
            ["ソーシャルビジネス支援事業", "地域課題解決プロジェクト事業", "販路開拓支援事業"],
        ),
    ]


def test_a_cell_of_several_paragraphs_keeps_its_lines(tmp_path):
    # A drawn box around a heading and its projects: the heading stops short, so the lines are not one paragraph.
    texts = [(60, 100, "1 事業承継の推進", 10.5)] + [
        (60, 115 + 15 * k, t, 10.5) for k, t in enumerate(wrap(GRID_ROWS[0][2], 480))
    ]
    page = extract_pdf(
        draw_page(
            tmp_path / "box.pdf",
            texts,
            [(50, 95, 545, 95), (50, 165, 545, 165), (50, 95, 50, 165), (545, 95, 545, 165)],
        )
    )[0]
    assert [line.text for line in page.lines] == ["1 事業承継の推進"] + wrap(GRID_ROWS[0][2], 480)


TWO_COLUMNS = [
    [
        (12, "「品川区地域産業活性化計画」（品川区）"),
        (12, "【計画期間:令和2年度～令和4年度】"),
        (
            0,
            "品川区は、経営者の高齢化や後継者不足による事業者数の減少が課題となっている。そこで、事業承継支援や創業支援などを通じ、"
            "区内産業のさらなる活性化を図っていく。",
        ),
        (0, "1 事業承継の推進"),
        (1, "事業承継支援事業（専門家派遣による個別相談、後継者塾の開催）、創業支援事業（創業塾の開催）等"),
        (0, "2 販路の拡大"),
        (1, "販路拡大支援事業（展示会への出展補助）"),
        (0, "3 人材の確保"),
        (1, "人材確保支援事業（合同就職面接会の開催、求人情報の発信）、人材育成支援事業（研修費の補助）"),
    ],
    # The header wraps inside the narrow column between （ and the municipality.
    [
        (12, "「中野区ものづくり産業と商店街の連携による活性化計画」（"),
        (12, "中野区）【計画期間:令和2年度～令和4年度】"),
        (
            0,
            "中野区は、都心部へのアクセスがよく、若年者人口が多いという強みを持つ。創業と経営の支援により、事業をしやすい環境の"
            "醸成を図る。",
        ),
        (0, "1 ネットワーク拠点の強化"),
        (1, "創業・経営支援ネットワーク構築事業（ネットワーク会合の開催）"),
        (0, "2 経営の強化"),
        (1, "経営相談事業（専門家による窓口相談）等"),
    ],
]
FOOTNOTE = (
    "（各区市町村が策定した地域産業活性化計画に基づく事業の実施については、"
    "都及び各区市町村の予算についての議会の議決を受け、確定するものです。）"
)


def two_column_pdf(path: Path, boxed: bool) -> Path:
    """An A4 landscape page: the title centred over two columns, a plan in each (the left one longer), lines of
    the two columns level with each other, the footnote across both; each plan in a drawn box or not."""
    width, _ = landscape(A4)
    title = "承認した地域産業活性化計画の概要"
    texts = [((width - pdfmetrics.stringWidth(title, _register_font("ttf"), 14)) / 2, 30, title, 14)]
    rulings, bottoms = [], []
    for (x0, x1), column in zip([(40, 401), (441, 802)], TWO_COLUMNS, strict=True):
        top, pad = 70, 6 if boxed else 0
        for kind, text in column:
            size, indent = (12, 0) if kind == 12 else (10.5, 10.5 * kind)
            for piece in wrap(text, x1 - x0 - indent - 2 * pad, size):
                texts.append((x0 + pad + indent, top, piece, size))
                top += 16
        bottoms.append(top)
        if boxed:
            rulings += [(x0, 64, x1, 64), (x0, top + 4, x1, top + 4), (x0, 64, x0, top + 4), (x1, 64, x1, top + 4)]
    top = max(bottoms) + 16
    for piece in wrap(FOOTNOTE, 762):
        texts.append((40, top, piece, 10.5))
        top += 16
    return draw_page(path, texts, rulings, pagesize=landscape(A4))


@pytest.mark.parametrize("boxed", [False, True], ids=["open", "boxed"])
def test_two_plans_in_two_columns_read_as_two_plans_with_their_pillars(tmp_path, boxed):
    found = segment_document(extract_pdf(two_column_pdf(tmp_path / "columns.pdf", boxed)))
    assert [(plan.municipality, plan.period_text, plan.summary) for plan in found.plans] == [
        ("品川区", "令和2年度～令和4年度", TWO_COLUMNS[0][2][1]),
        ("中野区", "令和2年度～令和4年度", TWO_COLUMNS[1][2][1]),
    ]
    assert [(m, n, t, names) for m, n, t, names in pillars_read(extract_pdf(tmp_path / "columns.pdf"))] == [
        ("品川区", 1, "事業承継の推進", ["事業承継支援事業", "創業支援事業"]),
        ("品川区", 2, "販路の拡大", ["販路拡大支援事業"]),
        ("品川区", 3, "人材の確保", ["人材確保支援事業", "人材育成支援事業"]),  # below the right column's end
        ("中野区", 1, "ネットワーク拠点の強化", ["創業・経営支援ネットワーク構築事業"]),
        ("中野区", 2, "経営の強化", ["経営相談事業"]),  # the footnote across both columns stays out
    ]
    assert found.warnings == []


def test_a_header_wrapping_inside_its_narrow_column_is_one_header(tmp_path):
    page = extract_pdf(two_column_pdf(tmp_path / "columns.pdf", boxed=False))[0]
    texts = [line.text for line in page.lines]
    at = texts.index(TWO_COLUMNS[1][0][1])
    assert texts[at + 1] == TWO_COLUMNS[1][1][1]
    plan = segment_document([page]).plans[1]
    assert (plan.plan_title, plan.municipality) == ("中野区ものづくり産業と商店街の連携による活性化計画", "中野区")


def on_baseline(spec: str, x0: float, size: float) -> list[dict]:
    """Characters of `size` from x0 on one baseline at y 20 (their bottoms level), as a caption beside text sits."""
    return [dict(c, top=20.0 - c["size"], bottom=20.0) for c in chars(spec, x0=x0, size=size)]


def test_a_caption_level_with_a_line_beside_it_is_a_line_of_its_own():
    # 10.5-point text, then 9-point caption text a gutter of 11 pt on: under a column gap (21 pt), but another size
    # after a space
    text = on_baseline("概要の一行", 0.0, 10.5)
    caption = on_baseline("写真の説明", 5 * 10.5 + 11.0, 9.0)
    assert [line.text for line in build_lines(text + caption, page_no=1, vertical=False)] == [
        "概要の一行",
        "写真の説明",
    ]


def test_text_of_mixed_sizes_set_tight_stays_one_line():
    # a smaller 等 right after the text, no space between: one line
    text = on_baseline("支援事業", 0.0, 10.5) + on_baseline("等", 4 * 10.5, 8.0)
    assert [line.text for line in build_lines(text, page_no=1, vertical=False)] == ["支援事業等"]
