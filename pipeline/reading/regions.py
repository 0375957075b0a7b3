"""Picture regions without picture objects: on a scanned page (one image under the whole page, its text an
invisible layer an OCR tool laid over it), the photos are parts of that image, not objects of their own. They
are found in the page's pixels (picture_regions): the inked areas that no text line covers, of a photo's size and
shape, so that captions are found against them as against photo objects."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.layout import INK_LEVEL, PHOTO_MAX_ASPECT, PHOTO_MIN_SIDE_SHARE, REGION_RENDER_SCALE, TEXT_MASK_PT
from pipeline.core.records import Box, Page, is_scan_image
from pipeline.reading.pdfium import open_pdfium


def find_regions(pdf: Path | bytes, pages: list[Page]) -> None:
    """Set the picture regions (Page.regions) of every scanned page (records.is_scan_image), rendering it with
    pypdfium2."""
    scanned = [page for page in pages if any(is_scan_image(im, page) for im in page.images)]
    if not scanned:
        return
    document = open_pdfium(pdf)
    try:
        for page in scanned:
            rendered = document[page.page - 1]
            try:
                image = rendered.render(scale=REGION_RENDER_SCALE).to_pil()
            finally:
                rendered.close()
            text = [(line.x0, line.top, line.x1, line.bottom) for line in page.lines]
            page.regions = [Box(**box) for box in picture_regions(image, text, page.width, page.height)]
    finally:
        document.close()


def picture_regions(image, text: list[tuple[float, float, float, float]], width: float, height: float) -> list[dict]:
    """Boxes (in points) of the inked areas of a page image no text box covers, each of a photo's size and shape
    (PHOTO_MIN_SIDE_SHARE, PHOTO_MAX_ASPECT), top to bottom. `image` is the page rendered at `image.width / width`
    pixels a point; a pixel is ink where it is further than INK_LEVEL from white; text boxes are masked with a
    margin of TEXT_MASK_PT."""
    import numpy as np

    scale = image.width / width
    ink = (255 - np.asarray(image.convert("RGB"), dtype=np.int16)).max(axis=2) > INK_LEVEL
    margin = TEXT_MASK_PT * scale
    for x0, top, x1, bottom in text:
        rows = slice(max(int(top * scale - margin), 0), int(bottom * scale + margin) + 1)
        ink[rows, max(int(x0 * scale - margin), 0) : int(x1 * scale + margin) + 1] = False
    least = PHOTO_MIN_SIDE_SHARE * min(width, height)
    found = []
    for left, top, right, bottom in components(ink):
        w, h = (right - left) / scale, (bottom - top) / scale
        if min(w, h) >= least and max(w, h) <= PHOTO_MAX_ASPECT * min(w, h):
            found.append({"x0": left / scale, "top": top / scale, "x1": right / scale, "bottom": bottom / scale})
    return sorted(found, key=lambda box: (box["top"], box["x0"]))


def components(ink) -> list[tuple[int, int, int, int]]:
    """Bounding boxes (left, top, right, bottom, in pixels, right and bottom exclusive) of the 4-connected areas of
    a boolean image, from its runs of ink row by row: a run joins every run above it that it touches."""
    import numpy as np

    parent: list[int] = []
    boxes: list[list[int]] = []

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    above: list[tuple[int, int, int]] = []  # runs of the row above: start, end, label
    for y, row in enumerate(ink):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.view(np.int8), [0]))))
        here = []
        for start, end in zip(edges[::2], edges[1::2], strict=True):
            label = len(parent)
            parent.append(label)
            boxes.append([int(start), y, int(end), y + 1])
            for a_start, a_end, a_label in above:
                if a_start < end and start < a_end:
                    ra, rb = root(a_label), root(label)
                    if ra != rb:
                        parent[rb] = ra
            here.append((int(start), int(end), label))
        above = here
    merged: dict[int, list[int]] = {}
    for label, (x0, y0, x1, y1) in enumerate(boxes):
        box = merged.setdefault(root(label), [x0, y0, x1, y1])
        box[0], box[1], box[2], box[3] = min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)
    return [tuple(box) for box in merged.values()]
