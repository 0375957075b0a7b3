"""Projects: a pillar's lines split into projects, one per bulleted line or at the 、 outside parentheses, each
into its name and its final parenthesised detail; a closing 等 says the list goes on.
"""

from __future__ import annotations

import bisect
import itertools

from pipeline.core.records import Line, Project
from pipeline.core.text import CLOSE_PARENS, OPEN_PARENS, split_name_detail
from pipeline.structure.provenance import regions_of, spots_of

BULLETS = "・○◯●◆◇■□▪"


def split_top_level(text: str, sep: str = "、") -> list[tuple[int, str]]:
    """Split at separators outside parentheses, which nest: 重点分野（ICT、コンテンツ…）stays whole.
    Each item comes with its offset in `text`."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text + sep):
        if ch in OPEN_PARENS:
            depth += 1
        elif ch in CLOSE_PARENS:
            depth = max(depth - 1, 0)
        elif ch == sep and (depth == 0 or i == len(text)):
            if text[start:i].strip():
                items.append((start, text[start:i].strip()))
            start = i + 1
    return items


def strip_more_marker(items: list[str]) -> tuple[list[str], bool]:
    """A 等 closing the run, outside any parentheses, says the list goes on: drop it and report it."""
    if items and items[-1].endswith("等") and len(items[-1]) > 1:
        return items[:-1] + [items[-1][:-1].rstrip()], True
    return items, False


def parse_projects(lines: list[Line]) -> tuple[list[Project], bool]:
    """Projects of a pillar from its lines: one project per bulleted line, or one 、-joined run. Each project keeps
    the page its text starts on and the regions of the lines its text stands on."""
    items: list[tuple[list[Line], str]] = []  # the lines an item's text stands on, its text
    if any(line.norm[:1] in BULLETS for line in lines):
        for line in lines:
            if line.norm[:1] in BULLETS or not items:
                items.append(([line], line.norm.lstrip(BULLETS).strip()))
            else:
                items[-1] = (items[-1][0] + [line], items[-1][1] + line.norm)
    else:
        ends = list(itertools.accumulate(len(line.norm) for line in lines))
        for offset, item in split_top_level("".join(line.norm for line in lines)):
            first, last = (bisect.bisect_right(ends, at) for at in (offset, offset + len(item) - 1))
            items.append((lines[first : last + 1], item))
    texts, has_more = strip_more_marker([text for _, text in items])
    projects = []
    for (held, _), item in zip(items, texts, strict=True):
        name, detail = split_name_detail(item)
        projects.append(
            Project(project_name=name, project_detail=detail, page=held[0].page, regions=regions_of(spots_of(held)))
        )
    return projects, has_more
