"""Extract stage: one pass over each page's characters, grouped into positioned text lines.

Structure is read later from geometry, so every line keeps its page, bounding box, font size and
font name, and every page keeps its photos (raster images, and empty vector frames) and flags on the quality of
its text.
Besides pdfplumber/pdfminer and pypdfium2, only the standard library and the pipeline's own light modules
(records, text, layout) are imported here: workers stay small, with no pandas or pyarrow.
"""

from __future__ import annotations

import io
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

from pdfminer.layout import LTChar, LTContainer, LTCurve, LTImage
import pdfplumber
from pdfplumber.page import fix_fontname_bytes

from pipeline.layout import (BOX_SLACK_PT, COLUMN_GAP_EM, DEDUPE_TOLERANCE_PT, HORIZONTAL_STEP_RIGHT_EM,
                             MIN_READABLE_SHARE, MIN_VERTICAL_STEPS, PHOTO_MAX_ASPECT, PHOTO_MIN_SIDE_SHARE,
                             ROW_LOOKBACK, VERTICAL_STEP_ACROSS_EM, VERTICAL_STEP_DOWN_EM, WORD_GAP_EM)
from pipeline.records import Box, Line, Page
from pipeline.text import is_cjk, is_unmapped


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


def build_lines(chars: list[dict], page_no: int, vertical: bool) -> list[Line]:
    """Positioned text lines of one page, in reading order (rows top to bottom, fragments left to right)."""
    if vertical:
        return vertical_lines(chars, page_no)
    lines = []
    for row in group_rows(chars):
        for frag in split_row(row):
            line = make_line(frag, page_no)
            if line.text:
                lines.append(line)
    return lines


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


def layout_objects(page) -> tuple[list[dict], list[dict], list[dict]]:
    """Characters, image boxes and photo frames of a page, from the one pdfminer layout pdfplumber makes of it,
    with pdfplumber's coordinates (`Page.process_object`) but without its copy of ~20 attributes per character,
    which costs more than the rest of our reading of the page. Images inside form XObjects count too."""
    height = float(page.height)
    mb_x0, mb_top = (float(v) for v in page.mediabox[:2])
    norm = page.pdf.unicode_norm
    chars, images, shapes = [], [], []
    for obj in walk_layout(page.layout):
        if not isinstance(obj, (LTChar, LTImage, LTCurve)):
            continue
        box = {"x0": obj.x0 + mb_x0, "top": height - obj.y1 + mb_top,
               "x1": obj.x1 + mb_x0, "bottom": height - obj.y0 + mb_top}
        if isinstance(obj, LTImage):
            images.append(box)
            continue
        if isinstance(obj, LTCurve):
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
    return chars, images, photo_frames(shapes, chars, images, float(page.width), height)


def is_frame_shape(shape: LTCurve) -> bool:
    """Whether a drawn path can frame a photo: a closed outline (a rectangle, a rounded one) that shows, stroked
    or filled with anything but white (a white fill on white paper is a mask, not a frame)."""
    path = shape.original_path or []
    closed = (bool(path) and path[-1][0] == "h") or (len(shape.pts) > 2 and shape.pts[0] == shape.pts[-1])
    return closed and (shape.stroke or (shape.fill and not is_white(shape.non_stroking_color)))


def is_white(color) -> bool:
    """Whether a fill colour is white: gray 1, RGB (1, 1, 1) or CMYK (0, 0, 0, 0); a pattern is not."""
    values = color if isinstance(color, (tuple, list)) else (color,)
    if not values or not all(isinstance(v, (int, float)) for v in values):
        return False
    return all(v == 0 for v in values) if len(values) == 4 else all(v == 1 for v in values)


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
    chars, boxes, frames = layout_objects(page)
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
        lines=build_lines(chars, page_no, vertical),
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
