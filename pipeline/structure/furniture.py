"""Page furniture, which belongs to no plan: page numbers and 別紙 marks in a page's top or bottom band,
running headers and footers found by their repetition over pages, what stands beyond them in their band, and
the document's title line (TITLE_RE), whose text is also the document's own title (document_title).
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import pairwise

from pipeline.core.layout import (
    BOX_SLACK_PT,
    COLUMN_ALIGN_EM,
    FURNITURE_MIN_PAGES,
    MARGIN_BAND,
    SAME_SIZE_PT,
    SHEET_LABEL_MAX_CHARS,
    STRAY_MAX_CHARS,
)
from pipeline.core.records import Line, Page
from pipeline.core.text import is_cjk

FURNITURE_RES = [
    re.compile(r"^[-(（]?\s*\d{1,3}\s*[-)）]?$"),  # page numbers: - 1 -, －1－, 1, (1)
    re.compile(r"^\d{1,3}\s*/\s*\d{1,3}$"),  # 1/3
    re.compile(r"^[〔【\[]?\s*別\s*紙\s*\d*\s*[〕】\]]?$"),  # 別紙, 〔別紙〕, 別紙1
]
TITLE_RE = re.compile(r"^[【〔\[]?承認した.*計画の概要[】〕\]]?(?:[（(][^）)]*[）)])?[】〕\]]?$")


def region(line: Line, page: Page) -> tuple[int | None, float, float]:
    """Where a line stands for furniture: the page it holds (its index in Page.subpages) with its top and height,
    on a sheet of pages; else the page itself (None)."""
    middle = (line.top + line.bottom) / 2
    for k, frame in enumerate(page.subpages):
        if frame.x0 <= line.x0 and line.x1 <= frame.x1 and frame.top <= middle <= frame.bottom:
            return k, frame.top, frame.bottom - frame.top
    return None, 0.0, page.height


def margin_band(line: Line, page: Page) -> str | None:
    """The margin band a line stands in, of its page or of the page it is part of on a sheet of pages, "top" or
    "bottom", where page furniture is; else None."""
    _, top, height = region(line, page)
    if line.top < top + MARGIN_BAND * height:
        return "top"
    if line.bottom > top + (1 - MARGIN_BAND) * height:
        return "bottom"
    return None


def is_furniture(line: Line, page: Page) -> bool:
    """Page headers, page numbers and the document title: none of it belongs to a plan; on a sheet of pages, the
    sheet's own print around them (short labels: dates, page numbers, 1 / 2). (A running header or footer of any
    wording is found by its repetition over pages: repeated_furniture.)"""
    text = line.norm
    if TITLE_RE.match(text):
        return True
    if page.subpages and region(line, page)[0] is None and len(text) <= SHEET_LABEL_MAX_CHARS:
        return True
    return margin_band(line, page) is not None and any(r.match(text) for r in FURNITURE_RES)


def furniture_key(line: Line) -> str:
    """What a running header or footer keeps from page to page: its text without spaces, each run of digits
    masked (- 1 - and - 2 -, Page 3, 1/2, a date, a document code)."""
    return re.sub(r"\d+", "#", "".join(line.norm.split()))


def repeated_furniture(pages: list[Page]) -> set[tuple[int, int]]:
    """(page, line index) of the running headers and footers: a line in the top or bottom band whose text, digits
    masked, stands in the same band of FURNITURE_MIN_PAGES pages or more, with nothing but furniture between it and
    its page edge (the second line of a plan header wrapped alike on two pages has its first line beyond it). On a
    sheet of pages, each page it holds counts as a page, with its own bands and edges."""
    pages_of: dict[tuple[str, str], set[tuple[int, int | None]]] = defaultdict(set)
    for page in pages:
        for line in page.lines:
            band = margin_band(line, page)
            if band:
                pages_of[band, furniture_key(line)].add((page.page, region(line, page)[0]))
    found: set[tuple[int, int]] = set()
    for page in pages:
        bands = [margin_band(line, page) for line in page.lines]
        regions = [region(line, page)[0] for line in page.lines]
        repeated = {
            i
            for i, (line, band) in enumerate(zip(page.lines, bands, strict=True))
            if band and len(pages_of[band, furniture_key(line)]) >= FURNITURE_MIN_PAGES
        }
        if not repeated:
            continue
        here: set[int] = set()  # repeated lines of this page found to be furniture, from the page edges inwards
        for band, order in (
            ("top", sorted(repeated, key=lambda i: page.lines[i].top)),
            ("bottom", sorted(repeated, key=lambda i: -page.lines[i].bottom)),
        ):
            for i in order:
                line = page.lines[i]
                if bands[i] != band:
                    continue
                beyond = (
                    k
                    for k, other in enumerate(page.lines)
                    if k != i
                    and regions[k] == regions[i]
                    and (
                        other.bottom <= line.top + BOX_SLACK_PT
                        if band == "top"
                        else other.top >= line.bottom - BOX_SLACK_PT
                    )
                )
                if all(k in here or is_furniture(page.lines[k], page) for k in beyond):
                    here.add(i)
        found.update((page.page, i) for i in here)
    return found


def beyond_furniture(pages: list[Page], known: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """(page, line index) of the lines of a top or bottom band that stand level with its furniture or between it
    and the page edge: a footer that sets an organisation beside or under the page number is one footer, on a
    one-page document too, where no repetition tells it."""
    found: set[tuple[int, int]] = set()
    for page in pages:
        bands = [margin_band(line, page) for line in page.lines]
        regions = [region(line, page)[0] for line in page.lines]
        anchors = [
            (bands[i], regions[i], line)
            for i, line in enumerate(page.lines)
            if bands[i] and ((page.page, i) in known or is_furniture(line, page))
        ]
        for i, line in enumerate(page.lines):
            if (
                bands[i]
                and (page.page, i) not in known
                and any(
                    band == bands[i]
                    and where == regions[i]
                    and other is not line
                    and (
                        line.top >= other.top - BOX_SLACK_PT
                        if band == "bottom"
                        else line.bottom <= other.bottom + BOX_SLACK_PT
                    )
                    for band, where, other in anchors
                )
            ):
                found.add((page.page, i))
    return found


def stray_tokens(lines: list[Line]) -> set[int]:
    """Indices of the lines that are stray tokens (STRAY_MAX_CHARS): short, without Japanese, and set apart from
    the line before them on their page, by their left edge (COLUMN_ALIGN_EM) or their size (SAME_SIZE_PT)."""
    return {
        i
        for i, (prev, line) in enumerate(pairwise(lines), start=1)
        if len(line.norm) <= STRAY_MAX_CHARS
        and not any(is_cjk(ch) for ch in line.norm)
        and prev.page == line.page
        and (abs(line.x0 - prev.x0) > COLUMN_ALIGN_EM * prev.size or abs(line.size - prev.size) > SAME_SIZE_PT)
    }


def document_title(pages: list[Page]) -> str | None:
    """The summary's own title, as its first title line prints it (TITLE_RE) without the brackets around it:
    where a round such as （令和6年度後期） is named. None when no line reads as the title."""
    for page in pages:
        for line in page.lines:
            if TITLE_RE.match(line.norm):
                return re.sub(r"^[【〔\[]|[】〕\]]$", "", line.norm)
    return None
