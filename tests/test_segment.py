import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.records import Box, Line, Page, Project
from pipeline.segment import HEADER_RE, find_captions, join_number_labels, match_header, segment_document, match_pillar, parse_projects, split_name_detail, split_top_level


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
        ("(仮称) Tech×Future カンファレンス事業（令和4年2月完成予定の(仮称)産業交流拠点における展示会）",
         "(仮称) Tech×Future カンファレンス事業", "令和4年2月完成予定の(仮称)産業交流拠点における展示会"),
        ("(仮称)産業交流拠点整備", "(仮称)産業交流拠点整備", None),
        ("起業家ネットワーク支援", "起業家ネットワーク支援", None),
        ("X事業（移転（転入を含む）の補助）", "X事業", "移転（転入を含む）の補助"),
        ("販路拡大(展示会出展)", "販路拡大", "展示会出展"),
    ],
)
def test_split_name_detail(item, name, detail):
    assert split_name_detail(item) == (name, detail)


def lines(*texts):
    return [(t, 1) for t in texts]


def test_run_wrapped_over_lines_with_closing_nado():
    projects, more = parse_projects(lines("A事業（a、b", "等）、B事業（c）等"))
    assert more is True
    assert [(p.project_name, p.project_detail) for p in projects] == [("A事業", "a、b等"), ("B事業", "c")]


def test_run_without_closing_nado():
    projects, more = parse_projects(lines("A事業（a等）"))
    assert more is False
    assert projects == [Project(project_name="A事業", project_detail="a等", page=1)]


@pytest.mark.parametrize("bullet", ["・", "○"])
def test_bulleted_projects_one_per_line(bullet):
    projects, more = parse_projects(lines(f"{bullet}A事業（a、", "b）", f"{bullet}B事業等"))
    assert more is True
    assert [(p.project_name, p.project_detail) for p in projects] == [("A事業", "a、b"), ("B事業", None)]


def test_projects_keep_the_page_they_start_on():
    projects, _ = parse_projects([("A事業（a）、B事", 1), ("業（b）", 2), ("、C事業", 2)])
    assert [p.page for p in projects] == [1, 1, 2]


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
        ("「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】", "品川区地域産業活性化計画", "品川区",
         "令和2年度～令和4年度"),
        ("「大田区ものづくり集積基盤強化計画」(大田区) 【計画期間：平成24～26年度】", "大田区ものづくり集積基盤強化計画",
         "大田区", "平成24～26年度"),
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
        (["「品川区地域産業活性化計画」（品川区）【計画期間:令和2年度～令和4年度】", "概要"], 1, "令和2年度～令和4年度"),
        (["「品川区大崎駅周辺地域ものづくり産業基盤強化計画」（品川区）", "【計画期間:平成26～28年度】", "概要"], 2,
         "平成26～28年度"),
        (["「品川区大崎駅周辺地域ものづくり", "産業基盤強化計画」（品川区）", "【計画期間:平成26～28年度】"], 3, "平成26～28年度"),
        (["「瑞穂町地域産業活性化計画」（瑞穂町）", "瑞穂町は、工業団地を中心に"], 1, None),
    ],
)
def test_match_header_joins_wrapped_headers(texts, taken, period):
    lines, m = match_header(header_lines(*texts), 0)
    assert len(lines) == taken and m["period"] == period


def test_a_quotation_starting_a_summary_line_is_no_header():
    assert match_header(header_lines("「五反田バレー」として認知度が高まっている", "が、ネットワークの形成"), 0) == ([], None)


def positioned(text, x0, top, size=10.0):
    return Line(page=1, text=text, x0=x0, top=top, x1=x0 + size * len(text), bottom=top + size, size=size, fontname="")


def test_a_caption_is_at_most_two_lines():
    photo = Box(x0=50.0, top=100.0, x1=550.0, bottom=200.0)
    lines = [positioned(f"写真の下に続く本文の{k}行目です。", 60, 205 + 13 * k) for k in range(5)]
    assert find_captions(lines, [photo]) == {0: [0, 1]}


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


def test_a_heading_right_under_a_photo_is_no_caption():
    photo = Box(x0=50.0, top=100.0, x1=250.0, bottom=200.0)
    lines = [positioned("1 事業承継支援", 50, 205), positioned("「X区地域産業活性化計画」（X区）", 60, 205)]
    assert find_captions(lines, [photo]) == {}


def test_a_pillar_number_in_its_own_cell_joins_its_title():
    page = Page(page=1, height=842.0, width=595.0, chars=0, unmapped_chars=0, text_source="pdfplumber",
                is_vertical=False, images=[], lines=[
        positioned("「A区地域産業活性化計画」（A区）【計画期間:令和2年度～令和4年度】", 50, 100),
        positioned("A区は、ものづくりの町である。", 50, 120),
        positioned("(1)", 50, 150), positioned("事業承継支援", 120, 150),
        positioned("承継支援事業（相談）", 60, 165),
        positioned("(2)", 50, 190), positioned("販路拡大", 120, 190),
        positioned("展示会出展事業（補助）等", 60, 205),
    ])
    plan = segment_document([page]).plans[0]
    assert [(p.pillar_no, p.pillar_title, p.has_more_projects) for p in plan.pillars] == [
        (1, "事業承継支援", False), (2, "販路拡大", True)]
    assert [x.project_name for p in plan.pillars for x in p.projects] == ["承継支援事業", "展示会出展事業"]


def page_of(lines, number=1, images=()):
    return Page(page=number, height=842.0, width=595.0, chars=0, unmapped_chars=0, text_source="pdfplumber",
                is_vertical=False, images=list(images), lines=lines)


def figures_table():
    """A table of figures (issue 11): three rows of bare numbers, each number alone in its own cell."""
    return [positioned(text, 100 + 150 * col, 300 + 20 * row) for row in range(3)
            for col, text in enumerate(["1", "2", "3"])]


def test_a_row_of_bare_numbers_joins_nothing():
    # Each number's nearest cell is the next number, or nothing: a number is no title, so every line stays as is.
    table = figures_table()
    joined = join_number_labels(table, gap=7.0)
    assert [(l.text, l.x0, l.top) for l in joined] == [
        ("1", 100, 300), ("2", 250, 300), ("3", 400, 300),
        ("1", 100, 320), ("2", 250, 320), ("3", 400, 320),
        ("1", 100, 340), ("2", 250, 340), ("3", 400, 340),
    ]
    assert joined == table


def test_a_table_of_figures_segments_to_no_plans():
    result = segment_document([page_of(figures_table())])
    assert result.plans == [] and result.warnings == []


def test_a_number_left_of_another_number_leaves_the_title_to_it():
    # 1 | 2 | 事業承継支援: the 1 has the number 2 as its nearest cell, so only the 2 takes the title.
    row = [positioned("1", 50, 150), positioned("2", 100, 150), positioned("事業承継支援", 150, 150)]
    assert [l.text for l in join_number_labels(row, gap=7.0)] == ["1", "2 事業承継支援"]


def test_lines_printed_alike_are_told_apart():
    # A label and its title drawn twice at the same place (the copies equal as dataclasses): each label joins
    # one title, each title takes one label, and no copy is mistaken for the other.
    rows = [positioned("(1)", 50, 150), positioned("事業", 120, 150),
            positioned("(1)", 50, 150), positioned("事業", 120, 150)]
    assert rows[0] == rows[2] and rows[1] == rows[3]
    joined = join_number_labels(rows, gap=7.0)
    assert [(l.text, l.x0) for l in joined] == [("(1) 事業", 50), ("(1) 事業", 50)]


def test_a_title_takes_one_label():
    # Both labels reach up to the same title; once the (1) has joined it, the joined line still stands to the
    # right of the (2), which must not take it again ("(2) (1) 事業承継支援").
    lines = [positioned("事業承継支援", 120, 150), positioned("(1)", 80, 160), positioned("(2)", 40, 162)]
    assert [(l.text, l.x0, l.top) for l in join_number_labels(lines, gap=7.0)] == [
        ("(1) 事業承継支援", 80, 150), ("(2)", 40, 162)]


def test_no_pages_or_no_lines_give_no_plans():
    assert segment_document([]).plans == []
    assert segment_document([page_of([]), page_of([], number=2, images=[Box(50.0, 50.0, 200.0, 150.0)])]).plans == []


TEXTS = [
    "1", "2", "3", "(2)", "（１）", "③", "4.", "- 1", "12", "99", "100", "",
    "「X区計画」（X区）【計画期間:令和2年度～令和4年度】", "「Y町地域産業活性化計画」（Y町）", "【計画期間:令和2年度～令和4年度】",
    "「五反田バレー」として", "1 事業承継支援", "(2) 販路拡大", "② 人材確保", "3.創業支援",
    "A事業（補助）等", "B事業（調査、相談）、C事業", "・D事業（出展）", "○E事業等",
    "区内の中小企業の経営基盤を強化する。", "2020年度から実施する。", "3社が参加", "（注）この表は概要である。）",
    "承認した地域産業活性化計画の概要", "別紙", "- 2 -", "1/3", "写真", "（", "）", "、", "等", "「",
]
texts = st.one_of(st.sampled_from(TEXTS),
                  st.text(alphabet="1２(（)）①.、「」【】：:～ 等・区計画事業年", max_size=12))
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
            lines.append(Line(page=number, text=text, x0=x0, top=top, x1=x0 + width, bottom=top + size, size=size,
                              fontname=""))
        images = [Box(x0, top, x0 + w, top + h) for x0, top, w, h in draw(
            st.lists(st.tuples(coordinate, coordinate, st.floats(-10, 300), st.floats(-10, 300)), max_size=3))]
        pages.append(page_of(lines, number=number, images=images))
    return pages


@settings(max_examples=200, deadline=None, derandomize=True)
@given(documents())
def test_segment_document_never_raises(pages):
    result = segment_document(pages)
    assert all(plan.page_start <= plan.page_end for plan in result.plans)
