"""Segment stage: positioned lines to plans, with their summary, photo captions, pillars and projects.

Structure comes from the page: captions are the short runs of lines set near a photo, page furniture
sits in the page margins, a pillar heading starts a line where the text before it has ended, and a
footnote is the parenthesised paragraph after the last plan. Patterns only name what a line says.
A plan read off a broken font (a badly read page, an unreadable character, a header naming no place) is
rejected with its reason, never handed on: gibberish in the tables would pass for data.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import logging
import re
import statistics
import traceback
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from pipeline import PIPELINE_VERSION
from pipeline.core.failures import OK, Failure, internal_reason, reason
from pipeline.core.fingerprint import fingerprint
from pipeline.core.layout import (
    BOX_SLACK_PT,
    CAPTION_REACH_LINES,
    COLUMN_ALIGN_EM,
    DEFAULT_LEADING_PT,
    DEFAULT_SIZE_PT,
    FURNITURE_MIN_PAGES,
    LABEL_REACH_UP_EM,
    LABEL_ROW_EM,
    LEADING_MAX_EM,
    LEADING_QUANTILE,
    MARGIN_BAND,
    MAX_CAPTION_LINES,
    MIN_READABLE_SHARE,
    PARAGRAPH_EXTRA_EM,
    PARAGRAPH_SPACING_MAX_LINES,
    PHOTO_OVERLAP_SHARE,
    SAME_SIZE_PT,
    SHORT_LINE_EM,
)
from pipeline.core.records import (
    Box,
    ExtractHeader,
    Line,
    Notice,
    Page,
    Pillar,
    Plan,
    Project,
    Segmentation,
    SegmentRecord,
)
from pipeline.core.text import (
    CANONICAL_TILDE,
    CLOSE_PARENS,
    KANJI_KANA_CLASS,
    OPEN_PARENS,
    fold_radicals,
    normalize_text,
    unreadable_character,
)

log = logging.getLogger("pipeline")

# The period's label: 計画期間, 期間, 事業期間, also letter-spaced (計 画 期 間).
PERIOD_LABEL = r"(?:計\s*画\s*|事\s*業\s*)?期\s*間"
HEADER_RE = re.compile(
    r"^「(?P<title>[^」]+)」\s*[（(](?P<municipality>[^）)]+)[）)]\s*"
    rf"(?:[【\[〔［]?\s*{PERIOD_LABEL}\s*[:：]?\s*(?P<period>[^】\]〕］]*?)\s*[】\]〕］]?)?$"
)
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
FURNITURE_RES = [
    re.compile(r"^[-(（]?\s*\d{1,3}\s*[-)）]?$"),  # page numbers: - 1 -, －1－, 1, (1)
    re.compile(r"^\d{1,3}\s*/\s*\d{1,3}$"),  # 1/3
    re.compile(r"^[〔【\[]?\s*別\s*紙\s*\d*\s*[〕】\]]?$"),  # 別紙, 〔別紙〕, 別紙1
]
TITLE_RE = re.compile(r"^[【〔\[]?承認した.*計画の概要[】〕\]]?(?:[（(][^）)]*[）)])?[】〕\]]?$")
BULLETS = "・○◯●◆◇■□▪"
# The municipality of a plan header: kanji and kana ending in 区, 市, 町 or 村, as all of Tokyo's 62 do, after an
# optional 東京都. A header naming anything else was read off a broken font, or is no plan header.
PLACE_NAME_RE = re.compile(rf"^(?:東京都)?{KANJI_KANA_CLASS}+[区市町村]$")
# Why a plan is rejected, by the code of its notice, as the file's one-line reason says it.
REJECTION_CAUSES = {"unreadable_text": "unreadable text", "not_a_place_name": "no place name in the header"}
# The role segment gives each line of a page (Segmentation.roles), which `python -m pipeline explain` draws:
# a plan's header, summary, pillar heading or project; a photo's caption; page furniture; the closing footnote;
# or unassigned, a line no plan holds (before the first plan header).
HEADER, SUMMARY, CAPTION, PILLAR, PROJECT, FURNITURE, FOOTNOTE, UNASSIGNED = ROLES = (
    "header", "summary", "caption", "pillar", "project", "furniture", "footnote", "unassigned")


def margin_band(line: Line, page_height: float) -> str | None:
    """The margin band of its page a line stands in, "top" or "bottom", where page furniture is; else None."""
    if line.top < MARGIN_BAND * page_height:
        return "top"
    if line.bottom > (1 - MARGIN_BAND) * page_height:
        return "bottom"
    return None


def is_furniture(line: Line, page_height: float) -> bool:
    """Page headers, page numbers and the document title: none of it belongs to a plan. (A running header or
    footer of any wording is found by its repetition over pages: repeated_furniture.)"""
    text = line.norm
    if TITLE_RE.match(text):
        return True
    return margin_band(line, page_height) is not None and any(r.match(text) for r in FURNITURE_RES)


def furniture_key(line: Line) -> str:
    """What a running header or footer keeps from page to page: its text without spaces, each run of digits
    masked (- 1 - and - 2 -, Page 3, 1/2, a date, a document code)."""
    return re.sub(r"\d+", "#", "".join(line.norm.split()))


def repeated_furniture(pages: list[Page]) -> set[tuple[int, int]]:
    """(page, line index) of the running headers and footers: a line in the top or bottom band whose text, digits
    masked, stands in the same band of FURNITURE_MIN_PAGES pages or more, with nothing but furniture between it and
    its page edge (the second line of a plan header wrapped alike on two pages has its first line beyond it)."""
    pages_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    for page in pages:
        for line in page.lines:
            band = margin_band(line, page.height)
            if band:
                pages_of[band, furniture_key(line)].add(page.page)
    found: set[tuple[int, int]] = set()
    for page in pages:
        bands = [margin_band(line, page.height) for line in page.lines]
        repeated = {i for i, (line, band) in enumerate(zip(page.lines, bands))
                    if band and len(pages_of[band, furniture_key(line)]) >= FURNITURE_MIN_PAGES}
        if not repeated:
            continue
        here: set[int] = set()  # repeated lines of this page found to be furniture, from the page edges inwards
        for band, order in (("top", sorted(repeated, key=lambda i: page.lines[i].top)),
                            ("bottom", sorted(repeated, key=lambda i: -page.lines[i].bottom))):
            for i in order:
                line = page.lines[i]
                if bands[i] != band:
                    continue
                beyond = (k for k, other in enumerate(page.lines) if k != i and (
                    other.bottom <= line.top + BOX_SLACK_PT if band == "top"
                    else other.top >= line.bottom - BOX_SLACK_PT))
                if all(k in here or is_furniture(page.lines[k], page.height) for k in beyond):
                    here.add(i)
        found.update((page.page, i) for i in here)
    return found


def beyond_furniture(pages: list[Page], known: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """(page, line index) of the lines of a top or bottom band that stand level with its furniture or between it
    and the page edge: a footer that sets an organisation beside or under the page number is one footer, on a
    one-page document too, where no repetition tells it."""
    found: set[tuple[int, int]] = set()
    for page in pages:
        bands = [margin_band(line, page.height) for line in page.lines]
        anchors = [(bands[i], line) for i, line in enumerate(page.lines)
                   if bands[i] and ((page.page, i) in known or is_furniture(line, page.height))]
        for i, line in enumerate(page.lines):
            if bands[i] and (page.page, i) not in known and any(
                    band == bands[i] and other is not line and (
                        line.top >= other.top - BOX_SLACK_PT if band == "bottom"
                        else line.bottom <= other.bottom + BOX_SLACK_PT)
                    for band, other in anchors):
                found.add((page.page, i))
    return found


def reads_as_heading(text: str) -> bool:
    """Whether a line reads as a plan header or a numbered pillar heading, which no caption does."""
    return bool(HEADER_RE.match(text) or read_pillar_heading(text))


@dataclass(frozen=True)
class Measures:
    """What a document's own setting says about distances: its body size, the usual gap between two lines of a
    paragraph (leading) and between two paragraphs (spacing, 0 when it has none). Measured over the whole
    document, not page by page: a word processor sets them once per document in its styles, and a page of photos
    and captions, or the last page with only the footnote, holds too few lines of body text to measure."""

    size: float
    leading: float
    spacing: float

    @property
    def paragraph_gap(self) -> float:
        """A wider gap between two lines parts two paragraphs: `paragraph_gap`'s rule, on this leading."""
        return self.leading + PARAGRAPH_EXTRA_EM * self.size

    def caption_reach(self, size: float) -> float:
        """How far from its photo a caption of this size may stand: `CAPTION_REACH_LINES` of its lines as the
        document spaces them, or its usual paragraph spacing when that is wider."""
        line = size * (1 + self.leading / self.size) if self.size > 0 else size
        return max(CAPTION_REACH_LINES * line, self.spacing)


def measure(lines: list[Line]) -> Measures:
    """The document's measures, from its lines in reading order: the median size; as leading, the lower
    `LEADING_QUANTILE` of the gaps between consecutive lines under `LEADING_MAX_EM` lines (`paragraph_gap` takes
    their median, which measures the paragraph spacing when most paragraphs are one line); as spacing, the median
    of the gaps wider than a paragraph gap and narrower than `PARAGRAPH_SPACING_MAX_LINES` lines."""
    size = statistics.median(l.size for l in lines) if lines else DEFAULT_SIZE_PT
    pairs = [(a, b.top - a.bottom) for a, b in zip(lines, lines[1:]) if a.page == b.page]
    small = sorted(gap for a, gap in pairs if 0 <= gap < LEADING_MAX_EM * a.size)
    leading = small[int(LEADING_QUANTILE * (len(small) - 1))] if small else DEFAULT_LEADING_PT
    widest = PARAGRAPH_SPACING_MAX_LINES * (size + leading)
    breaks = [gap for _, gap in pairs if leading + PARAGRAPH_EXTRA_EM * size < gap < widest]
    return Measures(size=size, leading=leading, spacing=statistics.median(breaks) if breaks else 0.0)


def find_captions(lines: list[Line], photos: list[Box], measures: Measures | None = None) -> dict[int, list[int]]:
    """Photo index → indices of its caption's lines, top to bottom.

    A caption is a run of one to `MAX_CAPTION_LINES` lines of one size set near a photo: below it, above it or
    beside it, within `Measures.caption_reach` of it, its next lines within the paragraph gap of the line before.
    Below or above, each line's middle lies over the photo (a caption centred on the photo, or on the cell or
    column that holds it, or aligned with one of its edges); beside, each line is no wider than the photo, and
    the run is all the text there. No caption line reads as a header or a pillar heading, or is running text
    (`running_text`); such a line set under or over a photo ends the search on that side. The measures default
    to these lines'.

    Each photo takes one caption and each line goes to one photo: the runs of lines smaller than the body text
    first (the body's size is the caption's only when nothing else tells them apart), then those below a photo,
    above, beside, the nearest first. So a row of photos with a row of captions under it pairs each caption with
    the photo above it, and a caption between two photos goes to the one it is set under."""
    if not photos:
        return {}
    measures = measures or measure(lines)
    running = running_text(lines, photos, measures)
    order = sorted(range(len(lines)), key=lambda i: (lines[i].top, lines[i].x0))
    runs = []
    for k, photo in enumerate(photos):
        if photo.x1 - photo.x0 <= 0 or photo.bottom - photo.top <= 0:
            continue
        for rank, side in enumerate((caption_below, caption_above, caption_beside)):
            found = side(lines, order, photo, measures, running)
            if found:
                run, gap = found
                smaller = all(lines[i].size < measures.size - SAME_SIZE_PT for i in run)
                runs.append(((not smaller, rank, gap, k), k, run))
    captions: dict[int, list[int]] = {}
    taken: set[int] = set()
    for _, k, run in sorted(runs):
        if k not in captions and not taken.intersection(run):
            captions[k] = sorted(run, key=lambda i: (lines[i].top, lines[i].x0))
            taken.update(run)
    return dict(sorted(captions.items()))


def running_text(lines: list[Line], photos: list[Box], measures: Measures) -> set[int]:
    """Indices of the lines of running text, which no caption takes: lines of the body's size (or larger) that
    fill the measure, from within `SHORT_LINE_EM` of its left edge to within as much of its right edge, and the
    lines that continue them within a paragraph gap. The measure spans the page's lines and photos."""
    if not lines:
        return set()
    left = min([l.x0 for l in lines] + [p.x0 for p in photos])
    right = max([l.x1 for l in lines] + [p.x1 for p in photos])
    body = [l.size >= measures.size - SAME_SIZE_PT for l in lines]
    fills = {i for i, l in enumerate(lines)
             if body[i] and l.x0 <= left + SHORT_LINE_EM * l.size and l.x1 >= right - SHORT_LINE_EM * l.size}
    running = set(fills)
    for i, l in enumerate(lines):
        above = [k for k, a in enumerate(lines)
                 if k != i and 0 <= l.top - a.bottom <= measures.paragraph_gap and overlap(a.x0, a.x1, l.x0, l.x1) > 0]
        if body[i] and above and max(above, key=lambda k: lines[k].bottom) in fills:
            running.add(i)
    return running


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length shared by the spans a0–a1 and b0–b1 (negative when apart)."""
    return min(a1, b1) - max(a0, b0)


def under_photo(line: Line, photo: Box) -> bool:
    """Whether a line stands in the photo's column: it shares `PHOTO_OVERLAP_SHARE` of the narrower one's width."""
    return overlap(line.x0, line.x1, photo.x0, photo.x1) >= PHOTO_OVERLAP_SHARE * min(line.x1 - line.x0,
                                                                                      photo.x1 - photo.x0)


def over_photo(line: Line, photo: Box) -> bool:
    """Whether a line's middle lies over the photo's width: centred on it, or on a cell it fills most of."""
    return photo.x0 - BOX_SLACK_PT <= (line.x0 + line.x1) / 2 <= photo.x1 + BOX_SLACK_PT


def may_caption(i: int, lines: list[Line], running: set[int]) -> bool:
    """Whether a line may belong to a caption: it is no header, no pillar heading and no running text."""
    return i not in running and not reads_as_heading(lines[i].norm)


def caption_below(lines, order, photo, measures, running) -> tuple[list[int], float] | None:
    """The caption under a photo and its distance from it: the run of lines in its column from the top down."""
    column = [i for i in order if lines[i].top >= photo.bottom - BOX_SLACK_PT and under_photo(lines[i], photo)]
    return chain(lines, column, photo, True, measures, running)


def caption_above(lines, order, photo, measures, running) -> tuple[list[int], float] | None:
    """The caption over a photo and its distance from it: the run of lines in its column from the bottom up."""
    column = sorted((i for i in order if lines[i].bottom <= photo.top + BOX_SLACK_PT and under_photo(lines[i], photo)),
                    key=lambda i: -lines[i].bottom)
    return chain(lines, column, photo, False, measures, running)


def chain(lines, column, photo, down, measures, running) -> tuple[list[int], float] | None:
    """The caption in a photo's column (its lines, nearest first) going down from its bottom or up from its top,
    and its distance from the photo; None when the first line is too far or no caption, or the run is too long."""
    run: list[int] = []
    edge, distance = (photo.bottom if down else photo.top), 0.0
    for i in column:
        line = lines[i]
        gap = line.top - edge if down else edge - line.bottom
        reach = measures.paragraph_gap if run else measures.caption_reach(line.size)
        if gap > reach + BOX_SLACK_PT or not may_caption(i, lines, running) or not over_photo(line, photo):
            break
        if run and abs(line.size - lines[run[0]].size) >= SAME_SIZE_PT:
            break
        if not run:
            distance = gap
        run.append(i)
        edge = line.bottom if down else line.top
    return (run, distance) if 0 < len(run) <= MAX_CAPTION_LINES else None


def caption_beside(lines, order, photo, measures, running) -> tuple[list[int], float] | None:
    """The caption right or left of a photo and its distance from it: every line within reach on that side and
    within the photo's height, one to `MAX_CAPTION_LINES` lines of one size, none wider than the photo, each within
    a paragraph gap of the one before, and no more text of theirs within a paragraph gap above or below them."""
    best: tuple[list[int], float] | None = None
    for right in (True, False):
        beside = {}
        for i in order:
            line = lines[i]
            middle = (line.top + line.bottom) / 2
            gap = line.x0 - photo.x1 if right else photo.x0 - line.x1
            if (photo.top - BOX_SLACK_PT <= middle <= photo.bottom + BOX_SLACK_PT and -BOX_SLACK_PT <= gap
                    and gap <= measures.caption_reach(line.size) + BOX_SLACK_PT):
                beside[i] = gap
        run = list(beside)  # top to bottom
        if not run or len(run) > MAX_CAPTION_LINES:
            continue
        first, last = lines[run[0]], lines[run[-1]]
        x0, x1 = min(lines[i].x0 for i in run), max(lines[i].x1 for i in run)
        ok = all(may_caption(i, lines, running) and lines[i].x1 - lines[i].x0 <= photo.x1 - photo.x0 + BOX_SLACK_PT
                 and abs(lines[i].size - first.size) < SAME_SIZE_PT for i in run)
        ok = ok and all(lines[b].top - lines[a].bottom <= measures.paragraph_gap for a, b in zip(run, run[1:]))
        goes_on = any(i not in beside and overlap(l.x0, l.x1, x0, x1) > 0
                      and (0 <= first.top - l.bottom <= measures.paragraph_gap
                           or 0 <= l.top - last.bottom <= measures.paragraph_gap)
                      for i, l in enumerate(lines))
        if ok and not goes_on and (best is None or min(beside.values()) < best[1]):
            best = (run, min(beside.values()))
    return best


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


def split_name_detail(item: str) -> tuple[str, str | None]:
    """Name before the item's final parenthesised group, and that group's content (None without one).
    A leading group such as (仮称) stays in the name."""
    if not item or item[-1] not in CLOSE_PARENS:
        return item, None
    depth = 0
    for i in range(len(item) - 1, -1, -1):
        ch = item[i]
        if ch in CLOSE_PARENS:
            depth += 1
        elif ch in OPEN_PARENS:
            depth -= 1
            if depth == 0:
                name = item[:i].strip()
                return (name, item[i + 1 : -1].strip()) if name else (item, None)
    return item, None


def strip_more_marker(items: list[str]) -> tuple[list[str], bool]:
    """A 等 closing the run, outside any parentheses, says the list goes on: drop it and report it."""
    if items and items[-1].endswith("等") and len(items[-1]) > 1:
        return items[:-1] + [items[-1][:-1].rstrip()], True
    return items, False


def parse_projects(lines: list[tuple[str, int]]) -> tuple[list[Project], bool]:
    """Projects of a pillar from its (text, page) lines: one project per bulleted line, or one 、-joined run.
    Each project keeps the page its text starts on."""
    if any(text[:1] in BULLETS for text, _ in lines):
        items: list[tuple[int, str]] = []  # page, text
        for text, page in lines:
            if text[:1] in BULLETS or not items:
                items.append((page, text.lstrip(BULLETS).strip()))
            else:
                items[-1] = (items[-1][0], items[-1][1] + text)
    else:
        starts = list(itertools.accumulate(len(text) for text, _ in lines))
        items = [(lines[bisect.bisect_right(starts, offset)][1], item)
                 for offset, item in split_top_level("".join(text for text, _ in lines))]
    texts, has_more = strip_more_marker([text for _, text in items])
    projects = []
    for (page, _), item in zip(items, texts):
        name, detail = split_name_detail(item)
        projects.append(Project(project_name=name, project_detail=detail, page=page))
    return projects, has_more


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
    """Whether a line is a pillar number alone, its title set apart in a tab stop or a table cell."""
    m = PILLAR_RE.match(line.norm)
    return bool(m) and not m["title"].strip()


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
        live = [l for l in out if l is not None]
        right = [(k, l) for k, l in enumerate(out) if l is not None and k != i and k not in used
                 and l.page == label.page and l.x0 >= label.x1 - BOX_SLACK_PT
                 and label.top - LABEL_REACH_UP_EM * size <= l.top <= label.top + LABEL_ROW_EM * size]
        same_row = [(k, l) for k, l in right if abs(l.top - label.top) < LABEL_ROW_EM * size]
        starts = same_row or [(k, l) for k, l in right if starts_column_block(l, live, gap)]
        if not starts:
            continue
        k, title = min(starts, key=lambda p: p[1].x0) if same_row else max(starts, key=lambda p: p[1].top)
        if is_number_label(title):
            continue
        out[k] = dataclasses.replace(title, text=f"{label.text} {title.text}", x0=label.x0,
                                     top=min(label.top, title.top))
        out[i] = None
        used.add(k)
    return [l for l in out if l is not None]


def starts_column_block(line: Line, lines: list[Line], gap: float) -> bool:
    """Whether nothing stands right above a line in its column, within a paragraph gap."""
    return not any(
        l is not line and l.page == line.page and abs(l.x0 - line.x0) < COLUMN_ALIGN_EM * l.size
        and 0 <= line.top - l.bottom <= gap for l in lines
    )


def paragraph_gap(lines: list[Line]) -> float:
    """Vertical gap above which two lines belong to different paragraphs: the usual leading plus half a line."""
    gaps = [
        b.top - a.bottom
        for a, b in zip(lines, lines[1:])
        if a.page == b.page and 0 <= b.top - a.bottom < LEADING_MAX_EM * a.size
    ]
    usual = statistics.median(gaps) if gaps else DEFAULT_LEADING_PT
    return usual + PARAGRAPH_EXTRA_EM * (statistics.median(l.size for l in lines) if lines else DEFAULT_SIZE_PT)


@dataclass
class Draft:
    """A plan being read: its header's match and lines, then the lines and (page, text) captions that follow it."""

    plan_title: str
    municipality: str
    period_text: str | None
    header_lines: list[Line]
    lines: list[Line] = field(default_factory=list)
    captions: list[tuple[int, str]] = field(default_factory=list)

    @property
    def header(self) -> Line:
        return self.header_lines[0]

    def pages(self) -> set[int]:
        """Pages holding any of the plan's text: header, body and captions."""
        return {l.page for l in self.header_lines + self.lines} | {page for page, _ in self.captions}


def document_title(pages: list[Page]) -> str | None:
    """The summary's own title, as its first title line prints it (TITLE_RE) without the brackets around it:
    where a round such as （令和6年度後期） is named. None when no line reads as the title."""
    for page in pages:
        for line in page.lines:
            if TITLE_RE.match(line.norm):
                return re.sub(r"^[【〔\[]|[】〕\]]$", "", line.norm)
    return None


def segment_document(pages: list[Page]) -> Segmentation:
    """Plans of one extracted document, the plans rejected as unreadable, and warnings about what could not be
    read as expected; besides, the role each line was given and the lines kept by default (Segmentation)."""
    lines: list[Line] = []
    captions: list[tuple[int, Box, int, str]] = []
    roles: dict[tuple[int, int], str] = {}  # (page, index in page.lines) -> role
    origin: dict[int, tuple[int, int]] = {}  # id of a line read on -> its (page, index)
    running = repeated_furniture(pages)
    running |= beyond_furniture(pages, running)
    kept_by_page = []  # per page, the (page, index) of the lines that are no furniture
    for page in pages:
        kept = []
        for i, line in enumerate(page.lines):
            furniture = (page.page, i) in running or is_furniture(line, page.height)
            roles[page.page, i] = FURNITURE if furniture else UNASSIGNED
            if not furniture:
                kept.append((page.page, i))
        kept_by_page.append(kept)
    measures = measure([page.lines[i] for page, kept in zip(pages, kept_by_page) for _, i in kept])
    for page, kept in zip(pages, kept_by_page):
        page_lines = [page.lines[i] for _, i in kept]
        photos = page.images + page.frames
        by_photo = find_captions(page_lines, photos, measures)
        caption_idx = {i for run in by_photo.values() for i in run}
        # body lines read before each line of the page: where a caption stands in reading order
        before = list(itertools.accumulate((i not in caption_idx for i in range(len(page_lines))), initial=0))
        for k, run in by_photo.items():
            text = normalize_text("".join(page_lines[i].text for i in run))
            captions.append((page.page, photos[k], len(lines) + before[run[0]], text))
        roles.update((kept[i], CAPTION) for i in caption_idx)
        origin.update((id(l), kept[i]) for i, l in enumerate(page_lines) if i not in caption_idx)
        lines.extend(l for i, l in enumerate(page_lines) if i not in caption_idx)
    place = {id(line): n for n, line in enumerate(lines)}
    gap = paragraph_gap(lines)
    sources = line_sources(lines, join_number_labels(lines, gap), origin)
    lines = [line for line, _ in sources]
    plans = split_plans(lines)
    assign_captions(plans, captions, place)
    placed = {id(l) for draft in plans for l in draft.header_lines + draft.lines}
    footnote = {id(l) for l in plans[-1].lines} if plans else set()
    if plans:
        drop_footnote(plans[-1], gap)
        footnote -= {id(l) for l in plans[-1].lines}
    shares = {page.page: page.readable_share for page in pages}
    found = Segmentation(plans=[], rejected=[], warnings=[])
    read: dict[int, tuple[str, bool]] = {}  # id of a line -> its role, and whether it was kept by default
    read.update((line_id, (FOOTNOTE, False)) for line_id in footnote)
    read.update((line_id, (UNASSIGNED, True)) for line_id in map(id, lines) if line_id not in placed)
    for draft in plans:
        plan_warnings: list[Notice] = []
        read.update((id(l), (HEADER, False)) for l in draft.header_lines)
        plan = build_plan(draft, gap, plan_warnings, read)
        rejection = reject(draft, plan, shares)
        if rejection:
            found.rejected.append(rejection)
        else:
            found.plans.append(plan)
            found.warnings += plan_warnings
    for line, keys in sources:
        role, by_default = read[id(line)]
        for key in keys:
            roles[key] = role
            if by_default:
                found.by_default.append(key)
    found.roles = roles
    found.by_default.sort()
    return found


def line_sources(lines: list[Line], joined: list[Line], origin: dict[int, tuple[int, int]]
                 ) -> list[tuple[Line, list[tuple[int, int]]]]:
    """Each line of `joined` (the body after join_number_labels) with the (page, index) of the printed lines it
    was made of, in order: a line taken over is itself, a line made by joining a number to its title takes the
    lines that went into it, each of them the made line nearest to it on its page (it holds their boxes).
    Lines are told apart by identity, never by equality: two lines printed alike compare equal."""
    made = [l for l in joined if id(l) not in origin]
    sources: dict[int, list[tuple[int, int]]] = {id(l): [origin[id(l)]] if id(l) in origin else [] for l in joined}
    taken_over = {id(l) for l in joined}
    for line in lines:
        if id(line) in taken_over:
            continue
        near = [l for l in made if l.page == line.page]
        if near:
            into = min(near, key=lambda l: (max(l.x0 - line.x1, line.x0 - l.x1, 0) ** 2
                                            + max(l.top - line.bottom, line.top - l.bottom, 0) ** 2))
            sources[id(into)].append(origin[id(line)])
    return [(l, sorted(sources[id(l)])) for l in joined]


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
        printed = HEADER_RE.match(fold_radicals(" ".join("".join(l.text for l in header_lines).split())))
        plans.append(Draft(plan_title=m["title"].strip(), municipality=m["municipality"].strip(),
                           period_text=(printed or m)["period"], header_lines=header_lines))
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


def assign_captions(plans: list[Draft], captions: list[tuple[int, Box, int, str]], place: dict[int, int]) -> None:
    """Give each plan, in photo order, the captions read after its header and before the next plan's header (a
    photo may stand beside its plan's header, its caption never before it). Each caption comes as (page, photo,
    number of body lines read before it, text); `place` maps each body line (by id) to its place in reading
    order."""
    starts = [place[id(p.header)] for p in plans]
    for page, _, read_after, text in in_photo_order(captions):
        owner = bisect.bisect_left(starts, read_after) - 1
        if owner >= 0:
            plans[owner].captions.append((page, text))


def in_photo_order(captions: list[tuple[int, Box, int, str]]) -> list[tuple[int, Box, int, str]]:
    """Captions in their photos' order: rows top to bottom, a row's photos left to right, a photo being in a row
    when it shares `PHOTO_OVERLAP_SHARE` of the shorter one's height with a photo of it (photos of one row start
    at different heights when their cells centre them)."""
    ordered: list[tuple[int, Box, int, str]] = []
    row: list[tuple[int, Box, int, str]] = []
    for caption in sorted(captions, key=lambda c: (c[0], c[1].top, c[1].x0)):
        page, photo = caption[:2]
        if row and (row[0][0] != page or not any(
                overlap(o.top, o.bottom, photo.top, photo.bottom)
                >= PHOTO_OVERLAP_SHARE * min(o.bottom - o.top, photo.bottom - photo.top) for _, o, _, _ in row)):
            ordered += sorted(row, key=lambda c: c[1].x0)
            row = []
        row.append(caption)
    return ordered + sorted(row, key=lambda c: c[1].x0)


def drop_footnote(plan: Draft, gap: float) -> None:
    """Remove the closing footnote: a parenthesised paragraph that ends the document."""
    lines = plan.lines
    for i in range(len(lines) - 1, -1, -1):
        starts_paragraph = i == 0 or lines[i].page != lines[i - 1].page or lines[i].top - lines[i - 1].bottom > gap
        if lines[i].norm[:1] in OPEN_PARENS and starts_paragraph:
            text = "".join(l.norm for l in lines[i:])
            if text[-1:] in CLOSE_PARENS and split_name_detail(text) == (text, None):
                del lines[i:]
            return


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
    starts = [starts_block(line, prev, gap, right_edge) for line, prev in zip(lines, [plan.header] + lines)]
    ended = [follows_block_end(line, prev, gap, right_edge) for line, prev in zip(lines, [plan.header] + lines)]

    def scan(accept) -> dict[int, tuple[int, str]]:
        found: dict[int, tuple[int, str]] = {}
        for i, line in enumerate(lines):
            title = accept(i, len(found) + 1) if starts[i] else None
            if title is not None:
                found[i] = (len(found) + 1, title)
        return found

    plain = scan(lambda i, expected: match_pillar(lines[i].norm, expected))
    numbers = [read_pillar_heading(line.norm) if start else None for line, start in zip(lines, starts)]

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

    return scan(vouched) if plain else plain


def plan_edges(plan: Draft) -> dict[int, float]:
    """Page → the right text edge of a plan there: the furthest right any of its lines reaches on that page, its
    header's on every page. Two plans set side by side each have their own column's edge."""
    measure = max(line.x1 for line in plan.header_lines)
    edges = {line.page: measure for line in plan.header_lines + plan.lines}
    for line in plan.lines:
        edges[line.page] = max(edges[line.page], line.x1)
    return edges


def build_plan(plan: Draft, gap: float, warnings: list[Notice], read: dict[int, tuple[str, bool]] | None = None
               ) -> Plan:
    """Summary, pillars and projects of one plan, read line by line. `read` hears, by the id of each line, the
    role it was given and whether it was kept by default (continues_across_break)."""
    read = {} if read is None else read
    summary: list[str] = []
    headings: list[tuple[int, str, int]] = []  # number, title, page
    pillar_lines: list[list[tuple[str, int]]] = []
    found = find_headings(plan, gap)
    prev = plan.header
    after_heading = True  # the line before is the plan's header or a pillar heading, which starts a block
    for i, line in enumerate(plan.lines):
        text = line.norm
        heading = i in found
        if heading:
            number, title = found[i]
            headings.append((number, title, line.page))
            pillar_lines.append([])
        elif headings:
            pillar_lines[-1].append((text, line.page))
        else:
            summary.append(text)
        read[id(line)] = (PILLAR, False) if heading else (
            PROJECT if headings else SUMMARY, not after_heading and continues_across_break(line, prev, gap))
        after_heading = heading
        prev = line
    pillars = []
    for (number, title, page), lines in zip(headings, pillar_lines):
        projects, has_more = parse_projects(lines)
        if not projects:
            warnings.append(Notice("pillar_without_projects", f"{plan.municipality}: pillar {number} has no projects",
                                   page))
        pillars.append(Pillar(pillar_no=number, pillar_title=title, page=page, has_more_projects=has_more,
                              projects=projects))
    if not pillars:
        warnings.append(Notice("no_pillars", f"{plan.municipality}: no numbered pillars found", plan.header.page))
    pages = [plan.header.page] + [l.page for l in plan.lines]
    return Plan(
        plan_title=plan.plan_title,
        municipality=plan.municipality,
        period_text=plan.period_text,
        summary="".join(summary) or None,
        photo_captions=[text for _, text in plan.captions],
        page_start=min(pages),
        page_end=max(pages),
        header_bbox=[plan.header.x0, plan.header.top, plan.header.x1, plan.header.bottom],
        pillars=pillars,
    )


def continues_across_break(line: Line, prev: Line, gap: float) -> bool:
    """Whether a summary or project line, read after another line of its block (not after the header or a pillar
    heading, which start one), is kept in that block only by default: a page break or a gap wider than the
    paragraph gap lies between them, and no heading claimed it. Such lines are counted (lines_by_default) and
    listed by `explain`, for a person to check."""
    return prev.page != line.page or line.top - prev.bottom > gap


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


def reject(draft: Draft, plan: Plan, shares: dict[int, float]) -> Notice | None:
    """Why a plan must not reach the tables, or None: a broken font's text (a page that mostly does not read,
    an unreadable character), or a header that names no place. The notice stands on the header's page."""
    page = draft.header.page
    bad_pages = sorted(p for p in draft.pages() if shares[p] < MIN_READABLE_SHARE)
    if bad_pages:
        share = shares[bad_pages[0]]
        return Notice("unreadable_text", f"plan on page {page} not kept: page {bad_pages[0]} reads badly ({share:.0%} "
                      f"of its characters readable, under {MIN_READABLE_SHARE:.0%})", page)
    for where, text in walk_texts(plan):
        character = unreadable_character(text)
        if character:
            shown = character if character.startswith("(cid:") else f"U+{ord(character):04X}"
            return Notice("unreadable_text", f"plan on page {page} not kept: unreadable character {shown} in {where}",
                          page)
    if not PLACE_NAME_RE.match(plan.municipality):
        return Notice("not_a_place_name", f"plan on page {page} not kept: （{plan.municipality}） names no place "
                      "(kanji or kana ending in 区, 市, 町 or 村)", page)
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
    causes = "; ".join(f"{REJECTION_CAUSES[code]} on page{'s' * (len(on) > 1)} {', '.join(map(str, sorted(on)))}"
                       for code, on in pages.items())
    return f"{len(rejected)} plan(s) rejected: {causes}; {Failure.unreadable_text.hint}"


def segment_record(head: ExtractHeader, pages: list[Page]) -> SegmentRecord:
    """The segment record of one extracted file: its plans and the plans it rejected, or why none were kept."""
    record = SegmentRecord(
        pipeline_version=PIPELINE_VERSION, fingerprint=fingerprint("segment"), source_sha256=head.source_sha256,
        status=head.status, error=head.error, pages=head.pages, plans=[], rejected=[], warnings=[],
        vertical_pages=[str(p.page) for p in pages if p.is_vertical],
        pages_with_unmapped_glyphs=[str(p.page) for p in pages if p.unmapped_chars], traceback=head.traceback,
    )
    if head.status == OK:
        try:
            found = segment_document(pages)
        except Exception as exc:  # noqa: BLE001 - one layout nobody foresaw costs its file, never the run
            log.debug("segmenting %s failed", head.source_sha256, exc_info=True)
            record.status = Failure.internal_error.status
            record.error = internal_reason(f"segmenting failed: {type(exc).__name__}: {exc}")
            record.traceback = "".join(traceback.format_exception(exc))
        else:
            record.plans, record.rejected, record.warnings = found.plans, found.rejected, found.warnings
            record.lines_by_default = len(found.by_default)
            record.title = document_title(pages)
            if record.rejected and not record.plans:
                record.status, record.error = Failure.unreadable_text.status, summarize_rejections(record.rejected)
            elif not record.plans:
                record.status, record.error = Failure.no_plans.status, no_plans_reason(record)
    record.warnings = head.reader_warnings + record.warnings
    return record


def no_plans_reason(record: SegmentRecord) -> str:
    """Why no plan was found, with what the pages themselves suggest."""
    detail = "no plan header 「…」（…）【計画期間:…】 was found"
    if record.pages_with_unmapped_glyphs:
        detail += (f" (page(s) {', '.join(record.pages_with_unmapped_glyphs)} draw glyphs without a Unicode map,"
                   " so their text is unreadable: get a better copy or OCR)")
    elif record.vertical_pages:
        detail += f" (page(s) {', '.join(record.vertical_pages)} are vertical writing, tategaki)"
    return reason(Failure.no_plans, detail)


def refused_record(failure: Failure, why: str) -> SegmentRecord:
    """The segment record of an entry of RAW that was never read: its status and reason, nothing else."""
    return SegmentRecord(pipeline_version=PIPELINE_VERSION, fingerprint=fingerprint("segment"), source_sha256=None,
                         status=failure.status, error=why, pages=None, plans=[], rejected=[],
                         warnings=[], vertical_pages=[], pages_with_unmapped_glyphs=[], traceback=None)
