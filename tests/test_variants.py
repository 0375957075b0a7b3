"""Every layout variant yields exactly its expected plans, pillars, projects and captions.

Two checks per fixture: against the Document the fixture was drawn from (the truth, written by hand in
tests/fixtures/variants.py), and against golden files of the full tables (tests/golden/structure/<variant>.json
and tests/golden/tags/<variant>.json), which catch any other drift. Golden files change only with
`pytest --regen-golden`; the guard test fails while that flag is on.

Each PDF is drawn once and read alone once per session (conftest's variant_pdfs and read_alone): the tests
below that look at one variant's tables share that run.
"""

import pytest

from tests.conftest import check_golden, plans_as_read
from tests.fixtures.make_libreoffice import DOCUMENT as LIBREOFFICE_DOCUMENT
from tests.fixtures.make_libreoffice import OUT as LIBREOFFICE_PDF
from tests.fixtures.render import Printed
from tests.fixtures.variants import VARIANTS


def truth(text):
    """What a fixture field must come out as: a plain string as it stands, a Printed its stated expectation."""
    return text.expected if isinstance(text, Printed) else text


def expected(doc) -> dict:
    """Plan title → the plan, its pillars and projects the Document promises, in the shape of plans_as_read."""
    return {
        p.title: {
            "municipality": p.municipality,
            "title": p.title,
            "period_text": truth(p.period_text),
            "summary": p.summary,
            "captions": [truth(c) for c in p.captions],
            "pillars": [
                {
                    "number": x.number,
                    "title": x.title,
                    "has_more": x.has_more,
                    "projects": [{"name": i.name, "detail": i.detail} for i in x.projects],
                }
                for x in p.pillars
            ],
        }
        for p in doc.plans
    }


def actual(tables) -> dict:
    """The same read back from the output tables (plans keyed by title: the tables order them by plan_id)."""
    plans = {plan["title"]: plan for plan in plans_as_read(tables)}
    assert len(plans) == len(tables["plans"]), "two plans with one title"
    return plans


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_matches_its_truth_and_golden(variant_pdfs, read_alone, regen_golden, name):
    tables = read_alone(variant_pdfs[name])
    assert tables["documents"]["status"].tolist() == ["ok"]
    assert actual(tables) == expected(VARIANTS[name][0])
    check_golden(name, tables, regen_golden)


def test_golden_regeneration_flag_is_off(regen_golden):
    assert not regen_golden, "--regen-golden rewrote the golden files: review the diff, then run without the flag"


def test_every_layout_variant_of_the_issue_is_covered():
    assert sorted(VARIANTS) == sorted(
        [
            "cid_font",
            "beside_photos",
            "beside_photos_wide_captions",
            "photos_after_pillars",
            "boxed_two_per_page",
            "page_break",
            "fake_bold",
            "radicals",
            "numbering_paren",
            "numbering_fullwidth_paren",
            "numbering_circled",
            "numbering_dot",
            "numbering_dash",
            "numbering_fullwidth_digit",
            "numbering_dai",
            "numbering_katakana",
            "numbering_katakana_paren",
            "numbering_roman",
            "numbering_kanji",
            "numbering_latin_bullets",
            "bullets_nakaguro",
            "bullets_maru",
            "heisei_short_period",
            "reiwa_short_period",
            "gannen",
            "round_suffix_title",
            "older_title",
            "two_line_captions",
            "pillar_without_projects",
            "unknown_municipality",
            "same_municipality_and_year",
        ]
    )


@pytest.mark.slow
def test_two_plans_of_one_municipality_and_year_are_both_kept(variant_pdfs, read_alone):
    tables = read_alone(variant_pdfs["same_municipality_and_year"])
    assert tables["plans"][["plan_id", "plan_title"]].values.tolist() == [
        ["131067-2020", "台東区ものづくりのまちネットワーク推進計画"],
        ["131067-2020-2", "台東区観光まちづくり推進計画"],
        ["131172-2020", "北区ものづくり産業活性化計画"],
    ]
    assert list(tables["documents"]["warnings"].iloc[0]) == [
        "131067-2020-2: 「台東区観光まちづくり推進計画」, another plan of 台東区 starting the same year as 131067-2020"
    ]


@pytest.mark.slow
def test_radicals_give_the_unified_name_and_its_code(variant_pdfs, read_alone):
    plans = read_alone(variant_pdfs["radicals"])["plans"]
    row = plans[plans.plan_title == "青梅市地域産業活性化計画"].iloc[0]
    assert (row.municipality, row.municipality_code) == ("青梅市", "132055")


@pytest.mark.slow
def test_unknown_municipality_is_kept_with_a_warning(variant_pdfs, read_alone):
    tables = read_alone(variant_pdfs["unknown_municipality"])
    plans = tables["plans"]
    assert plans.loc[plans.municipality == "架空町", "municipality_code"].isna().all()
    assert "架空町: not one of Tokyo's municipalities, no code" in list(tables["documents"]["warnings"].iloc[0])


@pytest.mark.slow
def test_a_libreoffice_table_layout_matches_its_truth_and_golden(read_alone, regen_golden):
    """Another producer: LibreOffice prints each plan as a table, the photo beside the overview, each pillar
    number in a cell of its own that centres it below its title (tests/fixtures/make_libreoffice.py)."""
    tables = read_alone(LIBREOFFICE_PDF)
    assert tables["documents"]["status"].tolist() == ["ok"]
    assert actual(tables) == expected(LIBREOFFICE_DOCUMENT)
    check_golden("libreoffice_table", tables, regen_golden)
