"""What in a plan's reading calls for a person's check, as the page shows it (Plan.doubts): lines kept only by
default, a photo of its area left without a caption, body text set smaller than the document's body, text that is a
scan's OCR layer. Each doubt is a Notice whose code is one of pipeline/data/review_reasons.csv; what the rows alone
tell (a project name ending in a number, a pillar numbering gap) is found in pipeline.review.
"""

from __future__ import annotations

from pipeline.core.layout import SAME_SIZE_PT
from pipeline.core.records import OCR_SOURCE, Box, Line, Notice, Page, is_scan_image
from pipeline.structure.plans import Draft


def find_doubts(
    draft: Draft,
    read: dict[int, tuple[str, bool]],
    uncaptioned: list[tuple[int, Box]],
    body_size: float,
    scans: dict[int, float | None],
) -> list[Notice]:
    """The doubts of one plan being read: `read` gives each line's role and whether it was kept by default,
    `uncaptioned` the photos of its area no caption was read for (page, box: photos_within), `body_size` the
    document's body text size and `scans` the pages that are scans, with the OCR confidence of those read by OCR
    (scanned_pages)."""
    doubts = []
    by_default = [line for line in draft.lines if read.get(id(line), ("", False))[1]]
    if by_default:
        doubts.append(
            Notice(
                "lines_by_default",
                f"{len(by_default)} line(s) kept by default, the first: {by_default[0].norm[:30]}",
                by_default[0].page,
            )
        )
    for page, photo in uncaptioned:
        doubts.append(
            Notice("photo_without_caption", f"a photo at ({photo.x0:.0f}, {photo.top:.0f}) has no caption", page)
        )
    # Smaller by more than two sizes differ by in one run of text (SAME_SIZE_PT): a size the word processor set.
    # Not a line read by OCR (its font name OCR_SOURCE): its size is estimated from its characters' height, which
    # varies by more than that from line to line; no word processor set it.
    small = [line for line in draft.lines if line.size < body_size - SAME_SIZE_PT and line.fontname != OCR_SOURCE]
    if small:
        doubts.append(
            Notice(
                "small_text_in_body",
                f"{len(small)} line(s) smaller than the body ({small[0].size:g} pt < {body_size:g} pt), the first: "
                f"{small[0].norm[:30]}",
                small[0].page,
            )
        )
    scanned = sorted(scans.keys() & draft.pages())
    if scanned:
        read = [scans[page] for page in scanned if scans[page] is not None]
        # The plan's OCR confidence: the mean of its pages' (each page's weighted by its characters).
        how = f", read by OCR at a mean confidence of {sum(read) / len(read):.1f} (0-100)" if read else ""
        doubts.append(Notice("ocr_text", f"page(s) {', '.join(map(str, scanned))} are scans{how}", scanned[0]))
    return doubts


def photos_within(draft: Draft, photos: list[tuple[int, Box]]) -> list[tuple[int, Box]]:
    """The photos (page, box) that stand in a plan's area: a photo's middle lies between the top and the bottom of
    the plan's lines on its page (beside them, or among them)."""
    inside = []
    for page, photo in photos:
        lines: list[Line] = [line for line in draft.header_lines + draft.lines if line.page == page]
        middle = (photo.top + photo.bottom) / 2
        if lines and min(line.top for line in lines) <= middle <= max(line.bottom for line in lines):
            inside.append((page, photo))
    return inside


def scanned_pages(pages: list[Page]) -> dict[int, float | None]:
    """Pages that are scans, with the OCR confidence of those the pipeline read by OCR (reading.ocr): an image lies
    under the whole page (records.is_scan_image), its text an OCR layer, or the page was read by OCR."""
    return {
        page.page: page.ocr_confidence
        for page in pages
        if page.lines and (page.text_source == OCR_SOURCE or any(is_scan_image(box, page) for box in page.images))
    }
