"""Plans: the plan header 「title」（municipality）【計画期間:…】 (HEADER_RE), the line stream cut at plan headers
into plans being read (Draft, split_plans), the paragraph gap, and the closing footnote (drop_footnote).
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from itertools import pairwise

from pipeline.core.layout import DEFAULT_LEADING_PT, DEFAULT_SIZE_PT, LEADING_MAX_EM, PARAGRAPH_EXTRA_EM
from pipeline.core.records import Box, Line
from pipeline.core.text import CANONICAL_TILDE, CLOSE_PARENS, OPEN_PARENS, fold_radicals, split_name_detail

# The period's label: 計画期間, 期間, 事業期間, also letter-spaced (計 画 期 間).
PERIOD_LABEL = r"(?:計\s*画\s*|事\s*業\s*)?期\s*間"
HEADER_RE = re.compile(
    r"^「(?P<title>[^」]+)」\s*[（(](?P<municipality>[^）)]+)[）)]\s*"
    rf"(?:[【\[〔［]?\s*{PERIOD_LABEL}\s*[:：]?\s*(?P<period>[^】\]〕］]*?)\s*[】\]〕］]?)?$"
)


def paragraph_gap(lines: list[Line]) -> float:
    """Vertical gap above which two lines belong to different paragraphs: the usual leading plus half a line."""
    gaps = [
        b.top - a.bottom
        for a, b in pairwise(lines)
        if a.page == b.page and 0 <= b.top - a.bottom < LEADING_MAX_EM * a.size
    ]
    usual = statistics.median(gaps) if gaps else DEFAULT_LEADING_PT
    return usual + PARAGRAPH_EXTRA_EM * (statistics.median(line.size for line in lines) if lines else DEFAULT_SIZE_PT)


@dataclass
class Draft:
    """A plan being read: its header's match and lines, then the lines and (page, text) captions that follow it."""

    plan_title: str
    municipality: str
    period_text: str | None
    header_lines: list[Line]
    lines: list[Line] = field(default_factory=list)
    captions: list[tuple[int, str]] = field(default_factory=list)
    photo_spots: list[tuple[int, Box]] = field(default_factory=list)  # its photos and captions' lines, for its regions

    @property
    def header(self) -> Line:
        return self.header_lines[0]

    def pages(self) -> set[int]:
        """Pages holding any of the plan's text: header, body and captions."""
        return {line.page for line in self.header_lines + self.lines} | {page for page, _ in self.captions}


def split_plans(lines: list[Line]) -> list[Draft]:
    """Cut the line stream at plan header lines. A header may wrap: its period, or the end of a long
    title, on the next lines."""
    plans: list[Draft] = []
    i = 0
    while i < len(lines):
        header_lines, m = match_header(lines, i)
        if not m:
            if plans:
                plans[-1].lines.append(lines[i])
            i += 1
            continue
        printed = HEADER_RE.match(fold_radicals(" ".join("".join(line.text for line in header_lines).split())))
        plans.append(
            Draft(
                plan_title=m["title"].strip(),
                municipality=m["municipality"].strip(),
                period_text=(printed or m)["period"],
                header_lines=header_lines,
            )
        )
        i += len(header_lines)
    return plans


def match_header(lines: list[Line], i: int, most: int = 3) -> tuple[list[Line], re.Match | None]:
    """The lines from `i` that form a plan header, and its match: the first join of up to `most` lines
    that reads as a header with its period complete, else the first with a period, else the first that reads
    as a header without one. A period is incomplete while its bracket is open or it ends on a tilde (【計画期間:
    令和4年度～): the header wrapped inside it, as in a narrow column."""
    if not lines[i].norm.startswith("「"):
        return [], None
    best: tuple[list[Line], re.Match | None] = ([], None)
    with_period: tuple[list[Line], re.Match | None] = ([], None)
    text = ""
    for k in range(i, min(i + most, len(lines))):
        text += lines[k].norm
        m = HEADER_RE.match(text)
        if m and m["period"]:
            if period_complete(text, m):
                return lines[i : k + 1], m
            with_period = with_period if with_period[1] else (lines[i : k + 1], m)
        if m and not best[1]:
            best = (lines[i : k + 1], m)
    return with_period if with_period[1] else best


def period_complete(text: str, m: re.Match) -> bool:
    """Whether a header's period is complete: its bracket, if it opened one, closed, and no tilde left open."""
    rest = text[m.end("municipality") :]
    opened = any(bracket in rest for bracket in "【[〔［")
    return not m["period"].endswith(CANONICAL_TILDE) and (not opened or rest.rstrip()[-1:] in "】]〕］")


def drop_footnote(plan: Draft, gap: float) -> None:
    """Remove the closing footnote: a parenthesised paragraph that ends the document."""
    lines = plan.lines
    for i in range(len(lines) - 1, -1, -1):
        starts_paragraph = i == 0 or lines[i].page != lines[i - 1].page or lines[i].top - lines[i - 1].bottom > gap
        if lines[i].norm[:1] in OPEN_PARENS and starts_paragraph:
            text = "".join(line.norm for line in lines[i:])
            if text[-1:] in CLOSE_PARENS and split_name_detail(text) == (text, None):
                del lines[i:]
            return
