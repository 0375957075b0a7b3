"""Calibrate plans.needs_review: read every fixture with each layout rule switched off in turn, and count the plans
the switch-off misreads that are flagged, and the plans read right that are flagged.

    python -m tools.eval_review [--repo DIR]        (make eval-review)

A fixture's plans read with every rule on are its right reading (tests/test_variants.py and test_producers.py hold
each to its truth, written by hand). A plan read with a rule off is misread when no plan of the right reading has
its header, or the one that has differs in any field a person reads (title, municipality, period, summary,
captions, pillars, projects). A plan of the right reading that no longer comes out is lost: its text went into a
neighbour, which is then misread, or nowhere. tests/test_review.py holds the two figures to their bounds: every
misread plan flagged, at most one plan read right in ten flagged.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from pipeline.core.records import Plan
from pipeline.extract import extract_pdf
from pipeline.normalize import municipality_code, parse_period
from pipeline.review import review_plan
from pipeline.segment import segment_document
from tools.repo import repository


def _none(*_args, **_kwargs) -> None:
    return None


def _empty_set(*_args, **_kwargs) -> set:
    return set()


def _one_span(spans, _gutter):
    return [(min(x0 for x0, _ in spans), max(x1 for _, x1 in spans))]


# Each layout rule, and what switching it off replaces: (module attribute, stand-in). A rule is switched off where
# the stage that applies it looks it up, so that every other rule runs as always.
SWITCHES: dict[str, list[tuple[str, Callable]]] = {
    "captions": [("pipeline.segment.find_captions", lambda *_a, **_k: {})],
    "furniture": [
        ("pipeline.segment.is_furniture", lambda *_a: False),
        ("pipeline.segment.repeated_furniture", _empty_set),
        ("pipeline.segment.beyond_furniture", _empty_set),
    ],
    "stray tokens": [("pipeline.segment.stray_tokens", _empty_set)],
    "number labels": [("pipeline.segment.join_number_labels", lambda lines, _gap: lines)],
    "footnote": [("pipeline.segment.drop_footnote", _none)],
    "grid cells": [("pipeline.reading.order.cell_borders", lambda *_a: ([], []))],
    "columns": [("pipeline.reading.order.merge_spans", _one_span)],
    "sub-pages": [("pipeline.extract.find_subpages", lambda *_a: [])],
    "photo frames": [("pipeline.extract.photo_frames", lambda *_a: [])],
    "picture regions": [("pipeline.extract.find_regions", _none)],
}
# The switches that act while a page is read: the fixture is extracted again under them (the others reuse its pages).
EXTRACT_SWITCHES = {"grid cells", "columns", "sub-pages", "photo frames", "picture regions"}


@contextmanager
def switched_off(rule: str | None) -> Iterator[None]:
    """The pipeline with `rule` switched off (None: every rule on)."""
    with ExitStack() as stack:
        for target, stand_in in SWITCHES.get(rule, []) if rule else []:
            stack.enter_context(mock.patch(target, stand_in))
        yield


def reading(plan: Plan) -> tuple:
    """What a person reads of a plan: every field but where it stands and the doubts."""
    return (
        plan.plan_title,
        plan.municipality,
        plan.period_text,
        plan.summary,
        tuple(plan.photo_captions),
        tuple(
            (
                p.pillar_no,
                p.pillar_title,
                p.has_more_projects,
                tuple((x.project_name, x.project_detail) for x in p.projects),
            )
            for p in plan.pillars
        ),
    )


def review_codes(plan: Plan) -> set[str]:
    """The plan's review reasons, as its plans row gives them (pipeline.review): none when it is not flagged."""
    start_fy, _ = parse_period(plan.period_text)
    return {notice.code for notice in review_plan(plan, municipality_code(plan.municipality), start_fy)}


@dataclass
class Figures:
    """The calibration's counts, and each misread plan left unflagged and each right plan flagged, named."""

    misread: int = 0
    misread_flagged: int = 0
    lost: int = 0
    right: int = 0
    right_flagged: int = 0
    misread_by_rule: dict[str, int] = field(default_factory=dict)
    reasons_by_rule: dict[str, Counter] = field(default_factory=dict)  # the reasons the misread plans were flagged for
    lost_plans: list[str] = field(default_factory=list)
    unflagged_misreads: list[str] = field(default_factory=list)
    flagged_right: list[str] = field(default_factory=list)


def plans_of(pdf: Path, rule: str | None, pages=None) -> tuple[list[Plan], list]:
    """The plans of a PDF read with `rule` off, and its pages (read again only for a rule of reading pages)."""
    with switched_off(rule):
        if pages is None or rule in EXTRACT_SWITCHES:
            pages = extract_pdf(pdf)
        return segment_document(pages).plans, pages


def calibrate(fixtures: dict[str, Path]) -> Figures:
    """The figures over `fixtures` (name → PDF), every rule switched off in turn."""
    figures = Figures()
    for name, pdf in sorted(fixtures.items()):
        right, pages = plans_of(pdf, None)
        for plan in right:
            figures.right += 1
            if review_codes(plan):
                figures.right_flagged += 1
                figures.flagged_right.append(f"{name}: {plan.municipality}")
        by_header = {(p.municipality, p.plan_title): reading(p) for p in right}
        for rule in SWITCHES:
            read, _ = plans_of(pdf, rule, pages)
            headers = {(p.municipality, p.plan_title) for p in read}
            lost = [header for header in by_header if header not in headers]
            figures.lost += len(lost)
            figures.lost_plans += [f"{name} without {rule}: {municipality}" for municipality, _ in lost]
            for plan in read:
                if by_header.get((plan.municipality, plan.plan_title)) == reading(plan):
                    continue
                figures.misread += 1
                figures.misread_by_rule[rule] = figures.misread_by_rule.get(rule, 0) + 1
                codes = review_codes(plan)
                figures.reasons_by_rule.setdefault(rule, Counter()).update(codes)
                if codes:
                    figures.misread_flagged += 1
                else:
                    figures.unflagged_misreads.append(f"{name} without {rule}: {plan.municipality}")
    return figures


def fixture_pdfs(repo: Path, scratch: Path) -> dict[str, Path]:
    """Every fixture with plans: the layout variants drawn into `scratch`, the producers' and the bundled sample; not
    the image-only scans (tests/fixtures/make_image_only.py), whose plans are all flagged (ocr_text) however they
    read, so that they calibrate nothing, and which each switch of extract would read by OCR again."""
    from tests.fixtures.make_image_only import GRID, PHOTOS
    from tests.fixtures.variants import build

    scans = {GRID.name, PHOTOS.name}
    pdfs = {path.stem: path for path in sorted((repo / "tests" / "fixtures").glob("*.pdf")) if path.name not in scans}
    pdfs |= {path.stem: path for path in sorted((repo / "raw").glob("*.pdf"))}
    return pdfs | build(scratch)


def main(argv: list[str]) -> int:
    repo = repository(
        "python -m tools.eval_review",
        "Read every fixture with each layout rule switched off in turn: how many misread plans are flagged for "
        "review, and how many plans read right.",
        argv,
        needs=("tests/fixtures",),
    )
    with tempfile.TemporaryDirectory() as scratch:
        figures = calibrate(fixture_pdfs(repo, Path(scratch)))
    print(
        f"misread plans flagged: {figures.misread_flagged} of {figures.misread}"
        f" ({figures.lost} plan(s) lost into a neighbour or dropped)"
    )
    print(f"plans read right flagged: {figures.right_flagged} of {figures.right}")
    for rule in SWITCHES:
        reasons = ", ".join(f"{code} {n}" for code, n in figures.reasons_by_rule.get(rule, Counter()).most_common())
        print(
            f"  without {rule}: {figures.misread_by_rule.get(rule, 0)} plan(s) misread, flagged for: {reasons or '-'}"
        )
    for line in figures.unflagged_misreads:
        print(f"  misread, not flagged: {line}")
    for line in figures.lost_plans:
        print(f"  lost: {line}")
    for line in figures.flagged_right:
        print(f"  read right, flagged: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
