"""Photo captions: the document's measures (body size, leading, paragraph spacing), the short runs of lines set
near a photo that caption it (find_captions), and the plan each caption belongs to (assign_captions).
"""

from __future__ import annotations

import bisect
import statistics
from dataclasses import dataclass, replace
from itertools import pairwise

from pipeline.core.layout import (
    BOX_SLACK_PT,
    CAPTION_REACH_LINES,
    DEFAULT_LEADING_PT,
    DEFAULT_SIZE_PT,
    LEADING_MAX_EM,
    LEADING_QUANTILE,
    MAX_CAPTION_LINES,
    PARAGRAPH_EXTRA_EM,
    PARAGRAPH_SPACING_MAX_LINES,
    PHOTO_OVERLAP_SHARE,
    SAME_SIZE_PT,
    SHORT_LINE_EM,
)
from pipeline.core.records import Box, Line, Page, is_scan_image
from pipeline.structure.headings import reads_as_heading
from pipeline.structure.plans import Draft


@dataclass(frozen=True)
class Caption:
    """A caption read: the page and photo it captions, the number of body lines read before it (where it stands in
    reading order), its text, and the places of its photo and lines (page, box), for its plan's regions."""

    page: int
    photo: Box
    read_after: int
    text: str
    spots: list[tuple[int, Box | Line]]


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
    size = statistics.median(line.size for line in lines) if lines else DEFAULT_SIZE_PT
    pairs = [(a, b.top - a.bottom) for a, b in pairwise(lines) if a.page == b.page]
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


def photos_of(page: Page) -> list[Box]:
    """A page's photos: its images but one under (nearly) the whole page (a scan's), its empty vector frames and
    the picture regions found in its pixels."""
    return [im for im in page.images if not is_scan_image(im, page)] + page.frames + page.regions


def photos_at_foot(lines: list[Line], photos: list[Box], captioned: set[int]) -> list[Box]:
    """The photos of a page that stand at its foot without a caption: no line of the page (but the captions found)
    stands below their top. A word processor may push their caption row to the top of the next page (lift)."""
    return [
        photo
        for k, photo in enumerate(photos)
        if k not in captioned and all(line.top < photo.top - BOX_SLACK_PT for line in lines)
    ]


def lift(photos: list[Box], lines: list[Line], measures: Measures) -> list[Box]:
    """The photos at the foot of the page before (photos_at_foot), set right above this page's first line, a
    leading apart, so that the caption row a page break carried away is found under them as under any photo."""
    if not photos or not lines:
        return []
    bottom = min(line.top for line in lines) - measures.leading
    return [replace(p, top=bottom - (p.bottom - p.top), bottom=bottom) for p in photos]


def running_text(lines: list[Line], photos: list[Box], measures: Measures) -> set[int]:
    """Indices of the lines of running text, which no caption takes: lines of the body's size (or larger) that
    fill the measure, from within `SHORT_LINE_EM` of its left edge to within as much of its right edge, and the
    lines that continue them within a paragraph gap. The measure spans the page's lines and photos."""
    if not lines:
        return set()
    left = min([line.x0 for line in lines] + [p.x0 for p in photos])
    right = max([line.x1 for line in lines] + [p.x1 for p in photos])
    body = [line.size >= measures.size - SAME_SIZE_PT for line in lines]
    fills = {
        i
        for i, line in enumerate(lines)
        if body[i] and line.x0 <= left + SHORT_LINE_EM * line.size and line.x1 >= right - SHORT_LINE_EM * line.size
    }
    running = set(fills)
    for i, line in enumerate(lines):
        above = [
            k
            for k, a in enumerate(lines)
            if k != i
            and 0 <= line.top - a.bottom <= measures.paragraph_gap
            and overlap(a.x0, a.x1, line.x0, line.x1) > 0
        ]
        if body[i] and above and max(above, key=lambda k: lines[k].bottom) in fills:
            running.add(i)
    return running


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    """Length shared by the spans a0–a1 and b0–b1 (negative when apart)."""
    return min(a1, b1) - max(a0, b0)


def under_photo(line: Line, photo: Box) -> bool:
    """Whether a line stands in the photo's column: it shares `PHOTO_OVERLAP_SHARE` of the narrower one's width."""
    return overlap(line.x0, line.x1, photo.x0, photo.x1) >= PHOTO_OVERLAP_SHARE * min(
        line.x1 - line.x0, photo.x1 - photo.x0
    )


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
    column = sorted(
        (i for i in order if lines[i].bottom <= photo.top + BOX_SLACK_PT and under_photo(lines[i], photo)),
        key=lambda i: -lines[i].bottom,
    )
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
            if (
                photo.top - BOX_SLACK_PT <= middle <= photo.bottom + BOX_SLACK_PT
                and -BOX_SLACK_PT <= gap
                and gap <= measures.caption_reach(line.size) + BOX_SLACK_PT
            ):
                beside[i] = gap
        run = list(beside)  # top to bottom
        if not run or len(run) > MAX_CAPTION_LINES:
            continue
        first, last = lines[run[0]], lines[run[-1]]
        x0, x1 = min(lines[i].x0 for i in run), max(lines[i].x1 for i in run)
        ok = all(
            may_caption(i, lines, running)
            and lines[i].x1 - lines[i].x0 <= photo.x1 - photo.x0 + BOX_SLACK_PT
            and abs(lines[i].size - first.size) < SAME_SIZE_PT
            for i in run
        )
        ok = ok and all(lines[b].top - lines[a].bottom <= measures.paragraph_gap for a, b in pairwise(run))
        goes_on = any(
            i not in beside
            and overlap(other.x0, other.x1, x0, x1) > 0
            and (
                0 <= first.top - other.bottom <= measures.paragraph_gap
                or 0 <= other.top - last.bottom <= measures.paragraph_gap
            )
            for i, other in enumerate(lines)
        )
        if ok and not goes_on and (best is None or min(beside.values()) < best[1]):
            best = (run, min(beside.values()))
    return best


def assign_captions(plans: list[Draft], captions: list[Caption], place: dict[int, int]) -> None:
    """Give each plan, in photo order, the captions read after its header and before the next plan's header (a
    photo may stand beside its plan's header, its caption never before it), and the places of their photos and
    lines. `place` maps each body line (by id) to its place in reading order."""
    starts = [place[id(p.header)] for p in plans]
    for caption in in_photo_order(captions):
        owner = bisect.bisect_left(starts, caption.read_after) - 1
        if owner >= 0:
            plans[owner].captions.append((caption.page, caption.text))
            plans[owner].photo_spots += caption.spots


def in_photo_order(captions: list[Caption]) -> list[Caption]:
    """Captions in their photos' order: rows top to bottom, a row's photos left to right, a photo being in a row
    when it shares `PHOTO_OVERLAP_SHARE` of the shorter one's height with a photo of it (photos of one row start
    at different heights when their cells centre them)."""
    ordered: list[Caption] = []
    row: list[Caption] = []
    for caption in sorted(captions, key=lambda c: (c.page, c.photo.top, c.photo.x0)):
        photo = caption.photo
        if row and (
            row[0].page != caption.page
            or not any(
                overlap(o.photo.top, o.photo.bottom, photo.top, photo.bottom)
                >= PHOTO_OVERLAP_SHARE * min(o.photo.bottom - o.photo.top, photo.bottom - photo.top)
                for o in row
            )
        ):
            ordered += sorted(row, key=lambda c: c.photo.x0)
            row = []
        row.append(caption)
    return ordered + sorted(row, key=lambda c: c.photo.x0)
