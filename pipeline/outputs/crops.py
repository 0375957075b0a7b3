"""OUT/crops: the part of the page each plan was read from, as PNG images the report shows beside the plan's fields,
so that a reviewer confirms or rejects a reading without opening the PDF.

A crop is named by what it shows (the source's sha256, the page, the box, the resolution): a run renders only the
crops it has not made before, and removes those no plan shows any more. Pages are rendered with pypdfium2, each page
once for all its crops. The worker that reads a file makes its plans' crops, in parallel with the others; the
report's own process (report.start_report) makes those still missing (a file read before, whose plans changed); the
run removes the rest once its outputs are in place (run.outdir.prune_crops). Like the report, this module needs neither
pandas nor pyarrow.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.failures import one_line
from pipeline.core.io import write_atomic

log = logging.getLogger("pipeline")

CROPS_DIR = "crops"
# Screen resolution (96 dpi, a CSS pixel per 0.75 point): a crop shows the page as the PDF viewer shows it at 100 %.
CROP_SCALE = 96 / 72
# Room left around a box, in points: a line's box ends at its glyphs, and a reviewer wants to see what stands next to
# it (a number glued to a project, a caption under a photo). About a line of body text.
CROP_MARGIN_PT = 12.0
# A crop is in grey, its PNG compressed fast (zlib level 1): a reviewer compares text, which grey keeps glyph for
# glyph. On the sample, colour took twice the bytes (123 KB a crop against 58 KB) and PNG's strongest compression
# fifteen times the time (80 ms a crop against 5 ms, beside 10 ms to render its page) for under 3 % fewer bytes.
CROP_GREY = True
CROP_PNG_LEVEL = 1


@dataclass(frozen=True)
class Crop:
    """One crop: the source file (in RAW) and its sha256, the page (1-based) and the box in points."""

    source: Path
    sha256: str
    page: int
    box: tuple[float, float, float, float]

    @property
    def name(self) -> str:
        """Its path under OUT, from what it shows: the same crop keeps its name from run to run."""
        key = f"{self.sha256}:{self.page}:{self.box}:{CROP_SCALE}:{CROP_MARGIN_PT}:{CROP_GREY}".encode()
        return f"{CROPS_DIR}/{self.sha256[:12]}-p{self.page}-{hashlib.sha256(key).hexdigest()[:12]}.png"


def parse_box(text: str) -> tuple[int, tuple[float, float, float, float]]:
    """A `boxes` item (page:x0,top,x1,bottom, as normalize.box_columns writes it) as its page and box."""
    page, _, box = text.partition(":")
    x0, top, x1, bottom = (float(v) for v in box.split(","))
    return int(page), (x0, top, x1, bottom)


def crops_of(source: Path, sha256: str, boxes: list[str]) -> list[Crop]:
    """The crops of a row: one per item of its `boxes` column (normalize.box_columns), in `source`."""
    return [Crop(source, sha256, *parse_box(box)) for box in boxes]


def make_crops(crops: list[Crop], out: Path) -> dict[str, str]:
    """Render every crop not yet under OUT/crops: in the worker that read its file (pipeline.run.workers), or in the
    report's process for those it did not make. Returns, per crop that could not be made, why (a source gone or
    unreadable costs its own crops only)."""
    (Path(out) / CROPS_DIR).mkdir(parents=True, exist_ok=True)
    todo: dict[Path, dict[int, list[Crop]]] = defaultdict(lambda: defaultdict(list))
    for crop in crops:
        if not (Path(out) / crop.name).exists():
            todo[crop.source][crop.page].append(crop)
    failed = {}
    for source, pages in todo.items():
        try:
            render_crops(source, pages, Path(out))
        except Exception as exc:  # noqa: BLE001 - a crop is a view: its failure costs only itself
            why = one_line(f"{source.name}: {type(exc).__name__}: {exc}")
            log.warning("crops not made: %s", why)
            failed.update({crop.name: why for crops_of_page in pages.values() for crop in crops_of_page})
    return failed


def render_crops(source: Path, pages: dict[int, list[Crop]], out: Path) -> None:
    """Render each page of `source` once and save each of its crops, its box widened by CROP_MARGIN_PT and kept
    within the page."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(source))
    try:
        for page_no, crops in sorted(pages.items()):
            page = document[page_no - 1]
            try:
                image = page.render(scale=CROP_SCALE, grayscale=CROP_GREY).to_pil()
            finally:
                page.close()
            for crop in crops:
                area = crop_area(crop.box, image.width, image.height)
                buffer = io.BytesIO()
                image.crop(area).save(buffer, format="PNG", compress_level=CROP_PNG_LEVEL)
                write_atomic(out / crop.name, buffer.getvalue())
    finally:
        document.close()


def crop_area(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """The pixels of a page rendered at CROP_SCALE (`width` × `height`) that show `box` widened by CROP_MARGIN_PT, kept
    within the page and at least a pixel wide and high (a box of text set off the page shows its nearest edge)."""
    x0, top, x1, bottom = (round(v * CROP_SCALE) for v in box)
    margin = round(CROP_MARGIN_PT * CROP_SCALE)
    left, upper = min(max(0, x0 - margin), width - 1), min(max(0, top - margin), height - 1)
    return left, upper, max(left + 1, min(width, x1 + margin)), max(upper + 1, min(height, bottom + margin))
