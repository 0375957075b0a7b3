"""Pillar headings: what a numbered heading reads as (read_pillar_heading), which lines of a plan head its
pillars (find_headings: the next number at the start of a block), lone pillar numbers joined to their titles
(join_number_labels), and whether a line reads as a plan header or a pillar heading (reads_as_heading).
"""

from __future__ import annotations

import dataclasses
import re
from itertools import pairwise

from pipeline.core.layout import BOX_SLACK_PT, COLUMN_ALIGN_EM, LABEL_REACH_UP_EM, LABEL_ROW_EM, SHORT_LINE_EM
from pipeline.core.records import Line
from pipeline.structure.enumerators import CODE_POINT, first_ordinal, read_marker
from pipeline.structure.plans import HEADER_RE, Draft

PILLAR_RE = re.compile(
    r"^(?:-\s*)?(?:[(（]\s*(?P<paren>\d{1,2})\s*[)）]|(?P<circled>[\u2460-\u2473])|(?P<plain>\d{1,2})(?:\s*[.．、])?)"
    r"\s*(?P<title>.*)$"
)
# A bare number followed by one of these is a date or quantity in running text, not a pillar number; but for the
# digits, only where the number's position does not vouch for a heading (`find_headings`).
_DIGITS = tuple("0123456789")
_NOT_A_TITLE_START = tuple("年月日%％歳か箇ヶ～") + _DIGITS
# Counters that, glued to a bare number, make it a quantity: 1つの, 3社, 10万人.
_COUNTERS = "つ社人名回件万千億倍"


def read_pillar_heading(text: str, vouched: bool = False) -> tuple[int, str] | None:
    """(number, title) of a line that reads as a numbered heading, or None.

    Only a bare number can be running text: a date or quantity (2020年度, 30年度に, 5Gの) never heads a pillar,
    nor does a number glued to a counter (1つの, 3社が, 10万人), unless its position `vouched` for a heading (see
    `find_headings`): then a counter or a date character may begin the title (3社会貢献…, 4人材…). A number glued
    to another digit or to a Latin letter or digit is never a heading number."""
    m = PILLAR_RE.match(text)
    if not m or not m["title"].strip():
        return None
    title = m["title"].strip()
    if m["circled"]:
        return ord(m["circled"]) - 0x2460 + 1, title
    if m["paren"]:
        return int(m["paren"]), title
    after = text[m.end("plain") : m.end("plain") + 1]
    glued = not (after.isspace() or after in ".．、")
    if title.startswith(_DIGITS) or glued and after.isascii() and after.isalnum():
        return None
    if not vouched and (title.startswith(_NOT_A_TITLE_START) or glued and after in _COUNTERS):
        return None
    return int(m["plain"]), title


def match_pillar(text: str, expected: int, vouched: bool = False) -> str | None:
    """Title of a pillar heading numbered `expected`, or None when the line is no such heading."""
    heading = read_pillar_heading(text, vouched)
    return heading[1] if heading and heading[0] == expected else None


def is_number_label(line: Line) -> bool:
    """Whether a line is a pillar number alone (or another marker: enumerators), its title set apart in a tab stop
    or a table cell."""
    m = PILLAR_RE.match(line.norm)
    if m:
        return not m["title"].strip()
    marker = read_marker(line.norm)
    return marker is not None and not marker.title


def join_number_labels(lines: list[Line], gap: float) -> list[Line]:
    """Put each lone pillar number in front of its title: the fragment to its right on the same row, or, in a
    table cell that centres the number on its row, the nearest line to its right above it that starts a block
    (the line above it in its column is a paragraph gap away).

    A title must read as text: when the fragment a number would take is itself a lone number (a row of figures
    in a table, 1 2 3), the number has no title and both stay as they are. Each line is used once: a label
    joined to its title is gone, and a title that took a label takes no other. Lines are tracked by their
    index, never by equality, since two lines printed alike compare equal."""
    out: list[Line | None] = list(lines)  # None: a label joined to its title
    used: set[int] = set()  # indices of titles that took a label
    for i, label in enumerate(lines):
        if i in used or not is_number_label(label):
            continue
        size = label.size
        live = [line for line in out if line is not None]
        right = [
            (k, line)
            for k, line in enumerate(out)
            if line is not None
            and k != i
            and k not in used
            and line.page == label.page
            and line.x0 >= label.x1 - BOX_SLACK_PT
            and label.top - LABEL_REACH_UP_EM * size <= line.top <= label.top + LABEL_ROW_EM * size
        ]
        same_row = [(k, line) for k, line in right if abs(line.top - label.top) < LABEL_ROW_EM * size]
        starts = same_row or [(k, line) for k, line in right if starts_column_block(line, live, gap)]
        if not starts:
            continue
        k, title = min(starts, key=lambda p: p[1].x0) if same_row else max(starts, key=lambda p: p[1].top)
        if is_number_label(title):
            continue
        out[k] = dataclasses.replace(
            title, text=f"{label.text} {title.text}", x0=label.x0, top=min(label.top, title.top)
        )
        out[i] = None
        used.add(k)
    return [line for line in out if line is not None]


def starts_column_block(line: Line, lines: list[Line], gap: float) -> bool:
    """Whether nothing stands right above a line in its column, within a paragraph gap."""
    return not any(
        other is not line
        and other.page == line.page
        and abs(other.x0 - line.x0) < COLUMN_ALIGN_EM * other.size
        and 0 <= line.top - other.bottom <= gap
        for other in lines
    )


def find_headings(plan: Draft, gap: float) -> dict[int, tuple[int, str]]:
    """Index in `plan.lines` → (number, title) of each pillar heading: the next number in sequence at the start
    of a block (`starts_block`, measured against the plan's own right edge, `plan_edges`).

    Text patterns only confirm what the position says. A number the patterns doubt (glued to a counter or a date
    character: 3社会貢献…) heads a pillar when its position vouches for it: the text before it has ended
    (`follows_block_end`: a short last line of a wrapped paragraph does not qualify), it is the next number, no
    later line of the plan reads plainly as that number, and its left edge is aligned (within COLUMN_ALIGN_EM)
    with a heading the patterns accept. The same text inside running text (3社が参加 on a wrapped line, or
    indented off the pillar numbers) stays text."""
    lines = plan.lines
    right_edge = plan_edges(plan)
    starts = [starts_block(line, prev, gap, right_edge) for prev, line in pairwise([plan.header, *lines])]
    ended = [follows_block_end(line, prev, gap, right_edge) for prev, line in pairwise([plan.header, *lines])]

    def scan(accept) -> dict[int, tuple[int, str]]:
        found: dict[int, tuple[int, str]] = {}
        for i in range(len(lines)):
            title = accept(i, len(found) + 1) if starts[i] else None
            if title is not None:
                found[i] = (len(found) + 1, title)
        return found

    plain = scan(lambda i, expected: match_pillar(lines[i].norm, expected))
    numbers = [read_pillar_heading(line.norm) if start else None for line, start in zip(lines, starts, strict=True)]

    def vouched(i: int, expected: int) -> str | None:
        title = match_pillar(lines[i].norm, expected)
        if title is not None:
            return title
        line = lines[i]
        if not ended[i] or any(heading and heading[0] == expected for heading in numbers[i + 1 :]):
            return None
        if not any(k != i and abs(lines[k].x0 - line.x0) < COLUMN_ALIGN_EM * line.size for k in plain):
            return None
        return match_pillar(line.norm, expected, vouched=True)

    arabic = scan(vouched) if plain else plain
    other = other_series(lines, starts)
    return other if other and (not arabic or min(other) < min(arabic)) else arabic


def other_series(lines: list[Line], starts: list[bool]) -> dict[int, tuple[int, str]]:
    """Index in `lines` → (number, title) of each pillar heading numbered in a series other than arabic numbers
    (enumerators.read_marker): for each kind and shape, the run from the series' first item on of block starts
    carrying the next marker of it, each at the first one's indent (within COLUMN_ALIGN_EM). The run that
    starts first in the plan wins (a list's items may be numbered in another style under its pillars), then the
    longer. A run of one is no series: a single marker in running text (ア、…) heads nothing."""
    markers = {i: marker for i, line in enumerate(lines) if starts[i] and (marker := read_marker(line.norm))}
    runs = []
    for kind in dict.fromkeys(kind for marker in markers.values() for kind, _ in marker.readings):
        found: dict[int, tuple[int, str]] = {}
        expected, indent = None, None
        for i, marker in markers.items():
            ordinal = dict(marker.readings).get(kind)
            if ordinal is None or not marker.title:
                continue
            if expected is None and first_ordinal(kind, ordinal):
                expected, indent = ordinal, lines[i]
            if ordinal == expected and abs(lines[i].x0 - indent.x0) < COLUMN_ALIGN_EM * indent.size:
                found[i] = (len(found) + 1, marker.title)
                expected += 1
        if len(found) > 1:
            runs.append(found)
    return min(runs, key=lambda run: (min(run), -len(run)), default={})


def plan_edges(plan: Draft) -> dict[int, float]:
    """Page → the right text edge of a plan there: the furthest right any of its lines reaches on that page, its
    header's on every page. Two plans set side by side each have their own column's edge."""
    measure = max(line.x1 for line in plan.header_lines)
    edges = {line.page: measure for line in plan.header_lines + plan.lines}
    for line in plan.lines:
        edges[line.page] = max(edges[line.page], line.x1)
    return edges


def starts_block(line: Line, prev: Line, gap: float, right_edge: dict[int, float]) -> bool:
    """Whether a line begins a new block rather than continuing a wrapped one: the text before it has ended
    (`follows_block_end`), or the line itself is short."""
    edge = right_edge.get(line.page, line.x1)
    return follows_block_end(line, prev, gap, right_edge) or line.x1 < edge - SHORT_LINE_EM * line.size


def follows_block_end(line: Line, prev: Line, gap: float, right_edge: dict[int, float]) -> bool:
    """Whether the text before a line has ended: the line before it ended short of the right edge, or a gap or
    page break lies between them."""
    if prev.page != line.page or line.top - prev.bottom > gap:
        return True
    return prev.x1 < right_edge.get(line.page, line.x1) - SHORT_LINE_EM * prev.size


def reads_as_heading(text: str) -> bool:
    """Whether a line reads as a plan header or a numbered pillar heading, which no caption does. A character of
    a numbered series glued to the text after it (㈱…, Ⅱ期…) reads as a heading only in a series (find_headings),
    never alone."""
    marker = read_marker(text)
    return bool(
        HEADER_RE.match(text)
        or read_pillar_heading(text)
        or (marker and any(kind != CODE_POINT for kind, _ in marker.readings))
    )
