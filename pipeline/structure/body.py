"""A plan's body: its lines read one by one into summary, pillars and projects (build_plan), each line's role
heard, and whether it was kept only by default (continues_across_break).
"""

from __future__ import annotations

from pipeline.core.records import Line, Notice, Pillar, Plan
from pipeline.structure.headings import find_headings
from pipeline.structure.plans import Draft
from pipeline.structure.projects import parse_projects
from pipeline.structure.provenance import regions_of, spots_of
from pipeline.structure.roles import PILLAR, PROJECT, SUMMARY


def build_plan(
    plan: Draft, gap: float, warnings: list[Notice], read: dict[int, tuple[str, bool]] | None = None
) -> Plan:
    """Summary, pillars and projects of one plan, read line by line. `read` hears, by the id of each line, the
    role it was given and whether it was kept by default (continues_across_break)."""
    read = {} if read is None else read
    summary: list[str] = []
    headings: list[int] = []  # index in plan.lines of each pillar heading
    pillar_lines: list[list[Line]] = []
    found = find_headings(plan, gap)
    prev = plan.header
    after_heading = True  # the line before is the plan's header or a pillar heading, which starts a block
    for i, line in enumerate(plan.lines):
        text = line.norm
        heading = i in found
        if heading:
            headings.append(i)
            pillar_lines.append([])
        elif headings:
            pillar_lines[-1].append(line)
        else:
            summary.append(text)
        read[id(line)] = (
            (PILLAR, False)
            if heading
            else (PROJECT if headings else SUMMARY, not after_heading and continues_across_break(line, prev, gap))
        )
        after_heading = heading
        prev = line
    pillars = []
    for i, lines in zip(headings, pillar_lines, strict=True):
        (number, title), heading = found[i], plan.lines[i]
        projects, has_more = parse_projects(lines)
        if not projects:
            warnings.append(
                Notice("pillar_without_projects", f"{plan.municipality}: pillar {number} has no projects", heading.page)
            )
        pillars.append(
            Pillar(
                pillar_no=number,
                pillar_title=title,
                page=heading.page,
                has_more_projects=has_more,
                projects=projects,
                regions=regions_of(spots_of([heading, *lines])),
            )
        )
    if not pillars:
        warnings.append(Notice("no_pillars", f"{plan.municipality}: no numbered pillars found", plan.header.page))
    pages = [plan.header.page] + [line.page for line in plan.lines]
    return Plan(
        plan_title=plan.plan_title,
        municipality=plan.municipality,
        period_text=plan.period_text,
        summary="".join(summary) or None,
        photo_captions=[text for _, text in plan.captions],
        page_start=min(pages),
        page_end=max(pages),
        regions=regions_of(spots_of(plan.header_lines + plan.lines) + plan.photo_spots),
        pillars=pillars,
        doubts=[],
    )


def continues_across_break(line: Line, prev: Line, gap: float) -> bool:
    """Whether a summary or project line, read after another line of its block (not after the header or a pillar
    heading, which start one), is kept in that block only by default: a page break or a gap wider than the
    paragraph gap lies between them, and no heading claimed it. Such lines are counted (lines_by_default) and
    listed by `explain`, for a person to check."""
    return prev.page != line.page or line.top - prev.bottom > gap
