"""What pdfminer's layout of a page gives: its characters, image boxes and rulings, and among its drawn shapes the
empty frames that stand for photos."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

from pdfminer.layout import LTChar, LTContainer, LTCurve, LTImage
from pdfplumber.page import fix_fontname_bytes

from pipeline.core.layout import BOX_SLACK_PT, PHOTO_MAX_ASPECT, PHOTO_MIN_SIDE_SHARE
from pipeline.reading.cells import Ruling, is_white, path_rulings


def walk_layout(container) -> Iterator:
    """Every leaf object of a pdfminer layout, inside figures (form XObjects) too."""
    for obj in container:
        if isinstance(obj, LTContainer):
            yield from walk_layout(obj)
        else:
            yield obj


def layout_objects(page) -> tuple[list[dict], list[dict], list[dict], list[Ruling]]:
    """Characters, image boxes, closed shapes (photo frames, frames of pages: extract.make_page) and rulings of a
    page, from the one pdfminer layout pdfplumber makes
    of it, with pdfplumber's coordinates (`Page.process_object`) but without its copy of ~20 attributes per
    character, which costs more than the rest of our reading of the page. Images inside form XObjects count too."""
    height = float(page.height)
    mb_x0, mb_top = (float(v) for v in page.mediabox[:2])
    norm = page.pdf.unicode_norm
    chars, images, shapes, rulings = [], [], [], []
    for obj in walk_layout(page.layout):
        if not isinstance(obj, (LTChar, LTImage, LTCurve)):
            continue
        box = {
            "x0": obj.x0 + mb_x0,
            "top": height - obj.y1 + mb_top,
            "x1": obj.x1 + mb_x0,
            "bottom": height - obj.y0 + mb_top,
        }
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
        chars.append(
            {
                "text": unicodedata.normalize(norm, text) if norm else text,
                "fontname": fix_fontname_bytes(fontname) if isinstance(fontname, bytes) else fontname,
                "size": obj.size,
                "upright": obj.upright,
                "matrix": obj.matrix,
                **box,
            }
        )
    return chars, images, shapes, rulings


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
    middles = None  # of the characters, found for the first shape of photo size and shape
    found: list[dict] = []
    for box in sorted(shapes, key=lambda b: -(b["x1"] - b["x0"]) * (b["bottom"] - b["top"])):
        w, h = box["x1"] - box["x0"], box["bottom"] - box["top"]
        if min(w, h) < least or max(w, h) > PHOTO_MAX_ASPECT * min(w, h):
            continue
        if middles is None:
            middles = [((c["x0"] + c["x1"]) / 2, (c["top"] + c["bottom"]) / 2) for c in chars if c["text"].strip()]
        if any(box["x0"] <= x <= box["x1"] and box["top"] <= y <= box["bottom"] for x, y in middles):
            continue
        if any(overlaps(box, other) for other in images + found):
            continue
        found.append(box)
    return found


def overlaps(a: dict, b: dict) -> bool:
    """Whether two boxes share more than a touching edge."""
    return (
        min(a["x1"], b["x1"]) - max(a["x0"], b["x0"]) > BOX_SLACK_PT
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > BOX_SLACK_PT
    )
