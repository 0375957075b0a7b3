"""Extract stage: one pass over each page's characters, grouped into positioned text lines.

Structure is read later from geometry, so every line keeps its page, bounding box, font size and
font name, and every page keeps its photos (raster images, and empty vector frames) and flags on the quality of
its text.
Besides pdfplumber/pdfminer and pypdfium2, only the standard library and the pipeline's own light modules
(records, text, layout) are imported here: workers stay small, with no pandas or pyarrow.
"""

from __future__ import annotations

import bisect
import io
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
from pdfminer.layout import LTChar, LTContainer, LTCurve, LTImage, LTRect
from pdfplumber.page import fix_fontname_bytes

from pipeline.core.layout import (
    BOX_SLACK_PT,
    COLUMN_GAP_EM,
    DEDUPE_TOLERANCE_PT,
    HORIZONTAL_STEP_RIGHT_EM,
    MIN_READABLE_SHARE,
    MIN_RULING_EM,
    MIN_VERTICAL_STEPS,
    PHOTO_MAX_ASPECT,
    PHOTO_MIN_SIDE_SHARE,
    ROW_LOOKBACK,
    SHORT_LINE_EM,
    VERTICAL_STEP_ACROSS_EM,
    VERTICAL_STEP_DOWN_EM,
    WORD_GAP_EM,
)
from pipeline.core.records import Box, Line, Page
from pipeline.core.text import is_cjk, is_unmapped


def readable_share(chars: list[dict]) -> float:
    """Share of characters that are printable ASCII or Japanese script: low for (cid:N) runs and for the
    Latin-1 gibberish a reader makes of a font without a Unicode map."""
    if not chars:
        return 0.0
    ok = sum(1 for c in chars if not is_unmapped(c["text"]) and all(" " <= ch <= "~" or is_cjk(ch) for ch in c["text"]))
    return ok / len(chars)


def group_rows(chars: list[dict]) -> list[list[dict]]:
    """Cluster characters into rows: a character joins a recent row its vertical middle falls in."""
    rows: list[list[dict]] = []
    bounds: list[tuple[float, float]] = []  # top, bottom of each row's first character
    for c in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        mid = (c["top"] + c["bottom"]) / 2
        home = next(
            (k for k in range(len(rows) - 1, max(len(rows) - 1 - ROW_LOOKBACK, -1), -1) if bounds[k][0] <= mid <= bounds[k][1]),
            None,
        )
        if home is None:
            rows.append([c])
            bounds.append((c["top"], c["bottom"]))
        else:
            rows[home].append(c)
    return rows


def split_row(row: list[dict]) -> list[list[dict]]:
    """Split one row into fragments at column gaps, so side-by-side columns stay apart."""
    row = sorted(row, key=lambda c: c["x0"])
    fragments = [[row[0]]]
    for prev, c in zip(row, row[1:]):
        size = max(prev["size"], c["size"], 1.0)
        if c["x0"] - prev["x1"] > COLUMN_GAP_EM * size:
            fragments.append([c])
        else:
            fragments[-1].append(c)
    return fragments


def join_chars(chars: list[dict]) -> str:
    """Text of a fragment: Japanese joined without spaces, a space only between spaced Latin words."""
    out: list[str] = []
    prev = None
    for c in chars:
        text = c["text"]
        if prev is not None and out and not out[-1].endswith(" ") and text != " ":
            gap = c["x0"] - prev["x1"]
            if gap > WORD_GAP_EM * max(c["size"], 1.0) and not (is_cjk(prev["text"][-1]) or is_cjk(text[0])):
                out.append(" ")
        out.append(text)
        prev = c
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def make_line(chars: list[dict], page_no: int, text: str | None = None) -> Line:
    """A positioned line from its characters (their text joined as a horizontal line unless given)."""
    sizes = [round(c["size"], 1) for c in chars if c["text"].strip()] or [round(chars[0]["size"], 1)]
    fonts = Counter(c.get("fontname", "") for c in chars)
    return Line(
        page=page_no,
        text=join_chars(chars) if text is None else text,
        x0=round(min(c["x0"] for c in chars), 2),
        top=round(min(c["top"] for c in chars), 2),
        x1=round(max(c["x1"] for c in chars), 2),
        bottom=round(max(c["bottom"] for c in chars), 2),
        size=statistics.median(sizes),
        fontname=fonts.most_common(1)[0][0],
    )


def is_rotated(c: dict) -> bool:
    """Whether a glyph is turned by more than 45 degrees (its text matrix leans more up than across)."""
    a, b = c["matrix"][0], c["matrix"][1]
    return abs(b) > abs(a)


def is_vertical(chars: list[dict]) -> bool:
    """Whether the page is written top to bottom: rotated glyphs, or upright glyphs that advance downwards."""
    if not chars:
        return False
    if sum(1 for c in chars if is_rotated(c)) > len(chars) / 2:
        return True
    down = right = 0
    for a, b in zip(chars, chars[1:]):
        size = max(a["size"], 1.0)
        dx, dy = b["x0"] - a["x0"], b["top"] - a["top"]
        low, high = VERTICAL_STEP_DOWN_EM
        if abs(dx) < VERTICAL_STEP_ACROSS_EM * size and low * size < dy < high * size:
            down += 1
        elif abs(dy) < VERTICAL_STEP_ACROSS_EM * size and 0 < dx < HORIZONTAL_STEP_RIGHT_EM * size:
            right += 1
    return down >= MIN_VERTICAL_STEPS and down > right


def vertical_lines(chars: list[dict], page_no: int) -> list[Line]:
    """Lines of a vertical page: columns read right to left, each top to bottom; for glyphs turned
    counter-clockwise (rotated Latin text), left to right, each bottom to top."""
    cols: list[list[dict]] = []
    for c in sorted(chars, key=lambda c: -c["x1"]):
        mid = (c["x0"] + c["x1"]) / 2
        for col in cols:
            if col[0]["x0"] - BOX_SLACK_PT <= mid <= col[0]["x1"] + BOX_SLACK_PT:
                col.append(c)
                break
        else:
            cols.append([c])
    upwards = sum(1 for c in chars if c["matrix"][1] > 0 and is_rotated(c)) > len(chars) / 2
    if upwards:
        cols.reverse()  # turned counter-clockwise, the next line lies to the right
    lines = []
    for col in cols:
        col.sort(key=lambda c: -c["bottom"] if upwards else c["top"])
        lines.append(make_line(col, page_no, re.sub(r" {2,}", " ", "".join(c["text"] for c in col)).strip()))
    return [line for line in lines if line.text]


# A ruling: a straight line drawn on the page (a cell border, a side of a box), as (x0, top, x1, bottom) in page
# coordinates; a vertical ruling has x0 == x1, a horizontal one top == bottom.
Ruling = tuple[float, float, float, float]


class Item:
    """A unit of reading order: a fragment of a row, a closed cell read whole, or a box that only takes room on
    the page (a photo, a ruling). `key` orders items that share no gutter: row by row, then left to right."""

    __slots__ = ("x0", "top", "x1", "bottom", "key", "lines")

    def __init__(self, x0: float, top: float, x1: float, bottom: float, key: tuple, lines: list[Line]) -> None:
        self.x0, self.top, self.x1, self.bottom, self.key, self.lines = x0, top, x1, bottom, key, lines


def build_lines(chars: list[dict], page_no: int, vertical: bool, rulings: list[Ruling] = (),
                images: list[dict] = ()) -> list[Line]:
    """Positioned text lines of one page, in reading order: the page's columns one after the other, each top to
    bottom; within a column, rows top to bottom and the fragments of a row left to right; the text of a closed
    cell (a grid's cell, a drawn box) read whole where it stands, its wrapped lines joined."""
    if vertical:
        return vertical_lines(chars, page_no)
    if not chars:
        return []
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
        items.append(Item(x0, top, x1, bottom, (top, 0, x0), cell_lines(inside, cell, photos.get(cell, []), page_no,
                                                                          gutter)))
    return [line for item in reading_order(items, gutter) for line in item.lines]


def room(box: tuple[float, float, float, float]) -> Item:
    """An item without text that only takes room: a photo, a ruling."""
    return Item(*box, (box[1], 0, box[0]), [])


def with_photos(text: list[Item], photos: list[Item]) -> list[Item]:
    """Text items and the photos that take room among them: not an image that lies under text (a background, a
    watermark), which a fragment of text overlaps (its vertical middle within the image's height, more than
    BOX_SLACK_PT across)."""
    return text + [im for im in photos if not any(
        im.top < (it.top + it.bottom) / 2 < im.bottom and min(it.x1, im.x1) - max(it.x0, im.x0) > BOX_SLACK_PT
        for it in text)]


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
    photos = with_photos(items, photos)[len(items):]
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
    gaps = [(a[1], b[0]) for a, b in zip(new, new[1:])]
    return all(any(lo >= a[1] and hi <= b[0] for lo, hi in gaps) for a, b in zip(old, old[1:]))


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


def cell_borders(rulings: list[Ruling], shortest: float) -> tuple[list[tuple], list[tuple]]:
    """Horizontal rulings as (y, x0, x1) and vertical ones as (x, top, bottom), sorted by position: collinear
    pieces joined (a grid drawn cell by cell), then only those at least `shortest` long whose both ends meet a
    ruling across them, as the sides of a cell do (an underline or a stroke on its own borders nothing)."""
    horizontal = join_collinear([(top, x0, x1) for x0, top, x1, bottom in rulings if top == bottom], shortest)
    vertical = join_collinear([(x0, top, bottom) for x0, top, x1, bottom in rulings if x0 == x1 and top != bottom],
                              shortest)

    def meets(point: tuple[float, float], across: list[tuple]) -> bool:
        along, at = point
        k = bisect.bisect_left(across, (along - BOX_SLACK_PT,))
        while k < len(across) and across[k][0] <= along + BOX_SLACK_PT:
            if across[k][1] - BOX_SLACK_PT <= at <= across[k][2] + BOX_SLACK_PT:
                return True
            k += 1
        return False

    return ([h for h in horizontal if meets((h[1], h[0]), vertical) and meets((h[2], h[0]), vertical)],
            [v for v in vertical if meets((v[1], v[0]), horizontal) and meets((v[2], v[0]), horizontal)])


def join_collinear(segments: list[tuple[float, float, float]], shortest: float) -> list[tuple[float, float, float]]:
    """(position, start, end) segments joined where they lie on one line (positions chained within BOX_SLACK_PT)
    and touch or overlap; those shorter than `shortest` dropped."""
    joined: list[tuple[float, float, float]] = []
    if not segments:
        return joined
    for line in chain_clusters(list(range(len(segments))), lambda i: segments[i][0], BOX_SLACK_PT):
        pos = statistics.fmean(segments[i][0] for i in line)
        pieces: list[list[float]] = []
        for start, end in sorted(segments[i][1:] for i in line):
            if pieces and start <= pieces[-1][1] + BOX_SLACK_PT:
                pieces[-1][1] = max(pieces[-1][1], end)
            else:
                pieces.append([start, end])
        joined += [(pos, start, end) for start, end in pieces if end - start >= shortest]
    return sorted(joined)


class CellFinder:
    """The closed cell a point lies in: the rectangle of the nearest rulings left, right, above and below it,
    when each of the four runs the whole length of its side (as in a grid or a drawn box); None elsewhere.
    Characters come cell by cell, so the last cell found is tried first when no ruling runs inside it."""

    def __init__(self, horizontal: list[tuple], vertical: list[tuple]) -> None:
        self.horizontal, self.vertical = horizontal, vertical
        self.ys = [h[0] for h in horizontal]
        self.xs = [v[0] for v in vertical]
        self.last: tuple | None = None

    def __call__(self, x: float, y: float) -> tuple | None:
        last = self.last
        if last and last[0] < x < last[2] and last[1] < y < last[3]:
            return last
        if not self.horizontal or not self.vertical:
            return None
        vertical, horizontal = self.vertical, self.horizontal
        k = bisect.bisect_left(self.xs, x)
        left = next((vertical[i] for i in range(k - 1, -1, -1) if vertical[i][1] <= y <= vertical[i][2]), None)
        right = next((vertical[i] for i in range(k, len(vertical)) if vertical[i][1] <= y <= vertical[i][2]), None)
        k = bisect.bisect_left(self.ys, y)
        above = next((horizontal[i] for i in range(k - 1, -1, -1) if horizontal[i][1] <= x <= horizontal[i][2]), None)
        below = next((horizontal[i] for i in range(k, len(horizontal)) if horizontal[i][1] <= x <= horizontal[i][2]),
                     None)
        if None in (left, right, above, below):
            return None
        x0, x1, top, bottom = left[0], right[0], above[0], below[0]
        slack = BOX_SLACK_PT
        closed = (all(v[1] <= top + slack and v[2] >= bottom - slack for v in (left, right))
                  and all(h[1] <= x0 + slack and h[2] >= x1 - slack for h in (above, below)))
        if not closed:
            return None
        cell = (x0, top, x1, bottom)
        if self.empty(cell):
            self.last = cell
        return cell

    def empty(self, cell: tuple) -> bool:
        """Whether no ruling runs inside a cell, so that every point inside it lies in it."""
        x0, top, x1, bottom = cell
        slack = BOX_SLACK_PT
        inside_x = range(bisect.bisect_right(self.xs, x0 + slack), bisect.bisect_left(self.xs, x1 - slack))
        inside_y = range(bisect.bisect_right(self.ys, top + slack), bisect.bisect_left(self.ys, bottom - slack))
        return not (any(self.vertical[i][1] < bottom - slack and self.vertical[i][2] > top + slack for i in inside_x)
                    or any(self.horizontal[i][1] < x1 - slack and self.horizontal[i][2] > x0 + slack
                           for i in inside_y))


class PdfiumFallback:
    """pypdfium2's reading of a PDF, for pages whose fonts lack a Unicode map: opened on the first such page,
    once per file, and closed with it."""

    def __init__(self, pdf: Path | bytes) -> None:
        self.pdf = pdf
        self.doc = None

    def chars(self, page_index: int, page_height: float) -> list[dict]:
        """Characters of one page in our layout; none when pypdfium2 cannot read the page either."""
        import pypdfium2 as pdfium
        import pypdfium2.raw as pdfium_c

        try:
            self.doc = self.doc or pdfium.PdfDocument(self.pdf if isinstance(self.pdf, bytes) else str(self.pdf))
            page = self.doc[page_index]
            textpage = page.get_textpage()
        except pdfium.PdfiumError:
            return []
        try:
            chars = []
            for i in range(textpage.count_chars()):
                text = textpage.get_text_range(i, 1)
                if not text or text in "\r\n":
                    continue
                left, bottom, right, top = textpage.get_charbox(i)
                size = pdfium_c.FPDFText_GetFontSize(textpage.raw, i)
                chars.append({"text": text, "x0": left, "x1": right, "top": page_height - top,
                              "bottom": page_height - bottom, "size": size or (top - bottom), "fontname": "",
                              "matrix": (1, 0, 0, 1, left, bottom)})
            return chars
        finally:
            textpage.close()
            page.close()

    def close(self) -> None:
        if self.doc is not None:
            self.doc.close()


def walk_layout(container) -> Iterator:
    """Every leaf object of a pdfminer layout, inside figures (form XObjects) too."""
    for obj in container:
        if isinstance(obj, LTContainer):
            yield from walk_layout(obj)
        else:
            yield obj


def layout_objects(page) -> tuple[list[dict], list[dict], list[dict], list[Ruling]]:
    """Characters, image boxes, photo frames and rulings of a page, from the one pdfminer layout pdfplumber makes
    of it, with pdfplumber's coordinates (`Page.process_object`) but without its copy of ~20 attributes per
    character, which costs more than the rest of our reading of the page. Images inside form XObjects count too."""
    height = float(page.height)
    mb_x0, mb_top = (float(v) for v in page.mediabox[:2])
    norm = page.pdf.unicode_norm
    chars, images, shapes, rulings = [], [], [], []
    for obj in walk_layout(page.layout):
        if not isinstance(obj, (LTChar, LTImage, LTCurve)):
            continue
        box = {"x0": obj.x0 + mb_x0, "top": height - obj.y1 + mb_top,
               "x1": obj.x1 + mb_x0, "bottom": height - obj.y0 + mb_top}
        if isinstance(obj, LTImage):
            images.append(box)
            continue
        if isinstance(obj, LTCurve):
            rulings += path_rulings(obj, lambda x, y: (x + mb_x0, height - y + mb_top))
            if is_frame_shape(obj):
                shapes.append(box)
            continue
        text = obj.get_text()
        fontname = obj.fontname
        chars.append({
            "text": unicodedata.normalize(norm, text) if norm else text,
            "fontname": fix_fontname_bytes(fontname) if isinstance(fontname, bytes) else fontname,
            "size": obj.size, "upright": obj.upright, "matrix": obj.matrix, **box,
        })
    return chars, images, photo_frames(shapes, chars, images, float(page.width), height), rulings


def is_frame_shape(shape: LTCurve) -> bool:
    """Whether a drawn path can frame a photo: a closed outline (a rectangle, a rounded one) that shows, stroked
    or filled with anything but white (a white fill on white paper is a mask, not a frame)."""
    path = shape.original_path or []
    closed = (bool(path) and path[-1][0] == "h") or (len(shape.pts) > 2 and shape.pts[0] == shape.pts[-1])
    return closed and (shape.stroke or (shape.fill and not is_white(shape.non_stroking_color)))


def photo_frames(shapes: list[dict], chars: list[dict], images: list[dict], width: float, height: float) -> list[dict]:
    """The vector frames that stand for photos: of photo size and shape (`PHOTO_MIN_SIDE_SHARE`,
    `PHOTO_MAX_ASPECT`), with no character inside (a boxed plan, a table cell with text, a shaded heading are
    no photos) and no raster image on them (the border of a photo is that photo, already found). Of frames
    that overlap, the largest stands: a double border is one photo."""
    least = PHOTO_MIN_SIDE_SHARE * min(width, height)
    middles = [((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2) for c in chars if c["text"].strip()]
    found: list[dict] = []
    for box in sorted(shapes, key=lambda b: -(b["x1"] - b["x0"]) * (b["bottom"] - b["top"])):
        w, h = box["x1"] - box["x0"], box["bottom"] - box["top"]
        if min(w, h) < least or max(w, h) > PHOTO_MAX_ASPECT * min(w, h):
            continue
        if any(box["x0"] <= x <= box["x1"] and box["top"] <= y <= box["bottom"] for x, y in middles):
            continue
        if any(overlaps(box, other) for other in images + found):
            continue
        found.append(box)
    return found


def overlaps(a: dict, b: dict) -> bool:
    """Whether two boxes share more than a touching edge."""
    return (min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > BOX_SLACK_PT
            and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > BOX_SLACK_PT)


def path_rulings(path: LTCurve, to_page) -> list[Ruling]:
    """The horizontal and vertical straight pieces of a drawn path (cell borders, the sides of a box), in page
    coordinates (`to_page` maps a PDF point); none from a path that shows nothing (neither stroked nor filled
    with a colour other than white) or that bends (a letter or a logo drawn as a path)."""
    if not path.stroke and (not path.fill or is_white(path.non_stroking_color)):
        return []
    if any(segment[0] in "cvy" for segment in path.original_path or ()):
        return []
    points = [to_page(x, y) for x, y in path.pts]
    if isinstance(path, LTRect):
        points.append(points[0])
    out = []
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        if abs(ya - yb) <= BOX_SLACK_PT:
            y = (ya + yb) / 2
            out.append((min(xa, xb), y, max(xa, xb), y))
        elif abs(xa - xb) <= BOX_SLACK_PT:
            x = (xa + xb) / 2
            out.append((x, min(ya, yb), x, max(ya, yb)))
    return out


def is_white(colour) -> bool:
    """Whether a fill colour is white (gray 1, RGB 1 1 1, CMYK 0 0 0 0): a white shape on a white page shows no
    border."""
    if isinstance(colour, (int, float)):
        return colour >= 1
    if isinstance(colour, (tuple, list)) and colour and all(isinstance(v, (int, float)) for v in colour):
        return all(v == 0 for v in colour) if len(colour) == 4 else all(v >= 1 for v in colour)
    return False


def dedupe_chars(chars: list[dict], tolerance: float = DEDUPE_TOLERANCE_PT) -> list[dict]:
    """Drop fake-bold doubles: pdfplumber's `dedupe_chars` (same text, font and size, chained within
    `tolerance` vertically then horizontally, first by position survives, original order), without its
    final sort by `list.index`, quadratic in the characters of a page."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(chars):
        groups[(c["upright"], c["text"], c["fontname"], c["size"])].append(i)
    keep = []
    for members in groups.values():
        for row in chain_clusters(members, lambda i: chars[i]["top"], tolerance):
            for cluster in chain_clusters(row, lambda i: chars[i]["x0"], tolerance):
                keep.append(min(cluster, key=lambda i: (chars[i]["top"], chars[i]["x0"], i)))
    return [chars[i] for i in sorted(keep)]


def chain_clusters(items: list[int], value, tolerance: float) -> list[list[int]]:
    """Items sorted by `value`, cut wherever two neighbours are more than `tolerance` apart."""
    ordered = sorted(items, key=value)
    clusters = [ordered[:1]]
    for prev, item in zip(ordered, ordered[1:]):
        if value(item) - value(prev) <= tolerance:
            clusters[-1].append(item)
        else:
            clusters.append([item])
    return clusters


def read_page(page, fallback: PdfiumFallback) -> Page:
    """One page: lines, image boxes, photo frames, size and text-quality flags."""
    page_no = page.page_number
    chars, boxes, frames, rulings = layout_objects(page)
    chars = dedupe_chars(chars)
    unmapped = sum(1 for c in chars if is_unmapped(c["text"]))
    text_source = "pdfplumber"
    if unmapped:
        alt = fallback.chars(page_no - 1, float(page.height))
        if readable_share(alt) > max(readable_share(chars), MIN_READABLE_SHARE):
            chars, text_source = alt, "pypdfium2"
    vertical = is_vertical(chars)
    return Page(
        page=page_no,
        width=round(float(page.width), 2),
        height=round(float(page.height), 2),
        chars=len(chars),
        unmapped_chars=unmapped,
        readable_share=round(readable_share(chars), 3),
        text_source=text_source,
        is_vertical=vertical,
        images=[Box(**{k: round(v, 2) for k, v in box.items()}) for box in boxes],
        lines=build_lines(chars, page_no, vertical, rulings, boxes),
        frames=[Box(**{k: round(v, 2) for k, v in box.items()}) for box in frames],
    )


def extract_pdf(pdf: Path | bytes) -> list[Page]:
    """All pages of one PDF, given by its path or its bytes, closing each page once read (pdfplumber keeps
    them otherwise)."""
    pages = []
    fallback = PdfiumFallback(pdf)
    try:
        with pdfplumber.open(io.BytesIO(pdf) if isinstance(pdf, bytes) else pdf) as document:
            for page in document.pages:
                try:
                    pages.append(read_page(page, fallback))
                finally:
                    page.close()
    finally:
        fallback.close()
    return pages
