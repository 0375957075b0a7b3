"""Whether a plan needs a person's check, and why (plans.needs_review, review_reasons, review_notes): the doubts
segment found on the page (Plan.doubts, pipeline.structure.doubts) and those its rows alone tell: a project name
that ends in a bare number or runs far longer than the plan's others without a detail, pillar numbers out of
sequence, a pillar without projects or none at all, a municipality or a period that could not be read. Every reason
is a code of pipeline/data/review_reasons.csv, which says what it means and what to check.

Calibrated on the fixtures with each layout rule switched off in turn (tests/test_review.py, make eval-review):
every plan a switch-off misreads must be flagged, and at most one in ten of the plans read right.
"""

from __future__ import annotations

import re
import statistics

from pipeline.core.records import Notice, Plan
from pipeline.core.reference import review_reasons

# A bare number closing a project name with no detail: one to three digits after a character that is no digit nor
# a decimal mark. A slide or page number glued to the text reads so; a year (2030) or a counted thing (3社, 第2期)
# does not, having four digits or a counter after it.
BARE_NUMBER_RE = re.compile(r"(?<![0-9.,])[0-9]{1,3}$")
# A project name with no detail this many times longer than the median name of its plan, and at least
# LONG_NAME_MIN_CHARS long, reads as several projects or a paragraph run together: the sample's names run from 7 to
# 31 characters around a median of 13, none of them three times its plan's median; a footnote read into the last
# project (the calibration's footnote switch-off) runs past 60.
LONG_NAME_TIMES = 3.0
LONG_NAME_MIN_CHARS = 40


def review_plan(plan: Plan, municipality_code: str | None, start_fy: int | None) -> list[Notice]:
    """Every reason to check a plan, as Notices whose codes are review reasons, in the order found."""
    found = list(plan.doubts)
    numbers = [pillar.pillar_no for pillar in plan.pillars]
    if not numbers:
        found.append(Notice("no_pillars", "no numbered pillar", plan.page_start))
    elif numbers != list(range(1, len(numbers) + 1)):
        found.append(
            Notice("pillar_numbering_gap", f"pillars numbered {', '.join(map(str, numbers))}", plan.pillars[0].page)
        )
    names = [project.project_name for pillar in plan.pillars for project in pillar.projects]
    usual = statistics.median(len(name) for name in names) if names else 0
    for pillar in plan.pillars:
        if not pillar.projects:
            found.append(Notice("pillar_without_projects", f"pillar {pillar.pillar_no} has no projects", pillar.page))
        for no, project in enumerate(pillar.projects, start=1):
            if project.project_detail is not None:
                continue
            name, where = project.project_name, f"project {pillar.pillar_no}-{no}"
            if BARE_NUMBER_RE.search(name):
                found.append(Notice("project_ends_in_number", f"{where} ends in a number: …{name[-20:]}", project.page))
            if len(name) >= max(LONG_NAME_MIN_CHARS, LONG_NAME_TIMES * usual):
                found.append(
                    Notice(
                        "project_much_longer",
                        f"{where} runs {len(name)} characters (the plan's median {usual:g}): {name[:30]}…",
                        project.page,
                    )
                )
    if municipality_code is None:
        found.append(Notice("municipality_unknown", f"{plan.municipality} is not one of Tokyo's", plan.page_start))
    if start_fy is None:
        found.append(Notice("period_not_read", f"period not read: {plan.period_text!r}", plan.page_start))
    return found


def add_review_reason(row: dict, code: str, note: str) -> None:
    """Flag a plans row for one more reason, found after its rows were made (a correction applied to it)."""
    order = list(review_reasons())
    row["needs_review"] = True
    row["review_reasons"] = sorted({*row["review_reasons"], code}, key=order.index)
    row["review_notes"] = [*row["review_notes"], note]


def review_columns(found: list[Notice]) -> dict:
    """A plan's needs_review, review_reasons (each code once, in the vocabulary's order) and review_notes (what was
    found, with its page)."""
    order = list(review_reasons())
    unknown = {notice.code for notice in found} - set(order)
    if unknown:
        raise ValueError(f"review reason(s) not in review_reasons.csv: {', '.join(sorted(unknown))}")
    return {
        "needs_review": bool(found),
        "review_reasons": sorted({notice.code for notice in found}, key=order.index),
        "review_notes": [f"p{notice.page}: {notice.message}" for notice in found],
    }
