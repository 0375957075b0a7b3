"""Reading order and columns: a page's lines from its rows' fragments, its closed cells read whole and the photos
and rulings that take room among them, read column by column wherever gutters part them."""

from __future__ import annotations

import bisect
import statistics
from collections import defaultdict
from itertools import pairwise

from pipeline.core.layout import BOX_SLACK_PT, COLUMN_GAP_EM, MIN_RULING_EM, SHORT_LINE_EM
from pipeline.core.records import Line
from pipeline.reading.cells import CellFinder, Ruling, cell_borders
from pipeline.reading.chars import group_rows, make_line, split_row
from pipeline.reading.subpages import holds, within
from pipeline.reading.vertical import vertical_lines


class Item:
    """A unit of reading order: a fragment of a row, a closed cell read whole, or a box that only takes room on
    the page (a photo, a ruling). `key` orders items that share no gutter: row by row, then left to right."""

    __slots__ = ("x0", "top", "x1", "bottom", "key", "lines")

    def __init__(self, x0: float, top: float, x1: float, bottom: float, key: tuple, lines: list[Line]) -> None:
        self.x0, self.top, self.x1, self.bottom, self.key, self.lines = x0, top, x1, bottom, key, lines


def build_lines(
    chars: list[dict],
    page_no: int,
    vertical: bool,
    rulings: list[Ruling] = (),
    images: list[dict] = (),
    subpages: list[dict] = (),
) -> list[Line]:
    """Positioned text lines of one page, in reading order: the page's columns one after the other, each top to
    bottom; within a column, rows top to bottom and the fragments of a row left to right; the text of a closed
    cell (a grid's cell, a drawn box) read whole where it stands, its wrapped lines joined. A sheet of pages
    (`subpages`: their frames, subpages.find_subpages) is read page after page, each on its own, the sheet's own
    print around them before (what stands above them all) and after."""
    if vertical:
        return vertical_lines(chars, page_no)
    if not chars:
        return []
    if subpages:
        return sheet_lines(chars, page_no, rulings, images, subpages)
    size = max(statistics.median(c["size"] for c in chars), 1.0)
    gutter = COLUMN_GAP_EM * size
    across, down = cell_borders(rulings, MIN_RULING_EM * size)
    locate = CellFinder(across, down)
    members: dict[tuple | None, list[dict]] = defaultdict(list)
    if across and down:
        for c in chars:
            members[locate((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2)].append(c)
    else:
        members[None] = chars
    photos: dict[tuple | None, list[Item]] = defaultdict(list)
    for im in images:
        if im["x1"] > im["x0"] and im["bottom"] > im["top"]:
            box = (im["x0"], im["top"], im["x1"], im["bottom"])
            cell = locate((im["x0"] + im["x1"]) / 2, (im["top"] + im["bottom"]) / 2)
            photos[cell if cell in members else None].append(room(box))
    items = with_photos(fragment_items(members.pop(None, []), page_no)[0], photos.pop(None, []))
    items += [room((x0, y, x1, y)) for y, x0, x1 in across]
    for cell, inside in members.items():
        x0, top, x1, bottom = cell
        items.append(
            Item(x0, top, x1, bottom, (top, 0, x0), cell_lines(inside, cell, photos.get(cell, []), page_no, gutter))
        )
    return [line for item in reading_order(items, gutter) for line in item.lines]


def sheet_lines(
    chars: list[dict], page_no: int, rulings: list[Ruling], images: list[dict], subpages: list[dict]
) -> list[Line]:
    """The lines of a sheet of pages: each page's in turn, read as a page of its own from what lies within its
    frame (its border is no cell of its own), then the rest of the sheet, what stands above every page first."""

    def frame_around(x0: float, top: float, x1: float, bottom: float) -> int | None:
        return next((k for k, frame in enumerate(subpages) if within(frame, x0, top, x1, bottom)), None)

    char_in = [
        next(
            (k for k, f in enumerate(subpages) if holds(f, (c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2)), None
        )
        for c in chars
    ]
    ruling_in = [frame_around(*r) for r in rulings]
    image_in = [frame_around(im["x0"], im["top"], im["x1"], im["bottom"]) for im in images]

    def read(k: int | None) -> list[Line]:
        """The lines of frame k, or of the rest of the sheet (None)."""
        return build_lines(
            [c for c, at in zip(chars, char_in, strict=True) if at == k],
            page_no,
            False,
            [r for r, at in zip(rulings, ruling_in, strict=True) if at == k],
            [im for im, at in zip(images, image_in, strict=True) if at == k],
        )

    lines = [line for k in range(len(subpages)) for line in read(k)]
    rest = read(None)
    first = min(frame["top"] for frame in subpages)
    return [line for line in rest if line.bottom <= first] + lines + [line for line in rest if line.bottom > first]


def room(box: tuple[float, float, float, float]) -> Item:
    """An item without text that only takes room: a photo, a ruling."""
    return Item(*box, (box[1], 0, box[0]), [])


def with_photos(text: list[Item], photos: list[Item]) -> list[Item]:
    """Text items and the photos that take room among them: not an image that lies under text (a background, a
    watermark), which a fragment of text overlaps (its vertical middle within the image's height, more than
    BOX_SLACK_PT across)."""
    return text + [
        im
        for im in photos
        if not any(
            im.top < (it.top + it.bottom) / 2 < im.bottom and min(it.x1, im.x1) - max(it.x0, im.x0) > BOX_SLACK_PT
            for it in text
        )
    ]


def fragment_items(chars: list[dict], page_no: int) -> tuple[list[Item], bool]:
    """The fragments of the rows of some characters as items, and whether every row is a single fragment."""
    items = []
    single = True
    for k, row in enumerate(group_rows(chars)):
        fragments = split_row(row)
        single = single and len(fragments) == 1
        for frag in fragments:
            line = make_line(frag, page_no)
            if line.text:
                items.append(Item(line.x0, line.top, line.x1, line.bottom, (row[0]["top"], k, line.x0), [line]))
    return items, single


def cell_lines(chars: list[dict], cell: tuple, photos: list[Item], page_no: int, gutter: float) -> list[Line]:
    """The lines of one closed cell in reading order; one line when they are a single paragraph wrapped in the
    cell: every line but the last reaches the cell's right text edge (its right side less the padding its text
    keeps on the left), within SHORT_LINE_EM."""
    items, single = fragment_items(chars, page_no)
    photos = with_photos(items, photos)[len(items) :]
    lines = [line for item in reading_order(items + photos, gutter) for line in item.lines]
    if not single or photos or len(lines) < 2:
        return lines
    x0, _, x1, _ = cell
    edge = x1 - max(min(line.x0 for line in lines) - x0, 0.0)
    if any(line.x1 < edge - SHORT_LINE_EM * line.size for line in lines[:-1]):
        return lines
    return [make_line(chars, page_no, "".join(line.text for line in lines))]


def reading_order(items: list[Item], gutter: float) -> list[Item]:
    """Items in reading order.

    Where a gutter (a vertical strip at least `gutter` wide that no item crosses) runs through all of them, the
    columns it parts are read one after the other, left to right. Otherwise the items are cut into bands at the
    horizontal gaps no item crosses. A band with items on both sides of a gutter (two columns of text side by
    side, a photo beside its text) starts a section; the bands below it join the section while they keep its
    gutters, then the bands right above it that keep them too (a column's first line set higher than its
    neighbour's); a section is read by its columns. Every other band is read row by row, left to right: a title
    centred over two columns, or a page header alone in a corner, runs down no gutter."""
    if len(items) < 2:
        return list(items)
    spans = merge_spans([(it.x0, it.x1) for it in items], gutter)
    if len(spans) > 1:
        return [x for column in in_columns(items, spans) for x in reading_order(column, gutter)]
    bands = split_bands(items)
    if len(bands) == 1:
        return sorted(items, key=lambda it: it.key)
    extents = [[(it.x0, it.x1) for it in band] for band in bands]
    out: list[Item] = []
    pending: list[int] = []  # bands above the next section, read on their own unless it takes them
    i = 0
    while i < len(bands):
        spans = merge_spans(extents[i], gutter)
        if len(spans) < 2:
            pending.append(i)
            i += 1
            continue
        section = [i]
        i += 1
        while i < len(bands):
            merged = merge_spans(spans + extents[i], gutter)
            if len(merged) < 2 or not keeps_gutters(spans, merged):
                break
            section.append(i)
            spans = merged
            i += 1
        while pending:
            merged = merge_spans(spans + extents[pending[-1]], gutter)
            if not keeps_gutters(spans, merged):
                break
            section.insert(0, pending.pop())
            spans = merged
        out += [it for k in pending for it in sorted(bands[k], key=lambda it: it.key)]
        out += reading_order([it for k in section for it in bands[k]], gutter)
        pending = []
    return out + [it for k in pending for it in sorted(bands[k], key=lambda it: it.key)]


def in_columns(items: list[Item], spans: list[tuple[float, float]]) -> list[list[Item]]:
    """Items sorted into the columns `spans` marks out (each item lies within one of them)."""
    starts = [x0 for x0, _ in spans]
    columns: list[list[Item]] = [[] for _ in spans]
    for it in items:
        columns[max(bisect.bisect_right(starts, it.x0) - 1, 0)].append(it)
    return columns


def keeps_gutters(old: list[tuple[float, float]], new: list[tuple[float, float]]) -> bool:
    """Whether every gutter between the `old` spans still has one of the `new` spans' gutters within it."""
    gaps = [(a[1], b[0]) for a, b in pairwise(new)]
    return all(any(lo >= a[1] and hi <= b[0] for lo, hi in gaps) for a, b in pairwise(old))


def merge_spans(spans: list[tuple[float, float]], gutter: float) -> list[tuple[float, float]]:
    """Horizontal extents merged wherever less than `gutter` apart, left to right: more than one means the
    items they come from stand in columns."""
    merged: list[tuple[float, float]] = []
    for x0, x1 in sorted(spans):
        if merged and x0 - merged[-1][1] < gutter:
            merged[-1] = (merged[-1][0], max(merged[-1][1], x1))
        else:
            merged.append((x0, x1))
    return merged


def split_bands(items: list[Item]) -> list[list[Item]]:
    """Items cut at every horizontal gap that none of them crosses, top to bottom."""
    bands: list[list[Item]] = []
    bottom = float("-inf")
    for it in sorted(items, key=lambda it: it.top):
        if bands and it.top <= bottom:
            bands[-1].append(it)
            bottom = max(bottom, it.bottom)
        else:
            bands.append([it])
            bottom = it.bottom
    return bands
