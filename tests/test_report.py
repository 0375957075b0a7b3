"""report.html, section by section, on small tables built by hand: the table of contents, the totals per code,
the projects without a tag, each plan's collapsible section, the plans read twice. Expected values are written
out here, never computed by the code under test; the page is read with html.parser, not with patterns."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

from pipeline.core.records import Notice, ReadTwice
from pipeline.normalize import Assembled, assemble, file_rows
from pipeline.outputs.report import render_report
from pipeline.outputs.tables import frame
from tests.rows import document_row, pillar_row, plan_row, project_row
from tests.test_normalize import plan, segment

SECTION_LINKS = [
    "#changes",
    "#review",
    "#documents",
    "#rounds",
    "#history",
    "#themes",
    "#instruments",
    "#tag-totals",
    "#untagged",
    "#plan-details",
    "#corrections",
    "#read-twice",
    "#warnings",
]
SHINAGAWA, NAKANO = "131091-2020", "131148-2020"
PERIOD = "令和2年度～令和4年度"


@dataclass
class Element:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)

    def iter(self, tag: str):
        """This element's descendants named `tag`, in document order."""
        for child in self.children:
            if isinstance(child, Element):
                if child.tag == tag:
                    yield child
                yield from child.iter(tag)

    def by_id(self, id_: str) -> Element:
        return next(e for tag in ("nav", "table", "h2") for e in self.iter(tag) if e.attrs.get("id") == id_)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def rows(self) -> list[list[str]]:
        """A table's body as the text of each cell, row by row."""
        return [
            [cell.text() for cell in tr.children if isinstance(cell, Element) and cell.tag in ("th", "td")]
            for tr in next(self.iter("tbody")).iter("tr")
        ]


class Parser(HTMLParser):
    VOID = {"br", "meta", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = [Element("document", {})]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs))
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag):
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(page: str) -> Element:
    parser = Parser()
    parser.feed(page)
    parser.close()
    assert len(parser.stack) == 1, f"<{parser.stack[-1].tag}> never closed"
    return parser.stack[0]


def hand_tables() -> dict:
    """Two plans: 品川区's with two pillars and three projects, one of them untagged (its name holds markup and a
    control character); 中野区's with one pillar and two projects, one untagged."""

    def place(plan_id, municipality, code, title):
        return plan_row(
            plan_id=plan_id,
            municipality=municipality,
            municipality_code=code,
            plan_title=title,
            period_text=PERIOD,
            period_start_fy=2020,
            period_end_fy=2022,
            summary=None,
            round="令和2年度",
            round_fy=2020,
            source_sha256="a" * 64,
            page_start=1,
            page_end=1,
        )

    plans = frame(
        [
            place(SHINAGAWA, "品川区", "131091", "品川区地域産業活性化計画"),
            place(NAKANO, "中野区", "131148", "中野区地域産業活性化計画"),
        ],
        "plans",
    )
    pillars = frame(
        [
            pillar_row(plan_id=pid, pillar_no=no, pillar_title=title, has_more_projects=more, source_sha256="a" * 64)
            for pid, no, title, more in [
                (SHINAGAWA, 1, "販路拡大支援", False),
                (SHINAGAWA, 2, "人材育成", True),
                (NAKANO, 1, "創業支援", False),
            ]
        ],
        "pillars",
    )
    projects_rows = [  # plan, pillar, project, name, detail, themes, instruments
        (SHINAGAWA, 1, 1, "展示会出展事業", "出展料の補助", ["sales"], ["exhibition", "subsidy"]),
        (SHINAGAWA, 1, 2, "<b>名簿</b>整理\x07", None, [], []),
        (SHINAGAWA, 2, 1, "人材育成講座", "講座の開催", ["talent"], ["seminar"]),
        (NAKANO, 1, 1, "区民まつり", "年に一度", [], []),
        (NAKANO, 1, 2, "創業塾", "創業希望者向けの塾", ["startup"], ["seminar"]),
    ]
    projects = frame(
        [
            project_row(
                plan_id=pid,
                pillar_no=pillar,
                project_no=no,
                project_name=name,
                project_detail=detail,
                source_sha256="a" * 64,
            )
            for pid, pillar, no, name, detail, _, _ in projects_rows
        ],
        "projects",
    )
    projects["themes"] = [themes for *_, themes, _ in projects_rows]
    projects["instruments"] = [instruments for *_, instruments in projects_rows]
    tag_rows = [  # level, plan, pillar, project, kind, code
        ("plan", SHINAGAWA, None, None, "theme", "sales"),
        ("plan", SHINAGAWA, None, None, "theme", "talent"),
        ("plan", SHINAGAWA, None, None, "instrument", "seminar"),
        ("plan", NAKANO, None, None, "theme", "startup"),
        ("plan", NAKANO, None, None, "instrument", "seminar"),
        ("pillar", SHINAGAWA, 1, None, "theme", "sales"),
        ("pillar", SHINAGAWA, 1, None, "instrument", "subsidy"),
        ("pillar", SHINAGAWA, 2, None, "instrument", "seminar"),
        ("pillar", NAKANO, 1, None, "instrument", "seminar"),
        ("pillar", NAKANO, 1, None, "theme", "startup"),
        ("project", SHINAGAWA, 1, 1, "theme", "sales"),
        ("project", SHINAGAWA, 1, 1, "instrument", "exhibition"),
        ("project", SHINAGAWA, 1, 1, "instrument", "subsidy"),
        ("project", SHINAGAWA, 2, 1, "theme", "talent"),
        ("project", SHINAGAWA, 2, 1, "instrument", "seminar"),
        ("project", NAKANO, 1, 2, "theme", "startup"),
        ("project", NAKANO, 1, 2, "instrument", "seminar"),
    ]
    tags = frame(
        [
            {
                "level": level,
                "plan_id": pid,
                "pillar_no": pillar,
                "project_no": project,
                "kind": kind,
                "code": code,
                "label_ja": None,
                "terms": [],
            }
            for level, pid, pillar, project, kind, code in tag_rows
        ],
        "tags",
    )
    documents = frame(
        [
            document_row(
                source_sha256="a" * 64, pages=1, plans_found=2, warnings=["pillar 2 of 131148-2020 has no projects"]
            )
        ],
        "documents",
    )
    return {"documents": documents, "plans": plans, "pillars": pillars, "projects": projects, "tags": tags}


def test_contents_link_every_section_heading():
    page = parse(render_report(hand_tables(), []))
    links = [a.attrs["href"] for a in page.by_id("contents").iter("a")]
    assert links == SECTION_LINKS
    assert ["#" + h2.attrs["id"] for h2 in page.iter("h2")] == links


def test_contents_of_the_sample_report(sample):
    page = parse(render_report(sample, []))
    assert [a.attrs["href"] for a in page.by_id("contents").iter("a")] == SECTION_LINKS
    assert ["#" + h2.attrs["id"] for h2 in page.iter("h2")] == SECTION_LINKS
    details = list(page.iter("details"))
    assert len(details) == 12  # the sample's six plans, each with the crop of its page collapsed inside
    assert sum(d.attrs.get("class") == "crop" for d in details) == 6


def test_totals_per_code_count_plans_pillars_and_projects():
    page = parse(render_report(hand_tables(), []))
    themes = {row[0]: row[1:] for row in page.by_id("tag-totals-theme").rows()}
    assert themes["販路拡大・取引拡大 (sales)"] == ["1", "1", "1"]
    assert themes["創業・起業 (startup)"] == ["1", "1", "1"]
    assert themes["人材確保・育成 (talent)"] == ["1", "0", "1"]
    assert themes["事業承継 (succession)"] == ["0", "0", "0"]
    assert len(themes) == 15  # every theme of the vocabulary, zeros included
    assert page.by_id("tag-totals-instrument").rows() == [
        ["補助・助成・奨励金 (subsidy)", "0", "1", "1"],
        ["講座・セミナー・講演会・塾 (seminar)", "2", "2", "2"],
        ["相談・専門家派遣・コンサルティング (advisory)", "0", "0", "0"],
        ["調査・ヒアリング (survey)", "0", "0", "0"],
        ["展示会・出展・商談会・フェア (exhibition)", "0", "0", "1"],
        ["施設・拠点の運営や整備 (facility)", "0", "0", "0"],
        ["交流会・イベント・会合・カンファレンス (event)", "0", "0", "0"],
    ]


def test_projects_without_a_tag_are_counted_and_listed():
    text = render_report(hand_tables(), [])
    page = parse(text)
    assert "2 project(s) with no theme and no instrument." in page.text()
    assert page.by_id("untagged-table").rows() == [
        [SHINAGAWA, "1", "2", "<b>名簿</b>整理\ufffd", ""],
        [NAKANO, "1", "1", "区民まつり", "年に一度"],
    ]
    assert "&lt;b&gt;名簿&lt;/b&gt;整理\ufffd" in text and "<b>名簿" not in text and "\x07" not in text


def test_each_plan_has_a_collapsible_section_with_its_pillars_and_projects():
    page = parse(render_report(hand_tables(), []))
    details = [d for d in page.iter("details") if "class" not in d.attrs]
    assert len(details) == 2
    assert [next(d.iter("summary")).text() for d in details] == [
        f"{SHINAGAWA} — 品川区 「品川区地域産業活性化計画」 {PERIOD}",
        f"{NAKANO} — 中野区 「中野区地域産業活性化計画」 {PERIOD}",
    ]
    assert next(details[0].iter("table")).rows() == [
        ["柱 1: 販路拡大支援"],
        ["1", "展示会出展事業", "出展料の補助", "sales ", "exhibition subsidy "],
        ["2", "<b>名簿</b>整理\ufffd", "", "", ""],
        ["柱 2: 人材育成more projects than listed (等)"],
        ["1", "人材育成講座", "講座の開催", "talent ", "seminar "],
    ]
    assert next(details[1].iter("table")).rows() == [
        ["柱 1: 創業支援"],
        ["1", "区民まつり", "年に一度", "", ""],
        ["2", "創業塾", "創業希望者向けの塾", "startup ", "seminar "],
    ]


def read_twice_files() -> Assembled:
    """b.pdf is a.pdf under another name (same bytes); c.pdf holds one of its plans and a plan not kept."""
    shinagawa, nakano = plan("品川区", "品川区地域産業活性化計画", 1), plan("中野区", "中野区地域産業活性化計画", 2)
    return assemble(
        [
            (name, file_rows(seg))
            for name, seg in [
                ("a.pdf", segment("a", [shinagawa, nakano])),
                ("b.pdf", segment("a", [shinagawa, nakano])),
                (
                    "c.pdf",
                    segment("c", [shinagawa], rejected=[Notice("unreadable_text", "plan on page 3 not kept", 3)]),
                ),
            ]
        ]
    )


def test_plans_read_twice_are_one_line_per_pair_of_files():
    """normalize warns both files of each pair; the page lists each pair once, apart from the other warnings."""
    assembled = read_twice_files()
    text = render_report(assembled.tables, assembled.read_twice)
    page = parse(text)
    assert page.by_id("read-twice-table").rows() == [
        ["a.pdf", "b.pdf同じバイト列 / same bytes", "2", f"{SHINAGAWA}, {NAKANO}"],
        ["a.pdf", "c.pdf", "1", SHINAGAWA],
    ]
    assert text.count(f"{SHINAGAWA}, {NAKANO}") == 1
    assert "plan(s) already read from" not in text and "plan(s) also in" not in text
    assert page.by_id("warnings-table").rows() == [["c.pdf", "plan on page 3 not kept"]]
    assert [row[8] for row in page.by_id("documents-table").rows()] == [
        "重複ありread twice",
        "重複ありread twice",
        "plan on page 3 not kept重複ありread twice",
    ]


def test_plans_read_twice_do_not_depend_on_the_words_of_their_warnings(monkeypatch):
    """Other words for the pairs' warnings: the documents rows hold them, and the page still lists each pair once
    and keeps those words out of the other warnings, as it takes the pairs from the records."""
    monkeypatch.setattr(
        ReadTwice,
        "warnings",
        lambda pair: [
            (pair.later_file, f"seen in {pair.first_file} first"),
            (pair.first_file, f"seen again in {pair.later_file}"),
        ],
    )
    assembled = read_twice_files()
    documents = assembled.tables["documents"]
    assert [list(w) for w in documents["warnings"]] == [
        ["seen again in b.pdf", "seen again in c.pdf"],
        ["seen in a.pdf first"],
        ["plan on page 3 not kept", "seen in a.pdf first"],
    ]
    text = render_report(assembled.tables, assembled.read_twice)
    page = parse(text)
    assert page.by_id("read-twice-table").rows() == [
        ["a.pdf", "b.pdf同じバイト列 / same bytes", "2", f"{SHINAGAWA}, {NAKANO}"],
        ["a.pdf", "c.pdf", "1", SHINAGAWA],
    ]
    assert "seen in" not in text and "seen again" not in text
    assert page.by_id("warnings-table").rows() == [["c.pdf", "plan on page 3 not kept"]]


def test_the_words_of_a_pair_are_left_out_only_on_its_own_files():
    """The words of a.pdf's warning for its pair with b.pdf, found on c.pdf: a warning of c.pdf's own, since which
    warnings a pair gave which file is told by the record, not by their words."""
    assembled = read_twice_files()
    documents = assembled.tables["documents"].copy()
    documents.at[2, "warnings"] = [*documents.at[2, "warnings"], "2 plan(s) also in b.pdf"]
    page = parse(render_report({**assembled.tables, "documents": documents}, assembled.read_twice))
    assert page.by_id("warnings-table").rows() == [
        ["c.pdf", "plan on page 3 not kept"],
        ["c.pdf", "2 plan(s) also in b.pdf"],
    ]


def test_no_plan_read_twice():
    page = parse(render_report(hand_tables(), []))
    assert "No plan was read from two files." in page.text()
    assert page.by_id("warnings-table").rows() == [["a.pdf", "pillar 2 of 131148-2020 has no projects"]]


def test_rounds_in_round_order_and_each_municipality_with_themes_gained_and_dropped():
    """Three rounds (one unknown) and 品川区's plans across them: its 2023 plan follows its 2020 plan, gaining
    digital and dropping talent."""
    tables = hand_tables()
    later = {
        **tables["plans"].iloc[0].to_dict(),
        "plan_id": "131091-2023",
        "period_text": "令和5年度～令和7年度",
        "period_start_fy": 2023,
        "period_end_fy": 2025,
        "round": "令和4年度後期",
        "round_fy": 2022,
        "previous_plan_id": SHINAGAWA,
        "themes": ["digital", "sales"],
        "instruments": [],
    }
    unknown = {
        **tables["plans"].iloc[1].to_dict(),
        "plan_id": "131148-2023",
        "period_start_fy": 2023,
        "round": None,
        "round_fy": None,
        "previous_plan_id": NAKANO,
        "themes": ["startup"],
    }
    early = {
        **unknown,
        "plan_id": "131148-2017",
        "period_start_fy": 2017,
        "round": "平成29年度",
        "round_fy": 2017,
        "previous_plan_id": None,
        "themes": [],
    }
    plans = frame([*tables["plans"].to_dict("records"), later, unknown, early], "plans")
    plans["themes"] = plans["plan_id"].map(
        {
            SHINAGAWA: ["sales", "talent"],
            "131091-2023": ["digital", "sales"],
            "131148-2017": [],
            NAKANO: ["startup"],
            "131148-2023": ["startup"],
        }
    )
    page = parse(render_report({**tables, "plans": plans}, []))
    assert page.by_id("rounds-table").rows() == [
        ["平成29年度", "1", "1"],
        ["令和2年度", "2", "2"],
        ["令和4年度後期", "1", "1"],
        ["不明 / unknown", "1", "1"],
    ]
    assert page.by_id("history-table").rows() == [
        ["品川区", "131091-2020", "令和2年度", PERIOD, "—", "", ""],
        ["131091-2023", "令和4年度後期", "令和5年度～令和7年度", SHINAGAWA, "digital", "talent"],
        ["中野区", "131148-2017", "平成29年度", PERIOD, "—", "", ""],
        ["131148-2020", "令和2年度", PERIOD, "—", "", ""],
        ["131148-2023", "不明 / unknown", PERIOD, NAKANO, "", ""],
    ]
