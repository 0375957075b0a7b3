import pandas as pd
import pytest

from pipeline.segment import split_name_detail
from pipeline.tag import Tagger, load_vocabulary, tag_tables
from tests.fixtures.make_sample import load_reference


@pytest.fixture(scope="module")
def tagger():
    return Tagger()


def codes(match):
    return {code for _, code in match}


def test_vocabulary_keeps_required_codes():
    vocabulary = load_vocabulary()
    assert set(vocabulary.columns) == {"code", "kind", "label_ja", "label_en", "terms"}
    themes = set(vocabulary.loc[vocabulary["kind"] == "theme", "code"])
    instruments = set(vocabulary.loc[vocabulary["kind"] == "instrument", "code"])
    assert themes >= {
        "succession", "startup", "talent", "sales", "digital", "productivity", "management", "rnd",
        "academia", "network", "siting", "manufacturing", "retail", "branding", "sdgs",
    }
    assert instruments >= {"subsidy", "seminar", "advisory", "survey", "exhibition", "facility", "event"}
    assert all(isinstance(terms, list) and terms for terms in vocabulary["terms"])


@pytest.mark.parametrize(
    "text, present, absent",
    [
        ("後継者育成セミナー事業", {"succession", "seminar"}, {"startup"}),
        ("防音設備の設置への補助", {"subsidy"}, {"digital"}),
        ("Kitchen Summit", set(), {"digital"}),
        ("Make it happen", set(), {"digital"}),  # Sudachi normalizes the pronoun "it" to "IT"
        ("情報発信", {"branding"}, {"digital"}),
        ("起業前の方に対する事務所賃貸料の補助", {"startup", "subsidy"}, set()),
        ("ｽﾀｰﾄｱｯﾌﾟ支援", {"startup"}, set()),
        ("ＩｏＴ導入", {"digital"}, set()),
        ("事業継承", {"succession"}, set()),
        ("空店舗対策", {"retail"}, set()),
        ("もの作り産業", {"manufacturing"}, set()),
    ],
)
def test_match_labelled_examples(tagger, text, present, absent):
    found = codes(tagger.match(text))
    assert present <= found
    assert not absent & found


def test_match_reports_vocabulary_terms_by_kind_and_code(tagger):
    assert tagger.match("ｽﾀｰﾄｱｯﾌﾟ支援") == {("theme", "startup"): ["スタートアップ"]}
    assert tagger.match("事業継承") == {("theme", "succession"): ["事業承継", "承継"]}
    assert tagger.match("後継者育成セミナー事業") == {
        ("instrument", "seminar"): ["セミナー"],
        ("theme", "succession"): ["後継", "後継者"],
    }


def test_match_empty_text(tagger):
    assert tagger.match(None) == {}
    assert tagger.match("") == {}


def test_match_text_beyond_sudachi_input_limit(tagger):
    text = "あ" * 20_000 + "ＩｏＴ導入"  # 60,015 bytes on a single line
    assert len(text.encode("utf-8")) > 60_000
    assert ("theme", "digital") in tagger.match(text)


def test_tag_tables_rolls_children_up(tagger):
    plans = pd.DataFrame({"plan_id": ["p1"], "plan_title": ["テスト区地域産業活性化計画"], "summary": [None], "ward": ["テスト区"]})
    pillars = pd.DataFrame({"plan_id": ["p1", "p1"], "pillar_no": [1, 2], "pillar_title": ["事業承継支援", "起業・創業の促進"]})
    projects = pd.DataFrame({
        "plan_id": ["p1", "p1", "p1"],
        "pillar_no": [1, 2, 2],
        "project_no": [1, 1, 2],
        "project_name": ["後継者育成セミナー事業", "起業促進支援事業", "ＩｏＴ導入支援"],
        "project_detail": [None, "起業前の方に対する事務所賃貸料の補助", "専門家派遣"],
    })
    originals = [plans.copy(), pillars.copy(), projects.copy()]

    out_plans, out_pillars, out_projects, tags = tag_tables(plans, pillars, projects, tagger)

    for before, after in zip(originals, (plans, pillars, projects)):
        pd.testing.assert_frame_equal(before, after)
    assert out_plans["ward"].tolist() == ["テスト区"]
    assert out_projects["themes"].tolist() == [["succession"], ["startup"], ["digital"]]
    assert out_projects["instruments"].tolist() == [["seminar"], ["subsidy"], ["advisory"]]
    assert out_pillars["themes"].tolist() == [["succession"], ["digital", "startup"]]
    assert out_pillars["instruments"].tolist() == [["seminar"], ["advisory", "subsidy"]]
    assert out_plans["themes"].tolist() == [["digital", "startup", "succession"]]
    assert out_plans["instruments"].tolist() == [["advisory", "seminar", "subsidy"]]

    assert list(tags.columns) == ["level", "plan_id", "pillar_no", "project_no", "kind", "code", "label_ja", "terms"]
    assert str(tags["pillar_no"].dtype) == "Int64" and str(tags["project_no"].dtype) == "Int64"
    rows = [
        (r.level, r.plan_id, None if pd.isna(r.pillar_no) else r.pillar_no,
         None if pd.isna(r.project_no) else r.project_no, r.kind, r.code, r.terms)
        for r in tags.itertuples(index=False)
    ]
    assert rows == [
        ("plan", "p1", None, None, "instrument", "advisory", ["専門家", "専門家派遣", "派遣"]),
        ("plan", "p1", None, None, "instrument", "seminar", ["セミナー"]),
        ("plan", "p1", None, None, "instrument", "subsidy", ["補助"]),
        ("plan", "p1", None, None, "theme", "digital", ["IoT"]),
        ("plan", "p1", None, None, "theme", "startup", ["創業", "起業"]),
        ("plan", "p1", None, None, "theme", "succession", ["事業承継", "後継", "後継者", "承継"]),
        ("pillar", "p1", 1, None, "instrument", "seminar", ["セミナー"]),
        ("pillar", "p1", 1, None, "theme", "succession", ["事業承継", "後継", "後継者", "承継"]),
        ("project", "p1", 1, 1, "instrument", "seminar", ["セミナー"]),
        ("project", "p1", 1, 1, "theme", "succession", ["後継", "後継者"]),
        ("pillar", "p1", 2, None, "instrument", "advisory", ["専門家", "専門家派遣", "派遣"]),
        ("pillar", "p1", 2, None, "instrument", "subsidy", ["補助"]),
        ("pillar", "p1", 2, None, "theme", "digital", ["IoT"]),
        ("pillar", "p1", 2, None, "theme", "startup", ["創業", "起業"]),
        ("project", "p1", 2, 1, "instrument", "subsidy", ["補助"]),
        ("project", "p1", 2, 1, "theme", "startup", ["起業"]),
        ("project", "p1", 2, 2, "instrument", "advisory", ["専門家", "専門家派遣", "派遣"]),
        ("project", "p1", 2, 2, "theme", "digital", ["IoT"]),
    ]
    assert tags.loc[tags["code"] == "succession", "label_ja"].unique().tolist() == ["事業承継"]


def read_reference_projects():
    """(name, detail) of the 28 projects of the FY2020 reference text, split as the pipeline splits them."""
    doc = load_reference()
    return [split_name_detail(item) for plan in doc.plans for pillar in plan.pillars for item in pillar.projects]


def test_reference_projects_are_all_tagged(tagger):
    projects = read_reference_projects()
    assert len(projects) == 28
    tagged = {name: codes(tagger.match(f"{name}\n{detail}")) for name, detail in projects}
    assert all(tagged.values()), [name for name, found in tagged.items() if not found]

    assert tagged["事業承継支援事業"] == {"succession", "advisory", "survey", "seminar"}
    assert tagged["起業促進支援事業"] == {"startup", "subsidy"}
    assert tagged["生産性向上促進事業"] == {"productivity", "digital", "network", "subsidy", "seminar", "event"}
    assert tagged["企業立地促進のための奨励金交付事業"] == {"siting", "network", "subsidy", "event"}
    assert tagged["区内事業者のビジネスフェア出展補助事業"] == {"digital", "exhibition", "subsidy"}
    assert tagged["ワンストップコンサルティング事業"] == {"advisory"}
    assert tagged["付加価値向上支援事業"] == {"management", "sdgs", "seminar"}


def test_match_from_several_threads(tagger):
    from concurrent.futures import ThreadPoolExecutor

    texts = ["後継者育成セミナー事業", "ＩｏＴ導入", "起業前の方に対する事務所賃貸料の補助"] * 20
    expected = [tagger.match(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(tagger.match, texts)) == expected
