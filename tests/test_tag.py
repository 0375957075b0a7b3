import re

import pandas as pd
import pytest

from pipeline.core.reference import read_rows
from pipeline.tagging.tagger import Tagger, roll_up, tag_tables
from pipeline.tagging.vocabulary import (
    CONTEXT_RULES_PATH,
    FALSE_FRIENDS_PATH,
    Exclusion,
    Implication,
    Reading,
    load_context_rules,
    load_exclusions,
    load_false_friends,
    load_implied_themes,
    load_spelling_variants,
    load_vocabulary,
)


@pytest.fixture(scope="module")
def tagger():
    return Tagger()


def codes(match):
    return {code for _, code in match}


def test_vocabulary_keeps_required_codes():
    vocabulary = load_vocabulary()
    assert set(vocabulary.columns) == {"code", "kind", "label_ja", "label_en", "covers", "excludes", "terms"}
    themes = set(vocabulary.loc[vocabulary["kind"] == "theme", "code"])
    instruments = set(vocabulary.loc[vocabulary["kind"] == "instrument", "code"])
    assert themes >= {
        "succession",
        "startup",
        "talent",
        "sales",
        "digital",
        "productivity",
        "management",
        "rnd",
        "academia",
        "network",
        "siting",
        "manufacturing",
        "retail",
        "branding",
        "sdgs",
    }
    assert instruments >= {"subsidy", "seminar", "advisory", "survey", "exhibition", "facility", "event"}
    assert all(isinstance(terms, list) and terms for terms in vocabulary["terms"])


def write_csv(tmp_path, text):
    path = tmp_path / "edited.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_vocabulary_reads_a_maintainers_csv(tmp_path):
    path = write_csv(
        tmp_path,
        (
            # a spreadsheet's BOM, and a column of the maintainers' own
            "\ufeffcode,kind,label_ja,label_en,covers,excludes,terms,note\n"
            "startup,theme,創業,Startups,means,not, 創業 | 起業 ,\n"
            "\n"
            ",,,,,\n"
            "facility,instrument,施設,Facilities,means,not,インキュベーション施設|センター,\n"
        ),
    )
    vocabulary = load_vocabulary(path)
    assert list(vocabulary.columns) == ["code", "kind", "label_ja", "label_en", "covers", "excludes", "terms"]
    assert vocabulary["terms"].tolist() == [["創業", "起業"], ["インキュベーション施設", "センター"]]


def test_load_vocabulary_allows_a_term_in_a_theme_and_an_instrument(tmp_path):
    path = write_csv(
        tmp_path,
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\n"
            "startup,theme,創業,Startups,means,not,創業|インキュベーション\n"
            "facility,instrument,施設,Facilities,means,not,施設|インキュベーション\n"
        ),
    )
    assert load_vocabulary(path)["code"].tolist() == ["startup", "facility"]


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "code,kind,label_ja,terms\nstartup,theme,創業,創業\n",
            r"edited\.csv: missing column\(s\) label_en, covers, excludes$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,means,not,創業,起業\n",
            r"line 2: 8 fields, the header has 7",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,means,not,\n",
            r"line 2: empty terms$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,means,not, \n",
            r"line 2: empty terms$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\n,theme,創業,Startups,means,not,創業\n",
            r"line 2: empty code$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,,Startups,means,not,創業\n",
            r"line 2: empty label_ja$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,,means,not,創業\n",
            r"line 2: empty label_en$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,,not,創業\n",
            r"line 2: empty covers$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,policy,創業,Startups,means,not,創業\n",
            r"line 2 \(code 'startup'\): unknown kind 'policy'",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,means,not,創業\nstartup,theme,起業,Startups,means,not,起業\n",
            r"line 3 \(code 'startup'\): duplicate code, first on line 2",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,means,not,創業||起業\n",
            r"line 2 \(code 'startup'\): empty term",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,means,not,創業|\n",
            r"line 2 \(code 'startup'\): empty term",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\n"
            "startup,theme,創業,Startups,means,not,創業|起業| 創業\n",
            r"line 2 \(code 'startup'\): term\(s\) listed twice: 創業$",
        ),
        (
            "code,kind,label_ja,label_en,covers,excludes,terms\nstartup,theme,創業,Startups,means,not,創業|起業\n"
            "succession,theme,事業承継,Business succession,means,not,承継|起業\n",
            r"line 3 \(code 'succession'\): term '起業' already belongs to theme 'startup' \(line 2\)",
        ),
    ],
)
def test_load_vocabulary_rejects_broken_edits(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_vocabulary(write_csv(tmp_path, text))


def test_load_spelling_variants_reads_a_maintainers_csv(tmp_path):
    path = write_csv(
        tmp_path,
        (
            "variant,canonical,reason\n"
            "事業継承,事業承継,継承 is not 承継\n"
            '空店舗,空き店舗,"no okurigana, no comma trouble"\n'
        ),
    )
    assert load_spelling_variants(path) == {"事業継承": "事業承継", "空店舗": "空き店舗"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("variant,canonical\n事業継承,事業承継\n", r"edited\.csv: missing column\(s\) reason$"),
        ("variant,canonical,reason\n事業継承,事業承継,\n", r"line 2: empty reason$"),
        ("variant,canonical,reason\n,事業承継,typo\n", r"line 2: empty variant$"),
        ("variant,canonical,reason\n事業継承,,typo\n", r"line 2: empty canonical$"),
        (
            "variant,canonical,reason\n事業継承,事業承継,typo\n事業継承,事業継続,typo\n",
            r"line 3 \(variant '事業継承'\): duplicate variant, first on line 2",
        ),
        (
            "variant,canonical,reason\n事業承継,事業承継,typo\n",
            r"line 2 \(variant '事業承継'\): variant equals its canonical",
        ),
        (
            "variant,canonical,reason\n事業継承,事業承継,typo\n事業承継,事業引継ぎ,synonym\n",
            r"line 2 \(variant '事業継承'\): canonical '事業承継' contains variant '事業承継' \(line 3\),"
            r" so rewrites would chain",
        ),
        (
            "variant,canonical,reason\n空店舗,空き店舗,okurigana\n店舗,お店,synonym\n",
            r"line 2 \(variant '空店舗'\): canonical '空き店舗' contains variant '店舗' \(line 3\)",
        ),
    ],
)
def test_load_spelling_variants_rejects_broken_edits(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        load_spelling_variants(write_csv(tmp_path, text))


IMPLIED_HEADER = "if_kind,if_code_or_term,then_theme,reason\n"


def test_load_implied_themes_reads_a_maintainers_csv(tmp_path):
    path = write_csv(
        tmp_path,
        IMPLIED_HEADER
        + (
            "code,exhibition,sales,fairs find buyers\n"
            "\n"
            ' term , 企業説明会 ,talent,"hiring, by its name"\n'
            "code,exhibition,branding,fairs show a brand\n"
        ),
    )
    assert load_implied_themes(load_vocabulary(), path) == [
        Implication("exhibition", False, ("theme", "sales")),
        Implication("企業説明会", True, ("theme", "talent")),
        Implication("exhibition", False, ("theme", "branding")),
    ]


@pytest.mark.parametrize(
    "rows, message",
    [
        ("code,exhibition,sales,\n", r"edited\.csv line 2: empty reason$"),
        (
            "instrument,exhibition,sales,why\n",
            r"edited\.csv line 2 \(instrument 'exhibition' implies 'sales'\):"
            r" unknown if_kind 'instrument', expected one of code, term$",
        ),
        (
            "code,exhibition,trade,why\n",
            r"edited\.csv line 2 \(code 'exhibition' implies 'trade'\): 'trade' is not a theme",
        ),
        ("code,exhibition,subsidy,why\n", r"line 2 \(code 'exhibition' implies 'subsidy'\): 'subsidy' is not a theme"),
        ("code,fair,sales,why\n", r"line 2 \(code 'fair' implies 'sales'\): 'fair' is not a code of the vocabulary$"),
        (
            "term,求職,talent,why\n",
            r"line 2 \(term '求職' implies 'talent'\):"
            r" '求職' is in no code's terms; if it only means 'talent', add it to",
        ),
        ("code,sales,sales,why\n", r"line 2 \(code 'sales' implies 'sales'\): implies its own trigger \('sales' tags"),
        (
            "term,採用,talent,why\n",
            r"line 2 \(term '採用' implies 'talent'\): implies its own trigger \('採用' tags 'talent' already\)$",
        ),
        (
            "code,exhibition,sales,why\ncode,exhibition,sales,again\n",
            r"line 3 \(code 'exhibition' implies 'sales'\): duplicate rule, first on line 2$",
        ),
    ],
)
def test_load_implied_themes_rejects_broken_edits(tmp_path, rows, message):
    with pytest.raises(ValueError, match=message):
        load_implied_themes(load_vocabulary(), write_csv(tmp_path, IMPLIED_HEADER + rows))


def test_load_implied_themes_wants_a_reason(tmp_path):
    with pytest.raises(ValueError, match=r"edited\.csv: missing column\(s\) reason$"):
        load_implied_themes(load_vocabulary(), write_csv(tmp_path, "if_kind,if_code_or_term,then_theme\n"))


EXCLUSIONS_HEADER = "code,term,unless_in,reason\n"


def test_load_exclusions_reads_a_maintainers_csv(tmp_path):
    path = write_csv(
        tmp_path,
        EXCLUSIONS_HEADER
        + (
            "advisory, 派遣 ,人材派遣,staffing is not advice\n"
            "\n"
            'exhibition,フェア,フェアトレード,"fair trade, not a fair"\n'
        ),
    )
    assert load_exclusions(load_vocabulary(), path) == [
        Exclusion(("instrument", "advisory"), "派遣", "人材派遣"),
        Exclusion(("instrument", "exhibition"), "フェア", "フェアトレード"),
    ]


@pytest.mark.parametrize(
    "rows, message",
    [
        ("advisory,派遣,人材派遣,\n", r"edited\.csv line 2: empty reason$"),
        (
            "advice,派遣,人材派遣,why\n",
            r"edited\.csv line 2 \(advice '派遣' unless in '人材派遣'\): 'advice' is not a code of the vocabulary$",
        ),
        (
            "advisory,人材,人材派遣,why\n",
            r"line 2 \(advisory '人材' unless in '人材派遣'\): '人材' is not one of 'advisory'",
        ),
        (
            "advisory,派遣,人材紹介,why\n",
            r"line 2 \(advisory '派遣' unless in '人材紹介'\):"
            r" unless_in must be a longer word or phrase containing '派遣'$",
        ),
        ("advisory,派遣,派遣,why\n", r"line 2 \(advisory '派遣' unless in '派遣'\): unless_in must be a longer"),
        (
            "advisory,派遣,人材派遣,why\nadvisory,派遣,人材派遣,again\n",
            r"line 3 \(advisory '派遣' unless in '人材派遣'\): duplicate rule, first on line 2$",
        ),
    ],
)
def test_load_exclusions_rejects_broken_edits(tmp_path, rows, message):
    with pytest.raises(ValueError, match=message):
        load_exclusions(load_vocabulary(), write_csv(tmp_path, EXCLUSIONS_HEADER + rows))


def test_load_exclusions_wants_a_reason(tmp_path):
    with pytest.raises(ValueError, match=r"edited\.csv: missing column\(s\) reason$"):
        load_exclusions(load_vocabulary(), write_csv(tmp_path, "code,term,unless_in\n"))


def test_match_skips_a_term_inside_its_exclusion_phrase_only():
    tagger = Tagger(
        exclusions=[
            Exclusion(("instrument", "advisory"), "派遣", "人材派遣"),
            Exclusion(("instrument", "exhibition"), "フェア", "フェアトレード"),
        ]
    )
    assert tagger.match("人材派遣会社の活用") == {("theme", "talent"): ["人材"]}
    # The same term elsewhere in the text still counts; other codes' terms inside the phrase too.
    assert tagger.match("人材派遣会社への専門家の派遣") == {
        ("instrument", "advisory"): ["専門家", "派遣"],
        ("theme", "talent"): ["人材"],
    }
    assert tagger.match("フェアトレード製品のフェアに出品") == {("instrument", "exhibition"): ["フェア"]}
    assert tagger.match("フェアトレードの普及") == {}


CONTEXT_HEADER = "code,pattern,means,example,reason\n"


def test_load_context_rules_reads_a_maintainers_csv(tmp_path):
    path = write_csv(
        tmp_path,
        CONTEXT_HEADER
        + (
            " sales ,後継者マッチング,succession,後継者マッチング事業,successors\n"
            "\n"
            'advisory,"派遣{1,2}",talent,派遣,"a test, with a comma"\n'
        ),
    )
    assert [(r.key, r.pattern.pattern, r.means) for r in load_context_rules(load_vocabulary(), path)] == [
        (("theme", "sales"), "後継者マッチング", ("theme", "succession")),
        (("instrument", "advisory"), "派遣{1,2}", ("theme", "talent")),
    ]


def test_load_false_friends_reads_a_maintainers_csv_without_means(tmp_path):
    path = write_csv(tmp_path, "code,pattern,example,reason\nstartup,創業\\d+年,創業100年,old firms\n")
    assert [(r.key, r.pattern.pattern, r.means) for r in load_false_friends(load_vocabulary(), path)] == [
        (("theme", "startup"), r"創業\d+年", None)
    ]


@pytest.mark.parametrize(
    "rows, message",
    [
        ("sales,マッチング,succession,マッチング,\n", r"edited\.csv line 2: empty reason$"),
        (
            "sale,マッチング,succession,マッチング,why\n",
            r"edited\.csv line 2 \(sale in 'マッチング'\): 'sale' is not a code of the vocabulary$",
        ),
        ("sales,マッチング,heir,マッチング,why\n", r"line 2 \(sales in 'マッチング'\): 'heir' is not a code"),
        ("sales,マッチング,sales,マッチング,why\n", r"line 2 \(sales in 'マッチング'\): means its own code$"),
        ("sales,マッチング(,succession,マッチング,why\n", r"line 2 \(sales in 'マッチング\('\): the pattern does not"),
        (
            "sales,後継者マッチング,succession,求人マッチング,why\n",
            r"line 2 \(sales in '後継者マッチング'\): the pattern does not match its example '求人マッチング'$",
        ),
        (
            "sales,マッチング,succession,マッチング,why\nsales,マッチング,succession,マッチング,again\n",
            r"line 3 \(sales in 'マッチング'\): duplicate rule, first on line 2$",
        ),
    ],
)
def test_load_context_rules_rejects_broken_edits(tmp_path, rows, message):
    with pytest.raises(ValueError, match=message):
        load_context_rules(load_vocabulary(), write_csv(tmp_path, CONTEXT_HEADER + rows))


@pytest.mark.parametrize(
    "text, expected",
    [
        # 創業 followed by years dates an old firm; 創業 elsewhere in the text still counts.
        ("創業100年企業の顕彰", {("theme", "branding"): ["顕彰"]}),
        ("創業５０年以上の老舗", {}),
        ("創業支援と創業百年企業", {("theme", "startup"): ["創業"]}),
        ("姉妹都市との職員の相互派遣", {}),
        ("専門家を派遣", {("instrument", "advisory"): ["専門家", "派遣"]}),
        ("脱炭素経営支援", {("theme", "sdgs"): ["脱炭素"]}),
        ("中小企業の経営支援", {("theme", "management"): ["経営支援"]}),
        ("新技術の採用", {("theme", "rnd"): ["新技術"]}),
        ("若手人材の採用", {("theme", "talent"): ["人材", "採用"]}),
    ],
)
def test_false_friends_keep_a_term_from_its_code(tagger, text, expected):
    assert tagger.match(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("後継者マッチング", {("theme", "succession"): ["マッチング in 後継者マッチング", "後継", "後継者"]}),
        ("求人マッチング", {("theme", "talent"): ["マッチング in 求人マッチング", "求人"]}),
        ("大学と企業のマッチング", {("theme", "academia"): ["マッチング in 大学と企業のマッチング", "大学"]}),
        ("取引先とのマッチング", {("theme", "sales"): ["マッチング", "取引"]}),
        # The object may stand in the detail, the line after the name.
        (
            "マッチング支援\n承継希望者をつなぐ",
            {("theme", "succession"): ["マッチング in マッチング支援 / 承継", "承継"]},
        ),
    ],
)
def test_context_rules_read_a_term_by_its_object(tagger, text, expected):
    assert tagger.match(text) == expected


def test_match_reads_a_term_by_each_rule_around_it():
    sales, succession = ("theme", "sales"), ("theme", "succession")
    tagger = Tagger(
        readings=[
            Reading(sales, re.compile("後継者マッチング"), succession),
            Reading(sales, re.compile("マッチング事業"), None),
            Reading(succession, re.compile("後継者マッチング"), sales),
        ]
    )
    # 後継者 is succession's own term, read as sales by the third rule; マッチング lies in the first two rules'
    # matches: the first gives succession, the second nothing.
    assert tagger.match("後継者マッチング事業") == {
        sales: ["後継 in 後継者マッチング", "後継者 in 後継者マッチング"],
        succession: ["マッチング in 後継者マッチング"],
    }


@pytest.mark.parametrize(
    "text, expected",
    [
        # Paraphrases of issue 26: a subsidy as bearing part of the cost, workers, work-life themes, IP, EC.
        ("経費の一部を負担", {("instrument", "subsidy"): ["一部を負担", "負担"]}),
        ("支援金の交付", {("instrument", "subsidy"): ["交付", "支援金"]}),
        ("働き手の確保", {("theme", "talent"): ["働き手"]}),
        ("従業員の雇入れ", {("theme", "talent"): ["従業員", "雇い入れ"]}),
        ("女性活躍の推進", {("theme", "sdgs"): ["implied by 女性活躍"], ("theme", "talent"): ["女性活躍"]}),
        ("仕事と育児・介護の両立", {("theme", "sdgs"): ["implied by 仕事と育児"], ("theme", "talent"): ["仕事と育児"]}),
        ("５Ｓ・カイゼン", {("theme", "productivity"): ["5S"]}),
        ("知財戦略と特許", {("theme", "rnd"): ["特許", "知財"]}),
        ("ECサイトの開設", {("theme", "digital"): ["EC"], ("theme", "sales"): ["ECサイト", "implied by EC"]}),
        (
            "アンテナショップの運営",
            {("instrument", "facility"): ["アンテナショップ"], ("theme", "sales"): ["アンテナショップ"]},
        ),
        ("中小企業経営大学", {("theme", "management"): ["経営大学"]}),  # a course named 大学 is not academia
        ("研究機関と区内企業の交流", {("theme", "academia"): ["交流 in 研究機関と区内企業の交流", "研究機関"]}),
        ("人手不足に対応する省力化ロボット", {("theme", "productivity"): ["省力化"]}),
    ],
)
def test_tag_reads_paraphrases_and_context(tagger, text, expected):
    assert tagger.tag(text) == expected


@pytest.mark.parametrize("path", [FALSE_FRIENDS_PATH, CONTEXT_RULES_PATH], ids=lambda path: path.name)
def test_each_rule_reads_its_example_as_it_says(tagger, path):
    # A rule whose example still gets its code is dead data: a pattern that misses the term's place.
    for line, row in read_rows(path, ("code", "example")):
        codes = {code for _, code in tagger.tag(row["example"])}
        assert row["code"] not in codes, f"{path.name} line {line}"
        assert row.get("means", "") in codes | {""}, f"{path.name} line {line}"


def test_tag_adds_implied_themes_with_their_evidence(tagger):
    assert tagger.match("産業展示会の開催") == {("instrument", "exhibition"): ["展示", "展示会"]}
    # A bare display implies nothing: it may show crafts or PR to the public, with no buyer.
    assert tagger.tag("産業展示会の開催") == {("instrument", "exhibition"): ["展示", "展示会"]}
    assert tagger.tag("合同企業説明会の開催") == {
        ("instrument", "event"): ["企業説明会", "説明会"],
        ("theme", "talent"): ["implied by 企業説明会"],
    }
    assert tagger.tag("商談会の開催") == {
        ("instrument", "exhibition"): ["商談会"],
        ("theme", "sales"): ["implied by 商談会", "商談"],  # matched and implied: both are evidence
    }


def test_implied_themes_chain_until_no_rule_adds_any():
    tagger = Tagger(
        implications=[
            Implication("sales", False, ("theme", "branding")),
            Implication("exhibition", False, ("theme", "sales")),
        ]
    )
    assert tagger.tag("見本市") == {
        ("instrument", "exhibition"): ["見本市"],
        ("theme", "branding"): ["implied by sales"],
        ("theme", "sales"): ["implied by exhibition"],
    }


def test_implied_tags_roll_up_like_matched_ones(tagger):
    plans, pillars, projects = roll_up(tagger, [(0, "計画")], [(0, 1, "柱")], [(0, 1, "見本市への出展支援")])
    assert projects[0] == {
        ("instrument", "exhibition"): ["出展", "見本市"],
        ("theme", "sales"): ["implied by 出展", "implied by 見本市"],
    }
    assert pillars == projects and plans == projects


# How terms are found, one mechanism a case; how well the vocabulary tags is measured on the labelled projects of
# tests/data/labelled/ instead (tests/test_tag_eval.py, make eval-tags).
@pytest.mark.parametrize(
    "text, expected",
    [
        ("ｽﾀｰﾄｱｯﾌﾟ支援", {"startup"}),  # half-width katakana, normalized by Sudachi
        ("ＩｏＴ導入", {"digital"}),  # full-width letters, likewise
        ("もの作り産業", {"manufacturing"}),  # a spelling Sudachi unifies (物作り)
        ("事業継承", {"succession"}),  # a spelling it does not, rewritten from spelling_variants.csv
        ("空店舗対策", {"retail"}),
        ("異業種交流会の開催", {"network", "event"}),  # a compound (交流会, mode C) and its part (交流, mode A)
        ("商店街への出店", {"retail"}),  # 出店 is a word of its own: no 出展 (exhibition) in it
        ("Make it happen", set()),  # Sudachi normalizes the pronoun "it" to "IT": lowercase stays lowercase
        ("Kitchen Summit", set()),  # nor is the "it" inside a word a term
    ],
)
def test_match_finds_terms_as_whole_normalized_words(tagger, text, expected):
    assert codes(tagger.match(text)) == expected


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
    plans = pd.DataFrame(
        {"plan_id": ["p1"], "plan_title": ["テスト区地域産業活性化計画"], "summary": [None], "ward": ["テスト区"]}
    )
    pillars = pd.DataFrame(
        {"plan_id": ["p1", "p1"], "pillar_no": [1, 2], "pillar_title": ["事業承継支援", "起業・創業の促進"]}
    )
    projects = pd.DataFrame(
        {
            "plan_id": ["p1", "p1", "p1"],
            "pillar_no": [1, 2, 2],
            "project_no": [1, 1, 2],
            "project_name": ["後継者育成セミナー事業", "起業促進支援事業", "ＩｏＴ導入支援"],
            "project_detail": [None, "起業前の方に対する事務所賃貸料の補助", "専門家派遣"],
        }
    )
    originals = [plans.copy(), pillars.copy(), projects.copy()]

    out_plans, out_pillars, out_projects, tags = tag_tables(plans, pillars, projects, tagger)

    for before, after in zip(originals, (plans, pillars, projects), strict=True):
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
        (
            r.level,
            r.plan_id,
            None if pd.isna(r.pillar_no) else r.pillar_no,
            None if pd.isna(r.project_no) else r.project_no,
            r.kind,
            r.code,
            r.terms,
        )
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


def test_match_from_several_threads(tagger):
    from concurrent.futures import ThreadPoolExecutor

    texts = ["後継者育成セミナー事業", "ＩｏＴ導入", "起業前の方に対する事務所賃貸料の補助"] * 20
    expected = [tagger.match(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(tagger.match, texts)) == expected
