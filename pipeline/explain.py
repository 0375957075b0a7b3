"""`python -m pipeline explain FILE [--out DIR]` (make explain FILE=…): see how each page of one PDF was read.

The file is read and segmented afresh, in this process, by the code as it stands (never from OUT/interim, whose
records may come from other code, and which keep plans, not lines): for a maintainer's one file, a second of
reading buys an answer that is always current, and the segment record stays the size of what the tables need.
Unlike a run, the reading is not capped in time or memory.

It writes into DIR, for a file `NAME.pdf`:
- `NAME-pNN.png`, one per page: the page with every text line boxed in the colour of the role segment gave it
  (structure.roles.ROLES), a thick box for a line kept by default, the photos outlined, and under the page a legend that
  names each colour with its count on the page;
- `NAME-lines.tsv`: every line with its page, index, role, whether it was kept by default, box and text.
It prints one line per page (role counts) and every line kept by default.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from pipeline.core.records import Page, Segmentation

# Dots per inch of the page images: an A4 page comes out 827 × 1170 pixels, its 10-point text 14 pixels high,
# readable on a screen without the files growing large.
RESOLUTION = 100
# One colour per role, told apart at a glance (and by most colour-blind readers: no red next to green alone).
COLOURS = {
    "header": (214, 39, 40),
    "summary": (31, 119, 180),
    "caption": (255, 127, 14),
    "pillar": (148, 103, 189),
    "project": (44, 160, 44),
    "furniture": (127, 127, 127),
    "footnote": (140, 86, 75),
    "unassigned": (227, 30, 200),
}
PHOTO_COLOUR = (23, 190, 207)
SUBPAGE_COLOUR = (188, 189, 34)  # the frame of a page a sheet holds (Page.subpages)
LINE_STROKE, DEFAULT_STROKE, PHOTO_STROKE = 2, 5, 3  # pixels: a line, a line kept by default, a photo
DASH_PT = 6.0  # the dashes of a picture region's outline, and the gaps between them
LEGEND_FONT_PX, LEGEND_PAD_PX = 14, 8


@dataclass
class PageSummary:
    page: int
    lines: int
    roles: Counter
    photos: int
    by_default: int
    subpages: int = 0  # frames of the pages a sheet holds
    regions: int = 0  # picture regions found in a scanned page's pixels

    def text(self) -> str:
        counts = ", ".join(f"{role} {self.roles[role]}" for role in COLOURS if self.roles[role])
        frames = f"; {self.subpages} page frame(s), each read as a page" if self.subpages else ""
        regions = f"; {self.regions} picture region(s) found in the page image" if self.regions else ""
        return (
            f"page {self.page}: {self.lines} lines: {counts or 'none'}; {self.photos} photo(s); "
            f"{self.by_default} kept by default{frames}{regions}"
        )


def summarize(pages: list[Page], found: Segmentation) -> list[PageSummary]:
    """Role counts of each page."""
    default = Counter(page for page, _ in found.by_default)
    return [
        PageSummary(
            page.page,
            len(page.lines),
            Counter(found.roles[page.page, i] for i in range(len(page.lines))),
            len(page.images),
            default[page.page],
            len(page.subpages),
            len(page.regions),
        )
        for page in pages
    ]


def font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1: its one bitmap size
        return ImageFont.load_default()


def legend(width: int, summary: PageSummary) -> Image.Image:
    """A strip naming each colour with its count on the page: the roles, the photos and the thick box."""
    face = font(LEGEND_FONT_PX)
    items = [(COLOURS[role], LINE_STROKE, f"{role} {summary.roles[role]}") for role in COLOURS]
    items += [
        (PHOTO_COLOUR, PHOTO_STROKE, f"photo {summary.photos}"),
        (SUBPAGE_COLOUR, PHOTO_STROKE, f"page frame {summary.subpages}"),
        (PHOTO_COLOUR, LINE_STROKE, f"dashed: picture region {summary.regions}"),
        ((0, 0, 0), DEFAULT_STROKE, f"thick box: kept by default {summary.by_default}"),
    ]
    title = f"page {summary.page}: {summary.lines} lines, boxed by the role segment gave them"
    swatch, row = LEGEND_FONT_PX + 4, LEGEND_FONT_PX + 10
    placed, x, y = [], LEGEND_PAD_PX, LEGEND_PAD_PX + row
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    for colour, stroke, label in items:
        step = swatch + 6 + int(draw.textlength(label, font=face)) + 18
        if x + step > width - LEGEND_PAD_PX and x > LEGEND_PAD_PX:
            x, y = LEGEND_PAD_PX, y + row
        placed.append((x, y, colour, stroke, label))
        x += step
    strip = Image.new("RGB", (width, y + row + LEGEND_PAD_PX), "white")
    draw = ImageDraw.Draw(strip)
    draw.line([(0, 0), (width, 0)], fill=(0, 0, 0), width=2)
    draw.text((LEGEND_PAD_PX, LEGEND_PAD_PX), title, fill=(0, 0, 0), font=face)
    for x, y, colour, stroke, label in placed:
        draw.rectangle(
            [x, y, x + swatch, y + swatch - 4], fill=tuple(c // 4 + 191 for c in colour), outline=colour, width=stroke
        )
        draw.text((x + swatch + 6, y), label, fill=(0, 0, 0), font=face)
    return strip


def draw_page(pdf_page, page: Page, found: Segmentation, summary: PageSummary, path: Path) -> None:
    """The page image with its lines boxed by role, its photos and the frames of the pages it holds outlined, the
    legend under it."""
    image = pdf_page.to_image(resolution=RESOLUTION)
    default = set(found.by_default)
    for boxes, colour in ((page.images, PHOTO_COLOUR), (page.subpages, SUBPAGE_COLOUR)):
        for box in boxes:
            image.draw_rect(
                (box.x0, box.top, box.x1, box.bottom), fill=(0, 0, 0, 0), stroke=colour, stroke_width=PHOTO_STROKE
            )
    for box in page.regions:  # inferred from pixels: dashed
        corners = [(box.x0, box.top), (box.x1, box.top), (box.x1, box.bottom), (box.x0, box.bottom)]
        for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
            for dash in dashes(a, b):
                image.draw_line(dash, stroke=PHOTO_COLOUR, stroke_width=PHOTO_STROKE)
    for i, line in enumerate(page.lines):
        colour = COLOURS[found.roles[page.page, i]]
        image.draw_rect(
            (line.x0, line.top, line.x1, line.bottom),
            fill=(*colour, 40),
            stroke=colour,
            stroke_width=DEFAULT_STROKE if (page.page, i) in default else LINE_STROKE,
        )
    drawn = image.annotated.convert("RGB")
    strip = legend(drawn.width, summary)
    whole = Image.new("RGB", (drawn.width, drawn.height + strip.height), "white")
    whole.paste(drawn, (0, 0))
    whole.paste(strip, (0, drawn.height))
    whole.save(path)


def dashes(a: tuple[float, float], b: tuple[float, float]) -> list[list[tuple[float, float]]]:
    """A straight side from a to b as dashes of DASH_PT, as many gaps between them."""
    length = max(abs(b[0] - a[0]), abs(b[1] - a[1]))
    steps = max(int(length // DASH_PT), 1)
    point = [(a[0] + (b[0] - a[0]) * k / steps, a[1] + (b[1] - a[1]) * k / steps) for k in range(steps + 1)]
    return [[point[k], point[k + 1]] for k in range(0, steps, 2)]


def lines_table(pages: list[Page], found: Segmentation) -> str:
    """Every line: page, index, role, kept by default (yes or empty), box, text; tab-separated."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(["page", "line", "role", "by_default", "x0", "top", "x1", "bottom", "text"])
    default = set(found.by_default)
    for page in pages:
        for i, line in enumerate(page.lines):
            writer.writerow(
                [
                    page.page,
                    i,
                    found.roles[page.page, i],
                    "yes" if (page.page, i) in default else "",
                    *(f"{v:.1f}" for v in (line.x0, line.top, line.x1, line.bottom)),
                    line.text,
                ]
            )
    return out.getvalue()


def explain(pdf: Path, out: Path) -> list[str]:
    """Read and segment one PDF, write its page images and its lines table into `out`, and return what to print:
    a line on the file, one per page, and one per line kept by default."""
    import pdfplumber

    from pipeline.extract import extract_pdf
    from pipeline.segment import segment_document

    pages = extract_pdf(pdf)
    found = segment_document(pages)
    summaries = summarize(pages, found)
    out.mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(len(pages))))
    images = []
    with pdfplumber.open(pdf) as document:
        for pdf_page, page, summary in zip(document.pages, pages, summaries, strict=True):
            path = out / f"{pdf.stem}-p{page.page:0{width}d}.png"
            try:
                draw_page(pdf_page, page, found, summary, path)
            finally:
                pdf_page.close()
            images.append(path)
    table = out / f"{pdf.stem}-lines.tsv"
    table.write_text(lines_table(pages, found), encoding="utf-8")
    report = [
        f"{pdf.name}: {len(pages)} page(s), {sum(s.lines for s in summaries)} lines, {len(found.plans)} plan(s) "
        f"kept, {len(found.rejected)} rejected, {len(found.by_default)} line(s) kept by default"
    ]
    report += [s.text() for s in summaries]
    by_page = {page.page: page for page in pages}
    report += [
        f"kept by default: page {p} line {i} ({found.roles[p, i]}): {by_page[p].lines[i].text}"
        for p, i in found.by_default
    ]
    shown = f"{images[0]} … {images[-1].name}" if len(images) > 1 else "".join(map(str, images)) or "no page image"
    report.append(f"wrote {shown} and {table}")
    return report
