"""Rejection: a plan read off a broken font (a badly read page, an unreadable character, a header naming no
place) is rejected with its reason (reject), and a file's rejected plans come to one line (summarize_rejections).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from pipeline.core.failures import Failure
from pipeline.core.layout import MIN_READABLE_SHARE
from pipeline.core.records import Notice, Plan
from pipeline.core.text import KANJI_KANA_CLASS, unreadable_character
from pipeline.structure.plans import Draft

# The municipality of a plan header: kanji and kana ending in 区, 市, 町 or 村, as all of Tokyo's 62 do, after an
# optional 東京都. A header naming anything else was read off a broken font, or is no plan header.
PLACE_NAME_RE = re.compile(rf"^(?:東京都)?{KANJI_KANA_CLASS}+[区市町村]$")
# Why a plan is rejected, by the code of its notice, as the file's one-line reason says it.
REJECTION_CAUSES = {"unreadable_text": "unreadable text", "not_a_place_name": "no place name in the header"}


def reject(draft: Draft, plan: Plan, shares: dict[int, float]) -> Notice | None:
    """Why a plan must not reach the tables, or None: a broken font's text (a page that mostly does not read,
    an unreadable character), or a header that names no place. The notice stands on the header's page."""
    page = draft.header.page
    bad_pages = sorted(p for p in draft.pages() if shares[p] < MIN_READABLE_SHARE)
    if bad_pages:
        share = shares[bad_pages[0]]
        return Notice(
            "unreadable_text",
            f"plan on page {page} not kept: page {bad_pages[0]} reads badly ({share:.0%} "
            f"of its characters readable, under {MIN_READABLE_SHARE:.0%})",
            page,
        )
    for where, text in walk_texts(plan):
        character = unreadable_character(text)
        if character:
            shown = character if character.startswith("(cid:") else f"U+{ord(character):04X}"
            return Notice(
                "unreadable_text", f"plan on page {page} not kept: unreadable character {shown} in {where}", page
            )
    if not PLACE_NAME_RE.match(plan.municipality):
        return Notice(
            "not_a_place_name",
            f"plan on page {page} not kept: （{plan.municipality}） names no place "
            "(kanji or kana ending in 区, 市, 町 or 村)",
            page,
        )
    return None


def walk_texts(plan: Plan) -> Iterator[tuple[str, str]]:
    """Every text of a plan that goes into the tables, with where it stands in the plan."""
    yield "its title", plan.plan_title
    yield "its municipality", plan.municipality
    yield "its period", plan.period_text or ""
    yield "its summary", plan.summary or ""
    for caption in plan.photo_captions:
        yield "a photo caption", caption
    for pillar in plan.pillars:
        yield f"the title of pillar {pillar.pillar_no}", pillar.pillar_title
        for project in pillar.projects:
            yield f"a project of pillar {pillar.pillar_no}", f"{project.project_name} {project.project_detail or ''}"


def summarize_rejections(rejected: list[Notice]) -> str:
    """The one line a file's rejected plans come to: how many, why, on which pages, and what to do."""
    pages: dict[str, set[int]] = defaultdict(set)
    for notice in rejected:
        pages[notice.code].add(notice.page)
    causes = "; ".join(
        f"{REJECTION_CAUSES[code]} on page{'s' * (len(on) > 1)} {', '.join(map(str, sorted(on)))}"
        for code, on in pages.items()
    )
    return f"{len(rejected)} plan(s) rejected: {causes}; {Failure.unreadable_text.hint}"
