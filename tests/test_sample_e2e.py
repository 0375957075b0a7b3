"""End to end on the bundled FY2020 sample: the contract's values, exactly."""

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import check_golden, plans_as_read

CODES = ["131091", "131148", "131237", "132012", "132047", "132152"]
# What must come out of raw/r2-approval-summary.pdf, written by hand (not by the pipeline's functions).
EXPECTED = json.loads((Path(__file__).parent / "fixtures" / "r2-expected.json").read_text(encoding="utf-8"))


def test_six_plans_with_their_codes_and_years(sample):
    plans = sample["plans"]
    assert plans["municipality_code"].tolist() == CODES
    assert plans["plan_id"].tolist() == [f"{c}-2020" for c in CODES]
    assert set(plans["period_start_fy"]) == {2020} and set(plans["period_end_fy"]) == {2022}
    assert set(plans["period_text"]) == {"令和2年度～令和4年度"}
    assert plans["municipality"].tolist() == ["品川区", "中野区", "江戸川区", "八王子市", "三鷹市", "国立市"]


def test_counts(sample):
    assert len(sample["pillars"]) == 20
    assert len(sample["projects"]) == 28
    assert sample["documents"][["status", "plans_found", "pages"]].values.tolist() == [["ok", 6, 6]]


def project(sample, code, pillar, no):
    p = sample["projects"]
    row = p[(p.plan_id == f"{code}-2020") & (p.pillar_no == pillar) & (p.project_no == no)]
    assert len(row) == 1
    return row.iloc[0]


def test_nested_parentheses_stay_in_the_detail(sample):
    row = project(sample, "131148", 3, 1)
    assert row.project_name == "区内事業者のビジネスフェア出展補助事業"
    assert row.project_detail == (
        "出展料補助、重点分野（ICT、コンテンツ及びライフサポートサービス）に関連する企業とのビジネスフェアへの"
        "共同出展及び出展経費補助等"
    )


def test_provisional_name_prefix_stays_in_the_name(sample):
    row = project(sample, "132012", 4, 1)
    assert row.project_name == "(仮称) Tech×Future カンファレンス事業"
    assert row.project_detail.startswith("令和4年2月完成予定の(仮称)産業交流拠点")


def test_has_more_projects(sample):
    pillars = sample["pillars"].set_index(["plan_id", "pillar_no"])["has_more_projects"]
    assert sorted(pillars[pillars].index) == [
        ("131091-2020", 2),
        ("131091-2020", 3),
        ("131237-2020", 1),
        ("132012-2020", 3),
    ]
    assert not pillars[("131091-2020", 1)]


def test_captions_in_photo_captions_never_in_summary(sample):
    """Two-line captions come out joined, in photo_captions, and none is read into the overview."""
    for plan, expected in zip(sample["plans"].itertuples(), EXPECTED, strict=True):
        assert list(plan.photo_captions) == expected["captions"]
        for caption in expected["captions"]:
            assert caption not in plan.summary


def test_everything_matches_the_expected_file(sample):
    """Every plan, summary, caption, pillar and project of tests/fixtures/r2-expected.json comes out exactly, in
    order."""
    assert plans_as_read(sample) == EXPECTED


def test_no_furniture_in_any_plan(sample):
    text = " ".join(sample["plans"]["summary"]) + " ".join(sample["projects"]["project_detail"].dropna())
    assert "承認した地域産業活性化計画の概要" not in text
    assert "議会の議決" not in text


def test_provenance_on_every_row(sample):
    sha = sample["documents"]["source_sha256"].iloc[0]
    for name in ("plans", "pillars", "projects"):
        df = sample[name]
        assert set(df["source_file"]) == {"r2-approval-summary.pdf"}
        assert set(df["source_sha256"]) == {sha}
    assert sample["plans"][["page_start", "page_end"]].values.tolist() == [[i, i] for i in range(1, 7)]
    assert sample["projects"]["page"].tolist() == [1] * 5 + [2] * 4 + [3] * 6 + [4] * 4 + [5] * 4 + [6] * 5


@pytest.mark.parametrize("table", ["documents", "plans", "pillars", "projects", "tags"])
def test_codes_stay_strings_and_lists_are_lists(sample_out, table):
    schema = pq.read_schema(sample_out / f"{table}.parquet")
    if "municipality_code" in schema.names:
        assert str(schema.field("municipality_code").type) == "string"
    if "themes" in schema.names:
        assert schema.field("themes").type.equals(pa.list_(pa.string()))


def test_csv_joins_lists_and_keeps_codes(sample_out):
    text = (sample_out / "plans.csv").read_text(encoding="utf-8-sig")
    assert "131091-2020,品川区,131091," in text
    assert "オープンイノベーションフォーラムの様子|後継者塾の様子" in text


def test_sample_output_is_unchanged(sample, regen_golden):
    check_golden("r2-approval-summary", sample, regen_golden)


def test_tags_follow_the_hierarchy(sample):
    """A pillar's codes include its projects'; a plan's include its pillars'."""
    projects, pillars, plans = sample["projects"], sample["pillars"], sample["plans"]
    for pillar in pillars.itertuples():
        mine = projects[(projects.plan_id == pillar.plan_id) & (projects.pillar_no == pillar.pillar_no)]
        assert set().union(*map(set, mine["themes"])) <= set(pillar.themes)
    for plan in plans.itertuples():
        assert set().union(*map(set, pillars[pillars.plan_id == plan.plan_id]["instruments"])) <= set(plan.instruments)
    row = project(sample, "131091", 1, 1)
    assert (list(row.themes), list(row.instruments)) == (["succession"], ["advisory", "seminar", "survey"])
