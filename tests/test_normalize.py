import json
from collections import Counter

import pandas as pd
import pytest

from pipeline.core.records import (
    ChildRows,
    FileNotice,
    FileRows,
    Notice,
    Pillar,
    Plan,
    PlanRows,
    Project,
    ReadTwice,
    Region,
    SegmentRecord,
    from_dict,
    to_dict,
)
from pipeline.core.reference import municipality_rows
from pipeline.core.text import normalize_text, unreadable_character
from pipeline.normalize import (
    assemble,
    build_tables,
    check_digit,
    file_rows,
    municipality_code,
    parse_period,
    plan_id,
    read_rows_record,
    rows_record,
)
from pipeline.tagging.tagger import set_code_columns


def test_table_holds_all_62_tokyo_municipalities_by_kind():
    rows = municipality_rows()
    assert Counter(r["municipality_kind"] for r in rows) == {"特別区": 23, "市": 26, "町": 5, "村": 8}
    assert Counter(r["municipality_kind_en"] for r in rows) == {"special ward": 23, "city": 26, "town": 5, "village": 8}
    assert len({r["municipality_code"] for r in rows}) == 62


@pytest.mark.parametrize("row", municipality_rows(), ids=lambda r: r["name_ja"])
def test_every_code_carries_its_check_digit(row):
    code = row["municipality_code"]
    assert code.startswith("13") and len(code) == 6
    assert check_digit(code[:5]) == int(code[5])


@pytest.mark.parametrize(("code5", "digit"), [("13109", 1), ("13113", 0), ("13201", 2), ("13303", 5), ("13421", 0)])
def test_check_digit_known_codes(code5, digit):
    assert check_digit(code5) == digit


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("品川区", "131091"),
        ("八王子市", "132012"),
        ("瑞穂町", "133035"),
        ("檜原村", "133078"),
        ("⻘梅市", "132055"),
        ("青ケ島村", "134023"),
        ("東京都国立市", "132152"),
        ("架空町", None),
        (None, None),
    ],
)
def test_municipality_code(name, code):
    assert municipality_code(name) == code


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("令和2年度～令和4年度", (2020, 2022)),
        ("令和２年度〜令和４年度", (2020, 2022)),
        ("平成27年度~平成29年度", (2015, 2017)),
        ("平成27年度˜平成29年度", (2015, 2017)),
        ("平成26~28年度", (2014, 2016)),
        ("令和7～9年度", (2025, 2027)),
        ("令和元年度～令和3年度", (2019, 2021)),
        ("平成30年度～令和2年度", (2018, 2020)),
        ("平成元年度～平成3年度", (1989, 1991)),
        ("令和2年4月～令和5年3月", (2020, 2022)),
        ("2020年度～2022年度", (2020, 2022)),
        ("平成29年4月1日～平成32年3月31日", (2017, 2019)),  # a day after the month; 平成32年 is 2020
        ("令和2年4月1日から令和5年3月31日まで", (2020, 2022)),
        ("令和２年４月１日～令和５年３月３１日", (2020, 2022)),
        ("2020年4月～2023年3月", (2020, 2022)),
        ("2020年4月1日～2023年3月31日", (2020, 2022)),
        ("平成31年4月1日～平成34年3月31日", (2019, 2021)),  # 平成31年 and on: 2019, 2020, 2021
        ("平成31年度～令和3年度", (2019, 2021)),
        ("平成30年4月1日～平成33年3月31日", (2018, 2020)),
        ("令和２年度から令和４年度まで", (2020, 2022)),
        ("令和2年度", (2020, 2020)),
        ("未定", (None, None)),
        (None, (None, None)),
    ],
)
def test_parse_period(text, years):
    assert parse_period(text) == years


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("「⻘梅市地域産業活性化計画」（⻘梅市）", "「青梅市地域産業活性化計画」（青梅市）"),
        ("⼤⽥区の⻑期計画と⻄側", "大田区の長期計画と西側"),
        ("ＩｏＴ導入　２０２０年", "IoT導入 2020年"),
        ("ｽﾀｰﾄｱｯﾌﾟ", "スタートアップ"),
        ("令和2年度〜令和4年度、A~B˜C∼D", "令和2年度～令和4年度、A～B～C～D"),
        ("A−B－C‐D‒E—F―G﹣H", "A-B-C-D-E-F-G-H"),
        ("A⁓B", "A～B"),
        ("事 業 承 継 支 援", "事業承継支援"),
        ("産業交流展 区内企業", "産業交流展 区内企業"),
        ("重点分野（ICT、コンテンツ）", "重点分野（ICT、コンテンツ）"),
        ("(仮称)  Tech×Future\u3000カンファレンス", "(仮称) Tech×Future カンファレンス"),
        ("事業者ー", "事業者ー"),
    ],
)
def test_normalize_text(raw, canonical):
    assert normalize_text(raw) == canonical


def test_plan_id_falls_back_to_the_name_and_to_where_the_plan_stands():
    assert plan_id("131091", "品川区", 2020, "ab" * 32, 3) == "131091-2020"
    assert plan_id(None, "架空町", 2021, "ab" * 32, 3) == "架空町-2021"
    assert plan_id("131091", "品川区", None, "ab" * 32, 3) == "131091-unknown-abababab-p3"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("(仮称) Tech×Future カンファレンス事業", None),
        ("青ヶ島村の温度管理（25°C±2°C）、1÷3、Tokyo·Osaka、上限¥500,000", None),
        ("no-break\u00a0space", None),
        ("三鷹市（cid:12）", None),  # full-width parentheses: printed text, not pdfminer's marker
        ("}～川区", None),  # ASCII and a tilde: the place-name rule's to catch
        ("(cid:157)ž力の(cid:24)化", "(cid:157)"),
        ("事業\ufffd", "\ufffd"),
        ("事業\x01や経営者", "\x01"),
        ("経営\x7f", "\x7f"),
        ("相談\x85窓口", "\x85"),
        ("µ¶子·", "µ"),
        ("¸É·", "¸"),
        ("êë·", "ê"),
        ("Café", "é"),
        ("©2020", "©"),
    ],
)
def test_unreadable_character(text, found):
    assert unreadable_character(text) == found


def segment(sha: str, plans: list[Plan], rejected: list[Notice] = ()) -> SegmentRecord:
    return SegmentRecord(
        pipeline_version="test",
        fingerprint="test",
        source_sha256=sha * 64,
        status="ok",
        error=None,
        pages=4,
        plans=plans,
        rejected=list(rejected),
        warnings=[],
        vertical_pages=[],
        pages_with_unmapped_glyphs=[],
        traceback=None,
        page_sizes=[(595.28, 841.89)] * 4,
    )


def plan(municipality: str, title: str, page: int, period: str = "令和2年度～令和4年度") -> Plan:
    return Plan(
        plan_title=title,
        municipality=municipality,
        period_text=period,
        summary=None,
        photo_captions=[],
        page_start=page,
        page_end=page,
        regions=[Region(page, 0, 0, 1, 1)],
        pillars=[
            Pillar(
                pillar_no=1,
                pillar_title="販路拡大",
                page=page,
                has_more_projects=False,
                projects=[Project(project_name="展示会出展事業", project_detail=None, page=page, regions=[])],
                regions=[],
            )
        ],
        doubts=[],
    )


def test_same_plan_twice_is_kept_once_and_other_plans_of_a_municipality_and_year_get_a_suffix():
    shinagawa, monozukuri = "品川区地域産業活性化計画", "品川区ものづくり計画"
    a = segment("a", [plan("品川区", shinagawa, 1), plan("品川区", monozukuri, 2), plan("中野区", "中野区計画", 3)])
    b = segment(
        "b",
        [
            plan("品川区", shinagawa, 1),
            plan("中野区", "中野区計画", 2),
            plan("品川区", "品川区観光計画", 3),
            plan("品川区", shinagawa, 3, period="令和5年度～令和7年度"),
        ],
        rejected=[Notice("unreadable_text", "plan on page 3 not kept: …", 3)],
    )
    c = segment("c", [plan("品川区", monozukuri, 1)])
    tables = build_tables([("c.pdf", c), ("b.pdf", b), ("a.pdf", a)])  # ids follow file names, not this order
    plans = tables["plans"]
    assert plans[["plan_id", "plan_title", "source_file", "previous_plan_id"]].values.tolist() == [
        ["131091-2020", shinagawa, "a.pdf", None],
        ["131091-2020-2", monozukuri, "a.pdf", None],
        ["131091-2020-3", "品川区観光計画", "b.pdf", None],
        ["131091-2023", shinagawa, "b.pdf", "131091-2020"],  # of three plans from 2020, the one of its title
        ["131148-2020", "中野区計画", "a.pdf", None],
    ]
    docs = tables["documents"].set_index("source_file")
    assert docs[["plans_found", "plans_rejected"]].values.tolist() == [[3, 0], [2, 1], [0, 0]]
    assert [list(w) for w in docs["warnings"]] == [
        [
            "131091-2020-2: 「品川区ものづくり計画」, another plan of 品川区 starting the same year as 131091-2020",
            "2 plan(s) also in b.pdf",
            "1 plan(s) also in c.pdf",
        ],
        [
            "plan on page 3 not kept: …",
            "131091-2020-3: 「品川区観光計画」, another plan of 品川区 starting the same year as 131091-2020",
            "2 plan(s) already read from a.pdf: 131091-2020, 131148-2020",
        ],
        ["1 plan(s) already read from a.pdf: 131091-2020-2"],
    ]
    assert tables["pillars"]["plan_id"].tolist() == plans["plan_id"].tolist()


def test_two_files_with_the_same_plans_give_one_record_of_the_pair():
    """b.pdf holds a.pdf's two plans in the other order: one ReadTwice, its ids in b.pdf's order, and its words on
    both files' documents rows."""
    shinagawa, nakano = plan("品川区", "品川区計画", 1), plan("中野区", "中野区計画", 2)
    assembled = assemble(
        [
            ("b.pdf", file_rows(segment("b", [nakano, shinagawa]))),
            ("a.pdf", file_rows(segment("a", [shinagawa, nakano]))),
        ]
    )
    assert assembled.read_twice == [
        ReadTwice(first_file="a.pdf", later_file="b.pdf", plan_ids=["131148-2020", "131091-2020"])
    ]
    assert assembled.read_twice[0].warnings() == [
        ("b.pdf", "2 plan(s) already read from a.pdf: 131148-2020, 131091-2020"),
        ("a.pdf", "2 plan(s) also in b.pdf"),
    ]
    assert [list(w) for w in assembled.tables["documents"]["warnings"]] == [
        ["2 plan(s) also in b.pdf"],
        ["2 plan(s) already read from a.pdf: 131148-2020, 131091-2020"],
    ]
    assert assembled.notices == []


def test_a_plan_printed_twice_in_one_file_is_told_once():
    assembled = assemble(
        [("a.pdf", file_rows(segment("a", [plan("品川区", "品川区計画", 1), plan("品川区", "品川区計画", 2)])))]
    )
    assert assembled.read_twice == [ReadTwice("a.pdf", "a.pdf", ["131091-2020"])]
    assert list(assembled.tables["documents"]["warnings"][0]) == ["1 plan(s) already read from a.pdf: 131091-2020"]


def test_the_other_warnings_of_assemble_are_records_with_a_code():
    """Plans of one municipality and year with three titles get suffixes; a plan of 2023 of a fourth title has no
    previous plan among them."""
    a = segment("a", [plan("品川区", "品川区計画", 1), plan("品川区", "品川区ものづくり計画", 2)])
    b = segment(
        "b", [plan("品川区", "品川区観光計画", 1), plan("品川区", "品川区新計画", 2, period="令和5年度～令和7年度")]
    )
    assembled = assemble([("a.pdf", file_rows(a)), ("b.pdf", file_rows(b))])
    assert assembled.notices == [
        FileNotice(
            "same_start_year",
            "a.pdf",
            "131091-2020-2: 「品川区ものづくり計画」, another plan of 品川区 starting the same year as 131091-2020",
            ["131091-2020-2", "131091-2020"],
        ),
        FileNotice(
            "same_start_year",
            "b.pdf",
            "131091-2020-3: 「品川区観光計画」, another plan of 品川区 starting the same year as 131091-2020",
            ["131091-2020-3", "131091-2020"],
        ),
        FileNotice(
            "no_previous_plan",
            "b.pdf",
            "131091-2023: no previous plan set, 3 plans started in 2020: 131091-2020, 131091-2020-2, 131091-2020-3",
            ["131091-2023"],
        ),
    ]
    assert [list(w) for w in assembled.tables["documents"]["warnings"]] == [
        ["131091-2020-2: 「品川区ものづくり計画」, another plan of 品川区 starting the same year as 131091-2020"],
        [
            "131091-2020-3: 「品川区観光計画」, another plan of 品川区 starting the same year as 131091-2020",
            "131091-2023: no previous plan set, 3 plans started in 2020: 131091-2020, 131091-2020-2, 131091-2020-3",
        ],
    ]
    assert assembled.read_twice == []


def test_file_rows_are_typed_records_that_round_trip_through_json():
    seg = segment("a", [plan("架空町", "架空町計画", 4, period="未定")])
    rows = file_rows(seg)
    assert rows.plans == [
        PlanRows(
            key=("架空町", None, "架空町計画"),
            base_id="架空町-unknown-aaaaaaaa-p4",
            warnings=[
                Notice("no_municipality_code", "架空町: not one of Tokyo's municipalities, no code", 4),
                Notice("period_not_read", "架空町: period not read: '未定'", 4),
            ],
            row={
                "municipality": "架空町",
                "municipality_code": None,
                "plan_title": "架空町計画",
                "period_text": "未定",
                "period_start_fy": None,
                "period_end_fy": None,
                "summary": None,
                "photo_captions": [],
                "page_start": 4,
                "page_end": 4,
                "needs_review": True,
                "review_reasons": ["municipality_unknown", "period_not_read"],
                "review_notes": ["p4: 架空町 is not one of Tokyo's", "p4: period not read: '未定'"],
                "box_x0": 0,
                "box_top": 0,
                "box_x1": 1,
                "box_bottom": 1,
                "page_width": 595.28,
                "page_height": 841.89,
                "boxes": ["4:0,0,1,1"],
            },
            tags=[],
        )
    ]
    nowhere = {
        "box_x0": None,
        "box_top": None,
        "box_x1": None,
        "box_bottom": None,
        "page_width": None,
        "page_height": None,
        "boxes": [],
    }
    assert rows.pillars == [
        ChildRows(
            plan=0,
            row={"pillar_no": 1, "pillar_title": "販路拡大", "has_more_projects": False, "page": 4, **nowhere},
            tags=[],
        )
    ]
    assert rows.projects == [
        ChildRows(
            plan=0,
            row={
                "pillar_no": 1,
                "project_no": 1,
                "project_name": "展示会出展事業",
                "project_detail": None,
                "page": 4,
                **nowhere,
            },
            tags=[],
        )
    ]
    assert from_dict(FileRows, json.loads(json.dumps(to_dict(rows)))) == rows
    assert read_rows_record(rows_record("a" * 64, "s" * 64, rows), "s" * 64) == rows


def test_tags_go_to_their_rows_by_key_whatever_the_order():
    """中野区's plan comes first in its file and second in the table, sorted by plan_id: its tags follow it."""
    rows = file_rows(segment("a", [plan("中野区", "中野区計画", 1), plan("品川区", "品川区計画", 2)]))
    rows.plans[0].tags = [["theme", "startup", "創業・起業", ["創業"]]]
    rows.projects[1].tags = [["instrument", "subsidy", "補助・助成・奨励金", ["補助"]]]
    tables = assemble([("a.pdf", rows)]).tables
    assert tables["plans"][["plan_id", "themes"]].values.tolist() == [["131091-2020", []], ["131148-2020", ["startup"]]]
    assert tables["projects"][["plan_id", "instruments"]].values.tolist() == [
        ["131091-2020", ["subsidy"]],
        ["131148-2020", []],
    ]
    assert tables["tags"][["level", "plan_id", "code"]].values.tolist() == [
        ["project", "131091-2020", "subsidy"],
        ["plan", "131148-2020", "startup"],
    ]


def test_code_columns_are_joined_by_key_and_refuse_a_row_without_its_tags():
    table = pd.DataFrame({"plan_id": ["p2", "p1"], "pillar_no": [1, 1]})
    tags_of = {("p1", 1): [["theme", "sales", "販路拡大・取引拡大", ["販路"]]], ("p2", 1): []}
    assert set_code_columns(table, ["plan_id", "pillar_no"], tags_of)["themes"].tolist() == [[], ["sales"]]
    with pytest.raises(ValueError):
        set_code_columns(table, ["plan_id", "pillar_no"], {("p1", 1): []})
    with pytest.raises(ValueError):
        set_code_columns(table, ["plan_id", "pillar_no"], {**tags_of, ("p3", 1): []})
