import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.core.records import Box, Line, Notice, Page, Project, Region
from pipeline.core.text import split_name_detail
from pipeline.extract import extract_pdf
from pipeline.normalize import municipalities
from pipeline.segment import segment_document
from pipeline.structure.captions import find_captions, measure
from pipeline.structure.enumerators import read_marker
from pipeline.structure.furniture import stray_tokens
from pipeline.structure.headings import join_number_labels, match_pillar
from pipeline.structure.plans import HEADER_RE, match_header
from pipeline.structure.projects import parse_projects, split_top_level
from pipeline.structure.rejection import PLACE_NAME_RE, summarize_rejections
from pipeline.structure.roles import ROLES


def test_split_top_level_keeps_nested_parentheses_whole():
    text = "A事業（出展料補助、重点分野（ICT、コンテンツ及びライフサポートサービス）に関連する出展等）、B事業（調査）"
    assert [item for _, item in split_top_level(text)] == [
        "A事業（出展料補助、重点分野（ICT、コンテンツ及びライフサポートサービス）に関連する出展等）",
        "B事業（調査）",
    ]


@pytest.mark.parametrize(
    ("item", "name", "detail"),
    [
        ("事業承継支援事業（専門家派遣、後継者塾の開催等）", "事業承継支援事業", "専門家派遣、後継者塾の開催等"),
        (
            "(仮称) Tech×Future カンファレンス事業（令和4年2月完成予定の(仮称)産業交流拠点における展示会）",
            "(仮称) Tech×Future カンファレンス事業",
            "令和4年2月完成予定の(仮称)産業交流拠点における展示会",
        ),
        ("(仮称)産業交流拠点整備", "(仮称)産業交流拠点整備", None),
        ("起業家ネットワーク支援", "起業家ネットワーク支援", None),
        ("X事業（移転（転入を含む）の補助）", "X事業", "移転（転入を含む）の補助"),
        ("販路拡大(展示会出展)", "販路拡大", "展示会出展"),
    ],
)
def test_split_name_detail(item, name, detail):
    assert split_name_detail(item) == (name, detail)


def lines(*texts, page=1):
    """Lines of a pillar's projects, one under the other, 10 points apart."""
    return [Line(page, t, 60, 100 + 10 * i, 60 + 10 * len(t), 108 + 10 * i, 8, "f") for i, t in enumerate(texts)]


def test_run_wrapped_over_lines_with_closing_nado():
    projects, more = parse_projects(lines("A事業（a、b", "等）、B事業（c）等"))
    assert more is True
    assert [(p.project_name, p.project_detail) for p in projects] == [("A事業", "a、b等"), ("B事業", "c")]


def test_run_without_closing_nado():
    projects, more = parse_projects(lines("A事業（a等）"))
    assert more is False
    assert projects == [
        Project(project_name="A事業", project_detail="a等", page=1, regions=[Region(1, 60, 100, 130, 108)])
    ]


@pytest.mark.parametrize("bullet", ["・", "○"])
def test_bulleted_projects_one_per_line(bullet):
    projects, more = parse_projects(lines(f"{bullet}A事業（a、", "b）", f"{bullet}B事業等"))
    assert more is True
    assert [(p.project_name, p.project_detail) for p in projects] == [("A事業", "a、b"), ("B事業", None)]


def test_projects_keep_the_page_they_start_on_and_the_box_of_each_page():
    projects, _ = parse_projects(lines("A事業（a）、B事", page=1) + lines("業（b）", "、C事業", page=2))
    assert [p.page for p in projects] == [1, 1, 2]
    assert [p.regions for p in projects] == [
        [Region(1, 60, 100, 150, 108)],
        [Region(1, 60, 100, 150, 108), Region(2, 60, 100, 100, 108)],
        [Region(2, 60, 110, 100, 118)],
    ]


@pytest.mark.parametrize(
    ("text", "expected", "title"),
    [
        ("1 事業承継支援", 1, "事業承継支援"),
        ("1事業承継支援", 1, "事業承継支援"),
        ("(1) 事業承継支援", 1, "事業承継支援"),
        ("（1）事業承継支援", 1, "事業承継支援"),
        ("② 販路拡大", 2, "販路拡大"),
        ("1. 事業承継支援", 1, "事業承継支援"),
        ("- 1 事業承継支援", 1, "事業承継支援"),
        ("4 (仮称) Tech×Future カンファレンス事業", 4, "(仮称) Tech×Future カンファレンス事業"),
        ("3 人材確保・生産性向上支援", 3, "人材確保・生産性向上支援"),
        ("2 事業承継支援", 1, None),  # out of sequence
        ("30年度に実施した調査では", 3, None),
        ("2020年度から", 2, None),
        ("5Gの活用", 5, None),
        ("1", 1, None),
        ("(1)かつしかブランドの発信", 1, "かつしかブランドの発信"),
        ("①かわさきの魅力", 1, "かわさきの魅力"),
        ("(2)5G活用支援", 2, "5G活用支援"),
        ("1つの拠点を整備し", 1, None),
        ("10万人の来場を見込む", 10, None),
        ("3社が参加", 3, None),
    ],
)
def test_match_pillar(text, expected, title):
    assert match_pillar(text, expected) == title


@pytest.mark.parametrize(
    ("line", "title", "municipality", "period"),
    [
        (
            "「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】",
            "品川区地域産業活性化計画",
            "品川区",
            "令和2年度～令和4年度",
        ),
        (
            "「大田区ものづくり集積基盤強化計画」(大田区) 【計画期間：平成24～26年度】",
            "大田区ものづくり集積基盤強化計画",
            "大田区",
            "平成24～26年度",
        ),
        ("「瑞穂町地域産業活性化計画」（瑞穂町）", "瑞穂町地域産業活性化計画", "瑞穂町", None),
        ("「A区計画」（A区）【期間:令和2年度～令和4年度】", "A区計画", "A区", "令和2年度～令和4年度"),
        ("「A区計画」（A区）【事業期間：令和2年度～令和4年度】", "A区計画", "A区", "令和2年度～令和4年度"),
        ("「A区計画」（A区）【計 画 期 間:令和2年度～令和4年度】", "A区計画", "A区", "令和2年度～令和4年度"),
        ("「A区計画」（A区）［計画期間:令和2年度～令和4年度］", "A区計画", "A区", "令和2年度～令和4年度"),
    ],
)
def test_header_forms(line, title, municipality, period):
    m = HEADER_RE.match(line)
    assert (m["title"], m["municipality"], m["period"]) == (title, municipality, period)


def header_lines(*texts):
    return [positioned(t, 50, 100 + 15 * k) for k, t in enumerate(texts)]


@pytest.mark.parametrize(
    ("texts", "taken", "period"),
    [
        (
            ["「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】", "概要"],
            1,
            "令和2年度～令和4年度",
        ),
        (
            ["「品川区大崎駅周辺地域ものづくり産業基盤強化計画」（品川区）", "【計画期間:平成26～28年度】", "概要"],
            2,
            "平成26～28年度",
        ),
        (
            ["「品川区大崎駅周辺地域ものづくり", "産業基盤強化計画」（品川区）", "【計画期間:平成26～28年度】"],
            3,
            "平成26～28年度",
        ),
        (["「瑞穂町地域産業活性化計画」（瑞穂町）", "瑞穂町は、工業団地を中心に"], 1, None),
    ],
)
def test_match_header_joins_wrapped_headers(texts, taken, period):
    lines, m = match_header(header_lines(*texts), 0)
    assert len(lines) == taken and m["period"] == period


def test_a_quotation_starting_a_summary_line_is_no_header():
    assert match_header(header_lines("「五反田バレー」として認知度が高まっている", "が、ネットワークの形成"), 0) == (
        [],
        None,
    )


def positioned(text, x0, top, size=10.0, page=1):
    return Line(
        page=page, text=text, x0=x0, top=top, x1=x0 + size * len(text), bottom=top + size, size=size, fontname=""
    )


def page_of(lines, number=1, share=1.0, images=()):
    """A page holding `lines` and `images`, `share` of its characters readable."""
    return Page(
        page=number,
        height=842.0,
        width=595.0,
        chars=0,
        unmapped_chars=0,
        readable_share=share,
        text_source="pdfplumber",
        is_vertical=False,
        images=list(images),
        lines=lines,
    )


# --------------------------------------------------------------------------- captions
#
# The pages below are set as a word processor sets them, with their measures written out: body text at 10.5 pt
# on a 12.6 pt line (1.2 spacing: leading 2.1 pt between two lines' boxes), paragraphs `spacing` apart, the
# measure from x 50 to 545, captions at 9 pt. A caption line is then 9 × (1 + 2.1 / 10.5) = 10.8 pt, and a
# caption may stand two of them (21.6 pt) from its photo, or the body's paragraph spacing when that is wider.

BODY, CAPTION, LEADING = 10.5, 9.0, 2.1
CAPTION_LINE = CAPTION * (1 + LEADING / BODY)


def set_line(text, top, x0=50.0, x1=545.0, size=BODY, page=1):
    """A line of `size` from x0 to x1 (the full measure by default)."""
    return Line(page=page, text=text, x0=x0, top=top, x1=x1, bottom=top + size, size=size, fontname="")


def centred(text, middle, top, size=CAPTION):
    """A line of `size` centred on `middle`."""
    width = size * len(text)
    return set_line(text, top, middle - width / 2, middle + width / 2, size)


def paragraph(top, lines=3, last_x1=400.0):
    """A paragraph of body text from `top`: full lines, the last one short."""
    return [
        set_line(f"本文の{k}行目です。" * 4, top + k * (BODY + LEADING), x1=545.0 if k < lines - 1 else last_x1)
        for k in range(lines)
    ]


def bottom_of(lines):
    return lines[-1].bottom


def photo_page(caption_gap, spacing):
    """Two paragraphs `spacing` apart, a photo (x 200–400) under them, a caption `caption_gap` under the photo,
    then a third paragraph `spacing` under the caption. Returns the lines, the photo, the caption's index."""
    first = paragraph(100.0)
    second = paragraph(bottom_of(first) + spacing)
    photo = Box(x0=200.0, top=bottom_of(second) + spacing, x1=400.0, bottom=bottom_of(second) + spacing + 150.0)
    caption = centred("展示会の様子", 300.0, photo.bottom + caption_gap)
    third = paragraph(caption.bottom + spacing)
    return first + second + [caption] + third, photo, len(first + second)


def test_the_measures_are_the_documents_own():
    lines, _, _ = photo_page(caption_gap=CAPTION_LINE, spacing=12.0)
    m = measure(lines)
    assert (m.size, round(m.leading, 2), round(m.spacing, 2)) == (10.5, 2.1, 12.0)
    assert round(m.paragraph_gap, 2) == 7.35  # leading + half a body line
    assert round(m.caption_reach(CAPTION), 2) == 21.6  # two caption lines: wider than the paragraph spacing


def test_the_leading_is_measured_within_paragraphs_when_most_are_one_line():
    # As a word processor prints a plan: an overview of three lines 0.8 pt apart, then pillar titles and projects
    # of one line each, 8.8 pt apart. Their median gap is the paragraph spacing; the leading is the lower quartile.
    overview = [set_line("概要の本文です。" * 6, 100.0 + k * 11.3) for k in range(3)]
    items = [set_line(f"（{k}）事業の名前", overview[-1].bottom + 8.8 + k * 19.3, x1=200.0) for k in range(6)]
    m = measure(overview + items)
    assert (round(m.leading, 2), round(m.spacing, 2)) == (0.8, 8.8)
    assert round(m.caption_reach(CAPTION), 2) == round(2 * CAPTION * (1 + 0.8 / BODY), 2)  # 19.37 pt


@pytest.mark.parametrize(("lines_away", "found"), [(1.0, True), (1.7, True), (2.2, False)])
def test_a_caption_stands_within_two_of_its_lines_of_its_photo(lines_away, found):
    # Paragraphs 12 pt apart, under the 21.6 pt reach: a caption 1.0 or 1.7 caption lines (10.8, 18.4 pt) under
    # its photo is one, as a word processor sets it with paragraph spacing; 2.2 lines (23.8 pt) is too far.
    lines, photo, caption = photo_page(caption_gap=lines_away * CAPTION_LINE, spacing=12.0)
    assert find_captions(lines, [photo]) == ({0: [caption]} if found else {})


def test_a_document_that_spaces_its_paragraphs_wider_reaches_further():
    # Paragraphs 26 pt apart: the document's paragraph spacing, wider than two caption lines, is the reach.
    lines, photo, caption = photo_page(caption_gap=2.2 * CAPTION_LINE, spacing=26.0)
    assert round(measure(lines).spacing, 2) == 26.0
    assert find_captions(lines, [photo]) == {0: [caption]}


def test_a_caption_is_one_to_three_lines_of_one_size():
    photo = Box(x0=200.0, top=100.0, x1=400.0, bottom=250.0)
    body = paragraph(400.0)
    three = [centred(f"説明の{k}行目", 300.0, 254.0 + k * CAPTION_LINE) for k in range(3)]
    assert find_captions(three + body, [photo]) == {0: [0, 1, 2]}
    # a fourth line set alike: the text goes on, and none of it is a caption
    four = three + [centred("説明の3行目", 300.0, 254.0 + 3 * CAPTION_LINE)]
    assert find_captions(four + body, [photo]) == {}
    # a line of another size right under the caption ends it
    other = three[:1] + [centred("本文の大きさの行", 300.0, 254.0 + CAPTION_LINE, size=BODY)]
    assert find_captions(other + body, [photo]) == {0: [0]}


def test_captions_are_the_lines_under_a_photo_centred_or_within_its_width():
    photo = Box(x0=100.0, top=100.0, x1=250.0, bottom=200.0)
    lines = [
        positioned("概要の最後の行です。", 50, 80),
        positioned("展示会の様子", 145, 205),  # centred
        positioned("(共同出展)", 150, 218),  # second line
        positioned("1 事業承継支援", 50, 260),  # next block
    ]
    assert find_captions(lines, [photo]) == {0: [1, 2]}
    left_aligned = [positioned("工房", 102, 205)]
    assert find_captions(left_aligned, [photo]) == {0: [0]}
    # centred on the cell that holds the photo, wider than the photo: its middle still lies over the photo
    in_cell = [lines[0], positioned("区内の町工場が集まる工業団地の全景", 90, 205, size=9.0), lines[3]]
    assert find_captions(in_cell, [photo]) == {0: [1]}
    # beside the photo's column, its middle off the photo: no caption
    off = [positioned("別の段の短い行", 260, 205)]
    assert find_captions(off, [photo]) == {}


def test_a_heading_right_under_a_photo_is_no_caption():
    photo = Box(x0=50.0, top=100.0, x1=250.0, bottom=200.0)
    lines = [positioned("1 事業承継支援", 50, 205), positioned("「X区地域産業活性化計画」（X区）", 60, 205)]
    assert find_captions(lines, [photo]) == {}


def test_a_heading_under_a_photo_ends_the_search():
    # A photo without caption right above a pillar: the pillar's first project, short and within reach of the
    # photo, stays the pillar's.
    photo = Box(x0=50.0, top=100.0, x1=250.0, bottom=200.0)
    lines = [positioned("1 事業承継支援", 50, 203), positioned("承継支援事業", 70, 215)]
    assert find_captions(lines, [photo]) == {}


def test_running_text_under_a_photo_is_no_caption():
    # Body text filling the measure right under the photo, and the short last line of its paragraph: the text
    # goes on under the photo; neither line is a caption.
    photo = Box(x0=200.0, top=100.0, x1=400.0, bottom=250.0)
    lines = paragraph(200.0, lines=1) + paragraph(254.0, lines=2, last_x1=330.0)
    assert find_captions(lines, [photo]) == {}


def test_a_caption_above_a_photo():
    before = paragraph(100.0)
    caption = centred("工房見学の様子", 300.0, bottom_of(before) + 12.0)
    photo = Box(x0=200.0, top=caption.bottom + 0.6 * CAPTION_LINE, x1=400.0, bottom=caption.bottom + 160.0)
    after = paragraph(photo.bottom + 12.0)
    assert find_captions(before + [caption] + after, [photo]) == {0: [3]}


def test_the_last_line_of_a_paragraph_above_a_photo_is_no_caption():
    # It continues a paragraph that fills the measure: running text, however short and near the photo.
    before = paragraph(100.0, last_x1=380.0)  # its middle, 215, over the photo
    photo = Box(x0=200.0, top=bottom_of(before) + 6.0, x1=400.0, bottom=bottom_of(before) + 156.0)
    assert find_captions(before, [photo]) == {}


def test_a_caption_beside_a_photo():
    # The photo at the left of its row, its caption right of it, level with its bottom; the overview above.
    before = paragraph(100.0)
    photo = Box(x0=50.0, top=bottom_of(before) + 12.0, x1=200.0, bottom=bottom_of(before) + 124.0)
    caption = set_line("工業団地の全景", photo.bottom - CAPTION, 212.0, 212.0 + 7 * CAPTION, CAPTION)
    after = paragraph(photo.bottom + 12.0)
    assert find_captions(before + [caption] + after, [photo]) == {0: [3]}


def test_a_paragraph_beside_a_photo_is_no_caption():
    # An overview set in a column beside the photo: wider than the photo and longer than a caption.
    photo = Box(x0=400.0, top=100.0, x1=512.0, bottom=184.0)
    overview = [set_line(f"概要の{k}行目の本文です。" * 2, 100.0 + k * (BODY + LEADING), 50.0, 380.0) for k in range(5)]
    assert find_captions(overview, [photo]) == {}
    # three lines of it, level with the photo and under the caption size: still no wider than the photo, no caption
    assert find_captions(overview[:3], [photo]) == {}


def test_a_row_of_photos_pairs_each_caption_with_the_photo_above_it():
    # Two photos in a row, their captions under them, the right one listed first; the left photo a little
    # shorter, centred in its cell, so it starts lower and its caption sits higher. The left caption is wider
    # than its photo, centred on its cell.
    left = Box(x0=60.0, top=105.0, x1=260.0, bottom=245.0)
    right = Box(x0=320.0, top=100.0, x1=520.0, bottom=250.0)
    lines = [
        centred("浅草の商店街", 420.0, 254.0),
        centred("観光案内所で外国人観光客に応対する職員", 160.0, 249.0),
        *paragraph(290.0),
    ]
    assert find_captions(lines, [left, right]) == {0: [1], 1: [0]}
    # in the plan, the captions come in reading order: the row left to right, though the right photo starts higher
    header = set_line("「台東区観光まちづくり推進計画」（台東区）【計画期間:令和2年度～令和4年度】", 70.0, size=12.0)
    plan = segment_document([page_of([header, *lines], images=[right, left])]).plans[0]
    assert plan.photo_captions == ["観光案内所で外国人観光客に応対する職員", "浅草の商店街"]


def test_lines_smaller_than_the_body_are_preferred():
    # A 9 pt line over the photo and a short line of body text under it: the smaller line is the caption.
    photo = Box(x0=200.0, top=130.0, x1=400.0, bottom=280.0)
    lines = [
        *paragraph(60.0, lines=2),
        centred("写真：工房の様子", 300.0, 116.0),
        centred("本文の短い行", 300.0, 284.0, BODY),
    ]
    assert find_captions(lines, [photo]) == {0: [2]}


def test_a_caption_set_with_paragraph_spacing_stays_off_the_last_project():
    # The case: photos after the pillars, their captions 1.7 caption lines under them, as a word processor
    # sets them. The caption is read as one, and the last project keeps its detail and its closing 等.
    header = set_line(
        "「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】", 100.0, x1=545.0, size=12.0
    )
    summary = paragraph(124.0)
    pillar = set_line("1 事業承継支援", bottom_of(summary) + 12.0, x1=160.0)
    project = set_line("承継支援事業（専門家派遣、後継者塾の開催）等", pillar.bottom + LEADING, 60.0, 300.0)
    photo = Box(x0=200.0, top=project.bottom + 12.0, x1=400.0, bottom=project.bottom + 162.0)
    caption = centred("後継者塾の様子", 300.0, photo.bottom + 1.7 * CAPTION_LINE)
    plan = segment_document([page_of([header, *summary, pillar, project, caption], images=[photo])]).plans[0]
    assert plan.photo_captions == ["後継者塾の様子"]
    assert [
        (p.pillar_title, p.has_more_projects, [(x.project_name, x.project_detail) for x in p.projects])
        for p in plan.pillars
    ] == [("事業承継支援", True, [("承継支援事業", "専門家派遣、後継者塾の開催")])]


def framed_page(path):
    """A page as a word processor prints a plan in a box: the box (text inside) holds the overview, two photos
    drawn as frames with nothing inside (a rectangle, a rounded one), their captions under them, a small empty
    check box and an empty band."""
    from reportlab.pdfgen import canvas

    from tests.fixtures.render import _register_font

    c = canvas.Canvas(str(path), invariant=1)  # A4: 595 × 842
    font = _register_font("ttf")
    c.rect(50, 300, 495, 450)  # the plan's box, text inside: no photo
    c.setFont(font, 10.5)
    c.drawString(60, 720, "「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】")
    c.drawString(60, 700, "品川区は、ものづくりの町である。")
    c.rect(220, 480, 160, 120)  # the photo's frame: empty
    c.setFont(font, 9)
    c.drawCentredString(300, 480 - 1.7 * 10.8 - 8, "展示会の様子")
    c.roundRect(400, 520, 100, 80, 8)  # a second photo, a rounded frame (a closed path of curves)
    c.drawCentredString(450, 520 - 12, "工房")
    c.rect(60, 330, 12, 12)  # a check box: too small for a photo
    c.rect(60, 360, 400, 20)  # an empty band: too long for its height
    c.showPage()
    c.save()
    return path


def test_an_empty_vector_frame_is_a_photo_and_a_box_with_text_is_not(tmp_path):
    page = extract_pdf(framed_page(tmp_path / "framed.pdf"))[0]
    assert page.images == []
    # the largest first; the page is 841.89 pt high
    assert page.frames == [
        Box(x0=220.0, top=241.89, x1=380.0, bottom=361.89),
        Box(x0=400.0, top=241.89, x1=500.0, bottom=321.89),
    ]
    texts = [line.text for line in page.lines]
    assert find_captions(page.lines, page.frames) == {0: [texts.index("展示会の様子")], 1: [texts.index("工房")]}
    assert segment_document([page]).plans[0].photo_captions == ["展示会の様子", "工房"]


def test_a_pillar_number_in_its_own_cell_joins_its_title():
    page = page_of(
        [
            positioned("「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】", 50, 100),
            positioned("品川区は、ものづくりの町である。", 50, 120),
            positioned("(1)", 50, 150),
            positioned("事業承継支援", 120, 150),
            positioned("承継支援事業（相談）", 60, 165),
            positioned("(2)", 50, 190),
            positioned("販路拡大", 120, 190),
            positioned("展示会出展事業（補助）等", 60, 205),
        ]
    )
    plan = segment_document([page]).plans[0]
    assert [(p.pillar_no, p.pillar_title, p.has_more_projects) for p in plan.pillars] == [
        (1, "事業承継支援", False),
        (2, "販路拡大", True),
    ]
    assert [x.project_name for p in plan.pillars for x in p.projects] == ["承継支援事業", "展示会出展事業"]


HEADER = "「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】"


def pillars_of(lines):
    """(number, title, project names) of each pillar of the one plan the lines make."""
    (plan,) = segment_document([page_of(lines)]).plans
    return [(p.pillar_no, p.pillar_title, [x.project_name for x in p.projects]) for p in plan.pillars]


def test_a_number_glued_to_a_counter_heads_a_pillar_aligned_with_the_other_pillar_numbers():
    # 3社… and 4人… read as quantities in running text; here each starts a block, comes next in sequence and
    # stands where the pillar numbers 1 and 2 stand, so it is a pillar number.
    assert pillars_of(
        [
            positioned(HEADER, 50, 100),
            positioned("品川区は、ものづくりの町である。", 50, 120),
            positioned("1 事業承継の推進", 50, 150),
            positioned("事業承継支援事業（相談）", 60, 165),
            positioned("2店舗の魅力向上", 50, 190),
            positioned("店舗改装支援事業（補助）", 60, 205),
            positioned("3社会貢献型ビジネスの推進", 50, 230),
            positioned("ソーシャルビジネス支援事業（起業相談）", 60, 245),
            positioned("4人材の確保", 50, 270),
            positioned("人材確保支援事業（面接会）", 60, 285),
        ]
    ) == [
        (1, "事業承継の推進", ["事業承継支援事業"]),
        (2, "店舗の魅力向上", ["店舗改装支援事業"]),
        (3, "社会貢献型ビジネスの推進", ["ソーシャルビジネス支援事業"]),
        (4, "人材の確保", ["人材確保支援事業"]),
    ]


def test_a_number_glued_to_a_counter_in_running_text_stays_text():
    full = "展示会出展支援事業（区内の中小企業による共同出展で、出展料を補助する。令和2年度は"  # to the right edge
    assert positioned(full, 50, 0).x1 >= positioned(HEADER, 50, 0).x1 - 20
    assert pillars_of(
        [
            positioned(HEADER, 50, 100),
            positioned("品川区は、ものづくりの町である。", 50, 120),
            positioned("1つ目の柱は事業承継である。", 50, 135),  # a block of its own, but a plain 1 follows
            positioned("1 事業承継の推進", 50, 150),
            positioned("事業承継支援事業（相談）", 60, 165),
            positioned("2 販路の拡大", 50, 190),
            positioned(full, 50, 205),
            positioned("3社が参加した）、", 50, 220),  # aligned, short, but the line before it runs on into it
            positioned("3社合同の交流会事業（年2回）", 65, 240),  # a block of its own, off the pillar numbers
        ]
    ) == [(1, "事業承継の推進", ["事業承継支援事業"]), (2, "販路の拡大", ["展示会出展支援事業", "3社合同の交流会事業"])]


def test_a_wrapped_line_of_the_left_column_is_running_text_though_the_right_column_runs_further():
    # Two plans side by side: the left plan's projects fill its column and wrap onto a line that begins 3社…,
    # aligned with its pillar numbers. Measured against its own column, not the page, that line runs on.
    left = [
        positioned("「品川区地域産業活性化計画」（品川区）", 50, 100),
        positioned("【計画期間:令和2年度～令和4年度】", 50, 115),
        positioned("1 事業承継の推進", 50, 150),
        positioned("事業承継支援事業（相談）", 60, 165),
        positioned("2 販路の拡大", 50, 190),
        positioned("展示会出展支援事業（区内企業による共同出展", 50, 205),
        positioned("3社が参加）", 50, 220),
    ]
    right = [
        positioned(HEADER.replace("品川", "中野"), 450, 100),
        positioned("1 経営の強化", 450, 150),
        positioned("経営相談事業（専門家による窓口相談）", 460, 165),
    ]
    assert left[5].x1 == max(line.x1 for line in left) and right[0].x1 > left[5].x1 + 300
    found = segment_document([page_of(left + right)])
    assert [(p.pillar_no, p.pillar_title, [x.project_detail for x in p.projects]) for p in found.plans[0].pillars] == [
        (1, "事業承継の推進", ["相談"]),
        (2, "販路の拡大", ["区内企業による共同出展3社が参加"]),
    ]


def test_a_header_wrapped_between_its_bracket_and_the_municipality_is_one_header():
    lines, m = match_header(
        header_lines(
            "「中野区ものづくり産業と商店街の連携による活性化計画」（",
            "中野区）【計画期間:令和2年度～令和4年度】",
            "中野区は、",
        ),
        0,
    )
    assert len(lines) == 2 and (m["title"], m["municipality"], m["period"]) == (
        "中野区ものづくり産業と商店街の連携による活性化計画",
        "中野区",
        "令和2年度～令和4年度",
    )


def test_a_header_wrapped_inside_its_period_is_one_header():
    # The first line alone reads as a header with a period (令和4年度～), but its bracket is still open.
    lines, m = match_header(
        header_lines("「清瀬市地域産業活性化計画」（清瀬市）【計画期間:令和4年度～", "令和6年度】", "清瀬市は、"), 0
    )
    assert len(lines) == 2 and m["period"] == "令和4年度～令和6年度"


def test_a_caption_belongs_to_the_plan_read_before_it_in_its_column():
    # Two plans side by side, a photo under each overview: each caption goes to the plan of its column, though
    # both headers stand at one height. Lines come in reading order, the left column first.
    photos = [Box(x0=60.0, top=150.0, x1=200.0, bottom=250.0), Box(x0=460.0, top=150.0, x1=600.0, bottom=250.0)]
    lines = []
    for x0, name in ((50, "品川区"), (450, "中野区")):
        lines += [
            positioned(f"「{name}地域産業活性化計画」（{name}）", x0, 100),
            positioned("【計画期間:令和2年度～令和4年度】", x0, 115),
            positioned(f"{name}は、ものづくりの町である。", x0, 132),
            positioned(f"{name}の工場", x0 + 30, 255),
            positioned("1 事業承継の推進", x0, 280),
            positioned("承継支援事業（相談）", x0 + 10, 295),
        ]
    found = segment_document([page_of(lines, images=photos)])
    assert [(plan.municipality, plan.photo_captions) for plan in found.plans] == [
        ("品川区", ["品川区の工場"]),
        ("中野区", ["中野区の工場"]),
    ]


# --------------------------------------------------------------------------- plans that do not reach the tables


def plan_lines(municipality="品川区", project="承継支援事業（相談）", page=1):
    """A one-pillar plan of `municipality` on `page`, its one project as given."""
    return [
        positioned(
            f"「{municipality}地域産業活性化計画」（{municipality}）【計画期間:令和2年度～令和4年度】",
            50,
            100,
            page=page,
        ),
        positioned(f"{municipality}は、ものづくりの町である。", 50, 120, page=page),
        positioned("1 事業承継支援", 50, 150, page=page),
        positioned(project, 60, 165, page=page),
    ]


@pytest.mark.parametrize(
    "name",
    [
        "千代田区",
        "八王子市",
        "奥多摩町",
        "檜原村",
        "青ヶ島村",
        "東京都国立市",
        "架空町",
        "ニセコ町",
        "つくばみらい市",
        "野々市市",
    ],
)
def test_a_place_name_is_kanji_or_kana_ending_in_ku_shi_machi_or_mura(name):
    assert PLACE_NAME_RE.match(name)


@pytest.mark.parametrize(
    "name", ["67区", "}～川区", "µ¶子·", "A区", "品川", "東京都", "区", "品川区役所", "東京都 品川区", "(cid:12)川区"]
)
def test_anything_else_is_no_place_name(name):
    assert not PLACE_NAME_RE.match(name)


def test_every_tokyo_municipality_reads_as_a_place_name():
    assert [name for name in municipalities() if not PLACE_NAME_RE.match(name)] == []
    assert len(municipalities()) == 62


def test_a_plan_with_a_line_on_a_badly_read_page_is_rejected_and_the_others_kept():
    pages = [page_of(plan_lines("品川区")), page_of(plan_lines("中野区", page=2)[:1], number=2, share=0.85)]
    found = segment_document(pages)
    assert [plan.municipality for plan in found.plans] == ["品川区"]
    assert found.rejected == [
        Notice(
            "unreadable_text",
            "plan on page 2 not kept: page 2 reads badly (85% of its characters readable, under 90%)",
            2,
        )
    ]
    assert found.warnings == []  # not the "no numbered pillars" of the plan rejected


def test_a_plan_is_rejected_for_a_badly_read_page_it_runs_onto():
    lines = plan_lines("品川区")
    found = segment_document(
        [page_of(lines[:3]), page_of([positioned(lines[3].text, 60, 100, page=2)], number=2, share=0.5)]
    )
    assert (found.plans, [n.message for n in found.rejected]) == (
        [],
        ["plan on page 1 not kept: page 2 reads badly (50% of its characters readable, under 90%)"],
    )


@pytest.mark.parametrize(
    ("project", "shown"),
    [
        ("承継支援事業（相談\x01）", "U+0001"),
        ("承継支援事業（相\x85談）", "U+0085"),
        ("承継(cid:157)援事業（相談）", "(cid:157)"),
        ("承継\ufffd援事業（相談）", "U+FFFD"),
        ("承継µ¶援事業（相談）", "U+00B5"),
        ("承継支援事業（Ã©tude）", "U+00C3"),
    ],
)
def test_a_plan_with_an_unreadable_character_is_rejected(project, shown):
    found = segment_document([page_of(plan_lines(project=project))])
    assert (found.plans, found.rejected) == (
        [],
        [
            Notice(
                "unreadable_text", f"plan on page 1 not kept: unreadable character {shown} in a project of pillar 1", 1
            )
        ],
    )


@pytest.mark.parametrize(
    "project",
    [
        "(仮称) Tech×Future カンファレンス事業（展示会）",
        "温度管理事業（25°C±2°C、1/2÷3）",
        "出展支援事業（¥500,000まで、Tokyo·Osaka）",
    ],
)
def test_symbols_summaries_print_are_readable(project):
    found = segment_document([page_of(plan_lines(project=project))])
    assert (
        [p.project_name for plan in found.plans for pillar in plan.pillars for p in pillar.projects],
        found.rejected,
    ) == ([project[: project.index("（")]], [])


def test_a_header_that_names_no_place_is_rejected():
    found = segment_document([page_of(plan_lines("A区"))])
    assert (found.plans, found.rejected) == (
        [],
        [
            Notice(
                "not_a_place_name",
                "plan on page 1 not kept: （A区） names no place (kanji or kana ending in 区, 市, 町 or 村)",
                1,
            )
        ],
    )


def test_rejections_come_to_one_line_per_file():
    rejected = [
        Notice("unreadable_text", "…", 1),
        Notice("unreadable_text", "…", 3),
        Notice("not_a_place_name", "…", 3),
        Notice("unreadable_text", "…", 3),
    ]
    assert summarize_rejections(rejected) == (
        "4 plan(s) rejected: unreadable text on pages 1, 3; no place name in the "
        "header on page 3; get a better copy, or an image-only one, which is read by OCR (a text layer is never "
        "read over)"
    )


def figures_table():
    """A table of figures (issue 11): three rows of bare numbers, each number alone in its own cell."""
    return [
        positioned(text, 100 + 150 * col, 300 + 20 * row)
        for row in range(3)
        for col, text in enumerate(["1", "2", "3"])
    ]


def test_a_row_of_bare_numbers_joins_nothing():
    # Each number's nearest cell is the next number, or nothing: a number is no title, so every line stays as is.
    table = figures_table()
    joined = join_number_labels(table, gap=7.0)
    assert [(line.text, line.x0, line.top) for line in joined] == [
        ("1", 100, 300),
        ("2", 250, 300),
        ("3", 400, 300),
        ("1", 100, 320),
        ("2", 250, 320),
        ("3", 400, 320),
        ("1", 100, 340),
        ("2", 250, 340),
        ("3", 400, 340),
    ]
    assert joined == table


def test_a_table_of_figures_segments_to_no_plans():
    result = segment_document([page_of(figures_table())])
    assert result.plans == [] and result.warnings == []


def test_a_number_left_of_another_number_leaves_the_title_to_it():
    # 1 | 2 | 事業承継支援: the 1 has the number 2 as its nearest cell, so only the 2 takes the title.
    row = [positioned("1", 50, 150), positioned("2", 100, 150), positioned("事業承継支援", 150, 150)]
    assert [line.text for line in join_number_labels(row, gap=7.0)] == ["1", "2 事業承継支援"]


def test_lines_printed_alike_are_told_apart():
    # A label and its title drawn twice at the same place (the copies equal as dataclasses): each label joins
    # one title, each title takes one label, and no copy is mistaken for the other.
    rows = [
        positioned("(1)", 50, 150),
        positioned("事業", 120, 150),
        positioned("(1)", 50, 150),
        positioned("事業", 120, 150),
    ]
    assert rows[0] == rows[2] and rows[1] == rows[3]
    joined = join_number_labels(rows, gap=7.0)
    assert [(line.text, line.x0) for line in joined] == [("(1) 事業", 50), ("(1) 事業", 50)]


def test_a_title_takes_one_label():
    # Both labels reach up to the same title; once the (1) has joined it, the joined line still stands to the
    # right of the (2), which must not take it again ("(2) (1) 事業承継支援").
    lines = [positioned("事業承継支援", 120, 150), positioned("(1)", 80, 160), positioned("(2)", 40, 162)]
    assert [(line.text, line.x0, line.top) for line in join_number_labels(lines, gap=7.0)] == [
        ("(1) 事業承継支援", 80, 150),
        ("(2)", 40, 162),
    ]


def test_no_pages_or_no_lines_give_no_plans():
    assert segment_document([]).plans == []
    assert segment_document([page_of([]), page_of([], number=2, images=[Box(50.0, 50.0, 200.0, 150.0)])]).plans == []


TEXTS = [
    "1",
    "2",
    "3",
    "(2)",
    "（１）",
    "③",
    "4.",
    "- 1",
    "12",
    "99",
    "100",
    "",
    "「X区計画」（X区）【計画期間:令和2年度～令和4年度】",
    "「Y町地域産業活性化計画」（Y町）",
    "【計画期間:令和2年度～令和4年度】",
    "「五反田バレー」として",
    "1 事業承継支援",
    "(2) 販路拡大",
    "② 人材確保",
    "3.創業支援",
    "A事業（補助）等",
    "B事業（調査、相談）、C事業",
    "・D事業（出展）",
    "○E事業等",
    "区内の中小企業の経営基盤を強化する。",
    "2020年度から実施する。",
    "3社が参加",
    "（注）この表は概要である。）",
    "承認した地域産業活性化計画の概要",
    "別紙",
    "- 2 -",
    "1/3",
    "写真",
    "（",
    "）",
    "、",
    "等",
    "「",
]
texts = st.one_of(st.sampled_from(TEXTS), st.text(alphabet="1２(（)）①.、「」【】：:～ 等・区計画事業年", max_size=12))
coordinate = st.floats(min_value=-50, max_value=900, allow_nan=False)
# Most lines on a few columns and rows, so that cells share rows and columns as in a table; some anywhere.
across = st.one_of(st.sampled_from([50.0, 80.0, 120.0, 200.0, 350.0]), coordinate)
down = st.one_of(st.sampled_from([100.0, 104.0, 112.0, 120.0, 150.0, 300.0, 320.0]), coordinate)


@st.composite
def documents(draw):
    pages = []
    for number in range(1, draw(st.integers(0, 3)) + 1):
        lines = []
        for _ in range(draw(st.integers(0, 12))):
            text = draw(texts)
            x0, top = draw(across), draw(down)
            size = draw(st.sampled_from([0.5, 8.0, 10.0, 10.5, 14.0]))
            width = draw(st.one_of(st.just(size * len(text)), st.floats(0, 600)))
            lines.append(
                Line(page=number, text=text, x0=x0, top=top, x1=x0 + width, bottom=top + size, size=size, fontname="")
            )
        images = [
            Box(x0, top, x0 + w, top + h)
            for x0, top, w, h in draw(
                st.lists(st.tuples(coordinate, coordinate, st.floats(-10, 300), st.floats(-10, 300)), max_size=3)
            )
        ]
        pages.append(page_of(lines, number=number, images=images))
    return pages


@pytest.mark.slow
@settings(max_examples=200, deadline=None, derandomize=True)
@given(documents())
def test_segment_document_never_raises(pages):
    result = segment_document(pages)
    assert all(plan.page_start <= plan.page_end for plan in result.plans)
    # Every line gets one role, and a line kept by default is one of them.
    assert result.roles.keys() == {(page.page, i) for page in pages for i in range(len(page.lines))}
    assert set(result.roles.values()) <= set(ROLES) and set(result.by_default) <= result.roles.keys()


# --------------------------------------------------------------------------- running headers and footers


def footed_page(number, municipality, body_line=None):
    """A page of one plan, a running footer 東京都産業労働局 over its page number in the bottom band, and, when
    given, one more summary line in the body."""
    lines = plan_lines(municipality, page=number)
    if body_line:
        lines.insert(2, positioned(body_line, 50, 135, page=number))
    return page_of(
        lines
        + [positioned("東京都産業労働局", 250, 790, page=number), positioned(f"- {number} -", 280, 805, page=number)],
        number=number,
    )


def roles_of(found, page, texts_by_index):
    return {text: found.roles[page, i] for i, text in texts_by_index}


def test_a_footer_repeated_on_two_pages_is_furniture_whatever_it_says():
    pages = [footed_page(1, "品川区"), footed_page(2, "中野区")]
    found = segment_document(pages)
    projects = [p.project_name for plan in found.plans for pillar in plan.pillars for p in pillar.projects]
    assert projects == ["承継支援事業", "承継支援事業"]  # no 東京都産業労働局 glued to a plan's last project
    assert [found.roles[page.page, i] for page in pages for i in (4, 5)] == ["furniture"] * 4
    assert found.by_default == []


def test_the_footer_text_in_the_body_stays():
    pages = [
        footed_page(1, "品川区", body_line="東京都産業労働局"),
        footed_page(2, "中野区", body_line="東京都産業労働局"),
    ]
    found = segment_document(pages)
    assert [plan.summary for plan in found.plans] == [
        "品川区は、ものづくりの町である。東京都産業労働局",
        "中野区は、ものづくりの町である。東京都産業労働局",
    ]
    assert [found.roles[1, i] for i in range(len(pages[0].lines))] == [
        "header",
        "summary",
        "summary",
        "pillar",
        "project",
        "furniture",
        "furniture",
    ]


def test_a_one_page_document_keeps_the_patterns_alone():
    page = footed_page(1, "品川区")
    found = segment_document([page])
    assert [found.roles[1, i] for i in (4, 5)] == ["project", "furniture"]  # - 1 - by its pattern; the rest is text
    assert found.plans[0].pillars[0].projects[-1].project_name == "承継支援事業（相談）東京都産業労働局"


@pytest.mark.parametrize(("where", "top"), [("under", 815), ("level with", 805)])
def test_on_one_page_a_line_under_or_level_with_the_page_number_is_the_same_footer(where, top):
    lines = plan_lines("品川区") + [positioned("- 1 -", 280, 805), positioned("東京都産業労働局", 420, top)]
    found = segment_document([page_of(lines)])
    assert [found.roles[1, i] for i in (3, 4, 5)] == ["project", "furniture", "furniture"]
    assert found.plans[0].pillars[0].projects[-1].project_name == "承継支援事業"


def test_a_header_wrapped_alike_at_the_top_of_two_pages_keeps_its_period():
    def page(number, municipality):
        return page_of(
            [
                positioned(f"「{municipality}地域産業活性化計画」（{municipality}）", 50, 40, page=number),
                positioned("【計画期間:令和2年度～令和4年度】", 50, 55, page=number),
                *plan_lines(municipality, page=number)[1:],
            ],
            number=number,
        )

    found = segment_document([page(1, "品川区"), page(2, "中野区")])
    assert [(plan.municipality, plan.period_text) for plan in found.plans] == [
        ("品川区", "令和2年度～令和4年度"),
        ("中野区", "令和2年度～令和4年度"),
    ]
    assert "furniture" not in found.roles.values()


def test_running_headers_with_dates_and_page_counts_are_furniture():
    def page(number):
        return page_of(
            [
                positioned("東京都産業労働局 令和2年10月1日", 50, 30, page=number),
                positioned(f"{number}/2", 500, 30, page=number),
                *plan_lines(["品川区", "中野区"][number - 1], page=number),
            ],
            number=number,
        )

    found = segment_document([page(1), page(2)])
    assert [found.roles[p, i] for p in (1, 2) for i in (0, 1)] == ["furniture"] * 4
    assert len(found.plans) == 2


# --------------------------------------------------------------------------- roles and lines kept by default


def test_every_line_gets_a_role_and_lines_no_rule_claimed_are_kept_by_default():
    # Page 1: a line before the first header, the plan, a summary line after a gap wider than a paragraph, its
    # pillar; page 2: the pillar's projects going on after the page break, no heading. Three lines by default.
    page1 = page_of(
        [
            positioned("令和2年10月 産業振興課", 50, 120),  # before the first header
            positioned("「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】", 50, 150),
            positioned("品川区は、ものづくりの町である。", 50, 170),
            positioned("区内の事業者を支える。", 50, 185),
            positioned("また、創業を支援する。", 50, 260),  # 65 points below the summary line before it
            positioned("(1)", 50, 290),
            positioned("事業承継支援", 120, 290),  # a number in its own cell
            positioned("承継支援事業（相談）", 60, 305),
        ]
    )
    page2 = page_of(
        [
            positioned("、販路拡大事業（補助）", 60, 100, page=2),
            positioned("（この表は計画の概要である。）", 50, 130, page=2),
        ],
        number=2,
    )  # the closing footnote
    found = segment_document([page1, page2])
    assert [found.roles[1, i] for i in range(len(page1.lines))] + [found.roles[2, 0], found.roles[2, 1]] == [
        "unassigned",
        "header",
        "summary",
        "summary",
        "summary",
        "pillar",
        "pillar",
        "project",
        "project",
        "footnote",
    ]
    assert found.by_default == [(1, 0), (1, 4), (2, 0)]
    plan = found.plans[0]
    assert plan.summary == "品川区は、ものづくりの町である。区内の事業者を支える。また、創業を支援する。"
    assert [p.project_name for p in plan.pillars[0].projects] == ["承継支援事業", "販路拡大事業"]


def test_a_document_without_a_header_is_all_unassigned_and_by_default():
    page = page_of(
        [
            positioned("別紙", 50, 30),
            positioned("区内の事業者を支える。", 50, 200),
            positioned("1 事業承継支援", 50, 220),
        ]
    )
    found = segment_document([page])
    assert [found.roles[1, i] for i in range(3)] == ["furniture", "unassigned", "unassigned"]
    assert found.by_default == [(1, 1), (1, 2)]


# --------------------------------------------------------------------------- other enumerators


@pytest.mark.parametrize(
    ("text", "readings", "title"),
    [
        ("第1 事業承継の推進", (("第", 1),), "事業承継の推進"),
        ("第三、販路の拡大", (("第", 3),), "販路の拡大"),
        ("ア 事業承継の推進", (("katakana space", 1), ("iroha space", 36)), "事業承継の推進"),
        ("イ．販路の拡大", (("katakana ．", 2), ("iroha ．", 1)), "販路の拡大"),
        ("（ウ）人材の確保", (("katakana ()", 3), ("iroha ()", 24)), "人材の確保"),
        ("一、事業承継の推進", (("kanji 、", 1),), "事業承継の推進"),
        ("十二、販路の拡大", (("kanji 、", 12),), "販路の拡大"),
        ("Ⅱ 販路の拡大", (("roman space", 2),), "販路の拡大"),
        ("IV. 人材の確保", (("roman .", 4),), "人材の確保"),
        ("B. 販路の拡大", (("latin .", 2),), "販路の拡大"),
        ("(c) 人材の確保", (("latin_lower ()", 3),), "人材の確保"),
        ("⑵販路の拡大", (("code point", 0x2475),), "販路の拡大"),
        ("㋑ 販路の拡大", (("code point space", 0x32D1),), "販路の拡大"),
        ("ア", (("katakana space", 1), ("iroha space", 36)), ""),
    ],
)
def test_a_marker_reads_as_every_series_it_may_belong_to(text, readings, title):
    assert read_marker(text) == (readings, title)


@pytest.mark.parametrize(
    "text",
    [
        "アンテナショップ事業",
        "第1回の会議を開催",
        "A社と連携",
        "1 事業承継の推進",
        "(1)事業承継",
        "■ 重点事業",
        "・販路の拡大",
        "(仮称)産業交流拠点",
    ],
)
def test_words_bullets_and_arabic_numbers_are_no_other_marker(text):
    assert read_marker(text) is None


def headed(*pillars, projects_x0=60):
    """A plan's lines: its header, an overview, then each (heading, project) pair."""
    lines = [positioned(HEADER, 50, 100), positioned("品川区は、ものづくりの町である。", 50, 120)]
    for k, (heading, project) in enumerate(pillars):
        lines += [positioned(heading, 50, 150 + 40 * k), positioned(project, projects_x0, 165 + 40 * k)]
    return lines


def test_pillars_numbered_in_katakana_are_read_in_their_order():
    assert pillars_of(
        headed(("ア 事業承継の推進", "承継支援事業（相談）"), ("イ 販路の拡大", "展示会出展事業（補助）"))
    ) == [
        (1, "事業承継の推進", ["承継支援事業"]),
        (2, "販路の拡大", ["展示会出展事業"]),
    ]


def test_pillars_in_iroha_order_are_not_taken_for_katakana_out_of_order():
    assert pillars_of(
        headed(("イ 事業承継の推進", "承継支援事業"), ("ロ 販路の拡大", "出展事業"), ("ハ 人材の確保", "面接会事業"))
    ) == [(1, "事業承継の推進", ["承継支援事業"]), (2, "販路の拡大", ["出展事業"]), (3, "人材の確保", ["面接会事業"])]


def test_pillars_numbered_dai_and_in_roman_numerals():
    assert [p[:2] for p in pillars_of(headed(("第1 事業承継の推進", "承継事業"), ("第2 販路の拡大", "出展事業")))] == [
        (1, "事業承継の推進"),
        (2, "販路の拡大"),
    ]
    assert [p[:2] for p in pillars_of(headed(("Ⅰ 事業承継の推進", "承継事業"), ("Ⅱ 販路の拡大", "出展事業")))] == [
        (1, "事業承継の推進"),
        (2, "販路の拡大"),
    ]


def test_a_single_marker_in_running_text_heads_no_pillar():
    lines = [
        positioned(HEADER, 50, 100),
        positioned("品川区は、ものづくりの町である。", 50, 120),
        positioned("ア 区内企業の多くが承継に悩む。", 50, 150),  # a block of its own, but no イ follows
        positioned("承継支援事業（相談）", 50, 165),
    ]
    assert pillars_of(lines) == []


def test_items_numbered_under_arabic_pillars_are_no_pillars():
    # ア and イ run in order at the pillars' indent, but the arabic series starts first: it is the pillars'.
    lines = headed(
        ("1 事業承継の推進", "ア 承継支援事業（相談）"), ("2 販路の拡大", "イ 出展事業（補助）"), projects_x0=50
    )
    assert [(number, title, len(projects)) for number, title, projects in pillars_of(lines)] == [
        (1, "事業承継の推進", 1),
        (2, "販路の拡大", 1),
    ]


def test_a_series_keeps_its_indent():
    # ア at the pillars' indent, イ indented under it: イ is an item of the first pillar, not the second pillar.
    lines = headed(("ア 事業承継の推進", "承継支援事業"), ("ウ 販路の拡大", "出展事業"))
    lines.insert(4, positioned("イ 相談窓口の設置", 70, 170))
    assert pillars_of(lines) == []


def test_a_katakana_marker_in_its_own_cell_joins_its_title():
    lines = headed(("（ア）", "承継支援事業（相談）"), ("（イ）", "展示会出展事業（補助）"))
    lines[2:2] = [positioned("事業承継支援", 120, 150)]
    lines[5:5] = [positioned("販路拡大", 120, 190)]
    assert pillars_of(lines) == [(1, "事業承継支援", ["承継支援事業"]), (2, "販路拡大", ["展示会出展事業"])]


# --------------------------------------------------------------------------- stray tokens


def test_a_slide_number_at_the_foot_of_a_slide_ends_no_project():
    lines = headed(("1 事業承継の推進", "承継支援事業（相談）"), ("2 販路の拡大", "展示会出展事業（補助）等"))
    lines.append(positioned("2", 530, 250, size=8.0))  # right-aligned, smaller: the slide's number
    assert pillars_of(lines) == [(1, "事業承継の推進", ["承継支援事業"]), (2, "販路の拡大", ["展示会出展事業"])]
    (plan,) = segment_document([page_of(lines)]).plans
    assert (plan.pillars[1].projects[0].project_detail, plan.pillars[1].has_more_projects) == ("補助", True)


def test_a_stray_token_is_furniture_and_a_wrapped_line_s_end_is_not():
    lines = [
        positioned("展示会出展事業（区内企業による共同出展、出展料の補", 60, 100),
        positioned("助）", 60, 115),  # Japanese: the end of the line above
        positioned("A-1", 400, 130),  # a label far right of the line before it
        positioned("B2", 60, 145),  # far left of the label before it
        positioned("C3", 60, 160),  # under the line before, of its size: kept
    ]
    assert stray_tokens(lines) == {2, 3}


def test_a_number_of_another_size_under_a_line_is_a_stray_token():
    lines = [positioned("人材確保支援事業（面接会）", 60, 100), positioned("12", 60, 115, size=7.0)]
    assert stray_tokens(lines) == {1}


# --------------------------------------------------------------------------- captions carried over a page break


def broken_caption_pages(caption_size):
    """Page 1 ends in a photo; page 2 starts with a line of `caption_size` under where the photo stood."""
    first = page_of(
        [positioned(HEADER, 50, 100), positioned("品川区は、ものづくりの町である。", 50, 120)],
        number=1,
        images=[Box(x0=200, top=600, x1=350, bottom=712)],
    )
    second = page_of(
        [
            positioned("区内の工場見学会", 240, 60, size=caption_size, page=2),
            positioned("1 事業承継の推進", 50, 90, page=2),
            positioned("承継支援事業（相談）", 60, 105, page=2),
        ],
        number=2,
    )
    return [first, second]


def test_a_caption_row_a_page_break_pushed_to_the_next_page_captions_the_photo_at_the_foot_before():
    (plan,) = segment_document(broken_caption_pages(caption_size=8.0)).plans
    assert (plan.photo_captions, plan.summary) == (["区内の工場見学会"], "品川区は、ものづくりの町である。")


def test_a_line_of_body_size_at_the_top_of_the_next_page_is_no_carried_caption():
    (plan,) = segment_document(broken_caption_pages(caption_size=10.0)).plans
    assert plan.photo_captions == []


@pytest.mark.parametrize("caption", ["㈱タマ精機の工場", "Ⅱ期棟の外観"])
def test_a_caption_starting_with_a_character_of_a_numbered_series_stays_a_caption(caption):
    photo = Box(x0=100.0, top=100.0, x1=250.0, bottom=200.0)
    assert find_captions([positioned(caption, 120, 205, size=9.0)], [photo]) == {0: [0]}
