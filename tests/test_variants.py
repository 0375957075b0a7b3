"""Every layout variant yields exactly its expected plans, pillars, projects and captions.

Two checks per fixture: against the Document the fixture was drawn from (the truth), and against a
golden file of the full tables (tests/golden/<variant>.json), which catches any other drift. Golden
files change only with `pytest --regen-golden`; the guard test fails while that flag is on.
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipeline.text import normalize_text
from pipeline.segment import split_name_detail
from tests.conftest import check_golden, read_tables, run_pipeline
from tests.fixtures.make_libreoffice import DOCUMENT as LIBREOFFICE_DOCUMENT
from tests.fixtures.make_libreoffice import OUT as LIBREOFFICE_PDF
from tests.fixtures.variants import VARIANTS, build

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def variant_pdfs(tmp_path_factory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("variants"))


def read_variant(pdf: Path, out: Path) -> dict:
    """Tables of one variant read alone (variants share plans, which a shared run would deduplicate)."""
    raw = out / "raw"
    raw.mkdir(parents=True)
    shutil.copy(pdf, raw / pdf.name)
    run_pipeline(raw, out)
    return read_tables(out)


def expected(doc) -> dict:
    """Plan title → the plan, pillars and projects a Document promises, in canonical text."""
    return {
        normalize_text(p.title): (
            (normalize_text(p.municipality), normalize_text(p.period_text), normalize_text(p.summary),
             [normalize_text(c.replace("\n", "")) for c in p.captions]),
            [(x.number, normalize_text(x.title), x.has_more) for x in p.pillars],
            [split_name_detail(normalize_text(i)) for x in p.pillars for i in x.projects],
        )
        for p in doc.plans
    }


def actual(tables) -> dict:
    """The same shape read back from the output tables."""
    result = {}
    for plan in tables["plans"].itertuples():
        pillars = tables["pillars"][tables["pillars"].plan_id == plan.plan_id]
        projects = tables["projects"][tables["projects"].plan_id == plan.plan_id]
        result[plan.plan_title] = (
            (plan.municipality, normalize_text(plan.period_text), plan.summary, list(plan.photo_captions)),
            [(r.pillar_no, r.pillar_title, bool(r.has_more_projects)) for r in pillars.itertuples()],
            [(r.project_name, None if pd.isna(r.project_detail) else r.project_detail) for r in projects.itertuples()],
        )
    return result


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_matches_its_truth_and_golden(variant_pdfs, tmp_path, regen_golden, name):
    tables = read_variant(variant_pdfs[name], tmp_path)
    assert tables["documents"]["status"].tolist() == ["ok"]
    assert actual(tables) == expected(VARIANTS[name][0])
    check_golden(name, tables, regen_golden)


def test_golden_regeneration_flag_is_off(regen_golden):
    assert not regen_golden, "--regen-golden rewrote the golden files: review the diff, then run without the flag"


def test_every_layout_variant_of_the_issue_is_covered():
    assert sorted(VARIANTS) == sorted([
        "cid_font", "beside_photos", "photos_after_pillars", "boxed_two_per_page", "page_break", "fake_bold",
        "radicals", "numbering_paren", "numbering_fullwidth_paren", "numbering_circled", "numbering_dot",
        "numbering_dash", "numbering_fullwidth_digit", "bullets_nakaguro", "bullets_maru", "heisei_short_period",
        "reiwa_short_period", "gannen", "round_suffix_title", "older_title", "two_line_captions",
        "pillar_without_projects", "unknown_municipality",
    ])


def test_radicals_give_the_unified_name_and_its_code(variant_pdfs, tmp_path):
    plans = read_variant(variant_pdfs["radicals"], tmp_path)["plans"]
    row = plans[plans.plan_title == "青梅市地域産業活性化計画"].iloc[0]
    assert (row.municipality, row.municipality_code) == ("青梅市", "132055")


def test_unknown_municipality_is_kept_with_a_warning(variant_pdfs, tmp_path):
    tables = read_variant(variant_pdfs["unknown_municipality"], tmp_path)
    plans = tables["plans"]
    assert plans.loc[plans.municipality == "架空町", "municipality_code"].isna().all()
    assert "架空町: not one of Tokyo's municipalities, no code" in list(tables["documents"]["warnings"].iloc[0])


def test_a_libreoffice_table_layout_matches_its_truth_and_golden(tmp_path, regen_golden):
    """Another producer: LibreOffice prints each plan as a table, the photo beside the overview, each pillar
    number in a cell of its own that centres it below its title (tests/fixtures/make_libreoffice.py)."""
    tables = read_variant(LIBREOFFICE_PDF, tmp_path)
    assert tables["documents"]["status"].tolist() == ["ok"]
    assert actual(tables) == expected(LIBREOFFICE_DOCUMENT)
    check_golden("libreoffice_table", tables, regen_golden)
