"""PDFs printed by other producers than reportlab yield exactly the plans their generators state (issue 13).

Each fixture is an office file printed to PDF by LibreOffice and committed with its generator
(tests/fixtures/make_<name>.py, which holds its truth written by hand: `DOCUMENT`, `YEARS` and `FURNITURE`):

- writer_paragraphs: Writer, A4 portrait, a word processor's paragraph spacing, photos side by side in a table
  row with their captions in the next row about 1.7 caption sizes below, the organisation and page number in
  every footer, a plan across the page break;
- calc_grid: Calc, a ruled grid of cells, pillar numbers in a narrow cell (3社会貢献… read across the row),
  projects on the title's row or the row under it, a footer on every page;
- impress_slides: Impress, one plan a slide in free text boxes, slide numbers in the corner;
- landscape_two_columns: Writer, A4 landscape, two plans side by side in two columns, headers wrapped in them;
- writer_caption_break: Writer, as writer_paragraphs, a plan's photo row at the foot of page 1 and its caption
  row pushed by the page break to the top of page 2.

Each fixture is read alone and compared with its truth: the plans as plans_as_read gives them, the fiscal years
of each period, and no page furniture or caption inside a summary, pillar or project. A fixture the pipeline
misreads today is marked xfail(strict=True) with what it misreads: once the pipeline reads it, the test
XPASSes, which fails the suite until the marker is removed.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.test_variants import actual, expected, truth

FIXTURES = ["writer_paragraphs", "calc_grid", "impress_slides", "landscape_two_columns", "writer_caption_break"]


def generator(name: str):
    return importlib.import_module(f"tests.fixtures.make_{name}")


def xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# What the pipeline misreads today, one line a fixture and check.
MISREAD: dict[str, dict[str, str]] = {"plans": {}, "furniture": {}}


def cases(check: str) -> list:
    return [
        pytest.param(name, marks=xfail(MISREAD[check][name])) if name in MISREAD[check] else name for name in FIXTURES
    ]


@pytest.fixture(scope="session")
def tables_of(read_alone):
    """Each fixture's tables, read once for the session (conftest's read_alone)."""
    return lambda name: read_alone(generator(name).OUT)


@pytest.mark.slow
@pytest.mark.parametrize("name", cases("plans"))
def test_producer_fixture_matches_its_truth(tables_of, name):
    module = generator(name)
    tables = tables_of(name)
    assert tables["documents"]["status"].tolist() == ["ok"]
    assert actual(tables) == expected(module.DOCUMENT)
    years = {row.plan_title: (row.period_start_fy, row.period_end_fy) for row in tables["plans"].itertuples()}
    assert years == module.YEARS


@pytest.mark.slow
@pytest.mark.parametrize("name", cases("furniture"))
def test_producer_fixture_keeps_furniture_and_captions_out_of_plans(tables_of, name):
    module = generator(name)
    tables = tables_of(name)
    assert len(tables["plans"]) > 0
    foreign = list(module.FURNITURE) + [truth(c) for plan in module.DOCUMENT.plans for c in plan.captions]
    texts = (
        list(tables["plans"]["summary"])
        + list(tables["pillars"]["pillar_title"])
        + list(tables["projects"]["project_name"])
        + list(tables["projects"]["project_detail"].dropna())
    )
    assert [(text, f) for text in texts for f in foreign if f in text] == []


def test_every_producer_fixture_has_its_pdf_and_truth():
    for name in FIXTURES:
        module = generator(name)
        assert module.OUT == Path(module.__file__).with_name(f"{name}.pdf") and module.OUT.exists()
        assert set(module.YEARS) == {plan.title for plan in module.DOCUMENT.plans}
        assert 2 <= len(module.DOCUMENT.plans) <= 3


@pytest.mark.parametrize("name", FIXTURES)
def test_no_truth_holds_its_furniture_or_captions(name):
    """The furniture check above means something only if no expected text holds a caption or footer text."""
    module = generator(name)
    foreign = list(module.FURNITURE) + [truth(c) for plan in module.DOCUMENT.plans for c in plan.captions]
    texts = [
        text
        for plan in module.DOCUMENT.plans
        for text in [plan.summary]
        + [pillar.title for pillar in plan.pillars]
        + [
            part
            for pillar in plan.pillars
            for project in pillar.projects
            for part in (project.name, project.detail)
            if part
        ]
    ]
    assert [(text, f) for text in texts for f in foreign if f in text] == []
